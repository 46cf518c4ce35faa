//! A copytruncate copy met by a sync while logrotate is still writing it.

use super::*;

/// Regression (found by tests/logs_model.rs, seed 2): a sync that met the copy
/// copytruncate was making while it was still empty (created, not yet filled) opened
/// it as a rotated file never seen, at 0; filled before the next read, it was read
/// from 0 and what the reader had already read of the original came out twice.
#[test]
fn a_copy_met_before_it_is_filled_is_claimed_and_read_from_where_the_reader_was() {
    let fx = Fixture::new();
    let (mut store, mut t) = fx.opened("one\ntwo\n");
    assert_eq!(texts(&read_all(&mut t)), ["one\n", "two\n"]);
    fx.append(&fx.live, "three\n");
    // logrotate creates the copy, a scan meets it empty, then it is filled.
    let copy = fx.live.with_file_name("0.log.20240101-000001");
    File::create(&copy).unwrap();
    t.sync(&fx.found(&["0.log.20240101-000001"]), &mut store);
    fs::write(&copy, fs::read(&fx.live).unwrap()).unwrap();
    fx.truncate(&fx.live);
    fx.append(&fx.live, "four\n");
    let mut read = texts(&read_all(&mut t));
    t.sync(&fx.found(&["0.log.20240101-000001"]), &mut store);
    read.extend(texts(&read_all(&mut t)));
    assert_eq!(read, ["three\n", "four\n"]);
    assert_eq!(t.stats().truncations, 1);
}
