//! cpu: `node_cpu_seconds_total{cpu,mode}` and `node_cpu_guest_seconds_total{cpu,mode}`
//! from `<procfs>/stat`, `node_cpu_isolated{cpu}` from sysfs, and the thermal throttle
//! counters (see [`super::cpu_throttle`]). Mirrors node_exporter 1.5's cpu collector
//! (collector/cpu_linux.go) with `--collector.cpu.info` off, its default.

use super::cpu_throttle::Throttle;
use super::procstat::{self, CpuTimes};
use super::{read_file, CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::path::PathBuf;
use std::sync::Mutex;

/// node_exporter treats an idle counter that falls by this many seconds as a CPU
/// hotplug and restarts that CPU's series from the kernel's values.
const JUMP_BACK_SECONDS: f64 = 3.0;

pub struct Cpu {
    stat_path: PathBuf,
    /// The values last reported, per CPU (node_exporter's `cpuStats` cache).
    last: Mutex<Vec<CpuTimes>>,
    isolated: Vec<u32>,
    throttle: Throttle,
}

impl Cpu {
    pub fn new(paths: &HostPaths) -> Self {
        Cpu {
            stat_path: paths.proc("stat"),
            last: Mutex::new(Vec::new()),
            isolated: read_isolated(paths),
            throttle: Throttle::new(paths),
        }
    }
}

impl Collector for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let stat = procstat::parse(&read_file(&self.stat_path)?)
            .map_err(|m| CollectError::parse(&self.stat_path, m))?;
        let cpus = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            keep_monotonic(&mut last, &stat.cpus);
            last.clone()
        };
        out.extend(families(&cpus));
        if !self.isolated.is_empty() {
            out.push(isolated_family(&self.isolated));
        }
        self.throttle.collect(out);
        Ok(())
    }
}

/// node_exporter 1.5's `updateCPUStats`: each counter of each CPU keeps its last value
/// when the kernel reports it lower (the kernel's idle and iowait can step backwards on
/// NO_HZ systems), except that an idle drop of [`JUMP_BACK_SECONDS`] or more resets the
/// CPU (hotplug), and a change in the number of CPUs resets them all.
pub fn keep_monotonic(last: &mut Vec<CpuTimes>, new: &[CpuTimes]) {
    if last.len() != new.len() {
        *last = vec![CpuTimes::default(); new.len()];
    }
    for (old, new) in last.iter_mut().zip(new) {
        if old.idle - new.idle >= JUMP_BACK_SECONDS {
            tracing::debug!(
                old = old.idle,
                new = new.idle,
                "CPU idle counter jumped backwards; assuming a hotplug and resetting the CPU."
            );
            *old = CpuTimes::default();
        }
        let mut new = *new;
        for (o, n) in old.fields_mut().into_iter().zip(new.fields_mut()) {
            if *n >= *o {
                *o = *n;
            }
        }
    }
}

/// The two /proc/stat families. The cpu label is the CPU's index, as in node_exporter.
fn families(cpus: &[CpuTimes]) -> [MetricFamily; 2] {
    let mut seconds = MetricFamily::counter(
        "node_cpu_seconds_total",
        "Seconds the CPUs spent in each mode.",
    );
    let mut guest = MetricFamily::counter(
        "node_cpu_guest_seconds_total",
        "Seconds the CPUs spent in guests (VMs) for each mode.",
    );
    for (i, t) in cpus.iter().enumerate() {
        let cpu = i.to_string();
        for (mode, v) in [
            ("user", t.user),
            ("nice", t.nice),
            ("system", t.system),
            ("idle", t.idle),
            ("iowait", t.iowait),
            ("irq", t.irq),
            ("softirq", t.softirq),
            ("steal", t.steal),
        ] {
            seconds.push(&[("cpu", &cpu), ("mode", mode)], v);
        }
        // Guest time is also counted in user and nice; node_exporter exports it apart.
        guest.push(&[("cpu", &cpu), ("mode", "user")], t.guest);
        guest.push(&[("cpu", &cpu), ("mode", "nice")], t.guest_nice);
    }
    [seconds, guest]
}

fn isolated_family(isolated: &[u32]) -> MetricFamily {
    let mut f = MetricFamily::gauge(
        "node_cpu_isolated",
        "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
    );
    for cpu in isolated {
        f.push(&[("cpu", &cpu.to_string())], 1.0);
    }
    f
}

/// Reads the isolated CPU list once, at start, as node_exporter does.
fn read_isolated(paths: &HostPaths) -> Vec<u32> {
    let path = paths.sys("devices/system/cpu/isolated");
    let Ok(text) = read_file(&path) else {
        return Vec::new();
    };
    parse_cpu_list(&text).unwrap_or_else(|msg| {
        tracing::warn!(path = %path.display(), error = %msg, "Could not parse the isolated CPU list.");
        Vec::new()
    })
}

