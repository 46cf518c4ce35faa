//! Pruning (prune.rs): entries of files no longer at their path go a retention after the
//! file was closed, or after the start for entries not seen again; entries of files
//! still on disk stay; pod churn leaves the store no bigger than the retention holds.

use super::*;

const RETENTION: u64 = DEFAULT_RETENTION.as_secs();

#[test]
fn gone_files_are_pruned_after_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut store = open(dir.path(), &clock);
    let gone = store.resolve(&probe(1, b"gone\n"), &path("0.log"));
    let live = store.resolve(&probe(2, b"live\n"), &path("1.log"));
    store.mark_gone(&gone).unwrap();
    clock.advance(RETENTION - 1);
    store.persist().unwrap();
    assert_eq!(store.len(), 2);
    clock.advance(1);
    store.persist().unwrap();
    assert_eq!((store.get(&gone), store.get(&live)), (None, Some(0)));
    assert_eq!(store.stats().pruned, 1);
}

#[test]
fn a_closed_file_still_at_its_path_keeps_its_entry_until_it_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut store = open(&dir.path().join("data"), &clock);
    let log = dir.path().join("0.log.20240101-000000");
    fs::write(&log, "rotated, read to its end\n").unwrap();
    let id = store.resolve(&Probe::read(&log).unwrap(), &log);
    store.advance(&id, 25).unwrap();
    store.mark_gone(&id).unwrap();
    clock.advance(2 * RETENTION);
    store.persist().unwrap();
    assert_eq!(
        store.get(&id),
        Some(25),
        "on disk: a restart resumes it there"
    );
    fs::remove_file(&log).unwrap();
    clock.advance(RETENTION / 2);
    store.persist().unwrap();
    assert_eq!(
        store.get(&id),
        Some(25),
        "looked at again a retention later"
    );
    clock.advance(RETENTION / 2);
    store.persist().unwrap();
    assert_eq!(store.get(&id), None);
    assert_eq!(store.stats().pruned, 1);
}

#[test]
fn files_that_went_while_the_agent_was_down_are_pruned_unless_seen_again() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut store = open(dir.path(), &clock);
    let stays = probe(1, b"stays\n");
    let a = store.resolve(&stays, &path("0.log"));
    let b = store.resolve(&probe(2, b"deleted\n"), &path("1.log"));
    store.persist().unwrap();
    clock.advance(2 * DAY);
    let mut again = open(dir.path(), &clock);
    assert_eq!(again.resolve(&stays, &path("0.log")), a);
    again.persist().unwrap();
    assert_eq!(
        again.get(&b),
        Some(0),
        "the tailer gets a retention to find it"
    );
    clock.advance(RETENTION);
    again.persist().unwrap();
    assert_eq!((again.get(&a), again.get(&b)), (Some(0), None));
}

/// The measured case: 12 rounds of 500 pods created and deleted, a minute apart, held
/// 6,000 entries with a day's retention. Now the store holds the last rounds only, and
/// once churn stops, the files that exist.
#[test]
fn pod_churn_leaves_only_what_the_retention_holds() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut store = open(dir.path(), &clock);
    let live = store.resolve(&probe(1, b"a pod that stays\n"), &path("0.log"));
    let (rounds, pods, minute) = (12u64, 500u64, 60);
    let mut most = 0;
    for round in 0..rounds {
        for pod in 0..pods {
            let ino = 1000 + round * pods + pod;
            let head = format!("pod {ino} says hello\n");
            let id = store.resolve(&probe(ino, head.as_bytes()), &path(&format!("{ino}.log")));
            store.advance(&id, head.len() as u64).unwrap();
            store.mark_gone(&id).unwrap();
        }
        store.persist().unwrap();
        most = most.max(store.len());
        clock.advance(minute);
        assert_eq!(store.get(&live), Some(0));
    }
    // The default retention (5 minutes): the last 6 rounds at most, and the live file.
    let held = 6 * pods + 1;
    assert!(most as u64 <= held, "{most} entries, more than {held}");
    clock.advance(RETENTION);
    store.persist().unwrap();
    assert_eq!(store.len(), 1, "only the file that exists");
    let on_disk = fs::read(dir.path().join(FILE_NAME)).unwrap();
    assert!(on_disk.len() < 1024, "{} bytes", on_disk.len());
}
