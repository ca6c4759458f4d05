//! The built-in resources a Kubernetes 1.33 kube-apiserver serves by default, as data.
//!
//! One row per resource per served group-version: what legacy discovery (`/api/v1`,
//! `/apis/<group>/<version>`) and aggregated discovery (v2) say about it, where it lives in
//! etcd, and the few REST behaviours its upstream strategy and store decide. Discovery
//! answers are generated from these tables, so they must agree with a real 1.33 server.
//!
//! Scope: only group-versions a default 1.33 server serves. Every beta API is off by
//! default in 1.33 (resource.k8s.io, the v1beta1 versions of coordination, certificates,
//! storage, networking and admissionregistration), and alpha APIs are off too; none of them
//! are listed. Checked against the 1.33.0 tags of kubernetes/api (API lifecycle data),
//! kubernetes/apiserver (storage-version choice, the hash, verb ordering),
//! kubernetes/kube-aggregator and kubernetes/apiextensions-apiserver, and against the
//! discovery golden files, `test/integration/etcd/data.go`, the API service priorities and
//! `pkg/registry` strategies of kubernetes/kubernetes around 1.33.
//!
//! Conventions, matching what discovery itself prints:
//! - verbs are sorted alphabetically (the apiserver sorts them);
//! - resources are in plural order within a group-version, subresources in name order;
//! - a subresource's response group and version are empty when they are the parent's own
//!   group-version, and spelled out only when they differ (`pods/eviction` answers
//!   `policy/v1` Eviction, every `*/scale` answers `autoscaling/v1` Scale);
//! - `storage_version_hash` is the first 8 bytes of SHA-256 over `group/version/kind` of the
//!   storage version, base64-encoded. A 1.33 server stores each kind in its most preferred
//!   version that was introduced by 1.32 and is not marked as replaced, so the kinds that
//!   went GA in 1.33 (ServiceCIDR, IPAddress) are still stored as `networking.k8s.io/v1beta1`,
//!   a version it does not serve. Other rows whose storage differs from the served version:
//!   both HPA versions (stored as `autoscaling/v2`), `events.k8s.io/v1` (stored as core v1
//!   Event, in the same keys) and CustomResourceDefinition (stored as v1beta1).
//!
//! `StatusOnCreate::Clear` means the status struct's zero value. Non-`omitempty` fields of
//! it still serialize (for example a cleared Service status reads `{"loadBalancer":{}}`).
//! `return_deleted_object` only matters for immediate deletions: a delete that is deferred
//! by finalizers or a grace period always answers with the (updated) object.

/// One resource as served at one group-version (a row of discovery).
#[derive(Debug)]
pub(crate) struct BuiltinResource {
    pub(crate) group: &'static str, // "" for the core group
    pub(crate) version: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) plural: &'static str,
    pub(crate) singular: &'static str,
    pub(crate) namespaced: bool,
    pub(crate) verbs: &'static [&'static str], // exactly as discovery lists them, in discovery's order
    pub(crate) short_names: &'static [&'static str],
    pub(crate) categories: &'static [&'static str],
    pub(crate) subresources: &'static [BuiltinSubresource],
    /// group, version, kind of the storage version (what storageVersionHash is computed from);
    /// None for resources that are never stored (e.g. TokenReview, SelfSubjectAccessReview).
    #[allow(dead_code, reason = "the table's tests check every hash against it")]
    pub(crate) storage_version: Option<(&'static str, &'static str, &'static str)>,
    /// storageVersionHash exactly as real legacy discovery shows it ("" if absent).
    pub(crate) storage_version_hash: &'static str,
    /// etcd key prefix without the leading "/registry/" and without namespace/name,
    /// e.g. "pods", "services/specs", "minions", "apiregistration.k8s.io/apiservices". "" if not stored.
    pub(crate) etcd_prefix: &'static str,
    pub(crate) strategy: Strategy,
}

/// A subresource as discovery lists it (e.g. pods/status, deployments/scale, pods/eviction).
#[derive(Debug)]
pub(crate) struct BuiltinSubresource {
    pub(crate) name: &'static str,
    pub(crate) group: &'static str,   // responseKind group
    pub(crate) version: &'static str, // responseKind version
    pub(crate) kind: &'static str,    // responseKind kind
    pub(crate) verbs: &'static [&'static str],
}

