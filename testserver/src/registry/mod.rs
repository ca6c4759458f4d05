//! The table of every resource the server knows, and the generic REST semantics
//! that apply to all of them.
//!
//! - [`builtin`]: the built-in resources of Kubernetes 1.33, as data.
//! - [`Resource`]: one resource at one group-version, with what the generic store and
//!   discovery need (names, scope, verbs, subresources, storage prefix, strategy
//!   facts, selectable fields).
//! - [`Registry`]: the lookup by group/version/resource and the watch caches, one per
//!   stored resource (resources served at several versions share one).
//! - [`store`]: create, update, patch and delete, implemented once
//!   (kube-apiserver's `genericregistry.Store`), with [`strategy`] for what differs
//!   per kind and [`validation`] for object metadata rules.
//! - [`fields`], [`printers`]: selectable fields and `kubectl get` columns per kind.

pub(crate) mod builtin;
pub(crate) mod convert;
pub(crate) mod custom;
pub(crate) mod delete;
pub(crate) mod fields;
pub(crate) mod printers;
pub(crate) mod store;
pub(crate) mod strategy;
pub(crate) mod validation;

use std::collections::HashMap;
use std::sync::Arc;

use kubeforge_client::core::{GroupKind, GroupResource, GroupVersionKind};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cache::{CacheSpec, WatchCache};
use crate::storage::{self, Storage};
pub(crate) use builtin::{StatusOnCreate, Strategy};
pub use custom::{CustomResource, InvalidCustomResource};

/// What create does with `.status`, with the reset value parsed once.
#[derive(Debug)]
pub(crate) enum CreateStatus {
    Keep,
    Clear,
    Reset(serde_json::Value),
}
use fields::FieldSpec;

/// A subresource as discovery lists it.
#[derive(Debug, Clone)]
pub(crate) struct Subresource {
    pub(crate) name: String,
    pub(crate) gvk: GroupVersionKind,
    pub(crate) verbs: Vec<String>,
}

/// One resource at one group-version.
#[derive(Debug)]
pub(crate) struct Resource {
    pub(crate) gvk: GroupVersionKind,
    pub(crate) plural: String,
    pub(crate) singular: String,
    pub(crate) namespaced: bool,
    pub(crate) verbs: Vec<String>,
    pub(crate) short_names: Vec<String>,
    pub(crate) categories: Vec<String>,
    pub(crate) subresources: Vec<Subresource>,
    /// `storageVersionHash` as discovery shows it; empty when not stored.
    pub(crate) storage_version_hash: String,
    /// The storage key prefix with its trailing `/` (`/registry/pods/`); `None` for
    /// resources that are never stored (access reviews).
    pub(crate) storage_prefix: Option<String>,
    pub(crate) strategy: Strategy,
    pub(crate) create_status: CreateStatus,
    /// Selectable fields beyond the metadata ones.
    pub(crate) fields: &'static [FieldSpec],
    /// Whether the kind has its own field-label conversion upstream.
    pub(crate) field_conversion: bool,
    /// The schema of a custom kind (registered at start-up); `None` for built-in
    /// kinds, whose schemas live in [`crate::schema::builtin`].
    pub(crate) custom: Option<Arc<custom::CustomSchema>>,
}

impl Resource {
    /// Whether this is a custom kind: served schemaless, as upstream serves custom
    /// resources (no strategic merge patch, protobuf, OpenAPI or kind-specific
    /// strategy).
    pub(crate) fn is_custom(&self) -> bool {
        self.custom.is_some()
    }

