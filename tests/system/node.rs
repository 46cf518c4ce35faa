//! The node the whole-system test plays: one pod served by the fake Kubernetes API
//! (`shop/web-…`, pod label `app=web`, containers `app` and `proxy`), the `app`
//! container's cgroups in a cgroup v2 fixture (systemd driver, containerd ids matching
//! the pod's `containerStatuses`), and its kubelet log file, to which the test appends
//! CRI lines stamped with the current time. The lines are JSON application logs, so the
//! agent lifts their `level`, which the LogQL rule filters on.

use crate::cgroup_tree::node::{app, pod as pod_vals};
use crate::cgroup_tree::{Driver, Qos, Runtime, Tree, Vals, Version};
use crate::common::pods::{container_id, pod, uid, with_label, NODE};
use nodepulse::aggregator::notify::alert::rfc3339_nanos;
use serde_json::Value;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

pub const NAMESPACE: &str = "shop";
pub const POD: &str = "web-7d9f8b6c5d-abcde";
pub const CONTAINER: &str = "app";
/// The pod's `app` label, which the agent also makes a stream label.
pub const APP: &str = "web";

/// The temp tree (cgroups, log directories, the agent's data) and the pod in it.
pub struct Node {
    pub tree: Tree,
    pub uid: String,
    app_cgroup: PathBuf,
    log: PathBuf,
    written: usize,
}

impl Node {
    pub fn new() -> Node {
        let tree = Tree::new(Version::V2, Driver::Systemd, Runtime::Containerd);
        let uid = uid(1);
        let pod_rel = tree.pod_rel(&uid, Qos::Burstable);
        tree.cgroup_files(&pod_rel, &no_procs(pod_vals()));
        let app_rel = tree.container_rel(&pod_rel, &container_id(&uid, 0));
        tree.cgroup_files(&app_rel, &no_procs(app()));
        let log_dir = tree.path(&format!("log/pods/{NAMESPACE}_{POD}_{uid}/{CONTAINER}"));
        std::fs::create_dir_all(&log_dir).unwrap();
        std::fs::create_dir_all(tree.path("agent")).unwrap();
        Node {
            app_cgroup: tree.cgroup().join(app_rel),
            log: log_dir.join("0.log"),
            tree,
            uid,
            written: 0,
        }
    }

    /// The pod as the API server lists it.
    pub fn pod(&self) -> Value {
        with_label(pod(NAMESPACE, POD, &self.uid, NODE), "app", APP)
    }

    /// The agent's flags: this node's cgroups and logs, the real /proc and /sys.
    pub fn agent_args(&self, api: &str, push: &str) -> Vec<String> {
        vec![
            format!("--kube.api={api}"),
            format!("--node-name={NODE}"),
            format!("--sink.loki.url={push}"),
            format!("--logs.pods-dir={}", self.tree.path("log/pods").display()),
            format!(
                "--logs.containers-dir={}",
                self.tree.path("log/containers").display()
            ),
            format!("--data-dir={}", self.tree.path("agent").display()),
            format!(
                "--collector.containers.cgroup-root={}",
                self.tree.cgroup().display()
            ),
            "--logs.start-at=beginning".to_owned(),
        ]
    }

    /// The `app` container's working set as the fixture holds it (cAdvisor's: usage
    /// less inactive file pages).
    pub fn working_set() -> u64 {
        let v = app();
        v.memory_current - v.inactive_file
    }

    /// Sets the `app` container's `memory.current` (as the kernel would, in place).
    pub fn set_memory_current(&self, bytes: u64) {
        std::fs::write(self.app_cgroup.join("memory.current"), format!("{bytes}\n")).unwrap();
    }

    /// Appends `n` JSON lines at `level` to the `app` container's log, stamped now;
    /// returns them as written (the CRI message).
    pub fn log(&mut self, level: &str, n: usize) -> Vec<String> {
        let mut text = String::new();
        let mut lines = Vec::new();
        for _ in 0..n {
            self.written += 1;
            let message = format!("order {} {level}", self.written);
            let ts = rfc3339_nanos(SystemTime::now());
            let line = serde_json::json!({"level": level, "msg": message}).to_string();
            text.push_str(&format!("{ts} stdout F {line}\n"));
            lines.push(line);
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
        lines
    }
}

/// The fixture's values without process ids: the agent reads the real /proc, where
/// the fixture's pids may belong to anything.
fn no_procs(v: Vals) -> Vals {
    Vals { procs: vec![], ..v }
}
