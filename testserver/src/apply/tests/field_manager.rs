use serde_json::{Value, json};

use super::{NOW, conflicts_of, deploy, deployment, deployments, names, owners, pod, pods};
use crate::apply::set::FieldSet;
use crate::apply::{
    ApplyError, Operation, Path, Request, apply, cause_message, managed_fields, update,
};

#[test]
fn apply_creates_the_object_and_records_exactly_the_applied_fields() {
    // TestApplyNewObject, with the entry a real kube-apiserver records for it.
    let config = deployment(3, "nginx:latest");
    let obj = apply(deployments(), None, &config, false, &deploy("test-applier"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut want = config.clone();
    want["metadata"]["managedFields"] = json!([{
        "manager": "test-applier",
        "operation": "Apply",
        "apiVersion": "apps/v1",
        "time": NOW,
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                // LabelSelector is atomic: owned as a whole.
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                        ".": {}, "f:image": {}, "f:name": {}
                    }}}
                }
            }
        }
    }]);
    assert_eq!(obj, want);
}

#[test]
fn reapplying_without_a_field_removes_it_unless_someone_else_owns_it() {
    let with = |hostname: bool, replicas: bool| {
        let mut c = deployment(3, "nginx:latest");
        if hostname {
            c["spec"]["template"]["spec"]["hostname"] = json!("test-hostname");
        }
        if !replicas && let Some(spec) = c["spec"].as_object_mut() {
            spec.remove("replicas");
        }
        c
    };
    // TestApplyUnsetExclusivelyOwnedFields: the only owner drops replicas and
    // hostname; both go (defaulting brings replicas back afterwards).
    let first = apply(
        deployments(),
        None,
        &with(true, true),
        false,
        &deploy("apply_test"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let second = apply(
        deployments(),
        Some(&first),
        &with(false, false),
        false,
        &deploy("apply_test"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(second["spec"].get("replicas"), None);
    assert_eq!(second["spec"]["template"]["spec"].get("hostname"), None);

    // TestApplyUnsetSharedFields: two appliers own them; one dropping them keeps them.
    let mut obj = None;
    for m in ["shared_owner_1", "shared_owner_2"] {
        obj = Some(
            apply(
                deployments(),
                obj.as_ref(),
                &with(true, true),
                false,
                &deploy(m),
            )
            .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let after = apply(
        deployments(),
        obj.as_ref(),
        &with(false, false),
        false,
        &deploy("shared_owner_1"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after["spec"]["replicas"], json!(3));
    assert_eq!(
        after["spec"]["template"]["spec"]["hostname"],
        json!("test-hostname")
    );
}

#[test]
fn two_appliers_of_different_fields_leave_each_other_alone() {
    let labels = |pairs: Value| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": pairs}});
    let obj = apply(pods(), None, &labels(json!({"a": "1"})), false, &pod("one"))
        .unwrap_or_else(|e| panic!("{e}"));
    let obj = apply(
        pods(),
        Some(&obj),
        &labels(json!({"b": "2"})),
        false,
        &pod("two"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // "one" applies again without "b": "b" is not its to remove.
    let obj = apply(
        pods(),
        Some(&obj),
        &labels(json!({"a": "1"})),
        false,
        &pod("one"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(obj["metadata"]["labels"], json!({"a": "1", "b": "2"}));
    assert_eq!(
        owners(&obj),
        vec![
            (
                "one".to_owned(),
                Operation::Apply,
                json!({"f:metadata": {"f:labels": {"f:a": {}}}})
            ),
            (
                "two".to_owned(),
                Operation::Apply,
                json!({"f:metadata": {"f:labels": {"f:b": {}}}})
            ),
        ]
    );
}

#[test]
fn conflicts_are_reported_as_upstream_and_force_moves_ownership() {
    // TestUpdateApplyConflict: a field set by an update conflicts with an applier.
    let mut created = deployment(3, "nginx:latest");
    update(
        deployments(),
        None,
        &mut created,
        &deploy("fieldmanager_test"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let replicas = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "deployment"},
        "spec": {"replicas": 101}
    });
    let err = apply(
        deployments(),
        Some(&created),
        &replicas,
        false,
        &deploy("fieldmanager_conflict"),
    );
    let conflicts = conflicts_of(err.clone());
    assert_eq!(
        err.err().map(|e| e.to_string()).as_deref(),
        Some(
            r#"Apply failed with 1 conflict: conflict with "fieldmanager_test" using apps/v1: .spec.replicas"#
        )
    );
    let causes: Vec<(String, String)> = conflicts
        .iter()
        .map(|c| (cause_message(c), c.path.clone()))
        .collect();
    assert_eq!(
        causes,
        vec![(
            r#"conflict with "fieldmanager_test" using apps/v1"#.to_owned(),
            ".spec.replicas".to_owned()
        )]
    );

    // Two fields of one updater: the plural message, paths in set order.
    let two = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "deployment"},
        "spec": {"replicas": 101, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1"}]}}}
    });
    let err = apply(
        deployments(),
        Some(&created),
        &two,
        false,
        &deploy("fieldmanager_conflict"),
    );
    assert_eq!(
        err.err().map(|e| e.to_string()).as_deref(),
        Some(
            "Apply failed with 2 conflicts: conflicts with \"fieldmanager_test\" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"nginx\"].image"
        )
    );

    // Forced, the applier takes the field and the updater keeps the rest.
    let forced = apply(
        deployments(),
        Some(&created),
        &replicas,
        true,
        &deploy("fieldmanager_conflict"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forced["spec"]["replicas"], json!(101));
    let owned = owners(&forced);
    assert_eq!(
        owned[0],
        (
            "fieldmanager_conflict".to_owned(),
            Operation::Apply,
            json!({"f:spec": {"f:replicas": {}}})
        )
    );
    assert_eq!(owned[1].0, "fieldmanager_test");
    assert_eq!(owned[1].2["f:spec"].get("f:replicas"), None);
    assert!(owned[1].2["f:spec"].get("f:template").is_some());
}

#[test]
fn conflicts_with_appliers_and_subresource_managers_name_them_as_upstream() {
    let labels = |v: &str| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": v}}});
    let obj =
        apply(pods(), None, &labels("1"), false, &pod("first")).unwrap_or_else(|e| panic!("{e}"));
    let err = apply(pods(), Some(&obj), &labels("2"), false, &pod("second"));
    assert_eq!(
        err.err().map(|e| e.to_string()).as_deref(),
        Some(r#"Apply failed with 1 conflict: conflict with "first": .metadata.labels.a"#)
    );
    // An update through /status is named with its subresource.
    let mut status = labels("1");
    status["metadata"]["uid"] = json!("u");
    status["metadata"]["managedFields"] = obj["metadata"]["managedFields"].clone();
    let mut changed = status.clone();
    changed["metadata"]["labels"]["a"] = json!("3");
    let mut r = pod("kubelet");
    r.subresource = "status";
    update(pods(), Some(&status), &mut changed, &r).unwrap_or_else(|e| panic!("{e}"));
    let err = apply(pods(), Some(&changed), &labels("4"), false, &pod("first"));
    assert_eq!(
        err.err().map(|e| e.to_string()).as_deref(),
        Some(
            r#"Apply failed with 1 conflict: conflict with "kubelet" with subresource "status" using v1: .metadata.labels.a"#
        )
    );
}

#[test]
fn an_applier_can_hand_a_field_to_a_controller_and_still_remove_items() {
    // TestApplyCanTransferFieldOwnershipToController: the controller's replicas stay
    // when the applier stops applying them.
    let applied = apply(
        deployments(),
        None,
        &deployment(3, "nginx:latest"),
        false,
        &deploy("test_applier"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut scaled = applied.clone();
    scaled["spec"]["replicas"] = json!(4);
    update(
        deployments(),
        Some(&applied),
        &mut scaled,
        &deploy("test_updater"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut without = deployment(3, "nginx:latest");
    if let Some(spec) = without["spec"].as_object_mut() {
        spec.remove("replicas");
    }
    let after = apply(
        deployments(),
        Some(&scaled),
        &without,
        false,
        &deploy("test_applier"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after["spec"]["replicas"], json!(4));

    // TestApplyCanRemoveMapItemsContributedToByControllers: the container goes although
    // a controller set one of its fields.
    let mut worked = after.clone();
    worked["spec"]["template"]["spec"]["containers"][0]["workingDir"] = json!("/home/replacement");
    update(
        deployments(),
        Some(&after),
        &mut worked,
        &deploy("test_updater"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut other = without.clone();
    other["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "other-container", "image": "nginx:latest"}]);
    let last = apply(
        deployments(),
        Some(&worked),
        &other,
        false,
        &deploy("test_applier"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        last["spec"]["template"]["spec"]["containers"],
        json!([{"name": "other-container", "image": "nginx:latest"}])
    );
}

#[test]
fn container_ports_without_a_protocol_key_use_its_default() {
    // TestDefaultMissingKeys: ports are keyed by containerPort and protocol; an item
    // without protocol takes its default, TCP, and another applier naming TCP
    // explicitly conflicts on the same item.
    let with_port = |name: &str, protocol: Option<&str>| {
        let mut port = json!({"name": name, "containerPort": 80});
        if let Some(p) = protocol {
            port["protocol"] = json!(p);
        }
        let mut c = deployment(1, "nginx:latest");
        c["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([port]);
        if let Some(spec) = c["spec"].as_object_mut() {
            spec.remove("replicas");
        }
        c
    };
    let obj = apply(
        deployments(),
        None,
        &with_port("foo", None),
        false,
        &deploy("test_applier"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let fields = &owners(&obj)[0].2;
    let container =
        &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"];
    assert_eq!(
        container["f:ports"],
        json!({"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}}})
    );
    let err = apply(
        deployments(),
        Some(&obj),
        &with_port("bar", Some("TCP")),
        false,
        &deploy("test_applier_conflict"),
    );
    assert_eq!(conflicts_of(err).len(), 1);
}

#[test]
fn metadata_fields_are_never_owned() {
    // TestApplyStripsFields: an update setting only name, namespace, uid, generation,
    // resourceVersion and creationTimestamp records nobody (the client's undecodable
    // managedFields are ignored).
    let mut new = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "name": "b", "namespace": "b", "uid": "b", "generation": 0, "resourceVersion": "b",
            "creationTimestamp": "2025-01-01T00:00:00Z", "selfLink": "/x",
            "managedFields": [{"manager": "update", "operation": "Apply", "apiVersion": "apps/v1"}]
        }
    });
    update(deployments(), None, &mut new, &deploy("fieldmanager_test"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new["metadata"].get("managedFields"), None);
    // TestApplyDoesNotStripLabels: labels are owned.
    let config = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "n", "namespace": "ns", "labels": {"a": "b"}}});
    let obj = apply(pods(), None, &config, false, &pod("fieldmanager_test"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        owners(&obj),
        vec![(
            "fieldmanager_test".to_owned(),
            Operation::Apply,
            json!({"f:metadata": {"f:labels": {"f:a": {}}}})
        )]
    );
}

#[test]
fn the_first_apply_to_an_untracked_object_conflicts_with_before_first_apply() {
    // TestUpdateBeforeFirstApply: updates of an untracked object stay untracked; the
    // first apply finds its fields owned by "before-first-apply".
    let live = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"uid": "u", "labels": {"app": "my-nginx"}}});
    let mut updated = live.clone();
    updated["metadata"]["labels"]["x"] = json!("y");
    update(
        pods(),
        Some(&live),
        &mut updated,
        &pod("fieldmanager_test_update"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(updated["metadata"].get("managedFields"), None);

    let config = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "pod", "labels": {"app": "nginx"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}
    });
    let err = apply(
        pods(),
        Some(&live),
        &config,
        false,
        &pod("fieldmanager_test_apply"),
    );
    assert_eq!(
        err.err().map(|e| e.to_string()).as_deref(),
        Some(
            r#"Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .metadata.labels.app"#
        )
    );
    let obj = apply(
        pods(),
        Some(&live),
        &config,
        true,
        &pod("fieldmanager_test_apply"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names(&obj),
        ["fieldmanager_test_apply", "before-first-apply"]
    );
}

#[test]
fn apply_rejects_what_upstream_rejects() {
    // Rows: applied configuration, expected error (TestApplyFailsWithManagedFields,
    // TestVersionCheck, TestVersionCheckDoesNotPanic, typed-patch errors).
    let rows = vec![
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"managedFields": [{"manager": "test"}]}}),
            ApplyError::BadRequest("metadata.managedFields must be nil".into()),
        ),
        (
            json!({"apiVersion": "apps/v1beta1", "kind": "Deployment"}),
            ApplyError::BadRequest("invalid object type: apps/v1beta1, Kind=Deployment".into()),
        ),
        (json!({}), ApplyError::BadRequest("invalid object type: /, Kind=".into())),
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ns"}, "spec": {"foo": 1}}),
            ApplyError::Invalid(
                "failed to create typed patch object (ns/d; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema".into(),
            ),
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
            ApplyError::Invalid(
                "failed to create typed patch object (/d; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)".into(),
            ),
        ),
    ];
    for (config, want) in rows {
        assert_eq!(
            apply(deployments(), None, &config, false, &deploy("m")),
            Err(want),
            "{config}"
        );
    }
    // A configuration of only kind and version creates an object nobody owns anything of.
    let obj = apply(
        deployments(),
        None,
        &json!({"apiVersion": "apps/v1", "kind": "Deployment"}),
        false,
        &deploy("m"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(obj, json!({"apiVersion": "apps/v1", "kind": "Deployment"}));
}

#[test]
fn no_op_writes_leave_managed_fields_alone() {
    // TestNoOpChanges: re-applying the same configuration, or updating nothing, keeps
    // the entries and their times; a new applier of the same values gets an entry, with
    // no time since the object did not change (so it sorts first).
    let config =
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}}});
    let first = apply(
        pods(),
        None,
        &config,
        false,
        &pod("fieldmanager_test_apply"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let later = Request {
        now: "2030-01-01T00:00:00Z",
        ..pod("fieldmanager_test_apply_other")
    };
    let second =
        apply(pods(), Some(&first), &config, false, &later).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names(&second),
        ["fieldmanager_test_apply_other", "fieldmanager_test_apply"]
    );
    let times: Vec<Option<String>> = managed_fields(&second)
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.time)
        .collect();
    assert_eq!(times, [None, Some(NOW.to_owned())]);
    let mut updated = second.clone();
    let r = Request {
        now: "2031-01-01T00:00:00Z",
        ..pod("fieldmanager_test_update")
    };
    update(pods(), Some(&second), &mut updated, &r).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(updated, second);
    let r = Request {
        now: "2032-01-01T00:00:00Z",
        ..pod("fieldmanager_test_apply")
    };
    let again = apply(pods(), Some(&second), &config, true, &r).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, second);
}

#[test]
fn subresource_writes_ignore_managed_fields_sent_by_the_client() {
    // TestUpdateViaSubresources: managedFields cannot be set, or reset, through a
    // subresource; the writer is recorded with its subresource.
    let mut r = pod("fieldmanager_test_subresource");
    r.subresource = "scale";
    let mut obj = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"labels": {"a": "b"}, "managedFields": [{
            "manager": "test", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {"f:another_field": {}}}}
        }]}
    });
    update(pods(), None, &mut obj, &r).unwrap_or_else(|e| panic!("{e}"));
    let entries = managed_fields(&obj).unwrap_or_default();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].manager.as_str(), entries[0].subresource.as_str()),
        ("fieldmanager_test_subresource", "scale")
    );
    let mut reset = obj.clone();
    reset["metadata"]["managedFields"] = json!([]);
    update(pods(), Some(&obj), &mut reset, &r).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        managed_fields(&reset).map(|e| e.len()).unwrap_or_default(),
        1
    );
}

#[test]
fn reset_fields_are_never_owned() {
    // A main-resource write that also sends status (which the strategy resets) owns
    // no status field, and nobody conflicts on it (upstream's IgnoreFilter).
    let status = FieldSet::from_paths([&Path::fields(&["status"])]);
    let r = Request {
        reset_fields: Some(&status),
        ..pod("m")
    };
    let config = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}}, "status": {"phase": "Running"}});
    let obj = apply(pods(), None, &config, false, &r).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        owners(&obj)[0].2,
        json!({"f:metadata": {"f:labels": {"f:a": {}}}})
    );
}

