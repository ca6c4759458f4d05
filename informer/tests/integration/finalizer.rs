//! The finalizer helper inside a controller, and its writes under conflicts.

use std::sync::Arc;

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::api::{Api, Patch};
use kubeforge_client::core::{CreateOptions, DeleteOptions, PatchOptions};
use kubeforge_informer::SharedInformerFactory;
use kubeforge_informer::controller::{Action, Controller, ObjectState, Request};
use kubeforge_informer::finalizer::{Event, FinalizerError, finalizer};
use parking_lot::Mutex;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::{client, configmap, eventually, server};

const FINALIZER: &str = "example.com/cleanup";

/// What the reconciles saw: `apply <name> <had finalizer>` or `cleanup <name>`.
struct Ctx {
    api: Api<ConfigMap>,
    log: Mutex<Vec<String>>,
    /// Cleanups to fail before one succeeds.
    failing_cleanups: Mutex<u32>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failed(String);

async fn reconcile(req: Request<ConfigMap>, ctx: Arc<Ctx>) -> Result<Action, Failed> {
    let ObjectState::Present(obj) = req.state() else {
        ctx.log.lock().push(format!("gone {}", req.key().name()));
        return Ok(Action::Done);
    };
    finalizer(&ctx.api, FINALIZER, obj.clone(), |event| async {
        match event {
            Event::Apply(cm) => {
                let protected = cm
                    .metadata
                    .finalizers
                    .as_ref()
                    .is_some_and(|f| f.iter().any(|f| f == FINALIZER));
                ctx.log.lock().push(format!(
                    "apply {} {protected}",
                    cm.metadata.name.as_deref().unwrap_or_default()
                ));
                Ok(Action::Done)
            }
            Event::Cleanup(cm) => {
                let name = cm.metadata.name.clone().unwrap_or_default();
                ctx.log.lock().push(format!("cleanup {name}"));
                let mut failing = ctx.failing_cleanups.lock();
                if *failing > 0 {
                    *failing -= 1;
                    return Err(Failed("cleanup not possible yet".into()));
                }
                Ok(Action::Done)
            }
        }
    })
    .await
    .map_err(|e| Failed(e.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_finalizer_guards_apply_and_cleanup_runs_before_the_object_goes() {
    let server = server().await;
    let client = client(&server);
    let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
    api.create(&CreateOptions::default(), &configmap("guarded", "0"))
        .await
        .expect("create");
    let factory = SharedInformerFactory::namespaced(client, "default");
    let ctx = Arc::new(Ctx {
        api: api.clone(),
        log: Mutex::new(Vec::new()),
        failing_cleanups: Mutex::new(1),
    });
    let shutdown = CancellationToken::new();
    let controller = Controller::new(factory.informer::<ConfigMap>());
    let task = tokio::spawn(controller.run(reconcile, ctx.clone(), shutdown.clone()));
    eventually("applied", || !ctx.log.lock().is_empty()).await;
    let stored = api.get("guarded").await.expect("get");
    assert_eq!(
        stored.metadata.finalizers.as_deref(),
        Some(&[FINALIZER.to_owned()][..]),
        "the finalizer was added"
    );
    assert_eq!(
        ctx.log.lock()[0],
        "apply guarded true",
        "apply only ever runs once the finalizer protects the object"
    );

    api.delete("guarded", &DeleteOptions::default())
        .await
        .expect("delete");
    eventually("the first cleanup failed", || {
        ctx.log.lock().iter().any(|l| l == "cleanup guarded")
    })
    .await;
    // While the cleanup fails, the object stays, marked for deletion.
    let pending = api.get_opt("guarded").await.expect("get");
    if let Some(pending) = pending {
        assert!(pending.metadata.deletion_timestamp.is_some());
    }
    eventually("the object is gone after a cleanup succeeded", || {
        ctx.log.lock().iter().any(|l| l == "gone guarded")
    })
    .await;
    assert!(api.get_opt("guarded").await.expect("get").is_none());
    let cleanups = ctx
        .log
        .lock()
        .iter()
        .filter(|l| l.starts_with("cleanup"))
        .count();
    assert_eq!(cleanups, 2, "one failed cleanup, one that succeeded");
    shutdown.cancel();
    task.await.expect("task").expect("controller ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_object_gets_a_conflict_and_loses_no_finalizer() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    let stale = api
        .create(&CreateOptions::default(), &configmap("shared", "0"))
        .await
        .expect("create");
    // Another controller adds its own finalizer after we read the object.
    api.patch(
        "shared",
        &PatchOptions::default(),
        &Patch::Merge(&json!({ "metadata": { "finalizers": ["other.example.com/keep"] } })),
    )
    .await
    .expect("patch");
    let ran = Mutex::new(false);
    let result = finalizer(&api, FINALIZER, Arc::new(stale), |_| async {
        *ran.lock() = true;
        Ok::<_, Failed>(Action::Done)
    })
    .await;
    let err = result.expect_err("a stale write is refused");
    assert!(err.is_conflict(), "{err}");
    assert!(matches!(err, FinalizerError::AddFinalizer(_)));
    assert!(!*ran.lock(), "nothing ran on an unprotected object");
    let stored = api.get("shared").await.expect("get");
    assert_eq!(
        stored.metadata.finalizers.as_deref(),
        Some(&["other.example.com/keep".to_owned()][..])
    );

    // With the fresh object, ours joins theirs.
    let result = finalizer(&api, FINALIZER, Arc::new(stored), |_| async {
        Ok::<_, Failed>(Action::Done)
    })
    .await;
    assert!(matches!(result, Ok(Action::Done)));
    let stored = api.get("shared").await.expect("get");
    assert_eq!(
        stored.metadata.finalizers.as_deref(),
        Some(&["other.example.com/keep".to_owned(), FINALIZER.to_owned()][..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unqualified_finalizer_name_is_refused_before_any_write() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    let cm = api
        .create(&CreateOptions::default(), &configmap("plain", "0"))
        .await
        .expect("create");
    let result = finalizer(&api, "cleanup", Arc::new(cm), |_| async {
        Ok::<_, Failed>(Action::Done)
    })
    .await;
    assert!(matches!(result, Err(FinalizerError::InvalidName(_))));
    let stored = api.get("plain").await.expect("get");
    assert!(stored.metadata.finalizers.is_none());
}
