//! What the image tests read: the Dockerfile's instructions, the build context as
//! Docker sees it (a checkout's files minus `.dockerignore`), and Cargo's targets.

use globset::{GlobBuilder, GlobMatcher};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The Dockerfile's instructions: (keyword, arguments), continuation lines joined.
pub fn instructions() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).expect("Dockerfile");
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                let (k, args) = current.split_once(' ').unwrap_or((&current, ""));
                out.push((k.to_uppercase(), args.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

/// The final stage's instructions (after its last FROM).
pub fn runtime_stage(all: &[(String, String)]) -> &[(String, String)] {
    let last = all.iter().rposition(|(k, _)| k == "FROM").expect("a FROM");
    &all[last..]
}

/// A COPY's flags, sources and destination.
pub fn copy_parts(args: &str) -> (Vec<&str>, Vec<&str>, &str) {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (flags, rest): (Vec<&str>, Vec<&str>) = words.iter().partition(|w| w.starts_with("--"));
    let (dest, sources) = rest.split_last().expect("COPY <src>... <dest>");
    (flags, sources.to_vec(), dest)
}

/// .dockerignore as Docker reads it: patterns relative to the context root, `!` for
/// exceptions, the last matching pattern deciding; a path is matched when it or one of
/// its parent directories is.
pub struct DockerIgnore(Vec<(bool, GlobMatcher)>);

impl DockerIgnore {
    pub fn load() -> DockerIgnore {
        let text =
            std::fs::read_to_string(Path::new(ROOT).join(".dockerignore")).expect(".dockerignore");
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (exception, p) = l.strip_prefix('!').map_or((false, l), |p| (true, p));
                let p = p.trim_start_matches('/');
                let glob = GlobBuilder::new(p).literal_separator(true).build();
                (
                    exception,
                    glob.unwrap_or_else(|e| panic!("{p}: {e}"))
                        .compile_matcher(),
                )
            })
            .collect();
        DockerIgnore(patterns)
    }

    pub fn ignores(&self, path: &str) -> bool {
        let mut prefixes = vec![path];
        prefixes.extend(
            path.char_indices()
                .filter(|(_, c)| *c == '/')
                .map(|(i, _)| &path[..i]),
        );
        let mut ignored = false;
        for (exception, glob) in &self.0 {
            if prefixes.iter().any(|p| glob.is_match(p)) {
                ignored = !exception;
            }
        }
        ignored
    }
}

/// The files of a clean checkout (the build context), minus the ignored ones.
pub fn context() -> BTreeSet<String> {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(ROOT)
        .output()
        .expect("running git ls-files");
    assert!(out.status.success(), "git ls-files failed");
    let ignore = DockerIgnore::load();
    (String::from_utf8(out.stdout)
        .expect("UTF-8 paths")
        .split('\0'))
    .filter(|p| !p.is_empty() && !ignore.ignores(p))
    .map(str::to_string)
    .collect()
}

/// Whether `file` is `source` or lies under it.
pub fn covers(source: &str, file: &str) -> bool {
    let source = source.trim_end_matches('/');
    file == source || file.starts_with(&format!("{source}/"))
}

/// Cargo's targets (kind, name, path relative to the root), from `cargo metadata`.
pub fn cargo_targets() -> Vec<(String, String, String)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(ROOT)
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let targets = v["packages"][0]["targets"]
        .as_array()
        .cloned()
        .expect("targets");
    targets
        .iter()
        .map(|t| {
            let path = t["src_path"].as_str().expect("a path");
            let rel = path
                .strip_prefix(&format!("{ROOT}/"))
                .expect("under the root");
            let kind = t["kind"][0].as_str().expect("a kind").to_string();
            (
                kind,
                t["name"].as_str().expect("a name").to_string(),
                rel.to_string(),
            )
        })
        .collect()
}
