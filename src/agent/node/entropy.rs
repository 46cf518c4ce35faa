//! entropy: `node_entropy_available_bits` and `node_entropy_pool_size_bits` from
//! `<procfs>/sys/kernel/random/{entropy_avail,poolsize}`. Mirrors node_exporter 1.5's
//! entropy collector (collector/entropy_linux.go over procfs's kernel_random.go).

use super::{read_uint, CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::path::PathBuf;

pub struct Entropy {
    available: PathBuf,
    pool_size: PathBuf,
}

impl Entropy {
    pub fn new(paths: &HostPaths) -> Self {
        Entropy {
            available: paths.proc("sys/kernel/random/entropy_avail"),
            pool_size: paths.proc("sys/kernel/random/poolsize"),
        }
    }
}

impl Collector for Entropy {
    fn name(&self) -> &'static str {
        "entropy"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let available = read_uint(&self.available)?;
        let pool_size = read_uint(&self.pool_size)?;
        out.push(
            MetricFamily::gauge("node_entropy_available_bits", "Bits of available entropy.")
                .value(available as f64),
        );
        out.push(
            MetricFamily::gauge("node_entropy_pool_size_bits", "Bits of entropy pool.")
                .value(pool_size as f64),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(files: &[(&str, &str)]) -> Result<Vec<MetricFamily>, CollectError> {
        let dir = tempfile::tempdir().unwrap();
        let random = dir.path().join("sys/kernel/random");
        std::fs::create_dir_all(&random).unwrap();
        for (name, contents) in files {
            std::fs::write(random.join(name), contents).unwrap();
        }
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        Entropy::new(&paths).collect(&mut out)?;
        Ok(out)
    }

    #[test]
    fn collects_from_a_procfs_root() {
        let out = collect(&[("entropy_avail", "256\n"), ("poolsize", "256\n")]).unwrap();
        assert_eq!(out[0].name, "node_entropy_available_bits");
        assert_eq!(out[0].samples[0].value, 256.0);
        assert_eq!(out[1].name, "node_entropy_pool_size_bits");
        assert_eq!(out[1].help, "Bits of entropy pool.");
    }

    #[test]
    fn missing_and_broken_files() {
        assert!(collect(&[("entropy_avail", "256\n")])
            .unwrap_err()
            .is_not_found());
        let err = collect(&[("entropy_avail", "lots\n"), ("poolsize", "256\n")]).unwrap_err();
        assert!(matches!(err, CollectError::Parse { .. }));
    }
}
