use serde_json::{Value, json};

use super::{names, owners, pod, pods};
use crate::apply::fieldmanager::FieldManager;
use crate::apply::{
    Path, Request, apply, manager_from_user_agent, scale_to_parent, scale_to_subresource, update,
};

#[test]
fn update_managers_merge_into_ancient_changes_past_the_cap() {
    // TestCapManagersManagerMergesEntries, with upstream's cap of 3 for the test.
    let labelled = |keys: &[&str]| {
        let labels: serde_json::Map<String, Value> = keys
            .iter()
            .map(|k| ((*k).to_owned(), json!("true")))
            .collect();
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": labels}})
    };
    let steps: [&[&str]; 4] = [
        &["one"],
        &["one", "two"],
        &["one", "two", "three"],
        &["one", "two", "three", "four"],
    ];
    let mut live: Option<Value> = None;
    for (i, keys) in steps.iter().enumerate() {
        let manager = format!("fieldmanager_test_update_{}", i + 1);
        let now = format!("2025-01-01T00:00:0{i}Z");
        let r = Request {
            now: &now,
            ..pod(&manager)
        };
        let mut new = labelled(keys);
        if let Some(old) = &live {
            new["metadata"]["managedFields"] = old["metadata"]["managedFields"].clone();
        }
        FieldManager::new(pods(), &r)
            .map(|f| f.with_max_update_managers(3))
            .and_then(|f| f.update(live.as_ref(), &mut new))
            .unwrap_or_else(|e| panic!("{e}"));
        live = Some(new);
    }
    let live = live.unwrap_or_default();
    let label = |k: &str| json!({"f:metadata": {"f:labels": {format!("f:{k}"): {}}}});
    let owned = owners(&live);
    assert_eq!(
        names(&live),
        [
            "ancient-changes",
            "fieldmanager_test_update_3",
            "fieldmanager_test_update_4"
        ]
    );
    assert_eq!(
        owned[0].2,
        json!({"f:metadata": {"f:labels": {".": {}, "f:one": {}, "f:two": {}}}})
    );
    assert_eq!(owned[1].2, label("three"));
    assert_eq!(owned[2].2, label("four"));
}

