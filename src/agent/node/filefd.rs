//! filefd: `node_filefd_allocated` and `node_filefd_maximum` from
//! `<procfs>/sys/fs/file-nr`. Mirrors node_exporter 1.5's filefd collector
//! (collector/filefd_linux.go).

use super::{read_file, CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::path::PathBuf;

/// Parses `file-nr` ("473\t0\t2466170": allocated, free (always 0 since 2.6), maximum).
pub fn parse(contents: &str) -> Result<(f64, f64), String> {
    let fields: Vec<&str> = contents.split_whitespace().collect();
    let [allocated, _, maximum, ..] = fields.as_slice() else {
        return Err(format!("expected 3 fields, got {:?}", contents.trim()));
    };
    let num = |s: &str| s.parse::<f64>().map_err(|_| format!("invalid value {s:?}"));
    Ok((num(allocated)?, num(maximum)?))
}

pub struct FileFd {
    path: PathBuf,
}

impl FileFd {
    pub fn new(paths: &HostPaths) -> Self {
        FileFd {
            path: paths.proc("sys/fs/file-nr"),
        }
    }
}

impl Collector for FileFd {
    fn name(&self) -> &'static str {
        "filefd"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let (allocated, maximum) =
            parse(&read_file(&self.path)?).map_err(|m| CollectError::parse(&self.path, m))?;
        out.push(
            MetricFamily::gauge(
                "node_filefd_allocated",
                "File descriptor statistics: allocated.",
            )
            .value(allocated),
        );
        out.push(
            MetricFamily::gauge(
                "node_filefd_maximum",
                "File descriptor statistics: maximum.",
            )
            .value(maximum),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_and_broken_samples() {
        assert_eq!(parse("473\t0\t2466170\n").unwrap(), (473.0, 2466170.0));
        // A 64-bit maximum (fs.file-max = LONG_MAX on some distributions).
        assert_eq!(
            parse("1024\t0\t9223372036854775807\n").unwrap(),
            (1024.0, 9223372036854775807.0)
        );
        assert!(parse("473\t0\n").is_err());
        assert!(parse("").is_err());
        assert!(parse("a\t0\t1").is_err());
    }

    #[test]
    fn collects_from_a_procfs_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sys/fs")).unwrap();
        std::fs::write(dir.path().join("sys/fs/file-nr"), "10\t0\t20\n").unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        FileFd::new(&paths).collect(&mut out).unwrap();
        assert_eq!(out[0].name, "node_filefd_allocated");
        assert_eq!(out[0].samples[0].value, 10.0);
        assert_eq!(out[1].name, "node_filefd_maximum");
        assert_eq!(out[1].samples[0].value, 20.0);
    }
}
