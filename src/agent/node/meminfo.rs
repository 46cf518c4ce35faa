//! meminfo: one gauge `node_memory_<Field>` per line of `<procfs>/meminfo`. Mirrors
//! node_exporter 1.5's meminfo collector (collector/meminfo.go, meminfo_linux.go):
//! `Active(anon)` becomes `Active_anon`, a value with a unit (always kB) is multiplied
//! by 1024 and its name gets `_bytes`, a value without one (`HugePages_Total`) is kept.

use super::{read_file, CollectError, Collector, HostPaths};
use crate::exposition::parse::valid_metric_name;
use crate::exposition::MetricFamily;
use std::path::PathBuf;

/// Parses `/proc/meminfo` into (metric suffix, value) pairs in file order, e.g.
/// `("MemTotal_bytes", 4123456.0 * 1024.0)`. Blank lines are skipped (some CentOS
/// kernels print them); a line with a bad value or too many fields is an error.
pub fn parse(contents: &str) -> Result<Vec<(String, f64)>, String> {
    let mut fields = Vec::with_capacity(64);
    for line in contents.lines() {
        let mut parts = line.split_whitespace();
        let Some(name) = parts.next() else {
            continue;
        };
        let (Some(value), unit, None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("invalid line: {line:?}"));
        };
        let mut value: f64 = value
            .parse()
            .map_err(|_| format!("invalid value in line {line:?}"))?;
        let mut key = metric_key(name.strip_suffix(':').unwrap_or(name));
        if unit.is_some() {
            value *= 1024.0;
            key.push_str("_bytes");
        }
        fields.push((key, value));
    }
    Ok(fields)
}

/// node_exporter's `\((.*)\)` → `_$1`: from the first `(` to the last `)` after it.
fn metric_key(name: &str) -> String {
    let open = name.find('(');
    let close = name.rfind(')');
    match (open, close) {
        (Some(o), Some(c)) if o < c => {
            format!("{}_{}{}", &name[..o], &name[o + 1..c], &name[c + 1..])
        }
        _ => name.to_owned(),
    }
}

pub struct MemInfo {
    path: PathBuf,
}

impl MemInfo {
    pub fn new(paths: &HostPaths) -> Self {
        MemInfo {
            path: paths.proc("meminfo"),
        }
    }
}

impl Collector for MemInfo {
    fn name(&self) -> &'static str {
        "meminfo"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let fields =
            parse(&read_file(&self.path)?).map_err(|m| CollectError::parse(&self.path, m))?;
        for (key, value) in fields {
            let name = format!("node_memory_{key}");
            if !valid_metric_name(&name) {
                tracing::debug!(%name, "Skipped a meminfo field that is not a metric name.");
                continue;
            }
            let help = format!("Memory information field {key}.");
            // node_exporter types a field by its name; no Linux field ends in `_total`.
            let family = if key.ends_with("_total") {
                MetricFamily::counter(name, help)
            } else {
                MetricFamily::gauge(name, help)
            };
            out.push(family.value(value));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = include_str!("../../../tests/fixtures/proc/meminfo");

    fn get(fields: &[(String, f64)], key: &str) -> Option<f64> {
        fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    #[test]
    fn parses_a_real_meminfo() {
        let f = parse(REAL).unwrap();
        assert_eq!(f.len(), REAL.lines().count());
        let total = REAL
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap();
        assert_eq!(
            get(&f, "MemTotal_bytes"),
            Some(total.parse::<f64>().unwrap() * 1024.0)
        );
        assert!(get(&f, "Active_anon_bytes").is_some());
        assert!(get(&f, "Inactive_file_bytes").is_some());
        assert_eq!(get(&f, "HugePages_Total"), Some(0.0));
        assert_eq!(get(&f, "Hugepagesize_bytes"), Some(2048.0 * 1024.0));
    }

    #[test]
    fn names_and_units() {
        let f = parse("Active(anon):    4 kB\n\nHugePages_Free:  3\nOdd(a)(b):  1\n").unwrap();
        assert_eq!(
            f,
            [
                ("Active_anon_bytes".to_owned(), 4096.0),
                ("HugePages_Free".to_owned(), 3.0),
                ("Odd_a)(b".to_owned(), 1.0),
            ]
        );
    }

    #[test]
    fn broken_lines() {
        assert!(parse("MemTotal:\n").is_err());
        assert!(parse("MemTotal: x kB\n").is_err());
        assert!(parse("MemTotal: 1 kB extra\n").is_err());
        assert_eq!(parse("").unwrap(), []);
    }

    #[test]
    fn collects_from_a_procfs_root() {
        let (_dir, paths) = crate::agent::node::testing::procfs_with(&[("meminfo", "MemTotal:        2014088 kB\nActive(file):     100 kB\nHugePages_Total:       0\nBad(\"x\"):  1 kB\n")]);
        let mut out = Vec::new();
        MemInfo::new(&paths).collect(&mut out).unwrap();
        let got: Vec<_> = out
            .iter()
            .map(|f| {
                (
                    f.name.as_ref(),
                    f.help.as_ref(),
                    f.kind.text_name(),
                    f.samples[0].value,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "node_memory_MemTotal_bytes",
                    "Memory information field MemTotal_bytes.",
                    "gauge",
                    2014088.0 * 1024.0
                ),
                (
                    "node_memory_Active_file_bytes",
                    "Memory information field Active_file_bytes.",
                    "gauge",
                    102400.0
                ),
                (
                    "node_memory_HugePages_Total",
                    "Memory information field HugePages_Total.",
                    "gauge",
                    0.0
                ),
            ]
        );
    }
}
