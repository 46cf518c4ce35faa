//! Tests of the open-file budget (parking, in turn), copytruncate generations and the
//! copy claimed, and a restart after the agent was down while files rotated or were
//! copied.

use super::*;

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
    fx.truncate(&fx.live);
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
    fx.truncate(&fx.live);
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
    fx.truncate(&fx.live);
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

/// Regression (found by tests/logs_model.rs, seed 3): a copytruncate handled with a
/// discovery list that predates the copy restarted the file without claiming the copy;
/// the copy, met at the next scan, was read again from 0 (duplicates, and its pieces
/// joined to a partial line already read from the truncated file).
#[test]
fn a_copy_newer_than_the_list_is_claimed_and_read_from_where_the_reader_was() {
    let fx = Fixture::new();
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    fx.append(&fx.live, "one\ntwo\n");
    t.sync(&fx.found(&[]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["one\n", "two\n"]);
    fx.append(&fx.live, "three\n");
    let copy = fx.live.with_file_name("0.log.20240101-000001");
    fs::copy(&fx.live, &copy).unwrap();
    fx.truncate(&fx.live);
    fx.append(&fx.live, "four\n");
    t.sync(&fx.found(&[]), &mut store); // the list does not show the copy yet
    let mut read = texts(&read_all(&mut t));
    t.sync(&fx.found(&["0.log.20240101-000001"]), &mut store);
    read.extend(texts(&read_all(&mut t)));
    assert_eq!(read, ["three\n", "four\n"]);
    assert_eq!(t.stats().truncations, 1);
}

/// Regression (found by tests/logs_model.rs, seed 8): a file opened empty and renamed
/// before a sync re-keyed it kept an entry keyed on no bytes at all, with its offset
/// acknowledged; a new file given its inode after it was deleted matched that entry and
/// started at its offset, its first lines lost (Fluent Bit #4895).
#[test]
fn a_closed_file_is_keyed_on_its_first_bytes_so_its_inode_reused_is_a_new_file() {
    let fx = Fixture::new();
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    fx.append(&fx.live, "");
    t.sync(&fx.found(&[]), &mut store); // opened empty: keyed on no bytes
    fx.append(&fx.live, "one\ntwo\n");
    let lines = read_all(&mut t);
    for l in &lines {
        store.advance(&l.file, l.offset_end).unwrap();
    }
    let rotated = "0.log.20240101-000001";
    fs::rename(&fx.live, fx.live.with_file_name(rotated)).unwrap();
    fx.append(&fx.live, "three\n");
    t.sync(&fx.found(&[rotated]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["three\n"]);
    t.sync(&fx.found(&[]), &mut store); // the rotated file was closed: reported
    let old = Probe::read(&fx.live.with_file_name(rotated)).unwrap();
    let reused = Probe {
        head: b"another container's first line\n".to_vec(),
        ..old.clone()
    };
    assert!(store.knows(&old));
    assert!(!store.knows(&reused), "an inode reused is a new file");
}

/// Regression (found by tests/logs_model.rs, seed 9): two rotations between syncs, and a
/// scan racing them that lists the newer rotated file but not the older one (the open
/// live file renamed): the newer file was placed before the still-live one and read
/// first.
#[test]
fn a_newer_rotated_file_listed_before_the_open_one_is_read_after_it() {
    let fx = Fixture::new();
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    fx.append(&fx.live, "one\n");
    t.sync(&fx.found(&[]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["one\n"]);
    fx.append(&fx.live, "two\n");
    let (older, newer) = ("0.log.20240101-000001", "0.log.20240101-000002");
    fs::rename(&fx.live, fx.live.with_file_name(older)).unwrap();
    fx.append(&fx.live, "three\n");
    fs::rename(&fx.live, fx.live.with_file_name(newer)).unwrap();
    fx.append(&fx.live, "four\n");
    t.sync(&fx.found(&[newer]), &mut store);
    let mut read = texts(&read_all(&mut t));
    t.sync(&fx.found(&[older, newer]), &mut store);
    read.extend(texts(&read_all(&mut t)));
    assert_eq!(read, ["two\n", "three\n", "four\n"]);
}

/// Regression (found by tests/logs_model.rs, seed 9): the live file rotated and its
/// rotated name deleted (kubelet's cleanup; the open file still readable), then a second
/// rotation, all between two syncs: the newer rotated file, never seen, was placed before
/// the old live file and read first.
#[test]
fn a_rotated_file_deleted_while_open_is_read_before_newer_ones() {
    let fx = Fixture::new();
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    fx.append(&fx.live, "one\n");
    t.sync(&fx.found(&[]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["one\n"]);
    fx.append(&fx.live, "two\n");
    let (older, newer) = ("0.log.20240101-000001", "0.log.20240101-000002");
    fs::rename(&fx.live, fx.live.with_file_name(older)).unwrap();
    fs::remove_file(fx.live.with_file_name(older)).unwrap();
    fx.append(&fx.live, "three\n");
    fs::rename(&fx.live, fx.live.with_file_name(newer)).unwrap();
    fx.append(&fx.live, "four\n");
    t.sync(&fx.found(&[newer]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["two\n", "three\n", "four\n"]);
}

/// Regression (found by tests/logs_model.rs, seed 135): a stream met for the first time
/// with a discovery list that predates its two rotations: the live file was read, and
/// the rotated files, listed later, after it.
#[test]
fn a_new_stream_reads_its_rotated_files_first_even_if_the_list_lacks_them() {
    let fx = Fixture::new();
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&[], &mut store); // the agent's first look: nothing yet
    let (older, newer) = ("0.log.20240101-000001", "0.log.20240101-000002");
    fx.append(&fx.live.with_file_name(older), "one\n");
    fx.append(&fx.live.with_file_name(newer), "two\n");
    fx.append(&fx.live, "three\n");
    t.sync(&fx.found(&[]), &mut store);
    let mut read = texts(&read_all(&mut t));
    t.sync(&fx.found(&[older, newer]), &mut store);
    read.extend(texts(&read_all(&mut t)));
    assert_eq!(read, ["one\n", "two\n", "three\n"]);
}

/// Regression (found by tests/logs_model.rs, seed 0 with agent restarts): a pod that
/// began just before the agent stopped, never followed, rotated while it was down: at
/// the restart its rotated file was taken for history from before the agent's first
/// start and not read. Only the first start on a node (no checkpoints) has history.
#[test]
fn a_stream_never_followed_met_at_a_restart_reads_its_rotated_files() {
    let fx = Fixture::new();
    let other = fx
        .live
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("other/0.log");
    fs::create_dir_all(other.parent().unwrap()).unwrap();
    fx.append(&other, "followed\n");
    {
        let mut store = fx.store();
        let mut t = fx.tailer(TailConfig::default());
        let found = vec![Discovered {
            live: other.clone(),
            rotated: Vec::new(),
        }];
        t.sync(&found, &mut store);
        let lines = read_all(&mut t);
        store.advance(&lines[0].file, lines[0].offset_end).unwrap();
        store.persist().unwrap();
    } // the agent stops; a new container logs and rotates
    let rotated = "0.log.20240101-000001";
    fx.append(&fx.live.with_file_name(rotated), "one\n");
    fx.append(&fx.live, "two\n");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[rotated]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["one\n", "two\n"]);
}
