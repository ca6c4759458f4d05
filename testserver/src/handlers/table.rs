//! Representations other than plain JSON: `meta.k8s.io` Tables (with the kind's
//! printer columns), `PartialObjectMetadata`, and YAML.

use bytes::Bytes;
use kubeforge_client::core::{ListMeta, Status};
use serde_json::{Map, Value, json};

use super::Ctx;
use super::negotiation::Output;
use super::respond::{self, Response};
use crate::apiserver::{ApiError, ApiResult};
use crate::registry::printers;

/// What a table row carries besides its cells (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub(crate) fn from_query(query: &str) -> ApiResult<Self> {
        let value = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "includeObject")
            .map(|(_, v)| v.into_owned());
        match value.as_deref() {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(other) => Err(Status::bad_request(format!(
                "includeObject: Unsupported value: \"{other}\": supported values: \"None\", \"Metadata\", \"Object\""
            ))
            .into()),
        }
    }
}

fn parse(bytes: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::from(Status::internal_error(&format!(
            "stored object is not JSON: {e}"
        )))
    })
}

/// `PartialObjectMetadata` of an object.
pub(crate) fn partial(obj: &Value, version: &str) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A Table of `objects` (served bytes), with list metadata.
pub(crate) fn table(
    ctx: &Ctx<'_>,
    version: &str,
    objects: &[Bytes],
    meta: &ListMeta,
    headers: bool,
) -> ApiResult<Value> {
    let include = IncludeObject::from_query(ctx.query)?;
    let printer = if ctx.res.is_custom() {
        printers::custom_printer()
    } else {
        printers::printer_for(&ctx.res.gvk.group, &ctx.res.gvk.kind)
            .unwrap_or_else(printers::default_printer)
    };
    let now = jiff::Timestamp::now();
    let mut rows = Vec::with_capacity(objects.len());
    for bytes in objects {
        let obj = parse(bytes)?;
        let cells = (printer.row)(&obj, now);
        let mut row = Map::new();
        row.insert("cells".into(), Value::Array(cells));
        match include {
            IncludeObject::None => {}
            IncludeObject::Metadata => {
                row.insert("object".into(), partial(&obj, version));
            }
            IncludeObject::Object => {
                row.insert("object".into(), obj);
            }
        }
        rows.push(Value::Object(row));
    }
    let columns: Vec<Value> = if headers {
        printer
            .columns
            .iter()
            .map(|c| {
                json!({
                    "name": c.name, "type": c.type_, "format": c.format,
                    "description": c.description, "priority": c.priority,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": meta,
        "columnDefinitions": columns,
        "rows": rows,
    }))
}

fn table_content_type(version: &str) -> &'static str {
    if version == "v1beta1" {
        "application/json;as=Table;v=v1beta1;g=meta.k8s.io"
    } else {
        "application/json;as=Table;v=v1;g=meta.k8s.io"
    }
}

/// JSON bytes as YAML.
pub(crate) fn yaml(bytes: &[u8]) -> ApiResult<Bytes> {
    let v = parse(bytes)?;
    serde_saphyr::to_string(&v)
        .map(Bytes::from)
        .map_err(|e| Status::internal_error(&format!("failed to encode YAML: {e}")).into())
}

/// Answers a read of one object in the negotiated representation.
pub(crate) fn render_one(ctx: &Ctx<'_>, output: Output, bytes: Bytes) -> ApiResult<Response> {
    Ok(match output {
        Output::Json => respond::bytes(200, "application/json", bytes),
        Output::Yaml => respond::bytes(200, "application/yaml", yaml(&bytes)?),
        Output::Table(v) => {
            let t = table(ctx, v, &[bytes], &ListMeta::default(), true)?;
            respond::bytes(
                200,
                table_content_type(v),
                serde_json::to_vec(&t).unwrap_or_default(),
            )
        }
        Output::Metadata(v) => {
            let p = partial(&parse(&bytes)?, v);
            respond::json(200, &p)
        }
    })
}

/// Answers a list in a representation other than JSON (JSON lists are assembled
/// from bytes by the list handler).
pub(crate) fn render_list(
    ctx: &Ctx<'_>,
    output: Output,
    items: &[Bytes],
    meta: &ListMeta,
    json_list: impl FnOnce() -> Bytes,
) -> ApiResult<Response> {
    Ok(match output {
        Output::Json => respond::bytes(200, "application/json", json_list()),
        Output::Yaml => respond::bytes(200, "application/yaml", yaml(&json_list())?),
        Output::Table(v) => {
            let t = table(ctx, v, items, meta, true)?;
            respond::bytes(
                200,
                table_content_type(v),
                serde_json::to_vec(&t).unwrap_or_default(),
            )
        }
        Output::Metadata(v) => {
            let mut out = Vec::with_capacity(items.len());
            for b in items {
                out.push(partial(&parse(b)?, v));
            }
            respond::json(
                200,
                &json!({
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": format!("meta.k8s.io/{v}"),
                    "metadata": meta,
                    "items": out,
                }),
            )
        }
    })
}

/// The content type of a watch in the given representation.
pub(crate) fn watch_content_type(output: Output) -> &'static str {
    match output {
        Output::Table(v) => table_content_type(v),
        _ => "application/json",
    }
}
