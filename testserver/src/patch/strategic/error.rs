//! Why a strategic merge patch fails, worded as kube-apiserver words it.
//!
//! Most of these messages reach clients verbatim (`Error from server: map: map[image:nginx]
//! does not contain declared merge key: name`), so they render JSON the way Go's `%v`
//! renders the decoded `interface{}` values upstream prints: `map[k:v]` with sorted keys,
//! `[a b]` for arrays, strings bare, `<nil>` for null.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Why a strategic merge patch could not be applied (a 400 / 422 for the caller).
///
/// Messages are upstream's where clients can see them; [`status_code`](Self::status_code)
/// says how kube-apiserver reports each one.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StrategicPatchError {
    /// The patch body is JSON but not an object (upstream's decoder error, a 400).
    #[error("json: cannot unmarshal {found} into Go value of type map[string]interface {{}}")]
    PatchNotAnObject {
        /// `array`, `string`, `number` or `bool`.
        found: &'static str,
    },
    /// The stored object handed to [`apply`](super::apply) is not a JSON object: a bug of
    /// the caller, never of the client.
    #[error("the original object is not a json object")]
    OriginalNotAnObject,
    /// The patch or the object nests deeper than the merge recurses.
    #[error("patch or object nests deeper than {limit} levels")]
    TooDeep {
        /// The deepest nesting accepted.
        limit: usize,
    },
    /// A `$deleteFromPrimitiveList` key without `/<field>`.
    #[error("invalid patch format of primitive list")]
    InvalidPrimitiveListFormat,
    /// `$retainKeys` is not a list of keys, or the patch sets a key it does not list.
    #[error("invalid patch format of retainKeys")]
    InvalidRetainKeysFormat,
    /// A `$setElementOrder` key without `/<field>`.
    #[error("invalid patch format of setElementOrder list")]
    InvalidSetElementOrderFormat,
    /// A merged list whose items are lists.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// An item of a list merged by key lacks the key.
    #[error("map: {map} does not contain declared merge key: {key}")]
    MissingMergeKey {
        /// The item, rendered as Go's `%v` renders it.
        map: String,
        /// The merge key.
        key: String,
    },
    /// A value of the wrong JSON type where a list or an object is required.
    #[error("expected a {expected}, but received a {actual}")]
    WrongType {
        /// The Go type required (`map[string]interface {}` or `[]interface {}`).
        expected: &'static str,
        /// The Go type of the value found.
        actual: &'static str,
    },
    /// `$patch` with a value other than `replace` or `delete` (`merge` included: upstream
    /// only knows it as a struct tag).
    #[error("unknown patch type: {directive} in map: {map}")]
    UnknownPatchType {
        /// The `$patch` value, rendered as Go's `%s`.
        directive: String,
        /// The object holding it, rendered as Go's `%v`.
        map: String,
    },
    /// `$patch: merge` as an item of a list.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// A list of objects merged (or deleted from) without a merge key.
    #[error("cannot merge lists without merge key for {kind}")]
    NoMergeKeyForList {
        /// The Go kind of the items (`struct`, `map`, `interface`).
        kind: &'static str,
    },
    /// A merged list mixes item types (or holds nulls).
    #[error("list element types are not identical: {lists}")]
    MixedElementTypes {
        /// The lists involved, rendered as Go's `%v`.
        lists: String,
    },
    /// `$setElementOrder` of a list that is empty on both sides.
    #[error("no elements in any of the given slices")]
    NoElements,
    /// The patch list names items in an order `$setElementOrder` contradicts.
    #[error("The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}\n")]
    OrderMismatch {
        /// The patch list, rendered as Go's `%v`.
        patch: String,
        /// The `$setElementOrder` list, rendered as Go's `%v`.
        order: String,
    },
    /// `$setElementOrder/<field>` names a field the type does not have.
    #[error("unable to find api field in struct {ty} for the json field \"{field}\"")]
    UnknownField {
        /// The Go name of the struct (`PodSpec`).
        ty: String,
        /// The field named.
        field: String,
    },
    /// A list directive for a member that is not a list.
    #[error("expected slice or array type, but got: {kind}")]
    NotAList {
        /// The Go kind of the object holding the member (`struct`, `map`).
        kind: &'static str,
    },
    /// An item of a list of objects that is not an object.
    #[error("value for key {index} is not a map")]
    ItemNotAnObject {
        /// Its position in the list.
        index: usize,
    },
    /// `$setElementOrder` on a list of objects (or lists) without a merge key: nothing
    /// identifies the items. kube-apiserver panics here (a 500).
    #[error("cannot order a list of objects or lists that has no merge key")]
    UnorderableItems,
}

