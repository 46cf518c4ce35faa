#!/bin/bash
# The containers collector on a real cgroupfs (cgroup v1 here: see mktree.py): builds a
# kubelet-shaped tree of 110 pods x (sandbox + 3 containers) with a process in each
# container, starts the release agent in its own memory cgroup, scrapes
# /metrics/cadvisor N times and prints CPU per scrape, descriptors, RSS and the memory
# cgroup's usage and kernel memory (held cgroupfs files keep a seq_file buffer each),
# for the default held-file bound and for none held; then the kernel's floor for the
# same files (examples/cgroup_read_floor.rs). Removes the tree at the end.
# Run as root from the repository: benches/real_cgroups/run.sh [SCRAPES]
set -euo pipefail
N=${1:-100}; PODS=110; CONTAINERS=3; DIR=$(mktemp -d /tmp/nodepulse-real-cgroups.XXXXXX)
HERE=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/cpuacct ] || {
    echo "needs root and cgroup v1 controllers under /sys/fs/cgroup" >&2; exit 2; }
[ ! -e /sys/fs/cgroup/memory/kubepods.slice ] || { echo "a kubepods.slice exists: not on a real node" >&2; exit 2; }
T=${CARGO_TARGET_DIR:-target}
cargo build --release --bin nodepulse-agent --example cgroup_read_floor
AGENT=${NODEPULSE_BENCH_AGENT:-$T/release/nodepulse-agent}
trap 'python3 "$HERE/mktree.py" down $PODS $CONTAINERS "$DIR" >/dev/null; rm -rf "$DIR"' EXIT
python3 "$HERE/mktree.py" up $PODS $CONTAINERS "$DIR"
M=/sys/fs/cgroup/memory/nodepulse-bench-agent
scrapes() {  # scrapes FLAGS...: one agent, N scrapes, one line of figures
    mkdir -p $M
    (echo $BASHPID > $M/cgroup.procs; exec "$AGENT" --web.listen-address=127.0.0.1:9109 --kube.api=off \
        --logs.pods-dir="$DIR/log/pods" --logs.containers-dir="$DIR/log/containers" "$@" >"$DIR/agent.log" 2>&1) &
    local pid=$!
    for _ in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:9109/healthz 2>/dev/null && break; sleep 0.1; done
    for _ in 1 2 3; do curl -s -o "$DIR/body" http://127.0.0.1:9109/metrics/cadvisor; done
    local t0 u0 t1 u1; read -r u0 t0 < <(awk '{print $14, $14+$15}' /proc/$pid/stat)
    for _ in $(seq "$N"); do curl -s -o /dev/null http://127.0.0.1:9109/metrics/cadvisor; done
    read -r u1 t1 < <(awk '{print $14, $14+$15}' /proc/$pid/stat)
    printf '%-45s CPU %6.1f ms/scrape (user %5.1f), %5d fds, RSS %5.1f MiB, cgroup %5.1f MiB of which kernel %5.1f MiB; %d samples, %d bytes\n' \
        "${*:-defaults}" "$(echo "($t1-$t0)*10/$N" | bc -l)" "$(echo "($u1-$u0)*10/$N" | bc -l)" "$(ls /proc/$pid/fd | wc -l)" \
        "$(echo "$(awk '/VmRSS/{print $2}' /proc/$pid/status)/1024" | bc -l)" \
        "$(echo "$(cat $M/memory.usage_in_bytes)/1048576" | bc -l)" "$(echo "$(cat $M/memory.kmem.usage_in_bytes)/1048576" | bc -l)" \
        "$(grep -vc '^#' "$DIR/body")" "$(wc -c < "$DIR/body")"
    kill $pid; wait $pid 2>/dev/null || true; rmdir $M
}
echo "agent: $AGENT; $PODS pods x ($CONTAINERS containers + sandbox); $N scrapes of /metrics/cadvisor each; $(nproc) CPUs, $(uname -r)"
scrapes
scrapes --collector.containers.max-open-files=16384
scrapes --collector.containers.max-open-files=0
"$T/release/examples/cgroup_read_floor" "$DIR/files" 50 | tail -1
