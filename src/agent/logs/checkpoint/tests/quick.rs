//! The quick file (durable.rs, quick.rs): written after each acknowledged batch without fsync,
//! read back before the stable file, removed by the next durable write, and set aside
//! for the stable file when a power cut left it cut short.

use super::super::durable::TEMP_NAME;
use super::super::quick::slot_paths;
use super::*;

fn quick_exists(dir: &Path) -> bool {
    slot_paths(dir).iter().any(|p| p.exists())
}

/// A store persisted durably at offset 1, then quickly at offset 2.
fn quick_at_2(dir: &Path, clock: &FakeClock) -> (CheckpointStore, FileId) {
    let (mut store, a) = persisted_at_1(dir, clock);
    store.advance(&a, 2).unwrap();
    store.snapshot().unwrap().write_quick().unwrap();
    (store, a)
}

#[test]
fn a_quick_write_is_the_state_read_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (_store, a) = quick_at_2(dir.path(), &clock);
    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(2), "newer than the stable file");
    assert_eq!(again.stats().recovered_from_quick, 1);
}

#[test]
fn a_durable_write_leaves_the_quick_file_to_its_caller_and_persist_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (mut store, a) = quick_at_2(dir.path(), &clock);
    store.snapshot_all().write().unwrap();
    assert!(quick_exists(dir.path()), "the checkpointer decides");
    store.advance(&a, 3).unwrap();
    store.persist().unwrap();
    assert!(!quick_exists(dir.path()));
    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(3));
    assert_eq!(again.stats().recovered_from_quick, 0);
}

#[test]
fn a_quick_file_cut_short_is_removed_and_the_stable_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (_store, a) = quick_at_2(dir.path(), &clock);
    let quick = slot_paths(dir.path())[0].clone();
    let bytes = fs::read(&quick).unwrap();
    fs::write(&quick, &bytes[..bytes.len() / 2]).unwrap();
    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(1), "the durable state");
    assert_eq!(again.stats().corrupt_files, 0);
    assert!(!quick.exists());
}

/// A crash in the middle of a quick write (its slot cut short): the write before it,
/// in the other slot, is the state read, not the older stable file.
#[test]
fn a_quick_write_cut_short_leaves_the_one_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (mut store, a) = quick_at_2(dir.path(), &clock);
    store.advance(&a, 3).unwrap();
    store.snapshot_quick().unwrap().write_quick().unwrap();
    assert_eq!(open(dir.path(), &clock).get(&a), Some(3));
    let newest = slot_paths(dir.path())[1].clone();
    let bytes = fs::read(&newest).unwrap();
    fs::write(&newest, &bytes[..bytes.len() - 1]).unwrap();
    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(2), "the quick write before");
    assert_eq!(again.stats().recovered_from_quick, 1);
    assert!(!newest.exists());
}

#[test]
fn the_quick_file_wins_over_a_complete_temp_file_which_still_moves_into_place() {
    // A crash inside a durable write, after the temp file's fsync. Durable writes run
    // beside the quick ones, so the temp file may be older than the quick file.
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let read = |name: &str| fs::read(dir.path().join(name)).unwrap();
    let (mut store, a) = persisted_at_1(dir.path(), &clock);
    let stable_1 = read(FILE_NAME);
    store.advance(&a, 3).unwrap();
    store.snapshot().unwrap().write_quick().unwrap();
    for (name, bytes) in [(FILE_NAME, &stable_1[..]), (TEMP_NAME, &stable_1[..])] {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(3));
    assert_eq!(again.stats().recovered_from_quick, 1);
    assert!(!dir.path().join(TEMP_NAME).exists());
}

/// `n` files resolved and acknowledged, persisted durably.
fn persisted_with(dir: &Path, clock: &FakeClock, n: u64) -> (CheckpointStore, Vec<FileId>) {
    let mut store = open(dir, clock);
    let ids: Vec<FileId> = (0..n)
        .map(|i| {
            let head = format!("file {i} first line\n");
            let id = store.resolve(&probe(10 + i, head.as_bytes()), &path(&format!("{i}.log")));
            store.advance(&id, head.len() as u64).unwrap();
            id
        })
        .collect();
    store.persist().unwrap();
    (store, ids)
}

