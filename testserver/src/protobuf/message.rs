//! Decoding one protobuf message into the JSON Kubernetes would write for it.
//!
//! Ordinary messages become objects keyed by their fields' JSON names; the handful of
//! types whose Go code marshals JSON by hand go through [`special`](super::special).
//!
//! # Presence
//!
//! Go's encoder writes every non-pointer field, zero or not, so the wire alone cannot
//! tell `replicas: 0` (a pointer set to 0, meaningful) from `nodePort: 0` (a plain
//! `int32` left unset). The schema can: `gen_schema.py` marks the scalars Go holds by
//! value with `omitempty`, and we drop their zero values as Go's JSON encoder does.
//! Every other field on the wire is kept, zeros and `false` included, except a
//! singular empty string or empty bytes, which we always drop: to our server an empty
//! string reads as absent. Repeated elements and map values are kept even when empty
//! (`data: {"a": ""}` is a real ConfigMap).
//!
//! A singular field that occurs twice keeps its last value. kube-apiserver's decoder
//! merges two occurrences of a message field instead; Go encoders never write one
//! twice, so we keep the simpler rule.

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::schema::{Label, MessageId, Scalar, Schema, Special, Type};
use super::special;
use super::wire::{Problem, Reader, WireError, WireType};
use super::{DecodeError, MAX_DEPTH};

/// Decodes messages described by a [`Schema`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Decoder<'s> {
    pub(super) schema: &'s Schema,
}

impl<'s> Decoder<'s> {
    /// Decodes a message of type `id` to its JSON value (an object for ordinary
    /// messages). `depth` counts this message: the top-level object is depth 1.
    pub(super) fn value(
        &self,
        r: Reader<'_>,
        id: MessageId,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(r.error(Problem::TooDeep { limit: MAX_DEPTH }).into());
        }
        match self.schema.message(id).special {
            Special::None => self.object(r, id, depth).map(Value::Object),
            Special::Time => Ok(special::time(r, false)?),
            Special::MicroTime => Ok(special::time(r, true)?),
            Special::Duration => Ok(special::duration(r)?),
            Special::IntOrString => Ok(special::int_or_string(r)?),
            Special::Quantity => Ok(special::quantity(r)?),
            Special::EmbeddedJson => Ok(special::embedded_json(r)?),
            Special::RawExtension => special::raw_extension(self, r, depth),
            Special::List => {
                let object = self.object(r, id, depth)?;
                Ok(special::list(object))
            }
            Special::SchemaOrArray => Ok(special::schema_or_array(self.object(r, id, depth)?)),
            Special::SchemaOrBool => Ok(special::schema_or_bool(self.object(r, id, depth)?)),
            Special::SchemaOrStringArray => {
                Ok(special::schema_or_string_array(self.object(r, id, depth)?))
            }
        }
    }

    /// Decodes an ordinary message's fields into a JSON object.
    pub(super) fn object(
        &self,
        mut r: Reader<'_>,
        id: MessageId,
        depth: usize,
    ) -> Result<Map<String, Value>, DecodeError> {
        let message = self.schema.message(id);
        let mut object = Map::new();
        // Repeated and map fields collect here and join the object at the end.
        let mut arrays: Vec<(&str, Vec<Value>)> = Vec::new();
        let mut maps: Vec<(&str, Map<String, Value>)> = Vec::new();
        while !r.is_empty() {
            let key_at = r.offset();
            let (number, wire_type) = r.key()?;
            let Some(field) = message.field(number) else {
                // Unknown field: a newer client's addition. Skip it, as Go does.
                r.skip(wire_type)?;
                continue;
            };
            let name = field.json_name.as_str();
            match field.label {
                Label::Single => {
                    let value = self
                        .field_value(&mut r, key_at, wire_type, field.ty, depth)
                        .map_err(|e| e.within(name))?;
                    if is_empty_string(&value) || (field.omit_zero && is_zero(&value)) {
                        object.remove(name);
                    } else {
                        object.insert(name.to_owned(), value);
                    }
                }
                Label::Inline => {
                    let value = self
                        .field_value(&mut r, key_at, wire_type, field.ty, depth)
                        .map_err(|e| e.within(name))?;
                    // The schema only lets ordinary messages be inline, so this is an
                    // object; its fields land in ours, as Go's embedded structs do.
                    if let Value::Object(inner) = value {
                        object.extend(inner);
                    }
                }
                Label::Repeated => {
                    let items = slot(&mut arrays, name);
                    let index = items.len();
                    match field.ty {
                        Type::Scalar(scalar)
                            if wire_type == WireType::LengthDelimited && is_packable(scalar) =>
                        {
                            // Packed encoding: one length-delimited run of values.
                            let mut packed = r
                                .length_delimited()
                                .map_err(|e| DecodeError::from(e).within(name))?;
                            while !packed.is_empty() {
                                let value = scalar_value(&mut packed, scalar)
                                    .map_err(|e| DecodeError::from(e).within(name))?;
                                items.push(value);
                            }
                        }
                        ty => {
                            let value = self
                                .field_value(&mut r, key_at, wire_type, ty, depth)
                                .map_err(|e| e.within(&format!("[{index}]")).within(name))?;
                            items.push(value);
                        }
                    }
                }
                Label::Map(key_type) => {
                    let entry = r
                        .expect(key_at, WireType::LengthDelimited, wire_type)
                        .and_then(|()| r.length_delimited())
                        .map_err(|e| DecodeError::from(e).within(name))?;
                    let (key, value) = self
                        .map_entry(entry, key_type, field.ty, depth)
                        .map_err(|e| e.within(name))?;
                    slot(&mut maps, name).insert(key, value);
                }
            }
        }
        for (name, items) in arrays {
            object.insert(name.to_owned(), Value::Array(items));
        }
        for (name, entries) in maps {
            object.insert(name.to_owned(), Value::Object(entries));
        }
        Ok(object)
    }

    /// Reads one value of type `ty` whose key (at `key_at`) said `wire_type`.
    fn field_value(
        &self,
        r: &mut Reader<'_>,
        key_at: usize,
        wire_type: WireType,
        ty: Type,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        match ty {
            Type::Scalar(scalar) => {
                r.expect(key_at, natural_wire_type(scalar), wire_type)?;
                Ok(scalar_value(r, scalar)?)
            }
            Type::Message(id) => {
                r.expect(key_at, WireType::LengthDelimited, wire_type)?;
                let inner = r.length_delimited()?;
                self.value(inner, id, depth + 1)
            }
        }
    }

    /// Decodes a map entry message (key = 1, value = 2); absent parts take their
    /// type's default, as in Go.
    fn map_entry(
        &self,
        mut r: Reader<'_>,
        key_type: Scalar,
        value_type: Type,
        depth: usize,
    ) -> Result<(String, Value), DecodeError> {
        if depth + 1 > MAX_DEPTH {
            return Err(r.error(Problem::TooDeep { limit: MAX_DEPTH }).into());
        }
        let mut key = None;
        let mut value = None;
        while !r.is_empty() {
            let key_at = r.offset();
            let (number, wire_type) = r.key()?;
            match number {
                1 => {
                    let k =
                        self.field_value(&mut r, key_at, wire_type, Type::Scalar(key_type), 0)?;
                    key = Some(k);
                }
                2 => {
                    let v = self.field_value(&mut r, key_at, wire_type, value_type, depth + 1);
                    let key_text = key.as_ref().map_or_else(String::new, map_key);
                    value = Some(v.map_err(|e| e.within(&format!("[{key_text:?}]")))?);
                }
                _ => r.skip(wire_type)?,
            }
        }
        let key = match key {
            Some(k) => map_key(&k),
            None => String::new(),
        };
        let value = match value {
            Some(v) => v,
            None => match value_type {
                Type::Scalar(scalar) => default_scalar(scalar),
                Type::Message(id) => self.value(Reader::empty(), id, depth + 2)?,
            },
        };
        Ok((key, value))
    }
}

