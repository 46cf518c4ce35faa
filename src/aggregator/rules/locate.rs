//! Where a node of a rule file is (line and column, 1-based), as rulefmt's error
//! messages give it. serde gives no positions for values it deserialized, but it gives
//! one for an error raised at a node; so a second, probing pass walks to the node at
//! `path` and fails there, and the error's location is the node's. Used only when a
//! file has something to report. A mapping's position is its first key's, a scalar's
//! its value's, as in Go's yaml.v3 nodes.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One step into the document.
#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

const FOUND: &str = "\u{0}rules-locate-found";

/// The (line, column) of the node at `path`, or `None` when there is no such node.
pub fn position(text: &str, path: &[Step]) -> Option<(usize, usize)> {
    let de = serde_norway::Deserializer::from_str(text);
    match Probe(path).deserialize(de) {
        Err(e) if e.to_string().contains(FOUND) => e.location().map(|l| (l.line(), l.column())),
        _ => None,
    }
}

/// `"L:C: "` for the node at `path`, or `"0:0: "` for an absent one (rulefmt prints
/// the zero node's position).
pub fn prefix(text: &str, path: &[Step]) -> String {
    let (l, c) = position(text, path).unwrap_or((0, 0));
    format!("{l}:{c}: ")
}

struct Probe<'a>(&'a [Step<'a>]);

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.0.first() {
            None => d.deserialize_any(Found),
            Some(Step::Key(_)) => d.deserialize_map(self),
            Some(Step::Index(_)) => d.deserialize_seq(self),
        }
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a rule file node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(Step::Key(want)) = self.0.first() else {
            return Ok(());
        };
        while let Some(key) = map.next_key::<String>()? {
            if key == *want {
                return map.next_value_seed(Probe(&self.0[1..]));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some(Step::Index(want)) = self.0.first() else {
            return Ok(());
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Probe(&self.0[1..])).map(|_| ())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// At the node: fail, so that the error carries its position.
struct Found;

impl<'de> Visitor<'de> for Found {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any node")
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Step::{Index, Key};

    const DOC: &str = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n  - name: h\n    rules: [{record: r, expr: x}]\n";

    #[test]
    fn nodes_are_found_where_yaml_v3_puts_them() {
        let at = |p: &[Step]| position(DOC, p);
        assert_eq!(at(&[Key("groups"), Index(0)]), Some((2, 5)));
        let expr = [Key("groups"), Index(0), Key("rules"), Index(0), Key("expr")];
        assert_eq!(at(&expr), Some((5, 15)));
        let record = [
            Key("groups"),
            Index(1),
            Key("rules"),
            Index(0),
            Key("record"),
        ];
        assert_eq!(at(&record), Some((7, 22)));
        assert_eq!(at(&[Key("groups"), Index(2)]), None);
        let absent = [
            Key("groups"),
            Index(0),
            Key("rules"),
            Index(0),
            Key("record"),
        ];
        assert_eq!(prefix(DOC, &absent), "0:0: ");
    }
}
