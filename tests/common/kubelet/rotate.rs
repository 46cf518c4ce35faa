//! Rotation in the kubelet model: kubelet's rename rotation, logrotate's
//! copytruncate, and the cleanup of old rotated files (gzip, deletion).

use super::{LogFile, Node};
use crate::common::rng::Rng;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

impl Node {
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
}
