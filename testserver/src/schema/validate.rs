//! Field validation: what `fieldValidation=Strict|Warn|Ignore` reports.
//!
//! Built-in types are decoded into typed structs upstream, which silently drops
//! unknown fields; strict decoding reports them (and duplicate keys) first. We do the
//! same on JSON: [`decode`] parses a body and notes every duplicate key, [`prune`]
//! removes fields the schema does not declare and notes them. Paths are written as
//! upstream writes them (`spec.template.spec.containers[0].foo`).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{Cursor, Kind, Member};

/// Where a value sits in the document, as a chain of borrowed steps: printed (as
/// upstream prints field errors, `spec.containers[0].foo`) only when a problem is
/// found, so a clean body costs no path strings.
#[derive(Clone, Copy)]
enum At<'p> {
    Root,
    Key(&'p At<'p>, &'p str),
    Index(&'p At<'p>, usize),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root => Ok(()),
            At::Key(At::Root, key) => f.write_str(key),
            At::Key(parent, key) => write!(f, "{parent}.{key}"),
            At::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// Parses JSON, noting the path of every duplicate key (the last value wins, as in
/// upstream's decoder).
///
/// # Errors
///
/// The body is not JSON.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Value, Vec<String>), serde_json::Error> {
    let mut duplicates = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Seed {
        at: &At::Root,
        duplicates: &mut duplicates,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((value, duplicates))
}

struct Seed<'a, 'p> {
    at: &'p At<'p>,
    duplicates: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let at = At::Index(self.at, out.len());
            let seed = Seed {
                at: &at,
                duplicates: self.duplicates,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Seed {
                at: &At::Key(self.at, &key),
                duplicates: self.duplicates,
            })?;
            if out.contains_key(&key) {
                self.duplicates.push(At::Key(self.at, &key).to_string());
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Removes every field `schema` does not declare from `value`, returning their paths.
/// Untyped values and structs that preserve unknown fields are left alone.
pub(crate) fn prune(schema: Cursor<'_>, value: &mut Value) -> Vec<String> {
    let mut unknown = Vec::new();
    prune_at(schema, value, &At::Root, &mut unknown);
    unknown
}

fn prune_at(schema: Cursor<'_>, value: &mut Value, at: &At<'_>, unknown: &mut Vec<String>) {
    match (schema.kind(), value) {
        (Kind::Struct { .. } | Kind::Map { .. }, Value::Object(obj)) => {
            let mut drop = Vec::new();
            for (key, child) in obj.iter_mut() {
                match schema.member(key) {
                    Member::Field(_, c) | Member::Value(c) => {
                        prune_at(c, child, &At::Key(at, key), unknown)
                    }
                    Member::Untyped => {}
                    Member::Unknown => {
                        unknown.push(At::Key(at, key).to_string());
                        drop.push(key.clone());
                    }
                }
            }
            for key in drop {
                obj.remove(&key);
            }
        }
        (Kind::List { .. }, Value::Array(items)) => {
            if let Some(item) = schema.items() {
                for (i, child) in items.iter_mut().enumerate() {
                    prune_at(item, child, &At::Index(at, i), unknown);
                }
            }
        }
        _ => {}
    }
}

/// The message strict decoding fails with: `strict decoding error: unknown field
/// "a", duplicate field "b"`.
pub(crate) fn strict_message(unknown: &[String], duplicates: &[String]) -> String {
    let mut parts: Vec<String> = unknown
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    parts.extend(
        duplicates
            .iter()
            .map(|p| format!("duplicate field \"{p}\"")),
    );
    format!("strict decoding error: {}", parts.join(", "))
}

/// One warning per problem, as `fieldValidation=Warn` sends them.
pub(crate) fn warnings(unknown: &[String], duplicates: &[String]) -> Vec<String> {
    let mut out: Vec<String> = unknown
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    out.extend(
        duplicates
            .iter()
            .map(|p| format!("duplicate field \"{p}\"")),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::ListType;
    use super::super::build::Builder;
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicates_are_noted_with_their_paths() {
        let (v, dups) = decode(
            br#"{"spec":{"replicas":1,"replicas":2,"t":[{"a":1,"a":2}]},"kind":"X","kind":"Y"}"#,
        )
        .expect("json");
        assert_eq!(dups, vec!["spec.replicas", "spec.t[0].a", "kind"]);
        assert_eq!(v["spec"]["replicas"], 2, "the last value wins");
        assert!(decode(b"{").is_err());
        assert!(decode(b"{} x").is_err(), "trailing characters are an error");
    }

    #[test]
    fn unknown_fields_are_pruned_and_reported() {
        let mut b = Builder::new();
        let s = b.string();
        let u = b.untyped();
        let item = b.structure("Item", &[("name", s, None, None)], false);
        let items = b.list(item, ListType::Map(vec!["name".into()]));
        let labels = b.map(s, false);
        let spec = b.structure(
            "Spec",
            &[("items", items, None, None), ("raw", u, None, None)],
            false,
        );
        let root = b.structure(
            "Root",
            &[("spec", spec, None, None), ("labels", labels, None, None)],
            false,
        );
        let schema = b.schema;
        let mut v = json!({
            "spec": {"items": [{"name": "a", "extra": 1}], "raw": {"anything": [1]}, "bogus": true},
            "labels": {"free": "form"},
            "top": 1
        });
        let unknown = prune(schema.cursor(root), &mut v);
        assert_eq!(unknown, vec!["spec.bogus", "spec.items[0].extra", "top"]);
        assert_eq!(
            v,
            json!({"spec": {"items": [{"name": "a"}], "raw": {"anything": [1]}}, "labels": {"free": "form"}})
        );
        assert_eq!(
            strict_message(&unknown[..1], &["spec.replicas".to_owned()]),
            r#"strict decoding error: unknown field "spec.bogus", duplicate field "spec.replicas""#
        );
    }
}
