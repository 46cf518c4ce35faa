//! The cgroup files themselves, from one set of values ([`Vals`], in cgroup v2 units)
//! written in each version's real format. Templates are real files: memory.stat of a
//! kernel 6.x cgroup v2 container, and the v1 memory.stat of this repository's build
//! host (kernel 6.18), with the values the collector reads substituted.

use super::write;
use std::path::Path;

pub const V1_CONTROLLERS: [&str; 5] = ["cpu,cpuacct", "memory", "blkio", "pids", "cpuset"];

/// One cgroup's numbers, in cgroup v2 units (µs for CPU).
#[derive(Debug, Clone)]
pub struct Vals {
    pub usage_usec: u64,
    /// Multiples of 10,000 µs, so that cgroup v1's tick counts hold them exactly.
    pub user_usec: u64,
    pub system_usec: u64,
    pub nr_periods: u64,
    pub nr_throttled: u64,
    pub throttled_usec: u64,
    pub memory_current: u64,
    pub memory_peak: u64,
    pub anon: u64,
    pub file: u64,
    pub file_mapped: u64,
    pub inactive_file: u64,
    pub swap: u64,
    pub events_max: u64,
    pub oom_kill: u64,
    /// (rbytes, wbytes, rios, wios) on device 253:0, if any I/O.
    pub io: Option<(u64, u64, u64, u64)>,
    pub pids_current: u64,
    pub procs: Vec<u32>,
    /// `cpu.max` quota (None: "max"); the period is always 100000.
    pub quota_usec: Option<u64>,
    pub weight: u64,
    /// cgroup v1 `cpu.shares` (what the kubelet wrote; v2 has `weight` instead).
    pub shares: u64,
    /// `memory.max` (None: "max").
    pub memory_max: Option<u64>,
}

pub fn write_v2(dir: &Path, v: &Vals) {
    let cpu_stat = format!(
        "usage_usec {}\nuser_usec {}\nsystem_usec {}\ncore_sched.force_idle_usec 0\nnr_periods {}\n\
nr_throttled {}\nthrottled_usec {}\nnr_bursts 0\nburst_usec 0\n",
        v.usage_usec, v.user_usec, v.system_usec, v.nr_periods, v.nr_throttled, v.throttled_usec
    );
    let max = |m: Option<u64>| m.map_or("max".to_owned(), |m| m.to_string());
    let files: [(&str, String); 17] = [
        ("cgroup.controllers", "cpu io memory pids\n".into()),
        ("cgroup.events", "populated 1\nfrozen 0\n".into()),
        ("cgroup.procs", procs(&v.procs)),
        ("cpu.stat", cpu_stat),
        ("cpu.max", format!("{} 100000\n", max(v.quota_usec))),
        ("cpu.weight", format!("{}\n", v.weight)),
        ("cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=567\n".into()),
        ("memory.current", format!("{}\n", v.memory_current)),
        ("memory.peak", format!("{}\n", v.memory_peak)),
        ("memory.swap.current", format!("{}\n", v.swap)),
        ("memory.max", format!("{}\n", max(v.memory_max))),
        ("memory.swap.max", "max\n".into()),
        ("memory.min", "0\n".into()),
        ("memory.stat", memory_stat_v2(v)),
        ("memory.events", format!("low 0\nhigh 0\nmax {}\noom {}\noom_kill {}\noom_group_kill 0\n", v.events_max, v.oom_kill, v.oom_kill)),
        ("io.stat", v.io.map_or(String::new(), |(r, w, ri, wi)| format!("253:0 rbytes={r} wbytes={w} rios={ri} wios={wi} dbytes=0 dios=0\n"))),
        ("pids.current", format!("{}\n", v.pids_current)),
    ];
    for (name, text) in files {
        write(dir, name, &text);
    }
}

fn procs(pids: &[u32]) -> String {
    pids.iter().map(|p| format!("{p}\n")).collect()
}

fn memory_stat_v2(v: &Vals) -> String {
    format!(
        "anon {}\nfile {}\nkernel 1253376\nkernel_stack 131072\npagetables 200704\nsec_pagetables 0\n\
percpu 4480\nsock 0\nvmalloc 0\nshmem 0\nzswap 0\nzswapped 0\nfile_mapped {}\nfile_dirty 0\n\
file_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\nshmem_thp 0\ninactive_anon {}\n\
active_anon 16384\ninactive_file {}\nactive_file {}\nunevictable 0\nslab_reclaimable 557272\n\
slab_unreclaimable 342616\nslab 899888\nworkingset_refault_anon 0\nworkingset_refault_file 0\n\
workingset_activate_anon 0\nworkingset_activate_file 0\nworkingset_restore_anon 0\n\
workingset_restore_file 0\nworkingset_nodereclaim 0\npgscan 0\npgsteal 0\npgscan_kswapd 0\n\
pgscan_direct 0\npgsteal_kswapd 0\npgsteal_direct 0\npgfault 11520\npgmajfault 33\npgrefill 0\n\
pgactivate 2059\npgdeactivate 0\npglazyfree 0\npglazyfreed 0\nthp_fault_alloc 0\nthp_collapse_alloc 0\n",
        v.anon, v.file, v.file_mapped, v.anon, v.inactive_file, v.file - v.inactive_file.min(v.file)
    )
}

