//! Leader election on a Lease, candidates racing against one server.
//!
//! Timings are short (lease 1 s, renew deadline 600 ms, retry 150 ms) unless a test
//! needs a wider gap. Tests assert the order of recorded instants and the bounds the
//! protocol guarantees, never how fast anything is.

use std::sync::Arc;
use std::time::Duration;

use kubeforge_client::Client;
use kubeforge_client::api::Api;
use kubeforge_client::core::{Status, UpdateOptions};
use kubeforge_informer::leader::{
    ConfigError, ElectionStatus, LeaderElectionConfig, LeaderElector, Lease, Stopped,
};
use kubeforge_testserver::{Fault, TestServer};
use parking_lot::Mutex;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::support;

const LEASE: Duration = Duration::from_secs(1);
const RENEW: Duration = Duration::from_millis(600);
const RETRY: Duration = Duration::from_millis(150);

/// The short timings most tests use.
fn fast(lease: &str, identity: &str) -> LeaderElectionConfig {
    LeaderElectionConfig::new("default", lease, identity)
        .lease_duration(LEASE)
        .renew_deadline(RENEW)
        .retry_period(RETRY)
}

/// One stretch of leadership as the guarded work saw it.
#[derive(Debug, Clone, Copy)]
struct Term {
    started: Instant,
    /// When the work saw its token cancelled (or was dropped).
    stopped: Option<Instant>,
}

/// A running candidate: its elector task, its shutdown token and its terms.
struct Candidate {
    identity: String,
    shutdown: CancellationToken,
    terms: Arc<Mutex<Vec<Term>>>,
    status: ElectionStatus,
    task: JoinHandle<Stopped>,
}

impl Candidate {
    fn spawn(client: Client, config: LeaderElectionConfig, identity: &str) -> Candidate {
        let mut elector = LeaderElector::new(client, config).expect("valid config");
        let status = elector.status();
        let shutdown = CancellationToken::new();
        let terms = Arc::new(Mutex::new(Vec::<Term>::new()));
        let task = {
            let shutdown = shutdown.clone();
            let terms = Arc::clone(&terms);
            tokio::spawn(async move {
                elector
                    .run(shutdown, move |leadership| async move {
                        let i = {
                            let mut t = terms.lock();
                            t.push(Term {
                                started: Instant::now(),
                                stopped: None,
                            });
                            t.len() - 1
                        };
                        leadership.token().cancelled().await;
                        terms.lock()[i].stopped = Some(Instant::now());
                    })
                    .await
            })
        };
        Candidate {
            identity: identity.to_owned(),
            shutdown,
            terms,
            status,
            task,
        }
    }

    fn terms(&self) -> Vec<Term> {
        self.terms.lock().clone()
    }

    /// Whether the work is running as leader right now.
    fn leading(&self) -> bool {
        self.terms
            .lock()
            .last()
            .is_some_and(|t| t.stopped.is_none())
    }

    fn started(&self) -> Instant {
        self.terms().first().expect("has led").started
    }

    /// Cancels shutdown and waits for `run` to return.
    async fn stop(self) -> Stopped {
        self.shutdown.cancel();
        self.task.await.expect("elector task does not panic")
    }

    /// Drops the election mid-flight, as a crash would; the work stops no later than
    /// this returns.
    async fn crash(self) -> Vec<Term> {
        self.task.abort();
        let _ = self.task.await;
        let now = Instant::now();
        let mut terms = self.terms.lock().clone();
        for t in &mut terms {
            t.stopped.get_or_insert(now);
        }
        terms
    }
}

fn candidate(server: &TestServer, config: LeaderElectionConfig, identity: &str) -> Candidate {
    Candidate::spawn(support::client(server), config, identity)
}

fn leases(server: &TestServer) -> Api<Lease> {
    Api::namespaced(support::client(server), "default")
}

fn injected_500() -> Status {
    Status::internal_error("injected")
}

