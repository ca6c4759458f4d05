use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapEnvSource, ConfigMapVolumeSource, Container, EnvFromSource, PodSpec,
    PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kubeforge_client::api::{Api, Patch};
use kubeforge_client::core::{CreateOptions, PatchOptions};
use kubeforge_examples::configmap_hash::{HASH_ANNOTATION, run};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::{client, eventually, server};

fn configmap(name: &str, value: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.to_owned());
    cm.data = Some(BTreeMap::from([("v".to_owned(), value.to_owned())]));
    cm
}

/// A Deployment mounting `volume_cm` as a volume and `env_cm` through `envFrom`.
fn deployment(name: &str, volume_cm: Option<&str>, env_cm: Option<&str>) -> Deployment {
    let labels = BTreeMap::from([("app".to_owned(), name.to_owned())]);
    Deployment {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        spec: Some(DeploymentSpec {
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "app".into(),
                        image: Some("nginx:1".into()),
                        env_from: env_cm.map(|cm| {
                            vec![EnvFromSource {
                                config_map_ref: Some(ConfigMapEnvSource {
                                    name: cm.to_owned(),
                                    optional: None,
                                }),
                                ..EnvFromSource::default()
                            }]
                        }),
                        ..Container::default()
                    }],
                    volumes: volume_cm.map(|cm| {
                        vec![Volume {
                            name: "config".into(),
                            config_map: Some(ConfigMapVolumeSource {
                                name: cm.to_owned(),
                                ..ConfigMapVolumeSource::default()
                            }),
                            ..Volume::default()
                        }]
                    }),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

async fn hash_of(api: &Api<Deployment>, name: &str) -> Option<String> {
    let d = api.get(name).await.expect("get deployment");
    d.spec?
        .template
        .metadata?
        .annotations?
        .get(HASH_ANNOTATION)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configmap_change_rolls_exactly_the_deployments_that_use_it() {
    let server = server().await;
    let client = client(&server);
    let cms = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let deployments = Api::<Deployment>::namespaced(client.clone(), "default");
    let create = CreateOptions::default();
    cms.create(&create, &configmap("app-config", "1"))
        .await
        .expect("cm");
    cms.create(&create, &configmap("other-config", "1"))
        .await
        .expect("cm");
    for d in [
        deployment("web", Some("app-config"), None),
        deployment("worker", None, Some("app-config")),
        deployment("unrelated", Some("other-config"), None),
        deployment("early", Some("not-yet"), None),
    ] {
        deployments.create(&create, &d).await.expect("deployment");
    }

    let shutdown = CancellationToken::new();
    let controller = tokio::spawn(run(client.clone(), Some("default"), shutdown.clone()));

    eventually("every deployment annotated", || async {
        for name in ["web", "worker", "unrelated", "early"] {
            if hash_of(&deployments, name).await.is_none() {
                return false;
            }
        }
        true
    })
    .await;
    let web = hash_of(&deployments, "web").await;
    assert_eq!(
        web,
        hash_of(&deployments, "worker").await,
        "same ConfigMap, same hash"
    );
    let unrelated = deployments
        .get("unrelated")
        .await
        .expect("get")
        .metadata
        .resource_version;
    let early = hash_of(&deployments, "early").await;

    cms.patch(
        "app-config",
        &PatchOptions::default(),
        &Patch::Merge(&json!({ "data": { "v": "2" } })),
    )
    .await
    .expect("change config");
    eventually("web rolled", || async {
        hash_of(&deployments, "web").await != web
    })
    .await;
    eventually("worker rolled", || async {
        hash_of(&deployments, "worker").await == hash_of(&deployments, "web").await
    })
    .await;

    // A ConfigMap that did not exist yet: creating it changes the hash.
    cms.create(&create, &configmap("not-yet", "1"))
        .await
        .expect("cm");
    eventually("early rolled", || async {
        hash_of(&deployments, "early").await != early
    })
    .await;

    shutdown.cancel();
    controller
        .await
        .expect("controller task")
        .expect("controller ran");
    assert_eq!(
        deployments
            .get("unrelated")
            .await
            .expect("get")
            .metadata
            .resource_version,
        unrelated,
        "a Deployment not using the ConfigMap is not written"
    );
}
