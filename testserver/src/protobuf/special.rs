//! Types whose Go code writes JSON by hand, so their JSON is not an object of their
//! protobuf fields: times, durations, int-or-string, quantities, embedded JSON, slice
//! wrappers and the apiextensions schema unions.
//!
//! Each function mirrors what the Go type's `Unmarshal` followed by its `MarshalJSON`
//! produces; the comments name where we differ.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::message::Decoder;
use super::wire::{Problem, Reader, WireError, WireType};
use super::{DecodeError, MAGIC};

/// Seconds from the Unix epoch back to Go's zero `time.Time` (0001-01-01T00:00:00Z),
/// which `metav1.Time` writes as JSON null.
const GO_ZERO_TIME_UNIX: i64 = -62_135_596_800;
const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Reads a varint field's value after checking its wire type.
fn varint(r: &mut Reader<'_>, key_at: usize, wire_type: WireType) -> Result<u64, WireError> {
    r.expect(key_at, WireType::Varint, wire_type)?;
    r.varint()
}

/// Reads a length-delimited field's bytes after checking its wire type.
fn bytes<'a>(
    r: &mut Reader<'a>,
    key_at: usize,
    wire_type: WireType,
) -> Result<Reader<'a>, WireError> {
    r.expect(key_at, WireType::LengthDelimited, wire_type)?;
    r.length_delimited()
}

/// `meta/v1.Time` (`micro == false`) or `MicroTime`: `{seconds = 1, nanos = 2}`.
///
/// Go decodes an empty message as the zero time and writes that as null; `Time` drops
/// the nanoseconds, `MicroTime` truncates them to microseconds.
pub(super) fn time(mut r: Reader<'_>, micro: bool) -> Result<Value, WireError> {
    if r.is_empty() {
        return Ok(Value::Null);
    }
    let start = r.offset();
    let (mut seconds, mut nanos) = (0i64, 0i32);
    while !r.is_empty() {
        let key_at = r.offset();
        let (number, wire_type) = r.key()?;
        match number {
            1 => seconds = varint(&mut r, key_at, wire_type)? as i64,
            2 => nanos = varint(&mut r, key_at, wire_type)? as i32,
            _ => r.skip(wire_type)?,
        }
    }
    let nanos = if micro { nanos - nanos % 1000 } else { 0 };
    // time.Unix normalizes nanoseconds outside [0, 1e9) into the seconds.
    let total = i128::from(seconds) * NANOS_PER_SECOND + i128::from(nanos);
    let out_of_range = WireError {
        offset: start,
        problem: Problem::TimeOutOfRange { seconds },
    };
    let second =
        i64::try_from(total.div_euclid(NANOS_PER_SECOND)).map_err(|_| out_of_range.clone())?;
    let subsecond = total.rem_euclid(NANOS_PER_SECOND) as i32;
    if second == GO_ZERO_TIME_UNIX && subsecond == 0 {
        return Ok(Value::Null);
    }
    let timestamp = jiff::Timestamp::new(second, subsecond).map_err(|_| out_of_range.clone())?;
    let t = jiff::tz::Offset::UTC.to_datetime(timestamp);
    if !(0..=9999).contains(&t.year()) {
        return Err(out_of_range);
    }
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if micro {
        let _ = write!(text, ".{:06}", subsecond / 1000);
    }
    text.push('Z');
    Ok(Value::String(text))
}

/// `meta/v1.Duration`: `{duration = 1}` in nanoseconds, as a Go duration string.
pub(super) fn duration(mut r: Reader<'_>) -> Result<Value, WireError> {
    let mut nanos = 0i64;
    while !r.is_empty() {
        let key_at = r.offset();
        let (number, wire_type) = r.key()?;
        match number {
            1 => nanos = varint(&mut r, key_at, wire_type)? as i64,
            _ => r.skip(wire_type)?,
        }
    }
    Ok(Value::String(go_duration(nanos)))
}

