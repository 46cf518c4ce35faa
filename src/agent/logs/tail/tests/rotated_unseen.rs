//! A file rotated away before any sync saw it live, met at a sync whose discovery list
//! predates it: it is read before the live file that replaced it, not after.

use super::*;

/// Regression (found by tests/logs_model.rs, seed 555 of 500+300): a sync ran between
/// kubelet's rename of `0.log` and its creation of the next one, so the stream was left
/// with its renamed file and no live file. Before the next sync the new `0.log` was
/// written and rotated in turn, and a third `0.log` created. That sync had no live file
/// that moved to tell it a rotation happened, so it trusted discovery's list (a scan
/// from before both rotations) for the rotated files, and opened the third `0.log`
/// without the second: the second was met at the next scan and read after the third.
#[test]
fn a_file_rotated_unseen_while_the_stream_had_no_live_file_is_read_before_the_new_one() {
    let fx = Fixture::new();
    let (mut store, mut t) = fx.opened("first\n");
    assert_eq!(texts(&read_all(&mut t)), ["first\n"]);
    // Renamed; the sync meets no live file.
    fs::rename(&fx.live, fx.live.with_file_name("0.log.20240101-000001")).unwrap();
    t.sync(&fx.found(&[]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), Vec::<String>::new());
    // Before the next sync: a new 0.log, written, rotated, and a third one.
    fx.append(&fx.live, "second\n");
    fs::rename(&fx.live, fx.live.with_file_name("0.log.20240101-000002")).unwrap();
    fx.append(&fx.live, "third\n");
    let stale = fx.found(&[]);
    t.sync(&stale, &mut store);
    let now = fx.found(&["0.log.20240101-000001", "0.log.20240101-000002"]);
    let mut read = read_all(&mut t);
    t.sync(&now, &mut store);
    read.extend(read_all(&mut t));
    assert_eq!(texts(&read), ["second\n", "third\n"]);
}
