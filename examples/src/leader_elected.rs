//! `leader-elected`: a controller that runs in several replicas, one of which leads.
//!
//! Every replica runs a [`LeaderElector`] on the same Lease. The leader runs the
//! controller; the others wait. When the leader stops (shut down: it hands the
//! Lease back at once; crashed: the Lease expires after its duration), another
//! replica takes over and starts the controller from a cold cache.
//!
//! The controller itself is deliberately small: it stamps every ConfigMap labelled
//! `kubeforge.dev/leader-demo` with an annotation naming the replica that
//! reconciled it ([`RECONCILED_BY`]), so you can watch leadership move with
//! `kubectl get cm -L kubeforge.dev/leader-demo -o yaml`. The controller's
//! shutdown token is the leadership's: losing the Lease stops new reconciles, and
//! the replica gives the Lease back only after the ones in flight ended.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::Client;
use kubeforge_client::api::{Api, Patch};
use kubeforge_client::core::{ListOptions, PatchOptions};
use kubeforge_informer::controller::{Action, Controller, ObjectState, Request};
use kubeforge_informer::leader::{LeaderElectionConfig, LeaderElector, Stopped};
use kubeforge_informer::{ListWatch, SharedIndexInformer};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The label selecting the ConfigMaps this controller manages.
pub const DEMO_LABEL: &str = "kubeforge.dev/leader-demo";

/// The annotation naming the replica that last reconciled a ConfigMap.
pub const RECONCILED_BY: &str = "kubeforge.dev/reconciled-by";

/// The Lease the replicas compete for.
pub const LEASE_NAME: &str = "leader-elected-demo";

/// How a replica takes part.
#[derive(Debug, Clone)]
pub struct Replica {
    /// Where the Lease and the ConfigMaps are.
    pub namespace: String,
    /// This replica's identity (unique among the replicas; a pod name).
    pub identity: String,
    /// The election's timing (client-go's defaults unless a test shortens them).
    pub lease_duration: Duration,
    /// See [`LeaderElectionConfig::renew_deadline`].
    pub renew_deadline: Duration,
    /// See [`LeaderElectionConfig::retry_period`].
    pub retry_period: Duration,
}

impl Replica {
    /// A replica with client-go's timing: 15 s lease, 10 s renew deadline, 2 s retry.
    pub fn new(namespace: &str, identity: &str) -> Self {
        Replica {
            namespace: namespace.to_owned(),
            identity: identity.to_owned(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// What a replica's run can fail with.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

struct Ctx {
    client: Client,
    identity: String,
}

async fn reconcile(
    req: Request<ConfigMap>,
    ctx: Arc<Ctx>,
) -> Result<Action, kubeforge_client::Error> {
    let ObjectState::Present(cm) = req.state() else {
        return Ok(Action::Done);
    };
    let by = cm
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(RECONCILED_BY));
    if by == Some(&ctx.identity) {
        return Ok(Action::Done);
    }
    let api = Api::<ConfigMap>::namespaced(
        ctx.client.clone(),
        req.key().namespace().unwrap_or_default(),
    );
    let patch = json!({ "metadata": { "annotations": { RECONCILED_BY: ctx.identity } } });
    api.patch(
        req.key().name(),
        &PatchOptions::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(Action::Done)
}

/// Runs one replica until `shutdown`, or until it loses the Lease (then it
/// returns [`Stopped::LeaseLost`], and a real deployment exits so that it
/// restarts from scratch, as client-go's `RunOrDie` advises).
///
/// # Errors
///
/// The election's configuration is invalid.
pub async fn run(
    client: Client,
    replica: Replica,
    shutdown: CancellationToken,
) -> Result<Stopped, Error> {
    let config = LeaderElectionConfig::new(&replica.namespace, LEASE_NAME, &replica.identity)
        .lease_duration(replica.lease_duration)
        .renew_deadline(replica.renew_deadline)
        .retry_period(replica.retry_period);
    let mut elector = LeaderElector::new(client.clone(), config)?;
    let identity = replica.identity.clone();
    let stopped = elector
        .run(shutdown, |leadership| async move {
            tracing::info!(%identity, "leading");
            // A fresh informer per term: what a previous term cached may be stale.
            let lw = ListWatch::new(Api::<ConfigMap>::namespaced(
                client.clone(),
                &replica.namespace,
            ))
            .labels(DEMO_LABEL);
            let informer = SharedIndexInformer::new(lw);
            let ctx = Arc::new(Ctx {
                client,
                identity: identity.clone(),
            });
            let controller = Controller::new(informer.clone()).name("leader-elected");
            if let Err(e) = controller
                .run(reconcile, ctx, leadership.token().clone())
                .await
            {
                tracing::error!(error = %e, "controller did not run");
            }
            informer.stop();
            tracing::info!(%identity, "stopped leading");
        })
        .await;
    Ok(stopped)
}

/// Who reconciled each demo ConfigMap in `namespace`, by name.
///
/// # Errors
///
/// The list failed.
pub async fn reconciled_by(
    client: &Client,
    namespace: &str,
) -> Result<Vec<(String, Option<String>)>, kubeforge_client::Error> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListOptions {
            label_selector: Some(DEMO_LABEL.to_owned()),
            ..ListOptions::default()
        })
        .await?;
    Ok(list
        .items
        .into_iter()
        .map(|cm| {
            let by = cm
                .metadata
                .annotations
                .and_then(|mut a| a.remove(RECONCILED_BY));
            (cm.metadata.name.unwrap_or_default(), by)
        })
        .collect())
}
