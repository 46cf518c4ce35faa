//! Streams let go of for good ([`Tailer::take_ended`]): told once, and only after every
//! line and end-of-file mark of them was handed out, so the processor can drop what it
//! keeps per stream without losing a line.

use super::*;

/// A container removed (its directory deleted) with a line still unread: the open
/// file is drained first, and the stream is told ended at the sync after, once.
#[test]
fn a_removed_container_is_told_ended_once_after_its_last_line() {
    let fx = Fixture::new();
    fx.append(&fx.live, "a\n");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    assert_eq!(texts(&read_all(&mut t)), ["a\n"]);
    fx.append(&fx.live, "b\n");
    fs::remove_dir_all(fx.live.parent().unwrap()).unwrap();
    t.sync(&[], &mut store);
    assert!(t.take_ended().is_empty(), "a line is still unread");
    assert_eq!(shown(&read_all(&mut t)), ["b\n", "<end@4>"]);
    assert!(t.take_ended().is_empty(), "told at a sync");
    t.sync(&[], &mut store);
    let live: Arc<Path> = Arc::from(fx.live.as_path());
    assert_eq!(t.take_ended(), [live]);
    t.sync(&[], &mut store);
    assert!(t.take_ended().is_empty(), "told once");
}

/// A stream still listed is never told ended, even with no file open (its live file
/// missing for a moment during a rotation).
#[test]
fn a_listed_stream_is_not_told_ended() {
    let fx = Fixture::new();
    fx.append(&fx.live, "a\n");
    let mut store = fx.store();
    let mut t = fx.tailer(TailConfig::default());
    t.sync(&fx.found(&[]), &mut store);
    read_all(&mut t);
    fs::rename(&fx.live, fx.live.with_file_name("0.log.1")).unwrap();
    for _ in 0..3 {
        t.sync(&fx.found(&["0.log.1"]), &mut store);
        read_all(&mut t);
    }
    assert!(t.take_ended().is_empty());
}

/// A parked stream (no file open: `max_open_files`) whose pod is deleted while it
/// waits is told ended, like an open one.
#[test]
fn a_parked_stream_whose_pod_went_is_told_ended() {
    let fx = Fixture::new();
    let other = fx
        .live
        .parent()
        .unwrap()
        .with_file_name("side")
        .join("0.log");
    fs::create_dir_all(other.parent().unwrap()).unwrap();
    fx.append(&fx.live, "a\n");
    fx.append(&other, "b\n");
    let mut found = fx.found(&[]);
    found.push(Discovered {
        live: other.clone(),
        rotated: Vec::new(),
    });
    let mut store = fx.store();
    let config = TailConfig {
        max_open_files: 1,
        ..TailConfig::default()
    };
    let mut t = fx.tailer(config);
    for _ in 0..3 {
        t.sync(&found, &mut store);
        read_all(&mut t);
    }
    assert_eq!(t.stats().streams_parked, 1);
    let parked = found.iter().find(|d| {
        let key: Arc<Path> = Arc::from(d.live.as_path());
        t.parked.contains(&key)
    });
    let gone = parked.expect("one parked").live.clone();
    fs::remove_dir_all(gone.parent().unwrap()).unwrap();
    found.retain(|d| d.live != gone);
    t.sync(&found, &mut store);
    let gone: Arc<Path> = Arc::from(gone.as_path());
    assert_eq!(t.take_ended(), [gone]);
    assert_eq!(t.stats().streams_parked, 0);
}
