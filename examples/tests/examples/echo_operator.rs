//! The Echo operator against a test server that serves the custom kind. CRD
//! serving is not there yet: the kind is registered when the server starts
//! (`TestServerBuilder::custom_resource`), where a cluster would have its CRD.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kubeforge_client::api::{Api, Patch};
use kubeforge_client::core::{CreateOptions, DeleteOptions, ListOptions, PatchOptions};
use kubeforge_examples::echo_operator::{Echo, EchoSpec, FINALIZER, RESOURCE, child_name, run};
use kubeforge_informer::events::Event as EventObject;
use kubeforge_testserver::{CustomResource, TestServer};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::{client, eventually};

async fn server() -> TestServer {
    let (group, version, kind, plural) = RESOURCE;
    TestServer::builder()
        .custom_resource(CustomResource::new(group, version, kind, plural))
        .start()
        .await
        .expect("test server starts")
}

fn image_args(d: &Deployment) -> Vec<String> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.containers.first())
        .and_then(|c| c.args.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echo_gets_its_children_status_and_events_and_cleans_up_on_delete() {
    let server = server().await;
    let client = client(&server);
    let echoes = Api::<Echo>::namespaced(client.clone(), "default");
    let deployments = Api::<Deployment>::namespaced(client.clone(), "default");
    let services = Api::<Service>::namespaced(client.clone(), "default");
    let child = child_name("hello");

    let shutdown = CancellationToken::new();
    let operator = tokio::spawn(run(
        client.clone(),
        Some("default"),
        "test",
        shutdown.clone(),
    ));
    let echo = Echo::new(
        "hello",
        EchoSpec {
            message: "hi there".into(),
            replicas: 2,
        },
    );
    let created = echoes
        .create(&CreateOptions::default(), &echo)
        .await
        .expect("create echo");
    let uid = created.metadata.uid.clone().expect("uid");

    // Children, owned by the Echo; status Ready for generation 1; a finalizer.
    eventually("status ready", || async {
        echoes
            .get("hello")
            .await
            .ok()
            .and_then(|e| e.status)
            .is_some_and(|s| s.observed_generation == Some(1))
    })
    .await;
    let echo = echoes.get("hello").await.expect("get echo");
    assert_eq!(
        echo.metadata.finalizers.as_deref(),
        Some(&[FINALIZER.to_owned()][..])
    );
    let status = echo.status.expect("status");
    assert_eq!(status.conditions.len(), 1);
    assert_eq!(
        (
            status.conditions[0].type_.as_str(),
            status.conditions[0].status.as_str()
        ),
        ("Ready", "True")
    );
    let deployment = deployments.get(&child).await.expect("deployment");
    let owner = &deployment
        .metadata
        .owner_references
        .as_ref()
        .expect("owner")[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("Echo", uid.as_str(), Some(true))
    );
    assert!(image_args(&deployment).contains(&"-text=hi there".to_owned()));
    assert_eq!(deployment.spec.as_ref().and_then(|s| s.replicas), Some(2));
    let service = services.get(&child).await.expect("service");
    assert_eq!(
        service
            .metadata
            .owner_references
            .as_ref()
            .map(|o| o[0].uid.clone()),
        Some(uid.clone())
    );
    // Status written by server-side apply through the subresource.
    assert!(
        echo.metadata
            .managed_fields
            .iter()
            .flatten()
            .any(|m| { m.manager == "echo-operator" && m.subresource == "status" })
    );
    let events = Api::<EventObject>::namespaced(client.clone(), "default");
    eventually("a Synced event", || async {
        events
            .list(&ListOptions::default())
            .await
            .expect("list events")
            .items
            .iter()
            .any(|e| e.reason == "Synced" && e.regarding.name.as_deref() == Some("hello"))
    })
    .await;

    // A spec change reaches the Deployment and the observed generation.
    echoes
        .patch(
            "hello",
            &PatchOptions::default(),
            &Patch::Merge(&json!({ "spec": { "message": "changed" } })),
        )
        .await
        .expect("patch echo");
    eventually("the deployment follows", || async {
        deployments
            .get(&child)
            .await
            .is_ok_and(|d| image_args(&d).contains(&"-text=changed".to_owned()))
    })
    .await;
    eventually("generation 2 observed", || async {
        echoes
            .get("hello")
            .await
            .ok()
            .and_then(|e| e.status)
            .is_some_and(|s| s.observed_generation == Some(2))
    })
    .await;

    // An owned child deleted behind the operator's back comes back.
    services
        .delete(&child, &DeleteOptions::default())
        .await
        .expect("delete service");
    eventually("the service is recreated", || async {
        services.get_opt(&child).await.is_ok_and(|s| s.is_some())
    })
    .await;

    // Deleting the Echo runs the cleanup, then the Echo goes.
    echoes
        .delete("hello", &DeleteOptions::default())
        .await
        .expect("delete echo");
    eventually("echo and children gone", || async {
        echoes.get_opt("hello").await.is_ok_and(|e| e.is_none())
            && deployments.get_opt(&child).await.is_ok_and(|d| d.is_none())
            && services.get_opt(&child).await.is_ok_and(|s| s.is_none())
    })
    .await;

    shutdown.cancel();
    operator
        .await
        .expect("operator task")
        .expect("operator ran");
}
