//! Decoding list bodies: inline for small ones; for big ones off the async runtime
//! and in parallel, item by item.
//!
//! A 10,000-pod list is ~20 MB of JSON and ~100 ms of decoding on one core: done
//! inline it stalls every other task of its runtime worker for that long. Big bodies
//! therefore go to `spawn_blocking`, where a quick structural scan finds the byte range
//! of every element of `items` (and of `metadata`), and the items are decoded on up to
//! four threads at once. Anything the scan does not understand falls back to decoding
//! the whole body with serde_json. `metadata` and every item are decoded (and so
//! validated) by serde_json; other top-level fields (`kind`, `apiVersion`) are only
//! skipped over.

use std::ops::Range;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::typed::ObjectList;
use crate::core::{Error, ListMeta};

/// Bodies at least this big are decoded off the runtime.
const OFF_RUNTIME: usize = 256 * 1024;
/// Items per thread below which another thread is not worth starting.
const MIN_ITEMS_PER_THREAD: usize = 256;
/// Most threads one decode uses.
const MAX_THREADS: usize = 4;

/// Decodes a list body.
///
/// # Errors
///
/// [`Error::Decode`] when the body is not a list of `K`.
///
/// # Cancel safety
///
/// Dropping the future abandons the result; decoding already running on blocking
/// threads finishes there and is discarded.
pub(crate) async fn decode_list<K>(body: Bytes) -> Result<ObjectList<K>, Error>
where
    K: DeserializeOwned + Send + 'static,
{
    if body.len() < OFF_RUNTIME {
        return super::decode_json(&body);
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(MAX_THREADS);
    let scanned = body.clone();
    let prepared = blocking(move || prepare::<K>(&scanned, threads)).await??;
    let (metadata, chunks) = match prepared {
        Prepared::Done(list) => return Ok(list),
        Prepared::Split { metadata, chunks } => (metadata, chunks),
    };
    // Each chunk decodes on a thread of tokio's blocking pool: threads that stay
    // alive between lists, so their allocator caches stay warm.
    let tasks = chunks.into_iter().map(|ranges| {
        let body = body.clone();
        blocking(move || decode_items::<K>(&body, &ranges))
    });
    let parts = futures::future::try_join_all(tasks).await?;
    let mut items = Vec::with_capacity(parts.iter().map(|p| p.as_ref().map_or(0, Vec::len)).sum());
    for part in parts {
        items.extend(part?);
    }
    Ok(ObjectList { metadata, items })
}

/// Runs CPU-heavy work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Request(Box::new(e)))
}

/// A scanned list: decoded already (small, or not understood by the scan), or its
/// metadata and the item ranges split into chunks to decode in parallel.
enum Prepared<K> {
    Done(ObjectList<K>),
    Split {
        metadata: ListMeta,
        chunks: Vec<Vec<Range<usize>>>,
    },
}

fn prepare<K: DeserializeOwned>(body: &[u8], threads: usize) -> Result<Prepared<K>, Error> {
    let (Ok(text), Some(layout)) = (std::str::from_utf8(body), scan(body)) else {
        return super::decode_json(body).map(Prepared::Done);
    };
    let metadata: ListMeta = match &layout.metadata {
        Some(r) => serde_json::from_str(part(text, r)).map_err(Error::Decode)?,
        None => ListMeta::default(),
    };
    let threads = threads
        .min(layout.items.len() / MIN_ITEMS_PER_THREAD)
        .max(1);
    let per = layout.items.len().div_ceil(threads).max(1);
    let chunks = layout.items.chunks(per).map(<[_]>::to_vec).collect();
    Ok(Prepared::Split { metadata, chunks })
}

/// The scan's ranges start and end at ASCII punctuation, so they are char
/// boundaries; `get` keeps that an assumption checked rather than a panic.
fn part<'t>(text: &'t str, r: &Range<usize>) -> &'t str {
    text.get(r.clone()).unwrap_or_default()
}

fn decode_items<K: DeserializeOwned>(
    body: &[u8],
    ranges: &[Range<usize>],
) -> Result<Vec<K>, Error> {
    // Already checked as UTF-8 by `prepare`; checked again per chunk (cheap) rather
    // than trusted across threads.
    let text = std::str::from_utf8(body).map_err(|e| Error::Request(Box::new(e)))?;
    ranges
        .iter()
        .map(|r| serde_json::from_str(part(text, r)).map_err(Error::Decode))
        .collect()
}

/// Where a list's parts are in its body.
#[derive(Debug, PartialEq)]
struct Layout {
    metadata: Option<Range<usize>>,
    items: Vec<Range<usize>>,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The end (exclusive) of the string starting at `b[i] == '"'`.
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[k] == b'"' {
            return Some(k + 1);
        }
        j = k + 2; // skip the escaped character
    }
}

