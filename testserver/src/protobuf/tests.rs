//! Whole-body tests: real kubectl 1.33 request bodies, and the envelope.
//!
//! The fixtures under `tests/fixtures/protobuf/` come from `capture.py` there: `<name>.pb`
//! is the body kubectl sent, `<name>.json` (for `create` commands) kubectl's
//! `--dry-run=client -o json` of the same object, i.e. Go's own JSON for it.

use serde_json::{Value, json};

use super::test_support::*;
use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../tests/fixtures/protobuf/", $name, ".pb"))
    };
}

macro_rules! dry_run {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/protobuf/", $name, ".json"))
    };
}

/// Bodies with kubectl's dry-run JSON of the same object.
const WITH_JSON: &[(&str, &[u8], &str)] = &[
    ("namespace", fixture!("namespace"), dry_run!("namespace")),
    ("configmap", fixture!("configmap"), dry_run!("configmap")),
    (
        "secret_generic",
        fixture!("secret_generic"),
        dry_run!("secret_generic"),
    ),
    ("deployment", fixture!("deployment"), dry_run!("deployment")),
    (
        "service_clusterip",
        fixture!("service_clusterip"),
        dry_run!("service_clusterip"),
    ),
    ("job", fixture!("job"), dry_run!("job")),
    ("cronjob", fixture!("cronjob"), dry_run!("cronjob")),
    (
        "job_from_cronjob",
        fixture!("job_from_cronjob"),
        dry_run!("job_from_cronjob"),
    ),
    ("role", fixture!("role"), dry_run!("role")),
    (
        "rolebinding",
        fixture!("rolebinding"),
        dry_run!("rolebinding"),
    ),
    (
        "clusterrole",
        fixture!("clusterrole"),
        dry_run!("clusterrole"),
    ),
    (
        "serviceaccount",
        fixture!("serviceaccount"),
        dry_run!("serviceaccount"),
    ),
    ("quota", fixture!("quota"), dry_run!("quota")),
    ("pdb", fixture!("pdb"), dry_run!("pdb")),
    (
        "priorityclass",
        fixture!("priorityclass"),
        dry_run!("priorityclass"),
    ),
    ("ingress", fixture!("ingress"), dry_run!("ingress")),
];

/// Bodies of commands without a dry run.
const WITHOUT_JSON: &[(&str, &[u8])] = &[
    ("csr_approve", fixture!("csr_approve")),
    ("pod_debug_node", fixture!("pod_debug_node")),
    ("token", fixture!("token")),
];

fn all_fixtures() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    WITH_JSON
        .iter()
        .map(|&(name, body, _)| (name, body))
        .chain(WITHOUT_JSON.iter().copied())
}

fn decoded(body: &[u8]) -> Value {
    match decode(body) {
        Ok(object) => Value::Object(object),
        Err(err) => panic!("decode failed: {err}"),
    }
}

#[test]
fn kubectl_bodies_decode_to_gos_own_json_for_the_object() {
    for &(name, body, json) in WITH_JSON {
        let want: Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            decoded(body),
            want,
            "\n--- {name}: decoded (left) vs kubectl dry run (right) ---"
        );
    }
}

#[test]
fn namespace_has_its_name_and_a_null_creation_timestamp() {
    let ns = decoded(fixture!("namespace"));
    assert_eq!(ns["apiVersion"], "v1");
    assert_eq!(ns["kind"], "Namespace");
    assert_eq!(
        ns["metadata"],
        json!({"name": "team-a", "creationTimestamp": null})
    );
}

#[test]
fn configmap_keeps_literal_file_and_empty_values() {
    let cm = decoded(fixture!("configmap"));
    assert_eq!(cm["metadata"]["namespace"], "team-a");
    assert_eq!(
        cm["data"],
        json!({"a": "1", "empty": "", "app.conf": "listen 80;\nname=\"x\"\n"})
    );
}

#[test]
fn secret_data_is_base64() {
    let secret = decoded(fixture!("secret_generic"));
    assert_eq!(
        secret["data"],
        json!({"user": "YWRtaW4=", "password": "czNjcjN0IQ=="})
    );
}

