//! A workload's pod template as the kubelet would run it: containers, args with
//! `$(VAR)` expanded from the env (downward-API fields given fixed values), ports by
//! name or number, and the mount (and volume) a container path lies under.

use crate::render::Rendered;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The value each downward-API field stands for in these tests.
pub fn field_value(path: &str) -> String {
    match path {
        "spec.nodeName" => "node-a".into(),
        other => format!("<{other}>"),
    }
}

pub struct Pod<'a> {
    pub workload: &'a Value,
}

/// Where a container path lies: the mount over it, that mount's volume, and the rest
/// of the path below the mount point.
pub struct Mount {
    pub mount: Value,
    pub volume: Value,
    pub rest: PathBuf,
}

impl Mount {
    pub fn read_only(&self) -> bool {
        self.mount["readOnly"] == true
    }

    /// The host path the container path reaches, for a hostPath volume.
    pub fn host_path(&self) -> Option<PathBuf> {
        let base = self.volume["hostPath"]["path"].as_str()?;
        Some(Path::new(base).join(&self.rest))
    }
}

impl<'a> Pod<'a> {
    pub fn of(r: &'a Rendered, kind: &str, name: &str) -> Pod<'a> {
        Pod {
            workload: r.get(kind, name),
        }
    }

    pub fn spec(&self) -> &'a Value {
        &self.workload["spec"]["template"]["spec"]
    }

    pub fn annotation(&self, key: &str) -> &'a str {
        self.workload["spec"]["template"]["metadata"]["annotations"][key]
            .as_str()
            .unwrap_or_else(|| panic!("no annotation {key}"))
    }

    pub fn container(&self, name: &str) -> &'a Value {
        self.spec()["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no container {name}"))
    }

    /// The container's args with `$(VAR)` replaced as the kubelet does.
    pub fn args(&self, container: &str) -> Vec<String> {
        let c = self.container(container);
        let env: Vec<(String, String)> = c["env"]
            .as_array()
            .map(|a| a.iter().map(env_value).collect())
            .unwrap_or_default();
        c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let mut s = a.as_str().unwrap().to_owned();
                for (name, value) in &env {
                    s = s.replace(&format!("$({name})"), value);
                }
                s
            })
            .collect()
    }

    /// A port given by name (a containerPort's) or number.
    pub fn port(&self, container: &str, port: &Value) -> u16 {
        if let Some(n) = port.as_u64() {
            return n as u16;
        }
        let name = port.as_str().unwrap();
        self.container(container)["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no port named {name}"))["containerPort"]
            .as_u64()
            .unwrap() as u16
    }

    /// The volume named `name`: the pod's, or a StatefulSet's claim template.
    pub fn volume(&self, name: &str) -> Value {
        let own = self.spec()["volumes"]
            .as_array()
            .and_then(|vs| vs.iter().find(|v| v["name"] == name).cloned());
        own.or_else(|| {
            self.workload["spec"]["volumeClaimTemplates"]
                .as_array()?
                .iter()
                .find(|t| t["metadata"]["name"] == name)
                .map(|t| json!({"name": name, "persistentVolumeClaim": t["spec"]}))
        })
        .unwrap_or_else(|| panic!("no volume {name}"))
    }

    /// The container's mounts with their volumes.
    pub fn mounts(&self, container: &str) -> Vec<(Value, Value)> {
        self.container(container)["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m.clone(), self.volume(m["name"].as_str().unwrap())))
            .collect()
    }

    /// The innermost mount `path` lies under, if any.
    pub fn mount_of(&self, container: &str, path: &Path) -> Option<Mount> {
        self.mounts(container)
            .into_iter()
            .filter_map(|(mount, volume)| {
                let at = mount["mountPath"].as_str().unwrap().to_owned();
                let rest = path.strip_prefix(&at).ok()?.to_owned();
                Some((
                    at.len(),
                    Mount {
                        mount,
                        volume,
                        rest,
                    },
                ))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, m)| m)
    }
}

fn env_value(e: &Value) -> (String, String) {
    let name = e["name"].as_str().unwrap().to_owned();
    let value = match (
        e["value"].as_str(),
        e["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
    ) {
        (Some(v), _) => v.to_owned(),
        (None, Some(field)) => field_value(field),
        _ => panic!("env {name}: only values and fieldRefs are expanded here"),
    };
    (name, value)
}