#[test]
fn capping_buckets_old_updates_per_api_version() {
    // TestCapUpdateManagers (cap 3): rows of entries (manager, version, hour, field)
    // before and after a no-op update.
    type Rows = Vec<(&'static str, &'static str, u32, Vec<&'static str>)>;
    let entries = |rows: &Rows| -> Value {
        Value::Array(
            rows.iter()
                .map(|(m, v, hour, fields)| {
                    let set: serde_json::Map<String, Value> = fields
                        .iter()
                        .map(|f| (format!("f:{f}"), json!({})))
                        .collect();
                    json!({
                        "manager": m, "operation": "Update", "apiVersion": v,
                        "time": format!("0001-01-01T{hour:02}:00:00Z"),
                        "fieldsType": "FieldsV1", "fieldsV1": set
                    })
                })
                .collect(),
        )
    };
    let cases: Vec<(&str, Rows, Rows)> = vec![
        (
            "one version, no ancient changes",
            vec![
                ("update-manager1", "v1", 1, vec!["a"]),
                ("update-manager2", "v1", 2, vec!["b"]),
                ("update-manager3", "v1", 3, vec!["c"]),
                ("update-manager4", "v1", 4, vec!["d"]),
            ],
            vec![
                ("ancient-changes", "v1", 2, vec!["a", "b"]),
                ("update-manager3", "v1", 3, vec!["c"]),
                ("update-manager4", "v1", 4, vec!["d"]),
            ],
        ),
        (
            "one version, one ancient changes",
            vec![
                ("ancient-changes", "v1", 2, vec!["a", "b"]),
                ("update-manager3", "v1", 3, vec!["c"]),
                ("update-manager4", "v1", 4, vec!["d"]),
                ("update-manager5", "v1", 5, vec!["e"]),
            ],
            vec![
                ("ancient-changes", "v1", 3, vec!["a", "b", "c"]),
                ("update-manager4", "v1", 4, vec!["d"]),
                ("update-manager5", "v1", 5, vec!["e"]),
            ],
        ),
        (
            "two versions, no ancient changes",
            vec![
                ("update-manager1", "v1", 1, vec!["a"]),
                ("update-manager2", "v2", 2, vec!["b"]),
                ("update-manager3", "v1", 3, vec!["c"]),
                ("update-manager4", "v1", 4, vec!["d"]),
                ("update-manager5", "v1", 5, vec!["e"]),
            ],
            vec![
                ("update-manager2", "v2", 2, vec!["b"]),
                ("ancient-changes", "v1", 4, vec!["a", "c", "d"]),
                ("update-manager5", "v1", 5, vec!["e"]),
            ],
        ),
        (
            "three versions, one ancient changes",
            vec![
                ("update-manager2", "v2", 2, vec!["b"]),
                ("ancient-changes", "v1", 4, vec!["a", "c", "d"]),
                ("update-manager5", "v1", 5, vec!["e"]),
                ("update-manager6", "v3", 6, vec!["f"]),
                ("update-manager7", "v2", 7, vec!["g"]),
            ],
            vec![
                ("ancient-changes", "v1", 5, vec!["a", "c", "d", "e"]),
                ("update-manager6", "v3", 6, vec!["f"]),
                ("ancient-changes", "v2", 7, vec!["b", "g"]),
            ],
        ),
        (
            "three versions, two ancient changes",
            vec![
                ("ancient-changes", "v1", 5, vec!["a", "c", "d", "e"]),
                ("update-manager6", "v3", 6, vec!["f"]),
                ("ancient-changes", "v2", 7, vec!["b", "g"]),
                ("update-manager8", "v3", 8, vec!["h"]),
            ],
            vec![
                ("ancient-changes", "v1", 5, vec!["a", "c", "d", "e"]),
                ("ancient-changes", "v2", 7, vec!["b", "g"]),
                ("ancient-changes", "v3", 8, vec!["f", "h"]),
            ],
        ),
        (
            "four versions, two ancient changes",
            vec![
                ("ancient-changes", "v1", 5, vec!["a", "c", "d", "e"]),
                ("update-manager6", "v3", 6, vec!["f"]),
                ("ancient-changes", "v2", 7, vec!["b", "g"]),
                ("update-manager8", "v4", 8, vec!["h"]),
            ],
            vec![
                ("ancient-changes", "v1", 5, vec!["a", "c", "d", "e"]),
                ("update-manager6", "v3", 6, vec!["f"]),
                ("ancient-changes", "v2", 7, vec!["b", "g"]),
                ("update-manager8", "v4", 8, vec!["h"]),
            ],
        ),
    ];
    for (name, input, expected) in cases {
        let mut live =
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "uid": "u"}});
        live["metadata"]["managedFields"] = entries(&input);
        let mut new = live.clone();
        let r = pod("no-op-update");
        FieldManager::new(pods(), &r)
            .map(|f| f.with_max_update_managers(3))
            .and_then(|f| f.update(Some(&live), &mut new))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            new["metadata"]["managedFields"],
            entries(&expected),
            "{name}"
        );
    }
}

#[test]
fn eleven_update_managers_leave_ten_entries() {
    // The real cap: the oldest two of one version share an ancient-changes entry.
    let mut live: Option<Value> = None;
    for i in 0..11 {
        let manager = format!("m{i:02}");
        let now = format!("2025-01-01T00:00:{i:02}Z");
        let mut new = live.clone().unwrap_or_else(
            || json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}),
        );
        new["metadata"]["labels"][manager.as_str()] = json!("x");
        update(
            pods(),
            live.as_ref(),
            &mut new,
            &Request {
                now: &now,
                ..pod(&manager)
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        live = Some(new);
    }
    let live = live.unwrap_or_default();
    let names = names(&live);
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "ancient-changes");
    assert_eq!(names[9], "m10");
}

