//! Resource request handlers: one file per verb family, all reached through
//! [`resource`], which resolves the resource, checks scope and verb, and dispatches.
//!
//! ```text
//! GET    collection            list.rs   (watch=true: watch.rs)
//! GET    object[/status]       get.rs
//! POST   collection            write.rs  create   (review kinds: review.rs)
//! PUT    object[/status|/finalize]        write.rs  update
//! PATCH  object[/status]       write.rs  patch
//! DELETE object | collection   delete.rs
//! *      object/scale          scale.rs
//! ```

mod delete;
mod get;
mod list;
pub(crate) mod negotiation;
pub(crate) mod respond;
mod review;
mod scale;
pub(crate) mod table;
mod watch;
mod write;

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, Limited};
use kubeforge_client::core::{FieldSelector, LabelSelector, Status};
use serde_json::{Map, Value};

use crate::apiserver::{ApiError, ApiResult, ApiServer};
use crate::cache::{CachedObject, WatchCache};
use crate::registry::{Resource, convert, store};
use crate::request_info::RequestInfo;
use respond::Response;

/// How long a request other than a watch may take (kube-apiserver's
/// `--request-timeout`).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Largest accepted request body (kube-apiserver's `MaxRequestBodyBytes`).
pub(crate) const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// One resource request being served.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) server: &'a Arc<ApiServer>,
    pub(crate) info: &'a RequestInfo,
    pub(crate) res: &'a Arc<Resource>,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    /// The namespace the request addresses (empty: all, or cluster scope).
    pub(crate) namespace: &'a str,
    /// `Warning` headers for the response.
    pub(crate) warnings: parking_lot::Mutex<Vec<String>>,
}

impl Ctx<'_> {
    /// The schema of the endpoint's kind, if it has one (built-in kinds do).
    pub(crate) fn schema(&self) -> Option<crate::schema::Cursor<'_>> {
        self.res.schema()
    }

    /// The field manager of a non-apply write: `?fieldManager=`, else the User-Agent
    /// up to its first `/` (upstream's default).
    pub(crate) fn field_manager(&self, explicit: Option<&str>) -> String {
        match explicit.filter(|m| !m.is_empty()) {
            Some(m) => m.to_owned(),
            None => crate::apply::manager_from_user_agent(
                self.header(http::header::USER_AGENT).unwrap_or_default(),
            ),
        }
    }

    /// Adds a `Warning` header to the response.
    pub(crate) fn warn(&self, text: String) {
        self.warnings.lock().push(text);
    }

    /// Drops fields the kind's schema does not declare and applies `fieldValidation`
    /// to them and to `duplicates`: `Strict` fails (400; 422 for a patch, whose body is
    /// `patch`), `Warn` (the default) adds one warning per problem, `Ignore` says
    /// nothing. Kinds without a schema keep everything.
    pub(crate) fn check_fields(
        &self,
        obj: &mut Map<String, Value>,
        duplicates: &[String],
        directive: Option<&str>,
        patch: Option<&[u8]>,
    ) -> ApiResult<()> {
        let Some(root) = self.schema() else {
            return Ok(());
        };
        let mut value = Value::Object(std::mem::take(obj));
        let unknown = crate::schema::validate::prune(root, &mut value);
        if let Value::Object(m) = value {
            *obj = m;
        }
        if unknown.is_empty() && duplicates.is_empty() {
            return Ok(());
        }
        match kubeforge_client::core::FieldValidation::parse(directive.unwrap_or_default()) {
            Some(kubeforge_client::core::FieldValidation::Strict) => {
                let message = crate::schema::validate::strict_message(&unknown, duplicates);
                Err(match patch {
                    Some(p) => Status::invalid(
                        &kubeforge_client::core::GroupKind::default(),
                        "",
                        &[kubeforge_client::core::FieldError::invalid(
                            "patch",
                            String::from_utf8_lossy(p).into_owned(),
                            &message,
                        )],
                    )
                    .into(),
                    None => store::decode_error(self.res, &message),
                })
            }
            Some(kubeforge_client::core::FieldValidation::Ignore) => Ok(()),
            _ => {
                for w in crate::schema::validate::warnings(&unknown, duplicates) {
                    self.warn(w);
                }
                Ok(())
            }
        }
    }

    pub(crate) fn header(&self, name: http::header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn store(&self) -> store::Store<'_> {
        store::Store::new(self.server, self.res)
    }

    pub(crate) fn cache(&self) -> ApiResult<&Arc<WatchCache>> {
        self.server.registry.cache(self.res).ok_or_else(|| {
            Status::method_not_supported(&self.res.group_resource(), &self.info.verb).into()
        })
    }

    /// The bytes a cached object is served as at this endpoint (converted when the
    /// endpoint's version is not the stored one).
    pub(crate) fn served(&self, obj: &CachedObject) -> ApiResult<Bytes> {
        if convert::stored_as(self.res).is_none() {
            return Ok(obj.bytes().clone());
        }
        self.store().serve_cached(obj.bytes())
    }

    /// The label and field selectors of a list, watch or deletecollection.
    pub(crate) fn selectors(
        &self,
        label: Option<&str>,
        field: Option<&str>,
    ) -> ApiResult<(LabelSelector, FieldSelector)> {
        let labels = LabelSelector::parse(label.unwrap_or_default())
            .map_err(|e| ApiError::from(Status::bad_request(e.to_string())))?;
        let fields = FieldSelector::parse(field.unwrap_or_default())
            .map_err(|e| ApiError::from(Status::bad_request(e.to_string())))?;
        let (group, kind) = (self.res.gvk.group.as_str(), self.res.gvk.kind.as_str());
        let fields = fields.map_fields(|f| crate::registry::fields::legacy_alias(group, kind, f));
        for term in fields.terms() {
            let known = term.field == "metadata.name"
                || (self.res.namespaced && term.field == "metadata.namespace")
                || self.res.fields.iter().any(|f| f.name == term.field);
            if !known {
                let msg = if self.res.field_conversion {
                    format!("field label not supported: {}", term.field)
                } else {
                    format!(
                        "\"{}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                        term.field
                    )
                };
                return Err(Status::bad_request(msg).into());
            }
        }
        Ok((labels, fields))
    }
}

