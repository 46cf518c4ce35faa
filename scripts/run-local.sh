#!/bin/sh
# Runs the whole system on this machine with no Kubernetes: a few fake pods writing
# container logs into ./data/pods (scripts/demo-pods.sh), the agent on :9101 reading
# this machine's /proc and /sys and tailing those logs, shipping them to the
# aggregator's Loki push API, and the aggregator on :9201 scraping the agent and itself
# and loading the default rules (examples/aggregator-local.yml). Data in ./data.
# Ctrl-C stops everything. NODEPULSE_BUILD=debug uses a debug build (quicker to build).
set -eu
cd "$(dirname "$0")/.."

profile=release
[ "${NODEPULSE_BUILD:-release}" = debug ] && profile=debug
if [ "$profile" = release ]; then
    cargo build --release --bin nodepulse-agent --bin nodepulse-aggregator
else
    cargo build --bin nodepulse-agent --bin nodepulse-aggregator
fi
bin=${CARGO_TARGET_DIR:-target}/$profile
mkdir -p data/pods data/containers data/agent data/aggregator

pids=
stop() {
    trap - EXIT INT TERM
    kill $pids 2>/dev/null || true
    wait
}
alive() {
    for p in $pids; do kill -0 "$p" 2>/dev/null || return 1; done
}
trap stop EXIT
trap 'exit 130' INT TERM

scripts/demo-pods.sh data/pods &
pids="$pids $!"
"$bin/nodepulse-aggregator" --web.listen-address=127.0.0.1:9201 \
    --storage.path=data/aggregator --config.file=examples/aggregator-local.yml &
pids="$pids $!"
"$bin/nodepulse-agent" --web.listen-address=127.0.0.1:9101 --kube.api=off \
    --logs.pods-dir=data/pods --logs.containers-dir=data/containers --data-dir=data/agent \
    --sink.loki.url=http://127.0.0.1:9201/loki/api/v1/push &
pids="$pids $!"

# Wait (up to a minute) until both answer, then say where to look.
if command -v curl >/dev/null; then
    tries=0
    until curl -sf -o /dev/null http://127.0.0.1:9201/-/ready &&
        curl -sf -o /dev/null http://127.0.0.1:9101/readyz; do
        alive || { echo "a process exited; see its messages above" >&2; exit 1; }
        tries=$((tries + 1))
        [ "$tries" -ge 120 ] && { echo "nodepulse did not start within a minute" >&2; exit 1; }
        sleep 0.5
    done
fi
a=http://127.0.0.1:9201
cat <<MSG

nodepulse is running; Ctrl-C stops it. Data in ./data, fake pods' logs in ./data/pods.
  Agent metrics    curl -s http://127.0.0.1:9101/metrics
  Targets          curl -s $a/api/v1/targets
  PromQL           curl -s '$a/api/v1/query?query=rate(node_cpu_seconds_total[1m])'
  Logs (LogQL)     curl -sG $a/loki/api/v1/query_range --data-urlencode 'query={namespace="demo"} |= "error"'
  Log labels       curl -s $a/loki/api/v1/labels
  Rules, alerts    curl -s $a/api/v1/rules ; curl -s $a/api/v1/alerts
  Grafana          a Prometheus data source and a Loki data source, both at $a

MSG
# Until Ctrl-C, or until one of them stops: then the others are stopped too.
while alive; do sleep 1; done
echo "a process exited; stopping the others" >&2
exit 1
