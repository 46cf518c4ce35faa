//! Tests of the checkpoint store: round trip, crash leftovers (temp file, truncated file,
//! NUL bytes), identity rules (rename, inode reuse, growing short files), pruning and
//! offsets that never move back.
use super::durable::{FILE_NAME, TEMP_NAME};
use super::*;
use proptest::prelude::*;
use std::fs;
use std::sync::atomic::{AtomicU64, Ordering};

const T0: u64 = 1_700_000_000;
const DAY: u64 = 24 * 60 * 60;

/// A clock the test moves by hand.
#[derive(Clone)]
struct FakeClock(Arc<AtomicU64>);

impl FakeClock {
    fn new() -> Self {
        FakeClock(Arc::new(AtomicU64::new(T0)))
    }
    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    fn clock(&self) -> Clock {
        let now = self.0.clone();
        Arc::new(move || UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst)))
    }
}

fn open(dir: &Path, clock: &FakeClock) -> CheckpointStore {
    CheckpointStore::open_with_clock(dir, DEFAULT_RETENTION, clock.clock()).unwrap()
}

/// A store in `dir` that has persisted one file ("0.log") at offset 1.
fn persisted_at_1(dir: &Path, clock: &FakeClock) -> (CheckpointStore, FileId) {
    let mut store = open(dir, clock);
    let a = store.resolve(&probe(1, b"a\n"), &path("0.log"));
    store.advance(&a, 1).unwrap();
    store.persist().unwrap();
    (store, a)
}

fn probe(ino: u64, head: &[u8]) -> Probe {
    Probe {
        dev: 2049,
        ino,
        head: head[..head.len().min(FINGERPRINT_LEN)].to_vec(),
    }
}

fn log_bytes(first_line: &str, len: usize) -> Vec<u8> {
    first_line
        .bytes()
        .chain(std::iter::repeat(b'.'))
        .take(len)
        .collect()
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(format!("/var/log/pods/ns_pod_uid/app/{name}"))
}

#[test]
fn round_trips_through_the_checkpoint_file() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut store = open(dir.path(), &clock);
    let a = store.resolve(&probe(1, &log_bytes("a", 300)), &path("0.log"));
    let b = store.resolve(&probe(2, b"short\n"), &path("1.log"));
    store.advance(&a, 4096).unwrap();
    store.advance(&b, 6).unwrap();
    store.mark_gone(&b).unwrap();
    assert!(store.persist().unwrap());
    assert!(
        !store.persist().unwrap(),
        "nothing changed, nothing written"
    );
    assert!(!dir.path().join(TEMP_NAME).exists());

    let again = open(dir.path(), &clock);
    assert_eq!((again.get(&a), again.get(&b)), (Some(4096), Some(6)));
    assert_eq!(again.stats(), &CheckpointStats::default());
    let text = fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
    assert!(
        text.contains("\"version\": 1") && text.contains("1.log"),
        "{text}"
    );
}

#[test]
fn a_complete_temp_file_is_the_newer_state_and_moves_into_place() {
    // A crash after the temp file's fsync, before the rename (Vector prefers it too).
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (mut store, a) = persisted_at_1(dir.path(), &clock);
    let old = fs::read(dir.path().join(FILE_NAME)).unwrap();
    store.advance(&a, 2).unwrap();
    store.persist().unwrap();
    let new = fs::read(dir.path().join(FILE_NAME)).unwrap();
    fs::write(dir.path().join(FILE_NAME), &old).unwrap();
    fs::write(dir.path().join(TEMP_NAME), &new).unwrap();

    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(2));
    assert_eq!(again.stats().recovered_from_temp, 1);
    assert!(!dir.path().join(TEMP_NAME).exists());
    assert_eq!(fs::read(dir.path().join(FILE_NAME)).unwrap(), new);
}

#[test]
fn an_incomplete_temp_file_is_discarded_and_the_old_state_kept() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (_store, a) = persisted_at_1(dir.path(), &clock);
    let old = fs::read(dir.path().join(FILE_NAME)).unwrap();
    fs::write(dir.path().join(TEMP_NAME), &old[..old.len() / 3]).unwrap();

    let again = open(dir.path(), &clock);
    assert_eq!(again.get(&a), Some(1));
    assert_eq!(again.stats().discarded_temp, 1);
    assert_eq!(again.stats().corrupt_files, 0);
    assert!(!dir.path().join(TEMP_NAME).exists());
}

