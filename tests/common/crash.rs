//! The two halves of a crash test: the child (this test binary re-executed to run an
//! ignored test) prints `ack <thread> <n>` after each write returns; the parent reads
//! the acknowledgements and SIGKILLs the child after enough of them.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Child side: reports write `n` of thread `t` acknowledged.
pub fn ack(t: u64, n: u64) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ack {t} {n}").unwrap();
    out.flush().unwrap();
}

/// Parent side: runs the ignored test `child` with `env` set to `dir`, SIGKILLs it once
/// `kill_after` writes are acknowledged, and returns every `(thread, n)` acknowledged
/// (acks already in the pipe when it died included).
pub fn acks_until_killed(
    child: &str,
    env: &str,
    dir: &Path,
    kill_after: usize,
) -> HashSet<(u64, u64)> {
    let mut proc = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", child, "--nocapture"])
        .env(env, dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(proc.stdout.take().unwrap());
    let mut acked = HashSet::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let Some((t, n)) = line.strip_prefix("ack ").and_then(|a| a.split_once(' ')) else {
            continue;
        };
        acked.insert((t.parse::<u64>().unwrap(), n.parse::<u64>().unwrap()));
        if acked.len() == kill_after {
            proc.kill().unwrap(); // SIGKILL
        }
    }
    let status = proc.wait().unwrap();
    assert!(
        acked.len() >= kill_after && !status.success(),
        "child ended on its own: {status}"
    );
    acked
}
