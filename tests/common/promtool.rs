//! `promtool check metrics` on an exposition body: its parse error, if any, and its lint
//! findings as (metric name, message) pairs.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// promtool's verdict on one body.
pub struct Lint {
    /// "error while linting: ..." (exit code 1): the body did not parse.
    pub parse_error: Option<String>,
    /// `(metric name, message)` per finding line.
    pub findings: BTreeSet<(String, String)>,
}

pub fn check_metrics(promtool: &Path, body: &str) -> Lint {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting promtool");
    let mut stdin = child.stdin.take().expect("promtool stdin");
    stdin
        .write_all(body.as_bytes())
        .expect("writing to promtool");
    drop(stdin);
    let out = child.wait_with_output().expect("waiting for promtool");
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    let parse_error = text
        .lines()
        .find(|l| l.starts_with("error while linting"))
        .map(str::to_owned)
        .or_else(|| (out.status.code() == Some(1)).then(|| format!("exit 1: {text}")));
    let findings = text
        .lines()
        .filter(|l| !l.starts_with("error while linting"))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, msg)| (name.to_owned(), msg.trim().to_owned()))
        .collect();
    Lint {
        parse_error,
        findings,
    }
}