#[test]
fn a_corrupt_checkpoint_file_is_kept_aside_counted_and_the_store_starts_empty() {
    // Promtail's positions.yaml full of NUL bytes crash-looped it (PITFALLS 2).
    let good = {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path(), &FakeClock::new());
        let a = store.resolve(&probe(1, b"a\n"), &path("0.log"));
        store.advance(&a, 2).unwrap();
        store.persist().unwrap();
        fs::read(dir.path().join(FILE_NAME)).unwrap()
    };
    let cases: [(&str, Vec<u8>); 4] = [
        ("NUL bytes", vec![0; 4096]),
        ("truncated", good[..good.len() - 5].to_vec()),
        ("empty", Vec::new()),
        ("newer version", br#"{"version":7,"files":[]}"#.to_vec()),
    ];
    for (name, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        let clock = FakeClock::new();
        fs::write(dir.path().join(FILE_NAME), &bytes).unwrap();
        let mut store = open(dir.path(), &clock);
        assert!(store.is_empty(), "{name}");
        assert_eq!(store.stats().corrupt_files, 1, "{name}");
        let aside = dir.path().join(format!("{FILE_NAME}.corrupt-{T0}"));
        assert_eq!(fs::read(&aside).unwrap(), bytes, "{name}: copy kept");
        let a = store.resolve(&probe(1, b"a\n"), &path("0.log"));
        store.advance(&a, 2).unwrap();
        store.persist().unwrap();
        assert_eq!(
            open(dir.path(), &clock).get(&a),
            Some(2),
            "{name}: usable again"
        );
    }
}

#[test]
fn a_failed_persist_leaves_the_previous_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let (mut store, a) = persisted_at_1(dir.path(), &clock);
    fs::create_dir(dir.path().join(TEMP_NAME)).unwrap(); // the temp file cannot be created
    store.advance(&a, 2).unwrap();
    assert!(matches!(store.persist(), Err(CheckpointError::Io { .. })));
    fs::remove_dir(dir.path().join(TEMP_NAME)).unwrap();
    assert_eq!(open(dir.path(), &clock).get(&a), Some(1));
    assert!(
        store.persist().unwrap(),
        "still dirty, written on the next try"
    );
    assert_eq!(open(dir.path(), &clock).get(&a), Some(2));
}

#[test]
fn knows_answers_by_identity_without_creating_an_entry() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut store = open(dir.path(), &clock);
    let short = probe(7, b"first line");
    assert!(!store.knows(&short));
    assert!(store.is_empty());
    store.resolve(&short, &path("0.log"));
    assert!(store.knows(&short));
    assert!(store.knows(&probe(7, &log_bytes("first line", 500))));
    assert!(!store.knows(&probe(7, b"other first line\n")));
    assert!(!store.knows(&probe(8, b"first line")));
}

#[test]
fn a_renamed_file_keeps_its_identity_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), &FakeClock::new());
    let file = probe(5, &log_bytes("rotating", 1000));
    let id = store.resolve(&file, &path("0.log"));
    store.advance(&id, 900).unwrap();
    assert_eq!(store.resolve(&file, &path("0.log.20240101-000000")), id);
    assert_eq!(store.get(&id), Some(900));
    store.persist().unwrap();
    let text = fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
    assert!(text.contains("0.log.20240101-000000"), "{text}");
}

#[test]
fn inode_reuse_with_other_first_bytes_is_a_new_file() {
    // Fluent Bit #4895: the new file took the old one's inode and was skipped.
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), &FakeClock::new());
    let old = store.resolve(&probe(7, &log_bytes("old container", 500)), &path("0.log"));
    store.advance(&old, 500).unwrap();
    let new = store.resolve(&probe(7, &log_bytes("new container", 40)), &path("0.log"));
    assert_ne!(new, old);
    assert_eq!(store.get(&new), Some(0));
    assert_eq!(store.get(&old), None);
    assert_eq!(store.stats().inode_reuses, 1);
    // A late acknowledgement for the old file must not move the new one.
    assert!(matches!(
        store.advance(&old, 500),
        Err(CheckpointError::LateAck { .. })
    ));
    assert_eq!(store.get(&new), Some(0));
    // Truncated in place: shorter than what was fingerprinted, so not the same content.
    let emptied = store.resolve(&probe(7, b""), &path("0.log"));
    assert_ne!(emptied, new);
    assert_eq!(store.len(), 1);
}

#[test]
fn a_file_shorter_than_the_fingerprint_is_recognised_as_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut store = open(dir.path(), &clock);
    let content = log_bytes("2024-01-01T00:00:00Z stdout F first\n", 1000);
    let empty = store.resolve(&probe(9, b""), &path("0.log"));
    let small = store.resolve(&probe(9, &content[..36]), &path("0.log"));
    assert_ne!(small, empty);
    // An acknowledgement that carries the id from when the file was empty still lands.
    store.advance(&empty, 36).unwrap();
    assert_eq!(store.get(&small), Some(36));
    store.persist().unwrap();

    // After a restart, the grown file is still the same file.
    let mut again = open(dir.path(), &clock);
    let full = again.resolve(&probe(9, &content), &path("0.log"));
    assert!(!full.fingerprint.is_partial());
    assert_eq!(again.get(&full), Some(36));
    again.advance(&small, 1000).unwrap();
    assert_eq!(again.get(&full), Some(1000));
    assert_eq!(again.len(), 1);
}

