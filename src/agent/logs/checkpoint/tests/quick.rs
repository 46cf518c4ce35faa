//! The quick file (durable.rs): written after each acknowledged batch without fsync,
//! read back before the stable file, removed by the next durable write, and set aside
//! for the stable file when a power cut left it cut short.

use super::super::durable::{QUICK_NAME, TEMP_NAME};
use super::*;

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
fn a_durable_write_removes_the_quick_file() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (mut store, a) = quick_at_2(dir.path(), &clock);
    store.snapshot_all().write().unwrap();
    assert!(!dir.path().join(QUICK_NAME).exists());
    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(2));
    assert_eq!(again.stats().recovered_from_quick, 0);
}

#[test]
fn a_quick_file_cut_short_is_removed_and_the_stable_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (_store, a) = quick_at_2(dir.path(), &clock);
    let quick = dir.path().join(QUICK_NAME);
    let bytes = fs::read(&quick).unwrap();
    fs::write(&quick, &bytes[..bytes.len() / 2]).unwrap();
    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(1), "the durable state");
    assert_eq!(again.stats().corrupt_files, 0);
    assert!(!quick.exists());
}

#[test]
fn a_complete_temp_file_wins_over_the_quick_file() {
    // A crash inside a durable write, after the temp file's fsync: its state is newer
    // than any quick write before it.
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let read = |name: &str| fs::read(dir.path().join(name)).unwrap();
    let (mut store, a) = quick_at_2(dir.path(), &clock);
    let (stable_1, quick_2) = (read(FILE_NAME), read(QUICK_NAME));
    store.advance(&a, 3).unwrap();
    store.snapshot().unwrap().write().unwrap();
    let state_3 = read(FILE_NAME);
    for (name, bytes) in [
        (FILE_NAME, stable_1),
        (QUICK_NAME, quick_2),
        (TEMP_NAME, state_3),
    ] {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(3));
    assert_eq!(again.stats().recovered_from_temp, 1);
    assert!(!dir.path().join(QUICK_NAME).exists());
}
