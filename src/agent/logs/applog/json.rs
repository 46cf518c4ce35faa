//! One pass of serde_json over a JSON object line that keeps only the fields we lift,
//! borrowed from the line when their JSON text has no escapes. Every other value is
//! skipped with `IgnoredAny` (no `Value` tree is built). serde_json's recursion limit
//! (128 levels) turns deep nesting into an error, not a stack overflow.
//!
//! Keys are matched as written (case-sensitive), flat (`"log.level"`, as ECS loggers
//! write them) or nested one level under `log`, `trace`, `span` and `dd`
//! (`{"log":{"level":..}}`, `{"dd":{"trace_id":..}}`). The first key found for a field
//! wins.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// The values found, before the level is normalized.
#[derive(Debug, Default)]
pub(super) struct Raw<'a> {
    pub level: Option<Scalar<'a>>,
    pub message: Option<Cow<'a, str>>,
    pub trace_id: Option<Cow<'a, str>>,
    pub span_id: Option<Cow<'a, str>>,
}

/// A JSON value reduced to what a lifted field can use.
#[derive(Debug, PartialEq)]
pub(super) enum Scalar<'a> {
    Str(Cow<'a, str>),
    /// A non-negative integer (pino levels, Datadog's numeric trace ids).
    Num(u64),
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Level,
    Message,
    TraceId,
    SpanId,
}

/// Which field a key holds, at the top level (`parent` None) or under `parent`.
fn slot(parent: Option<&str>, key: &str) -> Option<Slot> {
    Some(match (parent, key) {
        (None, "level" | "lvl" | "severity" | "severity_text" | "levelname" | "log.level")
        | (None, "@l")
        | (Some("log"), "level") => Slot::Level,
        (None, "msg" | "message" | "@m") => Slot::Message,
        (None, "trace_id" | "traceId" | "trace.id" | "dd.trace_id" | "@tr")
        | (Some("trace"), "id")
        | (Some("dd"), "trace_id") => Slot::TraceId,
        (None, "span_id" | "spanId" | "span.id" | "dd.span_id" | "@sp")
        | (Some("span"), "id")
        | (Some("dd"), "span_id") => Slot::SpanId,
        _ => return None,
    })
}

/// Top-level keys whose object values are searched one level down.
fn parent(key: &str) -> Option<&'static str> {
    ["log", "trace", "span", "dd"]
        .into_iter()
        .find(|p| *p == key)
}

/// Parses a whole line that must be one JSON object (trailing whitespace allowed).
pub(super) fn parse(text: &str) -> Result<Raw<'_>, serde_json::Error> {
    let mut raw = Raw::default();
    let mut de = serde_json::Deserializer::from_str(text);
    Object {
        parent: None,
        raw: &mut raw,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(raw)
}

impl<'a> Raw<'a> {
    fn is_set(&self, slot: Slot) -> bool {
        match slot {
            Slot::Level => self.level.is_some(),
            Slot::Message => self.message.is_some(),
            Slot::TraceId => self.trace_id.is_some(),
            Slot::SpanId => self.span_id.is_some(),
        }
    }

    /// Stores a value; a message must be a string, ids may be numbers (Datadog).
    fn set(&mut self, slot: Slot, value: Scalar<'a>) {
        let text = |v| match v {
            Scalar::Str(s) => Some(s),
            Scalar::Num(n) => Some(Cow::Owned(n.to_string())),
            Scalar::Other => None,
        };
        match (slot, value) {
            (Slot::Level, v) => self.level = Some(v),
            (Slot::Message, Scalar::Str(s)) => self.message = Some(s),
            (Slot::Message, _) => {}
            (Slot::TraceId, v) => self.trace_id = text(v),
            (Slot::SpanId, v) => self.span_id = text(v),
        }
    }
}

/// Walks an object's entries, filling `raw`; any other value is skipped.
struct Object<'r, 'a> {
    parent: Option<&'static str>,
    raw: &'r mut Raw<'a>,
}

impl<'de> DeserializeSeed<'de> for Object<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Object<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(Text(key)) = map.next_key::<Text>()? {
            match (slot(self.parent, &key), self.parent) {
                (Some(s), _) if !self.raw.is_set(s) => self.raw.set(s, map.next_value()?),
                (None, None) if parent(&key).is_some() => map.next_value_seed(Object {
                    parent: parent(&key),
                    raw: &mut *self.raw,
                })?,
                _ => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(())
    }

    // A nested parent key whose value is not an object (`"log":"..."`): skipped.
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A string borrowed from the line when it has no escapes (serde's own `Cow<str>`
/// always copies).
struct Text<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(ScalarVisitor)? {
            Scalar::Str(s) => Ok(Text(s)),
            _ => Err(de::Error::custom("expected a string key")),
        }
    }
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(s.to_owned())))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Num(n))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Scalar<'de>, E> {
        Ok(u64::try_from(n).map_or(Scalar::Other, Scalar::Num))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Scalar<'de>, S::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Scalar<'de>, M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}