/// JSON object keys are strings; Go writes integer map keys in decimal.
fn map_key(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_empty_string(value: &Value) -> bool {
    matches!(value, Value::String(s) if s.is_empty())
}

/// Whether `value` is a Go zero value: 0, false or "".
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The entry for `name` in a small list of named collections, created on first use.
fn slot<'v, 'n, T: Default>(slots: &'v mut Vec<(&'n str, T)>, name: &'n str) -> &'v mut T {
    let index = match slots.iter().position(|(n, _)| *n == name) {
        Some(index) => index,
        None => {
            slots.push((name, T::default()));
            slots.len() - 1
        }
    };
    &mut slots[index].1
}

/// Scalars that may be packed (numeric ones).
fn is_packable(scalar: Scalar) -> bool {
    !matches!(scalar, Scalar::String | Scalar::Bytes)
}

/// The wire type a scalar is written with.
fn natural_wire_type(scalar: Scalar) -> WireType {
    match scalar {
        Scalar::Int32
        | Scalar::Int64
        | Scalar::Uint32
        | Scalar::Uint64
        | Scalar::Sint32
        | Scalar::Sint64
        | Scalar::Bool => WireType::Varint,
        Scalar::Fixed32 | Scalar::Sfixed32 | Scalar::Float => WireType::Fixed32,
        Scalar::Fixed64 | Scalar::Sfixed64 | Scalar::Double => WireType::Fixed64,
        Scalar::String | Scalar::Bytes => WireType::LengthDelimited,
    }
}

/// Reads one scalar (its wire type already checked) as Go's JSON would write it.
fn scalar_value(r: &mut Reader<'_>, scalar: Scalar) -> Result<Value, WireError> {
    let at = r.offset();
    Ok(match scalar {
        // Narrowing casts truncate, as Go's decoder does for int32(v).
        Scalar::Int32 => Value::from(r.varint()? as i32),
        Scalar::Int64 => Value::from(r.varint()? as i64),
        Scalar::Uint32 => Value::from(r.varint()? as u32),
        Scalar::Uint64 => Value::from(r.varint()?),
        Scalar::Sint32 => Value::from(zigzag(r.varint()?) as i32),
        Scalar::Sint64 => Value::from(zigzag(r.varint()?)),
        Scalar::Bool => Value::Bool(r.varint()? != 0),
        Scalar::Fixed32 => Value::from(r.fixed32()?),
        Scalar::Sfixed32 => Value::from(r.fixed32()? as i32),
        Scalar::Fixed64 => Value::from(r.fixed64()?),
        Scalar::Sfixed64 => Value::from(r.fixed64()? as i64),
        Scalar::Float => float(f64::from(f32::from_bits(r.fixed32()?)), at)?,
        Scalar::Double => float(f64::from_bits(r.fixed64()?), at)?,
        // Go does not check UTF-8 when decoding; its JSON encoder then writes U+FFFD.
        Scalar::String => {
            Value::String(String::from_utf8_lossy(r.length_delimited()?.rest()).into_owned())
        }
        Scalar::Bytes => Value::String(
            base64::engine::general_purpose::STANDARD.encode(r.length_delimited()?.rest()),
        ),
    })
}

fn zigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn float(v: f64, at: usize) -> Result<Value, WireError> {
    Number::from_f64(v).map(Value::Number).ok_or(WireError {
        offset: at,
        problem: Problem::NonFiniteNumber,
    })
}

/// The value of a scalar that is absent, as Go's zero value in JSON.
fn default_scalar(scalar: Scalar) -> Value {
    match scalar {
        Scalar::Bool => Value::Bool(false),
        Scalar::String | Scalar::Bytes => Value::String(String::new()),
        Scalar::Float | Scalar::Double => Value::from(0.0),
        _ => Value::from(0),
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::Schema;
    use super::super::test_support::*;
    use super::*;
    use serde_json::json;

    /// A small schema with one of each shape, to test decoding apart from Kubernetes.
    const TEST_SCHEMA: &str = "\
t.Msg 1:s:string 2:i32:int32 3:i64:int64 4:b:bool 5:raw:bytes 6:tags:[]string \
7:nums:[]int32 8:labels:map<string,string> 9:child:Msg 10:(inline):Inner 11:kids:[]Msg \
12:d:double 13:f:float 14:u64:uint64 15:s32:sint32 16:s64:sint64 17:fx32:fixed32 \
18:sfx64:sfixed64 19:byKey:map<string,Inner> 20:byNum:map<int32,bytes> \
21:port?:int32 22:flag?:bool 23:ratio?:double
t.Inner 1:name:string 2:n:int32
";

    fn decode_with(schema: &Schema, name: &str, bytes: &[u8]) -> Result<Value, DecodeError> {
        let id = schema.by_name(name).unwrap();
        Decoder { schema }.value(Reader::new(bytes, 0), id, 1)
    }

    fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
        let schema = Schema::parse(TEST_SCHEMA).unwrap();
        decode_with(&schema, "t.Msg", bytes)
    }

    #[test]
    fn scalars_map_to_json_like_go() {
        let bytes = cat(&[
            string_field(1, "hi"),
            varint_field(2, (-5i64) as u64),
            varint_field(3, 1 << 40),
            varint_field(4, 1),
            bytes_field(5, b"\x00\xffab"),
            fixed64_field(12, 2.5f64.to_bits()),
            fixed32_field(13, 0.5f32.to_bits()),
            varint_field(14, u64::MAX),
            varint_field(15, 3), // zigzag(-2)
            varint_field(16, 4), // zigzag(2)
            fixed32_field(17, 7),
            fixed64_field(18, (-9i64) as u64),
        ]);
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({
                "s": "hi", "i32": -5, "i64": 1_099_511_627_776_i64, "b": true,
                "raw": "AP9hYg==", "d": 2.5, "f": 0.5, "u64": u64::MAX,
                "s32": -2, "s64": 2, "fx32": 7, "sfx64": -9,
            })
        );
    }

    #[test]
    fn empty_strings_are_dropped_but_zeros_and_false_are_kept() {
        let bytes = cat(&[
            string_field(1, ""),
            varint_field(2, 0),
            varint_field(4, 0),
            bytes_field(5, b""),
        ]);
        assert_eq!(decode(&bytes).unwrap(), json!({"i32": 0, "b": false}));
    }

    #[test]
    fn zeros_of_omitempty_value_fields_are_dropped() {
        let zeros = cat(&[
            varint_field(21, 0),
            varint_field(22, 0),
            fixed64_field(23, 0),
        ]);
        assert_eq!(decode(&zeros).unwrap(), json!({}));
        let set = cat(&[
            varint_field(21, 80),
            varint_field(22, 1),
            fixed64_field(23, 0.5f64.to_bits()),
        ]);
        assert_eq!(
            decode(&set).unwrap(),
            json!({"port": 80, "flag": true, "ratio": 0.5})
        );
    }

    #[test]
    fn a_later_empty_string_clears_an_earlier_value() {
        let bytes = cat(&[string_field(1, "a"), string_field(1, "")]);
        assert_eq!(decode(&bytes).unwrap(), json!({}));
    }

    #[test]
    fn repeated_fields_keep_order_and_empty_elements() {
        let bytes = cat(&[
            string_field(6, "a"),
            varint_field(2, 1),
            string_field(6, ""),
            string_field(6, "c"),
            // Packed and unpacked int32s both land in one array.
            bytes_field(7, &cat(&[varint(1), varint(300)])),
            varint_field(7, 2),
        ]);
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({"tags": ["a", "", "c"], "i32": 1, "nums": [1, 300, 2]})
        );
    }

    #[test]
    fn maps_become_objects_and_missing_entry_parts_take_defaults() {
        let bytes = cat(&[
            message_field(8, &cat(&[string_field(1, "a"), string_field(2, "1")])),
            message_field(8, &cat(&[string_field(1, "empty"), string_field(2, "")])),
            message_field(8, &string_field(1, "novalue")),
            message_field(19, &string_field(1, "k")),
            message_field(20, &cat(&[varint_field(1, 7), bytes_field(2, b"x")])),
        ]);
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({
                "labels": {"a": "1", "empty": "", "novalue": ""},
                "byKey": {"k": {}},
                "byNum": {"7": "eA=="},
            })
        );
    }

    #[test]
    fn nested_inline_and_repeated_messages() {
        let bytes = cat(&[
            message_field(9, &string_field(1, "child")),
            message_field(10, &cat(&[string_field(1, "inlined"), varint_field(2, 3)])),
            message_field(11, &[]),
            message_field(11, &varint_field(2, 1)),
        ]);
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({
                "child": {"s": "child"},
                "name": "inlined", "n": 3,
                "kids": [{}, {"i32": 1}],
            })
        );
    }

    #[test]
    fn unknown_fields_of_every_wire_type_are_skipped() {
        let bytes = cat(&[
            varint_field(99, 5),
            string_field(100, "x"),
            fixed32_field(101, 1),
            fixed64_field(102, 1),
            string_field(1, "kept"),
        ]);
        assert_eq!(decode(&bytes).unwrap(), json!({"s": "kept"}));
    }

    #[test]
    fn malformed_fields_report_problem_path_and_offset() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            // A string field sent as a varint.
            (
                varint_field(1, 1),
                "malformed protobuf at s (byte 0): wire type varint where length-delimited was expected",
            ),
            // A truncated varint inside a nested message.
            (
                cat(&[string_field(1, "ok"), message_field(9, &[0x10, 0x80])]),
                "malformed protobuf at child.i32 (byte 7): truncated varint",
            ),
            // A length past the end of a repeated element.
            (
                cat(&[message_field(11, &[]), vec![0x5a, 0x05, 0x08]]),
                "malformed protobuf at kids[1] (byte 3): length 5 exceeds the 1 bytes left",
            ),
            // A bad map value.
            (
                message_field(8, &cat(&[string_field(1, "k"), varint_field(2, 1)])),
                "malformed protobuf at labels[\"k\"] (byte 5): wire type varint where length-delimited was expected",
            ),
            // A NaN double.
            (
                fixed64_field(12, f64::NAN.to_bits()),
                "malformed protobuf at d (byte 1): non-finite floating-point number",
            ),
            // Element of a repeated message.
            (
                cat(&[message_field(11, &[]), message_field(11, &[0x0f])]),
                "malformed protobuf at kids[1] (byte 4): invalid wire type 7",
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                decode(&bytes).unwrap_err().to_string(),
                want,
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn nesting_is_limited_to_max_depth() {
        let nest = |levels: usize| {
            let mut bytes = Vec::new();
            for _ in 0..levels {
                bytes = message_field(9, &bytes);
            }
            bytes
        };
        // The top-level message is depth 1, so MAX_DEPTH - 1 nested levels fit.
        assert!(decode(&nest(MAX_DEPTH - 1)).is_ok());
        let err = decode(&nest(MAX_DEPTH)).unwrap_err().to_string();
        assert!(err.ends_with("messages nested deeper than 100"), "{err}");
        assert!(
            err.starts_with("malformed protobuf at child.child."),
            "{err}"
        );
    }
}
