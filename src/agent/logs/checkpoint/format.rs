//! The on-disk format of `checkpoints.json`: `{"version":1,"files":[...]}`. The version
//! is read first, on its own, so a file from a newer agent is reported as such rather
//! than as a puzzling field error; anything else that does not parse (truncated JSON,
//! NUL bytes) is corrupt, and the store sets it aside.
//!
//! The quick file (quick.rs: the content of its newest slot) holds either the same
//! whole state, or only the changes since the stable file: `{"version":1,"kind":
//! "changes","files":[...],"removed":[ids]}`, applied over the stable file's state at a start ([`apply`]). An
//! older agent refuses the `kind` field, drops the quick file as cut short and reads the
//! stable file: an older state (lines sent again, none lost).

use super::identity::FileId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

/// One file's checkpoint as stored. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub id: FileId,
    /// Bytes of the file the sinks have acknowledged.
    pub offset: u64,
    /// The path the file was last seen at (for people; identity does not use it).
    pub path: String,
    /// When the store last saw or changed this entry.
    pub updated: u64,
    /// When the tailer reported the file gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_since: Option<u64>,
}

#[derive(Deserialize)]
struct Header {
    version: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct V1 {
    version: u32,
    files: Vec<Record>,
}

/// The quick file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quick {
    /// The whole state, read instead of the stable file.
    Whole(Vec<Record>),
    /// What changed since the stable file's state: entries as they are now, and ids
    /// no longer there.
    Changes {
        files: Vec<Record>,
        removed: Vec<FileId>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Changes,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuickV1 {
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<Kind>,
    files: Vec<Record>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    removed: Vec<FileId>,
}

/// Why a checkpoint file could not be read.
#[derive(Debug, Error)]
pub enum FormatError {
    #[error("not a checkpoint file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unknown checkpoint format version {0} (this build reads {VERSION})")]
    UnknownVersion(u64),
}

pub fn encode(files: Vec<Record>) -> Vec<u8> {
    let state = V1 {
        version: VERSION,
        files,
    };
    serde_json::to_vec_pretty(&state).expect("checkpoint records always serialize")
}

pub fn decode(bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    check_version(bytes)?;
    Ok(serde_json::from_slice::<V1>(bytes)?.files)
}

/// The quick file's bytes for the changes since the stable file (compact: it is
/// written after every acknowledged batch).
pub fn encode_changes(files: Vec<Record>, removed: Vec<FileId>) -> Vec<u8> {
    let state = QuickV1 {
        version: VERSION,
        kind: Some(Kind::Changes),
        files,
        removed,
    };
    serde_json::to_vec(&state).expect("checkpoint records always serialize")
}

/// Reads a quick file: a whole state (as [`encode`] writes) or changes.
pub fn decode_quick(bytes: &[u8]) -> Result<Quick, FormatError> {
    check_version(bytes)?;
    let q = serde_json::from_slice::<QuickV1>(bytes)?;
    Ok(match q.kind {
        Some(Kind::Changes) => Quick::Changes {
            files: q.files,
            removed: q.removed,
        },
        None if q.removed.is_empty() => Quick::Whole(q.files),
        None => {
            let msg = "a whole state lists no removed files";
            return Err(FormatError::Json(serde::de::Error::custom(msg)));
        }
    })
}

/// The state `changes` (from the quick file) lead to from `base` (the stable file's).
pub fn apply(base: Vec<Record>, files: Vec<Record>, removed: Vec<FileId>) -> Vec<Record> {
    let mut by_id: BTreeMap<FileId, Record> = base.into_iter().map(|r| (r.id, r)).collect();
    for id in removed {
        by_id.remove(&id);
    }
    for r in files {
        by_id.insert(r.id, r);
    }
    by_id.into_values().collect()
}

fn check_version(bytes: &[u8]) -> Result<(), FormatError> {
    let header: Header = serde_json::from_slice(bytes)?;
    if header.version != u64::from(VERSION) {
        return Err(FormatError::UnknownVersion(header.version));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::logs::checkpoint::identity::Fingerprint;

    fn record(ino: u64) -> Record {
        Record {
            id: FileId {
                dev: 2049,
                ino,
                fingerprint: Fingerprint::of(b"hello\n"),
            },
            offset: 6,
            path: "/var/log/pods/ns_pod_uid/c/0.log".into(),
            updated: 1_700_000_000,
            gone_since: None,
        }
    }

    #[test]
    fn round_trips_and_names_its_version() {
        let bytes = encode(vec![record(1), record(2)]);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
        assert_eq!(decode(&bytes).unwrap(), vec![record(1), record(2)]);
    }

    #[test]
    fn rejects_what_a_crash_or_a_newer_agent_leaves() {
        let good = encode(vec![record(1)]);
        let cases: [(&str, &[u8]); 5] = [
            ("empty", b""),
            ("NUL bytes", &[0u8; 4096]),
            ("truncated", &good[..good.len() / 2]),
            ("not an object", b"[]"),
            ("no version", br#"{"files":[]}"#),
        ];
        for (name, bytes) in cases {
            assert!(matches!(decode(bytes), Err(FormatError::Json(_))), "{name}");
        }
        let newer = br#"{"version":2,"files":[],"shards":4}"#;
        assert!(matches!(decode(newer), Err(FormatError::UnknownVersion(2))));
        let tail_of_nuls = [good.as_slice(), &[0u8; 16]].concat();
        assert!(decode(&tail_of_nuls).is_err());
    }

    #[test]
    fn the_quick_file_holds_the_whole_state_or_changes_and_changes_apply_over_a_base() {
        let whole = encode(vec![record(1)]);
        assert_eq!(decode_quick(&whole).unwrap(), Quick::Whole(vec![record(1)]));
        let moved = Record {
            offset: 60,
            ..record(2)
        };
        let changes = encode_changes(vec![moved.clone(), record(3)], vec![record(1).id]);
        let text = String::from_utf8(changes.clone()).unwrap();
        assert!(text.contains(r#""kind":"changes""#), "{text}");
        assert!(decode(&changes).is_err(), "never read as a stable file");
        let Quick::Changes { files, removed } = decode_quick(&changes).unwrap() else {
            panic!("changes read as a whole state");
        };
        let base = vec![record(1), record(2), record(4)];
        let got = apply(base, files, removed);
        assert_eq!(got, vec![moved, record(3), record(4)]);
        let cut = &changes[..changes.len() - 3];
        assert!(decode_quick(cut).is_err());
        let removed_only = String::from_utf8(encode_changes(vec![], vec![record(1).id])).unwrap();
        let odd = removed_only.replace(r#""kind":"changes","#, "");
        assert_ne!(odd, removed_only);
        assert!(decode_quick(odd.as_bytes()).is_err(), "{odd}");
    }
}