#[test]
fn kubectl_upgrading_from_client_side_apply_takes_its_fields_and_updates_the_annotation() {
    // TestInteropForClientSideApplyAndServerSideApply: fields the last-applied
    // annotation accounts for do not conflict for manager "kubectl", and the annotation
    // follows the new configuration.
    const LAST: &str = "kubectl.kubernetes.io/last-applied-configuration";
    let config = |app: &str, replicas: i64, image: &str| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "my-deployment", "labels": {"app": app}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": app}},
                "template": {"metadata": {"labels": {"app": app}},
                             "spec": {"containers": [{"name": "my-c", "image": image}]}}
            }
        })
    };
    let v1 = config("my-app", 100, "my-image-v1");
    let mut created = v1.clone();
    created["metadata"]["annotations"] = json!({LAST: crate::apply::gojson::to_string(&v1)});
    update(
        deployments(),
        None,
        &mut created,
        &deploy("kubectl-client-side-apply-test"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let v2 = config("my-app-v2", 8, "my-image-v2");
    let obj = apply(
        deployments(),
        Some(&created),
        &v2,
        false,
        &deploy("kubectl"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let annotation = obj["metadata"]["annotations"][LAST]
        .as_str()
        .unwrap_or_default();
    assert!(annotation.contains("my-image-v2"), "{annotation}");
    assert!(annotation.ends_with('\n'));
    assert_eq!(obj["spec"]["replicas"], json!(8));
    // Another manager gets the conflicts.
    let err = apply(
        deployments(),
        Some(&created),
        &v2,
        false,
        &deploy("not-kubectl"),
    );
    assert!(conflicts_of(err).len() > 1);
}

#[test]
fn malformed_input_is_an_error_or_ignored_never_a_panic() {
    // Applied configurations that are not objects, or objects of the wrong shapes.
    let configs = [
        json!(null),
        json!([1, 2]),
        json!("x"),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": "x"}),
        json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": "x"}}),
        json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [null, 1, []]}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"a": {"b": 1}}}}),
        json!({"apiVersion": "a/b/c", "kind": "Pod"}),
    ];
    for config in configs {
        assert!(
            apply(pods(), None, &config, false, &pod("m")).is_err(),
            "{config}"
        );
    }
    // Stored managed fields that do not decode make apply fail, as upstream does.
    let mut live = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
    live["metadata"]["managedFields"] = json!([{"manager": 1}]);
    let config = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
    assert!(matches!(
        apply(pods(), Some(&live), &config, false, &pod("m")),
        Err(ApplyError::Invalid(_))
    ));
    // Client-sent managed fields that do not decode are ignored on update.
    let sent = [
        json!("x"),
        json!([1]),
        json!([{"operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"x": 1}}]),
        json!([{"operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1", "time": "yesterday"}]),
        json!([{"operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"k:{": {}}}]),
    ];
    for managed in sent {
        let mut new = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}}});
        new["metadata"]["managedFields"] = managed.clone();
        update(pods(), None, &mut new, &pod("creator"))
            .unwrap_or_else(|e| panic!("{managed}: {e}"));
        assert_eq!(names(&new), ["creator"], "{managed}");
    }
    // A write time that is not RFC 3339.
    let r = Request {
        now: "now",
        ..pod("m")
    };
    assert!(apply(pods(), None, &config, false, &r).is_err());
}
