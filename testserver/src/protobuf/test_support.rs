//! A tiny protobuf encoder for building test inputs by hand.

use super::MAGIC;

/// Concatenates byte strings.
pub(super) fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A base-128 varint.
pub(super) fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

fn key(number: u32, wire_type: u8) -> Vec<u8> {
    varint(u64::from(number) << 3 | u64::from(wire_type))
}

/// A varint field.
pub(super) fn varint_field(number: u32, v: u64) -> Vec<u8> {
    cat(&[key(number, 0), varint(v)])
}

/// A 32-bit field.
pub(super) fn fixed32_field(number: u32, v: u32) -> Vec<u8> {
    cat(&[key(number, 5), v.to_le_bytes().to_vec()])
}

/// A 64-bit field.
pub(super) fn fixed64_field(number: u32, v: u64) -> Vec<u8> {
    cat(&[key(number, 1), v.to_le_bytes().to_vec()])
}

/// A length-delimited field.
pub(super) fn bytes_field(number: u32, bytes: &[u8]) -> Vec<u8> {
    cat(&[key(number, 2), varint(bytes.len() as u64), bytes.to_vec()])
}

/// A string field.
pub(super) fn string_field(number: u32, s: &str) -> Vec<u8> {
    bytes_field(number, s.as_bytes())
}

/// A message field (length-delimited).
pub(super) fn message_field(number: u32, message: &[u8]) -> Vec<u8> {
    bytes_field(number, message)
}

/// A whole body: magic, then a `runtime.Unknown` carrying `raw`.
pub(super) fn body(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = cat(&[string_field(1, api_version), string_field(2, kind)]);
    cat(&[
        MAGIC.to_vec(),
        message_field(1, &type_meta),
        bytes_field(2, raw),
    ])
}
