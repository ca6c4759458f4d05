//! Field paths: the steps from an object's root to one of its fields
//! (structured-merge-diff's `fieldpath.PathElement` and `Path`).
//!
//! A step is a struct or map field (`.spec`), a map-list item named by its key fields
//! (`[name="nginx"]`), a set item named by its value (`[="a"]`), or a list index
//! (`[0]`), used only where no better identity exists. Steps are ordered as upstream
//! orders them — fields, then keys, then values, then indexes — because that order is
//! visible in `fieldsV1` and in conflict lists.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use serde_json::Value;

use super::gojson;

/// One step of a [`Path`].
#[derive(Debug, Clone)]
pub(crate) enum PathElement {
    /// A struct field or map key (`f:name`).
    Field(String),
    /// A map-list item, by its key fields sorted by name (`k:{"name":"c"}`).
    Key(Vec<(String, Value)>),
    /// A set item, by its value (`v:"x"`).
    Value(Value),
    /// A list position (`i:0`).
    Index(i64),
}

impl PathElement {
    /// A field step.
    pub(crate) fn field(name: &str) -> Self {
        Self::Field(name.to_owned())
    }

    /// A key step; `fields` are sorted by name here.
    pub(crate) fn key(mut fields: Vec<(String, Value)>) -> Self {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        Self::Key(fields)
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Field(_) => 0,
            Self::Key(_) => 1,
            Self::Value(_) => 2,
            Self::Index(_) => 3,
        }
    }

    /// The `fieldsV1` key of this step, without the trie around it.
    pub(crate) fn to_fields_v1_key(&self) -> String {
        let mut out = String::new();
        self.write_fields_v1_key(&mut out);
        out
    }

    /// Appends the `fieldsV1` key of this step to `out`.
    pub(crate) fn write_fields_v1_key(&self, out: &mut String) {
        match self {
            Self::Field(name) => {
                out.reserve(name.len() + 2);
                out.push_str("f:");
                out.push_str(name);
            }
            Self::Key(fields) => {
                out.push_str("k:{");
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    gojson::write_string(out, name);
                    out.push(':');
                    gojson::write_value(out, v);
                }
                out.push('}');
            }
            Self::Value(v) => {
                out.push_str("v:");
                gojson::write_value(out, v);
            }
            Self::Index(i) => {
                let _ = write!(out, "i:{i}");
            }
        }
    }

    /// Parses a `fieldsV1` key. `Ok(None)` for a kind of step this version does not
    /// know (upstream drops those silently so a newer server's data survives).
    pub(crate) fn from_fields_v1_key(s: &str) -> Result<Option<Self>, String> {
        let b = s.as_bytes();
        if b.len() < 2 {
            return Err("key must be 2 characters long".to_owned());
        }
        if b[1] != b':' {
            return Err(format!("missing colon: {s}"));
        }
        let rest = &s[2..];
        match b[0] {
            b'f' => Ok(Some(Self::Field(rest.to_owned()))),
            b'v' => first_json_value(rest).map(|v| Some(Self::Value(v))),
            b'k' => match first_json_value(rest)? {
                Value::Object(map) => Ok(Some(Self::key(map.into_iter().collect()))),
                other => Err(format!("expected a JSON object after k:, got {other}")),
            },
            b'i' => parse_go_int(rest).map(|i| Some(Self::Index(i))),
            _ => Ok(None),
        }
    }
}

/// The first JSON value in `s` (upstream's reader stops after one value).
fn first_json_value(s: &str) -> Result<Value, String> {
    let mut values = serde_json::Deserializer::from_str(s).into_iter::<Value>();
    match values.next() {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("unexpected end of JSON input".to_owned()),
    }
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits, nothing else.
fn parse_go_int(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            gojson::go_quote(s)
        ));
    }
    s.parse::<i64>().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: value out of range",
            gojson::go_quote(s)
        )
    })
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Field(a), Self::Field(b)) => a.cmp(b),
            (Self::Key(a), Self::Key(b)) => compare_key_fields(a, b),
            (Self::Value(a), Self::Value(b)) => compare_values(a, b),
            (Self::Index(a), Self::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(name) => write!(f, ".{name}"),
            Self::Key(fields) => {
                f.write_str("[")?;
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={}", value_to_go_string(v))?;
                }
                f.write_str("]")
            }
            Self::Value(v) => write!(f, "[={}]", value_to_go_string(v)),
            Self::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A sequence of steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Path(pub(crate) Vec<PathElement>);

