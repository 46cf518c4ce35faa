#!/usr/bin/env python3
"""Builds (or removes) a kubelet-shaped cgroup v1 tree in the real cgroupfs: N pods x
(sandbox + M containers), systemd driver, containerd naming, one sleeping process per
container cgroup, and the kubelet's log dirs naming them under DIR; writes DIR/files,
the counter files the agent reads, one per line. Needs root and cgroup v1 controllers
mounted under /sys/fs/cgroup. Usage: mktree.py up|down N M DIR"""
import os, subprocess, sys, hashlib, signal
CTRLS = ["cpu", "cpuacct", "memory", "blkio", "pids"]
ROOT = "/sys/fs/cgroup"
# The files the agent reads per cgroup and scrape (v1.rs read_stats; blkio's CFQ files
# are absent on kernels without CFQ/BFQ, the throttle ones are read then).
FILES = {
    "cpuacct": ["cpuacct.usage", "cpuacct.stat"],
    "cpu": ["cpu.stat"],
    "memory": ["memory.usage_in_bytes", "memory.stat", "memory.failcnt",
               "memory.max_usage_in_bytes", "memory.oom_control"],
    "blkio": ["blkio.throttle.io_service_bytes_recursive",
              "blkio.throttle.io_serviced_recursive"],
    "pids": ["pids.current", "cgroup.procs"],
}
mode, n, m, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def uid(i): return f"{i:08x}-1111-4222-8333-{i:012x}"
def cid(i, j): return hashlib.sha256(f"{i}/{j}".encode()).hexdigest()
qos = "kubepods-burstable.slice"
def pod_rel(i): return f"kubepods.slice/{qos}/kubepods-burstable-pod{uid(i).replace('-', '_')}.slice"
rels = []
for i in range(n):
    p = pod_rel(i)
    rels.append((p, None))
    for j in range(m + 1):
        rels.append((f"{p}/cri-containerd-{cid(i, j)}.scope", (i, j)))
if mode == "up":
    for c in CTRLS:
        for d in ["kubepods.slice", f"kubepods.slice/{qos}"]:
            os.makedirs(f"{ROOT}/{c}/{d}", exist_ok=True)
    pids = []
    for rel, who in rels:
        for c in CTRLS:
            os.makedirs(f"{ROOT}/{c}/{rel}", exist_ok=True)
        if who is None:
            continue
        proc = subprocess.Popen(["sleep", "100000"], start_new_session=True)
        pids.append(proc.pid)
        for c in CTRLS:
            with open(f"{ROOT}/{c}/{rel}/cgroup.procs", "w") as f:
                f.write(str(proc.pid))
        i, j = who
        ns, pod = "bench", f"web-{i}"
        name = "POD" if j == 0 else f"c{j}"
        if j > 0:
            d = f"{base}/log/pods/{ns}_{pod}_{uid(i)}/{name}"
            os.makedirs(d, exist_ok=True)
            open(f"{d}/0.log", "a").close()
            os.makedirs(f"{base}/log/containers", exist_ok=True)
            link = f"{base}/log/containers/{pod}_{ns}_{name}-{cid(i, j)}.log"
            if not os.path.islink(link):
                os.symlink(f"{d}/0.log", link)
    with open(f"{base}/pids", "w") as f:
        f.write("\n".join(map(str, pids)))
    with open(f"{base}/files", "w") as f:
        for rel, _ in rels:
            for c, names in FILES.items():
                f.writelines(f"{ROOT}/{c}/{rel}/{n}\n" for n in names)
    print(f"{len(rels)} cgroups, {len(pids)} processes")
else:
    try:
        for pid in open(f"{base}/pids").read().split():
            os.kill(int(pid), signal.SIGKILL)
    except FileNotFoundError:
        pass
    import time; time.sleep(1)
    for rel, _ in reversed(rels):
        for c in CTRLS:
            try: os.rmdir(f"{ROOT}/{c}/{rel}")
            except FileNotFoundError: pass
    for c in CTRLS:
        for d in [f"kubepods.slice/{qos}", "kubepods.slice"]:
            try: os.rmdir(f"{ROOT}/{c}/{d}")
            except FileNotFoundError: pass
    print("removed")