/// Formats nanoseconds as Go's `time.Duration.String` does: `1h0m0s`, `1.5s`, `2ms`.
fn go_duration(nanos: i64) -> String {
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    let u = nanos.unsigned_abs();
    if u == 0 {
        return "0s".to_owned();
    }
    if u < 1_000_000_000 {
        // Under a second, Go picks the largest unit that keeps an integer part.
        let (scale, digits, unit) = match u {
            0..1_000 => (1, 0, "ns"),
            1_000..1_000_000 => (1_000, 3, "µs"),
            _ => (1_000_000, 6, "ms"),
        };
        push_with_fraction(&mut out, u / scale, u % scale, digits);
        out.push_str(unit);
        return out;
    }
    let seconds = u / 1_000_000_000;
    let (hours, minutes) = (seconds / 3600, seconds / 60 % 60);
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    push_with_fraction(&mut out, seconds % 60, u % 1_000_000_000, 9);
    out.push('s');
    out
}

/// Writes `whole` and, when non-zero, `.fraction` as `digits` digits with trailing
/// zeros trimmed.
fn push_with_fraction(out: &mut String, whole: u64, fraction: u64, digits: usize) {
    let _ = write!(out, "{whole}");
    if fraction != 0 {
        let text = format!("{fraction:0digits$}");
        let _ = write!(out, ".{}", text.trim_end_matches('0'));
    }
}

/// `intstr.IntOrString`: `{type = 1, intVal = 2, strVal = 3}` as a number or a string.
pub(super) fn int_or_string(mut r: Reader<'_>) -> Result<Value, WireError> {
    let start = r.offset();
    let (mut kind, mut int_val, mut str_val) = (0i64, 0i32, String::new());
    while !r.is_empty() {
        let key_at = r.offset();
        let (number, wire_type) = r.key()?;
        match number {
            1 => kind = varint(&mut r, key_at, wire_type)? as i64,
            2 => int_val = varint(&mut r, key_at, wire_type)? as i32,
            3 => {
                let text = bytes(&mut r, key_at, wire_type)?;
                str_val = String::from_utf8_lossy(text.rest()).into_owned();
            }
            _ => r.skip(wire_type)?,
        }
    }
    match kind {
        0 => Ok(Value::from(int_val)),
        1 => Ok(Value::String(str_val)),
        other => Err(WireError {
            offset: start,
            problem: Problem::InvalidIntOrStringType(other),
        }),
    }
}

