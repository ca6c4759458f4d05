//! Table printers: the columns and cells `kubectl get` shows for each kind.
//!
//! A client that sends `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`
//! gets a `meta.k8s.io/v1 Table` back: a list of column definitions and, for
//! each object, one row of cells. This module owns those layouts. A [`Printer`]
//! pairs a kind's columns with the function that turns one object into its row;
//! [`printer_for`] finds the printer of a built-in kind, and
//! [`default_printer`] is the `Name` / `Created At` layout every other kind
//! gets (kube-apiserver's generic table convertor in
//! `k8s.io/apiserver/pkg/registry/rest/table.go`).
//!
//! Columns and cell values match kube-apiserver 1.33
//! (`pkg/printers/internalversion/printers.go`). Like kube-apiserver, we always
//! produce the wide row: priority-1 columns are filled too, and clients hide
//! them unless asked for `-o wide`.
//!
//! # Reading objects
//!
//! Objects arrive as plain JSON in their served apiVersion. Every field is read
//! with Go's zero-value rules: a field that is missing, `null`, or of the wrong
//! JSON type reads as absent (empty string, 0, `false`, empty list, nil
//! pointer). So a row can be built from any JSON value and no input panics.
//! Defaulting is not repeated here: a printer shows what the stored object
//! holds (kube-apiserver prints objects its strategies already defaulted).

use std::collections::BTreeSet;
#[cfg(test)]
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Map, Value};

/// One column of a Table, as `meta.k8s.io/v1 TableColumnDefinition`.
#[derive(Debug)]
pub(crate) struct ColumnDef {
    pub(crate) name: &'static str,
    /// OpenAPI type of the cells: "string", "integer", "date", ...
    pub(crate) type_: &'static str,
    /// OpenAPI format: "name" for the column holding the object name, else "".
    pub(crate) format: &'static str,
    pub(crate) description: &'static str,
    /// 0 for the default view, 1 for columns shown only by `-o wide`.
    pub(crate) priority: i32,
}

/// Columns and the function that fills a row's cells for one kind.
#[derive(Debug)]
pub(crate) struct Printer {
    pub(crate) columns: &'static [ColumnDef],
    /// cells in column order; `now` is the server's clock (ages are computed from it)
    pub(crate) row: fn(obj: &serde_json::Value, now: jiff::Timestamp) -> Vec<serde_json::Value>,
}

/// The printer for a group and kind ("" group = core), or None when the default applies.
pub(crate) fn printer_for(group: &str, kind: &str) -> Option<&'static Printer> {
    let printer = match (group, kind) {
        ("", "Pod") => &POD,
        ("", "Service") => &SERVICE,
        ("", "ConfigMap") => &CONFIG_MAP,
        ("", "Secret") => &SECRET,
        ("", "Namespace") => &NAMESPACE,
        ("", "Node") => &NODE,
        ("", "Event") => &CORE_EVENT,
        // events.k8s.io serves the same Event objects under other field names;
        // kube-apiserver prints both through one internal type, so both get the
        // same columns.
        ("events.k8s.io", "Event") => &EVENTS_API_EVENT,
        ("", "ServiceAccount") => &SERVICE_ACCOUNT,
        ("apps", "Deployment") => &DEPLOYMENT,
        ("apps", "ReplicaSet") => &REPLICA_SET,
        ("batch", "Job") => &JOB,
        ("coordination.k8s.io", "Lease") => &LEASE,
        _ => return None,
    };
    Some(printer)
}

/// The default printer (Name, Created At) used for every kind without its own.
pub(crate) fn default_printer() -> &'static Printer {
    &DEFAULT
}

/// The printer of custom kinds: `Name` and `Age`, what upstream shows for a CRD
/// without `additionalPrinterColumns` (the API defaults one `Age` column of type
/// `date` reading `.metadata.creationTimestamp`, printed as a human duration).
pub(crate) fn custom_printer() -> &'static Printer {
    &CUSTOM
}

/// apimachinery's HumanDuration ("5m", "3h2m", "2d", "10y"...) for ages.
#[cfg(test)]
fn human_duration(d: Duration) -> String {
    human_nanos(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

// ---------------------------------------------------------------------------
// Column building blocks

/// A priority-0 column with no format.
const fn column(name: &'static str, type_: &'static str, description: &'static str) -> ColumnDef {
    ColumnDef {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// The same column, shown only in the wide view.
const fn wide(c: ColumnDef) -> ColumnDef {
    ColumnDef { priority: 1, ..c }
}

const NAME: ColumnDef = ColumnDef {
    name: "Name",
    type_: "string",
    format: "name",
    description: "Name of the object, unique among objects of its kind in its namespace (or in the cluster for cluster-scoped kinds).",
    priority: 0,
};

const AGE: ColumnDef = column(
    "Age",
    "string",
    "Time elapsed since the object was created.",
);

const CONTAINERS: ColumnDef = wide(column(
    "Containers",
    "string",
    "Names of the containers in the pod template, comma separated.",
));

const IMAGES: ColumnDef = wide(column(
    "Images",
    "string",
    "Images of the containers in the pod template, in the same order as Containers.",
));

const POD_SELECTOR: ColumnDef = wide(column(
    "Selector",
    "string",
    "Label query that picks the pods this object manages.",
));

// ---------------------------------------------------------------------------
// The printers

static DEFAULT: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Created At",
            "date",
            "When the object was created, in RFC 3339 form (UTC).",
        ),
    ],
    row: default_row,
};

static CUSTOM: Printer = Printer {
    columns: &[
        NAME,
        ColumnDef {
            name: "Age",
            type_: "date",
            format: "",
            description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
            priority: 0,
        },
    ],
    row: custom_row,
};

static POD: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Ready",
            "string",
            "Ready containers out of those that count toward readiness (regular containers and sidecars).",
        ),
        column(
            "Status",
            "string",
            "One-word summary of the pod, derived from its phase, conditions and container states.",
        ),
        column(
            "Restarts",
            "string",
            "Total container restarts, and how long ago the most recent restarted container stopped.",
        ),
        AGE,
        wide(column(
            "IP",
            "string",
            "Primary IP address assigned to the pod.",
        )),
        wide(column("Node", "string", "Node the pod is bound to.")),
        wide(column(
            "Nominated Node",
            "string",
            "Node the scheduler has set aside for the pod after preempting others, before binding.",
        )),
        wide(column(
            "Readiness Gates",
            "string",
            "Extra readiness conditions that are true, out of those the pod declares.",
        )),
    ],
    row: pod_row,
};

static DEPLOYMENT: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Ready",
            "string",
            "Ready pods out of the desired replica count.",
        ),
        column(
            "Up-to-date",
            "string",
            "Pods that already run the current pod template.",
        ),
        column(
            "Available",
            "string",
            "Pods that have stayed ready for at least minReadySeconds.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        POD_SELECTOR,
    ],
    row: deployment_row,
};

static REPLICA_SET: Printer = Printer {
    columns: &[
        NAME,
        column("Desired", "integer", "Replica count asked for in the spec."),
        column(
            "Current",
            "integer",
            "Pods the controller most recently observed for this set.",
        ),
        column("Ready", "integer", "Pods of this set that report ready."),
        AGE,
        CONTAINERS,
        IMAGES,
        POD_SELECTOR,
    ],
    row: replica_set_row,
};

static JOB: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Status",
            "string",
            "Where the job stands: Running, Complete, Failed, Suspended, FailureTarget or Terminating.",
        ),
        column(
            "Completions",
            "string",
            "Succeeded pods out of the completions the job needs.",
        ),
        column(
            "Duration",
            "string",
            "How long the job has been running, or ran until it completed.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        POD_SELECTOR,
    ],
    row: job_row,
};

static SERVICE: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Type",
            "string",
            "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.",
        ),
        column(
            "Cluster-IP",
            "string",
            "Virtual IP of the service inside the cluster (the first of its cluster IPs).",
        ),
        column(
            "External-IP",
            "string",
            "Addresses that reach the service from outside: external IPs, load-balancer ingress or the external name.",
        ),
        column(
            "Port(s)",
            "string",
            "Service ports as port[:nodePort]/protocol, comma separated.",
        ),
        AGE,
        wide(column(
            "Selector",
            "string",
            "Labels of the pods that back the service.",
        )),
    ],
    row: service_row,
};

static CONFIG_MAP: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Data",
            "string",
            "Number of keys held, counting data and binaryData together.",
        ),
        AGE,
    ],
    row: config_map_row,
};

static SECRET: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Type",
            "string",
            "Kind of secret, which decides the keys it has to carry.",
        ),
        column("Data", "string", "Number of keys in the secret's data."),
        AGE,
    ],
    row: secret_row,
};

static NAMESPACE: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Status",
            "string",
            "Lifecycle phase of the namespace: Active or Terminating.",
        ),
        AGE,
    ],
    row: namespace_row,
};

static NODE: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Status",
            "string",
            "Readiness of the node, with SchedulingDisabled added when it is cordoned.",
        ),
        column(
            "Roles",
            "string",
            "Roles taken from the node's node-role.kubernetes.io/ labels.",
        ),
        AGE,
        column("Version", "string", "Kubelet version the node reports."),
        wide(column(
            "Internal-IP",
            "string",
            "First InternalIP address the node reports.",
        )),
        wide(column(
            "External-IP",
            "string",
            "First ExternalIP address the node reports.",
        )),
        wide(column(
            "OS-Image",
            "string",
            "Operating system image the node reports.",
        )),
        wide(column(
            "Kernel-Version",
            "string",
            "Kernel version the node reports.",
        )),
        wide(column(
            "Container-Runtime",
            "string",
            "Container runtime name and version the node reports.",
        )),
    ],
    row: node_row,
};

