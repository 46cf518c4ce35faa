//! cgroup v1 files → [`ContainerStats`] and [`Spec`] parts, as cAdvisor reads them
//! through opencontainers/cgroups fs (cpuacct.go, cpu.go, memory.go, blkio.go) and
//! helpers.go getSpecInternal. Each controller is its own hierarchy ([`V1Dirs`]).

use super::files::{keyed, pids, signed, single, CgroupDir, Errors};
use super::stats::{ContainerStats, CpuSpec, CpuStats, DeviceIo, MemorySpec, MemoryStats};
use super::v2::parse_dev;

/// USER_HZ: `cpuacct.stat` counts in 1/100 s ticks (the cgroups library's clock ticks).
const NS_PER_TICK: u64 = 1_000_000_000 / 100;

/// One cgroup's directory in each controller hierarchy (`None` where it is missing).
pub struct V1Dirs {
    pub cpu: Option<CgroupDir>,
    pub cpuacct: Option<CgroupDir>,
    pub memory: Option<CgroupDir>,
    pub blkio: Option<CgroupDir>,
    pub pids: Option<CgroupDir>,
}

/// `cpuacct.stat` (`user N` / `system N` in ticks) into `s`, in ns.
pub fn parse_cpuacct_stat(text: &str, s: &mut CpuStats) -> Result<(), String> {
    keyed(text, |k, v| match k {
        "user" => s.user_ns = v * NS_PER_TICK,
        "system" => s.system_ns = v * NS_PER_TICK,
        _ => {}
    })
}

/// `cpu.stat` (`nr_periods`, `nr_throttled`, `throttled_time` in ns) into `s`.
pub fn parse_cpu_stat(text: &str, s: &mut CpuStats) -> Result<(), String> {
    keyed(text, |k, v| match k {
        "nr_periods" => s.periods = v,
        "nr_throttled" => s.throttled_periods = v,
        "throttled_time" => s.throttled_ns = v,
        _ => {}
    })
}

/// `memory.stat` into `m`: the hierarchical `total_*` keys (use_hierarchy is always on
/// under Kubernetes), the cgroup's own keys where a `total_` one is missing.
pub fn parse_memory_stat(text: &str, m: &mut MemoryStats) -> Result<(), String> {
    let mut own = MemoryStats::default();
    let mut total = MemoryStats::default();
    keyed(text, |k, v| {
        let (s, k) = match k.strip_prefix("total_") {
            Some(k) => (&mut total, k),
            None => (&mut own, k),
        };
        match k {
            "rss" => s.rss = v,
            "cache" => s.cache = v,
            "mapped_file" => s.mapped_file = v,
            "swap" => s.swap = v,
            "inactive_file" => s.inactive_file = Some(v),
            _ => {}
        }
    })?;
    let has_total = text.contains("total_rss");
    let s = if has_total { total } else { own };
    (m.rss, m.cache, m.mapped_file, m.swap) = (s.rss, s.cache, s.mapped_file, s.swap);
    m.inactive_file = s.inactive_file;
    Ok(())
}

/// `blkio.*_recursive`: `MAJ:MIN Read|Write|Sync|Async|Discard|Total N` lines and a
/// last `Total N`; calls `each(device, op, value)` for Read and Write.
pub fn parse_blkio(text: &str, mut each: impl FnMut((u32, u32), bool, u64)) -> Result<(), String> {
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        match f.as_slice() {
            ["Total", _] => {}
            [dev, op, value] => {
                let dev = parse_dev(dev).ok_or_else(|| format!("no MAJ:MIN in {line:?}"))?;
                let value = value
                    .parse()
                    .map_err(|_| format!("not a number in {line:?}"))?;
                match *op {
                    "Read" => each(dev, true, value),
                    "Write" => each(dev, false, value),
                    _ => {}
                }
            }
            _ => return Err(format!("not a blkio line: {line:?}")),
        }
    }
    Ok(())
}

/// Reads of both blkio files merged per device, in first-seen order.
fn merge_blkio(bytes: &str, ops: &str) -> Result<Vec<DeviceIo>, String> {
    let mut out: Vec<DeviceIo> = Vec::new();
    let mut pairs = Vec::new();
    parse_blkio(bytes, |d, read, v| pairs.push((d, read, v, true)))?;
    parse_blkio(ops, |d, read, v| pairs.push((d, read, v, false)))?;
    for ((major, minor), read, v, is_bytes) in pairs {
        let i = match out
            .iter()
            .position(|d| (d.major, d.minor) == (major, minor))
        {
            Some(i) => i,
            None => {
                out.push(DeviceIo {
                    major,
                    minor,
                    ..DeviceIo::default()
                });
                out.len() - 1
            }
        };
        let d = &mut out[i];
        *match (is_bytes, read) {
            (true, true) => &mut d.read_bytes,
            (true, false) => &mut d.write_bytes,
            (false, true) => &mut d.reads,
            (false, false) => &mut d.writes,
        } = v;
    }
    Ok(out)
}

