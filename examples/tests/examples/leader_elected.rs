use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::Client;
use kubeforge_client::api::Api;
use kubeforge_client::core::CreateOptions;
use kubeforge_examples::leader_elected::{DEMO_LABEL, Replica, reconciled_by, run};
use kubeforge_informer::leader::Stopped;
use tokio_util::sync::CancellationToken;

use crate::support::{client, server};

/// Short timings so the test takes seconds: 2 s lease, 1 s renew deadline, 200 ms retry.
fn replica(identity: &str) -> Replica {
    Replica {
        lease_duration: Duration::from_secs(2),
        renew_deadline: Duration::from_secs(1),
        retry_period: Duration::from_millis(200),
        ..Replica::new("default", identity)
    }
}

async fn create_demo(api: &Api<ConfigMap>, name: &str) {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.to_owned());
    cm.metadata.labels = Some(BTreeMap::from([(DEMO_LABEL.to_owned(), "yes".to_owned())]));
    api.create(&CreateOptions::default(), &cm)
        .await
        .expect("create");
}

/// Waits until `name` is reconciled by someone; returns who.
async fn reconciler_of(client: &Client, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let by = reconciled_by(client, "default")
            .await
            .expect("list")
            .into_iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, b)| b);
        if let Some(by) = by {
            return by;
        }
        assert!(Instant::now() < deadline, "{name} was not reconciled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_leader_dies_the_other_replica_takes_over_within_the_lease_duration() {
    let server = server().await;
    let client = client(&server);
    let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let (stop_a, stop_b) = (CancellationToken::new(), CancellationToken::new());
    let a = tokio::spawn(run(client.clone(), replica("replica-a"), stop_a.clone()));
    let b = tokio::spawn(run(client.clone(), replica("replica-b"), stop_b.clone()));

    create_demo(&api, "first").await;
    let leader = reconciler_of(&client, "first").await;
    let (leader_task, follower_stop, follower, follower_task) = if leader == "replica-a" {
        (a, stop_b, "replica-b", b)
    } else {
        (b, stop_a, "replica-a", a)
    };

    // The leader crashes: no release, the Lease must expire.
    leader_task.abort();
    let killed = Instant::now();
    create_demo(&api, "second").await;
    assert_eq!(reconciler_of(&client, "second").await, follower);
    let took = killed.elapsed();
    // The follower waits one lease duration (2 s) from the last renewal it saw, then
    // acquires at its next retry; the bound leaves a wide margin for a loaded machine
    // and still fails if the follower waited for a lease much longer than its own.
    assert!(took < Duration::from_secs(5), "took over after {took:?}");
    // Everything the new leader caches is reconciled by it, the old ConfigMap too.
    assert_eq!(reconciler_of(&client, "first").await, follower);

    follower_stop.cancel();
    let stopped = follower_task
        .await
        .expect("replica task")
        .expect("replica ran");
    assert_eq!(stopped, Stopped::Shutdown { released: true });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_shuts_down_hands_over_at_once() {
    let server = server().await;
    let client = client(&server);
    let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let (stop_a, stop_b) = (CancellationToken::new(), CancellationToken::new());
    // Long leases: a handover faster than one proves the Lease was given back.
    let slow = |id: &str| Replica {
        lease_duration: Duration::from_secs(15),
        renew_deadline: Duration::from_secs(10),
        retry_period: Duration::from_millis(200),
        ..Replica::new("default", id)
    };
    let a = tokio::spawn(run(client.clone(), slow("replica-a"), stop_a.clone()));
    create_demo(&api, "first").await;
    assert_eq!(reconciler_of(&client, "first").await, "replica-a");
    let b = tokio::spawn(run(client.clone(), slow("replica-b"), stop_b.clone()));

    stop_a.cancel();
    let handed = Instant::now();
    let stopped = a.await.expect("replica task").expect("replica ran");
    assert_eq!(stopped, Stopped::Shutdown { released: true });
    create_demo(&api, "second").await;
    assert_eq!(reconciler_of(&client, "second").await, "replica-b");
    assert!(
        handed.elapsed() < Duration::from_secs(15),
        "the follower did not wait for the lease to expire"
    );
    stop_b.cancel();
    b.await.expect("replica task").expect("replica ran");
}
