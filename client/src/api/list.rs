//! Decoding list bodies without stalling the async runtime.
//!
//! A 10,000-pod list is ~13 MB of JSON and ~100 ms of decoding. Done inline in a
//! future, that stalls every other task queued on the same runtime worker (watch
//! streams, other requests) for as long. Big bodies are therefore decoded inside
//! `tokio::task::block_in_place`, which hands the worker's other tasks to another
//! thread first, and decode on the thread that called `list`.
//!
//! Decoding on the calling thread, rather than on `spawn_blocking` threads (in
//! parallel chunks, which we measured), keeps the objects' memory in the allocator
//! heap of the thread that uses and frees them: the parallel variant cut a lone list's
//! wall time on an idle machine, but cost ~18% more CPU per list in the client
//! benchmark, most of it in cross-thread frees and fresh pages.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tokio::runtime::{Handle, RuntimeFlavor};

use super::typed::ObjectList;
use crate::core::Error;

/// Bodies at least this big are decoded with the runtime's other work moved away.
const OFF_RUNTIME: usize = 256 * 1024;

/// Decodes a list body.
///
/// On a current-thread runtime (where no other worker could take over) big bodies
/// are decoded inline, as everything else on such a runtime is.
///
/// # Errors
///
/// [`Error::Decode`] when the body is not a list of `K`.
pub(crate) fn decode_list<K: DeserializeOwned>(
    body: &Bytes,
    without_managed_fields: bool,
) -> Result<ObjectList<K>, Error> {
    let decode = || {
        let stripped = if without_managed_fields {
            super::strip::without_managed_fields(body)
        } else {
            None
        };
        super::decode_json(stripped.as_deref().unwrap_or(body))
    };
    let multi_thread =
        Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
    if body.len() >= OFF_RUNTIME && multi_thread {
        tokio::task::block_in_place(decode)
    } else {
        decode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn big_list() -> Vec<u8> {
        let items: Vec<Value> = (0..6000)
            .map(|i| json!({"metadata": {"name": format!("n{i}")}, "data": {"k": "v \" ] }"}}))
            .collect();
        let body = serde_json::to_vec(&json!({
            "apiVersion": "v1", "kind": "ConfigMapList",
            "metadata": {"resourceVersion": "42", "continue": "tok"},
            "items": items,
        }))
        .expect("encode");
        assert!(body.len() >= OFF_RUNTIME, "big enough to leave the runtime");
        body
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_big_list_decodes_off_a_multi_thread_runtime() {
        let body = big_list();
        let list: ObjectList<Value> =
            decode_list(&Bytes::from(body.clone()), false).expect("decode");
        assert_eq!(list, serde_json::from_slice(&body).expect("decode"));
        assert_eq!(list.metadata.continue_token.as_deref(), Some("tok"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_big_list_decodes_inline_on_a_current_thread_runtime() {
        let list: ObjectList<Value> = decode_list(&Bytes::from(big_list()), false).expect("decode");
        assert_eq!(list.items.len(), 6000);
        let err =
            decode_list::<Value>(&Bytes::from_static(b"{\"items\": [1,"), false).expect_err("bad");
        assert!(matches!(err, Error::Decode(_)));
    }
}
