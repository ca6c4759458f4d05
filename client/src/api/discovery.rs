//! [`Discovery`]: which groups, versions and resources the server serves.

use std::sync::Arc;

use http::Method;
use parking_lot::RwLock;
use serde::Deserialize;

use crate::Client;
use crate::core::{ApiResource, Error, GroupVersionKind, Scope};
use crate::transport::Request;

/// Aggregated discovery (v2), with plain JSON as the fallback the server picks when it
/// does not serve aggregated documents (kube-apiserver before 1.26, some aggregated
/// API servers).
const AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// One resource as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoveredResource {
    /// Group, version, kind, plural, scope and verbs.
    pub resource: ApiResource,
    /// Singular name (`deployment`), possibly empty on old servers.
    pub singular: String,
    /// Short names (`deploy`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Subresources (`status`, `scale`).
    pub subresources: Vec<String>,
}

/// One version of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoveredVersion {
    /// The version (`v1`).
    pub version: String,
    /// Its resources.
    pub resources: Vec<DiscoveredResource>,
}

/// One API group and its versions, the preferred one first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoveredGroup {
    /// Group name; empty for the core group.
    pub name: String,
    /// Versions, preferred first.
    pub versions: Vec<DiscoveredVersion>,
}

impl DiscoveredGroup {
    /// The preferred version (the server's choice for clients that do not care).
    pub fn preferred(&self) -> Option<&DiscoveredVersion> {
        self.versions.first()
    }
}

/// What the server served at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discovered {
    /// Every group, the core group (`""`) first.
    pub groups: Vec<DiscoveredGroup>,
    /// Whether the server answered with aggregated discovery (two requests) rather
    /// than the legacy documents (one per group-version).
    pub aggregated: bool,
    /// Group-versions whose legacy document could not be read (`apps/v1`, and why),
    /// left out of [`groups`](Self::groups) rather than failing discovery as a whole:
    /// one aggregated API server being down (metrics-server is the usual one) must not
    /// hide every other resource (client-go's `ErrGroupDiscoveryFailed`).
    pub failed: Vec<(String, String)>,
}

impl Discovered {
    /// A group by name.
    pub fn group(&self, name: &str) -> Option<&DiscoveredGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Every resource of every version.
    pub fn resources(&self) -> impl Iterator<Item = &DiscoveredResource> {
        self.groups
            .iter()
            .flat_map(|g| g.versions.iter())
            .flat_map(|v| v.resources.iter())
    }

    /// Every resource of each group's preferred version.
    pub fn preferred_resources(&self) -> impl Iterator<Item = &DiscoveredResource> {
        self.groups
            .iter()
            .filter_map(|g| g.preferred())
            .flat_map(|v| v.resources.iter())
    }

    /// The resource serving a group-version-kind; an empty version means the group's
    /// preferred version that has the kind.
    pub fn resolve_gvk(&self, gvk: &GroupVersionKind) -> Option<&DiscoveredResource> {
        let group = self.group(&gvk.group)?;
        group
            .versions
            .iter()
            .filter(|v| gvk.version.is_empty() || v.version == gvk.version)
            .flat_map(|v| v.resources.iter())
            .find(|r| r.resource.kind == gvk.kind)
    }
}

/// A discovery client with an in-memory cache (client-go's `DiscoveryClient` with
/// `cached/memory`).
///
/// The first [`Discovery::get`] asks the server; later ones answer from the cache
/// until [`Discovery::refresh`] or [`Discovery::invalidate`]. Clones share the cache.
/// It prefers aggregated discovery (`/api` and `/apis`, two requests for
/// everything) and falls back to the legacy documents (`/api`, `/api/v1`, `/apis`,
/// then one request per group-version, sent concurrently) when the server answers
/// with those.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = kubeforge_testserver::TestServer::builder().tls(true).start().await?;
/// # let client = kubeforge_client::Client::new(kubeforge_client::__doctest::config(server.base_url(), server.ca_pem()))?;
/// use kubeforge_client::api::Discovery;
///
/// let discovery = Discovery::new(client);
/// let served = discovery.get().await?;
/// let apps = served.group("apps").expect("apps is served");
/// assert_eq!(apps.preferred().unwrap().version, "v1");
/// assert!(served.aggregated);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Discovery {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    aggregated: bool,
    /// The last answer; `None` before the first or after an invalidation.
    cache: RwLock<Option<Arc<Discovered>>>,
}

impl Discovery {
    /// Discovery through `client`, aggregated first.
    pub fn new(client: Client) -> Self {
        Discovery {
            inner: Arc::new(Inner {
                client,
                aggregated: true,
                cache: RwLock::new(None),
            }),
        }
    }

    /// Discovery that only uses the legacy per-group documents (for servers or
    /// proxies that mishandle the aggregated media type).
    pub fn legacy(client: Client) -> Self {
        Discovery {
            inner: Arc::new(Inner {
                client,
                aggregated: false,
                cache: RwLock::new(None),
            }),
        }
    }

