//! The quick file as two slots, `checkpoints.quick.0` and `checkpoints.quick.1`, written
//! in turn in place (one `pwrite` on a file kept open), each a header and the quick
//! content (format.rs):
//!
//! ```text
//! magic b"NPQ1" | seq u64 LE | len u32 LE | crc u32 LE (CRC-32 of seq, len, content) | content
//! ```
//!
//! Why not a temp file renamed over the quick file: that took an `openat`, a new inode
//! and a `rename` per acknowledged batch, and ext4 starts writeback of a file renamed
//! over another (`auto_da_alloc`): 3–4 % of the agent's CPU while shipping
//! (BENCHMARKS.md), and a disk write per batch on the node. In place, a process crash
//! (SIGKILL) mid-write can leave a slot half new; its CRC then fails and the other slot,
//! one write older, is read: exactly what the rename gave (the old file until the
//! rename). The reader takes the whole slot with the higher `seq`; a write goes to the
//! other slot, with `seq` one higher (counted from what is on disk at the first write,
//! so it never goes back across restarts). Bytes past `len` (a longer, older write) are
//! ignored. Like the renamed file, the slots are not fsynced: the page cache survives a
//! process crash, not a power cut, after which the stable file bounds what is resent.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const MAGIC: &[u8; 4] = b"NPQ1";
const HEADER: usize = 4 + 8 + 4 + 4;
const NAMES: [&str; 2] = ["checkpoints.quick.0", "checkpoints.quick.1"];

/// The quick file of a store, shared by the store and its snapshots (written on the
/// blocking pool).
#[derive(Debug, Clone)]
pub struct QuickFile(Arc<Mutex<QuickSlots>>);

impl QuickFile {
    pub fn new(dir: &Path) -> Self {
        QuickFile(Arc::new(Mutex::new(QuickSlots::new(dir))))
    }

    pub fn write(&self, content: &[u8]) -> io::Result<()> {
        self.lock().write(content)
    }

    pub fn remove(&self) -> io::Result<()> {
        self.lock().remove()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QuickSlots> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The slot files of one directory, kept open between writes.
#[derive(Debug)]
pub struct QuickSlots {
    dir: PathBuf,
    files: [Option<File>; 2],
    /// The slot last written and its `seq`.
    last: Option<(usize, u64)>,
    buf: Vec<u8>,
}

impl QuickSlots {
    pub fn new(dir: &Path) -> Self {
        QuickSlots {
            dir: dir.to_owned(),
            files: [None, None],
            last: None,
            buf: Vec::new(),
        }
    }

    /// Writes `content` into the slot not holding the newest whole write.
    pub fn write(&mut self, content: &[u8]) -> io::Result<()> {
        let (slot, seq) = match self.last {
            Some((slot, seq)) => (1 - slot, seq + 1),
            None => match newest(&self.dir) {
                Some((slot, seq, _)) => (1 - slot, seq + 1),
                None => (0, 1),
            },
        };
        let len = u32::try_from(content.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "quick checkpoint too big"))?;
        self.buf.clear();
        self.buf.extend_from_slice(MAGIC);
        self.buf.extend_from_slice(&seq.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf
            .extend_from_slice(&crc(seq, len, content).to_le_bytes());
        self.buf.extend_from_slice(content);
        let file = match &mut self.files[slot] {
            Some(f) => f,
            none => none.insert(open(&self.dir.join(NAMES[slot]))?),
        };
        file.write_all_at(&self.buf, 0)?;
        self.last = Some((slot, seq));
        Ok(())
    }

    /// Removes both slots (a durable write holds a state at least as new).
    pub fn remove(&mut self) -> io::Result<()> {
        self.files = [None, None];
        self.last = None;
        remove_slots(&self.dir)
    }
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// The content of the newest whole slot in `dir`; slots that are not whole (a power
/// cut mid-write, or a crash mid-write of the older one) are removed, and said so.
pub fn read(dir: &Path) -> Option<Vec<u8>> {
    let slots = read_slots(dir);
    for (i, slot) in slots.iter().enumerate() {
        if let Err(error) = slot {
            let path = dir.join(NAMES[i]);
            tracing::warn!(path = %path.display(), %error, "Discarded a quick checkpoint write cut short.");
            if let Err(error) = fs::remove_file(&path) {
                tracing::warn!(%error, "Could not remove the cut-short quick checkpoint write.");
            }
        }
    }
    newest_of(slots).map(|(_, _, content)| content)
}

/// The newest whole slot in `dir`: its index, `seq` and content.
fn newest(dir: &Path) -> Option<(usize, u64, Vec<u8>)> {
    newest_of(read_slots(dir))
}

type Slot = Result<Option<(u64, Vec<u8>)>, String>;

fn read_slots(dir: &Path) -> [Slot; 2] {
    NAMES.map(|name| read_slot(&dir.join(name)))
}

fn newest_of(slots: [Slot; 2]) -> Option<(usize, u64, Vec<u8>)> {
    (slots.into_iter().enumerate())
        .filter_map(|(i, slot)| slot.ok().flatten().map(|(seq, c)| (i, seq, c)))
        .max_by_key(|(_, seq, _)| *seq)
}

/// `Ok(None)`: no such file; `Err`: a file that is not a whole slot.
fn read_slot(path: &Path) -> Result<Option<(u64, Vec<u8>)>, String> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let (head, rest) = bytes
        .split_at_checked(HEADER)
        .ok_or("shorter than a header")?;
    if &head[..4] != MAGIC {
        return Err("not a quick checkpoint slot".into());
    }
    let seq = u64::from_le_bytes(head[4..12].try_into().expect("8 bytes"));
    let len = u32::from_le_bytes(head[12..16].try_into().expect("4 bytes")) as usize;
    let sum = u32::from_le_bytes(head[16..20].try_into().expect("4 bytes"));
    let content = rest.get(..len).ok_or("shorter than its header says")?;
    if crc(seq, len as u32, content) != sum {
        return Err("checksum mismatch".into());
    }
    Ok(Some((seq, content.to_vec())))
}

/// The checksum covers the header's fields too: a slot whose header alone was written
/// anew must not pass for the newer write.
fn crc(seq: u64, len: u32, content: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&seq.to_le_bytes());
    h.update(&len.to_le_bytes());
    h.update(content);
    h.finalize()
}

/// Removes both slot files of `dir` (those that are there).
pub fn remove_slots(dir: &Path) -> io::Result<()> {
    for name in NAMES {
        match fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// The slot files' paths in `dir`, for tests that cut them short.
#[cfg(test)]
pub fn slot_paths(dir: &Path) -> [PathBuf; 2] {
    [dir.join(NAMES[0]), dir.join(NAMES[1])]
}

#[cfg(test)]
#[path = "quick/tests.rs"]
mod tests;
