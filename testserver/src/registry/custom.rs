//! Custom kinds registered at start-up: [`CustomResource`], and the [`Resource`] and
//! schema the server derives from one.
//!
//! This stands in for CustomResourceDefinition serving until that lands: a custom kind
//! is served as kube-apiserver serves the custom resources of a CRD whose single
//! version is served and stored, whose `spec` and `status` are objects marked
//! `x-kubernetes-preserve-unknown-fields: true`, and (unless turned off) with the
//! `status` subresource. Concretely:
//!
//! - storage keys are `/registry/<group>/<plural>/[<namespace>/]<name>`, with one watch
//!   cache per kind, as for any other resource;
//! - the schema is the "schemaless" one kube-openapi deduces: `apiVersion`, `kind`,
//!   a typed `metadata` (ObjectMeta, so finalizers, owner references and managed fields
//!   merge as for built-in kinds), and untyped `spec` and `status` (server-side apply
//!   treats maps in them granularly and lists atomically). Other top-level fields are
//!   unknown: pruned, and reported by `fieldValidation`;
//! - strategic merge patch is refused (415), protobuf bodies are refused (415), there
//!   is no OpenAPI document and no kind-specific defaulting, validation, printer
//!   columns (`NAME`, `AGE` as upstream's default for CRDs) or field selectors beyond
//!   `metadata.name` and `metadata.namespace`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine;
use kubeforge_client::core::{GroupVersionKind, validation};

use super::builtin::{self, StatusOnCreate, Strategy};
use super::{CreateStatus, Resource, Subresource};
use crate::schema::{FieldDef, Kind, Scalar, Schema, TypeDef, TypeId};

/// A custom kind for the server to serve from start-up, described as a
/// CustomResourceDefinition would describe it (one version, spec and status
/// preserving unknown fields).
///
/// The server does not serve CustomResourceDefinition objects yet; registering kinds
/// at start-up with [`TestServerBuilder::custom_resource`](crate::TestServerBuilder::custom_resource),
/// [`Config::custom_resource`](crate::Config::custom_resource) or the binary's
/// `--custom-resource` flag stands in for it until it does.
///
/// ```
/// use kubeforge_testserver::CustomResource;
///
/// let echo = CustomResource::new("demo.kubeforge.dev", "v1alpha1", "Echo", "echoes")
///     .short_names(["ec"]);
/// assert_eq!(echo.singular, "echo");
/// assert!(echo.namespaced && echo.status_subresource);
/// // The flag's grammar parses to the same description.
/// let parsed: CustomResource = "echoes.demo.kubeforge.dev/v1alpha1:Echo,short-name=ec".parse()?;
/// assert_eq!(parsed, echo);
/// # Ok::<(), kubeforge_testserver::InvalidCustomResource>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomResource {
    /// The API group (`demo.kubeforge.dev`): a DNS subdomain with at least one dot,
    /// not a built-in group.
    pub group: String,
    /// The one served and stored version (`v1alpha1`): a DNS-1035 label.
    pub version: String,
    /// The kind (`Echo`).
    pub kind: String,
    /// The resource name in URLs (`echoes`): a lowercase DNS-1035 label.
    pub plural: String,
    /// The singular name (`echo`); defaults to the lowercased kind.
    pub singular: String,
    /// Namespaced (the default) or cluster-scoped.
    pub namespaced: bool,
    /// Whether `/status` is served (the default): main-resource writes then ignore
    /// status, status writes ignore everything else.
    pub status_subresource: bool,
    /// Short names for kubectl (`ec`).
    pub short_names: Vec<String>,
    /// Categories for kubectl (`all`).
    pub categories: Vec<String>,
}