/// A single candidate creates the Lease with its identity, keeps renewing it (the
/// renew time and resourceVersion move, the holder and acquire time do not), reports
/// itself as the new leader, and hands the Lease back on shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_candidate_acquires_renews_and_releases_the_lease() {
    let server = support::server().await;
    let seen = Arc::new(Mutex::new(Vec::<Option<String>>::new()));
    let config = {
        let seen = Arc::clone(&seen);
        fast("solo", "a").on_new_leader(move |id| seen.lock().push(id.map(str::to_owned)))
    };
    let a = candidate(&server, config, "a");
    support::eventually("a leads", || a.leading()).await;

    let api = leases(&server);
    let first = api.get("solo").await.expect("lease exists");
    assert_eq!(first.spec.holder_identity.as_deref(), Some("a"));
    assert_eq!(first.spec.lease_duration_seconds, Some(1));
    assert_eq!(first.spec.lease_transitions, Some(0));
    assert!(first.spec.acquire_time.is_some());

    let deadline = Instant::now() + Duration::from_secs(20);
    let renewed = loop {
        let now = api.get("solo").await.expect("lease exists");
        if now.metadata.resource_version != first.metadata.resource_version {
            break now;
        }
        assert!(Instant::now() < deadline, "the lease was never renewed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(renewed.spec.holder_identity.as_deref(), Some("a"));
    assert_eq!(renewed.spec.acquire_time, first.spec.acquire_time);
    assert_eq!(renewed.spec.lease_transitions, Some(0));
    assert_ne!(renewed.spec.renew_time, first.spec.renew_time);

    assert!(a.status.is_leader());
    assert_eq!(a.status.leader().as_deref(), Some("a"));
    assert!(a.status.check(Duration::ZERO).is_ok());

    let status = a.status.clone();
    assert_eq!(a.stop().await, Stopped::Shutdown { released: true });
    assert!(!status.is_leader());
    let released = api.get("solo").await.expect("lease exists");
    assert_eq!(released.spec.holder_identity.as_deref(), Some(""));
    assert_eq!(released.spec.lease_duration_seconds, Some(1));
    assert_eq!(released.spec.lease_transitions, Some(0));
    assert_eq!(*seen.lock(), vec![Some("a".to_owned()), None]);
}

/// Of two candidates exactly one leads; when it shuts down and releases, the other
/// takes over long before the old record could have expired, and the epoch moves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_release_the_other_candidate_takes_over_before_the_lease_would_expire() {
    let server = support::server().await;
    // A long lease, so that "before it would expire" is a generous bound.
    let config = |id: &str| {
        LeaderElectionConfig::new("default", "pair", id)
            .lease_duration(Duration::from_secs(5))
            .renew_deadline(Duration::from_secs(3))
            .retry_period(RETRY)
    };
    let a = candidate(&server, config("a"), "a");
    let b = candidate(&server, config("b"), "b");
    support::eventually("someone leads", || a.leading() || b.leading()).await;
    tokio::time::sleep(RETRY * 4).await;
    assert!(a.leading() != b.leading(), "exactly one candidate leads");
    let (leader, other) = if a.leading() { (a, b) } else { (b, a) };
    assert!(other.terms().is_empty());

    let stopped = leader.stopped_after_stop().await;
    support::eventually("the other leads", || other.leading()).await;
    assert!(other.started() > stopped, "terms do not overlap");
    // Without the release the other could not start before the old record expired
    // (at the earliest lease duration − renew deadline after the old leader stopped).
    assert!(
        other.started() < stopped + Duration::from_secs(2),
        "the released lease was taken over at once"
    );
    let lease = leases(&server).get("pair").await.expect("lease exists");
    assert_eq!(
        lease.spec.holder_identity.as_deref(),
        Some(other.identity.as_str())
    );
    assert_eq!(lease.spec.lease_transitions, Some(1));
    assert_eq!(other.stop().await, Stopped::Shutdown { released: true });
}