/// The same values in cgroup v1's files, spread over the controller hierarchies.
pub fn write_v1(root: &Path, rel: &str, v: &Vals) {
    let at = |c: &str| root.join(c).join(rel);
    let cpu = at("cpu,cpuacct");
    write(&cpu, "cgroup.clone_children", "0\n");
    write(&cpu, "cgroup.procs", &procs(&v.procs));
    write(&cpu, "cpuacct.usage", &format!("{}\n", v.usage_usec * 1000));
    write(
        &cpu,
        "cpuacct.stat",
        &format!(
            "user {}\nsystem {}\n",
            v.user_usec / 10_000,
            v.system_usec / 10_000
        ),
    );
    write(
        &cpu,
        "cpu.stat",
        &format!(
            "nr_periods {}\nnr_throttled {}\nthrottled_time {}\nnr_bursts 0\nburst_time 0\n",
            v.nr_periods,
            v.nr_throttled,
            v.throttled_usec * 1000
        ),
    );
    write(&cpu, "cpu.shares", &format!("{}\n", v.shares));
    write(&cpu, "cpu.cfs_period_us", "100000\n");
    write(
        &cpu,
        "cpu.cfs_quota_us",
        &format!("{}\n", v.quota_usec.map_or(-1, |q| q as i64)),
    );
    const UNLIMITED: &str = "9223372036854771712\n";
    let mem = at("memory");
    write(&mem, "cgroup.clone_children", "0\n");
    write(&mem, "cgroup.procs", &procs(&v.procs));
    write(
        &mem,
        "memory.usage_in_bytes",
        &format!("{}\n", v.memory_current),
    );
    write(
        &mem,
        "memory.max_usage_in_bytes",
        &format!("{}\n", v.memory_peak),
    );
    write(&mem, "memory.failcnt", &format!("{}\n", v.events_max));
    write(
        &mem,
        "memory.limit_in_bytes",
        &v.memory_max
            .map_or(UNLIMITED.to_owned(), |m| format!("{m}\n")),
    );
    write(&mem, "memory.memsw.limit_in_bytes", UNLIMITED);
    write(&mem, "memory.soft_limit_in_bytes", UNLIMITED);
    write(&mem, "memory.use_hierarchy", "1\n");
    write(
        &mem,
        "memory.oom_control",
        &format!("oom_kill_disable 0\nunder_oom 0\noom_kill {}\n", v.oom_kill),
    );
    write(&mem, "memory.stat", &memory_stat_v1(v));
    let blkio = at("blkio");
    write(&blkio, "cgroup.clone_children", "0\n");
    let (bytes, ops) = match v.io {
        Some((r, w, ri, wi)) => (
            format!("253:0 Read {r}\n253:0 Write {w}\n253:0 Sync {}\n253:0 Async 0\n253:0 Discard 0\n253:0 Total {}\nTotal {}\n", r + w, r + w, r + w),
            format!("253:0 Read {ri}\n253:0 Write {wi}\n253:0 Sync {}\n253:0 Async 0\n253:0 Discard 0\n253:0 Total {}\nTotal {}\n", ri + wi, ri + wi, ri + wi),
        ),
        None => ("Total 0\n".to_owned(), "Total 0\n".to_owned()),
    };
    write(&blkio, "blkio.throttle.io_service_bytes_recursive", &bytes);
    write(&blkio, "blkio.throttle.io_serviced_recursive", &ops);
    let pids = at("pids");
    write(&pids, "cgroup.clone_children", "0\n");
    write(&pids, "pids.current", &format!("{}\n", v.pids_current));
    write(&pids, "pids.max", "max\n");
    write(&at("cpuset"), "cgroup.clone_children", "0\n");
}

/// This host's v1 memory.stat with the collector's keys substituted (own keys = totals,
/// as for a leaf cgroup).
fn memory_stat_v1(v: &Vals) -> String {
    let active = v.file - v.inactive_file.min(v.file);
    let block = |p: &str| {
        format!(
            "{p}cache {}\n{p}rss {}\n{p}rss_huge 0\n{p}shmem 0\n{p}mapped_file {}\n{p}dirty 81920\n{p}writeback 0\n\
{p}workingset_refault_anon 0\n{p}workingset_refault_file 8681\n{p}swap {}\n{p}swapcached 0\n{p}pgpgin 70646\n\
{p}pgpgout 66649\n{p}pgfault 103631\n{p}pgmajfault 0\n{p}inactive_anon {}\n{p}active_anon 0\n\
{p}inactive_file {}\n{p}active_file {}\n{p}unevictable 0\n",
            v.file, v.anon, v.file_mapped, v.swap, v.anon, v.inactive_file, active
        )
    };
    let own = block("");
    let total = block("total_");
    format!(
        "{own}hierarchical_memory_limit 9223372036854771712\nhierarchical_memsw_limit 9223372036854771712\n{total}"
    )
}