#[test]
fn deployment_keeps_explicit_zero_replicas() {
    let deploy = decoded(fixture!("deployment"));
    assert_eq!(deploy["apiVersion"], "apps/v1");
    assert_eq!(deploy["spec"]["replicas"], 0);
    assert_eq!(
        deploy["spec"]["selector"]["matchLabels"],
        json!({"app": "web"})
    );
    let container = &deploy["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "nginx:1.27");
    assert_eq!(container["ports"], json!([{"containerPort": 8080}]));
    // minReadySeconds and paused are plain omitempty fields: left out at zero.
    assert_eq!(deploy["spec"].get("minReadySeconds"), None);
    assert_eq!(deploy["spec"].get("paused"), None);
}

#[test]
fn service_target_ports_are_int_or_string() {
    let svc = decoded(fixture!("service_clusterip"));
    assert_eq!(
        svc["spec"]["ports"],
        json!([
            {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080},
            {"name": "443-https", "protocol": "TCP", "port": 443, "targetPort": "https"},
        ])
    );
    assert_eq!(svc["metadata"]["labels"], json!({"app": "web"}));
}

#[test]
fn job_and_role_carry_their_specs() {
    let job = decoded(fixture!("job"));
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["containers"][0]["command"], json!(["echo", "hi"]));

    let role = decoded(fixture!("role"));
    assert_eq!(
        role["rules"],
        json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}])
    );
}