/// Event columns. Unlike every other kind, the name is not the first column:
/// kube-apiserver leads with the time and hides the name in the wide view.
const EVENT_COLUMNS: &[ColumnDef] = &[
    column(
        "Last Seen",
        "string",
        "Time since the event was last observed.",
    ),
    column(
        "Type",
        "string",
        "Severity of the event: Normal or Warning.",
    ),
    column(
        "Reason",
        "string",
        "Short, machine-readable cause of the event.",
    ),
    column(
        "Object",
        "string",
        "The object the event is about, as kind/name.",
    ),
    wide(column(
        "Subobject",
        "string",
        "Part of the object the event is about, such as one container.",
    )),
    wide(column(
        "Source",
        "string",
        "Component, and host when known, that reported the event.",
    )),
    column(
        "Message",
        "string",
        "Human-readable account of what happened.",
    ),
    wide(column(
        "First Seen",
        "string",
        "Time since the event was first observed.",
    )),
    wide(column(
        "Count",
        "string",
        "How many times the event has been observed.",
    )),
    wide(NAME),
];

static CORE_EVENT: Printer = Printer {
    columns: EVENT_COLUMNS,
    row: core_event_row,
};

static EVENTS_API_EVENT: Printer = Printer {
    columns: EVENT_COLUMNS,
    row: events_api_event_row,
};

static SERVICE_ACCOUNT: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Secrets",
            "string",
            "Number of secrets listed on the service account.",
        ),
        AGE,
    ],
    row: service_account_row,
};

static LEASE: Printer = Printer {
    columns: &[
        NAME,
        column(
            "Holder",
            "string",
            "Identity of whoever holds the lease now.",
        ),
        AGE,
    ],
    row: lease_row,
};

// ---------------------------------------------------------------------------
// Rows

fn default_row(obj: &Value, _now: Timestamp) -> Vec<Value> {
    vec![
        name(obj).into(),
        rfc3339_utc(time(obj, &["metadata", "creationTimestamp"])).into(),
    ]
}

fn custom_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(obj).into(), age(obj, now).into()]
}

/// The pod row. The Status cell is the subtle part; it is decided in this order:
///
/// 1. start from `status.reason` if set, else the phase; a `PodScheduled`
///    condition with reason `SchedulingGated` overrides both;
/// 2. walk init container statuses in order and stop at the first one that is
///    neither finished successfully nor a started sidecar: its failure, waiting
///    reason or position (`Init:1/3`) becomes the status;
/// 3. when no init container is pending (or the pod says it is initialized),
///    walk the regular containers from last to first: a waiting or terminated
///    reason wins, and "Completed" turns back into Running/NotReady while a
///    ready container still runs;
/// 4. a pod being deleted reads `Terminating` (or `Unknown` if its node was
///    lost) unless it already reached a terminal phase.
///
/// Restarts count the init containers walked in step 2 while the pod is still
/// initializing; afterwards only sidecars and regular containers count.
fn pod_row(pod: &Value, now: Timestamp) -> Vec<Value> {
    let init_specs = list(pod, &["spec", "initContainers"]);
    let conditions = list(pod, &["status", "conditions"]);
    // A status names its container; the last spec entry of that name wins, as
    // in the Go map upstream builds.
    let is_sidecar = |name: &str| {
        init_specs
            .iter()
            .rev()
            .find(|c| text(c, &["name"]) == name)
            .is_some_and(|c| text(c, &["restartPolicy"]) == "Always")
    };

    let mut total = list(pod, &["spec", "containers"]).len();
    total += init_specs
        .iter()
        .filter(|c| text(c, &["restartPolicy"]) == "Always")
        .count();
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;

    let phase = text(pod, &["status", "phase"]);
    let status_reason = text(pod, &["status", "reason"]);
    let mut reason = if status_reason.is_empty() {
        phase.to_string()
    } else {
        status_reason.to_string()
    };
    if conditions
        .iter()
        .any(|c| text(c, &["type"]) == "PodScheduled" && text(c, &["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".to_string();
    }

    let mut initializing = false;
    for (i, status) in list(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let count = int(status, &["restartCount"]);
        let stopped = last_stopped(status);
        restarts += count;
        last_restart = last_restart.max(stopped);
        let sidecar = is_sidecar(text(status, &["name"]));
        if sidecar {
            sidecar_restarts += count;
            last_sidecar_restart = last_sidecar_restart.max(stopped);
        }

        let terminated = nested(status, &["state", "terminated"]);
        let waiting_reason = nested(status, &["state", "waiting"])
            .map(|w| text(w, &["reason"]))
            .unwrap_or("");
        if terminated.is_some_and(|t| int(t, &["exitCode"]) == 0) {
            continue;
        }
        if sidecar && flag(status, &["started"]) {
            if flag(status, &["ready"]) {
                ready += 1;
            }
            continue;
        }
        reason = if let Some(t) = terminated {
            format!("Init:{}", termination_reason(t))
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            format!("Init:{waiting_reason}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    if !initializing || first_condition_true(conditions, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for status in list(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int(status, &["restartCount"]);
            last_restart = last_restart.max(last_stopped(status));
            let waiting_reason = nested(status, &["state", "waiting"])
                .map(|w| text(w, &["reason"]))
                .unwrap_or("");
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = nested(status, &["state", "terminated"]) {
                reason = termination_reason(t);
            } else if flag(status, &["ready"]) && nested(status, &["state", "running"]).is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if any_condition_true(conditions, "Ready") {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }

    if is_set(pod, &["metadata", "deletionTimestamp"]) {
        if status_reason == "NodeLost" {
            reason = "Unknown".to_string();
        } else if phase != "Failed" && phase != "Succeeded" {
            reason = "Terminating".to_string();
        }
    }

    let restarts_cell = match last_restart {
        Some(at) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(at), now)),
        _ => restarts.to_string(),
    };

    // kube-apiserver reads the internal pod, whose podIPs conversion fills
    // from podIP when the v1 object only carries the latter.
    let pod_ip = match list(pod, &["status", "podIPs"]).first() {
        Some(first) => text(first, &["ip"]),
        None => text(pod, &["status", "podIP"]),
    };
    let gates = list(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_gates = gates
            .iter()
            .filter(|g| {
                let wanted = text(g, &["conditionType"]);
                conditions
                    .iter()
                    .find(|c| text(c, &["type"]) == wanted)
                    .is_some_and(|c| text(c, &["status"]) == "True")
            })
            .count();
        format!("{true_gates}/{}", gates.len())
    };

    vec![
        name(pod).into(),
        format!("{ready}/{total}").into(),
        reason.into(),
        restarts_cell.into(),
        age(pod, now).into(),
        or_none(pod_ip).into(),
        or_none(text(pod, &["spec", "nodeName"])).into(),
        or_none(text(pod, &["status", "nominatedNodeName"])).into(),
        readiness_gates.into(),
    ]
}

/// When a container last stopped before its current run, if it ever did.
fn last_stopped(status: &Value) -> Option<Timestamp> {
    nested(status, &["lastState", "terminated"]).and_then(|t| time(t, &["finishedAt"]))
}

/// A terminated container's reason, or its signal or exit code when the
/// runtime gave none.
fn termination_reason(terminated: &Value) -> String {
    let reason = text(terminated, &["reason"]);
    let signal = int(terminated, &["signal"]);
    if !reason.is_empty() {
        reason.to_string()
    } else if signal != 0 {
        format!("Signal:{signal}")
    } else {
        format!("ExitCode:{}", int(terminated, &["exitCode"]))
    }
}

fn deployment_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = container_cells(obj);
    // Deployments print the bare selector string (empty when it selects
    // everything); other workloads print <none> there. Upstream differs the
    // same way.
    let selector = selector_string(field(obj, &["spec", "selector"]))
        .unwrap_or_else(|| "<invalid>".to_string());
    vec![
        name(obj).into(),
        format!(
            "{}/{}",
            int(obj, &["status", "readyReplicas"]),
            int(obj, &["spec", "replicas"])
        )
        .into(),
        int(obj, &["status", "updatedReplicas"]).into(),
        int(obj, &["status", "availableReplicas"]).into(),
        age(obj, now).into(),
        containers.into(),
        images.into(),
        selector.into(),
    ]
}

fn replica_set_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = container_cells(obj);
    vec![
        name(obj).into(),
        int(obj, &["spec", "replicas"]).into(),
        int(obj, &["status", "replicas"]).into(),
        int(obj, &["status", "readyReplicas"]).into(),
        age(obj, now).into(),
        containers.into(),
        images.into(),
        format_label_selector(field(obj, &["spec", "selector"])).into(),
    ]
}

fn job_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let succeeded = int(obj, &["status", "succeeded"]);
    let completions = match int32(obj, &["spec", "completions"]) {
        Some(wanted) => format!("{succeeded}/{wanted}"),
        None => match int32(obj, &["spec", "parallelism"]).unwrap_or(0) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    // startTime and completionTime are pointers upstream: any parseable value
    // counts as set, and the difference is printed as it comes (a negative one
    // reads "<invalid>").
    let duration = match (
        parsed(obj, &["status", "startTime"]),
        parsed(obj, &["status", "completionTime"]),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_nanos(nanos_between(start, now)),
        (Some(start), Some(end)) => human_nanos(nanos_between(start, end)),
    };
    let conditions = list(obj, &["status", "conditions"]);
    let status = if first_condition_true(conditions, "Complete") {
        "Complete"
    } else if first_condition_true(conditions, "Failed") {
        "Failed"
    } else if is_set(obj, &["metadata", "deletionTimestamp"]) {
        "Terminating"
    } else if first_condition_true(conditions, "Suspended") {
        "Suspended"
    } else if first_condition_true(conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (containers, images) = container_cells(obj);
    vec![
        name(obj).into(),
        status.into(),
        completions.into(),
        duration.into(),
        age(obj, now).into(),
        containers.into(),
        images.into(),
        format_label_selector(field(obj, &["spec", "selector"])).into(),
    ]
}

fn service_row(svc: &Value, now: Timestamp) -> Vec<Value> {
    // kube-apiserver's strategy keeps clusterIP and clusterIPs in step, so it
    // only ever reads clusterIPs. A service stored with clusterIP alone still
    // shows that address here instead of <none>.
    let cluster_ip = match list(svc, &["spec", "clusterIPs"]).first() {
        Some(first) => first.as_str().unwrap_or(""),
        None => match text(svc, &["spec", "clusterIP"]) {
            "" => "<none>",
            ip => ip,
        },
    };
    let ports: Vec<String> = list(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = int(p, &["port"]);
            let node_port = int(p, &["nodePort"]);
            let protocol = text(p, &["protocol"]);
            if node_port > 0 {
                format!("{port}:{node_port}/{protocol}")
            } else {
                format!("{port}/{protocol}")
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    };
    vec![
        name(svc).into(),
        text(svc, &["spec", "type"]).into(),
        cluster_ip.into(),
        service_external_ip(svc).into(),
        ports.into(),
        age(svc, now).into(),
        format_labels(map(svc, &["spec", "selector"])).into(),
    ]
}

/// The External-IP cell. The load-balancer part is never shortened: the
/// server always renders the wide form.
fn service_external_ip(svc: &Value) -> String {
    let external_ips: Vec<&str> = strings(list(svc, &["spec", "externalIPs"]));
    match text(svc, &["spec", "type"]) {
        "ClusterIP" | "NodePort" if external_ips.is_empty() => "<none>".to_string(),
        "ClusterIP" | "NodePort" => external_ips.join(","),
        "LoadBalancer" => {
            // Each ingress point contributes its IP, or its hostname when it
            // has no IP; duplicates collapse and the result is sorted.
            let ingress: BTreeSet<&str> = list(svc, &["status", "loadBalancer", "ingress"])
                .iter()
                .map(|i| match text(i, &["ip"]) {
                    "" => text(i, &["hostname"]),
                    ip => ip,
                })
                .filter(|s| !s.is_empty())
                .collect();
            if ingress.is_empty() && external_ips.is_empty() {
                "<pending>".to_string()
            } else {
                let all: Vec<&str> = ingress.into_iter().chain(external_ips).collect();
                all.join(",")
            }
        }
        "ExternalName" => text(svc, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

fn config_map_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let keys = map_len(obj, &["data"]) + map_len(obj, &["binaryData"]);
    vec![name(obj).into(), keys.into(), age(obj, now).into()]
}

fn secret_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name(obj).into(),
        text(obj, &["type"]).into(),
        map_len(obj, &["data"]).into(),
        age(obj, now).into(),
    ]
}

fn namespace_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name(obj).into(),
        text(obj, &["status", "phase"]).into(),
        age(obj, now).into(),
    ]
}

fn node_row(node: &Value, now: Timestamp) -> Vec<Value> {
    // Only the Ready condition feeds the status; when it appears twice the
    // last one counts, as in the map upstream builds.
    let ready = list(node, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| text(c, &["type"]) == "Ready");
    let mut status = match ready {
        Some(c) if text(c, &["status"]) == "True" => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if flag(node, &["spec", "unschedulable"]) {
        status.push_str(",SchedulingDisabled");
    }

    // Roles come from `node-role.kubernetes.io/<role>` label keys and from the
    // value of the older `kubernetes.io/role` label.
    let roles: BTreeSet<&str> = map(node, &["metadata", "labels"])
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                (!role.is_empty()).then_some(role)
            } else if key == "kubernetes.io/role" {
                value.as_str().filter(|v| !v.is_empty())
            } else {
                None
            }
        })
        .collect();
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    };

    let address = |kind: &str| {
        list(node, &["status", "addresses"])
            .iter()
            .find(|a| text(a, &["type"]) == kind)
            .map_or("<none>", |a| text(a, &["address"]))
    };
    let info = |key: &str| match text(node, &["status", "nodeInfo", key]) {
        "" => "<unknown>",
        value => value,
    };
    vec![
        name(node).into(),
        status.into(),
        roles.into(),
        age(node, now).into(),
        text(node, &["status", "nodeInfo", "kubeletVersion"]).into(),
        address("InternalIP").into(),
        address("ExternalIP").into(),
        info("osImage").into(),
        info("kernelVersion").into(),
        info("containerRuntimeVersion").into(),
    ]
}

