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
//! the agent cannot lose anything by it ([`Node::may_unlink`]).

use super::rng::Rng;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
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

    /// Writes 1–6 messages to the instance's live file, stdout and stderr pieces
    /// interleaved; a message may be left unfinished (its last pieces written later,
    /// perhaps after a rotation).
    pub fn write(&mut self, rng: &mut Rng, i: usize) {
        let target = self.instances[i].live;
        self.write_to(rng, i, target, true);
    }

    fn write_to(&mut self, rng: &mut Rng, i: usize, target: usize, may_leave: bool) {
        let mut queues = std::mem::take(&mut self.instances[i].pending);
        for _ in 0..1 + rng.below(6) {
            let stream = rng.below(2) as usize;
            let seq = self.new_message(rng, i, stream);
            let text = &self.messages[seq as usize].text;
            queues[stream].extend(split(rng, text).into_iter().map(|p| (seq, p)));
        }
        let mut out = String::new();
        while queues.iter().any(|q| !q.is_empty()) {
            let s = if queues[0].is_empty() || (!queues[1].is_empty() && rng.below(2) == 1) {
                1
            } else {
                0
            };
            // Leave the rest of a message for later (only between its pieces).
            if may_leave && queues[s].len() > 1 && rng.below(8) == 0 {
                let first = queues[s][0].0;
                if queues[s].iter().all(|(q, _)| *q == first) {
                    self.instances[i].pending[s] = std::mem::take(&mut queues[s]);
                    continue;
                }
            }
            let (seq, piece) = queues[s].remove(0);
            let last = queues[s].first().is_none_or(|(q, _)| *q != seq);
            out.push_str(&self.cri_line(seq, s, last, &piece));
            self.note(target, seq);
        }
        self.append(target, &out);
    }

    fn new_message(&mut self, rng: &mut Rng, i: usize, stream: usize) -> u64 {
        let seq = self.messages.len() as u64;
        let inst = &self.instances[i];
        let pad_len = match rng.below(20) {
            0 => 1000 + rng.below(5000),
            _ => rng.below(100),
        } as usize;
        let text = format!(
            "m{seq} {}/{}/{}/{} {} {}",
            inst.namespace,
            inst.pod,
            inst.container,
            inst.restart,
            STREAMS[stream],
            "x".repeat(pad_len)
        );
        // Distinct per message, so files begin with distinct bytes (identity).
        let timestamp_ns = 1_704_067_200_000_000_000 + seq as i64 * 1_000_003;
        self.messages.push(Message {
            instance: i,
            stream,
            text,
            timestamp_ns,
        });
        seq
    }

    fn cri_line(&self, seq: u64, stream: usize, last: bool, piece: &str) -> String {
        let ns = self.messages[seq as usize].timestamp_ns;
        let (secs, nanos) = (ns / 1_000_000_000 - 1_704_067_200, ns % 1_000_000_000);
        let ts = format!(
            "2024-01-01T{:02}:{:02}:{:02}.{nanos:09}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        let tag = if last { "F" } else { "P" };
        format!("{ts} {} {tag} {piece}\n", STREAMS[stream])
    }

    fn note(&mut self, file: usize, seq: u64) {
        let f = &mut self.files[file];
        if f.messages.last() != Some(&seq) {
            f.messages.push(seq);
        }
        if f.unique.last() != Some(&seq) {
            f.unique.push(seq);
        }
    }

    fn append(&self, file: usize, text: &str) {
        let mut f = OpenOptions::new()
            .append(true)
            .open(&self.files[file].path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Writes what is left of messages begun on the instance (before it stops).
    pub fn finish_pending(&mut self, i: usize) {
        let target = self.instances[i].live;
        let mut out = String::new();
        for s in 0..2 {
            let pieces = std::mem::take(&mut self.instances[i].pending[s]);
            for (k, (seq, piece)) in pieces.iter().enumerate() {
                out.push_str(&self.cri_line(*seq, s, k + 1 == pieces.len(), piece));
                self.note(target, *seq);
            }
        }
        self.append(target, &out);
    }

    /// Finishes the unfinished messages with a piece in `file` (so that every message
    /// in it can be delivered before it goes).
    pub fn finish_pending_in(&mut self, file: usize) {
        for i in 0..self.instances.len() {
            let pending = self.instances[i].pending.iter().flatten();
            let in_file = |(seq, _): &(u64, String)| self.files[file].messages.contains(seq);
            if pending.clone().any(in_file) {
                self.finish_pending(i);
            }
        }
    }

    fn rotated_path(&mut self, i: usize) -> PathBuf {
        self.stamp += 1;
        let inst = &self.instances[i];
        let name = format!("{}.log.20240101-{:06}", inst.restart, self.stamp);
        inst.dir.join(name)
    }

    /// kubelet: `N.log` ─▶ `N.log.<stamp>`; the runtime may write a little more to the
    /// renamed file before it reopens a new `N.log`. A message begun is finished first:
    /// the pipeline flushes a partial line held at the end of a drained rotated file as
    /// an incomplete message (pipeline/process/flush.rs), so a P piece before the
    /// rotation and its F piece after it would arrive as two messages.
    pub fn rotate(&mut self, rng: &mut Rng, i: usize) {
        self.finish_pending(i);
        let to = self.rotated_path(i);
        let old = self.instances[i].live;
        fs::rename(&self.files[old].path, &to).unwrap();
        self.files[old].path = to;
        if rng.below(2) == 0 {
            self.write_to(rng, i, old, false);
        }
        let live = self.instances[i]
            .dir
            .join(format!("{}.log", self.instances[i].restart));
        let new = self.create(live);
        let inst = &mut self.instances[i];
        inst.rotated.push(old);
        inst.live = new;
    }

    /// logrotate's copytruncate: the live file copied to `N.log.<stamp>`, then
    /// truncated; nothing is written in between (what would be is lost by design). A
    /// message begun is finished first (as for [`Node::rotate`]: the copy ends).
    pub fn copytruncate(&mut self, i: usize) {
        self.finish_pending(i);
        let to = self.rotated_path(i);
        let live = self.instances[i].live;
        fs::copy(&self.files[live].path, &to).unwrap();
        let f = OpenOptions::new()
            .write(true)
            .open(&self.files[live].path)
            .unwrap();
        f.set_len(0).unwrap();
        let messages = std::mem::take(&mut self.files[live].messages);
        self.files[live].unique.clear();
        self.files.push(LogFile {
            path: to,
            on_disk: true,
            messages,
            unique: Vec::new(),
        });
        let copy = self.files.len() - 1;
        self.instances[i].rotated.push(copy);
    }

    /// What kubelet's cleanup would remove now: rotated files beyond `max_files` in all
    /// (oldest first), and (with `compress`) every rotated file but the newest, gzipped.
    pub fn cleanup_plan(&self, i: usize, max_files: usize, compress: bool) -> Vec<(usize, bool)> {
        let rotated = &self.instances[i].rotated;
        let excess = (rotated.len() + 1).saturating_sub(max_files);
        let mut plan: Vec<(usize, bool)> = rotated[..excess].iter().map(|&f| (f, false)).collect();
        if compress && rotated.len() > excess + 1 {
            let keep_plain = rotated.len() - 1;
            plan.extend(rotated[excess..keep_plain].iter().map(|&f| (f, true)));
        }
        plan
    }

    /// Removes a file (gzipped first to `<name>.gz` if `gzip`, as kubelet compresses).
    pub fn unlink(&mut self, file: usize, gzip: bool) {
        let path = self.files[file].path.clone();
        if gzip {
            let bytes = fs::read(&path).unwrap();
            let gz = File::create(format!("{}.gz", path.display())).unwrap();
            let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
            enc.write_all(&bytes).unwrap();
            enc.finish().unwrap();
        }
        fs::remove_file(&path).unwrap();
        self.files[file].on_disk = false;
        for inst in &mut self.instances {
            inst.rotated.retain(|&f| f != file);
        }
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

/// A message cut into 1–4 non-empty pieces (runtime-split P…F lines).
fn split(rng: &mut Rng, text: &str) -> Vec<String> {
    let n = match rng.below(4) {
        0 => 2 + rng.below(3) as usize,
        _ => 1,
    }
    .min(text.len());
    let mut cuts: Vec<usize> = (1..n)
        .map(|_| 1 + rng.below(text.len() as u64 - 1) as usize)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in cuts.into_iter().chain([text.len()]) {
        pieces.push(text[at..c].to_string());
        at = c;
    }
    pieces
}
