//! SharedInformerFactory: typed, dynamic and metadata-only informers, shared and
//! released one by one.

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::api::{Api, api_resource};
use kubeforge_client::core::CreateOptions;
use kubeforge_informer::SharedInformerFactory;

use crate::support::{client, configmap, create_configmaps, eventually, server, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_dynamic_and_metadata_informers_sync_the_same_objects() {
    let server = server().await;
    let client = client(&server);
    let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
    create_configmaps(&api, "cm", 25).await;
    settle(&api).await;
    let factory = SharedInformerFactory::namespaced(client, "default");
    let resource = api_resource::<ConfigMap>();
    let typed = factory.informer::<ConfigMap>();
    let dynamic = factory.dynamic(&resource);
    let metadata = factory.metadata(&resource);
    assert_eq!(factory.len(), 3);
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    assert_eq!(typed.indexer().len(), 25);
    assert_eq!(dynamic.indexer().len(), 25);
    assert_eq!(metadata.indexer().len(), 25);
    let d = dynamic
        .indexer()
        .get_by_key("default/cm-7")
        .expect("dynamic object cached");
    assert_eq!(d.data["data"]["v"], "0");
    let m = metadata
        .indexer()
        .get_by_key("default/cm-7")
        .expect("metadata cached");
    assert_eq!(m.metadata.name.as_deref(), Some("cm-7"));
    factory.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_twice_shares_one_informer_and_release_stops_it() {
    let server = server().await;
    let client = client(&server);
    let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let factory = SharedInformerFactory::new(client);
    let first = factory.informer::<ConfigMap>();
    let again = factory.informer::<ConfigMap>();
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    api.create(&CreateOptions::default(), &configmap("a", "0"))
        .await
        .expect("create");
    eventually("both handles see the same cache", || {
        first.indexer().get_by_key("default/a").is_some()
            && again.indexer().get_by_key("default/a").is_some()
    })
    .await;

    factory.release::<ConfigMap>();
    assert!(first.is_stopped());
    assert_eq!(factory.len(), 0);
    api.create(&CreateOptions::default(), &configmap("b", "0"))
        .await
        .expect("create");
    settle(&api).await;
    // A fresh informer after release, started since the factory is.
    let fresh = factory.informer::<ConfigMap>();
    assert!(fresh.wait_for_sync().await);
    assert_eq!(fresh.indexer().len(), 2);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(first.indexer().get_by_key("default/b").is_none());
}
