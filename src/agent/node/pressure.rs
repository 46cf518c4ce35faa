//! pressure: `node_pressure_{cpu,io,memory}_{waiting,stalled}_seconds_total` from the
//! `total=` (µs) of `<procfs>/pressure/{cpu,io,memory}`. Mirrors node_exporter 1.5's
//! pressure collector (collector/pressure_linux.go over procfs's proc_psi.go), which
//! exports `some` as waiting and `full` as stalled, and for cpu only `some`.

use super::{read_file, CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::path::PathBuf;

/// The `total=` values of the `some` and `full` lines, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Psi {
    pub some: Option<u64>,
    pub full: Option<u64>,
}

/// Parses a PSI file (`some avg10=0.00 avg60=0.00 avg300=0.00 total=123`). Lines with
/// another first word are ignored, as procfs does, so future kinds do not break us.
pub fn parse(contents: &str) -> Result<Psi, String> {
    let mut psi = Psi::default();
    for line in contents.lines() {
        let mut fields = line.split_whitespace();
        let slot = match fields.next() {
            Some("some") => &mut psi.some,
            Some("full") => &mut psi.full,
            _ => continue,
        };
        let keys = ["avg10=", "avg60=", "avg300=", "total="];
        let mut total = None;
        for key in keys {
            let value = fields
                .next()
                .and_then(|f| f.strip_prefix(key))
                .ok_or_else(|| format!("expected {key} in {line:?}"))?;
            if key == "total=" {
                total = value.parse().ok();
            } else if value.parse::<f64>().is_err() {
                return Err(format!("bad {key} in {line:?}"));
            }
        }
        *slot = Some(total.ok_or_else(|| format!("bad total in {line:?}"))?);
    }
    Ok(psi)
}

/// One exported value: resource, which line, metric name, help.
type Export = (
    &'static str,
    fn(&Psi) -> Option<u64>,
    &'static str,
    &'static str,
);

const EXPORTS: [Export; 5] = [
    (
        "cpu",
        |p| p.some,
        "node_pressure_cpu_waiting_seconds_total",
        "Total time in seconds that processes have waited for CPU time",
    ),
    (
        "io",
        |p| p.some,
        "node_pressure_io_waiting_seconds_total",
        "Total time in seconds that processes have waited due to IO congestion",
    ),
    (
        "io",
        |p| p.full,
        "node_pressure_io_stalled_seconds_total",
        "Total time in seconds no process could make progress due to IO congestion",
    ),
    (
        "memory",
        |p| p.some,
        "node_pressure_memory_waiting_seconds_total",
        "Total time in seconds that processes have waited for memory",
    ),
    (
        "memory",
        |p| p.full,
        "node_pressure_memory_stalled_seconds_total",
        "Total time in seconds no process could make progress due to memory congestion",
    ),
];

pub struct Pressure {
    dir: PathBuf,
}

impl Pressure {
    pub fn new(paths: &HostPaths) -> Self {
        Pressure {
            dir: paths.proc("pressure"),
        }
    }
}

impl Collector for Pressure {
    fn name(&self) -> &'static str {
        "pressure"
    }

    /// Kernels before 4.20 or without CONFIG_PSI lack the files: a quiet NotFound.
    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        for resource in ["cpu", "io", "memory"] {
            let path = self.dir.join(resource);
            let psi = parse(&read_file(&path)?).map_err(|m| CollectError::parse(&path, m))?;
            for (_, line, name, help) in EXPORTS.iter().filter(|e| e.0 == resource) {
                // node_exporter dereferences the line unchecked; we report it missing.
                let total = line(&psi)
                    .ok_or_else(|| CollectError::parse(&path, "missing some or full line"))?;
                // Two divisions, as upstream: `x / 1e6` can differ in the last bit.
                let seconds = total as f64 / 1000.0 / 1000.0;
                out.push(MetricFamily::counter(*name, *help).value(seconds));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IO: &str = "some avg10=0.00 avg60=0.29 avg300=0.35 total=5615206\nfull avg10=0.00 avg60=0.27 avg300=0.31 total=5098773\n";

    #[test]
    fn parses_real_and_broken_samples() {
        assert_eq!(
            parse(IO).unwrap(),
            Psi {
                some: Some(5615206),
                full: Some(5098773)
            }
        );
        // Linux < 5.13 has no full line in cpu; unknown lines are skipped.
        let cpu = "some avg10=0.01 avg60=1.86 avg300=3.29 total=26548062\nnew avg10=1\n";
        assert_eq!(parse(cpu).unwrap().full, None);
        assert!(parse("some avg10=0.00 avg60=0.29 avg300=0.35\n").is_err());
        assert!(parse("some avg10=0.00 avg60=0.29 avg300=0.35 total=-1\n").is_err());
        assert!(parse("some avg10=x avg60=0.29 avg300=0.35 total=1\n").is_err());
        assert!(parse("full total=1\n").is_err());
    }

    fn root() -> (tempfile::TempDir, HostPaths) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pressure")).unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        (dir, paths)
    }

    #[test]
    fn collects_from_a_procfs_root() {
        let (dir, paths) = root();
        let p = dir.path().join("pressure");
        std::fs::write(p.join("cpu"), "some avg10=0.01 avg60=1.86 avg300=3.29 total=26548062\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n").unwrap();
        std::fs::write(p.join("io"), IO).unwrap();
        std::fs::write(p.join("memory"), IO.replace("5615206", "1")).unwrap();
        let mut out = Vec::new();
        Pressure::new(&paths).collect(&mut out).unwrap();
        let got = crate::agent::node::testing::summary(&out);
        let s = |us: f64| us / 1000.0 / 1000.0;
        assert_eq!(
            got,
            [
                (
                    "node_pressure_cpu_waiting_seconds_total",
                    "counter",
                    s(26548062.0)
                ),
                (
                    "node_pressure_io_waiting_seconds_total",
                    "counter",
                    s(5615206.0)
                ),
                (
                    "node_pressure_io_stalled_seconds_total",
                    "counter",
                    s(5098773.0)
                ),
                (
                    "node_pressure_memory_waiting_seconds_total",
                    "counter",
                    s(1.0)
                ),
                (
                    "node_pressure_memory_stalled_seconds_total",
                    "counter",
                    s(5098773.0)
                ),
            ]
        );
        assert_eq!(
            out[0].help,
            "Total time in seconds that processes have waited for CPU time"
        );
    }

    #[test]
    fn without_psi_it_is_not_found() {
        let (_dir, paths) = root();
        let err = Pressure::new(&paths).collect(&mut Vec::new()).unwrap_err();
        assert!(err.is_not_found());
    }
}
