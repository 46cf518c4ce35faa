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
    OpenOptions::new()
        .write(true)
        .open(&fx.live)
        .unwrap()
        .set_len(0)
        .unwrap();
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

/// `max_open_files`: 5 streams through 2 slots, lines written all along and one stream
/// rotated while parked: every line read once, in order, never more than 2 files open.
#[test]
fn streams_beyond_max_open_files_wait_parked_and_take_turns() {
    let fx = Fixture::new();
    let root = fx
        .live
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    let lives: Vec<PathBuf> = (0..5)
        .map(|i| root.join(format!("ns_pod{i}_uid{i}/app/0.log")))
        .collect();
    for live in &lives {
        fs::create_dir_all(live.parent().unwrap()).unwrap();
        fx.append(live, "0\n");
    }
    let found = |rotated: &[(usize, &str)]| -> Vec<Discovered> {
        let list = lives.iter().enumerate().map(|(i, live)| Discovered {
            live: live.clone(),
            rotated: rotated
                .iter()
                .filter(|(r, _)| *r == i)
                .map(|(_, name)| live.with_file_name(name))
                .collect(),
        });
        list.collect()
    };
    let mut store = fx.store();
    let config = TailConfig {
        max_open_files: 2,
        ..TailConfig::default()
    };
    let mut t = fx.tailer(config);
    let mut read: Vec<Vec<String>> = vec![Vec::new(); 5];
    let mut rotated = Vec::new();
    for round in 1..=12 {
        t.sync(&found(&rotated), &mut store);
        // A rotating open stream keeps its old file until drained: one more then.
        let bound = if round == 4 { 3 } else { 2 };
        assert!(
            t.stats().files_open <= bound,
            "round {round}: {:?}",
            t.stats()
        );
        let mut out = Vec::new();
        t.poll(1 << 16, &mut out);
        for line in out.iter().filter(|l| !l.is_end_of_file()) {
            let i = lives.iter().position(|l| line.path.as_ref() == l).unwrap();
            read[i].push(String::from_utf8_lossy(&line.bytes).into_owned());
        }
        if round == 3 {
            // Rotated while parked or open: read to its end wherever it is.
            fs::rename(&lives[4], lives[4].with_file_name("0.log.1")).unwrap();
            rotated.push((4, "0.log.1"));
        }
        for live in &lives {
            fx.append(live, &format!("{round}\n"));
        }
    }
    for _ in 0..6 {
        t.sync(&found(&rotated), &mut store);
        read_all(&mut t)
            .iter()
            .filter(|l| !l.is_end_of_file())
            .for_each(|line| {
                let i = lives.iter().position(|l| line.path.as_ref() == l).unwrap();
                read[i].push(String::from_utf8_lossy(&line.bytes).into_owned());
            });
    }
    let want: Vec<String> = (0..=12).map(|r| format!("{r}\n")).collect();
    for (i, got) in read.iter().enumerate() {
        assert_eq!(got, &want, "stream {i}: every line once, in order");
    }
    let s = t.stats();
    assert!(s.parks >= 3, "{s:?}");
    assert_eq!(s.streams_parked, 3, "{s:?}");
    assert!(s.files_open <= 2);
    assert_eq!((s.files_let_go, s.io_errors), (0, 0), "{s:?}");
}