/// Where an Event keeps each field, which differs between core/v1 and
/// events.k8s.io (the latter renamed or deprecated most of them).
struct EventFields {
    regarding: &'static str,
    message: &'static str,
    source: &'static str,
    first_seen: &'static str,
    last_seen: &'static str,
    count: &'static str,
    reporting_controller: &'static str,
}

const CORE_EVENT_FIELDS: EventFields = EventFields {
    regarding: "involvedObject",
    message: "message",
    source: "source",
    first_seen: "firstTimestamp",
    last_seen: "lastTimestamp",
    count: "count",
    reporting_controller: "reportingComponent",
};

const EVENTS_API_FIELDS: EventFields = EventFields {
    regarding: "regarding",
    message: "note",
    source: "deprecatedSource",
    first_seen: "deprecatedFirstTimestamp",
    last_seen: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    reporting_controller: "reportingController",
};

fn core_event_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    event_row(obj, now, &CORE_EVENT_FIELDS)
}

fn events_api_event_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    event_row(obj, now, &EVENTS_API_FIELDS)
}

/// The event row. Events written through the newer API carry `eventTime`
/// and `series` instead of the first/last timestamps and count, so each cell
/// falls back to those.
fn event_row(obj: &Value, now: Timestamp, f: &EventFields) -> Vec<Value> {
    let first_seen = match time(obj, &[f.first_seen]) {
        Some(at) => since(Some(at), now),
        None => since(time(obj, &["eventTime"]), now),
    };
    let mut last_seen = match time(obj, &[f.last_seen]) {
        Some(at) => since(Some(at), now),
        None => first_seen.clone(),
    };
    let count = match nested(obj, &["series"]) {
        Some(series) => {
            last_seen = since(time(series, &["lastObservedTime"]), now);
            int(series, &["count"])
        }
        // A one-off event from the newer API has no count at all.
        None => match int(obj, &[f.count]) {
            0 => 1,
            n => n,
        },
    };

    let kind = text(obj, &[f.regarding, "kind"]).to_lowercase();
    let target = match text(obj, &[f.regarding, "name"]) {
        "" => kind,
        regarding => format!("{kind}/{regarding}"),
    };
    let component = first_non_empty(
        text(obj, &[f.source, "component"]),
        text(obj, &[f.reporting_controller]),
    );
    let host = first_non_empty(
        text(obj, &[f.source, "host"]),
        text(obj, &["reportingInstance"]),
    );
    let source = if host.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {host}")
    };

    vec![
        last_seen.into(),
        text(obj, &["type"]).into(),
        text(obj, &["reason"]).into(),
        target.into(),
        text(obj, &[f.regarding, "fieldPath"]).into(),
        source.into(),
        text(obj, &[f.message]).trim().into(),
        first_seen.into(),
        count.into(),
        name(obj).into(),
    ]
}

fn service_account_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name(obj).into(),
        list(obj, &["secrets"]).len().into(),
        age(obj, now).into(),
    ]
}

fn lease_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name(obj).into(),
        text(obj, &["spec", "holderIdentity"]).into(),
        age(obj, now).into(),
    ]
}

// ---------------------------------------------------------------------------
// Reading JSON with Go's zero values

/// The value at `path` through nested objects; None when a step is missing or
/// is not an object.
fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(v, |cur, key| cur.as_object()?.get(*key))
}

/// The value at `path` when it is an object: a non-nil struct pointer in Go.
fn nested<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    field(v, path).filter(|x| x.is_object())
}

/// A string field; "" when absent or not a string.
fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    field(v, path).and_then(Value::as_str).unwrap_or("")
}

/// An int32 field (all the counters printed here are); None when absent, not
/// an integer, or out of range (Go would refuse to decode those).
fn int32(v: &Value, path: &[&str]) -> Option<i64> {
    field(v, path)
        .and_then(Value::as_i64)
        .filter(|n| i32::try_from(*n).is_ok())
}

/// An int32 field read with its zero value.
fn int(v: &Value, path: &[&str]) -> i64 {
    int32(v, path).unwrap_or(0)
}