    /// What the server serves: the cached answer, or a fresh one when there is none.
    ///
    /// # Errors
    ///
    /// Any failure of the discovery requests (nothing is cached then).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: reads only; a dropped call caches nothing.
    pub async fn get(&self) -> Result<Arc<Discovered>, Error> {
        if let Some(cached) = self.cached() {
            return Ok(cached);
        }
        self.refresh().await
    }

    /// The cached answer, without asking the server.
    pub fn cached(&self) -> Option<Arc<Discovered>> {
        self.inner.cache.read().clone()
    }

    /// Forgets the cached answer; the next [`Discovery::get`] asks the server.
    pub fn invalidate(&self) {
        *self.inner.cache.write() = None;
    }

    /// Asks the server again and caches the answer.
    ///
    /// # Errors
    ///
    /// Any failure of the discovery requests (the previous answer stays cached).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: reads only; a dropped call leaves the cache as it was.
    pub async fn refresh(&self) -> Result<Arc<Discovered>, Error> {
        let fresh = Arc::new(self.fetch().await?);
        *self.inner.cache.write() = Some(fresh.clone());
        Ok(fresh)
    }

    async fn fetch(&self) -> Result<Discovered, Error> {
        let accept = if self.inner.aggregated {
            AGGREGATED
        } else {
            "application/json"
        };
        let (core, apis) = futures::try_join!(
            self.document("/api", accept),
            self.document("/apis", accept)
        )?;
        let mut discovered = Discovered {
            groups: Vec::new(),
            aggregated: true,
            failed: Vec::new(),
        };
        for (doc, is_core) in [(core, true), (apis, false)] {
            match doc {
                Document::Aggregated(list) => discovered.groups.extend(list.into_groups()),
                Document::Legacy(bytes) => {
                    discovered.aggregated = false;
                    self.legacy_groups(&bytes, is_core, &mut discovered).await?;
                }
            }
        }
        Ok(discovered)
    }

    async fn document(&self, path: &str, accept: &'static str) -> Result<Document, Error> {
        let req = Request::new(Method::GET, path.to_owned()).accept(accept);
        let resp = self.inner.client.transport().send(&req).await?;
        let is_aggregated = resp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("as=APIGroupDiscoveryList"));
        let bytes = resp.bytes().await.map_err(crate::transport::body_error)?;
        Ok(if is_aggregated {
            Document::Aggregated(super::decode_json(&bytes)?)
        } else {
            Document::Legacy(bytes)
        })
    }

    async fn legacy_groups(
        &self,
        doc: &[u8],
        core: bool,
        into: &mut Discovered,
    ) -> Result<(), Error> {
        // (group, versions preferred first)
        let wanted: Vec<(String, Vec<String>)> = if core {
            let versions: wire::ApiVersions = super::decode_json(doc)?;
            vec![(String::new(), versions.versions)]
        } else {
            let list: wire::ApiGroupList = super::decode_json(doc)?;
            list.groups
                .into_iter()
                .map(|g| {
                    let mut versions: Vec<String> =
                        g.versions.into_iter().map(|v| v.version).collect();
                    if let Some(p) = g.preferred_version
                        && let Some(i) = versions.iter().position(|v| *v == p.version)
                    {
                        let preferred = versions.remove(i);
                        versions.insert(0, preferred);
                    }
                    (g.name, versions)
                })
                .collect()
        };
        let fetches = wanted.iter().flat_map(|(group, versions)| {
            versions.iter().map(move |v| self.resource_list(group, v))
        });
        let mut lists = futures::future::join_all(fetches).await.into_iter();
        for (group, versions) in wanted {
            let mut g = DiscoveredGroup {
                name: group.clone(),
                versions: Vec::new(),
            };
            for version in versions {
                match lists.next() {
                    Some(Ok(list)) => g.versions.push(DiscoveredVersion {
                        resources: list.into_resources(&group, &version),
                        version,
                    }),
                    Some(Err(e)) => {
                        let gv = if group.is_empty() {
                            version
                        } else {
                            format!("{group}/{version}")
                        };
                        into.failed.push((gv, e.to_string()));
                    }
                    None => {}
                }
            }
            if !g.versions.is_empty() {
                into.groups.push(g);
            }
        }
        Ok(())
    }

    async fn resource_list(
        &self,
        group: &str,
        version: &str,
    ) -> Result<wire::ApiResourceList, Error> {
        let path = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let req = Request::new(Method::GET, path);
        let bytes = self.inner.client.transport().send_bytes(&req).await?;
        super::decode_json(&bytes)
    }
}

enum Document {
    Aggregated(wire::GroupDiscoveryList),
    Legacy(bytes::Bytes),
}

/// The wire forms of discovery documents (only the fields we read).
mod wire {
    use super::*;

    #[derive(Deserialize)]
    pub(super) struct GroupDiscoveryList {
        #[serde(default)]
        pub(super) items: Vec<GroupDiscovery>,
    }

