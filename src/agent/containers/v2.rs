//! cgroup v2 files → [`ContainerStats`] and [`Spec`], as cAdvisor reads them through
//! opencontainers/cgroups fs2 (cpu.go, memory.go, io.go) and helpers.go getSpecInternal.
//! Pure parsers first, then the readers of one cgroup directory.

use super::files::{keyed, pids, single, CgroupDir, Errors};
use super::stats::{ContainerStats, CpuSpec, CpuStats, DeviceIo, MemorySpec, MemoryStats};

/// `cpu.stat`: µs counters → ns. The CFS keys exist only where the cpu controller is
/// enabled; absent keys read 0.
pub fn parse_cpu_stat(text: &str) -> Result<CpuStats, String> {
    let mut s = CpuStats::default();
    keyed(text, |k, v| match k {
        "usage_usec" => s.usage_ns = v * 1000,
        "user_usec" => s.user_ns = v * 1000,
        "system_usec" => s.system_ns = v * 1000,
        "nr_periods" => s.periods = v,
        "nr_throttled" => s.throttled_periods = v,
        "throttled_usec" => s.throttled_ns = v * 1000,
        _ => {}
    })?;
    Ok(s)
}

/// `memory.stat` into `m`: rss = anon, cache = file, mapped_file = file_mapped.
pub fn parse_memory_stat(text: &str, m: &mut MemoryStats) -> Result<(), String> {
    keyed(text, |k, v| match k {
        "anon" => m.rss = v,
        "file" => m.cache = v,
        "file_mapped" => m.mapped_file = v,
        "inactive_file" => m.inactive_file = Some(v),
        _ => {}
    })
}

/// `memory.events` into `m`: failcnt = `max` (times usage hit memory.max, as the
/// cgroups library maps it), OOM kills = `oom_kill`.
pub fn parse_memory_events(text: &str, m: &mut MemoryStats) -> Result<(), String> {
    keyed(text, |k, v| match k {
        "max" => m.failcnt = v,
        "oom_kill" => m.oom_kills = v,
        _ => {}
    })
}

/// `io.stat`: `MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N` per device.
/// Keys other than the four used are skipped whatever their value.
pub fn parse_io_stat(text: &str) -> Result<Vec<DeviceIo>, String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut fields = line.split_ascii_whitespace();
        let dev = fields.next().unwrap_or_default();
        let (major, minor) = parse_dev(dev).ok_or_else(|| format!("no MAJ:MIN in {line:?}"))?;
        let mut d = DeviceIo {
            major,
            minor,
            ..DeviceIo::default()
        };
        for field in fields {
            let Some((key, value)) = field.split_once('=') else {
                return Err(format!("not key=value: {field:?} in {line:?}"));
            };
            let slot = match key {
                "rbytes" => &mut d.read_bytes,
                "wbytes" => &mut d.write_bytes,
                "rios" => &mut d.reads,
                "wios" => &mut d.writes,
                _ => continue,
            };
            *slot = value
                .parse()
                .map_err(|_| format!("not a number in {field:?}"))?;
        }
        out.push(d);
    }
    Ok(out)
}

/// `MAJ:MIN` → numbers.
pub fn parse_dev(dev: &str) -> Option<(u32, u32)> {
    let (major, minor) = dev.split_once(':')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// `cpu.max` (`<quota|max> <period>`) and `cpu.weight` → the CFS spec.
pub fn parse_cpu_max(text: &str, weight: u64) -> Result<CpuSpec, String> {
    let mut f = text.split_ascii_whitespace();
    let (Some(quota), Some(period), None) = (f.next(), f.next(), f.next()) else {
        return Err(format!("not `<quota> <period>`: {text:?}"));
    };
    let number = |s: &str| s.parse::<u64>().map_err(|_| format!("not a number: {s:?}"));
    Ok(CpuSpec {
        quota_us: if quota == "max" { 0 } else { number(quota)? },
        period_us: number(period)?,
        shares: super::stats::weight_to_shares(weight),
    })
}

/// Every counter of one cgroup v2 directory.
pub fn read_stats(dir: &CgroupDir, buf: &mut Vec<u8>, errors: &Errors) -> ContainerStats {
    ContainerStats {
        cpu: dir.parse("cpu.stat", buf, errors, parse_cpu_stat),
        memory: read_memory(dir, buf, errors),
        io: dir
            .parse("io.stat", buf, errors, parse_io_stat)
            .unwrap_or_default(),
        threads: dir.parse("pids.current", buf, errors, single),
        procs: dir.parse("cgroup.procs", buf, errors, pids),
    }
}

fn read_memory(dir: &CgroupDir, buf: &mut Vec<u8>, errors: &Errors) -> Option<MemoryStats> {
    let mut m = MemoryStats {
        usage: dir.parse("memory.current", buf, errors, single)?,
        ..MemoryStats::default()
    };
    // memory.peak needs kernel 5.19; without it max usage stays 0, as in cAdvisor.
    m.max_usage = dir.parse("memory.peak", buf, errors, single).unwrap_or(0);
    m.swap = dir
        .parse("memory.swap.current", buf, errors, single)
        .unwrap_or(0);
    dir.parse("memory.stat", buf, errors, |t| parse_memory_stat(t, &mut m));
    dir.parse("memory.events", buf, errors, |t| {
        parse_memory_events(t, &mut m)
    });
    Some(m)
}

/// The limits of one cgroup v2 directory.
pub fn read_spec(
    dir: &CgroupDir,
    buf: &mut Vec<u8>,
    errors: &Errors,
) -> (Option<CpuSpec>, Option<MemorySpec>) {
    let weight = dir.parse("cpu.weight", buf, errors, single);
    let cpu = weight.and_then(|w| dir.parse("cpu.max", buf, errors, |t| parse_cpu_max(t, w)));
    let memory = dir
        .parse("memory.max", buf, errors, single)
        .map(|limit| MemorySpec {
            limit,
            swap_limit: dir
                .parse("memory.swap.max", buf, errors, single)
                .unwrap_or(0),
            reservation: dir.parse("memory.min", buf, errors, single).unwrap_or(0),
        });
    (cpu, memory)
}

#[cfg(test)]
mod tests;
