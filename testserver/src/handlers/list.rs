//! LIST: from the watch cache, with selectors, pagination (opaque continue tokens, one
//! resourceVersion for all pages, `remainingItemCount` without selectors) and the
//! resourceVersion / resourceVersionMatch semantics of the API.
//!
//! | | RV unset | RV="0" | RV="N" |
//! | --- | --- | --- | --- |
//! | no limit | most recent | any | not older than N |
//! | limit, no continue | most recent | any | exactly N (unless NotOlderThan) |
//! | continue | the token's RV | (400 if set) | (400) |

use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use kubeforge_client::core::{
    GroupKind, ListMeta, ListOptions, ResourceVersionMatch, Status, parse_resource_version,
};
use serde::{Deserialize, Serialize};

use super::get::{cache_error, fresh_for};
use super::negotiation::{Accepts, negotiate};
use super::respond::Response;
use super::{Ctx, Filter, table};
use crate::apiserver::{ApiError, ApiResult};
use crate::cache::{Snapshot, WatchCache};
use crate::storage::{self, Revision};

const EXPIRED_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

const EXPIRED_RV: &str = "The resourceVersion for the provided list is too old.";

/// The continue token, as upstream encodes it (clients treat it as opaque).
#[derive(Debug, Serialize, Deserialize)]
struct ContinueToken {
    v: String,
    /// The list's resourceVersion; -1 means "continue at the latest".
    rv: i64,
    /// The key to continue from, relative to the list's key prefix.
    start: String,
}

fn encode_token(rv: i64, start: &str) -> String {
    let token = ContinueToken {
        v: "meta.k8s.io/v1".to_owned(),
        rv,
        start: start.to_owned(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&token).unwrap_or_default())
}

fn bad_token(why: &str) -> ApiError {
    Status::bad_request(format!("continue key is not valid: {why}")).into()
}

