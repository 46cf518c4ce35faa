//! The two slots: the newest whole write is read, a write cut short leaves the one
//! before it, `seq` goes on across restarts, stale bytes past a write are ignored.

use super::*;

fn slots(dir: &Path) -> QuickSlots {
    QuickSlots::new(dir)
}

#[test]
fn writes_alternate_and_the_newest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = slots(dir.path());
    assert_eq!(read(dir.path()), None);
    for content in [&b"first"[..], b"second", b"third"] {
        q.write(content).unwrap();
        assert_eq!(read(dir.path()).as_deref(), Some(content));
    }
    let [a, b] = slot_paths(dir.path());
    assert!(a.exists() && b.exists());
}

#[test]
fn a_slot_cut_short_or_changed_leaves_the_other_one() {
    type Damage = fn(&mut Vec<u8>);
    let cuts: [Damage; 4] = [
        |b| b.truncate(b.len() - 1),
        |b| b.truncate(HEADER - 1),
        |b| *b.last_mut().unwrap() ^= 1,
        |b| b[5] ^= 1, // the seq: covered by the CRC too
    ];
    for (i, damage) in cuts.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = slots(dir.path());
        q.write(b"older").unwrap();
        q.write(b"newer").unwrap();
        let newest = &slot_paths(dir.path())[1];
        let mut bytes = fs::read(newest).unwrap();
        damage(&mut bytes);
        fs::write(newest, &bytes).unwrap();
        assert_eq!(
            read(dir.path()).as_deref(),
            Some(&b"older"[..]),
            "damage {i}"
        );
    }
}

#[test]
fn a_new_process_goes_on_from_the_newest_slot() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = slots(dir.path());
    first.write(b"a").unwrap();
    first.write(b"b").unwrap();
    drop(first);
    // A restart: counting from 1 again would write slot 0 under slot 1's seq.
    let mut second = slots(dir.path());
    second.write(b"c").unwrap();
    assert_eq!(read(dir.path()).as_deref(), Some(&b"c"[..]));
    second.write(b"d").unwrap();
    assert_eq!(read(dir.path()).as_deref(), Some(&b"d"[..]));
}

#[test]
fn bytes_left_past_a_shorter_write_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = slots(dir.path());
    q.write(&[b'x'; 300]).unwrap();
    q.write(b"other slot").unwrap();
    q.write(b"short").unwrap();
    assert_eq!(read(dir.path()).as_deref(), Some(&b"short"[..]));
}

#[test]
fn removed_slots_are_gone_and_writing_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = slots(dir.path());
    q.write(b"a").unwrap();
    q.write(b"b").unwrap();
    q.remove().unwrap();
    assert!(slot_paths(dir.path()).iter().all(|p| !p.exists()));
    assert_eq!(read(dir.path()), None);
    q.write(b"c").unwrap();
    assert_eq!(read(dir.path()).as_deref(), Some(&b"c"[..]));
}

#[test]
fn a_file_that_is_no_slot_is_removed_and_the_other_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = slots(dir.path());
    q.write(b"kept").unwrap();
    let [_, other] = slot_paths(dir.path());
    fs::write(
        &other,
        b"{\"not\": \"a slot\"} and more bytes than a header",
    )
    .unwrap();
    assert_eq!(read(dir.path()).as_deref(), Some(&b"kept"[..]));
    assert!(!other.exists());
}
