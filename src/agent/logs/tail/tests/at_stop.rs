//! The tailer's last sync at the agent's stop ([`Tailer::finish`]): the checkpoints
//! written then name every file by its first bytes, not by the few or none it had when
//! it was opened.

use super::*;

/// A live file opened empty, read and acknowledged, copied and truncated by logrotate
/// just before the stop, before a periodic sync re-keyed it: at the next start its copy
/// must be known as the copy (read on from the acknowledged offset), which needs the
/// entry keyed on the file's first bytes; keyed on none, the copy was read from 0.
#[test]
fn a_copytruncate_just_before_a_stop_is_read_on_from_the_acknowledged_offset() {
    let fx = Fixture::new();
    let (mut store, mut t) = fx.opened_empty_and_acked("2024-01-01T00:00:00.1Z stdout F one\n");
    let copy = "0.log.20240101-000001";
    fs::copy(&fx.live, fx.live.with_file_name(copy)).unwrap();
    File::create(&fx.live).unwrap(); // truncated
    t.finish(&mut store);
    store.persist().unwrap();
    fx.append(&fx.live, "2024-01-01T00:00:00.2Z stdout F two\n");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[copy]), &mut store);
    assert_eq!(
        texts(&read_all(&mut t)),
        ["2024-01-01T00:00:00.2Z stdout F two\n"]
    );
}

/// A file closed by the last poll before the stop (drained and deleted): its close is
/// reported at the stop, keyed on its first bytes, so a new file given its inode while
/// the agent is down is not taken for it (read from 0, not from its offset).
#[test]
fn a_file_closed_after_the_last_sync_is_reported_at_the_stop() {
    let fx = Fixture::new();
    let (mut store, mut t) = fx.opened_empty_and_acked("2024-01-01T00:00:00.1Z stdout F one\n");
    let old = Probe::read(&fx.live).unwrap();
    fs::remove_file(&fx.live).unwrap();
    t.sync(&[], &mut store); // the pod is gone
    assert!(read_all(&mut t).last().unwrap().is_end_of_file(), "closed");
    t.finish(&mut store);
    store.persist().unwrap();
    let store = fx.store();
    let reused = Probe {
        head: b"2024-01-01T00:00:00.2Z stderr F another file\n".to_vec(),
        ..old.clone()
    };
    assert!(store.knows(&old));
    assert!(!store.knows(&reused), "an inode reused is a new file");
}