impl Candidate {
    /// Stops a leader that releases, checks how it ended, and returns when its work
    /// stopped.
    async fn stopped_after_stop(self) -> Instant {
        let terms = Arc::clone(&self.terms);
        assert_eq!(self.stop().await, Stopped::Shutdown { released: true });
        terms
            .lock()
            .last()
            .and_then(|t| t.stopped)
            .expect("the work saw its token cancelled")
    }
}

/// Without release, the other candidate waits out the lease: it cannot start before
/// `lease duration − renew deadline` after the old leader stopped (the old leader's
/// last renewal started at most a renew deadline before it stopped, and the other
/// waits a whole lease duration after observing that renewal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_release_the_other_candidate_waits_for_the_lease_to_expire() {
    let server = support::server().await;
    let a = candidate(
        &server,
        fast("norelease", "a").release_on_cancel(false),
        "a",
    );
    support::eventually("a leads", || a.leading()).await;
    let b = candidate(
        &server,
        fast("norelease", "b").release_on_cancel(false),
        "b",
    );
    // b observes a's record a few times while a renews.
    tokio::time::sleep(RETRY * 4).await;
    assert!(b.terms().is_empty());

    let a_terms = Arc::clone(&a.terms);
    assert_eq!(a.stop().await, Stopped::Shutdown { released: false });
    let a_stopped = a_terms.lock()[0].stopped.expect("a stopped leading");
    let lease = leases(&server)
        .get("norelease")
        .await
        .expect("lease exists");
    assert_eq!(lease.spec.holder_identity.as_deref(), Some("a"));

    support::eventually("b leads", || b.leading()).await;
    assert!(
        b.started() >= a_stopped + (LEASE - RENEW),
        "b started {:?} after a stopped, before the lease could expire",
        b.started() - a_stopped
    );
    let lease = leases(&server)
        .get("norelease")
        .await
        .expect("lease exists");
    assert_eq!(lease.spec.holder_identity.as_deref(), Some("b"));
    assert_eq!(lease.spec.lease_transitions, Some(1));
    assert_eq!(b.stop().await, Stopped::Shutdown { released: false });
}

/// A candidate that never acquired still reports how it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_shut_down_while_waiting_reports_it_never_led() {
    let server = support::server().await;
    let a = candidate(&server, fast("waiting", "a"), "a");
    support::eventually("a leads", || a.leading()).await;
    let b = candidate(&server, fast("waiting", "b"), "b");
    tokio::time::sleep(RETRY * 2).await;
    assert_eq!(b.stop().await, Stopped::BeforeLeading);
    assert_eq!(a.stop().await, Stopped::Shutdown { released: true });
}

/// When every renewal fails with a 500, the leader gives up at its renew deadline,
/// and its work stops before the other candidate's starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_renewals_fail_stops_before_another_starts() {
    let server = support::server().await;
    let a = candidate(&server, fast("failing", "a"), "a");
    support::eventually("a leads", || a.leading()).await;
    let b = candidate(&server, fast("failing", "b"), "b");
    tokio::time::sleep(RETRY * 3).await;

    // Enough failures for a's whole renew deadline (two updates per attempt) and then
    // some of b's first takeover attempts; they run out, so b gets in eventually.
    server.inject(
        Fault::fail(injected_500())
            .verb("update")
            .resource("leases")
            .times(20),
    );
    let a_terms = Arc::clone(&a.terms);
    let a_status = a.status.clone();
    let a_end = tokio::time::timeout(Duration::from_secs(20), a.task)
        .await
        .expect("a gives up")
        .expect("elector task does not panic");
    assert_eq!(a_end, Stopped::LeaseLost);
    assert!(!a_status.is_leader());
    let a_stopped = a_terms.lock()[0].stopped.expect("a stopped leading");

    support::eventually("b leads", || b.leading()).await;
    assert!(
        a_stopped < b.started(),
        "a stopped leading before b started"
    );
    assert_eq!(b.stop().await, Stopped::Shutdown { released: true });
}