/// A boolean field; false when absent or not a boolean.
fn flag(v: &Value, path: &[&str]) -> bool {
    field(v, path).and_then(Value::as_bool).unwrap_or(false)
}

/// A list field; empty when absent or not a list.
fn list<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    field(v, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A map field, when it is an object.
fn map<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    field(v, path).and_then(Value::as_object)
}

/// The number of keys of a map field; 0 when absent or not an object.
fn map_len(v: &Value, path: &[&str]) -> usize {
    map(v, path).map_or(0, Map::len)
}

/// The string items of a list (other items read as "").
fn strings(items: &[Value]) -> Vec<&str> {
    items.iter().map(|v| v.as_str().unwrap_or("")).collect()
}

fn name(obj: &Value) -> &str {
    text(obj, &["metadata", "name"])
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "<none>" } else { s }
}

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

/// True when the first condition of that type has status True (how upstream
/// reads job conditions and the pod's Initialized condition).
fn first_condition_true(conditions: &[Value], kind: &str) -> bool {
    conditions
        .iter()
        .find(|c| text(c, &["type"]) == kind)
        .is_some_and(|c| text(c, &["status"]) == "True")
}

/// True when any condition of that type has status True (the pod Ready check).
fn any_condition_true(conditions: &[Value], kind: &str) -> bool {
    conditions
        .iter()
        .any(|c| text(c, &["type"]) == kind && text(c, &["status"]) == "True")
}

/// Names and images of the pod template's containers, each comma separated.
fn container_cells(obj: &Value) -> (String, String) {
    let containers = list(obj, &["spec", "template", "spec", "containers"]);
    let join = |key: &str| {
        containers
            .iter()
            .map(|c| text(c, &[key]))
            .collect::<Vec<_>>()
            .join(",")
    };
    (join("name"), join("image"))
}

// ---------------------------------------------------------------------------
// Time

/// Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z) since the epoch.
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

/// A timestamp field that parses (a non-nil time pointer in Go). jiff's range
/// stops a day short of Go's at the end of year 9999; the few instants past it
/// read as unset.
fn parsed(v: &Value, path: &[&str]) -> Option<Timestamp> {
    field(v, path)?.as_str()?.parse().ok()
}

/// Whether a pointer timestamp such as deletionTimestamp is set.
fn is_set(v: &Value, path: &[&str]) -> bool {
    parsed(v, path).is_some()
}

/// A timestamp field held by value in Go: absent, unparseable and Go's zero
/// time all read as None.
fn time(v: &Value, path: &[&str]) -> Option<Timestamp> {
    parsed(v, path)
        .filter(|t| !(t.as_second() == GO_ZERO_TIME_SECONDS && t.subsec_nanosecond() == 0))
}

/// Age since the object's creation.
fn age(obj: &Value, now: Timestamp) -> String {
    since(time(obj, &["metadata", "creationTimestamp"]), now)
}

/// Human time since `at`, or `<unknown>` when it was never set.
fn since(at: Option<Timestamp>, now: Timestamp) -> String {
    match at {
        Some(at) => human_nanos(nanos_between(at, now)),
        None => "<unknown>".to_string(),
    }
}

/// `to - from` in nanoseconds, saturating like Go's `Time.Sub`.
fn nanos_between(from: Timestamp, to: Timestamp) -> i64 {
    let d = to.as_nanosecond() - from.as_nanosecond();
    i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
}

/// HumanDuration on a signed nanosecond count (a Go `time.Duration`).
///
/// Precision shrinks as durations grow: seconds up to two minutes, minutes
/// and seconds up to ten minutes, minutes up to three hours, hours and minutes
/// up to eight hours, hours up to two days, days and hours up to eight days,
/// days up to two years, years and days up to eight years, then years. A
/// duration up to two seconds negative is clock skew and reads "0s"; anything
/// more negative is "<invalid>".
fn human_nanos(d: i64) -> String {
    const SECOND: i64 = 1_000_000_000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;
    let seconds = d / SECOND;
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 2 * 60 {
        return format!("{seconds}s");
    }
    let minutes = d / MINUTE;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 3 * 60 {
        return format!("{minutes}m");
    }
    let hours = d / HOUR;
    let days = hours / 24;
    let years = days / 365;
    if hours < 8 {
        match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        }
    } else if hours < 24 * 365 * 2 {
        format!("{days}d")
    } else if hours < 24 * 365 * 8 {
        match days % 365 {
            0 => format!("{years}y"),
            dy => format!("{years}y{dy}d"),
        }
    } else {
        format!("{years}y")
    }
}

/// Go's `Time.UTC().Format(time.RFC3339)`: whole seconds, `Z`; an unset
/// time prints as Go's zero time.
fn rfc3339_utc(at: Option<Timestamp>) -> String {
    let Some(at) = at else {
        return "0001-01-01T00:00:00Z".to_string();
    };
    let dt = jiff::tz::Offset::UTC.to_datetime(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

// ---------------------------------------------------------------------------
// Labels and selectors

/// A label map as `k=v` pairs, comma separated, or `<none>`. The pairs are
/// sorted as whole strings (so `a.b=1` comes before `a=2`), as upstream does.
fn format_labels(labels: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    if pairs.is_empty() {
        return "<none>".to_string();
    }
    pairs.sort();
    pairs.join(",")
}

/// A label selector for the wide Selector column of most workloads: `<none>`
/// when it is empty, `<error>` when it is not a valid selector.
fn format_label_selector(selector: Option<&Value>) -> String {
    match selector_string(selector) {
        None => "<error>".to_string(),
        Some(s) if s.is_empty() => "<none>".to_string(),
        Some(s) => s,
    }
}

/// A `metav1.LabelSelector` in selector syntax (`a=b,c in (d,e),!f`), or None
/// when upstream's conversion to a selector would fail: unknown operator,
/// wrong number of values, or a key or value that is not a valid label.
/// Requirements are ordered by key; set values are sorted. A missing selector
/// and an empty one both render as "".
fn selector_string(selector: Option<&Value>) -> Option<String> {
    let Some(selector) = selector.filter(|s| s.is_object()) else {
        return Some(String::new());
    };
    let mut requirements: Vec<(&str, String)> = Vec::new();
    for (key, value) in map(selector, &["matchLabels"]).into_iter().flatten() {
        let value = value.as_str().unwrap_or("");
        if !is_label_key(key) || !is_label_value(value) {
            return None;
        }
        requirements.push((key, format!("{key}={value}")));
    }
    for expr in list(selector, &["matchExpressions"]) {
        let key = text(expr, &["key"]);
        let mut values = strings(list(expr, &["values"]));
        if !is_label_key(key) || !values.iter().all(|v| is_label_value(v)) {
            return None;
        }
        values.sort_unstable();
        let rendered = match (text(expr, &["operator"]), values.is_empty()) {
            ("In", false) => format!("{key} in ({})", values.join(",")),
            ("NotIn", false) => format!("{key} notin ({})", values.join(",")),
            ("Exists", true) => key.to_string(),
            ("DoesNotExist", true) => format!("!{key}"),
            _ => return None,
        };
        requirements.push((key, rendered));
    }
    // Stable, so a key used twice keeps matchLabels before matchExpressions.
    requirements.sort_by(|a, b| a.0.cmp(b.0));
    let rendered: Vec<String> = requirements.into_iter().map(|(_, r)| r).collect();
    Some(rendered.join(","))
}

/// A qualified name: optional DNS-subdomain prefix and `/`, then a name part of
/// 1..=63 characters.
fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(is_dns_subdomain);
    prefix_ok && !name.is_empty() && is_label_value(name)
}

/// A label value: empty, or up to 63 alphanumerics, `-`, `_` and `.`,
/// beginning and ending with an alphanumeric.
fn is_label_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (None, _) | (_, None) => true,
        (Some(first), Some(last)) => {
            bytes.len() <= 63
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
    }
}

