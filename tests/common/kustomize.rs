//! `kubectl kustomize` for the manifest tests: renders a kustomization directory into
//! its objects. Without kubectl the caller skips (after an install hint); under
//! `CI=true` a missing kubectl is a failure.

use serde::Deserialize;
use serde_norway::Value;
use std::path::Path;
use std::process::Command;

/// The repository root.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Whether kubectl runs here; says what to install when it does not.
pub fn have_kubectl() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let msg = "kubectl is missing: install it (https://kubernetes.io/docs/tasks/tools/)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("skipping: {msg}");
    }
    ok
}

/// The objects `kubectl kustomize dir` renders; panics with its error output.
pub fn render(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("running kubectl kustomize");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {stderr}",
        dir.display()
    );
    documents(&String::from_utf8_lossy(&out.stdout))
}

/// The documents of a multi-document YAML text (empty ones left out).
pub fn documents(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).expect("a YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

/// The object of `kind` named `name`; panics listing what is there.
pub fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"].as_str() == Some(kind) && o["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| {
            let have: Vec<String> = objects
                .iter()
                .map(|o| format!("{:?}/{:?}", o["kind"], o["metadata"]["name"]))
                .collect();
            panic!("no {kind} {name} among {have:?}")
        })
}
