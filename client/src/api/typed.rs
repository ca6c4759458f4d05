//! [`Api<K>`]: the verbs of one resource type.

use std::fmt;
use std::marker::PhantomData;

use futures::{Stream, TryStreamExt};
use http::Method;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::params::Patch;
use super::resource::Resource;
use super::watch;
use crate::Client;
use crate::core::{
    CreateOptions, DeleteOptions, Error, GetOptions, ListMeta, ListOptions, PatchOptions, Scope,
    Status, UpdateOptions, WatchEvent,
};
use crate::transport::{JSON, Request};

/// Characters escaped in a path segment (object names are DNS labels or subdomains
/// for nearly every kind, but a few allow `:` and others; `/`, `?`, `#` and `%` must
/// never reach the path unescaped).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

const METADATA: &str =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
const METADATA_LIST: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// Access to one resource type on one server, in one namespace, across all
/// namespaces, or at cluster scope (client-go's typed clients, kube-rs's `Api`).
///
/// Cheap to clone; clones share the [`Client`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = kubeforge_testserver::TestServer::builder().tls(true).start().await?;
/// # let client = kubeforge_client::Client::new(kubeforge_client::__doctest::config(server.base_url(), server.ca_pem()))?;
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use kubeforge_client::api::{Api, Patch};
/// use kubeforge_client::core::{CreateOptions, DeleteOptions, ListOptions, PatchOptions};
///
/// let configmaps = Api::<ConfigMap>::namespaced(client, "default");
/// let mut cm = ConfigMap::default();
/// cm.metadata.name = Some("settings".into());
/// cm.data = Some([("mode".to_owned(), "fast".to_owned())].into());
/// configmaps.create(&CreateOptions::default(), &cm).await?;
///
/// let patch = serde_json::json!({"data": {"mode": "safe"}});
/// let cm = configmaps
///     .patch("settings", &PatchOptions::default(), &Patch::Merge(&patch))
///     .await?;
/// assert_eq!(cm.data.unwrap()["mode"], "safe");
///
/// let listed = configmaps.list(&ListOptions::default()).await?;
/// assert_eq!(listed.items.len(), 1);
/// configmaps.delete("settings", &DeleteOptions::default()).await?;
/// assert!(configmaps.get_opt("settings").await?.is_none());
/// # Ok(())
/// # }
/// ```
///
/// # Scopes
///
/// [`Api::namespaced`] reaches objects of one namespace; [`Api::all`] lists and
/// watches across namespaces (and is how cluster-scoped kinds are reached). Verbs on
/// one object (get, create, …) through [`Api::all`] of a namespaced kind have no
/// namespace to go to: the server answers 404. A namespace given for a cluster-scoped
/// kind is ignored.
///
/// # Cancel safety
///
/// Every request is cancelled by dropping its future; reads can be retried freely,
/// but a dropped write may or may not have reached the server.
pub struct Api<K> {
    client: Client,
    /// `/api/v1/namespaces/ns/pods`, or `/api/v1/pods` for all namespaces.
    collection: String,
    namespace: Option<String>,
    metadata_only: bool,
    /// Lists and watches drop `metadata.managedFields` before decoding.
    without_managed_fields: bool,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Api {
            client: self.client.clone(),
            collection: self.collection.clone(),
            namespace: self.namespace.clone(),
            metadata_only: self.metadata_only,
            without_managed_fields: self.without_managed_fields,
            _kind: PhantomData,
        }
    }
}

impl<K> fmt::Debug for Api<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("collection", &self.collection)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// A page of a list: the objects and the list's metadata (resourceVersion,
/// `continue` token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectList<K> {
    /// resourceVersion of the list and the continue token.
    #[serde(default)]
    pub metadata: ListMeta,
    /// The objects.
    #[serde(default = "Vec::new", bound(deserialize = "K: Deserialize<'de>"))]
    pub items: Vec<K>,
}

impl<K> IntoIterator for ObjectList<K> {
    type Item = K;
    type IntoIter = std::vec::IntoIter<K>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// What a delete returns: the object (still there with a `deletionTimestamp` while
/// finalizers or graceful deletion run, or as it was when deleted, depending on the
/// resource), or a success `Status`.
#[derive(Debug, Clone, PartialEq)]
pub enum Deleted<K> {
    /// The object the server returned.
    Object(K),
    /// A success `Status` (the server returns no object for this resource).
    Status(Box<Status>),
}

impl<K> Deleted<K> {
    /// The object, if the server returned one.
    pub fn object(self) -> Option<K> {
        match self {
            Deleted::Object(k) => Some(k),
            Deleted::Status(_) => None,
        }
    }

