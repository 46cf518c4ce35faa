//! Copytruncate racing a sync: the live file is cut after `check_truncations` looked at
//! it and before `sync_live` upgrades its short fingerprint (seen in tests/logs_model,
//! seed 20575: a line read again from the copy after a restart).

use super::*;
use crate::agent::logs::tail::file::TailFile;
use crate::agent::logs::tail::sync::upgrade_key;

/// The upgrade must leave a truncated file to the next `check_truncations`: its entry
/// keeps the acknowledged offset (which the copy is then claimed at), and the file is
/// marked suspect. Resolving it dropped the entry as an inode reused, offset and all.
#[test]
fn a_file_truncated_after_the_truncation_check_keeps_its_acknowledged_offset() {
    let fx = Fixture::new();
    let line = "2024-01-01T00:00:00.1Z stdout F one\n";
    fx.append(&fx.live, line);
    let mut store = fx.store();
    let probe = Probe::read(&fx.live).unwrap();
    let id = store.resolve(&probe, &fx.live);
    assert!(
        id.fingerprint.is_partial(),
        "shorter than a full fingerprint"
    );
    let len = line.len() as u64;
    store.advance(&id, len).unwrap();
    let mut f = TailFile::new(File::open(&fx.live).unwrap(), id, len);
    fs::copy(&fx.live, fx.live.with_file_name("0.log.20240101-000001")).unwrap();
    File::create(&fx.live).unwrap(); // truncated, after the check
    upgrade_key(&mut f, &fx.live, &mut store);
    assert_eq!(
        store.get(&f.id),
        Some(len),
        "the acknowledged offset is kept"
    );
    assert!(f.suspect, "left to the next sync's truncation check");
}

/// The whole path: after the truncation is dealt with at the next sync, a restart reads
/// the copy on from the acknowledged offset (nothing again) and the live file from 0.
#[test]
fn after_the_race_a_restart_reads_nothing_twice() {
    let fx = Fixture::new();
    let (mut store, mut t) = fx.opened("2024-01-01T00:00:00.1Z stdout F one\n");
    ack_all(&mut t, &mut store);
    let copy = "0.log.20240101-000001";
    fs::copy(&fx.live, fx.live.with_file_name(copy)).unwrap();
    File::create(&fx.live).unwrap();
    // The race: the upgrade of this sync's sync_live meets the truncated file.
    for s in t.streams.values_mut() {
        for f in s.files.iter_mut() {
            upgrade_key(f, &fx.live, &mut store);
        }
    }
    t.sync(&fx.found(&[copy]), &mut store);
    read_all(&mut t);
    t.finish(&mut store);
    store.persist().unwrap();
    let two = "2024-01-01T00:00:00.2Z stdout F two\n";
    fx.append(&fx.live, two);
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[copy]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), [two]);
}
