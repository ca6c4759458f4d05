//! One generic REST test, run over every resource the server serves (discovered
//! through the server's own discovery, so a resource added to the table is covered
//! without touching this file).

use serde_json::{Value, json};

use crate::support::{Client, start};

/// A minimal object of a kind: what the server accepts without schema knowledge.
fn object(kind: &str, api_version: &str, name: &str) -> Value {
    let mut obj = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "labels": {"rest": "test"}}});
    match kind {
        "PriorityClass" => obj["value"] = json!(10),
        "Pod" => obj["spec"] = json!({"containers": [{"name": "c", "image": "busybox"}]}),
        "Service" => obj["spec"] = json!({"ports": [{"port": 80}]}),
        "Lease" => obj["spec"] = json!({}),
        _ => {}
    }
    obj
}

struct Target {
    group_version: String,
    plural: String,
    kind: String,
    namespaced: bool,
    verbs: Vec<String>,
}

async fn targets(c: &Client) -> Vec<Target> {
    let mut gvs = vec![("/api/v1".to_owned(), "v1".to_owned())];
    let groups = c.get("/apis").await.expect(200);
    for g in groups.body["groups"].as_array().expect("groups") {
        for v in g["versions"].as_array().expect("versions") {
            let gv = v["groupVersion"].as_str().expect("gv").to_owned();
            gvs.push((format!("/apis/{gv}"), gv));
        }
    }
    let mut out = Vec::new();
    for (path, gv) in gvs {
        let list = c.get(&path).await.expect(200);
        for r in list.body["resources"].as_array().expect("resources") {
            let name = r["name"].as_str().expect("name");
            if name.contains('/') {
                continue;
            }
            out.push(Target {
                group_version: gv.clone(),
                plural: name.to_owned(),
                kind: r["kind"].as_str().expect("kind").to_owned(),
                namespaced: r["namespaced"].as_bool().expect("namespaced"),
                verbs: r["verbs"]
                    .as_array()
                    .expect("verbs")
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            });
        }
    }
    out
}

fn collection(t: &Target) -> String {
    let base = if t.group_version == "v1" {
        "/api/v1".to_owned()
    } else {
        format!("/apis/{}", t.group_version)
    };
    if t.namespaced {
        format!("{base}/namespaces/default/{}", t.plural)
    } else {
        format!("{base}/{}", t.plural)
    }
}

/// For every resource with the verbs: create, get, list (with a selector), watch sees
/// the changes, update, patch, delete, and get after delete is 404; create-only kinds
/// answer 201 without storing; invalid objects are rejected with 422.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_supports_rest_semantics() {
    let h = start().await;
    let c = &h.client;
    let all = targets(c).await;
    assert!(all.len() > 50, "only {} resources discovered", all.len());
    let mut checked = 0;
    for t in &all {
        let has = |v: &str| t.verbs.iter().any(|x| x == v);
        let coll = collection(t);
        let name = format!("rest-{}", t.plural.replace('.', "-"));
        if has("create") && !has("get") {
            // Create-only kinds (reviews, bindings) are not stored.
            let r = c
                .post(&coll, &object(&t.kind, &t.group_version, &name))
                .await;
            assert!(
                r.code == 201 || (t.kind == "Binding" && r.code == 404),
                "{} create: {}",
                t.plural,
                r.text
            );
            continue;
        }
        if !(has("create") && has("get") && has("list") && has("delete")) {
            // Read-only kinds (componentstatuses).
            continue;
        }
        let created = c
            .post(&coll, &object(&t.kind, &t.group_version, &name))
            .await;
        assert_eq!(created.code, 201, "{} create: {}", t.plural, created.text);
        let rv0 = created.rv();
        let item = format!("{coll}/{name}");
        let got = c.get(&item).await.expect(200);
        assert_eq!(got.body["kind"], t.kind.as_str(), "{}", t.plural);
        assert_eq!(
            got.body["apiVersion"],
            t.group_version.as_str(),
            "{}",
            t.plural
        );
        let list = c
            .get(&format!("{coll}?labelSelector=rest%3Dtest"))
            .await
            .expect(200);
        assert_eq!(list.body["kind"], format!("{}List", t.kind), "{}", t.plural);
        assert!(
            list.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|i| i["metadata"]["name"] == name.as_str()),
            "{} list lacks the object",
            t.plural
        );
        let mut w = if has("watch") {
            Some(
                c.watch(&format!("{coll}?watch=true&resourceVersion={rv0}"))
                    .await,
            )
        } else {
            None
        };
        if has("update") {
            let mut body = got.body.clone();
            body["metadata"]["annotations"] = json!({"updated": "yes"});
            let u = c.put(&item, &body).await;
            assert_eq!(u.code, 200, "{} update: {}", t.plural, u.text);
            assert!(
                u.rv() > rv0,
                "{} update must change resourceVersion",
                t.plural
            );
            if let Some(w) = &mut w {
                let ev = w.next_change().await;
                assert_eq!(ev["type"], "MODIFIED", "{}: {ev}", t.plural);
            }
        }
        if has("patch") {
            let p = c
                .patch(
                    &item,
                    "application/merge-patch+json",
                    &json!({"metadata": {"annotations": {"patched": "yes"}}}),
                )
                .await;
            assert_eq!(p.code, 200, "{} patch: {}", t.plural, p.text);
            assert_eq!(p.body["metadata"]["annotations"]["patched"], "yes");
            if let Some(w) = &mut w {
                assert_eq!(w.next_change().await["type"], "MODIFIED", "{}", t.plural);
            }
        }
        let d = c.delete(&item).await;
        assert_eq!(d.code, 200, "{} delete: {}", t.plural, d.text);
        if t.kind == "Namespace" {
            // Namespaces go once the namespace controller has emptied them.
            crate::support::eventually("namespace removal", || async {
                c.get(&item).await.code == 404
            })
            .await;
        } else {
            c.get(&item).await.expect_status(404, "NotFound");
        }
        if let Some(w) = &mut w {
            // A namespace is first marked Terminating (MODIFIED), then removed.
            let mut ev = w.next_change().await;
            while t.kind == "Namespace" && ev["type"] == "MODIFIED" {
                ev = w.next_change().await;
            }
            assert_eq!(ev["type"], "DELETED", "{}: {ev}", t.plural);
        }
        let bad = c.post(&coll, &object(&t.kind, &t.group_version, "")).await;
        assert_eq!(
            bad.code, 422,
            "{} object without a name: {}",
            t.plural, bad.text
        );
        checked += 1;
    }
    assert!(checked > 45, "only {checked} resources fully checked");
}
