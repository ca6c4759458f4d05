//! [`ApiServer`]: the state every request handler shares — storage, the resource
//! registry with its watch caches, allocators, configuration and the background
//! tasks — and [`ApiError`], the one error type handlers return.

use std::sync::Arc;
use std::time::Duration;

use kubeforge_client::core::Status;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::registry::Registry;
use crate::registry::strategy::Allocators;
use crate::storage::{self, Storage};

/// Behaviour knobs of the API layer (the network-facing ones live in the server
/// config).
#[derive(Debug, Clone)]
pub(crate) struct ApiConfig {
    /// Events each watch cache keeps for resuming watches.
    pub(crate) watch_history: usize,
    /// How often watches that asked for bookmarks get one.
    pub(crate) bookmark_interval: Duration,
    /// The minimum server-chosen watch timeout (`--min-request-timeout`); the actual
    /// timeout is random in `[min, 2*min)`.
    pub(crate) min_request_timeout: Duration,
    /// How often storage history is compacted (`--etcd-compaction-interval`); zero
    /// disables it.
    pub(crate) compaction_interval: Duration,
    /// Whether the built-in namespace controller runs.
    pub(crate) namespace_controller: bool,
    /// Custom kinds served next to the built-in ones (standing in for CRDs).
    pub(crate) custom_resources: Vec<crate::registry::CustomResource>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            watch_history: 10_000,
            bookmark_interval: Duration::from_secs(60),
            min_request_timeout: Duration::from_secs(1800),
            compaction_interval: Duration::from_secs(300),
            namespace_controller: true,
            custom_resources: Vec::new(),
        }
    }
}

/// The shared state of one apiserver.
#[derive(Debug)]
pub(crate) struct ApiServer {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) registry: Registry,
    pub(crate) allocators: Allocators,
    pub(crate) config: ApiConfig,
    /// Cancelled when the server shuts down; background tasks and watches stop.
    pub(crate) shutdown: CancellationToken,
    /// Background tasks (caches, controllers, watches), awaited on shutdown.
    pub(crate) tasks: TaskTracker,
    /// Pre-rendered discovery documents.
    pub(crate) discovery: crate::apis::discovery::Documents,
    /// OpenAPI documents, rendered on first use.
    openapi: std::sync::OnceLock<crate::apis::openapi::OpenApi>,
    /// Faults armed by a test.
    pub(crate) faults: crate::harness::faults::Faults,
    /// Namespaces this server marked terminating (admission reads them from storage
    /// rather than from a cache that may not have caught up). Entries go when the
    /// namespace is removed.
    pub(crate) terminating_namespaces: parking_lot::Mutex<std::collections::HashSet<String>>,
    /// Bumped to end every open watch (fault injection).
    pub(crate) watch_epoch: tokio::sync::watch::Sender<u64>,
    /// What tests asked of bookmarks (fault injection).
    pub(crate) bookmark_control: tokio::sync::watch::Sender<BookmarkControl>,
}

/// Bookmarks as a test wants them: `suppressed` stops periodic and forced bookmarks
/// (the `k8s.io/initial-events-end` one of a streaming list is still sent: without it
/// the list would never end); each bump of `forced` sends one now on every watch that
/// allows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BookmarkControl {
    pub(crate) suppressed: bool,
    pub(crate) forced: u64,
}

impl ApiServer {
    /// Builds the state on `storage`: starts the watch caches, seeds what must exist
    /// (default namespaces), and starts the built-in controllers.
    pub(crate) async fn start(
        storage: Arc<dyn Storage>,
        config: ApiConfig,
        shutdown: CancellationToken,
    ) -> Result<Arc<Self>, storage::Error> {
        let tasks = TaskTracker::new();
        let registry = Registry::start(
            storage.clone(),
            &config.custom_resources,
            config.watch_history,
            &shutdown,
            &tasks,
        )
        .await?;
        let discovery = crate::apis::discovery::Documents::build(&registry);
        let server = Arc::new(ApiServer {
            storage,
            registry,
            allocators: Allocators::new(),
            config,
            shutdown,
            tasks,
            discovery,
            openapi: std::sync::OnceLock::new(),
            faults: Default::default(),
            terminating_namespaces: Default::default(),
            watch_epoch: tokio::sync::watch::Sender::new(0),
            bookmark_control: tokio::sync::watch::Sender::new(BookmarkControl::default()),
        });
        crate::controllers::bootstrap(&server).await?;
        crate::controllers::start(&server);
        Ok(server)
    }
}

impl ApiServer {
    /// The OpenAPI documents (rendered on the first call).
    pub(crate) fn openapi(&self) -> &crate::apis::openapi::OpenApi {
        self.openapi.get_or_init(|| {
            crate::apis::openapi::OpenApi::build(&self.registry, crate::schema::builtin::schema())
        })
    }

    /// Ends every open watch.
    pub(crate) fn close_watches(&self) {
        self.watch_epoch.send_modify(|e| *e += 1);
    }

    /// Stops (or resumes) periodic and forced bookmarks on every watch.
    pub(crate) fn suppress_bookmarks(&self, suppressed: bool) {
        self.bookmark_control
            .send_modify(|c| c.suppressed = suppressed);
    }

    /// Sends a bookmark now on every watch that allows them.
    pub(crate) fn force_bookmarks(&self) {
        self.bookmark_control.send_modify(|c| c.forced += 1);
    }

    /// Compacts storage at the current revision and forgets every cache's history.
    pub(crate) async fn compact_now(&self) -> Result<(), storage::Error> {
        let rev = self.storage.current_revision().await?;
        if rev > 0 {
            self.storage.compact(rev).await?;
        }
        for cache in self.registry.caches() {
            cache.drop_history();
        }
        Ok(())
    }
}

/// A request failed: the `Status` to answer with. Boxed because a `Status` is large
/// and errors travel through many `Result`s.
#[derive(Debug, Clone)]
pub(crate) struct ApiError(pub(crate) Box<Status>);

impl From<Status> for ApiError {
    fn from(s: Status) -> Self {
        ApiError(Box::new(s))
    }
}

/// The result of a handler step.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
