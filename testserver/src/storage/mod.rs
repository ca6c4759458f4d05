//! Versioned key-value storage shaped after etcd v3's MVCC API.
//!
//! Every write gets the next value of one global, strictly increasing **revision**,
//! and that number is what the API calls `resourceVersion` — in the object, in list
//! metadata, in watch events. Each key remembers the revision that created it
//! (`create_revision`), the one that last changed it (`mod_revision`) and how many
//! times it changed since creation (`version`).
//!
//! The [`Storage`] trait is the contract every backend implements (in-memory
//! [`memory::MemoryStorage`] today; an embedded persistent one and etcd later), and
//! [`conformance`] is the suite that checks it. The operations are exactly the ones
//! kube-apiserver issues to etcd:
//!
//! | operation | etcd v3 equivalent |
//! | --- | --- |
//! | [`Storage::get`] / [`Storage::range`] | `Range` of one key / a prefix, at a revision |
//! | [`Storage::create`] | `Txn(mod_revision(key) == 0) Put` |
//! | [`Storage::update`] | `Txn(mod_revision(key) == n) Put`, else `Range` |
//! | [`Storage::delete`] | `Txn([mod_revision(key) == n]) DeleteRange(prev_kv)` |
//! | [`Storage::watch`] | `Watch(prefix, start_revision, prev_kv)` with progress requests |
//! | [`Storage::compact`] | `Compact(revision)` |
//!
//! Values are opaque bytes to the storage; the registry stores each object's JSON
//! without `metadata.resourceVersion`, which is the key's `mod_revision` (as
//! kube-apiserver does).

mod error;
pub mod memory;

pub mod conformance;

use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

pub use error::Error;

/// A storage revision: the API's resourceVersion. Revision 0 means "none" (for reads:
/// "latest").
pub type Revision = u64;

/// Result of a storage call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One key and its value at some revision.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key (`/registry/…`).
    pub key: String,
    /// The value; empty for the `kv` of a delete event.
    pub value: Bytes,
    /// Revision of the write that created the key (its current incarnation).
    pub create_revision: Revision,
    /// Revision of the last write to the key (for a delete event, the delete's).
    pub mod_revision: Revision,
    /// Number of writes since creation, starting at 1; 0 for a delete event's `kv`.
    pub version: i64,
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValue")
            .field("key", &self.key)
            .field("value_len", &self.value.len())
            .field("create_revision", &self.create_revision)
            .field("mod_revision", &self.mod_revision)
            .field("version", &self.version)
            .finish()
    }
}

/// Whether a watch event is a put or a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The key was created or modified.
    Put,
    /// The key was deleted.
    Delete,
}

/// One change, as a watch delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Put or delete.
    pub kind: EventKind,
    /// The key after the change; for a delete: the key, an empty value and the
    /// delete's revision as `mod_revision`.
    pub kv: KeyValue,
    /// The key before the change (absent for a create).
    pub prev_kv: Option<KeyValue>,
}

impl Event {
    /// The revision of the change.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}

/// Result of a [`Storage::range`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeResult {
    /// Matching keys in key order, at most `limit`.
    pub kvs: Vec<KeyValue>,
    /// Whether more keys matched than were returned.
    pub more: bool,
    /// How many keys matched in all (from the start key on).
    pub count: usize,
    /// The revision the read was served at.
    pub revision: Revision,
}

/// An item of a [`WatchStream`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchItem {
    /// Changes, in revision order.
    Events(Vec<Event>),
    /// Every change to the watched prefix up to this revision has been delivered.
    Progress(Revision),
}

/// The stream of a watch. It ends only on error (e.g. [`Error::Compacted`]) or when
/// the storage shuts down; dropping it cancels the watch.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchItem>> + Send>>;

/// Asks a running watch for a [`WatchItem::Progress`] (etcd's `RequestProgress`).
pub trait ProgressRequester: Send + Sync + fmt::Debug {
    /// Requests one progress notification; the watch answers as soon as it has
    /// delivered every change up to the current revision.
    fn request_progress(&self);
}

/// A watch: its stream and a handle to request progress notifications.
pub struct Watch {
    /// The events.
    pub stream: WatchStream,
    /// Requests progress notifications on `stream`.
    pub progress: Box<dyn ProgressRequester>,
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("progress", &self.progress)
            .finish()
    }
}

/// The storage contract (etcd v3 semantics), one method per operation
/// kube-apiserver needs.
///
/// Revisions: every successful write (create, update, delete) takes the next
/// revision; reads and failed writes take none. Revision 0 as a read revision means
/// "the latest".
#[async_trait]
pub trait Storage: Send + Sync + fmt::Debug + 'static {
    /// Reads one key at `revision` (0 = latest). Returns the key's value (or `None`) and
    /// the revision the read was served at.
    ///
    /// # Errors
    ///
    /// [`Error::Compacted`] if `revision` is older than the compacted revision,
    /// [`Error::FutureRevision`] if it is newer than the current one.
    async fn get(&self, key: &str, revision: Revision) -> Result<(Option<KeyValue>, Revision)>;

    /// Reads keys starting with `prefix` at `revision` (0 = latest), in key order,
    /// beginning at `start` (inclusive; `None` = the prefix's first key), at most
    /// `limit` of them (0 = no limit).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    async fn range(
        &self,
        prefix: &str,
        start: Option<&str>,
        revision: Revision,
        limit: usize,
    ) -> Result<RangeResult>;

    /// Creates `key` if it does not exist. Returns the new key-value.
    ///
    /// # Errors
    ///
    /// [`Error::KeyExists`] if the key exists.
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue>;

    /// Replaces the value of `key` if its `mod_revision` is `expected` (compare and
    /// swap). Returns the new key-value.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] with the current key-value (or `None` if the key is gone) if
    /// the key's `mod_revision` differs.
    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<KeyValue>;

    /// Deletes `key`, if its `mod_revision` is `expected` when given. Returns the
    /// deleted key-value (its last state) and the revision of the delete.
    ///
    /// # Errors
    ///
    /// [`Error::KeyNotFound`] if the key does not exist; [`Error::Conflict`] as for
    /// [`update`](Self::update).
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)>;

    /// The current revision (of the last write).
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] if the backend cannot be reached.
    async fn current_revision(&self) -> Result<Revision>;

    /// Forgets history before `revision`: reads at older revisions and watches from
    /// older revisions fail with [`Error::Compacted`] afterwards. The state at
    /// `revision` itself stays readable. Compacting to an older revision than a previous
    /// compaction is an error; to the same one is a no-op.
    ///
    /// # Errors
    ///
    /// [`Error::Compacted`] if already compacted past `revision`,
    /// [`Error::FutureRevision`] if `revision` is newer than the current one.
    async fn compact(&self, revision: Revision) -> Result<()>;

    /// Watches keys starting with `prefix`, delivering every change with revision ≥
    /// `start` (0 = changes after the current revision), in order, without gaps or
    /// repeats. Deletes carry the deleted key-value as `prev_kv`; updates carry the
    /// previous one.
    ///
    /// The stream yields [`Error::Compacted`] and ends if `start` is, or becomes
    /// before it is delivered, older than the compacted revision.
    fn watch(&self, prefix: &str, start: Revision) -> Watch;
}