impl StrategicPatchError {
    /// The HTTP status kube-apiserver answers this error with.
    ///
    /// - 400 (`BadRequest`, the message as is): a patch that is not an object, and the
    ///   malformed `$deleteFromPrimitiveList`, `$retainKeys` and `$setElementOrder`
    ///   directives (`interpretStrategicMergePatchError`).
    /// - 422 (`Invalid`): lists of lists. Upstream then replaces the message with the
    ///   generic "the server rejected our request due to an error in our request".
    /// - 500 for everything else: upstream passes these errors through unconverted, so
    ///   clients see a `Status` with code 500, an empty reason and this message
    ///   (`Error from server: map: … does not contain declared merge key: name`).
    pub(crate) fn status_code(&self) -> u16 {
        match self {
            Self::PatchNotAnObject { .. }
            | Self::TooDeep { .. }
            | Self::InvalidPrimitiveListFormat
            | Self::InvalidRetainKeysFormat
            | Self::InvalidSetElementOrderFormat => 400,
            Self::ListOfLists => 422,
            Self::OriginalNotAnObject
            | Self::MissingMergeKey { .. }
            | Self::WrongType { .. }
            | Self::UnknownPatchType { .. }
            | Self::MergeDirectiveInList
            | Self::NoMergeKeyForList { .. }
            | Self::MixedElementTypes { .. }
            | Self::NoElements
            | Self::OrderMismatch { .. }
            | Self::UnknownField { .. }
            | Self::NotAList { .. }
            | Self::ItemNotAnObject { .. }
            | Self::UnorderableItems => 500,
        }
    }

    pub(super) fn missing_merge_key(map: &Map<String, Value>, key: &str) -> Self {
        Self::MissingMergeKey {
            map: go_object(map),
            key: key.to_owned(),
        }
    }

    pub(super) fn wrong_type(expected: GoType, actual: &Value) -> Self {
        Self::WrongType {
            expected: expected.name(),
            actual: GoType::of(actual).name(),
        }
    }

    pub(super) fn unknown_patch_type(directive: &Value, map: &Map<String, Value>) -> Self {
        let mut rendered = String::new();
        write_go(directive, Verb::S, &mut rendered);
        Self::UnknownPatchType {
            directive: rendered,
            map: go_object(map),
        }
    }

    pub(super) fn mixed_element_types(lists: &[&[Value]]) -> Self {
        let mut rendered = String::from("[");
        for (i, list) in lists.iter().enumerate() {
            if i > 0 {
                rendered.push(' ');
            }
            write_go_list(list, Verb::V, &mut rendered);
        }
        rendered.push(']');
        Self::MixedElementTypes { lists: rendered }
    }

    pub(super) fn order_mismatch(patch: &[Value], order: &[Value]) -> Self {
        Self::OrderMismatch {
            patch: go_list(patch),
            order: go_list(order),
        }
    }
}

/// The Go type `encoding/json` decodes a JSON value to (with integers kept as `int64`, as
/// the apiserver decodes patches): what upstream compares when it asks whether two values
/// have "the same type".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GoType {
    Map,
    Slice,
    String,
    Int,
    Float,
    Bool,
    Nil,
}

impl GoType {
    pub(super) fn of(v: &Value) -> Self {
        match v {
            Value::Object(_) => Self::Map,
            Value::Array(_) => Self::Slice,
            Value::String(_) => Self::String,
            Value::Number(n) if n.is_i64() => Self::Int,
            // Past i64 the decoder falls back to float64.
            Value::Number(_) => Self::Float,
            Value::Bool(_) => Self::Bool,
            Value::Null => Self::Nil,
        }
    }

    /// The type's name as `reflect.Type`'s `%s` prints it.
    fn name(self) -> &'static str {
        match self {
            Self::Map => "map[string]interface {}",
            Self::Slice => "[]interface {}",
            Self::String => "string",
            Self::Int => "int64",
            Self::Float => "float64",
            Self::Bool => "bool",
            Self::Nil => "%!s(<nil>)",
        }
    }
}

