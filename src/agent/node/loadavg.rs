//! loadavg: `node_load1`, `node_load5`, `node_load15` from `<procfs>/loadavg`.
//! Mirrors node_exporter's loadavg collector (collector/loadavg_linux.go).

use super::{read_file, CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::path::PathBuf;

/// Parses `/proc/loadavg` ("0.05 0.10 0.04 1/84 2829") into the three averages.
pub fn parse(contents: &str) -> Result<[f64; 3], String> {
    let mut fields = contents.split_whitespace();
    let mut out = [0.0; 3];
    for slot in &mut out {
        let f = fields.next().ok_or("fewer than 3 fields")?;
        *slot = f.parse().map_err(|_| format!("not a number: {f:?}"))?;
    }
    Ok(out)
}

pub struct LoadAvg {
    path: PathBuf,
}

impl LoadAvg {
    pub fn new(paths: &HostPaths) -> Self {
        LoadAvg {
            path: paths.proc("loadavg"),
        }
    }
}

impl Collector for LoadAvg {
    fn name(&self) -> &'static str {
        "loadavg"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let loads =
            parse(&read_file(&self.path)?).map_err(|m| CollectError::parse(&self.path, m))?;
        for (i, load) in loads.into_iter().enumerate() {
            let (name, help) = [
                ("node_load1", "1m load average."),
                ("node_load5", "5m load average."),
                ("node_load15", "15m load average."),
            ][i];
            out.push(MetricFamily::gauge(name, help).value(load));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_and_broken_samples() {
        assert_eq!(
            parse("0.05 0.10 0.04 1/84 2829\n").unwrap(),
            [0.05, 0.10, 0.04]
        );
        assert_eq!(parse("12.50 3.00 0.00 9/1200 1").unwrap(), [12.5, 3.0, 0.0]);
        assert!(parse("0.05 0.10").is_err());
        assert!(parse("").is_err());
        assert!(parse("a b c").is_err());
    }

    #[test]
    fn collects_from_a_procfs_root() {
        let (_dir, paths) =
            crate::agent::node::testing::procfs_with(&[("loadavg", "1.00 2.00 3.00 1/1 1\n")]);
        let mut out = Vec::new();
        LoadAvg::new(&paths).collect(&mut out).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].name, "node_load15");
        assert_eq!(out[2].samples[0].value, 3.0);
    }
}
