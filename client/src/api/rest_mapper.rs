//! [`RestMapper`]: from what people write (kinds, resource names, short names,
//! categories) to the [`ApiResource`] that serves it.

use std::sync::Arc;

use super::discovery::{Discovered, DiscoveredResource, Discovery};
use crate::core::{ApiResource, Error, GroupVersionKind, GroupVersionResource};

/// Maps kinds and names to resources through [`Discovery`], refreshing discovery
/// once when something is not found (a CRD installed after the cache was filled),
/// as client-go's `DeferredDiscoveryRESTMapper` with its shortcut and category
/// expanders does.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = kubeforge_testserver::TestServer::builder().tls(true).start().await?;
/// # let client = kubeforge_client::Client::new(kubeforge_client::__doctest::config(server.base_url(), server.ca_pem()))?;
/// use kubeforge_client::api::{Discovery, RestMapper};
///
/// let mapper = RestMapper::new(Discovery::new(client));
/// let deploy = mapper.resolve("deploy").await?; // a short name, as in `kubectl get deploy`
/// assert_eq!((deploy.group.as_str(), deploy.plural.as_str()), ("apps", "deployments"));
/// let all = mapper.category("all").await?; // what `kubectl get all` lists
/// assert!(all.iter().any(|r| r.plural == "pods"));
/// assert!(mapper.resolve("nonsense").await.unwrap_err().is_no_match());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RestMapper {
    discovery: Discovery,
}

impl RestMapper {
    /// A mapper over this discovery client (and its cache).
    pub fn new(discovery: Discovery) -> Self {
        RestMapper { discovery }
    }

    /// The discovery client underneath.
    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }

    /// Looks something up in the cached discovery; on a miss refreshes it once and
    /// looks again.
    async fn lookup<T>(
        &self,
        what: &str,
        find: impl Fn(&Discovered) -> Option<T>,
    ) -> Result<T, Error> {
        let cached = self.discovery.get().await?;
        if let Some(found) = find(&cached) {
            return Ok(found);
        }
        let fresh: Arc<Discovered> = self.discovery.refresh().await?;
        find(&fresh).ok_or_else(|| Error::NoMatch(what.to_owned()))
    }

    /// The resource serving a kind. An empty version picks the group's preferred
    /// version that serves the kind.
    ///
    /// # Errors
    ///
    /// [`Error::is_no_match`] when no served version has the kind; discovery
    /// failures.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: reads only.
    pub async fn resource_for(&self, gvk: &GroupVersionKind) -> Result<ApiResource, Error> {
        self.lookup(&gvk.to_string(), |d| {
            d.resolve_gvk(gvk).map(|r| r.resource.clone())
        })
        .await
    }

    /// The kind a group-version-resource serves (client-go's `KindFor`).
    ///
    /// # Errors
    ///
    /// [`Error::is_no_match`]; discovery failures.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: reads only.
    pub async fn kind_for(&self, gvr: &GroupVersionResource) -> Result<GroupVersionKind, Error> {
        self.lookup(&gvr.to_string(), |d| {
            d.resources()
                .find(|r| {
                    r.resource.group == gvr.group
                        && r.resource.version == gvr.version
                        && r.resource.plural == gvr.resource
                })
                .map(|r| r.resource.gvk())
        })
        .await
    }

    /// Resolves a name the way kubectl reads its argument: a plural (`pods`), a
    /// singular (`pod`), a short name (`po`), a kind (`Pod`, any case), each optionally
    /// qualified by group (`deployments.apps`) or version and group
    /// (`deployments.v1.apps`). Among equal matches the core group wins, then the
    /// group listed first, in its preferred version.
    ///
    /// # Errors
    ///
    /// [`Error::is_no_match`]; discovery failures.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: reads only.
    pub async fn resolve(&self, name: &str) -> Result<ApiResource, Error> {
        let query = Query::parse(name);
        self.lookup(name, |d| query.find(d).map(|r| r.resource.clone()))
            .await
    }

    /// Every resource in a category (`all`), in the preferred version of each group.
    ///
    /// # Errors
    ///
    /// [`Error::is_no_match`] when no resource has the category; discovery failures.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: reads only.
    pub async fn category(&self, category: &str) -> Result<Vec<ApiResource>, Error> {
        self.lookup(category, |d| {
            let found: Vec<ApiResource> = d
                .preferred_resources()
                .filter(|r| r.categories.iter().any(|c| c == category))
                .map(|r| r.resource.clone())
                .collect();
            (!found.is_empty()).then_some(found)
        })
        .await
    }
}

/// A parsed kubectl-style resource argument.
#[derive(Debug)]
struct Query {
    name: String,
    version: Option<String>,
    group: Option<String>,
}

impl Query {
    fn parse(arg: &str) -> Self {
        let lower = arg.to_ascii_lowercase();
        let (name, rest) = match lower.split_once('.') {
            Some((n, r)) => (n.to_owned(), Some(r.to_owned())),
            None => (lower.clone(), None),
        };
        let (version, group) = match rest {
            None => (None, None),
            Some(rest) => match rest.split_once('.') {
                // `deployments.v1.apps`: a version-looking first part
                Some((v, g)) if looks_like_version(v) => (Some(v.to_owned()), Some(g.to_owned())),
                _ => (None, Some(rest)),
            },
        };
        Query {
            name,
            version,
            group,
        }
    }

    fn matches(&self, r: &DiscoveredResource) -> bool {
        let res = &r.resource;
        if self.group.as_deref().is_some_and(|g| g != res.group) {
            return false;
        }
        if self.version.as_deref().is_some_and(|v| v != res.version) {
            return false;
        }
        res.plural == self.name
            || r.singular == self.name
            || res.kind.eq_ignore_ascii_case(&self.name)
            || r.short_names.contains(&self.name)
    }

    fn find<'d>(&self, d: &'d Discovered) -> Option<&'d DiscoveredResource> {
        let pool: Box<dyn Iterator<Item = &DiscoveredResource>> = if self.version.is_some() {
            Box::new(d.resources())
        } else {
            Box::new(d.preferred_resources())
        };
        // plural and singular matches beat kind and short-name matches (kubectl
        // expands short names only when nothing else matches)
        let candidates: Vec<&DiscoveredResource> = pool.filter(|r| self.matches(r)).collect();
        candidates
            .iter()
            .find(|r| r.resource.plural == self.name || r.singular == self.name)
            .or_else(|| candidates.first())
            .copied()
    }
}

fn looks_like_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    rest.starts_with(|c: char| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_style_arguments_parse() {
        let cases = [
            ("pods", ("pods", None, None)),
            ("Deployment", ("deployment", None, None)),
            ("deployments.apps", ("deployments", None, Some("apps"))),
            (
                "deployments.v1.apps",
                ("deployments", Some("v1"), Some("apps")),
            ),
            (
                "ingresses.networking.k8s.io",
                ("ingresses", None, Some("networking.k8s.io")),
            ),
            (
                "cronjobs.v1beta1.batch",
                ("cronjobs", Some("v1beta1"), Some("batch")),
            ),
        ];
        for (arg, (name, version, group)) in cases {
            let q = Query::parse(arg);
            assert_eq!(
                (q.name.as_str(), q.version.as_deref(), q.group.as_deref()),
                (name, version, group),
                "{arg}"
            );
        }
    }
}