    #[derive(Deserialize)]
    pub(super) struct GroupDiscovery {
        #[serde(default)]
        pub(super) metadata: NameOnly,
        #[serde(default)]
        pub(super) versions: Vec<VersionDiscovery>,
    }

    #[derive(Deserialize, Default)]
    pub(super) struct NameOnly {
        #[serde(default)]
        pub(super) name: String,
    }

    #[derive(Deserialize)]
    pub(super) struct VersionDiscovery {
        pub(super) version: String,
        #[serde(default)]
        pub(super) resources: Vec<ResourceDiscovery>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ResourceDiscovery {
        pub(super) resource: String,
        #[serde(default)]
        pub(super) response_kind: Option<Kind>,
        #[serde(default)]
        pub(super) scope: String,
        #[serde(default)]
        pub(super) singular_resource: String,
        #[serde(default)]
        pub(super) verbs: Vec<String>,
        #[serde(default)]
        pub(super) short_names: Vec<String>,
        #[serde(default)]
        pub(super) categories: Vec<String>,
        #[serde(default)]
        pub(super) subresources: Vec<SubresourceDiscovery>,
    }

    #[derive(Deserialize, Default)]
    pub(super) struct Kind {
        #[serde(default)]
        pub(super) kind: String,
    }

    #[derive(Deserialize)]
    pub(super) struct SubresourceDiscovery {
        pub(super) subresource: String,
    }

    impl GroupDiscoveryList {
        pub(super) fn into_groups(self) -> Vec<DiscoveredGroup> {
            self.items
                .into_iter()
                .map(|g| {
                    let group = g.metadata.name;
                    DiscoveredGroup {
                        versions: g
                            .versions
                            .into_iter()
                            .map(|v| DiscoveredVersion {
                                resources: v
                                    .resources
                                    .into_iter()
                                    .map(|r| DiscoveredResource {
                                        resource: ApiResource {
                                            group: group.clone(),
                                            version: v.version.clone(),
                                            kind: r.response_kind.unwrap_or_default().kind,
                                            plural: r.resource,
                                            scope: if r.scope == "Cluster" {
                                                Scope::Cluster
                                            } else {
                                                Scope::Namespaced
                                            },
                                            verbs: r.verbs,
                                        },
                                        singular: r.singular_resource,
                                        short_names: r.short_names,
                                        categories: r.categories,
                                        subresources: r
                                            .subresources
                                            .into_iter()
                                            .map(|s| s.subresource)
                                            .collect(),
                                    })
                                    .collect(),
                                version: v.version,
                            })
                            .collect(),
                        name: group,
                    }
                })
                .collect()
        }
    }

    #[derive(Deserialize)]
    pub(super) struct ApiVersions {
        #[serde(default)]
        pub(super) versions: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ApiGroupList {
        #[serde(default)]
        pub(super) groups: Vec<ApiGroup>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ApiGroup {
        pub(super) name: String,
        #[serde(default)]
        pub(super) versions: Vec<GroupVersionForDiscovery>,
        #[serde(default)]
        pub(super) preferred_version: Option<GroupVersionForDiscovery>,
    }

    #[derive(Deserialize)]
    pub(super) struct GroupVersionForDiscovery {
        pub(super) version: String,
    }

    #[derive(Deserialize, Default)]
    pub(super) struct ApiResourceList {
        #[serde(default)]
        pub(super) resources: Vec<LegacyResource>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct LegacyResource {
        pub(super) name: String,
        #[serde(default)]
        pub(super) singular_name: String,
        #[serde(default)]
        pub(super) namespaced: bool,
        #[serde(default)]
        pub(super) kind: String,
        #[serde(default)]
        pub(super) verbs: Vec<String>,
        #[serde(default)]
        pub(super) short_names: Vec<String>,
        #[serde(default)]
        pub(super) categories: Vec<String>,
    }

    impl ApiResourceList {
        /// Resources with their subresources folded in (`pods/status` becomes a
        /// subresource of `pods`).
        pub(super) fn into_resources(self, group: &str, version: &str) -> Vec<DiscoveredResource> {
            let (subs, mains): (Vec<_>, Vec<_>) = self
                .resources
                .into_iter()
                .partition(|r| r.name.contains('/'));
            let mut out: Vec<DiscoveredResource> = mains
                .into_iter()
                .map(|r| DiscoveredResource {
                    resource: ApiResource {
                        group: group.to_owned(),
                        version: version.to_owned(),
                        kind: r.kind,
                        plural: r.name,
                        scope: if r.namespaced {
                            Scope::Namespaced
                        } else {
                            Scope::Cluster
                        },
                        verbs: r.verbs,
                    },
                    singular: r.singular_name,
                    short_names: r.short_names,
                    categories: r.categories,
                    subresources: Vec::new(),
                })
                .collect();
            for sub in subs {
                if let Some((main, sub)) = sub.name.split_once('/')
                    && let Some(r) = out.iter_mut().find(|r| r.resource.plural == main)
                {
                    r.subresources.push(sub.to_owned());
                }
            }
            out
        }
    }
}