impl CustomResource {
    /// A namespaced kind with the status subresource, its singular name the lowercased
    /// kind, without short names or categories.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
        plural: impl Into<String>,
    ) -> Self {
        let kind = kind.into();
        CustomResource {
            group: group.into(),
            version: version.into(),
            singular: kind.to_ascii_lowercase(),
            kind,
            plural: plural.into(),
            namespaced: true,
            status_subresource: true,
            short_names: Vec::new(),
            categories: Vec::new(),
        }
    }

    /// Makes the kind cluster-scoped.
    pub fn cluster_scoped(mut self) -> Self {
        self.namespaced = false;
        self
    }

    /// Serves the kind without the `status` subresource: status is then written like
    /// any other field, and counts toward `metadata.generation`.
    pub fn without_status_subresource(mut self) -> Self {
        self.status_subresource = false;
        self
    }

    /// Sets the singular name.
    pub fn singular(mut self, singular: impl Into<String>) -> Self {
        self.singular = singular.into();
        self
    }

    /// Sets the short names.
    pub fn short_names<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.short_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the categories.
    pub fn categories<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.categories = names.into_iter().map(Into::into).collect();
        self
    }

    /// Checks the names as CRD validation would (and that the group is not built in).
    ///
    /// # Errors
    ///
    /// [`InvalidCustomResource`] naming the first problem.
    pub fn validate(&self) -> Result<(), InvalidCustomResource> {
        let bad = |why: String| {
            Err(InvalidCustomResource {
                input: self.describe(),
                why,
            })
        };
        if let Some(e) = validation::dns1123_subdomain(&self.group).first() {
            return bad(format!("group: {e}"));
        }
        if !self.group.contains('.') {
            return bad("group: should be a domain with at least one dot".to_owned());
        }
        if builtin::GROUPS.iter().any(|(g, _)| *g == self.group) {
            return bad(format!(
                "group: {} is a built-in group; custom kinds need their own",
                self.group
            ));
        }
        if !is_dns1035_label(&self.version) {
            return bad("version: must be a DNS-1035 label (`v1`, `v1alpha1`)".to_owned());
        }
        let kind_ok = self
            .kind
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && self.kind.chars().all(|c| c.is_ascii_alphanumeric())
            && self.kind.len() <= 63;
        if !kind_ok {
            return bad("kind: must be letters and digits, starting with a letter".to_owned());
        }
        for (what, name) in [("plural", &self.plural), ("singular", &self.singular)]
            .into_iter()
            .chain(self.short_names.iter().map(|n| ("short name", n)))
            .chain(self.categories.iter().map(|n| ("category", n)))
        {
            if !is_dns1035_label(name) {
                return bad(format!(
                    "{what} {name:?}: must be a lowercase DNS-1035 label"
                ));
            }
        }
        Ok(())
    }

    /// `plural.group/version:Kind`, for messages.
    fn describe(&self) -> String {
        format!(
            "{}.{}/{}:{}",
            self.plural, self.group, self.version, self.kind
        )
    }

    /// The storage version hash discovery shows (as for any stored kind: the first 8
    /// bytes of SHA-256 over `group/version/kind`, base64).
    fn storage_version_hash(&self) -> String {
        let gvk = format!("{}/{}/{}", self.group, self.version, self.kind);
        let digest = ring::digest::digest(&ring::digest::SHA256, gvk.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(&digest.as_ref()[..8])
    }
}

/// The flag grammar of `--custom-resource`:
///
/// ```text
/// PLURAL.GROUP/VERSION:KIND[,OPTION]...
/// OPTION: cluster | no-status | singular=NAME | short-name=NAME | category=NAME
/// ```
///
/// `short-name` and `category` may repeat.
impl FromStr for CustomResource {
    type Err = InvalidCustomResource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| InvalidCustomResource {
            input: s.to_owned(),
            why: why.to_owned(),
        };
        let mut parts = s.split(',');
        let head = parts.next().unwrap_or_default();
        let (resource, kind) = head
            .split_once(':')
            .ok_or_else(|| bad("expected PLURAL.GROUP/VERSION:KIND"))?;
        let (plural_group, version) = resource
            .split_once('/')
            .ok_or_else(|| bad("expected PLURAL.GROUP/VERSION before the `:`"))?;
        let (plural, group) = plural_group
            .split_once('.')
            .ok_or_else(|| bad("expected PLURAL.GROUP before the `/`"))?;
        let mut cr = CustomResource::new(group, version, kind, plural);
        for option in parts {
            match option.split_once('=') {
                None if option == "cluster" => cr.namespaced = false,
                None if option == "no-status" => cr.status_subresource = false,
                Some(("singular", v)) => cr.singular = v.to_owned(),
                Some(("short-name", v)) => cr.short_names.push(v.to_owned()),
                Some(("category", v)) => cr.categories.push(v.to_owned()),
                _ => {
                    return Err(bad(&format!(
                        "unknown option {option:?} (cluster, no-status, singular=, short-name=, category=)"
                    )));
                }
            }
        }
        cr.validate().map_err(|e| InvalidCustomResource {
            input: s.to_owned(),
            why: e.why,
        })?;
        Ok(cr)
    }
}

/// A [`CustomResource`] that cannot be served: a name breaks CRD naming rules, the
/// flag does not follow its grammar, or two kinds clash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid custom resource {input:?}: {why}")]
pub struct InvalidCustomResource {
    input: String,
    why: String,
}

