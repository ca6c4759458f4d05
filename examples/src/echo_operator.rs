//! `echo-operator`: an operator for a custom kind, from type to status.
//!
//! An `Echo` (`demo.kubeforge.dev/v1alpha1`, namespaced, with a status
//! subresource) asks for an HTTP echo server: a Deployment running
//! `hashicorp/http-echo` with the Echo's message, and a Service in front of it.
//! The reconcile:
//!
//! - guards the Echo with a finalizer ([`FINALIZER`]), so deleting it first runs
//!   the cleanup (deleting the children, and an event) and only then lets it go;
//! - creates or updates the Deployment and the Service with server-side apply
//!   (field manager [`MANAGER`]), each with an owner reference to the Echo
//!   (`controller: true`), so a change to them — a deleted Service, an edited
//!   Deployment — reconciles the Echo again ([`Controller::owns`]);
//! - writes `status.conditions` (`Ready`) and `status.observedGeneration` with
//!   server-side apply through the status subresource;
//! - records events (`Normal Synced`, `Normal Deleting`) about the Echo.
//!
//! The type comes from `#[derive(CustomResource)]`. The server must serve the
//! kind: until CustomResourceDefinitions are served, start the standalone server
//! with `--custom-resource echoes.demo.kubeforge.dev/v1alpha1:Echo`, or build a
//! `TestServer` with the kind in [`RESOURCE`]; both stand in for creating the CRD.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kubeforge_client::api::{Api, Patch};
use kubeforge_client::core::{DeleteOptions, PatchOptions};
use kubeforge_client::{Client, CustomResource};
use kubeforge_informer::SharedInformerFactory;
use kubeforge_informer::controller::{Action, Controller, ControllerError, ObjectState, Request};
use kubeforge_informer::events::{EventType, ObjectReference, Recorder, Reporter};
use kubeforge_informer::finalizer::{Event, FinalizerError, finalizer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// The finalizer guarding every Echo.
pub const FINALIZER: &str = "demo.kubeforge.dev/cleanup";

/// The field manager of every write.
pub const MANAGER: &str = "echo-operator";

/// The port the echo server listens on, and the Service's port.
const ECHO_PORT: i32 = 5678;

/// What an Echo asks for.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[resource(
    group = "demo.kubeforge.dev",
    version = "v1alpha1",
    plural = "echoes",
    namespaced,
    status = "EchoStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct EchoSpec {
    /// What the server answers.
    pub message: String,
    /// How many echo pods.
    #[serde(default = "one")]
    pub replicas: i32,
}

fn one() -> i32 {
    1
}

/// What the operator observed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct EchoStatus {
    /// The generation of the spec the children match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` once the children are in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A status condition (the `metav1.Condition` shape).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The condition's type (`Ready`).
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// A CamelCase reason.
    pub reason: String,
    /// A human-readable message.
    #[serde(default)]
    pub message: String,
    /// The generation this condition was set for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the status last changed.
    pub last_transition_time: String,
}

/// The kind's group, version, kind and plural, to register it with a server that
/// does not serve CRDs yet (`TestServer::builder().custom_resource(..)`).
pub const RESOURCE: (&str, &str, &str, &str) = ("demo.kubeforge.dev", "v1alpha1", "Echo", "echoes");

/// The `kubeforge-apiserver --custom-resource` value that serves the kind.
pub fn apiserver_flag() -> String {
    let (group, version, kind, plural) = RESOURCE;
    format!("{plural}.{group}/{version}:{kind}")
}

/// What a reconcile can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A write to the server failed.
    #[error(transparent)]
    Client(#[from] kubeforge_client::Error),
    /// The finalizer protocol failed.
    #[error(transparent)]
    Finalizer(#[from] FinalizerError<kubeforge_client::Error>),
}

/// What the reconciles share.
pub struct Context {
    client: Client,
    recorder: Recorder,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

/// The children's name: `echo-<echo name>`.
pub fn child_name(echo: &str) -> String {
    format!("echo-{echo}")
}

fn owner_reference(echo: &Echo) -> Value {
    json!({
        "apiVersion": "demo.kubeforge.dev/v1alpha1",
        "kind": "Echo",
        "name": echo.metadata.name,
        "uid": echo.metadata.uid,
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// The Deployment an Echo wants, as an apply configuration.
fn desired_deployment(echo: &Echo, name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "labels": { "app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": MANAGER },
            "ownerReferences": [owner_reference(echo)],
        },
        "spec": {
            "replicas": echo.spec.replicas,
            "selector": { "matchLabels": { "app.kubernetes.io/name": name } },
            "template": {
                "metadata": { "labels": { "app.kubernetes.io/name": name } },
                "spec": {
                    "containers": [{
                        "name": "echo",
                        "image": "hashicorp/http-echo:1.0",
                        "args": [format!("-text={}", echo.spec.message), format!("-listen=:{ECHO_PORT}")],
                        "ports": [{ "containerPort": ECHO_PORT, "name": "http" }],
                    }],
                },
            },
        },
    })
}

/// The Service an Echo wants, as an apply configuration.
fn desired_service(echo: &Echo, name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "labels": { "app.kubernetes.io/managed-by": MANAGER },
            "ownerReferences": [owner_reference(echo)],
        },
        "spec": {
            "selector": { "app.kubernetes.io/name": name },
            "ports": [{ "name": "http", "port": 80, "targetPort": "http" }],
        },
    })
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn apply_options() -> PatchOptions {
    PatchOptions {
        field_manager: Some(MANAGER.to_owned()),
        // We own these objects: take fields back from whoever edited them.
        force: Some(true),
        ..PatchOptions::default()
    }
}

