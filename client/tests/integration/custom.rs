//! Types made with `#[derive(CustomResource)]`.
//!
//! The test server does not serve CustomResourceDefinitions yet, so the derived types
//! here take the shape of built-in kinds that have a `spec` (and a `status`): a
//! `coordination.k8s.io/v1 Lease` and a `v1 ResourceQuota`. That exercises exactly what
//! a CRD type uses: the derived paths, scope, serde with apiVersion/kind, and every
//! verb including the status subresource.

use std::collections::BTreeMap;

use kubeforge_client::CustomResource;
use kubeforge_client::api::{Api, Patch, Resource};
use kubeforge_client::core::{CreateOptions, ListOptions, PatchOptions, Scope, UpdateOptions};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::support;

/// A Lease, as a custom type would be declared.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[resource(group = "coordination.k8s.io", version = "v1", namespaced)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LeaseSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holder_identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease_duration_seconds: Option<i32>,
}

/// A ResourceQuota: a spec and a status, the status written through its subresource.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[resource(
    group = "",
    version = "v1",
    kind = "ResourceQuota",
    namespaced,
    status = "QuotaStatus"
)]
pub(crate) struct QuotaSpec {
    #[serde(default)]
    hard: BTreeMap<String, String>,
}

/// `ResourceQuota.status`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub(crate) struct QuotaStatus {
    #[serde(default)]
    hard: BTreeMap<String, String>,
    #[serde(default)]
    used: BTreeMap<String, String>,
}

/// A cluster-scoped custom kind whose plural needs "ies".
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug)]
#[resource(group = "policy.example.com", version = "v1alpha1")]
pub(crate) struct PolicySpec {
    rules: Vec<String>,
}

/// The derive names the kind, group, version, plural and scope as declared or
/// defaulted, and serializes with apiVersion and kind.
#[test]
fn the_derive_describes_the_resource_and_serializes_type_meta() {
    assert_eq!(Lease::kind(&()), "Lease");
    assert_eq!(Lease::plural(&()), "leases");
    assert_eq!(Lease::api_version(&()), "coordination.k8s.io/v1");
    assert_eq!(Lease::scope(&()), Scope::Namespaced);
    assert_eq!(ResourceQuota::api_version(&()), "v1");
    assert_eq!(ResourceQuota::plural(&()), "resourcequotas");
    assert_eq!(Policy::plural(&()), "policies");
    assert_eq!(Policy::scope(&()), Scope::Cluster);
    let res = Policy::api_resource(&());
    assert_eq!(
        res.collection_path(None),
        "/apis/policy.example.com/v1alpha1/policies"
    );

    let lease = Lease::new(
        "leader",
        LeaseSpec {
            holder_identity: Some("me".into()),
            lease_duration_seconds: Some(15),
        },
    );
    let wire = serde_json::to_value(&lease).expect("encode");
    assert_eq!(
        wire,
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "leader"},
               "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}})
    );
    let back: Lease = serde_json::from_value(wire).expect("decode");
    assert_eq!(back.spec, lease.spec);
    assert_eq!(back.meta().name, Some("leader"));

    // status is optional on the wire and in the struct
    let q: ResourceQuota =
        serde_json::from_value(json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "3"}}}))
            .expect("decode");
    assert!(q.status.is_none());
    assert!(
        serde_json::to_value(&q)
            .expect("encode")
            .get("status")
            .is_none()
    );
}

/// A derived type goes through create, get, list, merge patch and replace against
/// the server.
#[tokio::test]
async fn a_derived_type_round_trips_through_the_server() {
    let server = support::server().await;
    let api = Api::<Lease>::namespaced(support::client(&server), "default");
    let created = api
        .create(
            &CreateOptions::default(),
            &Lease::new(
                "leader",
                LeaseSpec {
                    holder_identity: Some("a".into()),
                    lease_duration_seconds: Some(10),
                },
            ),
        )
        .await
        .expect("create");
    assert!(created.metadata.uid.is_some());
    assert_eq!(created.spec.holder_identity.as_deref(), Some("a"));

    let patched = api
        .patch(
            "leader",
            &PatchOptions::default(),
            &Patch::Merge(json!({"spec": {"holderIdentity": "b"}})),
        )
        .await
        .expect("patch");
    assert_eq!(patched.spec.holder_identity.as_deref(), Some("b"));

    let mut next = patched.clone();
    next.spec.lease_duration_seconds = Some(30);
    let replaced = api
        .replace("leader", &UpdateOptions::default(), &next)
        .await
        .expect("replace");
    assert_eq!(replaced.spec.lease_duration_seconds, Some(30));

    let listed = api.list(&ListOptions::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].spec, replaced.spec);
}

/// A derived type with a status writes it through the status subresource; spec
/// changes sent there are ignored.
#[tokio::test]
async fn a_derived_status_goes_through_the_status_subresource() {
    let server = support::server().await;
    let api = Api::<ResourceQuota>::namespaced(support::client(&server), "default");
    let spec = QuotaSpec {
        hard: [("pods".to_owned(), "3".to_owned())].into(),
    };
    api.create(
        &CreateOptions::default(),
        &ResourceQuota::new("q", spec.clone()),
    )
    .await
    .expect("create");

    let mut q = api.get_status("q").await.expect("get status");
    q.status = Some(QuotaStatus {
        hard: spec.hard.clone(),
        used: [("pods".to_owned(), "1".to_owned())].into(),
    });
    q.spec.hard.insert("pods".into(), "99".into());
    let q = api
        .replace_status("q", &UpdateOptions::default(), &q)
        .await
        .expect("replace status");
    assert_eq!(q.status.expect("status").used["pods"], "1");
    assert_eq!(
        q.spec.hard["pods"], "3",
        "spec is not written through status"
    );
}