/// Copytruncate where the new content begins with the old first bytes (the same first
/// line): the lines read after it carry the next generation, a late ack for the old
/// content finds the copy (same offsets) and never moves the new content's checkpoint.
#[test]
fn regression_late_acks_after_copytruncate_move_the_copy_not_the_new_content() {
    let fx = Fixture::new();
    let first = "2024-01-01T00:00:00Z stdout F the same first line\n";
    fx.append(&fx.live, &format!("{first}old two\nold three\n"));
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    let old = read_all(&mut t);
    let old_id = old[0].file;
    store.advance(&old_id, old[0].offset_end).unwrap(); // the rest still in flight
                                                        // logrotate copytruncate: copy, truncate, the app writes on (same first line).
    let copy = "0.log.1";
    fs::copy(&fx.live, fx.live.with_file_name(copy)).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&fx.live)
        .unwrap()
        .set_len(0)
        .unwrap();
    fx.append(&fx.live, &format!("{first}new two\n"));
    t.sync(&fx.found(&[copy]), &mut store);
    let new: Vec<RawLine> = read_all(&mut t)
        .into_iter()
        .filter(|l| !l.is_end_of_file()) // the copy's, drained at once
        .collect();
    assert_eq!(
        texts(&new),
        [first, "new two\n"],
        "the copy had nothing unread"
    );
    let new_id = new[0].file;
    assert_eq!((new_id.dev, new_id.ino), (old_id.dev, old_id.ino));
    assert_ne!(new_id, old_id, "another generation");
    // The old content's last ack arrives late: the copy's checkpoint moves.
    store.advance(&old_id, old[2].offset_end).unwrap();
    assert_eq!(store.get(&new_id), Some(0), "the new content did not move");
    let copy_probe = Probe::read(&fx.live.with_file_name(copy)).unwrap();
    let copy_id = store.resolve(&copy_probe, &fx.live.with_file_name(copy));
    assert_eq!(store.get(&copy_id), Some(old[2].offset_end));
    // Without a copy a late ack is ignored and counted.
    store.advance(&new_id, new[1].offset_end).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&fx.live)
        .unwrap()
        .set_len(0)
        .unwrap();
    fx.append(&fx.live, first);
    t.sync(&fx.found(&[copy]), &mut store);
    let third: Vec<RawLine> = read_all(&mut t)
        .into_iter()
        .filter(|l| !l.is_end_of_file())
        .collect();
    assert_eq!(texts(&third), [first]);
    assert!(store.advance(&new_id, 9999).is_err());
    assert_eq!(store.get(&third[0].file), Some(0));
    assert_eq!(store.stats().late_acks, 1);
}

/// Copytruncate while the agent was down: at the next start the copy (unknown by
/// identity, but beginning with the checkpointed file's first bytes) is read on from
/// the checkpoint, the truncated file from 0. Nothing lost, nothing read twice.
#[test]
fn a_copy_made_while_the_agent_was_down_is_read_on_from_the_checkpoint() {
    let fx = Fixture::new();
    fx.append(&fx.live, "one\ntwo\n");
    {
        let mut store = fx.store();
        let mut t = fx.tailer(TailConfig::default());
        t.sync(&fx.found(&[]), &mut store);
        let lines = read_all(&mut t);
        store.advance(&lines[1].file, lines[1].offset_end).unwrap();
        store.persist().unwrap();
    } // the agent stops
    fx.append(&fx.live, "three\n");
    let copy = "0.log.1";
    fs::copy(&fx.live, fx.live.with_file_name(copy)).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&fx.live)
        .unwrap()
        .set_len(0)
        .unwrap();
    fx.append(&fx.live, "four\n");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[copy]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["three\n", "four\n"]);
}

/// Rotated twice while the agent was down: at the next start the file rotated away
/// unread is read from 0 (it was modified after the stream's last checkpoint), while
/// an old rotated file with no checkpoint left (pruned) is history.
#[test]
fn files_rotated_while_the_agent_was_down_are_read_and_old_history_is_not() {
    let fx = Fixture::new();
    let dir = fx.live.parent().unwrap().to_owned();
    let ancient = dir.join("0.log.20200101-000000");
    fx.append(&ancient, "pruned long ago\n");
    let old = std::time::SystemTime::now() - Duration::from_secs(7 * 24 * 3600);
    File::options()
        .append(true)
        .open(&ancient)
        .unwrap()
        .set_modified(old)
        .unwrap();
    fx.append(&fx.live, "a\n");
    {
        let mut store = fx.store();
        let mut t = fx.tailer(TailConfig::default());
        t.sync(&fx.found(&[]), &mut store);
        let lines = read_all(&mut t);
        store.advance(&lines[0].file, lines[0].offset_end).unwrap();
        store.persist().unwrap();
    } // killed
    fs::rename(&fx.live, dir.join("0.log.20240101-000001")).unwrap();
    fx.append(&fx.live, "b\n");
    fs::rename(&fx.live, dir.join("0.log.20240101-000002")).unwrap();
    fx.append(&fx.live, "c\n");
    let rotated = [
        "0.log.20200101-000000",
        "0.log.20240101-000001",
        "0.log.20240101-000002",
    ];
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&rotated), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["b\n", "c\n"]);
}
