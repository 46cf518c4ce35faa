//! textfile: the metrics of every `*.prom` file in `--collector.textfile.directory`,
//! `node_textfile_mtime_seconds{file}` per file read and `node_textfile_scrape_error`.
//! Mirrors node_exporter 1.5's textfile collector (collector/textfile.go): a file that
//! cannot be read or parsed, or has sample timestamps, is skipped whole and sets the
//! error gauge; a family without HELP gets "Metric read from <files>"; with no directory
//! set only `node_textfile_scrape_error 0` is emitted.
//!
//! Bounded where node_exporter is not: a file larger than
//! `--collector.textfile.max-file-bytes` is skipped (and counted, as every skipped file
//! is, in `nodepulse_textfile_files_skipped_total{reason}`). node_exporter has no glob
//! support here either way: the directory is one directory.

mod convert;

use super::{CollectError, Collector};
use crate::exposition::MetricFamily;
use convert::{convert, FileFamily, Reason, Rejected};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// One file read: its path (the `file` label), families and whole-second mtime.
struct Loaded {
    path: String,
    families: Vec<FileFamily>,
    mtime: f64,
}

pub struct TextFile {
    dir: Option<PathBuf>,
    max_file_bytes: u64,
    skipped: [AtomicU64; Reason::ALL.len()],
}

impl TextFile {
    pub fn new(dir: Option<PathBuf>, max_file_bytes: u64) -> Self {
        TextFile {
            dir,
            max_file_bytes,
            skipped: Default::default(),
        }
    }

    /// Reads every `.prom` file; true when any file (or the directory) failed.
    fn collect_dir(&self, dir: &Path, out: &mut Vec<MetricFamily>) -> bool {
        let (files, mut errored) = match prom_files(dir) {
            Ok(files) => (files, false),
            Err(e) => {
                let path = dir.display();
                tracing::error!(%path, error = %e, "Failed to read the textfile directory.");
                (Vec::new(), true)
            }
        };
        let mut loaded = Vec::with_capacity(files.len());
        for path in files {
            match self.load(&path) {
                Ok(l) => loaded.push(l),
                Err(r) => {
                    errored = true;
                    self.skipped[r.reason as usize].fetch_add(1, Ordering::Relaxed);
                    let path = path.display();
                    tracing::error!(%path, error = %r.msg, "Failed to collect textfile data.");
                }
            }
        }
        emit(loaded, out);
        errored
    }

    fn load(&self, path: &Path) -> Result<Loaded, Rejected> {
        let bytes = read_bounded(path, self.max_file_bytes)?;
        let text = std::str::from_utf8(&bytes).map_err(|e| Rejected {
            reason: Reason::NotUtf8,
            msg: e.to_string(),
        })?;
        let families = convert(text)?;
        // Stat only once parsed, as node_exporter does, so a failed file never looks fresh.
        let mtime = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(read_error)?;
        Ok(Loaded {
            path: path.to_string_lossy().into_owned(),
            families,
            mtime: whole_seconds(mtime),
        })
    }

    fn skipped_family(&self) -> MetricFamily {
        let mut f = MetricFamily::counter(
            "nodepulse_textfile_files_skipped_total",
            "Textfile collector files skipped (unreadable, too large, invalid), by reason.",
        );
        for reason in Reason::ALL {
            let n = self.skipped[reason as usize].load(Ordering::Relaxed);
            f.push(&[("reason", reason.label())], n as f64);
        }
        f
    }
}

impl Collector for TextFile {
    fn name(&self) -> &'static str {
        "textfile"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let mut errored = false;
        if let Some(dir) = &self.dir {
            errored = self.collect_dir(dir, out);
            out.push(self.skipped_family());
        }
        out.push(
            MetricFamily::gauge(
                "node_textfile_scrape_error",
                "1 if there was an error opening or reading a file, 0 otherwise",
            )
            .value(if errored { 1.0 } else { 0.0 }),
        );
        Ok(())
    }
}

/// The directory's `*.prom` entries, sorted by name (Go's `os.ReadDir` order).
fn prom_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        if name.as_encoded_bytes().ends_with(b".prom") {
            names.push(name);
        }
    }
    names.sort();
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// Reads at most `max` bytes; a longer file (even one that grew after the size check)
/// is refused instead of filling memory.
fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, Rejected> {
    let file = std::fs::File::open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    if meta.is_dir() {
        // node_exporter's parser swallows the EISDIR read error: a directory named
        // `*.prom` reads as an empty file (and gets an mtime).
        return Ok(Vec::new());
    }
    let len = meta.len();
    let too_large = || Rejected {
        reason: Reason::TooLarge,
        msg: format!("file is larger than the {max}-byte limit"),
    };
    if len > max {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

fn read_error(e: std::io::Error) -> Rejected {
    Rejected {
        reason: Reason::ReadError,
        msg: e.to_string(),
    }
}

/// node_exporter reports `UnixNano() / 1e9` in integer arithmetic: whole seconds.
fn whole_seconds(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as f64,
        Err(e) => -(e.duration().as_secs() as f64),
    }
}

/// Emits every file's families and the mtimes. A family without HELP is described by
/// every file it appears in; a family whose (final) HELP differs from the first file's
/// is left out, as client_golang's registry rejects it in node_exporter.
fn emit(mut loaded: Vec<Loaded>, out: &mut Vec<MetricFamily>) {
    let helps = final_helps(&loaded);
    let mut first_help: HashMap<String, String> = HashMap::new();
    let mut helps = helps.into_iter();
    for l in &mut loaded {
        for f in std::mem::take(&mut l.families) {
            let help = helps.next().unwrap_or_default();
            let first = first_help
                .entry(f.name.clone())
                .or_insert_with(|| help.clone());
            if *first != help {
                tracing::warn!(metric = %f.name, file = %l.path, "Textfile metric already read with another help text; left out.");
                continue;
            }
            let mut family = MetricFamily::new(f.name, help, f.kind);
            family.samples = f.samples;
            out.push(family);
        }
    }
    let mut mtimes = MetricFamily::gauge(
        "node_textfile_mtime_seconds",
        "Unixtime mtime of textfiles successfully read.",
    );
    for l in &loaded {
        mtimes.push(&[("file", &l.path)], l.mtime);
    }
    if !mtimes.samples.is_empty() {
        out.push(mtimes);
    }
}

/// Each family's HELP in file order: its own, or every file that has the family.
fn final_helps(loaded: &[Loaded]) -> Vec<String> {
    let mut sources: HashMap<&str, Vec<&str>> = HashMap::new();
    for l in loaded {
        for f in &l.families {
            sources.entry(&f.name).or_default().push(&l.path);
        }
    }
    let families = loaded.iter().flat_map(|l| &l.families);
    families
        .map(|f| match &f.help {
            Some(h) => h.clone(),
            None => {
                let files = sources.get(f.name.as_str()).map(|v| v.join(", "));
                format!("Metric read from {}", files.unwrap_or_default())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
