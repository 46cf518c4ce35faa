//! Rotated files met at an awkward moment are read once: a copytruncate copy met while
//! logrotate is still writing it (empty or half written), and a file already read and
//! closed met again after a discovery list that predates it, and a copy given the inode
//! of a file closed empty.

use super::*;

/// logrotate (like `std::fs::copy`) creates the copy, then fills it: a sync may meet it
/// empty or half written, not yet beginning with the live file's first bytes. It must
/// not be opened then as a new file read from 0 (every line read twice): it is left
/// for the sync after the truncation, which reads the copy on from where the reader was.
#[test]
fn a_copy_met_while_being_written_is_not_read_again_from_zero() {
    let fx = Fixture::new();
    let content = "copied line one\ncopied line two\n";
    let (mut store, mut t) = fx.opened(content);
    assert_eq!(
        texts(&read_all(&mut t)),
        ["copied line one\n", "copied line two\n"]
    );
    let copy = fx.live.with_file_name("0.log.20240101-000001");
    let listed = fx.found(&["0.log.20240101-000001"]);
    let (start, rest) = content.split_at(9);
    for piece in ["", start] {
        fx.append(&copy, piece);
        t.sync(&listed, &mut store);
        assert_eq!(texts(&read_all(&mut t)), Vec::<String>::new());
    }
    fx.append(&copy, rest);
    fx.truncate(&fx.live);
    fx.append(&fx.live, "after\n");
    t.sync(&listed, &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["after\n"]);
    assert_eq!(t.stats().truncations, 1);
}

/// A rotated file read to its end and closed, its acknowledgements still in flight (the
/// store has offset 0), then missing from one discovery list that predates it (a scan
/// racing the rotation) and listed again: it is not opened again and read from 0.
#[test]
fn a_closed_rotated_file_missing_from_a_stale_list_is_not_read_again() {
    let fx = Fixture::new();
    fx.append(&fx.live, "rotated line\n");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["rotated line\n"]);
    let rotated = "0.log.20240101-000001";
    fs::rename(&fx.live, fx.live.with_file_name(rotated)).unwrap();
    fx.append(&fx.live, "live line\n");
    t.sync(&fx.found(&[rotated]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["live line\n"]);
    for listed in [&[][..], &[rotated][..]] {
        t.sync(&fx.found(listed), &mut store);
        assert_eq!(texts(&read_all(&mut t)), Vec::<String>::new());
    }
}

/// A copytruncate copy made while the agent was down, given the inode of a file whose
/// entry was keyed on no bytes (a rotated file closed empty): it is read on from the
/// copied file's checkpoint, not from 0 as that empty file's.
#[test]
fn a_copy_on_the_inode_of_an_empty_file_resumes_at_the_copied_files_checkpoint() {
    let fx = Fixture::new();
    fx.append(&fx.live, "");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    let rotated = "0.log.20240101-000001";
    let reused = fx.live.with_file_name(rotated);
    fs::rename(&fx.live, &reused).unwrap();
    fx.append(&fx.live, "one\ntwo\n");
    t.sync(&fx.found(&[rotated]), &mut store);
    let lines = read_all(&mut t);
    assert_eq!(texts(&lines), ["one\n", "two\n"]);
    store.advance(&lines[2].file, lines[2].offset_end).unwrap();
    t.sync(&fx.found(&[rotated]), &mut store);
    store.persist().unwrap();
    // Down: the live file copied onto the empty file's inode, then truncated.
    fx.append(&reused, "one\ntwo\n");
    fx.truncate(&fx.live);
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[rotated]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), Vec::<String>::new());
}