/// Checks a set of custom kinds: each valid, no two with the same group and plural
/// or the same group and kind.
pub(crate) fn validate_all(custom: &[CustomResource]) -> Result<(), InvalidCustomResource> {
    for (i, cr) in custom.iter().enumerate() {
        cr.validate()?;
        let clash = custom[..i]
            .iter()
            .any(|o| o.group == cr.group && (o.plural == cr.plural || o.kind == cr.kind));
        if clash {
            return Err(InvalidCustomResource {
                input: cr.describe(),
                why: "another custom kind of this group has the same plural or kind".to_owned(),
            });
        }
    }
    Ok(())
}

fn is_dns1035_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The schema of a custom kind, owned by its [`Resource`].
#[derive(Debug)]
pub(crate) struct CustomSchema {
    pub(crate) schema: Schema,
    pub(crate) root: TypeId,
}

/// Definition name of the built-in ObjectMeta.
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

impl CustomSchema {
    /// The schema upstream builds for a CRD version whose `spec` and `status` preserve
    /// unknown fields: typed metadata, untyped spec and status, nothing else.
    fn new(cr: &CustomResource) -> Self {
        let mut schema = Schema::new();
        let builtin = crate::schema::builtin::schema();
        let meta = builtin
            .named(OBJECT_META)
            .map(|c| schema.import(builtin, c.id()));
        let string = schema.add(TypeDef {
            name: String::new(),
            description: String::new(),
            kind: Kind::Scalar {
                scalar: Scalar::String,
                format: String::new(),
            },
        });
        let untyped = schema.add(TypeDef {
            name: String::new(),
            description: String::new(),
            kind: Kind::Untyped,
        });
        let field = |name: &str, ty: TypeId| FieldDef {
            name: name.to_owned(),
            ty,
            description: String::new(),
            patch_strategy: None,
            merge_key: None,
        };
        // Sorted by name, as `Kind::Struct` requires.
        let fields = vec![
            field("apiVersion", string),
            field("kind", string),
            field("metadata", meta.unwrap_or(untyped)),
            field("spec", untyped),
            field("status", untyped),
        ];
        // kube-openapi names CRD types by the reversed group, then version and kind.
        let reversed: Vec<&str> = cr.group.split('.').rev().collect();
        let root = schema.add(TypeDef {
            name: format!("{}.{}.{}", reversed.join("."), cr.version, cr.kind),
            description: String::new(),
            kind: Kind::Struct {
                fields,
                required: Vec::new(),
                atomic: false,
                preserve_unknown: false,
                embedded_resource: false,
            },
        });
        schema.set_root(&cr.group, &cr.version, &cr.kind, root);
        CustomSchema { schema, root }
    }
}

