//! os: `node_os_info{build_id,...,version_id}` and `node_os_version{id,id_like,name}`
//! from `<rootfs>/etc/os-release`, falling back to `<rootfs>/usr/lib/os-release` when
//! the first does not exist. Mirrors node_exporter 1.5's os collector
//! (collector/os_release.go): parsed with go-envparse's rules ([`envparse`]), cached
//! while the file's name and mtime stay the same, and `node_os_version` is the
//! `^[0-9]+\.?[0-9]*` prefix of VERSION_ID, emitted only when above 0.

mod envparse;

use super::{read_file, CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// `node_os_info`'s labels (alphabetical) and the os-release keys they come from.
const FIELDS: [(&str, &str); 12] = [
    ("build_id", "BUILD_ID"),
    ("id", "ID"),
    ("id_like", "ID_LIKE"),
    ("image_id", "IMAGE_ID"),
    ("image_version", "IMAGE_VERSION"),
    ("name", "NAME"),
    ("pretty_name", "PRETTY_NAME"),
    ("variant", "VARIANT"),
    ("variant_id", "VARIANT_ID"),
    ("version", "VERSION"),
    ("version_codename", "VERSION_CODENAME"),
    ("version_id", "VERSION_ID"),
];
const ID: usize = 1;
const ID_LIKE: usize = 2;
const NAME: usize = 5;
const VERSION_ID: usize = 11;

/// The reported fields of one os-release file ("" where absent) and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct OsRelease {
    pub values: [String; 12],
    pub version: f64,
}

/// Parses an os-release file.
pub fn parse(contents: &str) -> Result<OsRelease, String> {
    let mut values: [String; 12] = Default::default();
    for (key, value) in envparse::parse(contents)? {
        if let Some(i) = FIELDS.iter().position(|(_, k)| *k == key) {
            values[i] = value;
        }
    }
    let version = major_minor(&values[VERSION_ID])?;
    Ok(OsRelease { values, version })
}

/// The number at the start of VERSION_ID (`^[0-9]+\.?[0-9]*`), or 0 when there is none.
pub fn major_minor(version_id: &str) -> Result<f64, String> {
    let b = version_id.as_bytes();
    let digits = |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_end = digits(0);
    if int_end == 0 {
        return Ok(0.0);
    }
    let end = if b.get(int_end) == Some(&b'.') {
        digits(int_end + 1)
    } else {
        int_end
    };
    let prefix = &version_id[..end];
    // Go's ParseFloat fails on overflow rather than returning infinity.
    match prefix.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!(
            "VERSION_ID {version_id:?}: {prefix:?} is out of range"
        )),
    }
}

impl OsRelease {
    fn families(&self, out: &mut Vec<MetricFamily>) {
        let labels: Vec<(&'static str, &str)> = FIELDS
            .iter()
            .zip(&self.values)
            .map(|((label, _), v)| (*label, v.as_str()))
            .collect();
        out.push(
            MetricFamily::gauge(
                "node_os_info",
                "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, \
                 image_version, name, pretty_name, variant, variant_id, version, \
                 version_codename, version_id.",
            )
            .with(&labels, 1.0),
        );
        if self.version > 0.0 {
            let v = &self.values;
            out.push(
                MetricFamily::gauge(
                    "node_os_version",
                    "Metric containing the major.minor part of the OS version.",
                )
                .with(
                    &[("id", &v[ID]), ("id_like", &v[ID_LIKE]), ("name", &v[NAME])],
                    self.version,
                ),
            );
        }
    }
}

/// The last parse, valid while the same file keeps the same mtime.
struct Cached {
    file: usize,
    mtime: SystemTime,
    release: OsRelease,
}

pub struct Os {
    files: [PathBuf; 2],
    cache: Mutex<Option<Cached>>,
}

impl Os {
    pub fn new(paths: &HostPaths) -> Self {
        Os {
            files: [
                paths.root("/etc/os-release"),
                paths.root("/usr/lib/os-release"),
            ],
            cache: Mutex::new(None),
        }
    }

    /// The first file that exists, with its mtime.
    fn find(&self) -> Result<(usize, &Path, SystemTime), CollectError> {
        let mut last_err = None;
        for (i, path) in self.files.iter().enumerate() {
            let mtime = std::fs::metadata(path).and_then(|m| m.modified());
            match mtime {
                Ok(mtime) => return Ok((i, path, mtime)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => last_err = Some(e),
                Err(source) => return Err(io_error(path, source)),
            }
        }
        let source = last_err.unwrap_or_else(|| std::io::ErrorKind::NotFound.into());
        Err(io_error(&self.files[1], source))
    }
}

fn io_error(path: &Path, source: std::io::Error) -> CollectError {
    CollectError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Collector for Os {
    fn name(&self) -> &'static str {
        "os"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let (file, path, mtime) = self.find()?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        match cache.as_ref() {
            Some(c) if c.file == file && c.mtime == mtime => {}
            _ => {
                let release = parse(&read_file(path)?).map_err(|m| CollectError::parse(path, m))?;
                *cache = Some(Cached {
                    file,
                    mtime,
                    release,
                });
            }
        }
        if let Some(c) = cache.as_ref() {
            c.release.families(out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