/// The end (exclusive) of the JSON value starting at `b[i]`.
///
/// Objects and arrays are skipped by jumping (memchr) from one quote or bracket of
/// their own kind to the next: inside an object only braces can change its depth
/// (brackets outside strings are always balanced within it), likewise for arrays.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    let (open, close) = match *b.get(i)? {
        b'"' => return skip_string(b, i),
        b'{' => (b'{', b'}'),
        b'[' => (b'[', b']'),
        _ => {
            let len = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(b.len() - i);
            return (len > 0).then_some(i + len);
        }
    };
    let mut depth = 0usize;
    let mut j = i;
    loop {
        let k = j + memchr::memchr3(b'"', open, close, b.get(j..)?)?;
        match b[k] {
            b'"' => {
                j = skip_string(b, k)?;
                continue;
            }
            c if c == open => depth += 1,
            _ => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
        }
        j = k + 1;
    }
}

/// Finds `metadata` and every element of `items` in a list body; `None` when the body
/// does not look like a JSON object with an `items` array.
fn scan(b: &[u8]) -> Option<Layout> {
    let mut layout = Layout {
        metadata: None,
        items: Vec::new(),
    };
    let mut saw_items = false;
    let mut i = skip_ws(b, 0);
    if *b.get(i)? != b'{' {
        return None;
    }
    i = skip_ws(b, i + 1);
    if *b.get(i)? == b'}' {
        return None;
    }
    loop {
        if *b.get(i)? != b'"' {
            return None;
        }
        let key_end = skip_string(b, i)?;
        let key = &b[i + 1..key_end - 1];
        i = skip_ws(b, key_end);
        if *b.get(i)? != b':' {
            return None;
        }
        i = skip_ws(b, i + 1);
        if key == b"items" {
            saw_items = true;
            if b.get(i..i + 4)? == b"null" {
                i += 4;
            } else {
                if *b.get(i)? != b'[' {
                    return None;
                }
                i = skip_ws(b, i + 1);
                if *b.get(i)? == b']' {
                    i += 1;
                } else {
                    loop {
                        let end = skip_value(b, i)?;
                        layout.items.push(i..end);
                        i = skip_ws(b, end);
                        match *b.get(i)? {
                            b',' => i = skip_ws(b, i + 1),
                            b']' => {
                                i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
        } else {
            let end = skip_value(b, i)?;
            if key == b"metadata" {
                layout.metadata = Some(i..end);
            }
            i = end;
        }
        i = skip_ws(b, i);
        match *b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => break,
            _ => return None,
        }
    }
    (saw_items && skip_ws(b, i + 1) == b.len()).then_some(layout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn the_scan_finds_items_and_metadata_wherever_they_are() {
        let body = br#" {"kind":"PodList","items":[{"a":"}]\"{"} , {"b":[1,{"c":null}]}],"metadata":{"resourceVersion":"7"},"apiVersion":"v1"} "#;
        let layout = scan(body).expect("a list");
        let slices: Vec<&str> = layout
            .items
            .iter()
            .map(|r| std::str::from_utf8(&body[r.clone()]).expect("utf8"))
            .collect();
        assert_eq!(slices, [r#"{"a":"}]\"{"}"#, r#"{"b":[1,{"c":null}]}"#]);
        assert_eq!(
            &body[layout.metadata.expect("metadata")],
            br#"{"resourceVersion":"7"}"#
        );
    }

    #[test]
    fn what_is_not_a_list_is_left_to_serde() {
        for body in [
            &br#"[]"#[..],
            br#"{"kind":"Status"}"#,
            br#"{"items":[{"a":1}"#,
            br#"{"items":[{"a":1}]} trailing"#,
            br#"{"items":{"a":1}}"#,
        ] {
            assert_eq!(scan(body), None, "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(
            scan(br#"{"items":null}"#),
            Some(Layout {
                metadata: None,
                items: vec![]
            })
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_big_list_decodes_in_parallel_to_what_serde_decodes() {
        let items: Vec<Value> = (0..6000)
            .map(|i| json!({"metadata": {"name": format!("n{i}")}, "data": {"k": "v \" ] }"}}))
            .collect();
        let body = serde_json::to_vec(&json!({
            "apiVersion": "v1", "kind": "ConfigMapList",
            "metadata": {"resourceVersion": "42", "continue": "tok"},
            "items": items,
        }))
        .expect("encode");
        assert!(
            body.len() >= OFF_RUNTIME,
            "big enough to go off the runtime"
        );
        let fast: ObjectList<Value> = decode_list(Bytes::from(body.clone()))
            .await
            .expect("decode");
        let plain: ObjectList<Value> = serde_json::from_slice(&body).expect("decode");
        assert_eq!(fast, plain);
        assert_eq!(fast.metadata.continue_token.as_deref(), Some("tok"));

        let mut broken = body.clone();
        let at = broken.len() / 2;
        broken[at] = b'\x01';
        assert!(decode_list::<Value>(Bytes::from(broken)).await.is_err());
    }
}
