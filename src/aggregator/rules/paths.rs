//! Which rule files a set of patterns names, as Go's `filepath.Glob` (which Prometheus
//! uses for `rule_files`): `*`, `?` and `[...]` within one path component, in any
//! component; matches sorted per directory; a pattern without wildcards names the
//! file if it exists; a pattern that matches nothing names nothing.

use globset::GlobBuilder;
use std::path::{Path, PathBuf};

/// The files `patterns` match, in pattern order, each once.
pub fn expand(patterns: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in patterns {
        for f in expand_one(p)? {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn expand_one(pattern: &str) -> Result<Vec<PathBuf>, String> {
    if !has_magic(pattern) {
        let p = PathBuf::from(pattern);
        return Ok(if p.symlink_metadata().is_ok() {
            vec![p]
        } else {
            vec![]
        });
    }
    let path = Path::new(pattern);
    let mut current: Vec<PathBuf> = vec![PathBuf::new()];
    for comp in path.components() {
        let part = comp.as_os_str().to_string_lossy();
        let mut next = Vec::new();
        for base in &current {
            if has_magic(&part) {
                next.extend(matching(base, &part)?);
            } else {
                next.push(base.join(comp.as_os_str()));
            }
        }
        current = next;
    }
    Ok(current
        .into_iter()
        .filter(|p| p.symlink_metadata().is_ok())
        .collect())
}

/// Entries of `dir` whose names match `part`, sorted.
fn matching(dir: &Path, part: &str) -> Result<Vec<PathBuf>, String> {
    let glob = GlobBuilder::new(part)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("{part}: {e}"))?
        .compile_matcher();
    let read_dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(read_dir) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .filter(|n| glob.is_match(Path::new(n)))
        .collect();
    names.sort();
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_expand_like_filepath_glob() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["b.yml", "a.yml", "c.yaml", "sub/d.yml"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        let d = dir.path().display();
        let got = expand(&[
            format!("{d}/*.yml"),
            format!("{d}/*/*.yml"),
            format!("{d}/c.yaml"),
            format!("{d}/none.yml"),
        ])
        .unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.yml", "b.yml", "sub/d.yml", "c.yaml"]);
    }
}