#[test]
fn a_quick_write_holds_what_changed_since_the_durable_write_not_the_whole_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (mut store, ids) = persisted_with(dir.path(), &clock, 6000);
    let stable = fs::metadata(dir.path().join(FILE_NAME)).unwrap().len();
    store.advance(&ids[17], 1000).unwrap();
    let quick = store.snapshot_quick().unwrap();
    assert!(
        quick.len() < 1024,
        "{} bytes (stable: {stable})",
        quick.len()
    );
    quick.write_quick().unwrap();
    assert!(store.snapshot_quick().is_none(), "nothing changed since");
    let again = open(dir.path(), &clock);
    assert_eq!(again.len(), 6000);
    assert_eq!(again.get(&ids[17]), Some(1000));
    assert_eq!(again.get(&ids[18]), store.get(&ids[18]));
    assert_eq!(again.stats().recovered_from_quick, 1);
}

#[test]
fn entries_removed_since_the_durable_write_stay_removed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (mut store, ids) = persisted_with(dir.path(), &clock, 3);
    // The inode of file 1 now holds another file: its entry goes, a new one comes.
    let reused = store.resolve(&probe(11, b"another file\n"), &path("9.log"));
    store.advance(&reused, 5).unwrap();
    store.snapshot_quick().unwrap().write_quick().unwrap();
    let again = open(dir.path(), &clock);
    assert_eq!(again.len(), 3);
    assert_eq!(again.get(&ids[1]), None);
    assert_eq!(again.get(&reused), Some(5));
    assert_eq!(again.get(&ids[2]), store.get(&ids[2]));
}

#[test]
fn after_a_crash_quick_writes_are_whole_until_a_durable_write() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (mut store, ids) = persisted_with(dir.path(), &clock, 3);
    store.advance(&ids[0], 100).unwrap();
    store.snapshot_quick().unwrap().write_quick().unwrap();
    drop(store); // SIGKILL: the stable file lacks offset 100
    let mut second = open(dir.path(), &clock);
    second.advance(&ids[1], 200).unwrap();
    let quick = second.snapshot_quick().unwrap();
    quick.write_quick().unwrap();
    drop(second); // SIGKILL again, before any durable write
    let mut third = open(dir.path(), &clock);
    assert_eq!(
        (third.get(&ids[0]), third.get(&ids[1])),
        (Some(100), Some(200)),
        "the first process's change survives the second crash"
    );
    let durable = third.snapshot_all();
    durable.write().unwrap();
    third.written_durably(durable.state(), true);
    third.advance(&ids[2], 300).unwrap();
    let quick = third.snapshot_quick().unwrap();
    assert!(quick.len() < 1024, "changes again: {} bytes", quick.len());
    quick.write_quick().unwrap();
    let fourth = open(dir.path(), &clock);
    let got: Vec<_> = ids.iter().map(|id| fourth.get(id)).collect();
    assert_eq!(got, vec![Some(100), Some(200), Some(300)]);
}

/// A durable write that ends while quick writes go on (the checkpointer writes both
/// without the store's lock): the quick file written after it, counted from the
/// previous durable write, applies over the new stable file and still gives the newest
/// state.
#[test]
fn changes_counted_from_an_older_durable_write_apply_over_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (mut store, ids) = persisted_with(dir.path(), &clock, 2);
    store.advance(&ids[0], 100).unwrap();
    let durable = store.snapshot_all();
    store.advance(&ids[1], 200).unwrap();
    let quick = store.snapshot_quick().unwrap();
    durable.write().unwrap();
    store.written_durably(durable.state(), true);
    quick.write_quick().unwrap(); // after the durable write: not removed
    let again = open(dir.path(), &clock);
    assert_eq!(
        (again.get(&ids[0]), again.get(&ids[1])),
        (Some(100), Some(200))
    );
    store.advance(&ids[0], 150).unwrap();
    store.snapshot_quick().unwrap().write_quick().unwrap();
    let last = open(dir.path(), &clock);
    assert_eq!(
        (last.get(&ids[0]), last.get(&ids[1])),
        (Some(150), Some(200))
    );
}
