//! Watch events as they travel in a watch response (one JSON document per event).

use serde::{Deserialize, Serialize};

use super::status::Status;

/// The annotation the server puts on the bookmark that ends the initial events of a
/// `sendInitialEvents=true` watch.
pub const INITIAL_EVENTS_END_ANNOTATION: &str = "k8s.io/initial-events-end";

/// One event of a watch: `{"type":"ADDED","object":{…}}`.
///
/// `K` is the object type (a typed resource, or `serde_json::Value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "object")]
pub enum WatchEvent<K> {
    /// An object was created, or entered the watch's selector, or is part of the
    /// initial state.
    #[serde(rename = "ADDED")]
    Added(K),
    /// An object changed and still matches.
    #[serde(rename = "MODIFIED")]
    Modified(K),
    /// An object was deleted (carries its last state, at the deletion's
    /// resourceVersion) or left the watch's selector.
    #[serde(rename = "DELETED")]
    Deleted(K),
    /// A progress marker: the watch has seen everything up to this resourceVersion.
    #[serde(rename = "BOOKMARK")]
    Bookmark(Bookmark),
    /// The watch failed (e.g. 410 Expired); the stream ends after it.
    #[serde(rename = "ERROR")]
    Error(Box<Status>),
}

impl<K> WatchEvent<K> {
    /// The wire name of the event type.
    pub fn type_str(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        }
    }
}

/// The object of a `BOOKMARK` event: only kind, apiVersion and a resourceVersion.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bookmark {
    /// Kind of the watched resource.
    #[serde(default)]
    pub kind: String,
    /// apiVersion of the watched resource.
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    /// The resourceVersion the watch has reached, and annotations.
    pub metadata: BookmarkMeta,
}

/// Metadata of a [`Bookmark`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BookmarkMeta {
    /// The resourceVersion the watch has reached.
    #[serde(rename = "resourceVersion")]
    pub resource_version: String,
    /// Annotations (the initial-events-end marker rides here).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: std::collections::BTreeMap<String, String>,
}

impl Bookmark {
    /// Whether this bookmark ends the initial events of a streaming list.
    pub fn is_initial_events_end(&self) -> bool {
        self.metadata
            .annotations
            .get(INITIAL_EVENTS_END_ANNOTATION)
            .is_some_and(|v| v == "true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn events_round_trip_in_wire_form() {
        let line = r#"{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a"}}}"#;
        let ev: WatchEvent<Value> = serde_json::from_str(line).expect("decode");
        assert_eq!(
            ev,
            WatchEvent::Added(json!({"kind":"ConfigMap","metadata":{"name":"a"}}))
        );
        assert_eq!(serde_json::to_string(&ev).expect("encode"), line);

        let bookmark = r#"{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}"#;
        let ev: WatchEvent<Value> = serde_json::from_str(bookmark).expect("decode");
        match ev {
            WatchEvent::Bookmark(b) => {
                assert_eq!(b.metadata.resource_version, "12");
                assert!(b.is_initial_events_end());
            }
            other => panic!("not a bookmark: {other:?}"),
        }

        let error = r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"#;
        let ev: WatchEvent<Value> = serde_json::from_str(error).expect("decode");
        assert!(matches!(ev, WatchEvent::Error(ref s) if s.is_gone()));
    }
}