/// Makes the children match the Echo and reports it in the status.
async fn apply(echo: Arc<Echo>, ctx: &Context) -> Result<Action, kubeforge_client::Error> {
    let namespace = echo.metadata.namespace.clone().unwrap_or_default();
    let name = echo.metadata.name.clone().unwrap_or_default();
    let child = child_name(&name);
    Api::<Deployment>::namespaced(ctx.client.clone(), &namespace)
        .patch(
            &child,
            &apply_options(),
            &Patch::Apply(desired_deployment(&echo, &child)),
        )
        .await?;
    Api::<Service>::namespaced(ctx.client.clone(), &namespace)
        .patch(
            &child,
            &apply_options(),
            &Patch::Apply(desired_service(&echo, &child)),
        )
        .await?;

    let generation = echo.metadata.generation;
    let status = echo.status.clone().unwrap_or_default();
    if status.observed_generation == generation {
        return Ok(Action::Done);
    }
    // The transition time moves only when the condition's status changes.
    let ready_since = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "True")
        .map_or_else(now, |c| c.last_transition_time.clone());
    let status = json!({
        "apiVersion": "demo.kubeforge.dev/v1alpha1",
        "kind": "Echo",
        "metadata": { "name": name },
        "status": {
            "observedGeneration": generation,
            "conditions": [{
                "type": "Ready",
                "status": "True",
                "reason": "ChildrenApplied",
                "message": format!("Deployment and Service {child} match generation {}", generation.unwrap_or_default()),
                "observedGeneration": generation,
                "lastTransitionTime": ready_since,
            }],
        },
    });
    Api::<Echo>::namespaced(ctx.client.clone(), &namespace)
        .patch_status(&name, &apply_options(), &Patch::Apply(status))
        .await?;
    ctx.recorder.event(
        &ObjectReference::from_object(echo.as_ref()),
        None,
        EventType::Normal,
        "Synced",
        "Apply",
        &format!("Deployment and Service {child} applied"),
    );
    Ok(Action::Done)
}

/// Deletes the children before the Echo goes. (With a garbage collector the owner
/// references would do it; a finalizer is for what they cannot reach, and here
/// shows the protocol.)
async fn cleanup(echo: Arc<Echo>, ctx: &Context) -> Result<Action, kubeforge_client::Error> {
    let namespace = echo.metadata.namespace.clone().unwrap_or_default();
    let child = child_name(echo.metadata.name.as_deref().unwrap_or_default());
    ctx.recorder.event(
        &ObjectReference::from_object(echo.as_ref()),
        None,
        EventType::Normal,
        "Deleting",
        "Cleanup",
        &format!("deleting Deployment and Service {child}"),
    );
    let gone = |r: Result<_, kubeforge_client::Error>| match r {
        Err(e) if !e.is_not_found() => Err(e),
        _ => Ok(()),
    };
    gone(
        Api::<Deployment>::namespaced(ctx.client.clone(), &namespace)
            .delete(&child, &DeleteOptions::default())
            .await
            .map(drop),
    )?;
    gone(
        Api::<Service>::namespaced(ctx.client.clone(), &namespace)
            .delete(&child, &DeleteOptions::default())
            .await
            .map(drop),
    )?;
    Ok(Action::Done)
}

/// One reconcile of an Echo.
///
/// # Errors
///
/// A write failed; the controller retries with backoff.
pub async fn reconcile(req: Request<Echo>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ObjectState::Present(echo) = req.state() else {
        // Gone: the finalizer's cleanup already ran.
        return Ok(Action::Done);
    };
    let api = Api::<Echo>::namespaced(
        ctx.client.clone(),
        req.key().namespace().unwrap_or_default(),
    );
    let ctx = ctx.as_ref();
    Ok(
        finalizer(&api, FINALIZER, echo.clone(), |event| async move {
            match event {
                Event::Apply(echo) => apply(echo, ctx).await,
                Event::Cleanup(echo) => cleanup(echo, ctx).await,
            }
        })
        .await?,
    )
}

/// Runs the operator until `shutdown`, as replica `instance` (the events'
/// reporting instance).
///
/// # Errors
///
/// The controller could not start.
pub async fn run(
    client: Client,
    namespace: Option<&str>,
    instance: &str,
    shutdown: CancellationToken,
) -> Result<(), ControllerError> {
    let factory = match namespace {
        Some(ns) => SharedInformerFactory::namespaced(client.clone(), ns),
        None => SharedInformerFactory::new(client.clone()),
    };
    let recorder = Recorder::new(
        client.clone(),
        Reporter::new("demo.kubeforge.dev/echo-operator", instance),
    );
    let context = Arc::new(Context {
        client,
        recorder: recorder.clone(),
    });
    let result = Controller::new(factory.informer::<Echo>())
        .owns(factory.informer::<Deployment>())
        .owns(factory.informer::<Service>())
        .name("echo-operator")
        .workers(2)
        .run(reconcile, context, shutdown)
        .await;
    recorder.shutdown().await;
    factory.shutdown();
    result
}
