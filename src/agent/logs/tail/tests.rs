//! Unit tests of the tailer's single rules: start offsets, long lines, a last line
//! without '\n', the bounded hold (Vector #18863), copytruncate counted and reset, and a
//! paused reader that resumes (Fluent Bit #1903).

use super::*;
use crate::agent::logs::checkpoint::{CheckpointStore, Probe, DEFAULT_RETENTION};
use crate::agent::logs::discover::Discovered;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

struct Fixture {
    _dir: tempfile::TempDir,
    live: PathBuf,
    data: PathBuf,
    now: Arc<Mutex<Instant>>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("pods/ns_pod_uid/app/0.log");
        fs::create_dir_all(live.parent().unwrap()).unwrap();
        let data = dir.path().join("data");
        Fixture {
            _dir: dir,
            live,
            data,
            now: Arc::new(Mutex::new(Instant::now())),
        }
    }
    fn tailer(&self, config: TailConfig) -> Tailer {
        let now = self.now.clone();
        Tailer::with_clock(config, Arc::new(move || *now.lock().unwrap()))
    }
    fn store(&self) -> CheckpointStore {
        CheckpointStore::open(&self.data, DEFAULT_RETENTION).unwrap()
    }
    fn append(&self, path: &Path, text: &str) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }
    fn found(&self, rotated: &[&str]) -> Vec<Discovered> {
        let dir = self.live.parent().unwrap();
        vec![Discovered {
            live: self.live.clone(),
            rotated: rotated.iter().map(|r| dir.join(r)).collect(),
        }]
    }
    fn advance(&self, d: Duration) {
        *self.now.lock().unwrap() += d;
    }
    /// Cuts `path` to 0 bytes in place (what copytruncate does to the live file).
    fn truncate(&self, path: &Path) {
        OpenOptions::new()
            .write(true)
            .open(path)
            .unwrap()
            .set_len(0)
            .unwrap();
    }
    /// A store and a tailer that opened the live file empty (its entry keyed on no
    /// bytes), then read `line` from it and had it acknowledged.
    fn opened_empty_and_acked(&self, line: &str) -> (CheckpointStore, Tailer) {
        let (mut store, mut t) = self.opened(""); // opened empty: keyed on no bytes
        self.append(&self.live, line);
        ack_all(&mut t, &mut store);
        (store, t)
    }

    /// The live file written with `content`, then met by a new tailer's first sync.
    fn opened(&self, content: &str) -> (CheckpointStore, Tailer) {
        let mut store = self.store();
        let mut t = self.tailer(TailConfig::default());
        self.append(&self.live, content);
        t.sync(&self.found(&[]), &mut store);
        (store, t)
    }
}

/// Reads every line there is and acknowledges it in `store`.
fn ack_all(t: &mut Tailer, store: &mut CheckpointStore) {
    for l in read_all(t).iter().filter(|l| !l.is_end_of_file()) {
        store.advance(&l.file, l.offset_end).unwrap();
    }
}

/// The lines read, without the end-of-file marks.
fn texts(lines: &[RawLine]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !l.is_end_of_file())
        .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
        .collect()
}

/// The lines read, with each end-of-file mark shown as `<end@offset>`.
fn shown(lines: &[RawLine]) -> Vec<String> {
    let show = |l: &RawLine| match l.is_end_of_file() {
        true => format!("<end@{}>", l.offset_end),
        false => String::from_utf8_lossy(&l.bytes).into_owned(),
    };
    lines.iter().map(show).collect()
}

fn read_all(t: &mut Tailer) -> Vec<RawLine> {
    let mut out = Vec::new();
    while t.poll(1 << 16, &mut out) > 0 {}
    out
}

#[test]
fn files_present_at_first_start_follow_start_at_and_later_ones_start_at_zero() {
    let fx = Fixture::new();
    fx.append(&fx.live, "old\n");
    let mut store = fx.store();
    let config = TailConfig {
        start_at: StartAt::End,
        ..TailConfig::default()
    };
    let mut t = fx.tailer(config);
    t.sync(&fx.found(&[]), &mut store);
    fx.append(&fx.live, "new\n");
    assert_eq!(texts(&read_all(&mut t)), ["new\n"]);
    let second = fx.live.with_file_name("1.log");
    fx.append(&second, "first\n");
    let mut found = fx.found(&[]);
    found.push(Discovered {
        live: second,
        rotated: vec![],
    });
    t.sync(&found, &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["first\n"]);
}

#[test]
fn a_restart_resumes_at_the_acknowledged_offset() {
    let fx = Fixture::new();
    fx.append(&fx.live, "one\ntwo\n");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    let lines = read_all(&mut t);
    store.advance(&lines[0].file, lines[0].offset_end).unwrap();
    store.persist().unwrap();
    drop((t, store));
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["two\n"]);
}