/// `resource.Quantity`: `{string = 1}` as that string, `"0"` when absent.
///
/// kube-apiserver parses the string and writes it back in canonical form; we pass it
/// through as sent (Go clients send the canonical form already).
pub(super) fn quantity(mut r: Reader<'_>) -> Result<Value, WireError> {
    let mut text = None;
    while !r.is_empty() {
        let key_at = r.offset();
        let (number, wire_type) = r.key()?;
        match number {
            1 => {
                let value = bytes(&mut r, key_at, wire_type)?;
                if value.is_empty() {
                    return Err(WireError {
                        offset: key_at,
                        problem: Problem::EmptyQuantity,
                    });
                }
                text = Some(String::from_utf8_lossy(value.rest()).into_owned());
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok(Value::String(text.unwrap_or_else(|| "0".to_owned())))
}

/// Reads field 1 (`raw`/`Raw`) of an embedded-JSON message; `None` when empty.
fn raw_field<'a>(mut r: Reader<'a>) -> Result<Option<Reader<'a>>, WireError> {
    let mut raw = None;
    while !r.is_empty() {
        let key_at = r.offset();
        let (number, wire_type) = r.key()?;
        match number {
            1 => raw = Some(bytes(&mut r, key_at, wire_type)?),
            _ => r.skip(wire_type)?,
        }
    }
    Ok(raw.filter(|raw| !raw.is_empty()))
}

fn parse_json(raw: &Reader<'_>) -> Result<Value, WireError> {
    serde_json::from_slice(raw.rest()).map_err(|e| WireError {
        offset: raw.offset(),
        problem: Problem::InvalidEmbeddedJson(e.to_string()),
    })
}

/// `meta/v1.FieldsV1` and apiextensions `JSON`: `{raw = 1}` as the JSON it holds.
pub(super) fn embedded_json(r: Reader<'_>) -> Result<Value, WireError> {
    match raw_field(r)? {
        Some(raw) => parse_json(&raw),
        None => Ok(Value::Null),
    }
}

/// `runtime.RawExtension`: `{raw = 1}` as the JSON it holds.
///
/// Go writes the raw bytes out unchanged, so protobuf bytes there would make invalid
/// JSON; we decode a nested Kubernetes protobuf object instead, which is what those
/// bytes mean.
pub(super) fn raw_extension(
    decoder: &Decoder<'_>,
    r: Reader<'_>,
    depth: usize,
) -> Result<Value, DecodeError> {
    let Some(raw) = raw_field(r)? else {
        return Ok(Value::Null);
    };
    match raw.rest().strip_prefix(MAGIC) {
        Some(envelope) => {
            let inner = Reader::new(envelope, raw.offset() + MAGIC.len());
            super::decode_envelope(decoder, inner, depth + 1).map(Value::Object)
        }
        None => Ok(parse_json(&raw)?),
    }
}

/// A Go slice type wrapped in a one-field message: the field's array.
pub(super) fn list(object: Map<String, Value>) -> Value {
    object
        .into_iter()
        .next()
        .map_or_else(|| Value::Array(Vec::new()), |(_, items)| items)
}

fn non_empty_array(object: &mut Map<String, Value>, key: &str) -> Option<Value> {
    object
        .remove(key)
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
}

/// apiextensions `JSONSchemaPropsOrArray`: the array if non-empty, else the schema.
pub(super) fn schema_or_array(mut object: Map<String, Value>) -> Value {
    non_empty_array(&mut object, "jSONSchemas")
        .or_else(|| object.remove("schema"))
        .unwrap_or(Value::Null)
}

/// apiextensions `JSONSchemaPropsOrBool`: the schema if set, else the boolean.
pub(super) fn schema_or_bool(mut object: Map<String, Value>) -> Value {
    object
        .remove("schema")
        .unwrap_or_else(|| Value::Bool(object.get("allows") == Some(&Value::Bool(true))))
}

/// apiextensions `JSONSchemaPropsOrStringArray`: the strings if any, else the schema.
pub(super) fn schema_or_string_array(mut object: Map<String, Value>) -> Value {
    non_empty_array(&mut object, "property")
        .or_else(|| object.remove("schema"))
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use serde_json::json;

    fn read(bytes: &[u8]) -> Reader<'_> {
        Reader::new(bytes, 0)
    }

    fn timestamp(seconds: i64, nanos: i32) -> Vec<u8> {
        cat(&[
            varint_field(1, seconds as u64),
            varint_field(2, i64::from(nanos) as u64),
        ])
    }

    #[test]
    fn time_is_rfc3339_in_whole_seconds() {
        let cases = [
            // Year 0, the earliest RFC 3339 can write.
            (
                timestamp(GO_ZERO_TIME_UNIX - 366 * 86_400, 0),
                json!("0000-01-01T00:00:00Z"),
            ),
            // Empty message: Go's zero time.
            (vec![], json!(null)),
            // Go's zero time written out explicitly.
            (timestamp(GO_ZERO_TIME_UNIX, 0), json!(null)),
            // Explicit epoch is a real time, not zero.
            (timestamp(0, 0), json!("1970-01-01T00:00:00Z")),
            // Nanoseconds are dropped.
            (
                timestamp(1_746_093_600, 999_999_999),
                json!("2025-05-01T10:00:00Z"),
            ),
            // Before the epoch.
            (timestamp(-1, 0), json!("1969-12-31T23:59:59Z")),
        ];
        for (bytes, want) in cases {
            assert_eq!(time(read(&bytes), false).unwrap(), want, "{bytes:02x?}");
        }
    }

    #[test]
    fn micro_time_keeps_microseconds() {
        let cases = [
            (vec![], json!(null)),
            // Nanoseconds truncate to microseconds.
            (
                timestamp(1_746_093_600, 123_456_789),
                json!("2025-05-01T10:00:00.123456Z"),
            ),
            // Always six digits.
            (
                timestamp(1_746_093_600, 0),
                json!("2025-05-01T10:00:00.000000Z"),
            ),
            // Negative nanoseconds borrow from the seconds, as time.Unix does.
            (
                timestamp(1_746_093_600, -1_000),
                json!("2025-05-01T09:59:59.999999Z"),
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(time(read(&bytes), true).unwrap(), want, "{bytes:02x?}");
        }
    }

    #[test]
    fn time_outside_rfc3339_years_is_an_error() {
        // Beyond i64 nanoseconds, beyond jiff's range, 10000-01-01, and year -1.
        for seconds in [
            i64::MAX,
            i64::MIN,
            253_402_300_800,
            GO_ZERO_TIME_UNIX - 2 * 366 * 86_400,
        ] {
            let bytes = timestamp(seconds, 0);
            let err = time(read(&bytes), true).unwrap_err();
            assert_eq!(err.problem, Problem::TimeOutOfRange { seconds });
        }
    }

    #[test]
    fn durations_print_like_go() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (999, "999ns"),
            (1_500, "1.5µs"),
            (2_000_000, "2ms"),
            (1_234_567, "1.234567ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (61_000_000_000, "1m1s"),
            (3_600_000_000_000, "1h0m0s"),
            (5_400_000_000_000, "1h30m0s"),
            (90_061_000_000_001, "25h1m1.000000001s"),
            (-1_500_000_000, "-1.5s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (nanos, want) in cases {
            assert_eq!(go_duration(nanos), want, "{nanos}");
            let bytes = varint_field(1, nanos as u64);
            assert_eq!(duration(read(&bytes)).unwrap(), json!(want));
        }
        assert_eq!(duration(read(&[])).unwrap(), json!("0s"));
    }

    #[test]
    fn int_or_string_is_a_number_or_a_string() {
        let cases = [
            (vec![], Ok(json!(0))),
            (
                cat(&[varint_field(1, 0), varint_field(2, 8080)]),
                Ok(json!(8080)),
            ),
            (
                cat(&[
                    varint_field(1, 1),
                    varint_field(2, 0),
                    string_field(3, "https"),
                ]),
                Ok(json!("https")),
            ),
            // An empty string value stays a string.
            (varint_field(1, 1), Ok(json!(""))),
            (varint_field(1, 2), Err(Problem::InvalidIntOrStringType(2))),
        ];
        for (bytes, want) in cases {
            let got = int_or_string(read(&bytes)).map_err(|e| e.problem);
            assert_eq!(got, want, "{bytes:02x?}");
        }
    }

    #[test]
    fn quantity_is_its_string() {
        assert_eq!(
            quantity(read(&string_field(1, "500m"))).unwrap(),
            json!("500m")
        );
        assert_eq!(quantity(read(&[])).unwrap(), json!("0"));
        assert_eq!(
            quantity(read(&string_field(1, ""))).unwrap_err().problem,
            Problem::EmptyQuantity
        );
    }

    #[test]
    fn embedded_json_is_parsed_or_null() {
        let cases = [
            (
                bytes_field(1, br#"{"f:metadata":{}}"#),
                Ok(json!({"f:metadata": {}})),
            ),
            (bytes_field(1, b"[1, 2]"), Ok(json!([1, 2]))),
            (bytes_field(1, b""), Ok(json!(null))),
            (vec![], Ok(json!(null))),
        ];
        for (bytes, want) in cases {
            let got = embedded_json(read(&bytes)).map_err(|e| e.problem);
            assert_eq!(got, want, "{bytes:02x?}");
        }
        let err = embedded_json(read(&bytes_field(1, b"{oops"))).unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(matches!(err.problem, Problem::InvalidEmbeddedJson(_)));
    }

    #[test]
    fn slice_wrappers_and_schema_unions_pick_the_go_json_form() {
        let object = |v: Value| match v {
            Value::Object(m) => m,
            _ => unreachable!("test input is an object"),
        };
        assert_eq!(list(object(json!({"items": ["a"]}))), json!(["a"]));
        assert_eq!(list(Map::new()), json!([]));

        let schema = json!({"type": "string"});
        assert_eq!(
            schema_or_array(object(json!({"schema": schema, "jSONSchemas": [{}]}))),
            json!([{}])
        );
        assert_eq!(schema_or_array(object(json!({"schema": schema}))), schema);
        assert_eq!(schema_or_array(Map::new()), json!(null));

        assert_eq!(schema_or_bool(object(json!({"allows": true}))), json!(true));
        assert_eq!(
            schema_or_bool(object(json!({"allows": false}))),
            json!(false)
        );
        assert_eq!(
            schema_or_bool(object(json!({"allows": true, "schema": schema}))),
            schema
        );

        assert_eq!(
            schema_or_string_array(object(json!({"property": ["a", "b"]}))),
            json!(["a", "b"])
        );
        assert_eq!(
            schema_or_string_array(object(json!({"schema": schema}))),
            schema
        );
        assert_eq!(schema_or_string_array(Map::new()), json!(null));
    }
}
