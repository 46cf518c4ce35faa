//! A node's container log tree as kubelet and the container runtime write it, with a
//! model of where every message's bytes are, for the model-based pipeline test
//! (tests/logs_model.rs): `<pods>/<ns>_<pod>_<uid>/<container>/<N>.log` files of CRI
//! lines (F lines and P…F partial sequences, stdout and stderr interleaved), the
//! `<containers>/<pod>_<ns>_<container>-<id>.log` symlinks, kubelet's rename rotation
//! (the runtime still writing to the renamed file for a moment), logrotate's
//! copytruncate, gzip and deletion of old rotated files, container restarts (`N+1.log`)
//! and pod deletion.
//!
//! The model knows, for each file, the messages with a piece in it now and the messages
//! written straight into it (not copied there): the test may unlink a file only when
//! the agent cannot lose anything by it (tests/model/ops.rs).

mod rotate;
mod write;

use super::rng::Rng;
use std::fs::{self, File};
use std::path::PathBuf;

pub const STREAMS: [&str; 2] = ["stdout", "stderr"];

/// One physical file (one inode) the test created, under its current name.
pub struct LogFile {
    pub path: PathBuf,
    pub on_disk: bool,
    /// Messages with a piece in the file now, in order.
    pub messages: Vec<u64>,
    /// Messages with a piece written into this file since it was last truncated: one of
    /// them delivered proves the agent opened this very file.
    pub unique: Vec<u64>,
}

/// One message written: what the receiver must get once, in order per stream.
pub struct Message {
    pub instance: usize,
    pub stream: usize,
    pub text: String,
    pub timestamp_ns: i64,
    /// Written in more than one piece (P…F).
    pub split: bool,
}

/// One container instance (`<N>.log` and its rotated files).
pub struct Instance {
    pub namespace: String,
    pub pod: String,
    pub uid: String,
    pub container: String,
    pub restart: u32,
    dir: PathBuf,
    pub live: usize,
    /// Rotated files on disk, oldest first.
    pub rotated: Vec<usize>,
    /// Pieces not written yet of a message begun on each stream.
    pending: [Vec<(u64, String)>; 2],
    pub running: bool,
    symlink: PathBuf,
}

pub struct Node {
    pub pods: PathBuf,
    pub containers: PathBuf,
    pub files: Vec<LogFile>,
    pub messages: Vec<Message>,
    pub instances: Vec<Instance>,
    pods_made: usize,
    stamp: u64,
}

impl Node {
    pub fn new(pods: PathBuf, containers: PathBuf) -> Node {
        fs::create_dir_all(&pods).unwrap();
        fs::create_dir_all(&containers).unwrap();
        Node {
            pods,
            containers,
            files: Vec::new(),
            messages: Vec::new(),
            instances: Vec::new(),
            pods_made: 0,
            stamp: 0,
        }
    }

    pub fn running(&self) -> Vec<usize> {
        let running = self.instances.iter().enumerate().filter(|(_, i)| i.running);
        running.map(|(n, _)| n).collect()
    }

    /// A pod with one or two containers, each with an empty `0.log`.
    pub fn new_pod(&mut self, rng: &mut Rng) {
        let p = self.pods_made;
        self.pods_made += 1;
        let (ns, pod, uid) = (
            format!("ns{}", p % 2),
            format!("pod-{p}"),
            format!("uid-{p}"),
        );
        for c in 0..1 + rng.below(2) {
            let container = format!("c{c}");
            let dir = self.pods.join(format!("{ns}_{pod}_{uid}")).join(&container);
            fs::create_dir_all(&dir).unwrap();
            self.start_instance(ns.clone(), pod.clone(), uid.clone(), container, 0);
        }
    }