#[test]
fn job_from_cronjob_keeps_owner_reference_booleans() {
    let job = decoded(fixture!("job_from_cronjob"));
    let owner = &job["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "CronJob");
    assert_eq!(owner["controller"], true);
    assert_eq!(job["spec"]["backoffLimit"], 2);
}

#[test]
fn pdb_and_quota_keep_int_or_string_and_quantities() {
    let pdb = decoded(fixture!("pdb"));
    assert_eq!(pdb["spec"]["minAvailable"], "50%");
    // PodDisruptionBudgetStatus counts have no omitempty: Go writes the zeros.
    assert_eq!(pdb["status"]["expectedPods"], 0);

    let quota = decoded(fixture!("quota"));
    assert_eq!(
        quota["spec"]["hard"],
        json!({"cpu": "500m", "memory": "1Gi", "pods": "10"})
    );
}

#[test]
fn csr_approval_has_timestamps_bytes_and_extra_lists() {
    let csr = decoded(fixture!("csr_approve"));
    assert_eq!(csr["metadata"]["creationTimestamp"], "2025-05-01T10:00:00Z");
    assert_eq!(csr["metadata"]["resourceVersion"], "42");
    assert_eq!(
        csr["spec"]["request"],
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K"
    );
    assert_eq!(csr["spec"]["extra"], json!({"scopes": ["read", "write"]}));
    assert_eq!(csr["spec"]["expirationSeconds"], 86400);
    let condition = &csr["status"]["conditions"][0];
    assert_eq!(condition["type"], "Approved");
    assert_eq!(condition["lastTransitionTime"], Value::Null);
    // Set by kubectl from its clock at capture time: check the shape only.
    let updated = condition["lastUpdateTime"].as_str().unwrap();
    assert_eq!(updated.len(), "2025-05-01T10:00:00Z".len(), "{updated}");
    assert!(
        updated.ends_with('Z') && updated.as_bytes()[10] == b'T',
        "{updated}"
    );
}

#[test]
fn debug_pod_inlines_volume_sources() {
    let pod = decoded(fixture!("pod_debug_node"));
    let spec = &pod["spec"];
    assert_eq!(
        spec["volumes"],
        json!([{"name": "host-root", "hostPath": {"path": "/"}}])
    );
    assert_eq!(spec["hostPID"], true);
    assert_eq!(spec["nodeName"], "n1");
    assert_eq!(spec["tolerations"], json!([{"operator": "Exists"}]));
    let container = &spec["containers"][0];
    assert_eq!(container["securityContext"], json!({"privileged": true}));
    assert_eq!(
        container["volumeMounts"],
        json!([{"name": "host-root", "mountPath": "/host"}])
    );
}

#[test]
fn token_request_keeps_audiences_and_expiration() {
    let token = decoded(fixture!("token"));
    assert_eq!(token["apiVersion"], "authentication.k8s.io/v1");
    assert_eq!(
        token["spec"],
        json!({"audiences": ["api"], "expirationSeconds": 3600})
    );
    assert_eq!(token["status"], json!({"expirationTimestamp": null}));
}

#[test]
fn every_truncation_of_every_fixture_fails_cleanly_or_decodes() {
    for (name, body) in all_fixtures() {
        for len in 0..body.len() {
            // Must return, not panic; cut inside a field it must say malformed.
            if let Err(err) = decode(&body[..len]) {
                let text = err.to_string();
                assert!(
                    text.starts_with("malformed protobuf at ")
                        || text.starts_with("protobuf body does not start")
                        || text.starts_with("protobuf envelope names unknown type"),
                    "{name}[..{len}]: {text}"
                );
            }
        }
    }
}

#[test]
fn corrupted_fixtures_never_panic() {
    for (_, body) in all_fixtures() {
        let mut copy = body.to_vec();
        for i in 0..copy.len() {
            for flip in [0x01, 0x80, 0xff] {
                copy[i] ^= flip;
                let _ = decode(&copy);
                copy[i] ^= flip;
            }
        }
    }
}

#[test]
fn envelope_problems_are_reported() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // No magic.
        (
            b"{\"kind\":\"Namespace\"}".to_vec(),
            "protobuf body does not start with the kubernetes magic bytes",
        ),
        // Magic only: no apiVersion or kind.
        (
            MAGIC.to_vec(),
            "protobuf envelope names unknown type kind \"\" in apiVersion \"\"",
        ),
        // Unknown group version.
        (
            body("apps/v1beta1", "Deployment", &[]),
            "protobuf envelope names unknown type kind \"Deployment\" in apiVersion \"apps/v1beta1\"",
        ),
        // Unknown kind in a known group version.
        (
            body("v1", "Gadget", &[]),
            "protobuf envelope names unknown type kind \"Gadget\" in apiVersion \"v1\"",
        ),
        // Compressed payload.
        (
            cat(&[body("v1", "Namespace", &[]), string_field(3, "gzip")]),
            "protobuf envelope has unsupported content encoding \"gzip\"",
        ),
        // JSON payload.
        (
            cat(&[
                body("v1", "Namespace", &[]),
                string_field(4, "application/json"),
            ]),
            "protobuf envelope has unsupported content type \"application/json\"",
        ),
        // Truncated envelope.
        (
            cat(&[MAGIC.to_vec(), vec![0x0a, 0x10, 0x0a]]),
            "malformed protobuf at envelope (byte 5): length 16 exceeds the 1 bytes left",
        ),
        // Raw sent as a varint.
        (
            cat(&[MAGIC.to_vec(), varint_field(2, 1)]),
            "malformed protobuf at envelope (byte 4): wire type varint where length-delimited was expected",
        ),
        // A bad field inside the typed message names the kind and path.
        (
            body("v1", "Namespace", &message_field(1, &varint_field(1, 5))),
            "malformed protobuf at Namespace.metadata.name (byte 25): wire type varint where length-delimited was expected",
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            decode(&bytes).unwrap_err().to_string(),
            want,
            "{bytes:02x?}"
        );
    }
}

#[test]
fn envelope_accepts_explicit_protobuf_content_type_and_unknown_fields() {
    let bytes = cat(&[
        body("v1", "Namespace", &message_field(1, &string_field(1, "a"))),
        string_field(4, MEDIA_TYPE),
        varint_field(9, 1),
    ]);
    assert_eq!(
        decoded(&bytes),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
    );
}

