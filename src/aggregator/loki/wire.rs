//! The three push formats decoded into [`RawStream`]s, labels not yet validated:
//! protobuf `PushRequest` (`crate::loki_proto`; prost refuses strings that are not
//! UTF-8), Loki's JSON (`{"streams":[{"stream":{..},"values":[["<ns>","line",{meta}]]}]}`,
//! as `loghttp.Entry`'s decoder: the time a string of nanoseconds, at most three items)
//! and the legacy JSON of `/api/prom/push` (`labels` text, `entries[{"ts":RFC 3339,
//! "line"}]`). Pure functions over bytes.

use super::body::BodyError;
use crate::aggregator::http::params::rfc3339;
use crate::aggregator::model::logs::LogEntry;
use crate::loki_proto::{EntryAdapter, PushRequest};
use prost::Message;
use serde::de::{Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// A stream's labels as they arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelSource {
    /// The `{a="b"}` text of protobuf and legacy JSON.
    Text(String),
    /// Loki's JSON `stream` object (names sorted, the last of repeated names kept).
    Pairs(Vec<(String, String)>),
}

/// One stream of a push, as decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStream {
    pub labels: LabelSource,
    pub entries: Vec<LogEntry>,
}

pub fn protobuf(raw: &[u8]) -> Result<Vec<RawStream>, BodyError> {
    let req =
        PushRequest::decode(raw).map_err(|e| BodyError::Corrupt("protobuf", e.to_string()))?;
    req.streams
        .into_iter()
        .map(|s| {
            let entries = s.entries.into_iter().map(entry).collect::<Result<_, _>>()?;
            Ok(RawStream {
                labels: LabelSource::Text(s.labels),
                entries,
            })
        })
        .collect()
}

fn entry(e: EntryAdapter) -> Result<LogEntry, BodyError> {
    // An absent timestamp is the zero message (1970), which the age check refuses.
    let t = e.timestamp.unwrap_or_default();
    let ts = i64::try_from(t.unix_nanos())
        .map_err(|_| BodyError::Corrupt("protobuf", format!("timestamp out of range: {t:?}")))?;
    Ok(LogEntry {
        ts,
        line: e.line,
        metadata: e
            .structured_metadata
            .into_iter()
            .map(|p| (p.name, p.value))
            .collect(),
    })
}

fn utf8(body: &[u8]) -> Result<&[u8], BodyError> {
    match simdutf8::compat::from_utf8(body) {
        Ok(_) => Ok(body),
        Err(e) => Err(BodyError::Corrupt(
            "JSON",
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )),
    }
}

#[derive(Deserialize)]
struct JsonPush {
    #[serde(default)]
    streams: Vec<JsonStream>,
}

#[derive(Deserialize)]
struct JsonStream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<JsonEntry>,
}

pub fn json(body: &[u8]) -> Result<Vec<RawStream>, BodyError> {
    let push: JsonPush = serde_json::from_slice(utf8(body)?)
        .map_err(|e| BodyError::Corrupt("JSON", e.to_string()))?;
    Ok(push
        .streams
        .into_iter()
        .map(|s| RawStream {
            labels: LabelSource::Pairs(s.stream.into_iter().collect()),
            entries: s.values.into_iter().map(|v| v.0).collect(),
        })
        .collect())
}

/// `["<ns>", "line"]` or `["<ns>", "line", {"name": "value"}]`.
struct JsonEntry(LogEntry);

impl<'de> Deserialize<'de> for JsonEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = JsonEntry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"an entry ["<unix ns>", "<line>"] with optional metadata"#)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonEntry, A::Error> {
        let ts: String = seq
            .next_element()?
            .ok_or_else(|| A::Error::custom("entry without a timestamp"))?;
        let ts = ts
            .parse::<i64>()
            .map_err(|e| A::Error::custom(format!("error reading entry timestamp {ts:?}: {e}")))?;
        let line: String = seq
            .next_element()?
            .ok_or_else(|| A::Error::custom("entry without a line"))?;
        let metadata = seq
            .next_element::<Pairs>()?
            .map(|p| p.0)
            .unwrap_or_default();
        if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::custom("an entry has at most 3 items"));
        }
        Ok(JsonEntry(LogEntry { ts, line, metadata }))
    }
}

/// An object of string values, in document order.
struct Pairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PairsVisitor)
    }
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Pairs;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("structured metadata: an object of string values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry::<String, String>()? {
            pairs.push(pair);
        }
        Ok(Pairs(pairs))
    }
}

#[derive(Deserialize)]
struct LegacyPush {
    #[serde(default)]
    streams: Vec<LegacyStream>,
}

#[derive(Deserialize)]
struct LegacyStream {
    labels: String,
    #[serde(default)]
    entries: Vec<LegacyEntry>,
}

#[derive(Deserialize)]
struct LegacyEntry {
    ts: String,
    line: String,
}

pub fn legacy_json(body: &[u8]) -> Result<Vec<RawStream>, BodyError> {
    let push: LegacyPush = serde_json::from_slice(utf8(body)?)
        .map_err(|e| BodyError::Corrupt("JSON", e.to_string()))?;
    push.streams
        .into_iter()
        .map(|s| {
            let entries = s
                .entries
                .into_iter()
                .map(legacy_entry)
                .collect::<Result<_, _>>()?;
            Ok(RawStream {
                labels: LabelSource::Text(s.labels),
                entries,
            })
        })
        .collect()
}

fn legacy_entry(e: LegacyEntry) -> Result<LogEntry, BodyError> {
    let bad = || BodyError::Corrupt("JSON", format!("cannot parse {:?} as RFC 3339", e.ts));
    let (secs, nanos) = rfc3339(&e.ts).ok_or_else(bad)?;
    let ts = secs
        .checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(nanos))
        .ok_or_else(bad)?;
    Ok(LogEntry {
        ts,
        line: e.line,
        metadata: vec![],
    })
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
