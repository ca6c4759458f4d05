//! Kubernetes protobuf request bodies, decoded to the JSON object our server stores.
//!
//! kubectl's typed commands (`create namespace|configmap|secret|deployment|...`,
//! `create token`, `certificate approve`, `debug`) send bodies as
//! `application/vnd.kubernetes.protobuf`: the magic bytes `k8s\0`, then a
//! `runtime.Unknown` envelope whose `typeMeta` names the `apiVersion` and `kind` and
//! whose `raw` bytes are the typed message (proto2, as gogo-protobuf writes it).
//! [`decode`] turns such a body into the JSON kube-apiserver would have seen for the
//! same Go object.
//!
//! # Layout
//!
//! - `wire`: the wire format (varints, keys, lengths), bounds-checked.
//! - `schema`: the table of messages and fields, `schema.txt`, generated from the
//!   upstream `generated.proto` files and Go json tags by `gen_schema.py`.
//! - `message`: ordinary messages to JSON objects, and the presence rule.
//! - `special`: types whose Go code writes JSON by hand (`Time`, `IntOrString`,
//!   `Quantity`, `RawExtension`, ...).
//!
//! kube-apiserver decodes protobuf into Go structs and never looks at JSON; we have no
//! Go structs, so we go straight from the wire to JSON with the schema. Decoding is
//! linear in the body: nothing is allocated from a declared length, and nesting stops
//! at [`MAX_DEPTH`].

mod message;
mod schema;
mod special;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;

use serde_json::{Map, Value};

use message::Decoder;
use wire::{Problem, Reader, WireError, WireType};

/// The media type of Kubernetes protobuf bodies.
pub(crate) const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The four bytes every Kubernetes protobuf body starts with.
const MAGIC: &[u8] = b"k8s\0";

/// How deeply messages may nest: the typed object is depth 1. Real objects stay under
/// 20 (a CRD's schema is the deepest); the limit keeps hostile input off the stack.
const MAX_DEPTH: usize = 100;

/// Why a protobuf body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    /// The body does not start with `k8s\0`.
    #[error("protobuf body does not start with the kubernetes magic bytes")]
    MissingMagic,
    /// The envelope names a type the schema does not know.
    #[error("protobuf envelope names unknown type kind {kind:?} in apiVersion {api_version:?}")]
    UnknownType {
        /// The envelope's `apiVersion`.
        api_version: String,
        /// The envelope's `kind`.
        kind: String,
    },
    /// The envelope says the typed message is compressed or otherwise encoded.
    #[error("protobuf envelope has unsupported content encoding {0:?}")]
    UnsupportedContentEncoding(String),
    /// The envelope says the typed message is not protobuf.
    #[error("protobuf envelope has unsupported content type {0:?}")]
    UnsupportedContentType(String),
    /// The bytes do not follow the wire format or the schema.
    #[error("malformed protobuf at {path} (byte {offset}): {problem}")]
    Malformed {
        /// JSON path of the field being read (`Deployment.spec.template`).
        path: FieldPath,
        /// Offset from the start of the body.
        offset: usize,
        /// What is wrong.
        problem: Problem,
    },
    /// The embedded schema table does not parse (a build defect, caught by tests).
    #[error("protobuf schema table is invalid: {0}")]
    Schema(String),
}

impl DecodeError {
    /// Adds the field or index `segment` to the front of a malformed-input path, as the
    /// error travels out of the field it happened in.
    fn within(mut self, segment: &str) -> Self {
        if let DecodeError::Malformed { path, .. } = &mut self {
            path.prepend(segment);
        }
        self
    }
}

impl From<WireError> for DecodeError {
    fn from(err: WireError) -> Self {
        DecodeError::Malformed {
            path: FieldPath::default(),
            offset: err.offset,
            problem: err.problem,
        }
    }
}

/// Where in the object a decoding error happened, as a JSON path.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath(String);

impl FieldPath {
    fn prepend(&mut self, segment: &str) {
        if segment.is_empty() {
            // Inline fields add no segment of their own.
        } else if self.0.is_empty() {
            self.0 = segment.to_owned();
        } else if self.0.starts_with('[') {
            self.0.insert_str(0, segment);
        } else {
            self.0.insert(0, '.');
            self.0.insert_str(0, segment);
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("top level")
        } else {
            f.write_str(&self.0)
        }
    }
}