#[test]
fn long_lines_are_cut_at_the_cap_and_counted() {
    let fx = Fixture::new();
    fx.append(&fx.live, &format!("{}\nshort\n", "y".repeat(100)));
    let mut store = fx.store();
    let config = TailConfig {
        max_line_bytes: 10,
        read_buf_bytes: 7,
        ..TailConfig::default()
    };
    let mut t = fx.tailer(config);
    t.sync(&fx.found(&[]), &mut store);
    let lines = read_all(&mut t);
    assert_eq!(texts(&lines), ["yyyyyyyyyy", "short\n"]);
    assert!(lines[0].truncated && !lines[1].truncated);
    assert_eq!(lines[0].offset_end, 101);
    assert_eq!(t.stats().lines_over_cap, 1);
}

#[test]
fn a_last_line_without_newline_waits_until_completed_or_rotated_away() {
    let fx = Fixture::new();
    fx.append(&fx.live, "done\nhalf");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["done\n"]);
    fx.append(&fx.live, " more\nlast");
    assert_eq!(texts(&read_all(&mut t)), ["half more\n"]);
    let rotated = "0.log.20240101-000000";
    fs::rename(&fx.live, fx.live.with_file_name(rotated)).unwrap();
    fx.append(&fx.live, "next\n");
    t.sync(&fx.found(&[rotated]), &mut store);
    let drained = "done\nhalf more\nlast".len();
    let want = [
        "last".to_string(),
        format!("<end@{drained}>"),
        "next\n".into(),
    ];
    assert_eq!(shown(&read_all(&mut t)), want, "the end is marked between");
    assert_eq!(t.stats().rotations, 1);
    assert_eq!(t.stats().files_open, 1);
}

#[test]
fn a_rotated_file_that_cannot_be_drained_is_let_go_after_max_hold_and_counted() {
    let fx = Fixture::new();
    fx.append(&fx.live, &"line\n".repeat(100));
    let mut store = fx.store();
    let config = TailConfig {
        max_hold: Duration::from_secs(60),
        ..TailConfig::default()
    };
    let mut t = fx.tailer(config);
    t.sync(&fx.found(&[]), &mut store);
    let mut out = Vec::new();
    t.poll(50, &mut out);
    assert_eq!(out.len(), 10);
    fs::remove_file(&fx.live).unwrap(); // the pod is deleted
    t.sync(&[], &mut store);
    fx.advance(Duration::from_secs(59));
    t.poll(50, &mut out);
    assert_eq!(t.stats().files_open, 1, "held while within max_hold");
    fx.advance(Duration::from_secs(1));
    t.poll(50, &mut out);
    let s = t.stats();
    assert_eq!(
        (s.files_open, s.files_let_go, s.bytes_let_go),
        (0, 1, 500 - 100)
    );
    assert_eq!(shown(&out[20..]), ["<end@100>"], "let go: its end marked");
}

#[test]
fn a_deleted_file_read_to_its_end_is_closed_at_once() {
    let fx = Fixture::new();
    fx.append(&fx.live, "a\n");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    fs::remove_file(&fx.live).unwrap();
    t.sync(&[], &mut store);
    assert_eq!(shown(&read_all(&mut t)), ["a\n", "<end@2>"]);
    let s = t.stats();
    assert_eq!((s.files_open, s.files_let_go), (0, 0));
}

#[test]
fn copytruncate_is_counted_reset_and_read_again_from_zero() {
    let fx = Fixture::new();
    fx.append(&fx.live, "first file line one\nfirst file line two\n");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    let lines = read_all(&mut t);
    store.advance(&lines[1].file, lines[1].offset_end).unwrap();
    fx.truncate(&fx.live);
    fx.append(&fx.live, "after\n");
    t.sync(&fx.found(&[]), &mut store);
    let after = read_all(&mut t);
    assert_eq!(texts(&after), ["after\n"]);
    assert_eq!(t.stats().truncations, 1);
    assert_eq!(store.stats().resets, 1);
    assert_eq!(store.get(&after[0].file), Some(0));
}

#[test]
fn inode_reuse_is_a_new_file_read_from_its_start() {
    let fx = Fixture::new();
    fx.append(&fx.live, "the old file's line\n");
    let mut store = fx.store();
    let old = Probe::read(&fx.live).unwrap();
    let id = store.resolve(&old, &fx.live);
    store.advance(&id, 20).unwrap();
    // A new file on the same inode (truncate + rewrite keeps the inode): other first bytes.
    fs::write(&fx.live, "a new file\n").unwrap();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["a new file\n"]);
}

#[test]
fn a_paused_reader_loses_nothing_and_resumes() {
    let fx = Fixture::new();
    fx.append(&fx.live, "");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    let mut out = Vec::new();
    for i in 0..1000 {
        fx.append(&fx.live, &format!("{i}\n"));
        if i % 100 == 0 {
            t.poll(3, &mut out); // a sink that takes almost nothing
        }
    }
    assert!(out.len() < 20);
    out.extend(read_all(&mut t));
    let want: Vec<String> = (0..1000).map(|i| format!("{i}\n")).collect();
    assert_eq!(texts(&out), want);
}

mod at_stop;
mod budget_and_restarts;
mod copy_in_progress;
mod copytruncate_race;
mod ended;
mod inode_reused;
mod met_again;
mod rotated_unseen;