    /// The status, if the server returned one.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Deleted::Object(_) => None,
            Deleted::Status(s) => Some(s),
        }
    }
}

/// Reads only `kind` of a document, to tell a `Status` from an object.
#[derive(Deserialize)]
struct KindProbe<'a> {
    #[serde(borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    super::decode_json(bytes)
}

fn encode<T: Serialize>(obj: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(obj).map_err(|e| Error::Request(Box::new(e)))
}

fn with_query(mut path: String, query: &str) -> String {
    if !query.is_empty() {
        path.push('?');
        path.push_str(query);
    }
    path
}

impl<K: Resource> Api<K> {
    fn build(client: Client, dt: &K::DynamicType, namespace: Option<&str>) -> Self {
        let resource = K::api_resource(dt);
        let namespace = match resource.scope {
            Scope::Namespaced => namespace.map(str::to_owned),
            Scope::Cluster => None,
        };
        Api {
            collection: resource.collection_path(namespace.as_deref()),
            client,
            namespace,
            metadata_only: K::METADATA_ONLY,
            without_managed_fields: false,
            _kind: PhantomData,
        }
    }

    /// Objects across all namespaces (or of a cluster-scoped kind), for a type whose
    /// resource is known at run time.
    pub fn all_with(client: Client, dt: &K::DynamicType) -> Self {
        Self::build(client, dt, None)
    }

    /// Objects in `namespace`, for a type whose resource is known at run time.
    pub fn namespaced_with(client: Client, namespace: &str, dt: &K::DynamicType) -> Self {
        Self::build(client, dt, Some(namespace))
    }

    /// Objects in the client's default namespace, for a type whose resource is known
    /// at run time.
    pub fn default_namespaced_with(client: Client, dt: &K::DynamicType) -> Self {
        let ns = client.default_namespace().to_owned();
        Self::build(client, dt, Some(&ns))
    }

    /// The same `Api`, but [`list`](Self::list) and [`watch`](Self::watch) drop
    /// `metadata.managedFields` from the response text before decoding it: objects
    /// come without them, and the (often large) field sets cost no decoding. For
    /// caches, which rarely need them.
    pub fn without_managed_fields(mut self) -> Self {
        self.without_managed_fields = true;
        self
    }

    /// The namespace this `Api` works in, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn object_path(&self, name: &str, subresource: Option<&str>) -> String {
        let mut path = String::with_capacity(self.collection.len() + name.len() + 16);
        path.push_str(&self.collection);
        path.push('/');
        path.extend(utf8_percent_encode(name, SEGMENT));
        if let Some(sub) = subresource {
            path.push('/');
            path.push_str(sub);
        }
        path
    }

    fn read_accept(&self) -> &'static str {
        if self.metadata_only { METADATA } else { JSON }
    }
}

impl<K: Resource<DynamicType = ()>> Api<K> {
    /// Objects across all namespaces, or of a cluster-scoped kind.
    pub fn all(client: Client) -> Self {
        Self::all_with(client, &())
    }

    /// Objects in `namespace`.
    pub fn namespaced(client: Client, namespace: &str) -> Self {
        Self::namespaced_with(client, namespace, &())
    }

    /// Objects in the client's default namespace.
    pub fn default_namespaced(client: Client) -> Self {
        Self::default_namespaced_with(client, &())
    }
}

