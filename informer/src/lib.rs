//! Local, indexed, always-converging caches of Kubernetes objects: the client-go
//! `tools/cache` concepts (Reflector, DeltaFIFO, Indexer, Lister, SharedInformer) in
//! async Rust.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = kubeforge_testserver::TestServer::start().await?;
//! # let config = kubeforge_client::__doctest::config(server.base_url(), server.ca_pem());
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kubeforge_client::Client;
//! use kubeforge_client::core::LabelSelector;
//! use kubeforge_informer::{HandlerFns, SharedInformerFactory, store};
//!
//! let factory = SharedInformerFactory::new(Client::new(config)?);
//! let configmaps = factory.informer::<ConfigMap>();
//! // A custom index: ConfigMaps by their `app` label.
//! configmaps.add_index("app", store::by_label("app"))?;
//! configmaps.add_event_handler(
//!     HandlerFns::new()
//!         .on_add(|cm: &std::sync::Arc<ConfigMap>, _initial| {
//!             println!("added {:?}", cm.metadata.name);
//!         })
//!         .on_delete(|gone| println!("deleted {}", gone.key())),
//! );
//! factory.start();
//! assert!(factory.wait_for_cache_sync().await);
//!
//! let lister = configmaps.lister();
//! let in_default = lister.namespaced("default").list(&LabelSelector::default());
//! let web = configmaps.indexer().by_index("app", "web");
//! # let _ = (in_default, web);
//! # Ok(())
//! # }
//! ```
//!
//! The pipeline is client-go's:
//! `ListWatch -> Reflector -> DeltaFIFO -> (Indexer + event handlers)`. Objects in the
//! cache are `Arc<K>`: shared and immutable, so handing one out costs a reference
//! count, and nobody can mutate the cache behind its back.
//!
//! | client-go (`tools/cache`, informers) | kubeforge-informer |
//! | --- | --- |
//! | `ListWatch` | [`ListWatch`] |
//! | `Reflector`, `ReflectorStore` | [`Reflector`], [`ReflectorStore`] |
//! | `DeltaFIFO`, `Delta`, `DeltaType`, `DeletedFinalStateUnknown` | [`DeltaFifo`], [`Delta`], [`DeltaType`], [`Deleted::FinalStateUnknown`] |
//! | `ThreadSafeStore`, `Indexer`, `IndexFunc`, `MetaNamespaceKeyFunc` | [`Indexer`], [`IndexFn`], [`key_of`] |
//! | `GenericLister`, `GenericNamespaceLister` | [`Lister`], [`NamespaceLister`] |
//! | `SharedIndexInformer`, `ResourceEventHandler(Funcs)` | [`SharedIndexInformer`], [`ResourceEventHandler`], [`HandlerFns`] |
//! | `ResourceEventHandlerRegistration` | [`HandlerRegistration`] |
//! | `SharedInformerFactory`, `dynamicinformer`, `metadatainformer` | [`SharedInformerFactory`] |
//! | `tools/events`, `tools/record` (event recording) | [`events::Recorder`] |
//! | a controller's informers → workqueue → workers loop (controller-runtime's `Controller`) | [`Controller`] ([`controller`]) |
//! | controller-runtime's `controllerutil.AddFinalizer`/`RemoveFinalizer` pattern | [`finalizer::finalizer`] |
//! | `tools/leaderelection` `LeaderElector`, `LeaderElectionConfig` | [`LeaderElector`], [`LeaderElectionConfig`] ([`leader`]) |
//!
//! [`leader`] elects one replica of a controller on a `coordination.k8s.io/v1` Lease,
//! with client-go's semantics and defaults, and hands the leader a fencing value to
//! check its leadership against before a write.
//!
//! Where we differ from client-go, on purpose:
//!
//! - a delete is the [`Deleted`] enum (the object, or the last known state when the
//!   delete was missed), never an `interface{}` to type-assert;
//! - each handler's buffer is bounded; a handler that falls behind gets changes
//!   folded per object, never loses an object's final state, and never makes the
//!   process run out of memory ([`handler`]);
//! - a registration's `has_synced` means the handler *handled* its initial state,
//!   not merely that it was delivered;
//! - the cache drops `managedFields` by default
//!   ([`SharedIndexInformer::keep_managed_fields`] opts out);
//! - readers of the [`Indexer`] never copy under its lock (persistent maps);
//! - the factory can release informers one by one.

pub mod controller;
pub mod events;
pub mod factory;
pub mod fifo;
pub mod finalizer;
pub mod handler;
pub mod informer;
pub mod leader;
pub mod lister;
pub mod reflector;
pub mod store;
mod time;

pub use controller::{Action, Controller, ObjectKey, ObjectState, Request};
pub use factory::SharedInformerFactory;
pub use fifo::{Deleted, Delta, DeltaFifo, DeltaType};
pub use handler::{HandlerFns, HandlerOptions, ResourceEventHandler};
pub use informer::{HandlerRegistration, SharedIndexInformer};
pub use leader::{LeaderElectionConfig, LeaderElector};
pub use lister::{Lister, NamespaceLister};
pub use reflector::{ListWatch, Reflector, ReflectorOptions, ReflectorStore};
pub use store::{IndexFn, Indexer, NAMESPACE_INDEX, key_of, split_key};