#[test]
fn managed_fields_reset_with_an_empty_entry_or_an_empty_list() {
    // TestResetManagedFieldsEmptyItem and TestResetManagedFieldsEmptyList.
    let config =
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}}});
    let mut live = apply(
        pods(),
        None,
        &config,
        false,
        &pod("fieldmanager_test_apply"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    live["metadata"]["uid"] = json!("u");
    for reset in [json!([{}]), json!([])] {
        let mut new = live.clone();
        new["metadata"]["managedFields"] = reset.clone();
        update(pods(), Some(&live), &mut new, &pod("update_manager"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(new["metadata"].get("managedFields"), None, "{reset}");
        // And tracking stays off on later updates.
        let mut later = new.clone();
        later["metadata"]["labels"]["c"] = json!("d");
        update(pods(), Some(&new), &mut later, &pod("someone")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(later["metadata"].get("managedFields"), None, "{reset}");
    }
    // Without managedFields in the request the old entries carry over.
    let mut kept = live.clone();
    if let Some(m) = kept["metadata"].as_object_mut() {
        m.remove("managedFields");
    }
    update(pods(), Some(&live), &mut kept, &pod("update_manager"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&kept), ["fieldmanager_test_apply"]);
}

#[test]
fn scale_moves_replica_ownership_between_resource_and_subresource() {
    let replicas = Path::fields(&["spec", "replicas"]);
    let mappings: [(&str, Option<&Path>); 1] = [("apps/v1", Some(&replicas))];
    let entry = |m: &str, op: &str, v: &str, sub: &str, fields: Value| {
        let mut e = json!({"manager": m, "operation": op, "apiVersion": v, "fieldsType": "FieldsV1", "fieldsV1": fields});
        if !sub.is_empty() {
            e["subresource"] = json!(sub);
        }
        e
    };
    let r = json!({"f:spec": {"f:replicas": {}}});
    let rs = json!({"f:spec": {"f:replicas": {}, "f:selector": {}}});
    let s = json!({"f:spec": {"f:selector": {}}});
    // TestTransformManagedFieldsToSubresource, "filter one entry and transform it into a
    // subresource entry".
    let parent = json!([
        entry(
            "manager-1",
            "Apply",
            "apps/v1",
            "",
            json!({"f:spec": {"f:another-field": {}}})
        ),
        entry("manager-2", "Apply", "apps/v1", "", r.clone()),
    ]);
    assert_eq!(
        scale_to_subresource(Some(&parent), &mappings),
        Ok(Some(json!([entry(
            "manager-2",
            "Apply",
            "autoscaling/v1",
            "",
            r.clone()
        )])))
    );
    // TestTransformingManagedFieldsToParent rows: parent, scale, expected parent.
    let rows = vec![
        // different-managers: apply -> update
        (
            json!([entry("test", "Apply", "apps/v1", "", rs.clone())]),
            json!([entry(
                "scale",
                "Update",
                "autoscaling/v1",
                "scale",
                r.clone()
            )]),
            json!([
                entry("test", "Apply", "apps/v1", "", s.clone()),
                entry("scale", "Update", "apps/v1", "scale", r.clone())
            ]),
        ),
        // different-managers: apply -> apply
        (
            json!([entry("test", "Apply", "apps/v1", "", rs.clone())]),
            json!([entry(
                "scale",
                "Apply",
                "autoscaling/v1",
                "scale",
                r.clone()
            )]),
            json!([
                entry("scale", "Apply", "apps/v1", "scale", r.clone()),
                entry("test", "Apply", "apps/v1", "", s.clone())
            ]),
        ),
        // different-managers: update -> update
        (
            json!([entry("test", "Update", "apps/v1", "", rs.clone())]),
            json!([entry(
                "scale",
                "Update",
                "autoscaling/v1",
                "scale",
                r.clone()
            )]),
            json!([
                entry("scale", "Update", "apps/v1", "scale", r.clone()),
                entry("test", "Update", "apps/v1", "", s.clone())
            ]),
        ),
    ];
    for (parent, scale, want) in rows {
        assert_eq!(
            scale_to_parent(Some(&parent), Some(&scale), "apps/v1", &mappings),
            Ok(Some(want.clone())),
            "{want}"
        );
    }
}

#[test]
fn default_manager_is_the_user_agent_prefix() {
    // Rows: User-Agent, manager (apiserver's prefixFromUserAgent).
    let rows = [
        (
            "kubectl/v1.33.0 (linux/amd64) kubernetes/abc",
            "kubectl".to_owned(),
        ),
        ("", String::new()),
        ("tab\there/1", "tabhere".to_owned()),
        (&*"x".repeat(200), "x".repeat(128)),
    ];
    for (ua, want) in rows {
        assert_eq!(manager_from_user_agent(ua), want, "{ua}");
    }
}
