//! The operations of the model-based rotation test that wait on the agent: what a
//! real node's timing gives (a file unlinked or truncated only once the agent has read
//! it, see tests/logs_model.rs), container and pod lifecycle, agent restarts and sink
//! hiccups.

use super::Case;
use crate::common::receivers::Reply;

impl Case<'_> {
    /// logrotate's copytruncate, once the agent has read the live file's first bytes
    /// (every message in it acknowledged, or one written into it acknowledged in the
    /// agent's current run, which has it open). Before that it cannot
    /// tell the truncated file, rewritten, from one it has not read yet: their new lines
    /// would be read before the copy's. Real timing gives this: logrotate truncates a
    /// file long after it was created.
    pub(super) fn copytruncate(&mut self, i: usize) {
        let (live, name) = (self.node.instances[i].live, self.node.name(i));
        self.log(format!("copytruncate {name}"));
        self.node.finish_pending(i);
        let since = self.run_start;
        self.wait_until(&format!("the agent read the start of {name}"), |n, d| {
            let file = &n.files[live];
            let all = file.messages.iter().all(|&s| d.has(s));
            all || file.unique.iter().any(|&s| d.has_since(s, since))
        });
        self.node.copytruncate(i);
        self.cleanup(i);
    }

    /// kubelet's log cleanup after a rotation: old rotated files gzipped or deleted.
    pub(super) fn cleanup(&mut self, i: usize) {
        let compress = self.rng.one_in(2);
        for (f, gzip) in self.node.cleanup_plan(i, self.settings.max_files, compress) {
            let what = if gzip { "gzip" } else { "delete" };
            self.unlink_when_safe(f, what, gzip);
        }
    }

    /// Unlinks a file once that cannot lose a message (see the module comment).
    pub(super) fn unlink_when_safe(&mut self, f: usize, what: &str, gzip: bool) {
        let name = self.node.file_name(f);
        self.log(format!("{what} {name}"));
        self.node.finish_pending_in(f);
        self.wait_until_read(f);
        self.node.unlink(f, gzip);
    }

    /// Waits until unlinking `f` loses nothing: every message with a piece in it was
    /// acknowledged, or one written straight into it was by the agent's current run
    /// (which then has it open, and reads it to its end through the descriptor).
    pub(super) fn wait_until_read(&mut self, f: usize) {
        let (name, since) = (self.node.file_name(f), self.run_start);
        self.wait_until(&format!("the agent read {name}"), |n, d| {
            let file = &n.files[f];
            file.messages.iter().all(|&s| d.has(s))
                || file.unique.iter().any(|&s| d.has_since(s, since))
        });
    }

    /// The container restarts (`N+1.log`); kubelet's GC removes instances older than
    /// the one just stopped.
    pub(super) fn restart_container(&mut self, i: usize) {
        self.log(format!("restart {}", self.node.name(i)));
        let new = self.node.restart(i);
        for dead in self.node.gc_candidates(new) {
            self.log(format!("gc {}", self.node.name(dead)));
            for f in self.node.files_of(dead) {
                self.unlink_when_safe(f, "delete", false);
            }
            self.node.remove_symlink(dead);
        }
    }

    /// The pod is deleted: its containers stop, then its log directory goes (kubelet
    /// removes the symlinks too, sometimes later: some are left dangling).
    pub(super) fn delete_pod(&mut self, i: usize) {
        self.log(format!("delete pod of {}", self.node.name(i)));
        self.node.stop_pod(i);
        for j in self.node.pod_of(i) {
            for f in self.node.files_of(j) {
                self.wait_until_read(f);
            }
        }
        self.node.remove_pod_dir(i);
        if !self.rng.one_in(3) {
            for j in self.node.pod_of(i) {
                self.node.remove_symlink(j);
            }
        }
    }

    /// The agent stops cleanly (delivering what it holds, persisting its checkpoints),
    /// a few operations happen while it is down, and it starts again: nothing is read
    /// twice, nothing is lost. Messages begun are finished, and every message written
    /// in pieces acknowledged, first: a partial line held at a stop makes the other
    /// stream's lines read after it be read again at the start (at-least-once by design:
    /// their checkpoint stops at the held piece, pipeline/process.rs). Nothing is
    /// unlinked while it is down: a file it never opened, deleted then, is lost to any
    /// agent.
    pub(super) fn restart_agent(&mut self) {
        self.log("agent stops".into());
        for i in self.node.running() {
            self.node.finish_pending(i);
        }
        // A file unlinked while the agent reads it is read to its end through the open
        // descriptor; an agent stopped before that end cannot read the rest after its
        // start (the file is gone). Real timing gives it the time.
        self.wait_until("no partial line held", |n, d| {
            let split = (0..n.messages.len() as u64).filter(|&s| n.messages[s as usize].split);
            split.into_iter().all(|s| d.has(s))
        });
        self.wait_until("the agent read the files unlinked", |n, d| {
            let gone = n.files.iter().filter(|f| !f.on_disk);
            gone.flat_map(|f| &f.messages).all(|&s| d.has(s))
        });
        self.stop_agent();
        for _ in 0..self.rng.range(0, 4) {
            let running = self.node.running();
            if running.is_empty() {
                break;
            }
            let i = self.rng.pick(&running);
            let name = self.node.name(i);
            match self.rng.below(4) {
                0 | 1 => {
                    self.log(format!("write {name} (agent down)"));
                    self.node.write(&mut self.rng, i);
                    self.node.finish_pending(i);
                }
                2 => {
                    self.log(format!("rotate {name} (agent down)"));
                    self.node.rotate(&mut self.rng, i);
                }
                _ => {
                    self.log(format!("restart {name} (agent down)"));
                    self.node.restart(i);
                }
            }
        }
        self.log("agent starts".into());
        self.start_agent();
        // One message written now and acknowledged: the new run has synced once, so it
        // has every file present opened and knows its first bytes (see `copytruncate`).
        if let Some(&i) = self.node.running().first() {
            self.node.write(&mut self.rng, i);
            self.node.finish_pending(i);
            let last = self.node.messages.len() as u64 - 1;
            self.wait_until("a first message after the start", |_, d| d.has(last));
        }
    }

    /// The receiver turns the next requests away (retried with backoff).
    pub(super) fn sink_hiccup(&mut self) {
        for _ in 0..self.rng.range(1, 3) {
            let reply = match self.rng.below(2) {
                0 => Reply::Status(503, None),
                _ => Reply::Status(429, Some("0")),
            };
            self.log(format!("receiver answers {reply:?}"));
            self.receiver.script.push(reply);
        }
    }
}