/// Per-resource REST behaviour facts from the upstream strategy and store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Strategy {
    pub(crate) allow_create_on_update: bool,
    pub(crate) allow_unconditional_update: bool,
    /// delete answers with the deleted object (true) or with a Success Status (false)
    pub(crate) return_deleted_object: bool,
    /// metadata.generation is set to 1 on create and bumped on spec changes
    pub(crate) generation: bool,
    /// what create does with .status
    pub(crate) status_on_create: StatusOnCreate,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum StatusOnCreate {
    /// status is kept as sent
    Keep,
    /// status is reset to empty
    Clear,
    /// status is reset to this JSON (e.g. r#"{"phase":"Pending"}"#); note extra computed fields in a comment
    Reset(&'static str),
}

// Verb lists, each in the (alphabetical) order discovery prints.

/// The full set a generic store offers.
const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Namespaces: everything but deletecollection.
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
/// Reviews, bindings, evictions, token requests.
const CREATE_ONLY: &[&str] = &["create"];
/// ComponentStatus.
const GET_LIST: &[&str] = &["get", "list"];
/// status, scale, approval, ephemeralcontainers, resize.
const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
/// namespaces/finalize.
const UPDATE_ONLY: &[&str] = &["update"];
/// pods/log.
const GET_ONLY: &[&str] = &["get"];
/// Connect subresources that stream (attach, exec, portforward): GET and POST.
const CREATE_GET: &[&str] = &["create", "get"];
/// Proxy connect subresources: every HTTP method but HEAD and OPTIONS, mapped to verbs.
const PROXY_VERBS: &[&str] = &["create", "delete", "get", "patch", "update"];

/// A subresource row.
const fn sub(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> BuiltinSubresource {
    BuiltinSubresource {
        name,
        group,
        version,
        kind,
        verbs,
    }
}

/// The `status` subresource, answering the parent kind.
const fn status(kind: &'static str) -> BuiltinSubresource {
    sub("status", "", "", kind, GET_PATCH_UPDATE)
}

/// The `scale` subresource of the replicated workload kinds.
const SCALE: BuiltinSubresource = sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE);

/// Groups in the order `/apis` lists them, each with its served versions, preferred first.
///
/// The core group comes first (it is served at `/api`). `/apis` puts the aggregator's own
/// group first, then the rest by descending API-service group priority, ties by name.
pub(crate) static GROUPS: &[(&str, &[&str])] = &[
    ("", &["v1"]),
    ("apiregistration.k8s.io", &["v1"]),
    ("apps", &["v1"]),
    ("events.k8s.io", &["v1"]),
    ("authentication.k8s.io", &["v1"]),
    ("authorization.k8s.io", &["v1"]),
    ("autoscaling", &["v2", "v1"]),
    ("batch", &["v1"]),
    ("certificates.k8s.io", &["v1"]),
    ("networking.k8s.io", &["v1"]),
    ("policy", &["v1"]),
    ("rbac.authorization.k8s.io", &["v1"]),
    ("storage.k8s.io", &["v1"]),
    ("admissionregistration.k8s.io", &["v1"]),
    ("apiextensions.k8s.io", &["v1"]),
    ("scheduling.k8s.io", &["v1"]),
    ("coordination.k8s.io", &["v1"]),
    ("node.k8s.io", &["v1"]),
    ("discovery.k8s.io", &["v1"]),
    ("flowcontrol.apiserver.k8s.io", &["v1"]),
];

/// Every resource row, grouped by group-version in GROUPS order, resources in the order discovery lists them.
pub(crate) static RESOURCES: &[BuiltinResource] = &[
    // ---- core v1 -----------------------------------------------------------------------------------
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "Binding",
        plural: "bindings",
        singular: "binding",
        namespaced: true,
        verbs: CREATE_ONLY,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: None,
        storage_version_hash: "",
        etcd_prefix: "",
        // Create-only: binds the named pod to a node (sets spec.nodeName and the PodScheduled
        // condition); same handler as pods/binding.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "ComponentStatus",
        plural: "componentstatuses",
        singular: "componentstatus",
        namespaced: false,
        verbs: GET_LIST,
        short_names: &["cs"],
        categories: &[],
        subresources: &[],
        storage_version: None,
        storage_version_hash: "",
        etcd_prefix: "",
        // Read-only and deprecated: answered by probing control-plane health, never stored.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        singular: "configmap",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["cm"],
        categories: &[],
        subresources: &[],
        storage_version: Some(("", "v1", "ConfigMap")),
        storage_version_hash: "qFsyl6wFWjQ=",
        etcd_prefix: "configmaps",
        // No status.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "Endpoints",
        plural: "endpoints",
        singular: "endpoints",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ep"],
        categories: &[],
        subresources: &[],
        storage_version: Some(("", "v1", "Endpoints")),
        storage_version_hash: "fWeeMqaN/OA=",
        etcd_prefix: "services/endpoints",
        // No status. Subsets are repacked (canonicalized) on write. Deprecated in 1.33: requests
        // get a Warning header pointing at EndpointSlice.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ev"],
        categories: &[],
        subresources: &[],
        storage_version: Some(("", "v1", "Event")),
        storage_version_hash: "r2yiGXH7wu8=",
        etcd_prefix: "events",
        // Stored with a TTL (kube-apiserver --event-ttl, default 1h); the same objects are served
        // as events.k8s.io/v1 Event.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "LimitRange",
        plural: "limitranges",
        singular: "limitrange",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["limits"],
        categories: &[],
        subresources: &[],
        storage_version: Some(("", "v1", "LimitRange")),
        storage_version_hash: "EBKMFVe6cwo=",
        etcd_prefix: "limitranges",
        // No status. A create without metadata.name gets a random UUID as its name.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        namespaced: false,
        verbs: NAMESPACE_VERBS,
        short_names: &["ns"],
        categories: &[],
        subresources: &[
            sub("finalize", "", "", "Namespace", UPDATE_ONLY),
            status("Namespace"),
        ],
        storage_version: Some(("", "v1", "Namespace")),
        storage_version_hash: "Q3oi5N2YM8M=",
        etcd_prefix: "namespaces",
        // Create appends "kubernetes" to spec.finalizers and sets the kubernetes.io/metadata.name
        // label. Delete only sets deletionTimestamp and phase Terminating and returns the object;
        // the namespace controller empties it, drops spec.finalizers via /finalize and deletes
        // again. No deletecollection.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: true,
            generation: false,
            status_on_create: StatusOnCreate::Reset(r#"{"phase":"Active"}"#),
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        singular: "node",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["no"],
        categories: &[],
        subresources: &[
            sub("proxy", "", "", "NodeProxyOptions", PROXY_VERBS),
            status("Node"),
        ],
        storage_version: Some(("", "v1", "Node")),
        storage_version_hash: "XwShjMxG9Fs=",
        etcd_prefix: "minions",
        // Unlike most kinds, status may be set on create (kubelets register this way);
        // main-resource updates keep the old status.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "PersistentVolumeClaim",
        plural: "persistentvolumeclaims",
        singular: "persistentvolumeclaim",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["pvc"],
        categories: &[],
        subresources: &[status("PersistentVolumeClaim")],
        storage_version: Some(("", "v1", "PersistentVolumeClaim")),
        storage_version_hash: "QWTyNDq0dC4=",
        etcd_prefix: "persistentvolumeclaims",
        // The strategy clears status; phase Pending comes back from v1 defaulting when the stored
        // object is read.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: true,
            generation: false,
            status_on_create: StatusOnCreate::Reset(r#"{"phase":"Pending"}"#),
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "PersistentVolume",
        plural: "persistentvolumes",
        singular: "persistentvolume",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["pv"],
        categories: &[],
        subresources: &[status("PersistentVolume")],
        storage_version: Some(("", "v1", "PersistentVolume")),
        storage_version_hash: "HN/zwEC+JgM=",
        etcd_prefix: "persistentvolumes",
        // Also sets status.lastPhaseTransitionTime to the create time.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: true,
            generation: false,
            status_on_create: StatusOnCreate::Reset(r#"{"phase":"Pending"}"#),
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["po"],
        categories: &["all"],
        subresources: &[
            sub("attach", "", "", "PodAttachOptions", CREATE_GET),
            sub("binding", "", "", "Binding", CREATE_ONLY),
            sub("ephemeralcontainers", "", "", "Pod", GET_PATCH_UPDATE),
            sub("eviction", "policy", "v1", "Eviction", CREATE_ONLY),
            sub("exec", "", "", "PodExecOptions", CREATE_GET),
            sub("log", "", "", "Pod", GET_ONLY),
            sub("portforward", "", "", "PodPortForwardOptions", CREATE_GET),
            sub("proxy", "", "", "PodProxyOptions", PROXY_VERBS),
            sub("resize", "", "", "Pod", GET_PATCH_UPDATE),
            status("Pod"),
        ],
        storage_version: Some(("", "v1", "Pod")),
        storage_version_hash: "xPOwRZ+Yhw8=",
        etcd_prefix: "pods",
        // Status also gets a computed qosClass, and a PodScheduled=False (SchedulingGated)
        // condition when spec.schedulingGates is set. Delete is graceful: a bound pod that has not
        // finished only gets deletionTimestamp plus grace period (default
        // spec.terminationGracePeriodSeconds) and goes when the kubelet deletes it with grace 0;
        // unbound or finished pods go at once. Generation is kept whatever the
        // PodObservedGenerationTracking gate says. pods/resize (gate on by default in 1.33) changes
        // only container resources and resizePolicy.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: true,
            generation: true,
            status_on_create: StatusOnCreate::Reset(r#"{"phase":"Pending"}"#),
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "PodTemplate",
        plural: "podtemplates",
        singular: "podtemplate",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("", "v1", "PodTemplate")),
        storage_version_hash: "LIXB2x4IFpk=",
        etcd_prefix: "podtemplates",
        // No status; generation is bumped when .template changes.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "ReplicationController",
        plural: "replicationcontrollers",
        singular: "replicationcontroller",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["rc"],
        categories: &["all"],
        subresources: &[SCALE, status("ReplicationController")],
        storage_version: Some(("", "v1", "ReplicationController")),
        storage_version_hash: "Jond2If31h0=",
        etcd_prefix: "controllers",
        // Default delete propagation is orphan (dependent pods are kept) unless the client asks
        // otherwise.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "ResourceQuota",
        plural: "resourcequotas",
        singular: "resourcequota",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["quota"],
        categories: &[],
        subresources: &[status("ResourceQuota")],
        storage_version: Some(("", "v1", "ResourceQuota")),
        storage_version_hash: "8uhSgffRX6w=",
        etcd_prefix: "resourcequotas",
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        singular: "secret",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("", "v1", "Secret")),
        storage_version_hash: "S6u1pOWzb84=",
        etcd_prefix: "secrets",
        // No status.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["sa"],
        categories: &[],
        subresources: &[sub(
            "token",
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            CREATE_ONLY,
        )],
        storage_version: Some(("", "v1", "ServiceAccount")),
        storage_version_hash: "pbx9ZvyFpBE=",
        etcd_prefix: "serviceaccounts",
        // No status. serviceaccounts/token mints a TokenRequest; nothing is stored.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: true,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "",
        version: "v1",
        kind: "Service",
        plural: "services",
        singular: "service",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["svc"],
        categories: &["all"],
        subresources: &[
            sub("proxy", "", "", "ServiceProxyOptions", PROXY_VERBS),
            status("Service"),
        ],
        storage_version: Some(("", "v1", "Service")),
        storage_version_hash: "0/CO1lhkEBI=",
        etcd_prefix: "services/specs",
        // Create allocates spec.clusterIP(s) and node ports (and the ServiceCIDR/IPAddress objects
        // behind them); delete releases them. Cleared status still serializes as
        // {"loadBalancer":{}}.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: true,
            return_deleted_object: true,
            generation: false,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    // ---- apiregistration.k8s.io/v1 -----------------------------------------------------------------
    BuiltinResource {
        group: "apiregistration.k8s.io",
        version: "v1",
        kind: "APIService",
        plural: "apiservices",
        singular: "apiservice",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &["api-extensions"],
        subresources: &[status("APIService")],
        storage_version: Some(("apiregistration.k8s.io", "v1", "APIService")),
        storage_version_hash: "InPBPD7+PqM=",
        etcd_prefix: "apiregistration.k8s.io/apiservices",
        // Status is cleared, except that a local APIService (no spec.service) gets an
        // Available=True condition (reason Local) at once.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Reset(r#"{}"#),
        },
    },
    // ---- apps/v1 -----------------------------------------------------------------------------------
    BuiltinResource {
        group: "apps",
        version: "v1",
        kind: "ControllerRevision",
        plural: "controllerrevisions",
        singular: "controllerrevision",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("apps", "v1", "ControllerRevision")),
        storage_version_hash: "85nkx63pcBU=",
        etcd_prefix: "controllerrevisions",
        // No status; data and revision are immutable.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "apps",
        version: "v1",
        kind: "DaemonSet",
        plural: "daemonsets",
        singular: "daemonset",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ds"],
        categories: &["all"],
        subresources: &[status("DaemonSet")],
        storage_version: Some(("apps", "v1", "DaemonSet")),
        storage_version_hash: "dd7pWHUlMKQ=",
        etcd_prefix: "daemonsets",
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    BuiltinResource {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        singular: "deployment",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["deploy"],
        categories: &["all"],
        subresources: &[SCALE, status("Deployment")],
        storage_version: Some(("apps", "v1", "Deployment")),
        storage_version_hash: "8aSe+NMegvE=",
        etcd_prefix: "deployments",
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    BuiltinResource {
        group: "apps",
        version: "v1",
        kind: "ReplicaSet",
        plural: "replicasets",
        singular: "replicaset",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["rs"],
        categories: &["all"],
        subresources: &[SCALE, status("ReplicaSet")],
        storage_version: Some(("apps", "v1", "ReplicaSet")),
        storage_version_hash: "P1RzHs8/mWQ=",
        etcd_prefix: "replicasets",
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    BuiltinResource {
        group: "apps",
        version: "v1",
        kind: "StatefulSet",
        plural: "statefulsets",
        singular: "statefulset",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["sts"],
        categories: &["all"],
        subresources: &[SCALE, status("StatefulSet")],
        storage_version: Some(("apps", "v1", "StatefulSet")),
        storage_version_hash: "H+vl74LkKdo=",
        etcd_prefix: "statefulsets",
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    // ---- events.k8s.io/v1 --------------------------------------------------------------------------
    BuiltinResource {
        group: "events.k8s.io",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ev"],
        categories: &[],
        subresources: &[],
        storage_version: Some(("", "v1", "Event")),
        storage_version_hash: "r2yiGXH7wu8=",
        etcd_prefix: "events",
        // Same storage as core v1 events (stored as core v1 Event, same TTL); fields are converted
        // on the way in and out.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- authentication.k8s.io/v1 ------------------------------------------------------------------
    BuiltinResource {
        group: "authentication.k8s.io",
        version: "v1",
        kind: "SelfSubjectReview",
        plural: "selfsubjectreviews",
        singular: "selfsubjectreview",
        namespaced: false,
        verbs: CREATE_ONLY,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: None,
        storage_version_hash: "",
        etcd_prefix: "",
        // Create-only: answers with the requesting user's attributes; nothing is stored.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "authentication.k8s.io",
        version: "v1",
        kind: "TokenReview",
        plural: "tokenreviews",
        singular: "tokenreview",
        namespaced: false,
        verbs: CREATE_ONLY,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: None,
        storage_version_hash: "",
        etcd_prefix: "",
        // Create-only: authenticates spec.token and answers in status; nothing is stored.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- authorization.k8s.io/v1 -------------------------------------------------------------------
    BuiltinResource {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "LocalSubjectAccessReview",
        plural: "localsubjectaccessreviews",
        singular: "localsubjectaccessreview",
        namespaced: true,
        verbs: CREATE_ONLY,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: None,
        storage_version_hash: "",
        etcd_prefix: "",
        // Create-only review: the authorizer's answer comes back in status; nothing is stored.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "SelfSubjectAccessReview",
        plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        namespaced: false,
        verbs: CREATE_ONLY,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: None,
        storage_version_hash: "",
        etcd_prefix: "",
        // Create-only review: the authorizer's answer comes back in status; nothing is stored.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "SelfSubjectRulesReview",
        plural: "selfsubjectrulesreviews",
        singular: "selfsubjectrulesreview",
        namespaced: false,
        verbs: CREATE_ONLY,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: None,
        storage_version_hash: "",
        etcd_prefix: "",
        // Create-only review: the authorizer's answer comes back in status; nothing is stored.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "SubjectAccessReview",
        plural: "subjectaccessreviews",
        singular: "subjectaccessreview",
        namespaced: false,
        verbs: CREATE_ONLY,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: None,
        storage_version_hash: "",
        etcd_prefix: "",
        // Create-only review: the authorizer's answer comes back in status; nothing is stored.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- autoscaling/v2 ----------------------------------------------------------------------------
    BuiltinResource {
        group: "autoscaling",
        version: "v2",
        kind: "HorizontalPodAutoscaler",
        plural: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["hpa"],
        categories: &["all"],
        subresources: &[status("HorizontalPodAutoscaler")],
        storage_version: Some(("autoscaling", "v2", "HorizontalPodAutoscaler")),
        storage_version_hash: "qwQve8ut294=",
        etcd_prefix: "horizontalpodautoscalers",
        // v2 and v1 are two views of one storage (stored as v2). No metadata.generation in 1.33.
        // Cleared status still serializes currentReplicas/desiredReplicas as 0.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    // ---- autoscaling/v1 ----------------------------------------------------------------------------
    BuiltinResource {
        group: "autoscaling",
        version: "v1",
        kind: "HorizontalPodAutoscaler",
        plural: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["hpa"],
        categories: &["all"],
        subresources: &[status("HorizontalPodAutoscaler")],
        storage_version: Some(("autoscaling", "v2", "HorizontalPodAutoscaler")),
        storage_version_hash: "qwQve8ut294=",
        etcd_prefix: "horizontalpodautoscalers",
        // v2 and v1 are two views of one storage (stored as v2). No metadata.generation in 1.33.
        // Cleared status still serializes currentReplicas/desiredReplicas as 0.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    // ---- batch/v1 ----------------------------------------------------------------------------------
    BuiltinResource {
        group: "batch",
        version: "v1",
        kind: "CronJob",
        plural: "cronjobs",
        singular: "cronjob",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["cj"],
        categories: &["all"],
        subresources: &[status("CronJob")],
        storage_version: Some(("batch", "v1", "CronJob")),
        storage_version_hash: "sd5LIXh4Fjs=",
        etcd_prefix: "cronjobs",
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    BuiltinResource {
        group: "batch",
        version: "v1",
        kind: "Job",
        plural: "jobs",
        singular: "job",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &["all"],
        subresources: &[status("Job")],
        storage_version: Some(("batch", "v1", "Job")),
        storage_version_hash: "mudhfqk/qZY=",
        etcd_prefix: "jobs",
        // Unless spec.manualSelector is set, create generates spec.selector and the
        // controller-uid/job-name pod labels from the new UID. Default delete propagation in
        // batch/v1 is orphan (the Job's pods are kept).
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    // ---- certificates.k8s.io/v1 --------------------------------------------------------------------
    BuiltinResource {
        group: "certificates.k8s.io",
        version: "v1",
        kind: "CertificateSigningRequest",
        plural: "certificatesigningrequests",
        singular: "certificatesigningrequest",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["csr"],
        categories: &[],
        subresources: &[
            sub(
                "approval",
                "",
                "",
                "CertificateSigningRequest",
                GET_PATCH_UPDATE,
            ),
            status("CertificateSigningRequest"),
        ],
        storage_version: Some(("certificates.k8s.io", "v1", "CertificateSigningRequest")),
        storage_version_hash: "95fRKMXA+00=",
        etcd_prefix: "certificatesigningrequests",
        // Create overwrites spec.username/uid/groups/extra with the requesting user. Spec is
        // immutable; /approval changes only the approval conditions and /status only the
        // certificate and other conditions.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    // ---- networking.k8s.io/v1 ----------------------------------------------------------------------
    BuiltinResource {
        group: "networking.k8s.io",
        version: "v1",
        kind: "IngressClass",
        plural: "ingressclasses",
        singular: "ingressclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("networking.k8s.io", "v1", "IngressClass")),
        storage_version_hash: "l/iqIbDgFyQ=",
        etcd_prefix: "ingressclasses",
        // No status.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "networking.k8s.io",
        version: "v1",
        kind: "Ingress",
        plural: "ingresses",
        singular: "ingress",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ing"],
        categories: &[],
        subresources: &[status("Ingress")],
        storage_version: Some(("networking.k8s.io", "v1", "Ingress")),
        storage_version_hash: "39NQlfNR+bo=",
        etcd_prefix: "ingress",
        // Note the etcd prefix is the singular "ingress".
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    BuiltinResource {
        group: "networking.k8s.io",
        version: "v1",
        kind: "IPAddress",
        plural: "ipaddresses",
        singular: "ipaddress",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["ip"],
        categories: &[],
        subresources: &[],
        storage_version: Some(("networking.k8s.io", "v1beta1", "IPAddress")),
        storage_version_hash: "O4H8VxQhW5Y=",
        etcd_prefix: "ipaddresses",
        // No status; the name is the IP itself and spec is immutable. GA in 1.33 but still stored
        // as v1beta1 so 1.32 can read it back.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "networking.k8s.io",
        version: "v1",
        kind: "NetworkPolicy",
        plural: "networkpolicies",
        singular: "networkpolicy",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["netpol"],
        categories: &[],
        subresources: &[],
        storage_version: Some(("networking.k8s.io", "v1", "NetworkPolicy")),
        storage_version_hash: "YpfwF18m1G8=",
        etcd_prefix: "networkpolicies",
        // No status in 1.33.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "networking.k8s.io",
        version: "v1",
        kind: "ServiceCIDR",
        plural: "servicecidrs",
        singular: "servicecidr",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[status("ServiceCIDR")],
        storage_version: Some(("networking.k8s.io", "v1beta1", "ServiceCIDR")),
        storage_version_hash: "8ufAXOnr3Yg=",
        etcd_prefix: "servicecidrs",
        // Upstream does not clear status on create. GA in 1.33 but still stored as v1beta1. A
        // controller adds a finalizer that holds deletion while addresses from the range are in
        // use.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- policy/v1 ---------------------------------------------------------------------------------
    BuiltinResource {
        group: "policy",
        version: "v1",
        kind: "PodDisruptionBudget",
        plural: "poddisruptionbudgets",
        singular: "poddisruptionbudget",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["pdb"],
        categories: &[],
        subresources: &[status("PodDisruptionBudget")],
        storage_version: Some(("policy", "v1", "PodDisruptionBudget")),
        storage_version_hash: "EVWiDmWqyJw=",
        etcd_prefix: "poddisruptionbudgets",
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    // ---- rbac.authorization.k8s.io/v1 --------------------------------------------------------------
    BuiltinResource {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRoleBinding",
        plural: "clusterrolebindings",
        singular: "clusterrolebinding",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding")),
        storage_version_hash: "48tpQ8gZHFc=",
        etcd_prefix: "clusterrolebindings",
        // No status. Writes that would grant more than the requester holds are refused (escalation
        // check) unless it may escalate or bind.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRole",
        plural: "clusterroles",
        singular: "clusterrole",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("rbac.authorization.k8s.io", "v1", "ClusterRole")),
        storage_version_hash: "bYE5ZWDrJ44=",
        etcd_prefix: "clusterroles",
        // No status. Same escalation check; rules of a role with aggregationRule are filled in by a
        // controller.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "RoleBinding",
        plural: "rolebindings",
        singular: "rolebinding",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("rbac.authorization.k8s.io", "v1", "RoleBinding")),
        storage_version_hash: "eGsCzGH6b1g=",
        etcd_prefix: "rolebindings",
        // No status. Writes that would grant more than the requester holds are refused (escalation
        // check) unless it may escalate or bind.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "Role",
        plural: "roles",
        singular: "role",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("rbac.authorization.k8s.io", "v1", "Role")),
        storage_version_hash: "7FuwZcIIItM=",
        etcd_prefix: "roles",
        // No status. Writes that would grant more than the requester holds are refused (escalation
        // check) unless it may escalate or bind.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- storage.k8s.io/v1 -------------------------------------------------------------------------
    BuiltinResource {
        group: "storage.k8s.io",
        version: "v1",
        kind: "CSIDriver",
        plural: "csidrivers",
        singular: "csidriver",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("storage.k8s.io", "v1", "CSIDriver")),
        storage_version_hash: "hL6j/rwBV5w=",
        etcd_prefix: "csidrivers",
        // No status.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "storage.k8s.io",
        version: "v1",
        kind: "CSINode",
        plural: "csinodes",
        singular: "csinode",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("storage.k8s.io", "v1", "CSINode")),
        storage_version_hash: "Pe62DkZtjuo=",
        etcd_prefix: "csinodes",
        // No status.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "storage.k8s.io",
        version: "v1",
        kind: "CSIStorageCapacity",
        plural: "csistoragecapacities",
        singular: "csistoragecapacity",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("storage.k8s.io", "v1", "CSIStorageCapacity")),
        storage_version_hash: "xeVl+2Ly1kE=",
        etcd_prefix: "csistoragecapacities",
        // No status.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "storage.k8s.io",
        version: "v1",
        kind: "StorageClass",
        plural: "storageclasses",
        singular: "storageclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["sc"],
        categories: &[],
        subresources: &[],
        storage_version: Some(("storage.k8s.io", "v1", "StorageClass")),
        storage_version_hash: "K+m6uJwbjGY=",
        etcd_prefix: "storageclasses",
        // No status; provisioner and parameters are immutable.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "storage.k8s.io",
        version: "v1",
        kind: "VolumeAttachment",
        plural: "volumeattachments",
        singular: "volumeattachment",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[status("VolumeAttachment")],
        storage_version: Some(("storage.k8s.io", "v1", "VolumeAttachment")),
        storage_version_hash: "tJx/ezt6UDU=",
        etcd_prefix: "volumeattachments",
        // Spec is immutable.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    // ---- admissionregistration.k8s.io/v1 -----------------------------------------------------------
    BuiltinResource {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "MutatingWebhookConfiguration",
        plural: "mutatingwebhookconfigurations",
        singular: "mutatingwebhookconfiguration",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &["api-extensions"],
        subresources: &[],
        storage_version: Some((
            "admissionregistration.k8s.io",
            "v1",
            "MutatingWebhookConfiguration",
        )),
        storage_version_hash: "Sqi0GUgDaX0=",
        etcd_prefix: "mutatingwebhookconfigurations",
        // No status; generation is bumped when .webhooks changes.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "ValidatingAdmissionPolicy",
        plural: "validatingadmissionpolicies",
        singular: "validatingadmissionpolicy",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &["api-extensions"],
        subresources: &[status("ValidatingAdmissionPolicy")],
        storage_version: Some((
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingAdmissionPolicy",
        )),
        storage_version_hash: "6OxvlMmQ6is=",
        etcd_prefix: "validatingadmissionpolicies",
        // Status (type checking) is written later by a controller.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    BuiltinResource {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "ValidatingAdmissionPolicyBinding",
        plural: "validatingadmissionpolicybindings",
        singular: "validatingadmissionpolicybinding",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &["api-extensions"],
        subresources: &[],
        storage_version: Some((
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingAdmissionPolicyBinding",
        )),
        storage_version_hash: "v9715VZqakg=",
        etcd_prefix: "validatingadmissionpolicybindings",
        // No status.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    BuiltinResource {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "ValidatingWebhookConfiguration",
        plural: "validatingwebhookconfigurations",
        singular: "validatingwebhookconfiguration",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &["api-extensions"],
        subresources: &[],
        storage_version: Some((
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingWebhookConfiguration",
        )),
        storage_version_hash: "B0wHjQmsGNk=",
        etcd_prefix: "validatingwebhookconfigurations",
        // No status; generation is bumped when .webhooks changes.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- apiextensions.k8s.io/v1 -------------------------------------------------------------------
    BuiltinResource {
        group: "apiextensions.k8s.io",
        version: "v1",
        kind: "CustomResourceDefinition",
        plural: "customresourcedefinitions",
        singular: "customresourcedefinition",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["crd", "crds"],
        categories: &["api-extensions"],
        subresources: &[status("CustomResourceDefinition")],
        storage_version: Some((
            "apiextensions.k8s.io",
            "v1beta1",
            "CustomResourceDefinition",
        )),
        storage_version_hash: "jfWCUB31mvA=",
        etcd_prefix: "apiextensions.k8s.io/customresourcedefinitions",
        // Status is cleared, then status.storedVersions is set to the version marked storage: true.
        // Stored as v1beta1 even though only v1 is served. Delete sets deletionTimestamp, adds the
        // customresourcecleanup.apiextensions.k8s.io finalizer and a Terminating condition and
        // returns the object; the CRD goes once its custom resources are gone.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Reset(r#"{}"#),
        },
    },
    // ---- scheduling.k8s.io/v1 ----------------------------------------------------------------------
    BuiltinResource {
        group: "scheduling.k8s.io",
        version: "v1",
        kind: "PriorityClass",
        plural: "priorityclasses",
        singular: "priorityclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["pc"],
        categories: &[],
        subresources: &[],
        storage_version: Some(("scheduling.k8s.io", "v1", "PriorityClass")),
        storage_version_hash: "1QwjyaZjj3Y=",
        etcd_prefix: "priorityclasses",
        // No status; generation is set to 1 on create and never bumped (value and preemptionPolicy
        // are immutable).
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- coordination.k8s.io/v1 --------------------------------------------------------------------
    BuiltinResource {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        plural: "leases",
        singular: "lease",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("coordination.k8s.io", "v1", "Lease")),
        storage_version_hash: "gqkMMb/YqFM=",
        etcd_prefix: "leases",
        // No status. PUT may create, but an update of an existing lease must carry resourceVersion.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- node.k8s.io/v1 ----------------------------------------------------------------------------
    BuiltinResource {
        group: "node.k8s.io",
        version: "v1",
        kind: "RuntimeClass",
        plural: "runtimeclasses",
        singular: "runtimeclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("node.k8s.io", "v1", "RuntimeClass")),
        storage_version_hash: "WQTu1GL3T2Q=",
        etcd_prefix: "runtimeclasses",
        // No status; handler is immutable. PUT may create, but an update of an existing object must
        // carry resourceVersion.
        strategy: Strategy {
            allow_create_on_update: true,
            allow_unconditional_update: false,
            return_deleted_object: false,
            generation: false,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- discovery.k8s.io/v1 -----------------------------------------------------------------------
    BuiltinResource {
        group: "discovery.k8s.io",
        version: "v1",
        kind: "EndpointSlice",
        plural: "endpointslices",
        singular: "endpointslice",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[],
        storage_version: Some(("discovery.k8s.io", "v1", "EndpointSlice")),
        storage_version_hash: "qgS0xkrxYAI=",
        etcd_prefix: "endpointslices",
        // No status; generation is bumped on any change other than metadata, and on label changes.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Keep,
        },
    },
    // ---- flowcontrol.apiserver.k8s.io/v1 -----------------------------------------------------------
    BuiltinResource {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1",
        kind: "FlowSchema",
        plural: "flowschemas",
        singular: "flowschema",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[status("FlowSchema")],
        storage_version: Some(("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema")),
        storage_version_hash: "GJVAJZSZBIw=",
        etcd_prefix: "flowschemas",
        // The apiserver recreates its built-in (mandatory and suggested) objects.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
    BuiltinResource {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1",
        kind: "PriorityLevelConfiguration",
        plural: "prioritylevelconfigurations",
        singular: "prioritylevelconfiguration",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        subresources: &[status("PriorityLevelConfiguration")],
        storage_version: Some((
            "flowcontrol.apiserver.k8s.io",
            "v1",
            "PriorityLevelConfiguration",
        )),
        storage_version_hash: "Kir5PVfvNeI=",
        etcd_prefix: "prioritylevelconfigurations",
        // The apiserver recreates its built-in (mandatory and suggested) objects.
        strategy: Strategy {
            allow_create_on_update: false,
            allow_unconditional_update: true,
            return_deleted_object: false,
            generation: true,
            status_on_create: StatusOnCreate::Clear,
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn group_versions() -> Vec<(&'static str, &'static str)> {
        GROUPS
            .iter()
            .flat_map(|(g, vs)| vs.iter().map(move |v| (*g, *v)))
            .collect()
    }

    #[test]
    fn no_duplicate_group_version_plural() {
        let mut seen = HashSet::new();
        for r in RESOURCES {
            assert!(
                seen.insert((r.group, r.version, r.plural)),
                "duplicate row {}/{} {}",
                r.group,
                r.version,
                r.plural
            );
        }
    }

    #[test]
    fn groups_and_resources_agree() {
        let gvs = group_versions();
        for r in RESOURCES {
            assert!(
                gvs.contains(&(r.group, r.version)),
                "{}/{} {} is not in GROUPS",
                r.group,
                r.version,
                r.plural
            );
        }
        for (g, v) in &gvs {
            assert!(
                RESOURCES.iter().any(|r| r.group == *g && r.version == *v),
                "{g}/{v} has no resources"
            );
        }
        let mut groups = HashSet::new();
        for (g, vs) in GROUPS {
            assert!(groups.insert(*g), "group {g:?} listed twice");
            assert!(!vs.is_empty(), "group {g:?} has no versions");
        }
        assert_eq!(GROUPS[0], ("", &["v1"][..]), "the core group comes first");
    }

    #[test]
    fn rows_are_in_discovery_order() {
        let gvs = group_versions();
        let key = |r: &BuiltinResource| {
            let i = gvs
                .iter()
                .position(|gv| *gv == (r.group, r.version))
                .unwrap();
            (i, r.plural)
        };
        for pair in RESOURCES.windows(2) {
            assert!(
                key(&pair[0]) < key(&pair[1]),
                "{} must come after {}",
                pair[0].plural,
                pair[1].plural
            );
        }
        for r in RESOURCES {
            for pair in r.subresources.windows(2) {
                assert!(
                    pair[0].name < pair[1].name,
                    "{} subresources out of order",
                    r.plural
                );
            }
        }
    }

    #[test]
    fn verbs_are_sorted_and_known() {
        const KNOWN: &[&str] = &[
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ];
        let lists = RESOURCES.iter().map(|r| (r.plural, r.verbs)).chain(
            RESOURCES
                .iter()
                .flat_map(|r| r.subresources.iter().map(|s| (s.name, s.verbs))),
        );
        for (name, verbs) in lists {
            assert!(!verbs.is_empty(), "{name} has no verbs");
            assert!(
                verbs.windows(2).all(|w| w[0] < w[1]),
                "{name} verbs not sorted: {verbs:?}"
            );
            assert!(
                verbs.iter().all(|v| KNOWN.contains(v)),
                "{name} has an unknown verb"
            );
        }
    }

    #[test]
    fn stored_exactly_when_hash_and_prefix_are_set() {
        for r in RESOURCES {
            let stored = r.storage_version.is_some();
            assert_eq!(
                stored,
                !r.storage_version_hash.is_empty(),
                "{} hash",
                r.plural
            );
            assert_eq!(
                stored,
                !r.etcd_prefix.is_empty(),
                "{} etcd prefix",
                r.plural
            );
            assert!(
                !r.etcd_prefix.starts_with('/'),
                "{} prefix has a leading slash",
                r.plural
            );
            if let Some((group, _, kind)) = r.storage_version {
                // Same kind; and the same group except for events.k8s.io, stored as core events.
                assert_eq!(kind, r.kind, "{} storage kind", r.plural);
                assert!(
                    group == r.group || r.group == "events.k8s.io",
                    "{} storage group",
                    r.plural
                );
            }
        }
    }

    #[test]
    fn rows_sharing_storage_agree() {
        for a in RESOURCES.iter().filter(|r| !r.etcd_prefix.is_empty()) {
            for b in RESOURCES.iter().filter(|r| r.etcd_prefix == a.etcd_prefix) {
                assert_eq!(
                    a.storage_version, b.storage_version,
                    "{} vs {}",
                    a.plural, b.plural
                );
                assert_eq!(a.kind, b.kind, "{} vs {}", a.plural, b.plural);
                assert_eq!(a.namespaced, b.namespaced, "{} vs {}", a.plural, b.plural);
            }
        }
    }

    #[test]
    fn storage_version_hash_matches_storage_version() {
        // Known values from real 1.33 legacy discovery.
        assert_eq!(storage_version_hash("", "v1", "Pod"), "xPOwRZ+Yhw8=");
        assert_eq!(
            storage_version_hash("apps", "v1", "Deployment"),
            "8aSe+NMegvE="
        );
        for r in RESOURCES {
            if let Some((g, v, k)) = r.storage_version {
                assert_eq!(
                    r.storage_version_hash,
                    storage_version_hash(g, v, k),
                    "{}",
                    r.plural
                );
            }
        }
    }

    #[test]
    fn preferred_versions_come_first() {
        let (_, autoscaling) = GROUPS.iter().find(|(g, _)| *g == "autoscaling").unwrap();
        assert_eq!(*autoscaling, &["v2", "v1"][..]);
    }

    /// base64(sha256("group/version/kind")[..8]), as the apiserver computes it.
    fn storage_version_hash(group: &str, version: &str, kind: &str) -> String {
        let digest = sha256(format!("{group}/{version}/{kind}").as_bytes());
        base64(&digest[..8])
    }

    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// A plain SHA-256 (FIPS 180-4), enough for short test inputs.
    fn sha256(data: &[u8]) -> [u8; 32] {
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];
        let mut h: [u32; 8] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
            0x5be0cd19,
        ];
        let mut msg = data.to_vec();
        msg.push(0x80);
        while msg.len() % 64 != 56 {
            msg.push(0);
        }
        msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
        for block in msg.chunks(64) {
            let mut w = [0u32; 64];
            for (i, word) in block.chunks(4).enumerate() {
                w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
            }
            for i in 16..64 {
                let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
                let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16]
                    .wrapping_add(s0)
                    .wrapping_add(w[i - 7])
                    .wrapping_add(s1);
            }
            let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
            for i in 0..64 {
                let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
                let ch = (e & f) ^ (!e & g);
                let t1 = hh
                    .wrapping_add(s1)
                    .wrapping_add(ch)
                    .wrapping_add(K[i])
                    .wrapping_add(w[i]);
                let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
                let maj = (a & b) ^ (a & c) ^ (b & c);
                let t2 = s0.wrapping_add(maj);
                hh = g;
                g = f;
                f = e;
                e = d.wrapping_add(t1);
                d = c;
                c = b;
                b = a;
                a = t1.wrapping_add(t2);
            }
            for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
                *x = x.wrapping_add(y);
            }
        }
        let mut out = [0u8; 32];
        for (i, word) in h.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}