#[test]
fn offsets_never_move_back_except_by_an_explicit_reset() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), &FakeClock::new());
    let id = store.resolve(&probe(3, b"x\n"), &path("0.log"));
    store.advance(&id, 100).unwrap();
    let err = store.advance(&id, 50).unwrap_err();
    assert!(matches!(
        err,
        CheckpointError::Backwards {
            current: 100,
            requested: 50
        }
    ));
    assert_eq!(store.get(&id), Some(100));
    store.advance(&id, 100).unwrap();
    let new = store.reset(&id).unwrap();
    assert_eq!(store.get(&new), Some(0));
    assert_eq!(store.stats().resets, 1);
}

/// Copytruncate with acks in flight: the new content begins like the old one (same
/// first bytes), so only the generation tells them apart.
#[test]
fn late_acks_for_the_content_before_a_reset_are_ignored_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut store = open(dir.path(), &clock);
    let head = b"2024-01-01T00:00:00Z stdout F same first line\n";
    let old = store.resolve(&probe(3, head), &path("0.log"));
    store.advance(&old, 40).unwrap();
    let reset = store.reset(&old).unwrap();
    let new = store.resolve(&probe(3, head), &path("0.log"));
    assert_eq!(
        new, reset,
        "the same first bytes resolve to the new generation"
    );
    assert_eq!(
        new.fingerprint.generation(),
        old.fingerprint.generation() + 1
    );
    let late = store.advance(&old, 5000).unwrap_err();
    assert!(
        matches!(
            late,
            CheckpointError::LateAck {
                acked: 0,
                current: 1
            }
        ),
        "{late}"
    );
    assert_eq!(
        store.get(&new),
        Some(0),
        "the new content's checkpoint did not move"
    );
    store.advance(&new, 30).unwrap();
    assert_eq!((store.get(&new), store.stats().late_acks), (Some(30), 1));
    // The generation survives a restart; the old id still finds nothing.
    store.persist().unwrap();
    let mut again = open(dir.path(), &clock);
    assert_eq!(again.resolve(&probe(3, head), &path("0.log")), new);
    assert!(matches!(
        again.advance(&old, 9000),
        Err(CheckpointError::LateAck { .. })
    ));
    assert_eq!(again.get(&new), Some(30));
}

#[test]
fn a_rewritten_file_starts_a_newer_generation_than_its_old_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), &FakeClock::new());
    let old = store.resolve(&probe(4, b"old content\n"), &path("0.log"));
    store.advance(&old, 12).unwrap();
    let short = store.resolve(&probe(4, b"o"), &path("0.log")); // rewritten, shorter
    assert!(short.fingerprint.generation() > old.fingerprint.generation());
    assert!(matches!(
        store.advance(&old, 12),
        Err(CheckpointError::LateAck { .. })
    ));
    // Growing back into the very same bytes keeps the newer generation.
    let grown = store.resolve(&probe(4, b"old content\n"), &path("0.log"));
    assert_ne!(grown, old);
    assert_eq!(store.get(&grown), Some(0));
}

proptest! {
    /// Whatever instant a persist is interrupted at, the next start reads either the old
    /// or the new state, never anything else.
    #[test]
    fn an_interrupted_persist_yields_the_old_or_the_new_state(
        old_offset in 0u64..1 << 40,
        step in 1u64..1 << 40,
        cut in 0.0f64..=1.0,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let clock = FakeClock::new();
        let mut store = open(dir.path(), &clock);
        let id = store.resolve(&probe(1, b"a\n"), &path("0.log"));
        store.advance(&id, old_offset).unwrap();
        store.persist().unwrap();
        let old = fs::read(dir.path().join(FILE_NAME)).unwrap();
        store.advance(&id, old_offset + step).unwrap();
        store.persist().unwrap();
        let new = fs::read(dir.path().join(FILE_NAME)).unwrap();
        let written = (new.len() as f64 * cut) as usize;
        fs::write(dir.path().join(FILE_NAME), &old).unwrap();
        fs::write(dir.path().join(TEMP_NAME), &new[..written]).unwrap();
        let got = open(dir.path(), &clock).get(&id);
        let expected = if written == new.len() { old_offset + step } else { old_offset };
        prop_assert_eq!(got, Some(expected));
    }
}

mod prune;
mod quick;
