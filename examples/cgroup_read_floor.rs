//! The kernel's own cost of rendering a list of cgroup files, with nothing of the agent
//! in the way: the floor under the containers collector's CPU per scrape. Reads every
//! file once per pass, held open (one `pread` at offset 0, as the collector does), then
//! opened, read and closed per pass; prints CPU ms per pass (getrusage, user + system)
//! per file name and in total.
//!
//! Run: `cargo run --release --example cgroup_read_floor -- LIST [PASSES]`, LIST holding
//! one file path per line (`benches/real_cgroups/run.sh` writes it).

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::Duration;

fn cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(list) = args.get(1) else {
        eprintln!("usage: cgroup_read_floor LIST [PASSES]");
        std::process::exit(2);
    };
    let passes: u32 = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(50);
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in std::fs::read_to_string(list)?
        .lines()
        .filter(|l| !l.is_empty())
    {
        let name = path.rsplit('/').next().unwrap_or(path).to_owned();
        by_name.entry(name).or_default().push(path.to_owned());
    }
    let mut buf = vec![0u8; 64 * 1024];
    let (mut held_total, mut open_total) = (Duration::ZERO, Duration::ZERO);
    for (name, paths) in &by_name {
        let files = paths
            .iter()
            .map(File::open)
            .collect::<Result<Vec<_>, _>>()?;
        let t0 = cpu();
        for _ in 0..passes {
            for f in &files {
                f.read_at(&mut buf, 0)?;
            }
        }
        let t1 = cpu();
        drop(files);
        let t2 = cpu();
        for _ in 0..passes {
            for p in paths {
                File::open(p)?.read_at(&mut buf, 0)?;
            }
        }
        let t3 = cpu();
        let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(passes) / paths.len() as f64;
        println!(
            "{name:<45} x{:<5} held {:6.2} us  open+read+close {:6.2} us",
            paths.len(),
            per(t1 - t0),
            per(t3 - t2)
        );
        (held_total, open_total) = (held_total + (t1 - t0), open_total + (t3 - t2));
    }
    let per_pass = |d: Duration| d.as_secs_f64() * 1e3 / f64::from(passes);
    println!(
        "per pass: held {:.2} ms, open+read+close {:.2} ms",
        per_pass(held_total),
        per_pass(open_total)
    );
    Ok(())
}
