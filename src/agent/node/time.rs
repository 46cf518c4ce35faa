//! time: `node_time_seconds`, `node_time_zone_offset_seconds{time_zone}` and the
//! clocksources of `<sysfs>/devices/system/clocksource/clocksource*/`. Mirrors
//! node_exporter 1.5's time collector (collector/time.go, time_linux.go over procfs'
//! sysfs/clocksource.go): the zone is the agent process's local zone (TZ or
//! /etc/localtime, as Go's `time.Local`), and the clocksource `device` label is the
//! directory's position in sorted order, not the number in its name.

use super::sysfs_attr::{read_path, text, ATTR_MAX};
use super::{CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// One `clocksourceN` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockSource {
    pub available: Vec<String>,
    pub current: String,
}

impl ClockSource {
    /// Builds one from the two attribute files' (trimmed) contents.
    pub fn parse(available: &str, current: &str) -> Self {
        ClockSource {
            available: available.split_whitespace().map(str::to_owned).collect(),
            current: current.to_owned(),
        }
    }
}

/// Builds the clocksource families; `device` is each source's index.
pub fn clocksource_families(sources: &[ClockSource]) -> [MetricFamily; 2] {
    let mut available = MetricFamily::gauge(
        "node_time_clocksource_available_info",
        "Available clocksources read from '/sys/devices/system/clocksource'.",
    );
    let mut current = MetricFamily::gauge(
        "node_time_clocksource_current_info",
        "Current clocksource read from '/sys/devices/system/clocksource'.",
    );
    for (i, source) in sources.iter().enumerate() {
        let device = i.to_string();
        for name in &source.available {
            available.push(&[("clocksource", name), ("device", &device)], 1.0);
        }
        current.push(
            &[("clocksource", &source.current), ("device", &device)],
            1.0,
        );
    }
    [available, current]
}

/// The local zone's abbreviation and UTC offset at `unix_secs`, via localtime_r(3),
/// which reads TZ or /etc/localtime as Go does.
pub fn local_zone(unix_secs: i64) -> (String, i64) {
    let t: libc::time_t = unix_secs;
    // SAFETY: `tm` is plain data that localtime_r fills; all-zero is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is thread-safe.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return ("UTC".to_owned(), 0);
    }
    let name = if tm.tm_zone.is_null() {
        String::new()
    } else {
        // SAFETY: libc points tm_zone at a NUL-terminated string that lives as long as
        // the loaded zone data (the process, in practice).
        unsafe { CStr::from_ptr(tm.tm_zone) }
            .to_string_lossy()
            .into_owned()
    };
    (name, tm.tm_gmtoff)
}

pub struct Time {
    clocksource_dir: PathBuf,
}

impl Time {
    pub fn new(paths: &HostPaths) -> Self {
        Time {
            clocksource_dir: paths.sys("devices/system/clocksource"),
        }
    }

    /// The `clocksource[0-9]*` directories, sorted as Go's Glob sorts them. A directory
    /// that cannot be listed yields none, as Glob does; an unreadable attribute is an
    /// error, as upstream's is.
    fn clocksources(&self) -> Result<Vec<ClockSource>, CollectError> {
        let Ok(entries) = std::fs::read_dir(&self.clocksource_dir) else {
            return Ok(Vec::new());
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| {
                n.strip_prefix("clocksource")
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            })
            .collect();
        names.sort_unstable();
        names
            .iter()
            .map(|n| {
                let dir = self.clocksource_dir.join(n);
                let available = read_text(&dir.join("available_clocksource"))?;
                let current = read_text(&dir.join("current_clocksource"))?;
                Ok(ClockSource::parse(&available, &current))
            })
            .collect()
    }
}

fn read_text(path: &Path) -> Result<String, CollectError> {
    let mut buf = [0; ATTR_MAX];
    match read_path(path, &mut buf) {
        Ok(bytes) => Ok(text(bytes)),
        Err(source) => Err(CollectError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

impl Collector for Time {
    fn name(&self) -> &'static str {
        "time"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        // Go's float64(now.UnixNano()) / 1e9.
        let seconds = now.as_nanos() as i64 as f64 / 1e9;
        let (zone, offset) = local_zone(now.as_secs() as i64);
        let sources = self.clocksources()?;
        out.push(
            MetricFamily::gauge(
                "node_time_seconds",
                "System time in seconds since epoch (1970).",
            )
            .value(seconds),
        );
        out.push(
            MetricFamily::gauge(
                "node_time_zone_offset_seconds",
                "System time zone offset in seconds.",
            )
            .with(&[("time_zone", &zone)], offset as f64),
        );
        out.extend(clocksource_families(&sources));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, contents: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn samples(f: &MetricFamily) -> Vec<(String, String)> {
        f.samples
            .iter()
            .map(|s| (s.labels[0].1.clone(), s.labels[1].1.clone()))
            .collect()
    }

    fn pairs(want: &[(&str, &str)]) -> Vec<(String, String)> {
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn parses_this_machines_clocksource() {
        // available_clocksource ends in a space before the newline.
        let c = ClockSource::parse("tsc kvm-clock ", "tsc");
        assert_eq!(c.available, ["tsc", "kvm-clock"]);
        let [available, current] = clocksource_families(&[c]);
        assert_eq!(
            samples(&available),
            pairs(&[("tsc", "0"), ("kvm-clock", "0")])
        );
        assert_eq!(samples(&current), pairs(&[("tsc", "0")]));
    }

    #[test]
    fn collects_time_zone_and_clocksources_by_position() {
        let dir = tempfile::tempdir().unwrap();
        let base = "devices/system/clocksource";
        for (n, avail, cur) in [
            ("clocksource0", "tsc hpet\n", "tsc\n"),
            ("clocksource10", "x\n", "x\n"),
            ("clocksource2", "y\n", "y\n"),
        ] {
            write(
                dir.path(),
                &format!("{base}/{n}/available_clocksource"),
                avail,
            );
            write(dir.path(), &format!("{base}/{n}/current_clocksource"), cur);
        }
        write(dir.path(), &format!("{base}/uevent"), "");
        let paths = HostPaths {
            sysfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let mut out = Vec::new();
        Time::new(&paths).collect(&mut out).unwrap();
        assert!((out[0].samples[0].value - before).abs() < 5.0);
        assert_eq!(out[1].samples[0].labels[0].0, "time_zone");
        // clocksource10 sorts before clocksource2 and so is device 1.
        assert_eq!(
            samples(&out[3]),
            pairs(&[("tsc", "0"), ("x", "1"), ("y", "2")])
        );
        assert_eq!(samples(&out[2]).len(), 4);
    }

    #[test]
    fn no_clocksource_dir_still_reports_time() {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths {
            sysfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        Time::new(&paths).collect(&mut out).unwrap();
        assert_eq!(out.len(), 4);
        assert!(out[2].samples.is_empty());
    }

    #[test]
    fn an_unreadable_clocksource_fails() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "devices/system/clocksource/clocksource0/available_clocksource",
            "tsc\n",
        );
        let paths = HostPaths {
            sysfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        assert!(Time::new(&paths).collect(&mut Vec::new()).is_err());
    }

    #[test]
    fn local_zone_has_a_name() {
        let (name, offset) = local_zone(0);
        assert!(!name.is_empty());
        assert!(offset.abs() <= 14 * 3600);
    }
}
