use serde_json::{Value, json};

use crate::support::start;

const CM: &str = "/api/v1/namespaces/default/configmaps";

fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_owned))
        .collect()
}

/// Label and field selectors filter lists; bad selectors are 400 with upstream's
/// wording for unsupported fields.
#[tokio::test]
async fn selectors() {
    let h = start().await;
    for (name, tier, env) in [
        ("a", "web", "prod"),
        ("b", "web", "dev"),
        ("c", "db", "prod"),
    ] {
        h.client
            .post(
                CM,
                &json!({"metadata": {"name": name, "labels": {"tier": tier, "env": env}}}),
            )
            .await
            .expect(201);
    }
    let cases: &[(&str, &[&str])] = &[
        ("labelSelector=tier%3Dweb", &["a", "b"]),
        ("labelSelector=tier%20in%20(web,db),env!%3Dprod", &["b"]),
        ("labelSelector=!tier", &[]),
        ("labelSelector=env", &["a", "b", "c"]),
        ("fieldSelector=metadata.name%3Db", &["b"]),
        (
            "fieldSelector=metadata.name!%3Db,metadata.namespace%3Ddefault",
            &["a", "c"],
        ),
    ];
    for (query, want) in cases {
        let r = h.client.get(&format!("{CM}?{query}")).await.expect(200);
        let got = names(&r.body);
        let got: Vec<&str> = got
            .iter()
            .filter(|n| n.len() == 1)
            .map(String::as_str)
            .collect();
        assert_eq!(&got, want, "{query}");
    }
    let r = h
        .client
        .get(&format!("{CM}?labelSelector=a%20in%20(b"))
        .await
        .expect_status(400, "BadRequest");
    assert!(
        r.message().contains("unable to parse requirement"),
        "{}",
        r.message()
    );
    let r = h
        .client
        .get(&format!("{CM}?fieldSelector=data.a%3D1"))
        .await
        .expect_status(400, "BadRequest");
    assert_eq!(
        r.message(),
        "\"data.a\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    let r = h
        .client
        .get("/api/v1/pods?fieldSelector=spec.bogus%3Dx")
        .await
        .expect_status(400, "BadRequest");
    assert_eq!(r.message(), "field label not supported: spec.bogus");
}

/// Per-kind field selectors (pods by node and phase, with zero-value defaults).
#[tokio::test]
async fn pod_field_selectors() {
    let h = start().await;
    for (name, node) in [("p1", Some("n1")), ("p2", Some("n2")), ("p3", None)] {
        let mut pod = json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
        if let Some(n) = node {
            pod["spec"]["nodeName"] = json!(n);
        }
        h.client
            .post("/api/v1/namespaces/default/pods", &pod)
            .await
            .expect(201);
    }
    let r = h
        .client
        .get("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1")
        .await
        .expect(200);
    assert_eq!(names(&r.body), vec!["p1"]);
    let r = h
        .client
        .get("/api/v1/pods?fieldSelector=spec.nodeName%3D")
        .await
        .expect(200);
    assert_eq!(
        names(&r.body),
        vec!["p3"],
        "unscheduled pods have an empty nodeName"
    );
    let r = h
        .client
        .get("/api/v1/pods?fieldSelector=spec.host%3Dn2")
        .await
        .expect(200);
    assert_eq!(
        names(&r.body),
        vec!["p2"],
        "legacy spec.host is spec.nodeName"
    );
    let r = h
        .client
        .get("/api/v1/pods?fieldSelector=status.phase%3DPending,spec.hostNetwork%3Dfalse")
        .await
        .expect(200);
    assert_eq!(names(&r.body).len(), 3);
}

/// limit/continue: key order, one resourceVersion for all pages, remainingItemCount
/// only without selectors, and pages unaffected by writes in between.
#[tokio::test]
async fn pagination() {
    let h = start().await;
    h.client.namespace("pages").await;
    let path = "/api/v1/namespaces/pages/configmaps";
    for i in 0..10 {
        h.client
            .configmap("pages", &format!("template-{i:04}"), &[])
            .await;
    }
    let first = h.client.get(&format!("{path}?limit=3")).await.expect(200);
    assert_eq!(
        names(&first.body),
        vec!["template-0000", "template-0001", "template-0002"]
    );
    assert_eq!(first.body["metadata"]["remainingItemCount"], 7);
    let rv = first.rv();
    let mut token = first.body["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_owned();
    let mut all = names(&first.body);
    // Changes between pages must not show up.
    h.client
        .delete(&format!("{path}/template-0005"))
        .await
        .expect(200);
    h.client.configmap("pages", "template-0004a", &[]).await;
    loop {
        let page = h
            .client
            .get(&format!("{path}?limit=3&continue={token}"))
            .await
            .expect(200);
        assert_eq!(
            page.rv(),
            rv,
            "every page carries the first page's resourceVersion"
        );
        all.extend(names(&page.body));
        match page.body["metadata"]["continue"].as_str() {
            Some(t) if !t.is_empty() => token = t.to_owned(),
            _ => {
                assert!(
                    page.body["metadata"].get("remainingItemCount").is_none(),
                    "no count on the last page"
                );
                break;
            }
        }
    }
    let want: Vec<String> = (0..10).map(|i| format!("template-{i:04}")).collect();
    assert_eq!(all, want);
    let sel = h
        .client
        .get(&format!("{path}?limit=2&labelSelector=x!%3Dy"))
        .await
        .expect(200);
    assert!(sel.body["metadata"]["continue"].is_string());
    assert!(
        sel.body["metadata"].get("remainingItemCount").is_none(),
        "no count with selectors"
    );
    h.client
        .get(&format!("{path}?limit=2&continue=garbage"))
        .await
        .expect_status(400, "BadRequest");
    h.client
        .get(&format!(
            "{path}?limit=2&continue={token}&resourceVersion=5"
        ))
        .await
        .expect_status(400, "BadRequest");
}

/// resourceVersion semantics of a list: exact reads of the past, not-older-than, too
/// large (504 with a cause), invalid combinations (422), garbage (400).
#[tokio::test]
async fn resource_version_semantics() {
    let h = start().await;
    h.client.namespace("rv").await;
    let path = "/api/v1/namespaces/rv/configmaps";
    let a = h.client.configmap("rv", "a", &[]).await;
    h.client.configmap("rv", "b", &[]).await;
    let exact = h
        .client
        .get(&format!(
            "{path}?resourceVersion={}&resourceVersionMatch=Exact",
            a.rv()
        ))
        .await
        .expect(200);
    assert_eq!(names(&exact.body), vec!["a"], "an exact list sees the past");
    assert_eq!(exact.rv(), a.rv());
    let limited = h
        .client
        .get(&format!("{path}?resourceVersion={}&limit=10", a.rv()))
        .await
        .expect(200);
    assert_eq!(
        names(&limited.body),
        vec!["a"],
        "limit with a resourceVersion is exact"
    );
    let newer = h
        .client
        .get(&format!(
            "{path}?resourceVersion={}&resourceVersionMatch=NotOlderThan",
            a.rv()
        ))
        .await
        .expect(200);
    assert_eq!(names(&newer.body), vec!["a", "b"]);
    let any = h
        .client
        .get(&format!("{path}?resourceVersion=0"))
        .await
        .expect(200);
    assert_eq!(names(&any.body).len(), 2);
    let far = a.rv() + 1_000_000;
    let r = h
        .client
        .get(&format!("{path}?resourceVersion={far}"))
        .await
        .expect_status(504, "Timeout");
    assert_eq!(
        r.body["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    let r = h
        .client
        .get(&format!("{path}?resourceVersionMatch=Exact"))
        .await
        .expect_status(422, "Invalid");
    assert!(
        r.message()
            .starts_with("ListOptions.meta.k8s.io \"\" is invalid"),
        "{}",
        r.message()
    );
    h.client
        .get(&format!("{path}?resourceVersion=abc"))
        .await
        .expect_status(400, "BadRequest");
    h.client
        .get(&format!("{path}?limit=abc"))
        .await
        .expect_status(400, "BadRequest");
}

/// After a compaction, exact lists in the past and old continue tokens get 410
/// Expired; the continue-token Status carries a token to go on inconsistently.
#[tokio::test]
async fn expired_after_compaction() {
    let h = start().await;
    h.client.namespace("old").await;
    let path = "/api/v1/namespaces/old/configmaps";
    for i in 0..4 {
        h.client.configmap("old", &format!("c{i}"), &[]).await;
    }
    let first = h.client.get(&format!("{path}?limit=2")).await.expect(200);
    let token = first.body["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_owned();
    let old_rv = first.rv();
    h.client.configmap("old", "c9", &[]).await;
    h.server.compact().await.expect("compact");
    let r = h
        .client
        .get(&format!("{path}?limit=2&continue={token}"))
        .await
        .expect_status(410, "Expired");
    assert!(
        r.message()
            .starts_with("The provided continue parameter is too old"),
        "{}",
        r.message()
    );
    let inconsistent = r.body["metadata"]["continue"]
        .as_str()
        .expect("inconsistent continue token")
        .to_owned();
    let rest = h
        .client
        .get(&format!("{path}?limit=10&continue={inconsistent}"))
        .await
        .expect(200);
    assert_eq!(names(&rest.body), vec!["c2", "c3", "c9"]);
    h.client
        .get(&format!(
            "{path}?resourceVersion={}&resourceVersionMatch=Exact",
            old_rv - 1
        ))
        .await
        .expect_status(410, "Expired");
}

/// Lists are served from the watch cache yet consistent: a write is visible to the
/// very next list, even for a resource whose cache saw no event since.
#[tokio::test]
async fn list_after_write_is_consistent() {
    let h = start().await;
    for i in 0..20 {
        let cm = h.client.configmap("default", &format!("c{i}"), &[]).await;
        let list = h.client.get(CM).await.expect(200);
        assert!(list.rv() >= cm.rv());
        assert!(names(&list.body).contains(&format!("c{i}")));
        // Another resource's list must be at least as new as the write too.
        let secrets = h
            .client
            .get("/api/v1/namespaces/default/secrets")
            .await
            .expect(200);
        assert!(
            secrets.rv() >= cm.rv(),
            "consistent read of a quiet resource"
        );
    }
}

/// A list at resourceVersion "0" may be served from a lagging cache, but never with
/// resourceVersion "0": a client watches from the list's resourceVersion, and "0"
/// would make that watch start over with the current state (losing the changes in
/// between).
#[tokio::test]
async fn a_list_at_resource_version_zero_answers_a_watchable_resource_version() {
    let h = start().await;
    // Configmaps were never written: their cache has seen no revision yet.
    let list = h
        .client
        .get("/api/v1/namespaces/default/configmaps?resourceVersion=0&limit=500")
        .await
        .expect(200);
    let rv: u64 = list.body["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("numeric resourceVersion");
    assert!(rv > 0, "list resourceVersion {rv}");
    // A watch from it sees the changes after it, as changes.
    let mut w = h
        .client
        .watch(&format!(
            "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}"
        ))
        .await;
    h.client.configmap("default", "a", &[]).await.expect(201);
    let added = w.next_change().await;
    assert_eq!(added["type"], "ADDED");
    assert_eq!(added["object"]["metadata"]["name"], "a");
}
