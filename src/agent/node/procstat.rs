//! The one parser of `<procfs>/stat`, shared by the `cpu` and `stat` collectors (each
//! reads the file once per scrape and keeps the part it needs). Values follow
//! prometheus/procfs's `Stat` (proc_stat.go), which node_exporter 1.5 uses for both.

/// `USER_HZ`: the kernel reports CPU times in ticks of 1/100 s on every architecture
/// node_exporter supports (procfs assumes the same constant).
pub const USER_HZ: f64 = 100.0;

/// Per-CPU ids above this are treated as corrupt input rather than allocated for.
const MAX_CPU_ID: usize = 1 << 16;

/// One `cpuN` line, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTimes {
    pub user: f64,
    pub nice: f64,
    pub system: f64,
    pub idle: f64,
    pub iowait: f64,
    pub irq: f64,
    pub softirq: f64,
    pub steal: f64,
    pub guest: f64,
    pub guest_nice: f64,
}

impl CpuTimes {
    /// The fields in the kernel's column order.
    pub fn fields_mut(&mut self) -> [&mut f64; 10] {
        [
            &mut self.user,
            &mut self.nice,
            &mut self.system,
            &mut self.idle,
            &mut self.iowait,
            &mut self.irq,
            &mut self.softirq,
            &mut self.steal,
            &mut self.guest,
            &mut self.guest_nice,
        ]
    }
}

/// What node_exporter reads from `/proc/stat`. Lines that are absent stay 0, as in procfs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcStat {
    /// Indexed by CPU id. A gap in the ids (an offline CPU) is a zeroed entry, as in
    /// procfs 0.8's slice, so node_exporter 1.5 reports it with zeros too.
    pub cpus: Vec<CpuTimes>,
    pub boot_time: u64,
    /// The first number of the `intr` line: all interrupts serviced.
    pub intr_total: u64,
    pub context_switches: u64,
    pub forks: u64,
    pub procs_running: u64,
    pub procs_blocked: u64,
}

/// Parses `/proc/stat`. Unknown lines and lines with fewer than two fields are skipped
/// (as procfs does); a malformed number in a line we use is an error.
pub fn parse(contents: &str) -> Result<ProcStat, String> {
    let mut stat = ProcStat::default();
    for line in contents.lines() {
        let mut fields = line.split_whitespace();
        let (Some(key), Some(first)) = (fields.next(), fields.next()) else {
            continue;
        };
        let slot = match key {
            "btime" => &mut stat.boot_time,
            "intr" => &mut stat.intr_total,
            "ctxt" => &mut stat.context_switches,
            "processes" => &mut stat.forks,
            "procs_running" => &mut stat.procs_running,
            "procs_blocked" => &mut stat.procs_blocked,
            _ if key.starts_with("cpu") => {
                parse_cpu_line(key, first, fields, &mut stat.cpus)?;
                continue;
            }
            _ => continue,
        };
        *slot = first
            .parse()
            .map_err(|_| format!("{key}: not an unsigned integer: {first:?}"))?;
    }
    Ok(stat)
}

/// Parses one `cpu`/`cpuN` line into `cpus` (the aggregate `cpu` line is not kept:
/// node_exporter exports per-CPU series only). Missing trailing columns (old kernels)
/// stay 0, as with procfs's `Sscanf`.
fn parse_cpu_line<'a>(
    key: &str,
    first: &'a str,
    rest: impl Iterator<Item = &'a str>,
    cpus: &mut Vec<CpuTimes>,
) -> Result<(), String> {
    let mut times = CpuTimes::default();
    for (slot, field) in times
        .fields_mut()
        .into_iter()
        .zip(std::iter::once(first).chain(rest))
    {
        *slot =
            parse_ticks(field).ok_or_else(|| format!("{key}: not a number: {field:?}"))? / USER_HZ;
    }
    let Some(id) = key.strip_prefix("cpu").filter(|id| !id.is_empty()) else {
        return Ok(());
    };
    let id: usize = id
        .parse()
        .ok()
        .filter(|&id| id < MAX_CPU_ID)
        .ok_or_else(|| format!("bad CPU id in {key:?}"))?;
    if cpus.len() <= id {
        cpus.resize(id + 1, CpuTimes::default());
    }
    cpus[id] = times;
    Ok(())
}

/// Ticks are integers; procfs reads them as floats, so accept those too.
fn parse_ticks(field: &str) -> Option<f64> {
    match field.parse::<u64>() {
        Ok(v) => Some(v as f64),
        Err(_) => field.parse::<f64>().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = include_str!("../../../tests/fixtures/proc/stat");

    #[test]
    fn parses_a_real_proc_stat() {
        let s = parse(REAL).unwrap();
        assert_eq!(s.cpus.len(), 2);
        // cpu0 16667 0 3952 56613 106 0 9 73 0 0
        assert_eq!(s.cpus[0].user, 166.67);
        assert_eq!(s.cpus[0].idle, 566.13);
        assert_eq!(s.cpus[0].steal, 0.73);
        assert_eq!(s.cpus[1].iowait, 5.55);
        assert_eq!(s.boot_time, 1795450081);
        assert_eq!(s.context_switches, 477505);
        assert_eq!(s.forks, 14785);
        assert_eq!(s.intr_total, 378241);
        assert_eq!((s.procs_running, s.procs_blocked), (1, 0));
    }

    #[test]
    fn old_kernels_without_guest_columns_read_as_zero() {
        let s = parse("cpu0 100 200 300 400\n").unwrap();
        assert_eq!(s.cpus[0].idle, 4.0);
        assert_eq!(s.cpus[0].iowait, 0.0);
        assert_eq!(s.cpus[0].guest_nice, 0.0);
    }

    #[test]
    fn offline_cpus_leave_zeroed_gaps() {
        let s = parse("cpu  5 5\ncpu0 1 1\ncpu2 3 3\n").unwrap();
        assert_eq!(s.cpus.len(), 3);
        assert_eq!(s.cpus[1], CpuTimes::default());
        assert_eq!(s.cpus[2].nice, 0.03);
    }

    #[test]
    fn broken_lines() {
        // Absent lines stay zero; short and unknown lines are skipped.
        let s = parse("ctxt\nfoo 1 2\n\nprocs_running 3").unwrap();
        assert_eq!(s.procs_running, 3);
        assert_eq!(s.context_switches, 0);
        assert!(parse("ctxt x").unwrap_err().contains("ctxt"));
        assert!(parse("btime -1").is_err());
        assert!(parse("cpu0 1 x 3").is_err());
        assert!(parse("cpuX 1 2 3").is_err());
        assert!(parse("cpu99999999 1 2 3").is_err());
        assert_eq!(parse("").unwrap(), ProcStat::default());
    }
}