/// Verbs of a custom kind's main resource and of its status, as discovery lists them:
/// upstream's CRD discovery keeps this order rather than sorting as for built-ins.
const CUSTOM_VERBS: &[&str] = &[
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "create",
    "update",
    "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

impl Resource {
    /// The resource serving a custom kind.
    pub(crate) fn from_custom(cr: &CustomResource) -> Self {
        let gvk = GroupVersionKind::new(&cr.group, &cr.version, &cr.kind);
        let strategy = Strategy {
            // customResourceStrategy: no create on update, no unconditional update.
            allow_create_on_update: false,
            allow_unconditional_update: false,
            // The custom resource store does not ask for the deleted object: an
            // immediate delete answers with a Success Status.
            return_deleted_object: false,
            generation: true,
            status_on_create: if cr.status_subresource {
                StatusOnCreate::Clear
            } else {
                StatusOnCreate::Keep
            },
        };
        Resource {
            subresources: if cr.status_subresource {
                vec![Subresource {
                    name: "status".to_owned(),
                    gvk: gvk.clone(),
                    verbs: STATUS_VERBS.iter().map(|v| (*v).to_owned()).collect(),
                }]
            } else {
                Vec::new()
            },
            gvk,
            plural: cr.plural.clone(),
            singular: cr.singular.clone(),
            namespaced: cr.namespaced,
            verbs: CUSTOM_VERBS.iter().map(|v| (*v).to_owned()).collect(),
            short_names: cr.short_names.clone(),
            categories: cr.categories.clone(),
            storage_version_hash: cr.storage_version_hash(),
            storage_prefix: Some(format!("/registry/{}/{}/", cr.group, cr.plural)),
            strategy,
            create_status: if cr.status_subresource {
                CreateStatus::Clear
            } else {
                CreateStatus::Keep
            },
            fields: &[],
            // Custom resources convert field labels themselves and refuse unknown ones
            // with "field label not supported".
            field_conversion: true,
            custom: Some(Arc::new(CustomSchema::new(cr))),
        }
    }
}

/// Orders versions as Kubernetes does (`v2` > `v1` > `v1beta2` > `v1beta1` >
/// `v1alpha1` > anything else, the rest alphabetically): the first is preferred.
pub(crate) fn sort_versions(versions: &mut [String]) {
    fn rank(v: &str) -> (u8, u64, u64, String) {
        let parsed = v.strip_prefix('v').and_then(|rest| {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            let major: u64 = rest[..digits].parse().ok()?;
            let tail = &rest[digits..];
            if tail.is_empty() {
                return Some((3, major, 0));
            }
            for (word, level) in [("beta", 2), ("alpha", 1)] {
                if let Some(minor) = tail.strip_prefix(word) {
                    return Some((level, major, minor.parse().ok()?));
                }
            }
            None
        });
        match parsed {
            // Higher levels, majors and minors first.
            Some((level, major, minor)) => {
                (3 - level, u64::MAX - major, u64::MAX - minor, String::new())
            }
            None => (4, 0, 0, v.to_owned()),
        }
    }
    versions.sort_by_key(|v| rank(v));
}

impl fmt::Display for CustomResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_flag_grammar() {
        let cases: Vec<(&str, Option<CustomResource>)> = vec![
            // the simplest form: namespaced, with status
            (
                "echoes.demo.kubeforge.dev/v1alpha1:Echo",
                Some(CustomResource::new(
                    "demo.kubeforge.dev",
                    "v1alpha1",
                    "Echo",
                    "echoes",
                )),
            ),
            // every option
            (
                "widgets.example.com/v1:Widget,cluster,no-status,singular=wid,short-name=wd,short-name=w,category=all",
                Some(
                    CustomResource::new("example.com", "v1", "Widget", "widgets")
                        .cluster_scoped()
                        .without_status_subresource()
                        .singular("wid")
                        .short_names(["wd", "w"])
                        .categories(["all"]),
                ),
            ),
            // no kind
            ("echoes.demo.kubeforge.dev/v1alpha1", None),
            // no version
            ("echoes.demo.kubeforge.dev:Echo", None),
            // no group
            ("echoes/v1:Echo", None),
            // group without a dot
            ("echoes.demo/v1:Echo", None),
            // a built-in group
            ("echoes.apiextensions.k8s.io/v1:Echo", None),
            // uppercase plural
            ("Echoes.demo.kubeforge.dev/v1:Echo", None),
            // unknown option
            ("echoes.demo.kubeforge.dev/v1:Echo,namespaced=false", None),
            // bad kind
            ("echoes.demo.kubeforge.dev/v1:1Echo", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(input.parse::<CustomResource>().ok(), want, "{input}");
        }
    }

    #[test]
    fn clashing_kinds_are_refused() {
        let a = CustomResource::new("demo.kubeforge.dev", "v1", "Echo", "echoes");
        let b = CustomResource::new("demo.kubeforge.dev", "v1beta1", "Echo", "echos");
        let c = CustomResource::new("demo.kubeforge.dev", "v1", "Ping", "pings");
        assert!(validate_all(&[a.clone(), c.clone()]).is_ok());
        assert!(validate_all(&[a.clone(), b]).is_err());
        assert!(validate_all(&[a.clone(), a]).is_err());
    }

    #[test]
    fn versions_sort_as_kubernetes_does() {
        let mut v: Vec<String> = [
            "v1alpha1", "foo", "v1", "v1beta1", "v2", "v1beta2", "v2alpha1",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        sort_versions(&mut v);
        assert_eq!(
            v,
            [
                "v2", "v1", "v1beta2", "v1beta1", "v2alpha1", "v1alpha1", "foo"
            ]
        );
    }

    #[test]
    fn the_schema_types_metadata_and_leaves_spec_untyped() {
        let cr = CustomResource::new("demo.kubeforge.dev", "v1alpha1", "Echo", "echoes");
        let s = CustomSchema::new(&cr);
        let root = s.schema.cursor(s.root);
        assert_eq!(root.def().name, "dev.kubeforge.demo.v1alpha1.Echo");
        let (_, meta) = root.field("metadata").expect("metadata");
        assert!(meta.field("finalizers").is_some());
        assert!(meta.field("ownerReferences").is_some());
        let (_, spec) = root.field("spec").expect("spec");
        assert!(matches!(spec.kind(), Kind::Untyped));
        assert!(root.field("extra").is_none());
    }
}
