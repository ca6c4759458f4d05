//! How objects are encoded: once, on write.
//!
//! The registry encodes every object to JSON exactly once, when it is written, and
//! stores those bytes. `metadata.resourceVersion` is left out of the stored bytes: it
//! is the storage revision of the write, which only the storage knows (etcd assigns
//! it). When the watch cache (or a write handler) learns the revision, it splices
//! `"resourceVersion":"<rev>"` into the bytes right after `"metadata":{` — a memcpy,
//! not a re-encode — and every reader is then served those same bytes.
//!
//! To make the splice point trivial to find, [`encode`] writes `apiVersion`, `kind`
//! and `metadata` first, in that order, and the remaining fields after them (sorted,
//! as `serde_json::Map` keeps them). Because `apiVersion` and `kind` are JSON strings,
//! in which `"` is always escaped, the first `"metadata":{` in the bytes is the
//! object's own.

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Map, Value};

use crate::storage::Revision;

const METADATA_OPEN: &[u8] = b"\"metadata\":{";

/// The JSON bytes of an object as served, with the position of its spliced
/// resourceVersion member (so it can be replaced without re-encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Served {
    /// The object's JSON, `metadata.resourceVersion` included.
    pub(crate) bytes: Bytes,
    /// Byte range of `"resourceVersion":"<rev>"` plus its trailing comma, if any.
    rv_span: (u32, u32),
}

/// The stored bytes do not have the shape [`encode`] writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored object has no metadata object")]
pub(crate) struct MalformedObject;

/// Encodes `obj` for storage: `apiVersion`, `kind`, `metadata` first, no
/// `metadata.resourceVersion`.
///
/// The JSON is written into a per-thread scratch buffer and copied out once at its
/// exact size: growing a fresh `Vec` would copy it at every doubling, and the stored
/// `Bytes` would keep the unused half of the last doubling alive for the object's life.
pub(crate) fn encode(obj: &Map<String, Value>) -> Bytes {
    /// Scratch buffers grown past this are let go, not kept for the next object.
    const KEEP: usize = 256 * 1024;
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut out) => {
            out.clear();
            write_object(&mut out, obj);
            let bytes = Bytes::copy_from_slice(&out);
            if out.capacity() > KEEP {
                *out = Vec::new();
            }
            bytes
        }
        // Not reachable (encoding never re-enters), but never worth a panic.
        Err(_) => {
            let mut out = Vec::new();
            write_object(&mut out, obj);
            Bytes::copy_from_slice(&out)
        }
    })
}

fn write_object(out: &mut Vec<u8>, obj: &Map<String, Value>) {
    out.push(b'{');
    let mut first = true;
    for key in ["apiVersion", "kind"] {
        if let Some(v) = obj.get(key) {
            member(out, &mut first, key, v);
        }
    }
    if let Some(Value::Object(meta)) = obj.get("metadata") {
        separator(out, &mut first);
        out.extend_from_slice(METADATA_OPEN);
        let mut first_meta = true;
        for (k, v) in meta {
            if k != "resourceVersion" {
                member(out, &mut first_meta, k, v);
            }
        }
        out.push(b'}');
    }
    for (k, v) in obj {
        if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            member(out, &mut first, k, v);
        }
    }
    out.push(b'}');
}

fn separator(out: &mut Vec<u8>, first: &mut bool) {
    if !*first {
        out.push(b',');
    }
    *first = false;
}

fn member(out: &mut Vec<u8>, first: &mut bool, key: &str, value: &Value) {
    separator(out, first);
    // Writing JSON into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, key);
    out.push(b':');
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Splices `rev` into stored bytes as `metadata.resourceVersion`.
pub(crate) fn with_resource_version(raw: &[u8], rev: Revision) -> Result<Served, MalformedObject> {
    let at = find(raw, METADATA_OPEN).ok_or(MalformedObject)? + METADATA_OPEN.len();
    Ok(splice(raw, at, at, rev))
}

impl Served {
    /// The same object at another resourceVersion (the last state of a deleted object
    /// is served at the delete's revision).
    pub(crate) fn at_revision(&self, rev: Revision) -> Served {
        let (start, end) = (self.rv_span.0 as usize, self.rv_span.1 as usize);
        splice(&self.bytes, start, end, rev)
    }
}

/// Replaces `raw[start..end]` by the resourceVersion member.
fn splice(raw: &[u8], start: usize, end: usize, rev: Revision) -> Served {
    let digits = rev.to_string();
    let tail = &raw[end..];
    let needs_comma = tail.first() != Some(&b'}');
    let member_len = "\"resourceVersion\":\"\"".len() + digits.len() + usize::from(needs_comma);
    let mut out = BytesMut::with_capacity(raw.len() - (end - start) + member_len);
    out.put_slice(&raw[..start]);
    out.put_slice(b"\"resourceVersion\":\"");
    out.put_slice(digits.as_bytes());
    out.put_u8(b'"');
    if needs_comma {
        out.put_u8(b',');
    }
    out.put_slice(tail);
    Served {
        bytes: out.freeze(),
        rv_span: (start as u32, (start + member_len) as u32),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test objects are objects"),
        }
    }

    #[test]
    fn encode_puts_type_and_metadata_first_and_drops_the_resource_version() {
        let o = obj(json!({
            "data": {"a": "1"}, "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "x", "resourceVersion": "9", "namespace": "ns"},
            "binaryData": {}
        }));
        let bytes = encode(&o);
        assert_eq!(
            std::str::from_utf8(&bytes).expect("utf8"),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"ns"},"binaryData":{},"data":{"a":"1"}}"#
        );
    }

    #[test]
    fn splicing_the_resource_version_yields_the_full_object() {
        let o = obj(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "\"metadata\":{"}}),
        );
        let served = with_resource_version(&encode(&o), 42).expect("splice");
        let back: Value = serde_json::from_slice(&served.bytes).expect("valid json");
        assert_eq!(
            back["metadata"],
            json!({"name": "x", "resourceVersion": "42"})
        );
        assert_eq!(back["data"]["k"], "\"metadata\":{");
        let later = served.at_revision(1234567);
        let back: Value = serde_json::from_slice(&later.bytes).expect("valid json");
        assert_eq!(back["metadata"]["resourceVersion"], "1234567");
        let earlier = later.at_revision(7);
        assert_eq!(
            earlier.bytes,
            with_resource_version(&encode(&o), 7).expect("splice").bytes
        );
    }

    #[test]
    fn empty_metadata_gets_no_dangling_comma() {
        let o = obj(json!({"apiVersion": "v1", "kind": "X", "metadata": {}}));
        let served = with_resource_version(&encode(&o), 3).expect("splice");
        assert_eq!(
            &served.bytes[..],
            br#"{"apiVersion":"v1","kind":"X","metadata":{"resourceVersion":"3"}}"#
        );
        let again = served.at_revision(10);
        assert_eq!(
            &again.bytes[..],
            br#"{"apiVersion":"v1","kind":"X","metadata":{"resourceVersion":"10"}}"#
        );
    }

    #[test]
    fn bytes_without_metadata_are_malformed() {
        assert_eq!(
            with_resource_version(br#"{"kind":"X"}"#, 1),
            Err(MalformedObject)
        );
    }
}