/// Decodes a Kubernetes protobuf body (magic + runtime.Unknown + typed message) into the
/// object's JSON form, `apiVersion` and `kind` included.
///
/// # Errors
///
/// [`DecodeError`] when the body lacks the magic bytes, names a type outside the
/// built-in API groups, or is malformed (truncated, lengths past the end, wrong wire
/// types, nesting deeper than [`MAX_DEPTH`]). Unknown fields are skipped, not errors.
pub(crate) fn decode(body: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    let schema = schema::schema().map_err(|e| DecodeError::Schema(e.to_owned()))?;
    let envelope = body.strip_prefix(MAGIC).ok_or(DecodeError::MissingMagic)?;
    decode_envelope(&Decoder { schema }, Reader::new(envelope, MAGIC.len()), 0)
}

/// The fields of a `runtime.Unknown` envelope.
#[derive(Debug, Default)]
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: Option<Reader<'a>>,
    content_encoding: String,
    content_type: String,
}

/// Decodes a `runtime.Unknown` (after the magic) and the typed message it carries,
/// which sits at `depth + 1`.
fn decode_envelope(
    decoder: &Decoder<'_>,
    r: Reader<'_>,
    depth: usize,
) -> Result<Map<String, Value>, DecodeError> {
    let envelope = read_envelope(r).map_err(|e| DecodeError::from(e).within("envelope"))?;
    if !envelope.content_encoding.is_empty() {
        return Err(DecodeError::UnsupportedContentEncoding(
            envelope.content_encoding,
        ));
    }
    if !envelope.content_type.is_empty() && envelope.content_type != MEDIA_TYPE {
        return Err(DecodeError::UnsupportedContentType(envelope.content_type));
    }
    let Some(id) = decoder.schema.kind(&envelope.api_version, &envelope.kind) else {
        return Err(DecodeError::UnknownType {
            api_version: envelope.api_version,
            kind: envelope.kind,
        });
    };
    let raw = envelope.raw.unwrap_or_else(Reader::empty);
    if depth + 1 > MAX_DEPTH {
        return Err(DecodeError::from(
            raw.error(Problem::TooDeep { limit: MAX_DEPTH }),
        ));
    }
    let mut object = decoder
        .object(raw, id, depth + 1)
        .map_err(|e| e.within(&envelope.kind))?;
    object.insert("apiVersion".to_owned(), Value::String(envelope.api_version));
    object.insert("kind".to_owned(), Value::String(envelope.kind));
    Ok(object)
}

/// Reads `runtime.Unknown`: typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2,
/// contentEncoding = 3, contentType = 4.
fn read_envelope(mut r: Reader<'_>) -> Result<Envelope<'_>, WireError> {
    let mut envelope = Envelope::default();
    while !r.is_empty() {
        let key_at = r.offset();
        let (number, wire_type) = r.key()?;
        if !(1..=4).contains(&number) {
            r.skip(wire_type)?;
            continue;
        }
        r.expect(key_at, WireType::LengthDelimited, wire_type)?;
        let value = r.length_delimited()?;
        match number {
            1 => {
                let mut type_meta = value;
                while !type_meta.is_empty() {
                    let key_at = type_meta.offset();
                    let (number, wire_type) = type_meta.key()?;
                    let slot = match number {
                        1 => &mut envelope.api_version,
                        2 => &mut envelope.kind,
                        _ => {
                            type_meta.skip(wire_type)?;
                            continue;
                        }
                    };
                    type_meta.expect(key_at, WireType::LengthDelimited, wire_type)?;
                    *slot = text(&type_meta.length_delimited()?);
                }
            }
            2 => envelope.raw = Some(value),
            3 => envelope.content_encoding = text(&value),
            _ => envelope.content_type = text(&value),
        }
    }
    Ok(envelope)
}

fn text(r: &Reader<'_>) -> String {
    String::from_utf8_lossy(r.rest()).into_owned()
}
