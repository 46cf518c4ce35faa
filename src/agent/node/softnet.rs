//! softnet: `node_softnet_{processed,dropped,times_squeezed}_total{cpu}` from
//! `<procfs>/net/softnet_stat`. Mirrors node_exporter 1.5's softnet collector
//! (collector/softnet_linux.go over procfs' net_softnet.go): one line per online CPU of
//! hex columns, at least 9 of them; the `cpu` label is the line's position, not the CPU
//! id column newer kernels print (upstream 1.5 numbers lines, so do we).
//! The counters are global, not per network namespace; the file is read like the other
//! `/proc/net` files ([`super::host_net`]).

use super::host_net::HostNetFile;
use super::{CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;

/// The first three counters of one CPU's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Softnet {
    pub processed: u32,
    pub dropped: u32,
    pub times_squeezed: u32,
}

/// Parses `/proc/net/softnet_stat`, one entry per line in file order.
pub fn parse(contents: &str) -> Result<Vec<Softnet>, String> {
    const MIN_COLUMNS: usize = 9;
    let mut out = Vec::new();
    for line in contents.lines() {
        let mut columns = line.split_ascii_whitespace();
        let mut next = || -> Result<u32, String> {
            let c = columns.next().ok_or("no column")?;
            u32::from_str_radix(c, 16).map_err(|_| format!("not a hex u32: {c:?}"))
        };
        let (processed, dropped, times_squeezed) = (next(), next(), next());
        let width = 3 + columns.count();
        if width < MIN_COLUMNS {
            return Err(format!(
                "{width} columns, expected at least {MIN_COLUMNS}: {line:?}"
            ));
        }
        out.push(Softnet {
            processed: processed?,
            dropped: dropped?,
            times_squeezed: times_squeezed?,
        });
    }
    Ok(out)
}

pub struct SoftnetCollector {
    file: HostNetFile,
}

impl SoftnetCollector {
    pub fn new(paths: &HostPaths) -> Self {
        SoftnetCollector {
            file: HostNetFile::new(paths, "softnet_stat"),
        }
    }
}

impl Collector for SoftnetCollector {
    fn name(&self) -> &'static str {
        "softnet"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let (contents, path) = self.file.read()?;
        let stats = parse(&contents).map_err(|m| CollectError::parse(path, m))?;
        let mut processed = MetricFamily::counter(
            "node_softnet_processed_total",
            "Number of processed packets",
        );
        let mut dropped =
            MetricFamily::counter("node_softnet_dropped_total", "Number of dropped packets");
        let mut squeezed = MetricFamily::counter(
            "node_softnet_times_squeezed_total",
            "Number of times processing packets ran out of quota",
        );
        for (cpu, s) in stats.iter().enumerate() {
            let cpu = cpu.to_string();
            let labels = [("cpu", cpu.as_str())];
            processed.push(&labels, f64::from(s.processed));
            dropped.push(&labels, f64::from(s.dropped));
            squeezed.push(&labels, f64::from(s.times_squeezed));
        }
        out.extend([processed, dropped, squeezed]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's softnet_stat (kernel 6.18: 15 columns, CPU id in the 13th).
    const REAL: &str = "\
0000003d 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000
00000de3 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000000
";

    /// A 9-column line of an old kernel (2.6.23).
    const OLD: &str =
        "ffffffff 00000010 0000000a 00000000 00000000 00000000 00000000 00000000 00000003\n";

    #[test]
    fn parses_real_and_old_layouts() {
        let s = parse(REAL).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].processed, 0x3d);
        assert_eq!(s[1].processed, 0xde3);
        let old = parse(OLD).unwrap();
        assert_eq!(
            old[0],
            Softnet {
                processed: u32::MAX,
                dropped: 16,
                times_squeezed: 10
            }
        );
        assert_eq!(parse("").unwrap(), []);
    }

    #[test]
    fn rejects_short_or_non_hex_lines() {
        assert!(parse("00000001 00000002 00000003\n").is_err());
        assert!(parse("0000000g 0 0 0 0 0 0 0 0\n").is_err());
        assert!(parse("100000000 0 0 0 0 0 0 0 0\n").is_err());
    }

    #[test]
    fn labels_cpus_by_line_position() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::write(dir.path().join("net/softnet_stat"), REAL).unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        SoftnetCollector::new(&paths).collect(&mut out).unwrap();
        let names: Vec<_> = out.iter().map(|f| f.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "node_softnet_processed_total",
                "node_softnet_dropped_total",
                "node_softnet_times_squeezed_total"
            ]
        );
        let processed: Vec<_> = out[0]
            .samples
            .iter()
            .map(|s| (s.labels[0].1.as_str(), s.value))
            .collect();
        assert_eq!(processed, [("0", 61.0), ("1", 3555.0)]);
    }
}