    /// The schema of the kind, if it has one (built-in kinds and custom kinds do).
    pub(crate) fn schema(&self) -> Option<crate::schema::Cursor<'_>> {
        match &self.custom {
            Some(c) => Some(c.schema.cursor(c.root)),
            None => {
                let gvk = &self.gvk;
                crate::schema::builtin::schema().root(&gvk.group, &gvk.version, &gvk.kind)
            }
        }
    }

    /// `resource.group` for messages (`deployments.apps`, `pods`).
    pub(crate) fn group_resource(&self) -> GroupResource {
        GroupResource::new(self.gvk.group.clone(), self.plural.clone())
    }

    /// `Kind.group` for `Invalid` messages.
    pub(crate) fn group_kind(&self) -> GroupKind {
        self.gvk.group_kind()
    }

    /// The `apiVersion` objects are served with.
    pub(crate) fn api_version(&self) -> String {
        self.gvk.api_version()
    }

    /// The kind of a list of these objects.
    pub(crate) fn list_kind(&self) -> String {
        format!("{}List", self.gvk.kind)
    }

    /// Whether `verb` is in discovery's verbs.
    pub(crate) fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// The subresource named `name`, if discovery lists it.
    pub(crate) fn subresource(&self, name: &str) -> Option<&Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// The storage key of an object (`/registry/pods/ns/name`, `/registry/minions/name`).
    pub(crate) fn key(&self, namespace: &str, name: &str) -> Option<String> {
        let prefix = self.storage_prefix.as_ref()?;
        Some(if self.namespaced {
            format!("{prefix}{namespace}/{name}")
        } else {
            format!("{prefix}{name}")
        })
    }

    /// The key prefix of a namespace's objects, or of all objects when `namespace` is
    /// empty.
    pub(crate) fn namespace_prefix(&self, namespace: &str) -> Option<String> {
        let prefix = self.storage_prefix.as_ref()?;
        Some(if self.namespaced && !namespace.is_empty() {
            format!("{prefix}{namespace}/")
        } else {
            prefix.clone()
        })
    }

    fn from_builtin(b: &builtin::BuiltinResource) -> Self {
        let (fields, field_conversion) = fields::selectable_fields(b.group, b.kind);
        Resource {
            gvk: GroupVersionKind::new(b.group, b.version, b.kind),
            plural: b.plural.to_owned(),
            singular: b.singular.to_owned(),
            namespaced: b.namespaced,
            verbs: b.verbs.iter().map(|v| (*v).to_owned()).collect(),
            short_names: b.short_names.iter().map(|v| (*v).to_owned()).collect(),
            categories: b.categories.iter().map(|v| (*v).to_owned()).collect(),
            subresources: b
                .subresources
                .iter()
                .map(|s| Subresource {
                    name: s.name.to_owned(),
                    // The table leaves group and version empty when they are the parent's.
                    gvk: if s.version.is_empty() {
                        GroupVersionKind::new(b.group, b.version, s.kind)
                    } else {
                        GroupVersionKind::new(s.group, s.version, s.kind)
                    },
                    verbs: s.verbs.iter().map(|v| (*v).to_owned()).collect(),
                })
                .collect(),
            storage_version_hash: b.storage_version_hash.to_owned(),
            storage_prefix: (!b.etcd_prefix.is_empty())
                .then(|| format!("/registry/{}/", b.etcd_prefix)),
            strategy: b.strategy,
            create_status: match b.strategy.status_on_create {
                StatusOnCreate::Keep => CreateStatus::Keep,
                StatusOnCreate::Clear => CreateStatus::Clear,
                StatusOnCreate::Reset(json) => CreateStatus::Reset(
                    serde_json::from_str(json).unwrap_or_else(|_| serde_json::json!({})),
                ),
            },
            fields,
            field_conversion,
            custom: None,
        }
    }
}

/// Every resource the server serves, and the watch caches behind them.
#[derive(Debug)]
pub(crate) struct Registry {
    resources: Vec<Arc<Resource>>,
    /// group → version → plural, so a lookup allocates nothing.
    by_path: HashMap<String, HashMap<String, HashMap<String, Arc<Resource>>>>,
    /// Groups in discovery order, each with its versions, preferred first.
    groups: Vec<(String, Vec<String>)>,
    caches: HashMap<String, Arc<WatchCache>>,
}

