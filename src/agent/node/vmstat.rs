//! vmstat: `node_vmstat_<field>` (untyped) for the fields of `<procfs>/vmstat` that match
//! `--collector.vmstat.fields`. Mirrors node_exporter 1.5's vmstat collector
//! (collector/vmstat_linux.go).

use super::field_filter::FieldFilter;
use super::{read_file, CollectError, Collector, HostPaths};
use crate::agent::config::CollectorSettings;
use crate::exposition::parse::valid_metric_name;
use crate::exposition::MetricFamily;
use std::path::PathBuf;

/// Parses `/proc/vmstat` ("pgfault 12345" lines) into (field, value) pairs. Every value
/// is parsed, filtered or not: node_exporter fails the collector on any bad line.
pub fn parse(contents: &str) -> Result<Vec<(&str, f64)>, String> {
    let mut fields = Vec::with_capacity(200);
    for line in contents.lines() {
        let mut parts = line.split_whitespace();
        let Some(name) = parts.next() else {
            continue;
        };
        let value = parts
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("invalid line: {line:?}"))?;
        fields.push((name, value));
    }
    Ok(fields)
}

pub struct VmStat {
    path: PathBuf,
    fields: FieldFilter,
}

impl VmStat {
    pub fn new(paths: &HostPaths, settings: &CollectorSettings) -> Self {
        VmStat {
            path: paths.proc("vmstat"),
            fields: FieldFilter::new(settings.vmstat_fields.clone()),
        }
    }
}

impl Collector for VmStat {
    fn name(&self) -> &'static str {
        "vmstat"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let contents = read_file(&self.path)?;
        let fields = parse(&contents).map_err(|m| CollectError::parse(&self.path, m))?;
        for (name, value) in fields {
            if !self.fields.is_match(name) {
                continue;
            }
            let metric = format!("node_vmstat_{name}");
            if !valid_metric_name(&metric) {
                tracing::debug!(%metric, "Skipped a vmstat field that is not a metric name.");
                continue;
            }
            let help = format!("/proc/vmstat information field {name}.");
            out.push(MetricFamily::untyped(metric, help).value(value));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = include_str!("../../../tests/fixtures/proc/vmstat");

    #[test]
    fn parses_a_real_vmstat() {
        let f = parse(REAL).unwrap();
        assert_eq!(f.len(), REAL.lines().count());
        assert_eq!(f[0].0, "nr_free_pages");
        assert!(f.iter().any(|(n, _)| *n == "pgmajfault"));
    }

    #[test]
    fn broken_lines() {
        assert_eq!(parse("a 1\n\nb -2\n").unwrap(), [("a", 1.0), ("b", -2.0)]);
        assert!(parse("pgfault\n").is_err());
        assert!(parse("pgfault x\n").is_err());
    }

    #[test]
    fn collects_the_default_fields_from_a_procfs_root() {
        let (_dir, paths) = crate::agent::node::testing::procfs_with(&[("vmstat", "nr_free_pages 100\npgpgin 5\npgfault 7\npgmajfault 8\noom_kill 0\nnuma_hit 1\npgfault.odd 1\n")]);
        let mut out = Vec::new();
        VmStat::new(&paths, &CollectorSettings::default())
            .collect(&mut out)
            .unwrap();
        let got = crate::agent::node::testing::summary(&out);
        assert_eq!(
            got,
            [
                ("node_vmstat_pgpgin", "untyped", 5.0),
                ("node_vmstat_pgfault", "untyped", 7.0),
                ("node_vmstat_pgmajfault", "untyped", 8.0),
                ("node_vmstat_oom_kill", "untyped", 0.0),
            ]
        );
        assert_eq!(out[0].help, "/proc/vmstat information field pgpgin.");
    }
}