/// Parses a kernel CPU list such as `1-3,7` (empty when no CPU is listed).
pub fn parse_cpu_list(text: &str) -> Result<Vec<u32>, String> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let num = |s: &str| s.parse::<u32>().map_err(|_| format!("bad CPU {s:?}"));
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if b < a || b - a > 1 << 16 {
                    return Err(format!("bad CPU range {part:?}"));
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(num(part)?),
        }
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(idle: f64, iowait: f64, user: f64) -> CpuTimes {
        CpuTimes {
            idle,
            iowait,
            user,
            ..CpuTimes::default()
        }
    }

    #[test]
    fn counters_that_go_backwards_keep_their_last_value() {
        let mut last = Vec::new();
        keep_monotonic(&mut last, &[times(100.0, 5.0, 10.0)]);
        // iowait and a small idle step back: node_exporter keeps the previous values.
        keep_monotonic(&mut last, &[times(99.0, 4.5, 11.0)]);
        assert_eq!(last, [times(100.0, 5.0, 11.0)]);
        keep_monotonic(&mut last, &[times(101.0, 6.0, 12.0)]);
        assert_eq!(last, [times(101.0, 6.0, 12.0)]);
    }

    #[test]
    fn a_large_idle_jump_back_resets_the_cpu() {
        let mut last = Vec::new();
        keep_monotonic(&mut last, &[times(100.0, 5.0, 10.0)]);
        keep_monotonic(&mut last, &[times(97.0, 1.0, 2.0)]);
        assert_eq!(last, [times(97.0, 1.0, 2.0)]);
    }

    #[test]
    fn a_change_in_cpu_count_resets_all() {
        let mut last = Vec::new();
        keep_monotonic(&mut last, &[times(100.0, 5.0, 10.0)]);
        keep_monotonic(&mut last, &[times(1.0, 1.0, 1.0), times(2.0, 2.0, 2.0)]);
        assert_eq!(last, [times(1.0, 1.0, 1.0), times(2.0, 2.0, 2.0)]);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("\n").unwrap(), Vec::<u32>::new());
        assert_eq!(parse_cpu_list("1-3,7\n").unwrap(), [1, 2, 3, 7]);
        assert_eq!(parse_cpu_list("0").unwrap(), [0]);
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("a").is_err());
        assert!(parse_cpu_list("0-4000000000").is_err());
    }

    fn root_with(stat: &str) -> (tempfile::TempDir, HostPaths) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc")).unwrap();
        std::fs::create_dir_all(dir.path().join("sys/devices/system/cpu")).unwrap();
        std::fs::write(dir.path().join("proc/stat"), stat).unwrap();
        std::fs::write(dir.path().join("sys/devices/system/cpu/isolated"), "1\n").unwrap();
        let paths = HostPaths {
            procfs: dir.path().join("proc"),
            sysfs: dir.path().join("sys"),
            ..HostPaths::default()
        };
        (dir, paths)
    }

    #[test]
    fn collects_from_a_procfs_root() {
        let (dir, paths) = root_with(
            "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 100 0 50 1000 7 0 3 2 20 1\ncpu1 1 2 3 4 5 6 7 8 9 10\n",
        );
        let cpu = Cpu::new(&paths);
        let mut out = Vec::new();
        cpu.collect(&mut out).unwrap();
        let names: Vec<_> = out.iter().map(|f| f.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "node_cpu_seconds_total",
                "node_cpu_guest_seconds_total",
                "node_cpu_isolated"
            ]
        );
        let s = &out[0].samples[3];
        assert_eq!(s.labels[0], ("cpu".into(), "0".to_owned()));
        assert_eq!(s.labels[1], ("mode".into(), "idle".to_owned()));
        assert_eq!(s.value, 10.0);
        assert_eq!(out[0].samples.len(), 16);
        assert_eq!(out[1].samples[0].value, 0.2);
        assert_eq!(out[1].samples[3].value, 0.1);
        assert_eq!(out[2].samples[0].labels[0].1, "1");

        // The kernel's idle for cpu0 steps back by 1 s: the last value stays.
        std::fs::write(
            dir.path().join("proc/stat"),
            "cpu0 100 0 50 900 7 0 3 2 20 1\ncpu1 1 2 3 4 5 6 7 8 9 10\n",
        )
        .unwrap();
        out.clear();
        cpu.collect(&mut out).unwrap();
        assert_eq!(out[0].samples[3].value, 10.0);
    }

    #[test]
    fn a_missing_stat_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            sysfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let err = Cpu::new(&paths).collect(&mut Vec::new()).unwrap_err();
        assert!(err.is_not_found());
    }
}