/// A filter for list and watch: namespace, labels, fields.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    pub(crate) namespace: String,
    pub(crate) labels: LabelSelector,
    pub(crate) fields: FieldSelector,
}

impl Filter {
    pub(crate) fn matches(&self, obj: &CachedObject) -> bool {
        (self.namespace.is_empty() || obj.namespace == self.namespace)
            && self.labels.matches(obj.label_set())
            && self.fields.matches(obj.field_set())
    }

    pub(crate) fn has_selectors(&self) -> bool {
        !self.labels.is_empty() || !self.fields.is_empty()
    }
}

/// Reads a request body up to [`MAX_BODY_BYTES`].
pub(crate) async fn read_body(body: hyper::body::Incoming) -> ApiResult<Bytes> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(Status::request_entity_too_large(&format!("limit is {MAX_BODY_BYTES}")).into())
        }
        Err(e) => Err(Status::bad_request(format!("failed to read the request body: {e}")).into()),
    }
}

/// Decodes an object body (JSON or YAML) into a JSON object.
/// A decoded request object and the duplicate keys found while decoding it.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) obj: Map<String, Value>,
    pub(crate) duplicates: Vec<String>,
}

/// Decodes an object body (JSON, YAML or protobuf) into a JSON object, noting
/// duplicate keys (JSON).
pub(crate) fn decode_object(
    res: &Resource,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Decoded> {
    let format = negotiation::body_format(
        headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    )?;
    let (value, duplicates) = match format {
        negotiation::BodyFormat::Json => crate::schema::validate::decode(body)
            .map_err(|e| store::decode_error(res, &e.to_string()))?,
        // Custom resources have no protobuf encoding upstream.
        negotiation::BodyFormat::Protobuf if res.is_custom() => {
            return Err(Status::unsupported_media_type(
                crate::protobuf::MEDIA_TYPE,
                &["application/json", "application/yaml"],
            )
            .into());
        }
        negotiation::BodyFormat::Protobuf => {
            let obj = crate::protobuf::decode(body)
                .map_err(|e| store::decode_error(res, &e.to_string()))?;
            (Value::Object(obj), Vec::new())
        }
        negotiation::BodyFormat::Yaml => {
            let text =
                std::str::from_utf8(body).map_err(|e| store::decode_error(res, &e.to_string()))?;
            let v: Value = serde_saphyr::from_str(text)
                .map_err(|e| store::decode_error(res, &e.to_string()))?;
            (v, Vec::new())
        }
    };
    match value {
        Value::Object(obj) => Ok(Decoded { obj, duplicates }),
        other => Err(store::decode_error(
            res,
            &format!(
                "json: cannot unmarshal {} into Go value of type struct",
                type_name(&other)
            ),
        )),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Serves a resource request.
pub(crate) async fn resource(
    server: &Arc<ApiServer>,
    info: &RequestInfo,
    parts: &http::request::Parts,
    body: hyper::body::Incoming,
) -> Response {
    let Some(res) = server
        .registry
        .lookup(&info.group, &info.version, &info.resource)
    else {
        return respond::not_found();
    };
    // Cluster-scoped resources have no namespaced paths; namespaced ones are addressed
    // cluster-wide only to list or watch.
    let namespace = if res.namespaced {
        info.namespace.as_str()
    } else {
        ""
    };
    let is_namespace_object = res.gvk.group.is_empty() && res.plural == "namespaces";
    if !res.namespaced && !info.namespace.is_empty() && !is_namespace_object {
        return respond::not_found();
    }
    if res.namespaced && namespace.is_empty() && !matches!(info.verb.as_str(), "list" | "watch") {
        return respond::not_found();
    }
    if !info.subresource.is_empty() && res.subresource(&info.subresource).is_none() {
        return respond::not_found();
    }
    let ctx = Ctx {
        server,
        info,
        res,
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        namespace,
        warnings: parking_lot::Mutex::new(Vec::new()),
    };
    // Everything but a watch must finish within the request timeout (upstream's 60 s),
    // reading the body included.
    let result = if info.verb == "watch" {
        dispatch(&ctx, body).await
    } else {
        match tokio::time::timeout(REQUEST_TIMEOUT, dispatch(&ctx, body)).await {
            Ok(r) => r,
            Err(_) => Err(Status::timeout(
                "request did not complete within requested timeout - context deadline exceeded",
                Some(0),
            )
            .into()),
        }
    };
    let mut warnings = deprecation_warning(res);
    warnings.append(&mut ctx.warnings.lock());
    let resp = match result {
        Ok(resp) => resp,
        Err(e) => respond::error(&e),
    };
    respond::with_warnings(resp, &warnings)
}

/// The deprecation warning upstream attaches to every request of a resource.
fn deprecation_warning(res: &Resource) -> Vec<String> {
    match (res.gvk.group.as_str(), res.plural.as_str()) {
        ("", "endpoints") => vec![
            "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"
                .to_owned(),
        ],
        ("", "componentstatuses") => vec!["v1 ComponentStatus is deprecated in v1.19+".to_owned()],
        _ => Vec::new(),
    }
}

fn unsupported(ctx: &Ctx<'_>) -> ApiError {
    let mut gr = ctx.res.group_resource();
    if !ctx.info.subresource.is_empty() {
        gr.resource = format!("{}/{}", gr.resource, ctx.info.subresource);
    }
    Status::method_not_supported(&gr, &ctx.info.verb).into()
}

async fn dispatch(ctx: &Ctx<'_>, body: hyper::body::Incoming) -> ApiResult<Response> {
    let verb = ctx.info.verb.as_str();
    let sub = ctx.info.subresource.as_str();
    if !sub.is_empty() {
        let allowed = ctx
            .res
            .subresource(sub)
            .is_some_and(|s| s.verbs.iter().any(|v| v == verb));
        if !allowed {
            return Err(unsupported(ctx));
        }
        return match (sub, verb) {
            ("status", "get") => get::get(ctx).await,
            ("status", "update") => write::update(ctx, body, store::Part::Status).await,
            ("status", "patch") => write::patch(ctx, body, store::Part::Status).await,
            ("finalize", "update") => write::update(ctx, body, store::Part::Finalize).await,
            ("scale", "get") => scale::get(ctx).await,
            ("scale", "update") => scale::update(ctx, body).await,
            ("scale", "patch") => scale::patch(ctx, body).await,
            _ => Err(unsupported(ctx)),
        };
    }
    // POST names no object: a create on an object path is not a route.
    if !ctx.res.supports(verb) || (verb == "create" && !ctx.info.name.is_empty()) {
        return Err(unsupported(ctx));
    }
    match verb {
        "get" => get::get(ctx).await,
        "list" => list::list(ctx).await,
        "watch" => watch::watch(ctx).await,
        "create" if ctx.res.storage_prefix.is_none() => review::create(ctx, body).await,
        "create" => write::create(ctx, body).await,
        "update" => write::update(ctx, body, store::Part::Main).await,
        "patch" => write::patch(ctx, body, store::Part::Main).await,
        "delete" => delete::delete(ctx, body).await,
        "deletecollection" => delete::delete_collection(ctx, body).await,
        _ => Err(unsupported(ctx)),
    }
}

/// Maps a storage error of this request to a `Status`.
pub(crate) fn store_error(ctx: &Ctx<'_>, e: crate::storage::Error) -> ApiError {
    store::storage_status(&ctx.res.group_resource(), &ctx.info.name, e)
}
