//! Test helpers shared by the collectors' tests: a temp procfs root holding given files,
//! and a one-line summary of what a collector emitted.

use super::HostPaths;
use crate::exposition::MetricFamily;

/// A temp dir used as the procfs root, holding `files` (path below the root, contents).
/// Keep the `TempDir` alive for as long as the paths are used.
pub fn procfs_with(files: &[(&str, &str)]) -> (tempfile::TempDir, HostPaths) {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (rel, contents) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent dir")).expect("mkdir");
        std::fs::write(path, contents).expect("writing a fixture");
    }
    let paths = HostPaths {
        procfs: dir.path().to_owned(),
        ..HostPaths::default()
    };
    (dir, paths)
}

/// (name, type, first sample's value) of each family, in emission order.
pub fn summary(out: &[MetricFamily]) -> Vec<(&str, &str, f64)> {
    out.iter()
        .map(|f| (f.name.as_ref(), f.kind.text_name(), f.samples[0].value))
        .collect()
}