impl Path {
    /// A path of field steps (`Path::fields(&["spec", "replicas"])`).
    pub(crate) fn fields(names: &[&str]) -> Self {
        Self(names.iter().map(|n| PathElement::field(n)).collect())
    }
}

impl fmt::Display for Path {
    /// As upstream prints paths in conflicts and errors: `.spec.containers[name="c"].image`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pe in &self.0 {
            write!(f, "{pe}")?;
        }
        Ok(())
    }
}

/// structured-merge-diff's `value.ToString`: how a key or set value reads inside a
/// printed path (strings Go-quoted, floats as `%v`).
pub(crate) fn value_to_go_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => match n.as_u64() {
                Some(u) => u.to_string(),
                None => gojson::format_float_verb_v(n.as_f64().unwrap_or(0.0)),
            },
        },
        Value::String(s) => gojson::go_quote(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value_to_go_string).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            keys.into_iter()
                .map(|k| {
                    format!(
                        "{k}={}",
                        map.get(k).map(value_to_go_string).unwrap_or_default()
                    )
                })
                .collect()
        }
    }
}

/// A number as upstream sees it: an integer, or a float.
enum Num {
    Int(i64),
    Float(f64),
}

fn num(v: &Value) -> Option<Num> {
    let Value::Number(n) = v else { return None };
    Some(match n.as_i64() {
        Some(i) => Num::Int(i),
        None => Num::Float(n.as_f64().unwrap_or(0.0)),
    })
}

