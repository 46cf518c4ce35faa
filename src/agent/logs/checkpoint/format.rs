//! The on-disk format of `checkpoints.json`: `{"version":1,"files":[...]}`. The version
//! is read first, on its own, so a file from a newer agent is reported as such rather
//! than as a puzzling field error; anything else that does not parse (truncated JSON,
//! NUL bytes) is corrupt, and the store sets it aside.

use super::identity::FileId;
use serde::{Deserialize, Serialize};
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
    let header: Header = serde_json::from_slice(bytes)?;
    if header.version != u64::from(VERSION) {
        return Err(FormatError::UnknownVersion(header.version));
    }
    Ok(serde_json::from_slice::<V1>(bytes)?.files)
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
}