impl Registry {
    /// Builds the table of built-in kinds and of the `custom` ones (checked by
    /// [`custom::validate_all`]), and starts a watch cache per storage prefix.
    pub(crate) async fn start(
        storage: Arc<dyn Storage>,
        custom: &[CustomResource],
        history_capacity: usize,
        shutdown: &CancellationToken,
        tasks: &TaskTracker,
    ) -> Result<Self, storage::Error> {
        let mut resources: Vec<Arc<Resource>> = builtin::RESOURCES
            .iter()
            .map(|b| Arc::new(Resource::from_builtin(b)))
            .collect();
        let mut groups: Vec<(String, Vec<String>)> = builtin::GROUPS
            .iter()
            .map(|(g, vs)| {
                (
                    (*g).to_owned(),
                    vs.iter().map(|v| (*v).to_owned()).collect(),
                )
            })
            .collect();
        // Custom groups follow the built-in ones (upstream ranks CRD groups after
        // them too), in registration order, versions in Kubernetes' order; resources
        // within a group-version in plural order, as discovery lists them.
        let mut custom_resources: Vec<Arc<Resource>> = custom
            .iter()
            .map(|cr| Arc::new(Resource::from_custom(cr)))
            .collect();
        custom_resources.sort_by(|a, b| a.plural.cmp(&b.plural));
        for cr in custom {
            match groups.iter_mut().find(|(g, _)| *g == cr.group) {
                Some((_, versions)) => {
                    if !versions.contains(&cr.version) {
                        versions.push(cr.version.clone());
                        custom::sort_versions(versions);
                    }
                }
                None => groups.push((cr.group.clone(), vec![cr.version.clone()])),
            }
        }
        resources.extend(custom_resources);
        let mut by_path: HashMap<String, HashMap<String, HashMap<String, Arc<Resource>>>> =
            HashMap::new();
        let mut caches = HashMap::new();
        for r in &resources {
            by_path
                .entry(r.gvk.group.clone())
                .or_default()
                .entry(r.gvk.version.clone())
                .or_default()
                .insert(r.plural.clone(), r.clone());
            let Some(prefix) = &r.storage_prefix else {
                continue;
            };
            if caches.contains_key(prefix) {
                continue;
            }
            let spec = CacheSpec {
                prefix: prefix.clone(),
                fields: r.fields,
                namespaced: r.namespaced,
                history_capacity,
            };
            let cache =
                WatchCache::start(storage.clone(), spec, shutdown.child_token(), tasks).await?;
            caches.insert(prefix.clone(), cache);
        }
        Ok(Registry {
            resources,
            by_path,
            groups,
            caches,
        })
    }

    /// The resource at a group, version and plural.
    pub(crate) fn lookup(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<&Arc<Resource>> {
        self.by_path.get(group)?.get(version)?.get(plural)
    }

    /// Every resource, in discovery order.
    pub(crate) fn resources(&self) -> &[Arc<Resource>] {
        &self.resources
    }

    /// Groups in discovery order with their versions, preferred first.
    pub(crate) fn groups(&self) -> &[(String, Vec<String>)] {
        &self.groups
    }

    /// The watch cache behind a resource.
    pub(crate) fn cache(&self, resource: &Resource) -> Option<&Arc<WatchCache>> {
        self.caches.get(resource.storage_prefix.as_ref()?)
    }

    /// Every watch cache.
    pub(crate) fn caches(&self) -> impl Iterator<Item = &Arc<WatchCache>> {
        self.caches.values()
    }

    /// The preferred-version resource of every stored, namespaced kind (what the
    /// namespace controller empties), one per storage prefix.
    pub(crate) fn namespaced_stored(&self) -> Vec<Arc<Resource>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (group, versions) in &self.groups {
            for version in versions {
                for r in &self.resources {
                    if &r.gvk.group == group
                        && &r.gvk.version == version
                        && r.namespaced
                        && let Some(p) = &r.storage_prefix
                        && seen.insert(p.clone())
                    {
                        out.push(r.clone());
                    }
                }
            }
        }
        out
    }
}
