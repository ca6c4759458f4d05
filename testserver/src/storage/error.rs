//! Storage errors: what went wrong in storage terms only. The registry turns them into
//! API `Status`es with resource context.

use super::{KeyValue, Revision};

/// A storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key does not exist.
    #[error("key not found: {key}")]
    KeyNotFound {
        /// The key.
        key: String,
    },
    /// The key exists (create).
    #[error("key exists: {key}")]
    KeyExists {
        /// The key.
        key: String,
    },
    /// A compare-and-swap lost: the key's mod revision is not the expected one.
    #[error("conflict on {key}: expected mod revision {expected}")]
    Conflict {
        /// The key.
        key: String,
        /// The mod revision the caller expected.
        expected: Revision,
        /// The key's current state, `None` if it no longer exists.
        current: Option<Box<KeyValue>>,
    },
    /// The requested revision has been compacted away.
    #[error("revision {requested} has been compacted (compacted revision {compacted})")]
    Compacted {
        /// The revision asked for.
        requested: Revision,
        /// The compacted revision: the oldest still available.
        compacted: Revision,
    },
    /// The requested revision is newer than the current one.
    #[error("revision {requested} is in the future (current revision {current})")]
    FutureRevision {
        /// The revision asked for.
        requested: Revision,
        /// The current revision.
        current: Revision,
    },
    /// The backend cannot be reached.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The backend holds data it cannot interpret.
    #[error("storage data corrupt: {0}")]
    Corrupt(String),
}
