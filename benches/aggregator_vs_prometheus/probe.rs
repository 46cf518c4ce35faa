//! What the harness reads off a running server from outside: resident memory
//! (`VmRSS` in /proc/<pid>/status) and its data directory — total bytes, and the
//! persisted blocks (directories holding a `meta.json`, as both stores write them) with
//! the samples their `stats.numSamples` counts.

use std::path::Path;
use std::time::{Duration, Instant};

/// Resident memory of `pid` in bytes.
/// VmRSS split as the kernel counts it: anonymous (heap, stacks), file-backed (mapped
/// files, the binary) and shared memory, in MiB.
pub fn rss_parts(pid: u32) -> String {
    let s = procfs::process::Process::new(pid as i32)
        .and_then(|p| p.status())
        .expect("/proc/<pid>/status");
    let mib = |kib: Option<u64>| kib.unwrap_or(0) as f64 / 1024.0;
    format!(
        "anon {:.1} MiB, file {:.1} MiB, shmem {:.1} MiB",
        mib(s.rssanon),
        mib(s.rssfile),
        mib(s.rssshmem)
    )
}

pub fn rss_bytes(pid: u32) -> u64 {
    let status = procfs::process::Process::new(pid as i32)
        .and_then(|p| p.status())
        .expect("/proc/<pid>/status");
    status.vmrss.unwrap_or(0) * 1024
}

/// A data directory's size on disk, split.
#[derive(Debug, Default, Clone, Copy)]
pub struct Disk {
    pub total_bytes: u64,
    pub block_bytes: u64,
    pub blocks: u64,
    pub block_samples: u64,
}

/// Measures `dir` (a file vanishing mid-walk, as a compaction deletes it, is skipped).
pub fn disk(dir: &Path) -> Disk {
    let mut d = Disk {
        total_bytes: tree_bytes(dir),
        ..Disk::default()
    };
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Some(samples) = block_samples(&path) else {
            continue;
        };
        d.blocks += 1;
        d.block_samples += samples;
        d.block_bytes += tree_bytes(&path);
    }
    d
}

/// `stats.numSamples` of a finished block directory (not a `.tmp` one being written).
fn block_samples(path: &Path) -> Option<u64> {
    if path.extension().is_some_and(|e| e == "tmp") {
        return None;
    }
    let meta = std::fs::read_to_string(path.join("meta.json")).ok()?;
    let meta: serde_json::Value = serde_json::from_str(&meta).ok()?;
    meta["stats"]["numSamples"].as_u64()
}

/// Bytes of the files under `path` (allocated size would hide small-file overhead
/// differences; the apparent length is what both stores wrote).
fn tree_bytes(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| tree_bytes(&e.path()))
        .sum()
}

/// Waits until every directory in `dirs` holds a block, polling; `dirs[0]` (the
/// reference) for up to `limit`, the others for `grace` more once it has one. Returns
/// how long it waited.
pub fn wait_for_blocks(dirs: &[&Path], limit: Duration, grace: Duration) -> Duration {
    let began = Instant::now();
    let mut deadline = began + limit;
    let mut reference_done = false;
    while Instant::now() < deadline {
        let done: Vec<bool> = dirs.iter().map(|d| disk(d).blocks > 0).collect();
        if done.iter().all(|d| *d) {
            break;
        }
        if done[0] && !reference_done {
            reference_done = true;
            deadline = deadline.min(Instant::now() + grace);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    began.elapsed()
}

/// The value of counter `name` on the server's `/metrics` (0 when absent or down).
pub fn counter(base_url: &str, name: &str) -> f64 {
    let body = reqwest::blocking::get(format!("{base_url}/metrics"))
        .and_then(|r| r.text())
        .unwrap_or_default();
    body.lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .find_map(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Waits until each server's compaction has finished, not just written its block: the
/// head truncated and the WAL truncated behind it (`counters[i]` on server `i` is at
/// least 1), so resident memory is measured after the compaction let go of what it
/// freed, on both alike. Returns how long it waited (at most `limit`).
pub fn wait_for_counters(base_urls: &[String], counters: &[&str], limit: Duration) -> Duration {
    let began = Instant::now();
    while began.elapsed() < limit {
        let done = base_urls
            .iter()
            .zip(counters)
            .all(|(url, name)| counter(url, name) >= 1.0);
        if done {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    began.elapsed()
}