    fn start_instance(&mut self, ns: String, pod: String, uid: String, c: String, n: u32) {
        let dir = self.pods.join(format!("{ns}_{pod}_{uid}")).join(&c);
        let live = self.create(dir.join(format!("{n}.log")));
        let id = self.instances.len();
        let symlink = self.containers.join(format!("{pod}_{ns}_{c}-{id:064}.log"));
        std::os::unix::fs::symlink(&self.files[live].path, &symlink).unwrap();
        self.instances.push(Instance {
            namespace: ns,
            pod,
            uid,
            container: c,
            restart: n,
            dir,
            live,
            rotated: Vec::new(),
            pending: [Vec::new(), Vec::new()],
            running: true,
            symlink,
        });
    }

    fn create(&mut self, path: PathBuf) -> usize {
        File::create(&path).unwrap();
        self.files.push(LogFile {
            path,
            on_disk: true,
            messages: Vec::new(),
            unique: Vec::new(),
        });
        self.files.len() - 1
    }
    /// The files of an instance still on disk.
    pub fn files_of(&self, i: usize) -> Vec<usize> {
        let inst = &self.instances[i];
        let all = inst.rotated.iter().copied().chain([inst.live]);
        all.filter(|&f| self.files[f].on_disk).collect()
    }

    /// The container restarts: the instance stops (its message finished), `N+1.log`
    /// and a new symlink appear. Returns the new instance.
    pub fn restart(&mut self, i: usize) -> usize {
        self.finish_pending(i);
        self.instances[i].running = false;
        let inst = &self.instances[i];
        let (ns, pod, uid, c) = (
            inst.namespace.clone(),
            inst.pod.clone(),
            inst.uid.clone(),
            inst.container.clone(),
        );
        let n = inst.restart + 1;
        self.start_instance(ns, pod, uid, c, n);
        self.instances.len() - 1
    }

    /// Stopped instances of the same container older than the latest stopped one:
    /// kubelet's container GC removes them (their files and symlink).
    pub fn gc_candidates(&self, i: usize) -> Vec<usize> {
        let me = &self.instances[i];
        let mut dead: Vec<usize> = (0..self.instances.len())
            .filter(|&j| {
                let o = &self.instances[j];
                !o.running && o.uid == me.uid && o.container == me.container && self.on_disk(j)
            })
            .collect();
        dead.pop(); // the latest stays
        dead
    }

    fn on_disk(&self, i: usize) -> bool {
        !self.files_of(i).is_empty()
    }

    /// Removes an instance's symlink (after its files were unlinked).
    pub fn remove_symlink(&self, i: usize) {
        let _ = fs::remove_file(&self.instances[i].symlink);
    }

    /// The instances of `i`'s pod.
    pub fn pod_of(&self, i: usize) -> Vec<usize> {
        let uid = &self.instances[i].uid;
        let same = |j: &usize| self.instances[*j].uid == *uid;
        (0..self.instances.len()).filter(same).collect()
    }

    /// Stops every instance of the pod (their messages finished).
    pub fn stop_pod(&mut self, i: usize) {
        for j in self.pod_of(i) {
            if self.instances[j].running {
                self.finish_pending(j);
                self.instances[j].running = false;
            }
        }
    }

    /// Removes the pod's directory (after each file was unlinked or found removable).
    pub fn remove_pod_dir(&mut self, i: usize) {
        let inst = &self.instances[i];
        let dir = self
            .pods
            .join(format!("{}_{}_{}", inst.namespace, inst.pod, inst.uid));
        for j in self.pod_of(i) {
            for f in self.files_of(j) {
                self.files[f].on_disk = false;
            }
            self.instances[j].rotated.clear();
        }
        fs::remove_dir_all(dir).unwrap();
    }

    /// A readable name for traces.
    pub fn name(&self, i: usize) -> String {
        let inst = &self.instances[i];
        format!("{}/{}/{}", inst.pod, inst.container, inst.restart)
    }

    pub fn file_name(&self, f: usize) -> String {
        let path = &self.files[f].path;
        path.strip_prefix(&self.pods)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}