/// Every counter of one cgroup across the v1 hierarchies.
pub fn read_stats(dirs: &V1Dirs, buf: &mut Vec<u8>, errors: &Errors) -> ContainerStats {
    ContainerStats {
        cpu: dirs
            .cpuacct
            .as_ref()
            .and_then(|d| read_cpu(d, dirs.cpu.as_ref(), buf, errors)),
        memory: dirs
            .memory
            .as_ref()
            .and_then(|d| read_memory(d, buf, errors)),
        io: dirs
            .blkio
            .as_ref()
            .map(|d| read_io(d, buf, errors))
            .unwrap_or_default(),
        threads: dirs
            .pids
            .as_ref()
            .and_then(|d| d.parse("pids.current", buf, errors, single)),
        procs: [&dirs.cpu, &dirs.memory]
            .into_iter()
            .flatten()
            .next()
            .and_then(|d| d.parse("cgroup.procs", buf, errors, pids)),
    }
}

fn read_cpu(
    acct: &CgroupDir,
    cpu: Option<&CgroupDir>,
    buf: &mut Vec<u8>,
    errors: &Errors,
) -> Option<CpuStats> {
    let mut s = CpuStats {
        usage_ns: acct.parse("cpuacct.usage", buf, errors, single)?,
        ..CpuStats::default()
    };
    acct.parse("cpuacct.stat", buf, errors, |t| {
        parse_cpuacct_stat(t, &mut s)
    });
    if let Some(cpu) = cpu {
        cpu.parse("cpu.stat", buf, errors, |t| parse_cpu_stat(t, &mut s));
    }
    Some(s)
}

fn read_memory(dir: &CgroupDir, buf: &mut Vec<u8>, errors: &Errors) -> Option<MemoryStats> {
    let mut m = MemoryStats {
        usage: dir.parse("memory.usage_in_bytes", buf, errors, single)?,
        ..MemoryStats::default()
    };
    m.max_usage = dir
        .parse("memory.max_usage_in_bytes", buf, errors, single)
        .unwrap_or(0);
    m.failcnt = dir
        .parse("memory.failcnt", buf, errors, single)
        .unwrap_or(0);
    dir.parse("memory.stat", buf, errors, |t| parse_memory_stat(t, &mut m));
    dir.parse("memory.oom_control", buf, errors, |t| {
        keyed(t, |k, v| {
            if k == "oom_kill" {
                m.oom_kills = v
            }
        })
    });
    Some(m)
}

/// The CFQ/BFQ `blkio.io_*_recursive` files when they hold devices, else the throttle
/// files (the cgroups library's order).
fn read_io(dir: &CgroupDir, buf: &mut Vec<u8>, errors: &Errors) -> Vec<DeviceIo> {
    for prefix in ["blkio.io_", "blkio.throttle.io_"] {
        let read = |name: &str, buf: &mut Vec<u8>| -> Option<String> {
            dir.parse(&format!("{prefix}{name}_recursive"), buf, errors, |t| {
                Ok(t.to_owned())
            })
        };
        let (Some(bytes), Some(ops)) = (read("service_bytes", buf), read("serviced", buf)) else {
            continue;
        };
        match merge_blkio(&bytes, &ops) {
            Ok(io) if !io.is_empty() => return io,
            Ok(_) => {}
            Err(msg) => {
                errors
                    .parse
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(error = %msg, "Cannot parse a blkio file.");
            }
        }
    }
    Vec::new()
}

/// The limits of one cgroup across the v1 hierarchies (`cpu.cfs_quota_us` -1 → 0).
pub fn read_spec(
    dirs: &V1Dirs,
    buf: &mut Vec<u8>,
    errors: &Errors,
) -> (Option<CpuSpec>, Option<MemorySpec>) {
    let cpu = dirs.cpu.as_ref().and_then(|d| {
        Some(CpuSpec {
            shares: d.parse("cpu.shares", buf, errors, single)?,
            period_us: d
                .parse("cpu.cfs_period_us", buf, errors, single)
                .unwrap_or(0),
            quota_us: d
                .parse("cpu.cfs_quota_us", buf, errors, signed)
                .map_or(0, |q| u64::try_from(q).unwrap_or(0)),
        })
    });
    let memory = dirs.memory.as_ref().and_then(|d| {
        Some(MemorySpec {
            limit: d.parse("memory.limit_in_bytes", buf, errors, single)?,
            swap_limit: d
                .parse("memory.memsw.limit_in_bytes", buf, errors, single)
                .unwrap_or(0),
            reservation: d
                .parse("memory.soft_limit_in_bytes", buf, errors, single)
                .unwrap_or(0),
        })
    });
    (cpu, memory)
}

#[cfg(test)]
mod tests;
