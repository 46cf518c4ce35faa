//! What a container sees at its mounts, written under a temp root: ConfigMap and Secret
//! volumes as the kubelet lays them out (a timestamped dir, `..data` pointing at it,
//! each key a symlink through `..data`; a `subPath` mount as a plain file), other
//! volumes as empty dirs. Absolute paths that lie under a mount, in args and in the
//! mounted YAML files, are re-rooted so the programs' own loaders read the layout.

use crate::pod::Pod;
use crate::render::Rendered;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The content of every Secret key in the layout.
pub const TOKEN: &str = "test-token";

const TIMESTAMPED: &str = "..2026_12_06_00_00_00.000000001";

pub struct Layout {
    root: tempfile::TempDir,
    mount_paths: Vec<String>,
}

impl Layout {
    /// Writes what `container` of `pod` sees; ConfigMaps come from `r`.
    pub fn write(r: &Rendered, pod: &Pod, container: &str) -> Layout {
        let mounts = pod.mounts(container);
        let layout = Layout {
            root: tempfile::tempdir().unwrap(),
            mount_paths: mounts
                .iter()
                .map(|(m, _)| m["mountPath"].as_str().unwrap().to_owned())
                .collect(),
        };
        for (mount, volume) in &mounts {
            layout.write_mount(r, mount, volume);
        }
        layout
    }

    /// `path` (absolute, as the container sees it) in the layout.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root.path().join(path.trim_start_matches('/'))
    }

    /// `args` with each `--flag=/path` under a mount re-rooted.
    pub fn args(&self, args: &[String]) -> Vec<String> {
        args.iter()
            .map(|a| match a.split_once('=') {
                Some((flag, value)) => match self.reroot(value) {
                    Some(p) => format!("{flag}={p}"),
                    None => a.clone(),
                },
                None => a.clone(),
            })
            .collect()
    }

    fn reroot(&self, value: &str) -> Option<String> {
        let under = self
            .mount_paths
            .iter()
            .any(|m| value.starts_with('/') && Path::new(value).starts_with(m));
        under.then(|| self.path(value).display().to_string())
    }

    fn write_mount(&self, r: &Rendered, mount: &Value, volume: &Value) {
        let at = self.path(mount["mountPath"].as_str().unwrap());
        let files = if let Some(name) = volume["configMap"]["name"].as_str() {
            let data = &r.get("ConfigMap", name)["data"];
            keys(&volume["configMap"], data, |k| {
                data[k].as_str().unwrap().to_owned()
            })
        } else if volume["secret"].is_object() {
            keys(&volume["secret"], &Value::Null, |_| format!("{TOKEN}\n"))
        } else {
            std::fs::create_dir_all(&at).unwrap();
            return;
        };
        let files: Vec<(String, String)> = files
            .into_iter()
            .map(|(path, text)| (path, self.reroot_yaml(&text)))
            .collect();
        match mount["subPath"].as_str() {
            Some(key) => {
                let (_, text) = files.iter().find(|(p, _)| p == key).expect("subPath key");
                std::fs::create_dir_all(at.parent().unwrap()).unwrap();
                std::fs::write(&at, text).unwrap();
            }
            None => write_atomic_dir(&at, &files),
        }
    }

    /// `text` with absolute paths under a mount re-rooted, if it is YAML holding any.
    fn reroot_yaml(&self, text: &str) -> String {
        let Ok(mut doc) = serde_norway::from_str::<Value>(text) else {
            return text.to_owned();
        };
        if self.reroot_strings(&mut doc) {
            serde_norway::to_string(&doc).unwrap()
        } else {
            text.to_owned()
        }
    }

    fn reroot_strings(&self, v: &mut Value) -> bool {
        match v {
            Value::String(s) => match self.reroot(s) {
                Some(p) => {
                    *s = p;
                    true
                }
                None => false,
            },
            Value::Array(a) => a.iter_mut().fold(false, |c, v| self.reroot_strings(v) | c),
            Value::Object(o) => o
                .values_mut()
                .fold(false, |c, v| self.reroot_strings(v) | c),
            _ => false,
        }
    }
}

/// The files a ConfigMap or Secret volume holds: its `items`, or every key of `data`.
fn keys(source: &Value, data: &Value, content: impl Fn(&str) -> String) -> Vec<(String, String)> {
    match source["items"].as_array() {
        Some(items) => items
            .iter()
            .map(|i| {
                let key = i["key"].as_str().unwrap();
                (i["path"].as_str().unwrap().to_owned(), content(key))
            })
            .collect(),
        None => {
            let data = data
                .as_object()
                .expect("a Secret volume here lists its items");
            data.keys().map(|k| (k.clone(), content(k))).collect()
        }
    }
}

/// The kubelet's atomic writer layout: `dir/..<time>/<path>`, `..data` → `..<time>`,
/// `<path>` → `..data/<path>`.
fn write_atomic_dir(dir: &Path, files: &[(String, String)]) {
    let stamped = dir.join(TIMESTAMPED);
    std::fs::create_dir_all(&stamped).unwrap();
    std::os::unix::fs::symlink(TIMESTAMPED, dir.join("..data")).unwrap();
    for (path, text) in files {
        std::fs::write(stamped.join(path), text).unwrap();
        std::os::unix::fs::symlink(Path::new("..data").join(path), dir.join(path)).unwrap();
    }
}