fn decode_token(token: &str) -> ApiResult<ContinueToken> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|e| bad_token(&e.to_string()))?;
    let t: ContinueToken = serde_json::from_slice(&raw).map_err(|e| bad_token(&e.to_string()))?;
    if t.v != "meta.k8s.io/v1" {
        return Err(bad_token(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    if t.rv == 0 || t.rv < -1 {
        return Err(bad_token(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    let traversal =
        t.start.split('/').any(|seg| seg == "." || seg == "..") || t.start.starts_with('/');
    if t.start.is_empty() || traversal {
        return Err(bad_token(&t.start));
    }
    Ok(t)
}

/// Where a list reads: a snapshot, and the first key to consider.
struct Source {
    snapshot: Snapshot,
    start: Option<String>,
}

async fn exact_snapshot(
    ctx: &Ctx<'_>,
    cache: &WatchCache,
    prefix: &str,
    rev: Revision,
    start: Option<&str>,
    expired: impl FnOnce() -> ApiError,
) -> ApiResult<Snapshot> {
    if rev > cache.revision() {
        cache.wait_for(rev).await.map_err(|e| cache_error(ctx, e))?;
    }
    if let Some(s) = cache.snapshot_at(rev) {
        return Ok(s);
    }
    match cache.snapshot_from_storage(prefix, start, rev).await {
        Ok(s) => Ok(s),
        Err(storage::Error::Compacted { .. }) => Err(expired()),
        Err(e) => Err(super::store_error(ctx, e)),
    }
}

async fn source(
    ctx: &Ctx<'_>,
    cache: &WatchCache,
    opts: &ListOptions,
    prefix: &str,
) -> ApiResult<Source> {
    if let Some(token) = &opts.continue_token {
        if opts
            .resource_version
            .as_deref()
            .is_some_and(|rv| !rv.is_empty() && rv != "0")
        {
            return Err(Status::bad_request(
                "specifying resource version is not allowed when using continue",
            )
            .into());
        }
        let t = decode_token(token)?;
        let start = format!("{prefix}{}", t.start);
        if t.rv == -1 {
            fresh_for(ctx, cache, None).await?;
            return Ok(Source {
                snapshot: cache.snapshot(),
                start: Some(start),
            });
        }
        let rev = t.rv as Revision;
        let relative = t.start.clone();
        let snapshot = exact_snapshot(ctx, cache, prefix, rev, Some(&start), || {
            let mut s = Status::expired(EXPIRED_CONTINUE);
            s.metadata.continue_token = Some(encode_token(-1, &relative));
            s.into()
        })
        .await?;
        return Ok(Source {
            snapshot,
            start: Some(start),
        });
    }
    let rv = opts.resource_version.as_deref();
    let exact = match (&opts.resource_version_match, rv) {
        (Some(ResourceVersionMatch::Exact), _) => true,
        (Some(_), _) => false,
        // A limited list at a given RV is served exactly at it.
        (None, Some(rv)) => rv != "0" && opts.limit.is_some_and(|l| l > 0),
        (None, None) => false,
    };
    if exact && let Some(rv) = rv {
        let rev = parse_resource_version(rv).map_err(|e| {
            ApiError::from(Status::bad_request(format!(
                "invalid resource version: {e}"
            )))
        })?;
        let snapshot = exact_snapshot(ctx, cache, prefix, rev, None, || {
            Status::expired(EXPIRED_RV).into()
        })
        .await?;
        return Ok(Source {
            snapshot,
            start: None,
        });
    }
    fresh_for(ctx, cache, rv).await?;
    Ok(Source {
        snapshot: cache.snapshot(),
        start: None,
    })
}

/// Bytes per frame of a streamed list body.
const LIST_CHUNK: usize = 64 * 1024;

/// The head of a JSON list: `{"kind":…,"apiVersion":…,"metadata":{…},"items":[`.
fn list_head(list_kind: &str, api_version: &str, meta: &ListMeta) -> Bytes {
    let meta_json = serde_json::to_vec(meta).unwrap_or_else(|_| b"{}".to_vec());
    let mut out = BytesMut::with_capacity(meta_json.len() + 64);
    out.put_slice(b"{\"kind\":\"");
    out.put_slice(list_kind.as_bytes());
    out.put_slice(b"\",\"apiVersion\":\"");
    out.put_slice(api_version.as_bytes());
    out.put_slice(b"\",\"metadata\":");
    out.put_slice(&meta_json);
    out.put_slice(b",\"items\":[");
    out.freeze()
}

/// A JSON list response streamed in frames of about [`LIST_CHUNK`] bytes, with an exact
/// `Content-Length`: items are copied frame by frame from their cached bytes, so a
/// large list never needs one buffer of its whole size.
fn list_stream(head: Bytes, items: Vec<Bytes>) -> Response {
    let len = head.len()
        + items.iter().map(Bytes::len).sum::<usize>()
        + items.len().saturating_sub(1)
        + 2;
    let mut head = Some(head);
    let mut items = items.into_iter();
    let mut first = true;
    let mut done = false;
    let chunks = std::iter::from_fn(move || {
        if let Some(h) = head.take() {
            return Some(h);
        }
        if done {
            return None;
        }
        let mut buf = BytesMut::with_capacity(LIST_CHUNK + 4096);
        for item in items.by_ref() {
            if !first {
                buf.put_u8(b',');
            }
            first = false;
            buf.put_slice(&item);
            if buf.len() >= LIST_CHUNK {
                return Some(buf.freeze());
            }
        }
        buf.put_slice(b"]}");
        done = true;
        Some(buf.freeze())
    });
    let frames = futures::stream::iter(
        chunks.map(|b| Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(b))),
    );
    let mut resp = http::Response::new(http_body_util::BodyExt::boxed(
        http_body_util::StreamBody::new(frames),
    ));
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    h.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    resp
}

/// `{"kind":"<Kind>List","apiVersion":…,"metadata":{…},"items":[…]}` from item bytes.
pub(super) fn list_json(
    list_kind: &str,
    api_version: &str,
    meta: &ListMeta,
    items: &[Bytes],
) -> Bytes {
    let meta_json = serde_json::to_vec(meta).unwrap_or_else(|_| b"{}".to_vec());
    let size: usize = items.iter().map(|b| b.len() + 1).sum::<usize>() + meta_json.len() + 64;
    let mut out = BytesMut::with_capacity(size);
    out.put_slice(b"{\"kind\":\"");
    out.put_slice(list_kind.as_bytes());
    out.put_slice(b"\",\"apiVersion\":\"");
    out.put_slice(api_version.as_bytes());
    out.put_slice(b"\",\"metadata\":");
    out.put_slice(&meta_json);
    out.put_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(item);
    }
    out.put_slice(b"]}");
    out.freeze()
}

/// Validates list options (422) and selectors (400) and builds the filter.
pub(super) fn parse_options(ctx: &Ctx<'_>) -> ApiResult<(ListOptions, Filter)> {
    let opts = ListOptions::from_query(ctx.query)
        .map_err(|e| ApiError::from(Status::bad_request(e.to_string())))?;
    let errs = opts.validate();
    if !errs.is_empty() {
        return Err(
            Status::invalid(&GroupKind::new("meta.k8s.io", "ListOptions"), "", &errs).into(),
        );
    }
    let (labels, fields) = ctx.selectors(
        opts.label_selector.as_deref(),
        opts.field_selector.as_deref(),
    )?;
    let filter = Filter {
        namespace: ctx.namespace.to_owned(),
        labels,
        fields,
    };
    Ok((opts, filter))
}

pub(super) async fn list(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let (opts, filter) = parse_options(ctx)?;
    let output = negotiate(
        ctx.header(http::header::ACCEPT),
        Accepts {
            table: true,
            metadata: true,
        },
    )?;
    let cache = ctx.cache()?;
    let prefix = ctx.res.namespace_prefix(ctx.namespace).unwrap_or_default();
    let src = source(ctx, cache, &opts, &prefix).await?;
    let limit = opts.limit.filter(|l| *l > 0).map(|l| l as usize);

    let start = src.start.clone().unwrap_or_else(|| prefix.clone());
    let mut items = Vec::new();
    let mut last_key: Option<&String> = None;
    let mut more = false;
    let mut remaining = 0i64;
    for (key, obj) in src.snapshot.items.range(start.clone()..) {
        if !key.starts_with(&prefix) {
            break;
        }
        if !filter.matches(obj) {
            continue;
        }
        if limit.is_some_and(|l| items.len() == l) {
            more = true;
            if filter.has_selectors() {
                break;
            }
            remaining += 1;
            continue;
        }
        items.push(ctx.served(obj)?);
        last_key = Some(key);
    }
    let continue_token = match (more, last_key) {
        (true, Some(k)) => {
            cache.remember_snapshot(&src.snapshot);
            Some(encode_token(
                src.snapshot.revision as i64,
                &format!("{}\u{0}", &k[prefix.len()..]),
            ))
        }
        _ => None,
    };
    let meta = ListMeta {
        resource_version: Some(src.snapshot.revision.to_string()),
        remaining_item_count: (more && !filter.has_selectors()).then_some(remaining),
        continue_token,
        ..ListMeta::default()
    };
    if output == super::negotiation::Output::Json {
        let head = list_head(&ctx.res.list_kind(), &ctx.res.api_version(), &meta);
        return Ok(list_stream(head, items));
    }
    table::render_list(ctx, output, &items, &meta, || {
        list_json(&ctx.res.list_kind(), &ctx.res.api_version(), &meta, &items)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_tampering() {
        let t = decode_token(&encode_token(42, "ns/name\u{0}")).expect("valid");
        assert_eq!((t.rv, t.start.as_str()), (42, "ns/name\u{0}"));
        assert!(decode_token("not base64!").is_err());
        assert!(decode_token(&encode_token(5, "../etc")).is_err());
        assert!(decode_token(&encode_token(0, "x")).is_err());
        let other = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"v":"x","rv":1,"start":"a"}"#);
        assert!(decode_token(&other).is_err());
    }
}
