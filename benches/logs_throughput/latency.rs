//! The latency phase: one container writes probe lines at a steady rate (1,000 lines/s
//! by default) into a fresh log root while the agent runs; each line carries its write
//! time (`t=<ns since epoch>`) and the receiver records when it acknowledged it.

use crate::corpus::{cri_prefix, Rng};
use crate::receiver::now_ns;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Lines written per tick: 10 ms ticks keep the rate smooth without a syscall per line.
const TICK: Duration = Duration::from_millis(10);

/// Creates the probe container's (empty) log under `<root>/pods`, before the agent
/// starts: the phase measures tailing, not how soon a new pod is discovered.
pub fn create_probe_log(root: &Path) -> io::Result<PathBuf> {
    let dir = root.join("pods/bench_probe-0_uid-probe/app");
    fs::create_dir_all(&dir)?;
    let path = dir.join("0.log");
    OpenOptions::new().create(true).append(true).open(&path)?;
    Ok(path)
}

/// Writes `rate` probe lines per second for `secs` seconds to `path`. Returns the
/// lines written.
pub fn write_probes(path: &Path, rate: u64, secs: u64) -> io::Result<u64> {
    let mut file = OpenOptions::new().append(true).open(path)?;
    let start = Instant::now();
    let total = rate * secs;
    let mut rng = Rng::new(7);
    let (mut written, mut buf) = (0u64, Vec::with_capacity(64 * 1024));
    let mut next = start;
    while written < total {
        next += TICK;
        let due = (rate as u128 * next.duration_since(start).as_millis() / 1000) as u64;
        buf.clear();
        while written < due.min(total) {
            let ns = now_ns();
            cri_prefix(&mut buf, ns, "stdout", false);
            let pad = 40 + rng.below(160) as usize;
            let _ = write!(
                buf,
                "latency probe seq={written} t={ns} {}",
                "x".repeat(pad)
            );
            buf.push(b'\n');
            written += 1;
        }
        file.write_all(&buf)?;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    Ok(written)
}

/// p50, p99 and max of `ns`, in milliseconds (sorts it).
pub fn percentiles(ns: &mut [u64]) -> (f64, f64, f64) {
    if ns.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 * q).ceil() as usize).clamp(1, ns.len()) - 1];
    let ms = |v: u64| v as f64 / 1e6;
    (ms(at(0.50)), ms(at(0.99)), ms(ns[ns.len() - 1]))
}