/// The word Go's JSON decoder uses for a value it cannot store in a map.
pub(super) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

/// Which `fmt` verb to imitate: `%v`, or `%s` (which flags non-strings as `%!s(T=v)`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    V,
    S,
}

fn go_object(map: &Map<String, Value>) -> String {
    let mut out = String::new();
    write_go_object(map, Verb::V, &mut out);
    out
}

fn go_list(list: &[Value]) -> String {
    let mut out = String::new();
    write_go_list(list, Verb::V, &mut out);
    out
}

fn write_go(v: &Value, verb: Verb, out: &mut String) {
    match v {
        Value::Object(map) => write_go_object(map, verb, out),
        Value::Array(list) => write_go_list(list, verb, out),
        Value::String(s) => out.push_str(s),
        Value::Null if verb == Verb::S => out.push_str("%!s(<nil>)"),
        Value::Null => out.push_str("<nil>"),
        scalar => {
            let (ty, text) = match scalar {
                Value::Number(n) => match n.as_i64() {
                    Some(i) => ("int64", i.to_string()),
                    None => ("float64", go_float(n.as_f64().unwrap_or(f64::NAN))),
                },
                Value::Bool(b) => ("bool", b.to_string()),
                _ => ("", String::new()),
            };
            if verb == Verb::S {
                let _ = write!(out, "%!s({ty}={text})");
            } else {
                out.push_str(&text);
            }
        }
    }
}

fn write_go_object(map: &Map<String, Value>, verb: Verb, out: &mut String) {
    // Go prints map keys sorted, whatever order they arrived in.
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    out.push_str("map[");
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(k);
        out.push(':');
        write_go(v, verb, out);
    }
    out.push(']');
}

fn write_go_list(list: &[Value], verb: Verb, out: &mut String) {
    out.push('[');
    for (i, v) in list.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_go(v, verb, out);
    }
    out.push(']');
}

/// A float64 as Go's `%v` prints it: the shortest digits that round-trip, in exponent
/// form when the exponent is below -4 or at least 6 (`1e+06`, `1.5e-07`).
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Rust's `{:e}` gives the same shortest round-trip digits: `-1.2345e-7`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{exp_sign}{:02}", exp.unsigned_abs());
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = point as usize;
    if digits.len() <= point {
        let zeros = "0".repeat(point - digits.len());
        format!("{sign}{digits}{zeros}")
    } else {
        let (int, frac) = digits.split_at(point);
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_render_as_go_prints_decoded_json() {
        let cases = [
            // Maps print with sorted keys, nested values inline.
            (
                json!({"b": 1, "a": [true, null]}),
                "map[a:[true <nil>] b:1]",
            ),
            // Strings print bare.
            (json!({"image": "nginx"}), "map[image:nginx]"),
            // Empty containers.
            (json!({"m": {}, "l": []}), "map[l:[] m:map[]]"),
            // Floats: shortest digits, plain notation from 1e-4 up to 1e6.
            (
                json!([1.5, 0.0001, 100000.0, 123456.0]),
                "[1.5 0.0001 100000 123456]",
            ),
            // Floats: exponent notation from 1e6 and below 1e-4, two exponent digits.
            (
                json!([1e6, 1234567.0, 0.00001, -2.5e-7]),
                "[1e+06 1.234567e+06 1e-05 -2.5e-07]",
            ),
            // Integers beyond i64 decode to float64.
            (json!([u64::MAX]), "[1.8446744073709552e+19]"),
        ];
        for (value, want) in cases {
            let mut got = String::new();
            write_go(&value, Verb::V, &mut got);
            assert_eq!(got, want, "rendering {value}");
        }
    }

    #[test]
    fn patch_type_renders_as_go_s_verb() {
        let map = Map::new();
        let cases = [
            // A string prints bare.
            (json!("merge"), "unknown patch type: merge in map: map[]"),
            // Non-strings are flagged the way `%s` flags them.
            (json!(1), "unknown patch type: %!s(int64=1) in map: map[]"),
            (
                json!(true),
                "unknown patch type: %!s(bool=true) in map: map[]",
            ),
            (json!(null), "unknown patch type: %!s(<nil>) in map: map[]"),
        ];
        for (directive, want) in cases {
            let err = StrategicPatchError::unknown_patch_type(&directive, &map);
            assert_eq!(err.to_string(), want);
        }
    }
}
