//! `PartialObjectMetadata`: get, list and watch of metadata only.

use std::pin::pin;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::api::{Api, PartialObjectMetadata, api_resource};
use kubeforge_client::core::{CreateOptions, ListOptions, WatchEvent};

use crate::support::{self, configmap};

/// Get, list and watch through `Api<PartialObjectMetadata>` return metadata objects
/// (the server's `PartialObjectMetadata` representation, not whole ConfigMaps).
#[tokio::test]
async fn metadata_only_reads_return_partial_object_metadata() {
    let server = support::server().await;
    let client = support::client(&server);
    let typed = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let mut cm = configmap("m", "big", &"x".repeat(1000));
    cm.metadata.labels = Some([("app".to_owned(), "m".to_owned())].into());
    typed
        .create(&CreateOptions::default(), &cm)
        .await
        .expect("create");

    let meta = Api::<PartialObjectMetadata>::namespaced_with(
        client,
        "default",
        &api_resource::<ConfigMap>(),
    );
    let got = meta.get("m").await.expect("get");
    assert_eq!(got.kind, "PartialObjectMetadata");
    assert_eq!(got.api_version, "meta.k8s.io/v1");
    assert_eq!(got.metadata.labels.expect("labels")["app"], "m");

    let list = meta.list(&ListOptions::default()).await.expect("list");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].metadata.name.as_deref(), Some("m"));
    assert_eq!(list.items[0].kind, "PartialObjectMetadata");

    let mut events = pin!(
        meta.watch(&ListOptions::default().initial_events().timeout(30))
            .await
            .expect("watch")
    );
    match events.next().await.expect("event").expect("decoded") {
        WatchEvent::Added(m) => {
            assert_eq!(m.kind, "PartialObjectMetadata");
            assert_eq!(m.metadata.name.as_deref(), Some("m"));
        }
        other => panic!("unexpected {other:?}"),
    }
}