/// A deposed leader's confirmation fails with a conflict: somebody else wrote the
/// Lease (as a candidate taking over does) since its last write. Before that, a
/// confirmation succeeds and returns the Lease's resourceVersion and epoch; after
/// it, the leader notices at once and stops leading without touching the Lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposed_leaders_confirmation_fails_with_a_conflict() {
    let server = support::server().await;
    // A long retry period, so that no renewal races the steps below.
    let config = LeaderElectionConfig::new("default", "fenced", "a")
        .lease_duration(Duration::from_secs(30))
        .renew_deadline(Duration::from_secs(20))
        .retry_period(Duration::from_secs(10));
    let mut elector = LeaderElector::new(support::client(&server), config).expect("valid config");
    let (first_tx, first_rx) = tokio::sync::oneshot::channel();
    let (second_tx, second_rx) = tokio::sync::oneshot::channel();
    let deposed = Arc::new(tokio::sync::Notify::new());
    let shutdown = CancellationToken::new();
    let run = {
        let deposed = Arc::clone(&deposed);
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            elector
                .run(shutdown, move |leadership| async move {
                    let held = leadership.fence();
                    let _ = first_tx
                        .send((held, leadership.confirm().await.map_err(|e| e.to_string())));
                    deposed.notified().await;
                    let _ = second_tx.send(leadership.confirm().await);
                    leadership.token().cancelled().await;
                })
                .await
        })
    };

    let (held, confirmed) = first_rx.await.expect("the work ran");
    let confirmed = confirmed.expect("a leader confirms");
    let api = leases(&server);
    let lease = api.get("fenced").await.expect("lease exists");
    assert_eq!(confirmed.transitions, 0);
    assert_eq!(
        Some(&confirmed.resource_version),
        lease.metadata.resource_version.as_ref()
    );
    assert_ne!(
        held.resource_version, confirmed.resource_version,
        "a confirmation renews"
    );

    // Another candidate takes over (as if `a` had been partitioned away).
    let mut taken = lease.clone();
    taken.spec.holder_identity = Some("usurper".to_owned());
    taken.spec.lease_transitions = Some(1);
    api.replace("fenced", &UpdateOptions::default(), &taken)
        .await
        .expect("takeover");
    deposed.notify_one();

    let err = second_rx
        .await
        .expect("the work confirmed again")
        .expect_err("deposed");
    assert!(err.is_conflict(), "{err:?}");
    let end = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("a notices it was deposed without waiting for its deadline")
        .expect("elector task does not panic");
    assert_eq!(end, Stopped::LeaseLost);
    let lease = api.get("fenced").await.expect("lease exists");
    assert_eq!(lease.spec.holder_identity.as_deref(), Some("usurper"));
    shutdown.cancel();
}

/// Invalid configs are refused up front, with the rule that was broken.
#[tokio::test]
async fn invalid_configs_are_refused_with_the_broken_rule() {
    let server = support::server().await;
    let client = support::client(&server);
    let check = |config: LeaderElectionConfig| {
        LeaderElector::new(client.clone(), config).expect_err("invalid config")
    };
    assert_eq!(
        check(LeaderElectionConfig::new("default", "l", "")),
        ConfigError::EmptyIdentity
    );
    let err = check(fast("l", "a").renew_deadline(LEASE));
    assert!(matches!(
        err,
        ConfigError::LeaseNotLongerThanRenewDeadline { .. }
    ));
    assert_eq!(
        err.to_string(),
        "lease duration 1s must be greater than the renew deadline 1s"
    );
    let err = check(fast("l", "a").retry_period(Duration::from_millis(500)));
    assert_eq!(
        err.to_string(),
        "renew deadline 600ms must be greater than 1.2 × the retry period 500ms"
    );
    assert_eq!(
        check(fast("l", "a").retry_period(Duration::ZERO)),
        ConfigError::NotPositive {
            field: "retry period"
        }
    );
    assert!(matches!(
        check(fast("l", "a").lease_duration(Duration::from_millis(1500))),
        ConfigError::LeaseNotWholeSeconds(_)
    ));
}

/// A small deterministic generator (splitmix64), so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo))
    }
}

