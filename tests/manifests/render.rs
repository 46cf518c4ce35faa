//! `kubectl kustomize` of manifests/, alone or with components, parsed into JSON
//! values. Missing kubectl skips with an install hint, or fails under `CI=true`.

use serde::Deserialize;
use serde_json::Value;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The repository's manifests/ directory.
pub fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests")
}

/// The objects one render produced.
pub struct Rendered {
    pub objects: Vec<Value>,
}

impl Rendered {
    /// The object of `kind` named `name` (generated ConfigMaps by their full name,
    /// hash suffix included: take it from the volume that names it).
    pub fn get(&self, kind: &str, name: &str) -> &Value {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in the render"))
    }

    /// Every object of `kind`.
    pub fn all(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }
}

/// Renders manifests/ with `components` (paths under manifests/); `None` when kubectl
/// is missing outside CI.
pub fn render(components: &[&str]) -> Option<Rendered> {
    if components.is_empty() {
        return kustomize(&manifests_dir());
    }
    let mut text = "resources: [BASE]\ncomponents:\n".to_owned();
    for c in components {
        text.push_str(&format!("  - BASE/{c}\n"));
    }
    render_overlay(&text)
}

/// Renders the kustomization `text`, where `BASE` stands for manifests/. Kustomize takes
/// only relative paths to a base, and no base that contains its overlay: so the overlay
/// is a temp dir and `BASE` a relative path from it.
pub fn render_overlay(text: &str) -> Option<Rendered> {
    let dir = tempfile::tempdir().unwrap();
    let text = text.replace("BASE", &relative(dir.path(), &manifests_dir()));
    std::fs::write(dir.path().join("kustomization.yaml"), text).unwrap();
    kustomize(dir.path())
}

fn kustomize(dir: &Path) -> Option<Rendered> {
    if Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        let hint = "kubectl is missing: install it (https://kubernetes.io/docs/tasks/tools/)";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{hint}; CI=true needs it");
        }
        eprintln!("skipped: {hint}");
        return None;
    }
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("running kubectl kustomize");
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(Rendered {
        objects: documents(&String::from_utf8(out.stdout).unwrap()),
    })
}

/// `to` relative to the directory `from` (both absolute).
fn relative(from: &Path, to: &Path) -> String {
    let from = from.canonicalize().unwrap();
    let to = to.canonicalize().unwrap();
    let ups = from
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    let rest = to.strip_prefix("/").unwrap();
    format!("{}{}", "../".repeat(ups), rest.display())
}

/// The documents of a multi-document YAML stream.
pub fn documents(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("a YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}
