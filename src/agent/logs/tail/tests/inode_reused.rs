//! A closed file's inode given to a new file before the close was reported to the
//! checkpoint store: the new file starts at 0, not at the closed file's offset.

use super::*;

/// Regression (found by tests/logs_model.rs, seeds 3 and 9): a rotated file opened empty
/// (its entry keyed on no bytes) was drained and closed by a poll; its inode went to
/// another container's new log file before the next sync, and that sync resolved the new
/// file before it reported the close (which re-keys the entry on the closed file's first
/// bytes). The entry keyed on no bytes matched the new file, which was read from the
/// closed file's acknowledged offset: from inside a line, its first lines lost.
///
/// The kernel's inode reuse cannot be forced in a test: the closed file itself, moved
/// into another container's directory and rewritten in place, is the new file on its
/// inode.
#[test]
fn a_new_file_on_the_inode_of_a_file_closed_since_the_last_sync_is_read_from_zero() {
    let fx = Fixture::new();
    let (mut store, mut t) = fx.opened_empty_and_acked("2024-01-01T00:00:00.1Z stdout F one\n");
    let rotated = fx.live.with_file_name("0.log.20240101-000001");
    fs::rename(&fx.live, &rotated).unwrap();
    fx.append(&fx.live, "2024-01-01T00:00:00.2Z stdout F two\n");
    let mut found = fx.found(&["0.log.20240101-000001"]);
    t.sync(&found, &mut store);
    let read = read_all(&mut t); // the rotated file is drained and closed here
    assert_eq!(read.iter().filter(|l| l.is_end_of_file()).count(), 1);
    // Its inode, now another container's live file with other content.
    let other = fx
        .live
        .parent()
        .unwrap()
        .with_file_name("other")
        .join("0.log");
    fs::create_dir_all(other.parent().unwrap()).unwrap();
    fs::rename(&rotated, &other).unwrap();
    fs::write(
        &other,
        "2024-01-01T00:00:00.3Z stderr F another container\n",
    )
    .unwrap();
    found[0].rotated.clear();
    found.push(Discovered {
        live: other,
        rotated: Vec::new(),
    });
    t.sync(&found, &mut store);
    assert_eq!(
        texts(&read_all(&mut t)),
        ["2024-01-01T00:00:00.3Z stderr F another container\n"]
    );
}