impl<K> Api<K>
where
    K: Resource + DeserializeOwned + Send + 'static,
{
    /// Reads one object.
    ///
    /// # Errors
    ///
    /// [`Error::is_not_found`] when there is no such object; any failure of the call.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a read.
    pub async fn get(&self, name: &str) -> Result<K, Error> {
        self.get_with(name, &GetOptions::default()).await
    }

    /// Reads one object with options (a resourceVersion to read at).
    ///
    /// # Errors
    ///
    /// As [`Api::get`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a read.
    pub async fn get_with(&self, name: &str, opts: &GetOptions) -> Result<K, Error> {
        let path = with_query(self.object_path(name, None), &opts.to_query());
        let req = Request::new(Method::GET, path).accept(self.read_accept());
        decode(&self.client.transport().send_bytes(&req).await?)
    }

    /// Reads one object, `None` when it does not exist.
    ///
    /// # Errors
    ///
    /// Any failure of the call other than not-found.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a read.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>, Error> {
        match self.get(name).await {
            Ok(k) => Ok(Some(k)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists objects: one page when `opts.limit` is set (follow
    /// `metadata.continue_token`), else everything.
    ///
    /// # Errors
    ///
    /// [`Error::is_gone`] when a continue token or resourceVersion is too old; any
    /// failure of the call.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a read.
    pub async fn list(&self, opts: &ListOptions) -> Result<ObjectList<K>, Error> {
        let mut opts = opts.clone();
        opts.watch = false;
        let path = with_query(self.collection.clone(), &opts.to_query());
        let accept = if self.metadata_only {
            METADATA_LIST
        } else {
            JSON
        };
        let req = Request::new(Method::GET, path).accept(accept);
        let body = self.client.transport().send_bytes(&req).await?;
        super::list::decode_list(&body, self.without_managed_fields)
    }

    /// Every object, fetched page by page (`opts.limit` per page, 500 when unset) and
    /// yielded one by one: memory holds one page at a time (client-go's `ListPager`).
    ///
    /// A page that fails ends the stream with its error; a continue token that
    /// expires mid-way (the list took longer than the server keeps history) ends it
    /// with an [`Error::is_gone`] error: list again.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = kubeforge_testserver::TestServer::builder().tls(true).start().await?;
    /// # let client = kubeforge_client::Client::new(kubeforge_client::__doctest::config(server.base_url(), server.ca_pem()))?;
    /// use futures::TryStreamExt;
    /// use k8s_openapi::api::core::v1::Namespace;
    /// use kubeforge_client::{api::Api, core::ListOptions};
    ///
    /// let names: Vec<String> = Api::<Namespace>::all(client)
    ///     .list_all(&ListOptions::default().limit(1))
    ///     .map_ok(|ns| ns.metadata.name.unwrap_or_default())
    ///     .try_collect()
    ///     .await?;
    /// assert!(names.contains(&"default".to_owned()));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropping the stream stops paging; nothing is lost but the unread pages.
    pub fn list_all(
        &self,
        opts: &ListOptions,
    ) -> impl Stream<Item = Result<K, Error>> + Send + 'static {
        let mut first = opts.clone();
        first.limit = Some(first.limit.unwrap_or(500));
        let api = self.clone();
        futures::stream::try_unfold(Some(first), move |next| {
            let api = api.clone();
            async move {
                let Some(opts) = next else {
                    return Ok::<_, Error>(None);
                };
                let page = api.list(&opts).await?;
                let next = match page.metadata.continue_token.as_deref() {
                    Some(token) if !token.is_empty() => {
                        let mut o = opts.clone();
                        o.continue_token = Some(token.to_owned());
                        // A continued list is read at the first page's revision.
                        o.resource_version = None;
                        o.resource_version_match = None;
                        Some(o)
                    }
                    _ => None,
                };
                Ok(Some((page.items, next)))
            }
        })
        .map_ok(|items| futures::stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
    }

    /// Watches objects: a stream of events from `opts.resource_version` (or from
    /// now), with bookmarks when `opts.allow_watch_bookmarks` and the current state
    /// first when `opts.send_initial_events` (see [`ListOptions::initial_events`]).
    ///
    /// The stream ends when the server ends the watch (after `timeoutSeconds`, or
    /// after an [`WatchEvent::Error`] such as 410 Expired: list and watch again). It
    /// does not reconnect by itself; informers do.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = kubeforge_testserver::TestServer::builder().tls(true).start().await?;
    /// # let client = kubeforge_client::Client::new(kubeforge_client::__doctest::config(server.base_url(), server.ca_pem()))?;
    /// use futures::StreamExt;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kubeforge_client::{api::Api, core::{ListOptions, WatchEvent}};
    ///
    /// let api = Api::<ConfigMap>::namespaced(client, "default");
    /// let mut events = std::pin::pin!(api.watch(&ListOptions::default().initial_events()).await?);
    /// // The streaming list sends the current state, then a bookmark ending it.
    /// while let Some(event) = events.next().await {
    ///     match event? {
    ///         WatchEvent::Added(cm) => println!("{:?}", cm.metadata.name),
    ///         WatchEvent::Bookmark(b) if b.is_initial_events_end() => break,
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// The call failed before the watch started (bad options, 410 for a too old
    /// resourceVersion on some servers); errors after it started come as stream
    /// items.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future or the stream closes the watch.
    pub async fn watch(
        &self,
        opts: &ListOptions,
    ) -> Result<impl Stream<Item = Result<WatchEvent<K>, Error>> + Send + 'static + use<K>, Error>
    {
        let mut opts = opts.clone();
        opts.watch = true;
        let path = with_query(self.collection.clone(), &opts.to_query());
        let req = Request::new(Method::GET, path)
            .accept(self.read_accept())
            .streaming();
        let resp = self.client.transport().send(&req).await?;
        Ok(watch::events(resp, self.without_managed_fields))
    }

    /// Creates an object (in this `Api`'s namespace).
    ///
    /// # Errors
    ///
    /// [`Error::is_already_exists`], [`Error::is_invalid`] (with the field causes in
    /// [`Error::status`]), any failure of the call.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: the object may have been created when the future is dropped.
    pub async fn create(&self, opts: &CreateOptions, obj: &K) -> Result<K, Error>
    where
        K: Serialize,
    {
        let path = with_query(self.collection.clone(), &opts.to_query());
        let req = Request::new(Method::POST, path).body(encode(obj)?, JSON);
        decode(&self.client.transport().send_bytes(&req).await?)
    }

    /// Replaces an object (PUT). Set `metadata.resourceVersion` to the version you
    /// read to fail with a conflict instead of overwriting someone else's change.
    ///
    /// # Errors
    ///
    /// [`Error::is_conflict`] when the object changed since `resourceVersion`;
    /// [`Error::is_not_found`]; [`Error::is_invalid`]; any failure of the call.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: the write may have happened when the future is dropped.
    pub async fn replace(&self, name: &str, opts: &UpdateOptions, obj: &K) -> Result<K, Error>
    where
        K: Serialize,
    {
        self.put(self.object_path(name, None), opts, obj).await
    }

    async fn put<T: Serialize + DeserializeOwned>(
        &self,
        path: String,
        opts: &UpdateOptions,
        obj: &T,
    ) -> Result<T, Error> {
        let path = with_query(path, &opts.to_query());
        let req = Request::new(Method::PUT, path).body(encode(obj)?, JSON);
        decode(&self.client.transport().send_bytes(&req).await?)
    }

    /// Patches an object: JSON patch, merge patch, strategic merge patch or
    /// server-side apply (see [`Patch`]).
    ///
    /// # Errors
    ///
    /// [`Error::Request`] for an apply without a field manager or `force` on another
    /// kind of patch; [`Error::is_conflict`] for an apply conflict (the causes name
    /// the fields and their managers); any failure of the call.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: the write may have happened when the future is dropped.
    pub async fn patch<P: Serialize>(
        &self,
        name: &str,
        opts: &PatchOptions,
        patch: &Patch<P>,
    ) -> Result<K, Error> {
        self.patch_at(self.object_path(name, None), opts, patch)
            .await
    }

    pub(crate) async fn patch_at<P: Serialize, T: DeserializeOwned>(
        &self,
        path: String,
        opts: &PatchOptions,
        patch: &Patch<P>,
    ) -> Result<T, Error> {
        patch.check(opts)?;
        let path = with_query(path, &opts.to_query());
        let req = Request::new(Method::PATCH, path).body(patch.body()?, patch.content_type());
        decode(&self.client.transport().send_bytes(&req).await?)
    }

    /// Deletes an object.
    ///
    /// # Errors
    ///
    /// [`Error::is_not_found`]; [`Error::is_conflict`] when a precondition fails; any
    /// failure of the call.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: the delete may have happened when the future is dropped.
    pub async fn delete(&self, name: &str, opts: &DeleteOptions) -> Result<Deleted<K>, Error> {
        let req = Request::new(Method::DELETE, self.object_path(name, None))
            .body(encode(&delete_body(opts))?, JSON);
        let bytes = self.client.transport().send_bytes(&req).await?;
        object_or_status(&bytes)
    }

    /// Deletes every object the list options select (in this namespace, or everywhere
    /// for [`Api::all`]), returning the deleted objects or a `Status`.
    ///
    /// # Errors
    ///
    /// Any failure of the call.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: some objects may have been deleted when the future is dropped.
    pub async fn delete_collection(
        &self,
        opts: &DeleteOptions,
        list: &ListOptions,
    ) -> Result<Deleted<ObjectList<K>>, Error> {
        let path = with_query(self.collection.clone(), &list.to_query());
        let req = Request::new(Method::DELETE, path).body(encode(&delete_body(opts))?, JSON);
        let bytes = self.client.transport().send_bytes(&req).await?;
        object_or_status(&bytes)
    }

    /// Reads an object through its `status` subresource.
    ///
    /// # Errors
    ///
    /// [`Error::is_not_found`] also when the kind has no status subresource; any
    /// failure of the call.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a read.
    pub async fn get_status(&self, name: &str) -> Result<K, Error> {
        let req = Request::new(Method::GET, self.object_path(name, Some("status")));
        decode(&self.client.transport().send_bytes(&req).await?)
    }

    /// Replaces an object's status (changes outside `status` are ignored).
    ///
    /// # Errors
    ///
    /// As [`Api::replace`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: the write may have happened when the future is dropped.
    pub async fn replace_status(
        &self,
        name: &str,
        opts: &UpdateOptions,
        obj: &K,
    ) -> Result<K, Error>
    where
        K: Serialize,
    {
        self.put(self.object_path(name, Some("status")), opts, obj)
            .await
    }

    /// Patches an object's status.
    ///
    /// # Errors
    ///
    /// As [`Api::patch`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: the write may have happened when the future is dropped.
    pub async fn patch_status<P: Serialize>(
        &self,
        name: &str,
        opts: &PatchOptions,
        patch: &Patch<P>,
    ) -> Result<K, Error> {
        self.patch_at(self.object_path(name, Some("status")), opts, patch)
            .await
    }

    /// Reads the `scale` subresource (Deployments, ReplicaSets, StatefulSets,
    /// ReplicationControllers, custom resources with scale).
    ///
    /// # Errors
    ///
    /// [`Error::is_not_found`] also when the kind has no scale subresource; any
    /// failure of the call.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a read.
    pub async fn get_scale(&self, name: &str) -> Result<super::Scale, Error> {
        let req = Request::new(Method::GET, self.object_path(name, Some("scale")));
        decode(&self.client.transport().send_bytes(&req).await?)
    }

    /// Sets the replica count through the `scale` subresource (PUT).
    ///
    /// # Errors
    ///
    /// As [`Api::replace`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: the write may have happened when the future is dropped.
    pub async fn replace_scale(
        &self,
        name: &str,
        opts: &UpdateOptions,
        scale: &super::Scale,
    ) -> Result<super::Scale, Error> {
        self.put(self.object_path(name, Some("scale")), opts, scale)
            .await
    }

    /// Patches the `scale` subresource (`{"spec":{"replicas":3}}` as a merge patch).
    ///
    /// # Errors
    ///
    /// As [`Api::patch`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: the write may have happened when the future is dropped.
    pub async fn patch_scale<P: Serialize>(
        &self,
        name: &str,
        opts: &PatchOptions,
        patch: &Patch<P>,
    ) -> Result<super::Scale, Error> {
        self.patch_at(self.object_path(name, Some("scale")), opts, patch)
            .await
    }
}

/// DeleteOptions travel as a body with their type set, as client-go sends them.
fn delete_body(opts: &DeleteOptions) -> DeleteOptions {
    let mut body = opts.clone();
    body.kind.get_or_insert_with(|| "DeleteOptions".to_owned());
    body.api_version.get_or_insert_with(|| "v1".to_owned());
    body
}

fn object_or_status<T: DeserializeOwned>(bytes: &[u8]) -> Result<Deleted<T>, Error> {
    let probe: KindProbe<'_> = decode_probe(bytes)?;
    if probe.kind.as_deref() == Some("Status") {
        Ok(Deleted::Status(Box::new(decode(bytes)?)))
    } else {
        Ok(Deleted::Object(decode(bytes)?))
    }
}

fn decode_probe(bytes: &[u8]) -> Result<KindProbe<'_>, Error> {
    serde_json::from_slice(bytes).map_err(Error::Decode)
}