/// One seeded run: three candidates, then failed and slow Lease requests, graceful
/// stops and crashes picked by the seed, replacing each stopped candidate. Returns
/// every candidate's terms.
async fn chaos_run(seed: u64) -> Vec<(String, Vec<Term>)> {
    let server = support::server().await;
    let mut rng = Rng(seed);
    let config = |id: &str, release: bool| {
        LeaderElectionConfig::new("default", "chaos", id)
            .lease_duration(LEASE)
            .renew_deadline(Duration::from_millis(500))
            .retry_period(Duration::from_millis(100))
            .release_on_cancel(release)
    };
    let mut next_id = 0;
    let mut spawn = |rng: &mut Rng| {
        let id = format!("c{next_id}");
        next_id += 1;
        candidate(&server, config(&id, rng.below(4) != 0), &id)
    };
    let mut running: Vec<Candidate> = (0..3).map(|_| spawn(&mut rng)).collect();
    let mut done = Vec::new();
    for _ in 0..12 {
        tokio::time::sleep(rng.millis(100, 400)).await;
        match rng.below(6) {
            // enough failures, at times, to outlast a renew deadline
            0 => server.inject(
                Fault::fail(injected_500())
                    .verb("update")
                    .resource("leases")
                    .times(1 + rng.below(12) as usize),
            ),
            // slow reads, and slow writes that may outlast the deadline yet commit
            1 => server.inject(
                Fault::delay(rng.millis(100, 800))
                    .verb(if rng.below(2) == 0 { "update" } else { "get" })
                    .resource("leases")
                    .times(1 + rng.below(3) as usize),
            ),
            // the network heals
            5 => server.clear_faults(),
            kill => {
                // Mostly the leader, so that leadership changes hands.
                let leader = running.iter().position(Candidate::leading);
                let i = match leader {
                    Some(i) if rng.below(4) != 0 => i,
                    _ => rng.below(running.len() as u64) as usize,
                };
                let c = running.remove(i);
                let id = c.identity.clone();
                if kill == 4 {
                    done.push((id, c.crash().await));
                } else {
                    let terms = Arc::clone(&c.terms);
                    c.stop().await;
                    done.push((id, terms.lock().clone()));
                }
                running.push(spawn(&mut rng));
            }
        }
    }
    server.clear_faults();
    for c in running {
        let id = c.identity.clone();
        let terms = Arc::clone(&c.terms);
        c.stop().await;
        done.push((id, terms.lock().clone()));
    }
    done
}

/// Over many seeded runs with failing and slow Lease requests, graceful stops and
/// crashes, no two candidates ever lead at the same time: the terms, ordered by
/// start, never overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_two_candidates_lead_at_once_under_faults_and_crashes() {
    let seeds: Vec<u64> = (0..20).map(|i| 0x5eed_0000 + i).collect();
    let mut handovers = 0;
    for batch in seeds.chunks(5) {
        let runs = futures::future::join_all(batch.iter().map(|&s| chaos_run(s))).await;
        for (seed, run) in batch.iter().zip(runs) {
            let mut terms: Vec<(Instant, Instant, &str)> = run
                .iter()
                .flat_map(|(id, ts)| {
                    ts.iter().map(move |t| {
                        (
                            t.started,
                            t.stopped.expect("every term ended by the end of the run"),
                            id.as_str(),
                        )
                    })
                })
                .collect();
            assert!(!terms.is_empty(), "seed {seed:#x}: somebody led");
            terms.sort();
            handovers += terms.len() - 1;
            for pair in terms.windows(2) {
                let ((_, prev_end, prev), (next_start, _, next)) = (pair[0], pair[1]);
                assert!(
                    prev_end <= next_start,
                    "seed {seed:#x}: {next} started leading {:?} before {prev} stopped",
                    prev_end - next_start
                );
            }
        }
    }
    // The runs are only worth something if leadership changed hands in them.
    eprintln!(
        "leadership changed hands {handovers} times over {} runs",
        seeds.len()
    );
    assert!(handovers >= seeds.len(), "only {handovers} handovers");
}