fn float_cmp(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// structured-merge-diff's `value.Compare`: numbers (ints and floats compared
/// numerically) < strings < booleans < lists < maps < null.
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => match (num(a), num(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x.cmp(&y),
            (Some(Num::Int(x)), Some(Num::Float(y))) => float_cmp(x as f64, y),
            (Some(Num::Float(x)), Some(Num::Int(y))) => float_cmp(x, y as f64),
            (Some(Num::Float(x)), Some(Num::Float(y))) => float_cmp(x, y),
            _ => Ordering::Equal,
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (l, r) in x.iter().zip(y) {
                let c = compare_values(l, r);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => compare_maps(x, y),
        (Value::Null, Value::Null) => Ordering::Equal,
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Upstream's `MapCompare`: walk the union of keys in lexical order; the map that runs
/// out of keys first, or lacks the current key, sorts first.
fn compare_maps(
    x: &serde_json::Map<String, Value>,
    y: &serde_json::Map<String, Value>,
) -> Ordering {
    if x.is_empty() && y.is_empty() {
        return Ordering::Equal;
    }
    let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
    keys.sort();
    keys.dedup();
    for (i, k) in keys.into_iter().enumerate() {
        let c = if i == x.len() {
            Ordering::Less
        } else if i == y.len() {
            Ordering::Greater
        } else {
            match (x.get(k), y.get(k)) {
                (None, _) => Ordering::Greater,
                (_, None) => Ordering::Less,
                (Some(l), Some(r)) => compare_values(l, r),
            }
        };
        if c != Ordering::Equal {
            return c;
        }
    }
    Ordering::Equal
}

fn compare_key_fields(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((an, av), (bn, bv)) in a.iter().zip(b) {
        let c = an.cmp(bn).then_with(|| compare_values(av, bv));
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

/// structured-merge-diff's `value.Equals`: deep equality where an integer equals the
/// float of the same value.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => match (num(a), num(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
            (Some(Num::Int(x)), Some(Num::Float(y))) | (Some(Num::Float(y)), Some(Num::Int(x))) => {
                x as f64 == y
            }
            (Some(Num::Float(x)), Some(Num::Float(y))) => x == y,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(l, r)| values_equal(l, r))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, l)| y.get(k).is_some_and(|r| values_equal(l, r)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_elements_round_trip_through_fields_v1_keys() {
        // Mirrors structured-merge-diff's TestPathElementRoundTrip: each key parses and
        // prints back unchanged.
        let keys = [
            "i:0",
            "i:1234",
            "f:",
            "f:spec",
            "f:more-complicated-string",
            r#"k:{"name":"my-container"}"#,
            r#"k:{"port":"8080","protocol":"TCP"}"#,
            r#"k:{"optionalField":null}"#,
            r#"k:{"jsonField":{"A":1,"B":null,"C":"D","E":{"F":"G"}}}"#,
            r#"k:{"listField":["1","2","3"]}"#,
            "v:null",
            r#"v:"some-string""#,
            "v:1234",
            r#"v:{"some":"json"}"#,
            // Set values of each scalar type.
            "v:true",
            "v:1.5",
            "v:-7",
            // Go's escaping inside keys survives the trip.
            r#"k:{"name":"a\u003cb\u0026c"}"#,
            r#"v:"quote\"and\\slash""#,
        ];
        for key in keys {
            let pe = PathElement::from_fields_v1_key(key)
                .unwrap_or_else(|e| panic!("{key}: {e}"))
                .unwrap_or_else(|| panic!("{key}: unknown"));
            assert_eq!(pe.to_fields_v1_key(), key);
        }
    }

    #[test]
    fn malformed_fields_v1_keys_are_errors_and_unknown_kinds_are_skipped() {
        // Mirrors TestDeserializePathElementError and TestPathElementIgnoreUnknown.
        let bad = [
            "",
            "no-colon",
            "i:index is not a number",
            "i:1.23",
            "i:",
            "v:invalid json",
            "v:",
            "k:invalid json",
            r#"k:{"name":invalid}"#,
        ];
        for key in bad {
            assert!(PathElement::from_fields_v1_key(key).is_err(), "{key:?}");
        }
        assert!(matches!(
            PathElement::from_fields_v1_key("r:Hello"),
            Ok(None)
        ));
    }

    #[test]
    fn keys_are_sorted_by_field_name() {
        // A key written with fields out of order is normalised (upstream sorts FieldLists).
        let pe = PathElement::from_fields_v1_key(r#"k:{"protocol":"TCP","port":80}"#)
            .ok()
            .flatten();
        assert_eq!(
            pe.map(|p| p.to_fields_v1_key()).as_deref(),
            Some(r#"k:{"port":80,"protocol":"TCP"}"#)
        );
    }

    #[test]
    fn elements_order_fields_keys_values_indexes() {
        // Each row: lhs, rhs, expected order (structured-merge-diff's PathElement.Compare).
        let f = PathElement::field;
        let k = |n: &str, v: Value| PathElement::key(vec![(n.to_owned(), v)]);
        let v = PathElement::Value;
        let rows: Vec<(PathElement, PathElement, Ordering)> = vec![
            (f("a"), f("b"), Ordering::Less),                // fields by name
            (f("z"), k("name", json!("a")), Ordering::Less), // field < key
            (k("name", json!("z")), v(json!(1)), Ordering::Less), // key < value
            (v(json!("z")), PathElement::Index(0), Ordering::Less), // value < index
            (v(json!(2)), v(json!("a")), Ordering::Less),    // numbers < strings
            (v(json!("a")), v(json!(true)), Ordering::Less), // strings < bools
            (v(json!(1)), v(json!(1.0)), Ordering::Equal),   // ints equal floats
            (v(json!(1.5)), v(json!(2)), Ordering::Less),    // numerically
            (k("a", json!(1)), k("b", json!(0)), Ordering::Less), // key names first
            (
                PathElement::Index(2),
                PathElement::Index(10),
                Ordering::Less,
            ),
        ];
        for (a, b, want) in rows {
            assert_eq!(a.cmp(&b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn paths_print_as_upstream() {
        // Rows: path, upstream's Path.String().
        let rows = vec![
            (Path::fields(&["spec", "replicas"]), ".spec.replicas"),
            (
                Path(vec![
                    PathElement::field("spec"),
                    PathElement::field("containers"),
                    PathElement::key(vec![("name".into(), json!("nginx"))]),
                    PathElement::field("image"),
                ]),
                r#".spec.containers[name="nginx"].image"#,
            ),
            (
                Path(vec![
                    PathElement::field("ports"),
                    PathElement::key(vec![
                        ("protocol".into(), json!("TCP")),
                        ("containerPort".into(), json!(80)),
                    ]),
                ]),
                r#".ports[containerPort=80,protocol="TCP"]"#,
            ),
            (
                Path(vec![
                    PathElement::field("finalizers"),
                    PathElement::Value(json!("a")),
                ]),
                r#".finalizers[="a"]"#,
            ),
            (
                Path(vec![PathElement::field("args"), PathElement::Index(3)]),
                ".args[3]",
            ),
        ];
        for (path, want) in rows {
            assert_eq!(path.to_string(), want);
        }
    }
}