#[test]
fn apimachinery_option_kinds_decode_under_any_group_version() {
    // DeleteOptions: gracePeriodSeconds = 1, propagationPolicy = 4.
    let raw = cat(&[varint_field(1, 0), string_field(4, "Foreground")]);
    assert_eq!(
        decoded(&body("apps/v1", "DeleteOptions", &raw)),
        json!({
            "apiVersion": "apps/v1", "kind": "DeleteOptions",
            "gracePeriodSeconds": 0, "propagationPolicy": "Foreground",
        })
    );
}

#[test]
fn raw_extensions_hold_json_or_nested_protobuf_objects() {
    let nested = body(
        "v1",
        "ConfigMap",
        &message_field(1, &string_field(1, "inner")),
    );
    // core/v1 List: metadata = 1, items = 2 (RawExtension: raw = 1).
    let raw = cat(&[
        message_field(2, &bytes_field(1, br#"{"kind":"Pod","apiVersion":"v1"}"#)),
        message_field(2, &bytes_field(1, &nested)),
        message_field(2, &[]),
    ]);
    assert_eq!(
        decoded(&body("v1", "List", &raw)),
        json!({
            "apiVersion": "v1", "kind": "List",
            "items": [
                {"kind": "Pod", "apiVersion": "v1"},
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner"}},
                null,
            ],
        })
    );
}

#[test]
fn nested_protobuf_in_raw_extensions_counts_toward_the_depth_limit() {
    let mut bytes = body("v1", "ConfigMap", &[]);
    for _ in 0..MAX_DEPTH {
        let raw = message_field(2, &bytes_field(1, &bytes));
        bytes = body("v1", "List", &raw);
    }
    let err = decode(&bytes).unwrap_err().to_string();
    assert!(err.ends_with("messages nested deeper than 100"), "{err}");
}

#[test]
fn micro_time_fields_decode_in_real_kinds() {
    // events.k8s.io/v1 Event: eventTime = 2 (MicroTime).
    let event_time = cat(&[varint_field(1, 1_746_093_600), varint_field(2, 5_000)]);
    let event = decoded(&body(
        "events.k8s.io/v1",
        "Event",
        &message_field(2, &event_time),
    ));
    assert_eq!(event["eventTime"], "2025-05-01T10:00:00.000005Z");

    // An empty MicroTime is null. Lease (coordination/v1): spec = 2;
    // leaseDurationSeconds = 2, renewTime = 4 (MicroTime).
    let spec = cat(&[varint_field(2, 15), message_field(4, &[])]);
    let lease = decoded(&body(
        "coordination.k8s.io/v1",
        "Lease",
        &message_field(2, &spec),
    ));
    assert_eq!(
        lease["spec"],
        json!({"leaseDurationSeconds": 15, "renewTime": null})
    );
}

#[test]
fn custom_resource_definition_schemas_use_json_schema_names() {
    // CustomResourceDefinition: spec = 2; spec.versions = 7; version: name = 1,
    // schema = 4 (CustomResourceValidation: openAPIV3Schema = 1).
    // type = 5, default = 8 (JSON: raw = 1).
    let string_schema = cat(&[
        string_field(5, "string"),
        message_field(8, &bytes_field(1, b"\"x\"")),
    ]);
    let props = cat(&[
        string_field(5, "object"),
        // properties = 29: map<string, JSONSchemaProps>.
        message_field(
            29,
            &cat(&[string_field(1, "name"), message_field(2, &string_schema)]),
        ),
        // additionalProperties = 30: JSONSchemaPropsOrBool {allows = 1}.
        message_field(30, &varint_field(1, 1)),
        // x-kubernetes-preserve-unknown-fields = 38.
        varint_field(38, 1),
    ]);
    let version = cat(&[
        string_field(1, "v1"),
        message_field(4, &message_field(1, &props)),
    ]);
    let crd = decoded(&body(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        &message_field(2, &message_field(7, &version)),
    ));
    assert_eq!(
        crd["spec"]["versions"][0],
        json!({
            "name": "v1",
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"name": {"type": "string", "default": "x"}},
                "additionalProperties": true,
                "x-kubernetes-preserve-unknown-fields": true,
            }},
        })
    );
}