/// A DNS-1123 subdomain: up to 253 characters of dot-separated lowercase
/// labels, each starting and ending with an alphanumeric.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let bytes = label.as_bytes();
            let edge =
                |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            edge(bytes.first())
                && edge(bytes.last())
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The server clock every test uses.
    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    /// The RFC 3339 timestamp `secs` seconds before [`now`].
    fn ago(secs: i64) -> String {
        (now() - jiff::SignedDuration::from_secs(secs)).to_string()
    }

    /// The row a printer builds for `obj`, as one JSON array.
    fn row(printer: &Printer, obj: &Value) -> Value {
        let cells = (printer.row)(obj, now());
        assert_eq!(
            cells.len(),
            printer.columns.len(),
            "cell count differs from column count for {obj}"
        );
        Value::Array(cells)
    }

    /// Cells 1..=3 of a row (READY/STATUS/RESTARTS for pods).
    fn cells_1_to_3(printer: &Printer, obj: &Value) -> Value {
        Value::Array(row(printer, obj).as_array().unwrap()[1..4].to_vec())
    }

    fn printer(group: &str, kind: &str) -> &'static Printer {
        printer_for(group, kind).unwrap()
    }

    /// Every printer this module has, with a label for failure messages.
    fn all_printers() -> Vec<(&'static str, &'static Printer)> {
        vec![
            ("Pod", printer("", "Pod")),
            ("Service", printer("", "Service")),
            ("ConfigMap", printer("", "ConfigMap")),
            ("Secret", printer("", "Secret")),
            ("Namespace", printer("", "Namespace")),
            ("Node", printer("", "Node")),
            ("Event", printer("", "Event")),
            ("events.k8s.io Event", printer("events.k8s.io", "Event")),
            ("ServiceAccount", printer("", "ServiceAccount")),
            ("Deployment", printer("apps", "Deployment")),
            ("ReplicaSet", printer("apps", "ReplicaSet")),
            ("Job", printer("batch", "Job")),
            ("Lease", printer("coordination.k8s.io", "Lease")),
            ("default", default_printer()),
        ]
    }

    /// A column layout as (name, type, format, priority) tuples.
    type Layout = Vec<(&'static str, &'static str, &'static str, i32)>;

    fn names(printer: &'static Printer) -> Layout {
        printer
            .columns
            .iter()
            .map(|c| (c.name, c.type_, c.format, c.priority))
            .collect()
    }

    #[test]
    fn human_duration_boundaries() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),                        // nothing elapsed
            (59, "59s"),                      // seconds...
            (119, "119s"),                    // ...up to two minutes
            (120, "2m"),                      // whole minutes drop the seconds
            (121, "2m1s"),                    // minutes and seconds below ten minutes
            (599, "9m59s"),                   // last minute-and-seconds value
            (600, "10m"),                     // minutes only from ten minutes
            (3 * 3600 - 1, "179m"),           // still minutes just below three hours
            (3 * 3600, "3h"),                 // whole hours drop the minutes
            (3 * 3600 + 5 * 60 + 9, "3h5m"),  // hours and minutes, seconds dropped
            (8 * 3600 - 1, "7h59m"),          // last hours-and-minutes value
            (8 * 3600, "8h"),                 // hours only from eight hours
            (48 * 3600 - 1, "47h"),           // still hours just below two days
            (48 * 3600, "2d"),                // whole days drop the hours
            (49 * 3600, "2d1h"),              // days and hours below eight days
            (8 * 86_400 - 1, "7d23h"),        // last days-and-hours value
            (8 * 86_400, "8d"),               // days only from eight days
            (730 * 86_400 - 1, "729d"),       // still days just below two years
            (730 * 86_400, "2y"),             // whole years drop the days
            (731 * 86_400, "2y1d"),           // years and days below eight years
            (8 * 365 * 86_400 - 1, "7y364d"), // last years-and-days value
            (8 * 365 * 86_400, "8y"),         // years only from eight years
            (400 * 365 * 86_400, "292y"),     // saturates like Go's Duration
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(Duration::from_secs(*secs)), *want, "{secs}s");
        }
    }

    #[test]
    fn human_duration_of_negative_spans() {
        let cases: &[(i64, &str)] = &[
            (-500_000_000, "0s"),          // half a second of skew
            (-1_999_999_999, "0s"),        // just under two seconds of skew
            (-2_000_000_000, "<invalid>"), // two seconds in the future is invalid
            (1_999_999_999, "1s"),         // fractions of a second are dropped
        ];
        for (nanos, want) in cases {
            assert_eq!(human_nanos(*nanos), *want, "{nanos}ns");
        }
    }

    #[test]
    fn printer_lookup() {
        let cases: &[(&str, &str, bool)] = &[
            ("", "Pod", true),                      // core kinds use the empty group
            ("apps", "Deployment", true),           // apps kinds
            ("batch", "Job", true),                 // batch
            ("coordination.k8s.io", "Lease", true), // coordination
            ("events.k8s.io", "Event", true),       // the newer events API
            ("", "Deployment", false),              // right kind, wrong group
            ("apps", "StatefulSet", false),         // kinds without a printer use the default
            ("", "pod", false),                     // kinds are case-sensitive
        ];
        for (group, kind, found) in cases {
            assert_eq!(printer_for(group, kind).is_some(), *found, "{group}/{kind}");
        }
    }

    #[test]
    fn column_layouts() {
        let s = "string";
        let cases: Vec<(&'static Printer, Layout)> = vec![
            // pods: wide columns after Age
            (
                printer("", "Pod"),
                vec![
                    ("Name", s, "name", 0),
                    ("Ready", s, "", 0),
                    ("Status", s, "", 0),
                    ("Restarts", s, "", 0),
                    ("Age", s, "", 0),
                    ("IP", s, "", 1),
                    ("Node", s, "", 1),
                    ("Nominated Node", s, "", 1),
                    ("Readiness Gates", s, "", 1),
                ],
            ),
            // replica sets count with integer columns
            (
                printer("apps", "ReplicaSet"),
                vec![
                    ("Name", s, "name", 0),
                    ("Desired", "integer", "", 0),
                    ("Current", "integer", "", 0),
                    ("Ready", "integer", "", 0),
                    ("Age", s, "", 0),
                    ("Containers", s, "", 1),
                    ("Images", s, "", 1),
                    ("Selector", s, "", 1),
                ],
            ),
            // events lead with Last Seen and keep Name for the wide view
            (
                printer("", "Event"),
                vec![
                    ("Last Seen", s, "", 0),
                    ("Type", s, "", 0),
                    ("Reason", s, "", 0),
                    ("Object", s, "", 0),
                    ("Subobject", s, "", 1),
                    ("Source", s, "", 1),
                    ("Message", s, "", 0),
                    ("First Seen", s, "", 1),
                    ("Count", s, "", 1),
                    ("Name", s, "name", 1),
                ],
            ),
            // the default layout has a date column
            (
                default_printer(),
                vec![("Name", s, "name", 0), ("Created At", "date", "", 0)],
            ),
        ];
        for (printer, want) in cases {
            assert_eq!(names(printer), want);
        }
        for (label, printer) in all_printers() {
            for c in printer.columns {
                assert!(
                    !c.description.is_empty(),
                    "{label} {} has no description",
                    c.name
                );
            }
        }
    }

    /// A pod with one regular container in the given status.
    fn pod_with(phase: &str, status: Value) -> Value {
        json!({
            "metadata": {"name": "p", "creationTimestamp": ago(3600)},
            "spec": {"containers": [{"name": "app"}]},
            "status": {"phase": phase, "containerStatuses": [status]},
        })
    }

    #[test]
    fn pod_ready_status_restarts() {
        let running = json!({"name": "app", "ready": true, "state": {"running": {}}});
        let crash = json!({
            "name": "app", "restartCount": 5,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(180)}},
        });
        let cases: Vec<(Value, [&str; 3])> = vec![
            // pending, nothing reported yet
            (
                json!({"spec": {"containers": [{}, {}]}, "status": {"phase": "Pending"}}),
                ["0/2", "Pending", "0"],
            ),
            // running and ready
            (
                pod_with("Running", running.clone()),
                ["1/1", "Running", "0"],
            ),
            // ran to completion
            (
                pod_with(
                    "Succeeded",
                    json!({"state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}),
                ),
                ["0/1", "Completed", "0"],
            ),
            // crash looping: waiting reason, restarts with how long ago
            (
                pod_with("Running", crash),
                ["0/1", "CrashLoopBackOff", "5 (3m ago)"],
            ),
            // restarts without a recorded stop time have no suffix
            (
                pod_with(
                    "Running",
                    json!({"restartCount": 2, "ready": true, "state": {"running": {}}}),
                ),
                ["1/1", "Running", "2"],
            ),
            // killed by a signal, no reason given
            (
                pod_with(
                    "Failed",
                    json!({"state": {"terminated": {"exitCode": 137, "signal": 9}}}),
                ),
                ["0/1", "Signal:9", "0"],
            ),
            // exited non-zero, no reason given
            (
                pod_with("Failed", json!({"state": {"terminated": {"exitCode": 2}}})),
                ["0/1", "ExitCode:2", "0"],
            ),
            // the pod's own reason replaces the phase
            (
                json!({"status": {"phase": "Failed", "reason": "Evicted"}}),
                ["0/0", "Evicted", "0"],
            ),
            // scheduling gates win over the phase
            (
                json!({"status": {"phase": "Pending", "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}}),
                ["0/0", "SchedulingGated", "0"],
            ),
        ];
        for (pod, want) in cases {
            assert_eq!(cells_1_to_3(printer("", "Pod"), &pod), json!(want), "{pod}");
        }
    }

    #[test]
    fn pod_status_completed_and_terminating() {
        let done =
            json!({"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}});
        let live = json!({"name": "b", "ready": true, "state": {"running": {}}});
        let two = |phase: &str, conditions: Value, meta: Value| {
            json!({
                "metadata": meta,
                "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
                "status": {"phase": phase, "conditions": conditions,
                           "containerStatuses": [live.clone(), done.clone()]},
            })
        };
        let deleting = json!({"deletionTimestamp": ago(10)});
        let cases: Vec<(Value, &str)> = vec![
            // one container done, one still running, pod Ready: Running
            (
                two(
                    "Running",
                    json!([{"type": "Ready", "status": "True"}]),
                    json!({}),
                ),
                "Running",
            ),
            // same but the pod is not Ready: NotReady
            (
                two(
                    "Running",
                    json!([{"type": "Ready", "status": "False"}]),
                    json!({}),
                ),
                "NotReady",
            ),
            // a running pod being deleted
            (two("Running", json!([]), deleting.clone()), "Terminating"),
            // a finished pod being deleted keeps its final status
            (
                json!({"metadata": deleting.clone(), "status": {"phase": "Succeeded",
                       "containerStatuses": [done.clone()]}}),
                "Completed",
            ),
            // a pod whose node was lost reads Unknown while being deleted
            (
                json!({"metadata": deleting.clone(), "status": {"phase": "Running", "reason": "NodeLost"}}),
                "Unknown",
            ),
            // NodeLost without deletion keeps the reason
            (
                json!({"status": {"phase": "Running", "reason": "NodeLost"}}),
                "NodeLost",
            ),
        ];
        for (pod, want) in cases {
            assert_eq!(row(printer("", "Pod"), &pod)[2], json!(want), "{pod}");
        }
    }

    #[test]
    fn pod_init_containers() {
        let init_pod = |specs: Value, statuses: Value, conditions: Value| {
            json!({
                "spec": {"initContainers": specs, "containers": [{"name": "app"}]},
                "status": {"phase": "Pending", "conditions": conditions,
                           "initContainerStatuses": statuses,
                           "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "PodInitializing"}}}]},
            })
        };
        let two = json!([{"name": "one"}, {"name": "two"}]);
        let ok = json!({"name": "one", "state": {"terminated": {"exitCode": 0}}});
        let cases: Vec<(Value, [&str; 3])> = vec![
            // first done, second running: position of the pending one
            (
                init_pod(
                    two.clone(),
                    json!([ok.clone(), {"name": "two", "state": {"running": {}}}]),
                    json!([]),
                ),
                ["0/1", "Init:1/2", "0"],
            ),
            // an init container stuck pulling its image
            (
                init_pod(
                    two.clone(),
                    json!([{"name": "one", "state": {"waiting": {"reason": "ErrImagePull"}}}]),
                    json!([]),
                ),
                ["0/1", "Init:ErrImagePull", "0"],
            ),
            // waiting with PodInitializing only shows the position
            (
                init_pod(
                    two.clone(),
                    json!([{"name": "one", "state": {"waiting": {"reason": "PodInitializing"}}}]),
                    json!([]),
                ),
                ["0/1", "Init:0/2", "0"],
            ),
            // failed with a reason
            (
                init_pod(
                    two.clone(),
                    json!([{"name": "one", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]),
                    json!([]),
                ),
                ["0/1", "Init:Error", "0"],
            ),
            // failed without a reason
            (
                init_pod(
                    two.clone(),
                    json!([{"name": "one", "state": {"terminated": {"exitCode": 3}}}]),
                    json!([]),
                ),
                ["0/1", "Init:ExitCode:3", "0"],
            ),
            // killed without a reason
            (
                init_pod(
                    two.clone(),
                    json!([{"name": "one", "state": {"terminated": {"exitCode": 1, "signal": 15}}}]),
                    json!([]),
                ),
                ["0/1", "Init:Signal:15", "0"],
            ),
            // crash-looping init container: its restarts count while initializing
            (
                init_pod(
                    two.clone(),
                    json!([{"name": "one", "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(90)}}}]),
                    json!([]),
                ),
                ["0/1", "Init:CrashLoopBackOff", "3 (90s ago)"],
            ),
            // all init done: the regular container decides
            (
                init_pod(json!([{"name": "one"}]), json!([ok.clone()]), json!([])),
                ["0/1", "PodInitializing", "0"],
            ),
        ];
        for (pod, want) in cases {
            assert_eq!(cells_1_to_3(printer("", "Pod"), &pod), json!(want), "{pod}");
        }
    }

    #[test]
    fn pod_sidecars() {
        let sidecar_pod = |sidecar: Value, conditions: Value| {
            json!({
                "spec": {
                    "initContainers": [{"name": "init"}, {"name": "proxy", "restartPolicy": "Always"}],
                    "containers": [{"name": "app"}],
                },
                "status": {"phase": "Running", "conditions": conditions,
                    "initContainerStatuses": [
                        {"name": "init", "restartCount": 4, "state": {"terminated": {"exitCode": 0}},
                         "lastState": {"terminated": {"finishedAt": ago(7200)}}},
                        sidecar,
                    ],
                    "containerStatuses": [{"name": "app", "ready": true, "restartCount": 1,
                        "state": {"running": {}},
                        "lastState": {"terminated": {"finishedAt": ago(1200)}}}]},
            })
        };
        let started = json!({"name": "proxy", "started": true, "ready": true, "restartCount": 2,
            "state": {"running": {}}, "lastState": {"terminated": {"finishedAt": ago(600)}}});
        let starting = json!({"name": "proxy", "started": false, "state": {"running": {}}});
        let initialized = json!([{"type": "Initialized", "status": "True"}]);
        let cases: Vec<(Value, [&str; 3])> = vec![
            // ready sidecar counts toward READY; finished init restarts do not count
            (
                sidecar_pod(started.clone(), json!([])),
                ["2/2", "Running", "3 (10m ago)"],
            ),
            // a sidecar that has not started yet holds initialization
            (
                sidecar_pod(starting.clone(), json!([])),
                ["0/2", "Init:1/2", "4 (120m ago)"],
            ),
            // ...unless the pod already reports Initialized
            // (the status keeps the init position: no regular container overrides it)
            (
                sidecar_pod(starting, initialized),
                ["1/2", "Init:1/2", "1 (20m ago)"],
            ),
        ];
        for (pod, want) in cases {
            assert_eq!(cells_1_to_3(printer("", "Pod"), &pod), json!(want), "{pod}");
        }
    }

    #[test]
    fn pod_full_rows() {
        let cases: Vec<(Value, Value)> = vec![
            // the empty object prints Go's zero values
            (
                json!({}),
                json!([
                    "",
                    "0/0",
                    "",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>"
                ]),
            ),
            // wide columns: first pod IP, node, nominated node, readiness gates
            (
                json!({
                    "metadata": {"name": "web", "creationTimestamp": ago(300)},
                    "spec": {"nodeName": "n1", "containers": [{}],
                             "readinessGates": [{"conditionType": "a"}, {"conditionType": "b"}]},
                    "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}],
                               "nominatedNodeName": "n2",
                               "conditions": [{"type": "a", "status": "True"}, {"type": "b", "status": "False"}]},
                }),
                json!([
                    "web", "0/1", "Running", "0", "5m", "10.0.0.5", "n1", "n2", "1/2"
                ]),
            ),
            // podIP alone is used when podIPs is missing
            (
                json!({"status": {"podIP": "10.0.0.7"}}),
                json!([
                    "",
                    "0/0",
                    "",
                    "0",
                    "<unknown>",
                    "10.0.0.7",
                    "<none>",
                    "<none>",
                    "<none>"
                ]),
            ),
        ];
        for (pod, want) in cases {
            assert_eq!(row(printer("", "Pod"), &pod), want, "{pod}");
        }
    }

    #[test]
    fn service_rows() {
        let svc = |spec: Value, status: Value| json!({"metadata": {"name": "s", "creationTimestamp": ago(60)}, "spec": spec, "status": status});
        let tcp80 = json!([{"port": 80, "protocol": "TCP"}]);
        let cases: Vec<(Value, [&str; 3], &str)> = vec![
            // plain ClusterIP service
            (
                svc(
                    json!({"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                           "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                           "selector": {"k8s-app": "dns"}}),
                    json!({}),
                ),
                ["10.96.0.10", "<none>", "53/UDP,53/TCP"],
                "k8s-app=dns",
            ),
            // headless service with no ports
            (
                svc(
                    json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]}),
                    json!({}),
                ),
                ["None", "<none>", "<none>"],
                "<none>",
            ),
            // ClusterIP with external IPs
            (
                svc(
                    json!({"type": "ClusterIP", "clusterIPs": ["10.0.0.1"], "externalIPs": ["1.1.1.1", "2.2.2.2"],
                           "ports": tcp80}),
                    json!({}),
                ),
                ["10.0.0.1", "1.1.1.1,2.2.2.2", "80/TCP"],
                "<none>",
            ),
            // NodePort shows the node port
            (
                svc(
                    json!({"type": "NodePort", "clusterIPs": ["10.0.0.2"],
                           "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}),
                    json!({}),
                ),
                ["10.0.0.2", "<none>", "80:30080/TCP"],
                "<none>",
            ),
            // LoadBalancer without ingress yet
            (
                svc(
                    json!({"type": "LoadBalancer", "clusterIPs": ["10.0.0.3"], "ports": tcp80}),
                    json!({}),
                ),
                ["10.0.0.3", "<pending>", "80/TCP"],
                "<none>",
            ),
            // LoadBalancer ingress: IP or hostname, de-duplicated, sorted, not shortened
            (
                svc(
                    json!({"type": "LoadBalancer", "clusterIPs": ["10.0.0.4"], "ports": tcp80}),
                    json!({"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "a-very-long-name.example.com"},
                                                        {"ip": "5.6.7.8"}, {"ip": "1.2.3.4", "hostname": "ignored"}]}}),
                ),
                [
                    "10.0.0.4",
                    "1.2.3.4,5.6.7.8,a-very-long-name.example.com",
                    "80/TCP",
                ],
                "<none>",
            ),
            // LoadBalancer ingress followed by external IPs
            (
                svc(
                    json!({"type": "LoadBalancer", "clusterIPs": ["10.0.0.5"], "externalIPs": ["9.9.9.9"]}),
                    json!({"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}]}}),
                ),
                ["10.0.0.5", "5.6.7.8,9.9.9.9", "<none>"],
                "<none>",
            ),
            // ExternalName prints the name it points to
            (
                svc(
                    json!({"type": "ExternalName", "externalName": "db.example.com"}),
                    json!({}),
                ),
                ["<none>", "db.example.com", "<none>"],
                "<none>",
            ),
            // an unknown type
            (
                svc(json!({"clusterIP": "10.0.0.6"}), json!({})),
                ["10.0.0.6", "<unknown>", "<none>"],
                "<none>",
            ),
        ];
        for (obj, [cluster_ip, external_ip, ports], selector) in cases {
            let cells = row(printer("", "Service"), &obj);
            let want = json!([
                "s",
                obj["spec"]["type"].as_str().unwrap_or(""),
                cluster_ip,
                external_ip,
                ports,
                "60s",
                selector
            ]);
            assert_eq!(cells, want, "{obj}");
        }
    }

    #[test]
    fn deployment_rows() {
        let deploy = |selector: Value| {
            json!({
                "metadata": {"name": "web", "creationTimestamp": ago(2 * 86_400 + 3600)},
                "spec": {"replicas": 3, "selector": selector, "template": {"spec": {"containers": [
                    {"name": "nginx", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]}}},
                "status": {"replicas": 3, "updatedReplicas": 2, "readyReplicas": 1, "availableReplicas": 1},
            })
        };
        let cases: Vec<(Value, &str)> = vec![
            // matchLabels only
            (json!({"matchLabels": {"app": "web"}}), "app=web"),
            // expressions sorted by key, set values sorted
            (
                json!({"matchLabels": {"tier": "fe"}, "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                    {"key": "zone", "operator": "DoesNotExist"},
                    {"key": "canary", "operator": "NotIn", "values": ["yes"]},
                    {"key": "app", "operator": "Exists"}]}),
                "app,canary notin (yes),env in (dev,prod),tier=fe,!zone",
            ),
            // an empty selector prints nothing for deployments
            (json!({}), ""),
            // an unknown operator
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}),
                "<invalid>",
            ),
            // In without values
            (
                json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
                "<invalid>",
            ),
            // a key that is not a label key
            (json!({"matchLabels": {"bad key": "x"}}), "<invalid>"),
        ];
        for (selector, want) in cases {
            let want = json!([
                "web",
                "1/3",
                2,
                1,
                "2d1h",
                "nginx,log",
                "nginx:1.27,busybox",
                want
            ]);
            assert_eq!(row(printer("apps", "Deployment"), &deploy(selector)), want);
        }
    }

    #[test]
    fn replica_set_rows() {
        let cases: Vec<(Value, Value)> = vec![
            // counts as integers, selector in wide view
            (
                json!({"metadata": {"name": "web-5d8"}, "spec": {"replicas": 2,
                       "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d8"}},
                       "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
                       "status": {"replicas": 2, "readyReplicas": 1}}),
                json!([
                    "web-5d8",
                    2,
                    2,
                    1,
                    "<unknown>",
                    "c",
                    "i",
                    "app=web,pod-template-hash=5d8"
                ]),
            ),
            // no selector: <none>
            (
                json!({}),
                json!(["", 0, 0, 0, "<unknown>", "", "", "<none>"]),
            ),
            // invalid selector: <error>
            (
                json!({"spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}}}),
                json!(["", 0, 0, 0, "<unknown>", "", "", "<error>"]),
            ),
        ];
        for (obj, want) in cases {
            assert_eq!(row(printer("apps", "ReplicaSet"), &obj), want, "{obj}");
        }
    }

    #[test]
    fn job_rows() {
        let job = |spec: Value, status: Value, meta: Value| json!({"metadata": meta, "spec": spec, "status": status});
        let cond = |t: &str, s: &str| json!({"type": t, "status": s});
        let cases: Vec<(Value, [&str; 3])> = vec![
            // running, fixed completions, duration so far
            (
                job(
                    json!({"completions": 3}),
                    json!({"succeeded": 1, "startTime": ago(125)}),
                    json!({}),
                ),
                ["Running", "1/3", "2m5s"],
            ),
            // complete: duration from start to completion
            (
                job(
                    json!({"completions": 1}),
                    json!({"succeeded": 1, "startTime": ago(100), "completionTime": ago(70),
                           "conditions": [cond("SuccessCriteriaMet", "True"), cond("Complete", "True")]}),
                    json!({}),
                ),
                ["Complete", "1/1", "30s"],
            ),
            // failed
            (
                job(
                    json!({}),
                    json!({"conditions": [cond("FailureTarget", "True"), cond("Failed", "True")]}),
                    json!({}),
                ),
                ["Failed", "0/1", ""],
            ),
            // a condition that is not True does not count
            (
                job(
                    json!({}),
                    json!({"conditions": [cond("Complete", "False")]}),
                    json!({}),
                ),
                ["Running", "0/1", ""],
            ),
            // being deleted
            (
                job(
                    json!({}),
                    json!({"conditions": [cond("Suspended", "True")]}),
                    json!({"deletionTimestamp": ago(1)}),
                ),
                ["Terminating", "0/1", ""],
            ),
            // suspended
            (
                job(
                    json!({}),
                    json!({"conditions": [cond("Suspended", "True")]}),
                    json!({}),
                ),
                ["Suspended", "0/1", ""],
            ),
            // about to fail
            (
                job(
                    json!({}),
                    json!({"conditions": [cond("FailureTarget", "True")]}),
                    json!({}),
                ),
                ["FailureTarget", "0/1", ""],
            ),
            // work queue: no completions, parallelism above one
            (
                job(
                    json!({"parallelism": 4}),
                    json!({"succeeded": 2}),
                    json!({}),
                ),
                ["Running", "2/1 of 4", ""],
            ),
            // no completions, parallelism one
            (
                job(json!({"parallelism": 1}), json!({}), json!({})),
                ["Running", "0/1", ""],
            ),
        ];
        for (obj, want) in cases {
            assert_eq!(
                cells_1_to_3(printer("batch", "Job"), &obj),
                json!(want),
                "{obj}"
            );
        }
    }

    #[test]
    fn event_rows() {
        let cases: Vec<(&Printer, Value, Value)> = vec![
            // a classic core event
            (
                printer("", "Event"),
                json!({
                    "metadata": {"name": "web.17a"},
                    "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{nginx}"},
                    "reason": "Pulled", "type": "Normal", "message": "  Pulled image \"nginx\"\n",
                    "source": {"component": "kubelet", "host": "node-1"},
                    "firstTimestamp": ago(600), "lastTimestamp": ago(60), "count": 3,
                }),
                json!([
                    "60s",
                    "Normal",
                    "Pulled",
                    "pod/web",
                    "spec.containers{nginx}",
                    "kubelet, node-1",
                    "Pulled image \"nginx\"",
                    "10m",
                    3,
                    "web.17a"
                ]),
            ),
            // a one-off event from the newer API: eventTime, no count, reporting fields
            (
                printer("", "Event"),
                json!({
                    "metadata": {"name": "e"}, "involvedObject": {"kind": "Node"},
                    "type": "Warning", "reason": "Rebooted", "eventTime": "2025-06-01T11:58:00.123456Z",
                    "reportingComponent": "kubelet", "reportingInstance": "node-2",
                }),
                json!([
                    "119s",
                    "Warning",
                    "Rebooted",
                    "node",
                    "",
                    "kubelet, node-2",
                    "",
                    "119s",
                    1,
                    "e"
                ]),
            ),
            // a recurring event: series supplies last seen and count
            (
                printer("", "Event"),
                json!({
                    "metadata": {"name": "e"}, "involvedObject": {"kind": "Deployment", "name": "web"},
                    "eventTime": ago(3600), "series": {"count": 7, "lastObservedTime": ago(30)},
                    "reportingComponent": "deployment-controller",
                }),
                json!([
                    "30s",
                    "",
                    "",
                    "deployment/web",
                    "",
                    "deployment-controller",
                    "",
                    "60m",
                    7,
                    "e"
                ]),
            ),
            // the events.k8s.io shape of the first event
            (
                printer("events.k8s.io", "Event"),
                json!({
                    "metadata": {"name": "web.17a"},
                    "regarding": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{nginx}"},
                    "reason": "Pulled", "type": "Normal", "note": "Pulled image",
                    "deprecatedSource": {"component": "kubelet", "host": "node-1"},
                    "deprecatedFirstTimestamp": ago(600), "deprecatedLastTimestamp": ago(60), "deprecatedCount": 3,
                }),
                json!([
                    "60s",
                    "Normal",
                    "Pulled",
                    "pod/web",
                    "spec.containers{nginx}",
                    "kubelet, node-1",
                    "Pulled image",
                    "10m",
                    3,
                    "web.17a"
                ]),
            ),
            // nothing set at all
            (
                printer("", "Event"),
                json!({}),
                json!(["<unknown>", "", "", "", "", "", "", "<unknown>", 1, ""]),
            ),
        ];
        for (printer, obj, want) in cases {
            assert_eq!(row(printer, &obj), want, "{obj}");
        }
    }

    #[test]
    fn node_rows() {
        let node = |labels: Value, unschedulable: bool, conditions: Value| {
            json!({
                "metadata": {"name": "n1", "labels": labels, "creationTimestamp": ago(10 * 86_400)},
                "spec": {"unschedulable": unschedulable},
                "status": {"conditions": conditions, "nodeInfo": {"kubeletVersion": "v1.33.1",
                    "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0", "containerRuntimeVersion": ""},
                    "addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "10.0.0.1"},
                                  {"type": "InternalIP", "address": "10.0.0.2"}]},
            })
        };
        let ready = json!([{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}]);
        let cases: Vec<(Value, [&str; 2])> = vec![
            // ready worker without role labels
            (node(json!({}), false, ready.clone()), ["Ready", "<none>"]),
            // cordoned node with roles from both label styles, sorted
            (
                node(
                    json!({"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master",
                            "node-role.kubernetes.io/": "x"}),
                    true,
                    ready.clone(),
                ),
                ["Ready,SchedulingDisabled", "control-plane,master"],
            ),
            // Ready condition not True
            (
                node(
                    json!({}),
                    false,
                    json!([{"type": "Ready", "status": "Unknown"}]),
                ),
                ["NotReady", "<none>"],
            ),
            // no Ready condition at all
            (node(json!({}), false, json!([])), ["Unknown", "<none>"]),
        ];
        for (obj, [status, roles]) in cases {
            let want = json!([
                "n1",
                status,
                roles,
                "10d",
                "v1.33.1",
                "10.0.0.1",
                "<none>",
                "Debian GNU/Linux 12",
                "6.1.0",
                "<unknown>"
            ]);
            assert_eq!(row(printer("", "Node"), &obj), want, "{obj}");
        }
    }

    #[test]
    fn small_kinds() {
        let meta = json!({"name": "x", "creationTimestamp": ago(45)});
        let cases: Vec<(&Printer, Value, Value)> = vec![
            // namespace phase
            (
                printer("", "Namespace"),
                json!({"metadata": meta, "status": {"phase": "Active"}}),
                json!(["x", "Active", "45s"]),
            ),
            // namespace being torn down
            (
                printer("", "Namespace"),
                json!({"metadata": meta, "status": {"phase": "Terminating"}}),
                json!(["x", "Terminating", "45s"]),
            ),
            // config map counts data and binaryData keys
            (
                printer("", "ConfigMap"),
                json!({"metadata": meta, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}),
                json!(["x", 3, "45s"]),
            ),
            // empty config map
            (
                printer("", "ConfigMap"),
                json!({"metadata": meta}),
                json!(["x", 0, "45s"]),
            ),
            // secret type and data keys
            (
                printer("", "Secret"),
                json!({"metadata": meta, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}),
                json!(["x", "kubernetes.io/tls", 2, "45s"]),
            ),
            // service account secret count
            (
                printer("", "ServiceAccount"),
                json!({"metadata": meta, "secrets": [{"name": "token"}]}),
                json!(["x", 1, "45s"]),
            ),
            // lease holder
            (
                printer("coordination.k8s.io", "Lease"),
                json!({"metadata": meta, "spec": {"holderIdentity": "kube-controller-manager_1234"}}),
                json!(["x", "kube-controller-manager_1234", "45s"]),
            ),
            // unheld lease
            (
                printer("coordination.k8s.io", "Lease"),
                json!({"metadata": meta, "spec": {"holderIdentity": null}}),
                json!(["x", "", "45s"]),
            ),
        ];
        for (printer, obj, want) in cases {
            assert_eq!(row(printer, &obj), want, "{obj}");
        }
    }

    #[test]
    fn default_rows() {
        let cases: Vec<(Value, Value)> = vec![
            // creation time in UTC, whole seconds
            (
                json!({"metadata": {"name": "a", "creationTimestamp": "2024-05-01T12:00:00.75+02:00"}}),
                json!(["a", "2024-05-01T10:00:00Z"]),
            ),
            // far in the future, fraction dropped
            (
                json!({"metadata": {"name": "d", "creationTimestamp": "9999-01-01T00:00:00.999Z"}}),
                json!(["d", "9999-01-01T00:00:00Z"]),
            ),
            // no creation time: Go's zero time
            (
                json!({"metadata": {"name": "b"}}),
                json!(["b", "0001-01-01T00:00:00Z"]),
            ),
            // unparseable creation time reads as unset
            (
                json!({"metadata": {"name": "c", "creationTimestamp": "yesterday"}}),
                json!(["c", "0001-01-01T00:00:00Z"]),
            ),
        ];
        for (obj, want) in cases {
            assert_eq!(row(default_printer(), &obj), want, "{obj}");
        }
    }

    #[test]
    fn ages() {
        let cases: Vec<(Value, &str)> = vec![
            (json!(ago(0)), "0s"),                        // just created
            (json!(ago(-1)), "0s"),                       // a second ahead: skew
            (json!(ago(-5)), "<invalid>"),                // from the future
            (json!("0001-01-01T00:00:00Z"), "<unknown>"), // Go's zero time
            (json!(null), "<unknown>"),                   // null
            (json!(12), "<unknown>"),                     // wrong type
            (json!("0001-01-01T00:00:01Z"), "292y"),      // beyond Go's Duration: saturates
            (json!("9999-01-01T00:00:00Z"), "<invalid>"), // far future
        ];
        for (ts, want) in cases {
            let obj = json!({"metadata": {"creationTimestamp": ts}});
            assert_eq!(row(printer("", "Namespace"), &obj)[2], json!(want), "{ts}");
        }
    }

    #[test]
    fn labels_format() {
        let cases: Vec<(Value, &str)> = vec![
            (json!({}), "<none>"),                        // empty map
            (json!({"b": "2", "a": "1"}), "a=1,b=2"),     // sorted
            (json!({"a": "2", "a.b": "1"}), "a.b=1,a=2"), // sorted as whole pairs
        ];
        for (labels, want) in cases {
            assert_eq!(format_labels(labels.as_object()), want);
        }
    }

    #[test]
    fn label_syntax() {
        let keys: &[(&str, bool)] = &[
            ("app", true),                    // plain name
            ("app.kubernetes.io/name", true), // prefixed
            ("a_b-c.d", true),                // inner punctuation
            ("", false),                      // empty
            ("-app", false),                  // must start alphanumeric
            ("Example.com/x", false),         // prefix must be lowercase
            ("a/b/c", false),                 // one slash at most
            ("/x", false),                    // empty prefix
            (&"k".repeat(64), false),         // name too long
        ];
        for (key, ok) in keys {
            assert_eq!(is_label_key(key), *ok, "{key:?}");
        }
        assert!(is_label_value(""));
        assert!(!is_label_value("trailing-"));
    }

    #[test]
    fn no_panics_on_odd_input() {
        let odd = [
            json!({}),
            json!(null),
            json!("a string"),
            json!([1, 2]),
            json!({"metadata": "x", "spec": [], "status": 5, "type": 7, "data": "x"}),
            json!({
                "metadata": {"name": 3, "labels": {"node-role.kubernetes.io/x": 1, "kubernetes.io/role": []},
                             "creationTimestamp": "2025-99-99", "deletionTimestamp": true},
                "spec": {"containers": "x", "initContainers": [null, 1, {"name": [], "restartPolicy": 2}],
                         "ports": [1, "a", {"port": "80", "nodePort": -1}], "selector": {"matchLabels": 4,
                         "matchExpressions": [null, {"key": 1}]}, "completions": 1.5, "parallelism": 1e20,
                         "replicas": 99_999_999_999_i64, "template": {"spec": {"containers": [null, {"name": 1}]}},
                         "readinessGates": [3], "externalIPs": [1], "type": "LoadBalancer", "unschedulable": "yes",
                         "clusterIPs": [null]},
                "status": {"containerStatuses": [null, 3, {"state": "x", "lastState": {"terminated": []}},
                                                 {"state": {"terminated": {"exitCode": "1", "signal": null}}}],
                           "initContainerStatuses": [{"state": {"waiting": 1}}, {}],
                           "conditions": "Ready", "podIPs": [7], "loadBalancer": {"ingress": [null, {"ip": 1}]},
                           "addresses": {"type": "InternalIP"}, "nodeInfo": [], "startTime": 5},
                "series": {"count": "7"}, "involvedObject": "pod", "source": 1, "secrets": {},
            }),
        ];
        for obj in &odd {
            for (label, printer) in all_printers() {
                let cells = (printer.row)(obj, now());
                assert_eq!(cells.len(), printer.columns.len(), "{label} on {obj}");
            }
        }
    }

    #[test]
    fn zero_value_rows() {
        let cases: Vec<(&str, &str, Value)> = vec![
            // every cell of an empty object, per kind
            (
                "",
                "Service",
                json!([
                    "",
                    "",
                    "<none>",
                    "<unknown>",
                    "<none>",
                    "<unknown>",
                    "<none>"
                ]),
            ),
            (
                "",
                "Node",
                json!([
                    "",
                    "Unknown",
                    "<none>",
                    "<unknown>",
                    "",
                    "<none>",
                    "<none>",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>"
                ]),
            ),
            (
                "apps",
                "Deployment",
                json!(["", "0/0", 0, 0, "<unknown>", "", "", ""]),
            ),
            (
                "batch",
                "Job",
                json!(["", "Running", "0/1", "", "<unknown>", "", "", "<none>"]),
            ),
            ("", "Secret", json!(["", "", 0, "<unknown>"])),
        ];
        for (group, kind, want) in cases {
            assert_eq!(row(printer(group, kind), &json!({})), want, "{kind}");
        }
    }
}
