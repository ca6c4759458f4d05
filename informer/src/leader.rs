//! Leader election on a `coordination.k8s.io/v1` Lease: client-go's
//! `tools/leaderelection`, plus a fencing value.
//!
//! Several replicas of a controller run a [`LeaderElector`] on the same Lease. One of
//! them holds it and runs the guarded work; the others wait and take over when the
//! holder stops renewing. The semantics and defaults are client-go's:
//!
//! - a candidate tries to acquire every retry period (jittered), and takes the Lease
//!   when nobody holds it or when the holder's record has not changed for a whole
//!   lease duration, *as measured by the candidate's own clock* since it first saw
//!   that record. The times written inside the record are never compared with the
//!   local clock (only their change counts), so clock skew between machines does not
//!   matter; the price is that a new candidate always waits a full lease duration
//!   after it first observes a held record;
//! - the leader renews every retry period and gives up when no renewal succeeded
//!   within the renew deadline;
//! - on the way out it can hand the Lease back (`holderIdentity` emptied,
//!   `leaseDurationSeconds` 1) so that another candidate takes over at once.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = kubeforge_testserver::TestServer::start().await?;
//! # let config = kubeforge_client::__doctest::config(server.base_url(), server.ca_pem());
//! use kubeforge_client::Client;
//! use kubeforge_informer::leader::{LeaderElectionConfig, LeaderElector, Stopped};
//! use tokio_util::sync::CancellationToken;
//!
//! let election = LeaderElectionConfig::new("default", "my-controller", "replica-a");
//! let mut elector = LeaderElector::new(Client::new(config)?, election)?;
//! let shutdown = CancellationToken::new(); // cancel it on SIGTERM
//! # let stop = shutdown.clone();
//! let stopped = elector
//!     .run(shutdown, |leadership| async move {
//!         // Reconcile until leadership.token() is cancelled. Before a write that
//!         // must not come from a deposed leader, confirm we still hold the Lease:
//!         if let Ok(fence) = leadership.confirm().await {
//!             println!("leading, epoch {}", fence.transitions);
//!         }
//! #       stop.cancel();
//!         leadership.token().cancelled().await;
//!     })
//!     .await;
//! assert_eq!(stopped, Stopped::Shutdown { released: true });
//! # Ok(())
//! # }
//! ```
//!
//! | client-go (`tools/leaderelection`) | here |
//! | --- | --- |
//! | `LeaderElectionConfig`, `NewLeaderElector` | [`LeaderElectionConfig`], [`LeaderElector::new`] |
//! | `LeaderElector.Run(ctx)` | [`LeaderElector::run`] |
//! | `OnStartedLeading(ctx)` | the closure given to `run`, with a [`Leadership`] |
//! | `OnStoppedLeading()` | `run` returning [`Stopped`] (always, even if never leading) |
//! | `OnNewLeader(identity)` | [`LeaderElectionConfig::on_new_leader`] |
//! | `GetLeader`, `IsLeader`, `HealthzAdaptor` | [`ElectionStatus`] |
//! | `resourcelock.LeaseLock` | [`Lease`] (the only lock kind, as upstream today) |
//! | — | [`Fence`], [`Leadership::confirm`] |
//!
//! Where we differ from client-go, on purpose:
//!
//! - the renew deadline counts from the *start of the last successful write*, not
//!   from the start of the current renewal round. Any other candidate read that
//!   write after it started, so the leader gives up at least
//!   `lease_duration - renew_deadline` before anybody else may take over;
//! - while leading, finding another holder (or none) in the Lease ends leadership at
//!   once; client-go keeps retrying until the deadline, and may silently re-acquire a
//!   lease that somebody else held in between;
//! - the guarded work is awaited before the Lease is released, so "release on
//!   cancel" never hands the Lease over while the old leader still acts (client-go
//!   releases as soon as the context is cancelled and asks callers to make sure
//!   their work has finished);
//! - when the guarded work returns by itself, this candidate steps down.
//!
//! # What leader election does not guarantee
//!
//! Like client-go's, this election is based on time: a leader that is paused (GC,
//! a stopped VM, a blocked thread) for longer than the margin between the renew
//! deadline and the lease duration may act after another has taken over. The
//! [`Fence`] and [`Leadership::confirm`] narrow that window; they do not close it
//! (see [`Leadership::confirm`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use kubeforge_client::api::Api;
use kubeforge_client::core::{CreateOptions, UpdateOptions};
use kubeforge_client::{Client, CustomResource, Error};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::time::micro_time;

/// client-go's `JitterFactor`: a candidate waits between one and `1 + 1.2` retry
/// periods between two attempts to acquire, so that candidates do not move in step.
pub const JITTER_FACTOR: f64 = 1.2;

/// The spec of a `coordination.k8s.io/v1` Lease, the lock leader election writes.
///
/// Declared here rather than taken from `k8s-openapi` so that this crate does not
/// pick a Kubernetes version for its users.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[resource(group = "coordination.k8s.io", version = "v1", namespaced)]
#[serde(rename_all = "camelCase")]
pub struct LeaseSpec {
    /// The identity of the current holder; empty or absent when nobody holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_identity: Option<String>,
    /// How long, after a candidate observes a change, the holder is considered alive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_duration_seconds: Option<i32>,
    /// When the current holder acquired the Lease (a MicroTime, RFC 3339 with
    /// microseconds). Informational only: never compared with a local clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquire_time: Option<String>,
    /// When the holder last renewed (a MicroTime). Informational only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_time: Option<String>,
    /// How many times the Lease changed hands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_transitions: Option<i32>,
    /// Coordinated leader election's strategy; kept as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Coordinated leader election's preferred holder; kept as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_holder: Option<String>,
}

/// A callback told about each change of the observed leader.
type NewLeaderFn = Arc<dyn Fn(Option<&str>) + Send + Sync>;

/// Where the Lease lives, who we are, and the timings: client-go's
/// `LeaderElectionConfig`.
///
/// The defaults are client-go's "core clients" values: lease duration 15 s, renew
/// deadline 10 s, retry period 2 s, jitter factor 1.2. [`LeaderElector::new`]
/// validates the whole config.
#[derive(Clone)]
pub struct LeaderElectionConfig {
    namespace: String,
    name: String,
    identity: String,
    lease_duration: Duration,
    renew_deadline: Duration,
    retry_period: Duration,
    jitter_factor: f64,
    release_on_cancel: bool,
    on_new_leader: Option<NewLeaderFn>,
}

impl std::fmt::Debug for LeaderElectionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElectionConfig")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("identity", &self.identity)
            .field("lease_duration", &self.lease_duration)
            .field("renew_deadline", &self.renew_deadline)
            .field("retry_period", &self.retry_period)
            .field("jitter_factor", &self.jitter_factor)
            .field("release_on_cancel", &self.release_on_cancel)
            .field("on_new_leader", &self.on_new_leader.is_some())
            .finish()
    }
}

impl LeaderElectionConfig {
    /// The Lease `namespace/name`, contended for as `identity` (unique per replica,
    /// typically the pod name), with the default timings.
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        identity: impl Into<String>,
    ) -> Self {
        LeaderElectionConfig {
            namespace: namespace.into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            jitter_factor: JITTER_FACTOR,
            // client-go defaults to false. We default to true: the guarded work has
            // returned before we release (see `LeaderElector::run`), so handing the
            // Lease back is safe, and it saves the other replicas a whole lease
            // duration without a leader on every rolling update.
            release_on_cancel: true,
            on_new_leader: None,
        }
    }

    /// How long other candidates wait, after they last saw the Lease change, before
    /// taking it over (default 15 s). Written to the Lease in whole seconds, so it
    /// must be a whole number of seconds.
    pub fn lease_duration(mut self, d: Duration) -> Self {
        self.lease_duration = d;
        self
    }

    /// How long the leader keeps trying to renew before it gives up (default 10 s).
    pub fn renew_deadline(mut self, d: Duration) -> Self {
        self.renew_deadline = d;
        self
    }

    /// How often candidates try to acquire and the leader renews (default 2 s).
    pub fn retry_period(mut self, d: Duration) -> Self {
        self.retry_period = d;
        self
    }

    /// The jitter added to the wait between two acquire attempts, as a factor of the
    /// retry period (default [`JITTER_FACTOR`]).
    pub fn jitter_factor(mut self, factor: f64) -> Self {
        self.jitter_factor = factor;
        self
    }

    /// Whether to hand the Lease back when this candidate stops leading, once the
    /// guarded work has returned (default true).
    pub fn release_on_cancel(mut self, release: bool) -> Self {
        self.release_on_cancel = release;
        self
    }

    /// Called whenever the observed holder changes (including to this candidate, and
    /// to `None` when the Lease is released). Called on the election's task: keep it
    /// short and never block.
    pub fn on_new_leader(mut self, f: impl Fn(Option<&str>) + Send + Sync + 'static) -> Self {
        self.on_new_leader = Some(Arc::new(f));
        self
    }

    /// Checks the config as client-go's `NewLeaderElector` does: `lease_duration >
    /// renew_deadline > jitter_factor × retry_period`, all positive, a non-empty
    /// identity; and, ours, a non-empty Lease name and namespace and a lease duration
    /// in whole seconds.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.identity.is_empty() {
            return Err(ConfigError::EmptyIdentity);
        }
        if self.name.is_empty() {
            return Err(ConfigError::EmptyLeaseName);
        }
        if self.namespace.is_empty() {
            return Err(ConfigError::EmptyNamespace);
        }
        for (field, d) in [
            ("lease duration", self.lease_duration),
            ("renew deadline", self.renew_deadline),
            ("retry period", self.retry_period),
        ] {
            if d.is_zero() {
                return Err(ConfigError::NotPositive { field });
            }
        }
        if !(self.jitter_factor.is_finite() && self.jitter_factor >= 0.0) {
            return Err(ConfigError::InvalidJitterFactor(self.jitter_factor));
        }
        // client-go truncates the duration to whole seconds when it writes the record;
        // a truncated record would let others take over before our own deadline.
        if self.lease_duration.subsec_nanos() != 0 || lease_seconds(self.lease_duration).is_none() {
            return Err(ConfigError::LeaseNotWholeSeconds(self.lease_duration));
        }
        if self.lease_duration <= self.renew_deadline {
            return Err(ConfigError::LeaseNotLongerThanRenewDeadline {
                lease_duration: self.lease_duration,
                renew_deadline: self.renew_deadline,
            });
        }
        if self.renew_deadline.as_secs_f64() <= self.jitter_factor * self.retry_period.as_secs_f64()
        {
            return Err(ConfigError::RenewDeadlineTooShort {
                renew_deadline: self.renew_deadline,
                retry_period: self.retry_period,
                jitter_factor: self.jitter_factor,
            });
        }
        Ok(())
    }
}

/// `leaseDurationSeconds` for a duration, if it fits the field.
fn lease_seconds(d: Duration) -> Option<i32> {
    i32::try_from(d.as_secs()).ok()
}

/// Why a [`LeaderElectionConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The identity is empty.
    #[error("leader election identity is empty")]
    EmptyIdentity,
    /// The Lease name is empty.
    #[error("lease name is empty")]
    EmptyLeaseName,
    /// The Lease namespace is empty.
    #[error("lease namespace is empty")]
    EmptyNamespace,
    /// A duration is zero.
    #[error("{field} must be greater than zero")]
    NotPositive {
        /// Which duration.
        field: &'static str,
    },
    /// The jitter factor is negative or not a number.
    #[error("jitter factor {0} must be a finite number, zero or more")]
    InvalidJitterFactor(f64),
    /// The lease duration has a fraction of a second, or does not fit an `i32`.
    #[error("lease duration {0:?} must be a whole number of seconds")]
    LeaseNotWholeSeconds(Duration),
    /// `lease_duration <= renew_deadline`.
    #[error(
        "lease duration {lease_duration:?} must be greater than the renew deadline {renew_deadline:?}"
    )]
    LeaseNotLongerThanRenewDeadline {
        /// The configured lease duration.
        lease_duration: Duration,
        /// The configured renew deadline.
        renew_deadline: Duration,
    },
    /// `renew_deadline <= jitter_factor × retry_period`.
    #[error(
        "renew deadline {renew_deadline:?} must be greater than {jitter_factor} × the retry period {retry_period:?}"
    )]
    RenewDeadlineTooShort {
        /// The configured renew deadline.
        renew_deadline: Duration,
        /// The configured retry period.
        retry_period: Duration,
        /// The configured jitter factor.
        jitter_factor: f64,
    },
}

/// The proof of leadership from the last successful write of the Lease by this
/// leader: the Lease's `resourceVersion` and `leaseTransitions`.
///
/// `resource_version` changes on every renewal; `transitions` is the leadership
/// epoch, bumped on every change of holder, so it grows with every new leader (as
/// long as nobody deletes the Lease). Stamp it on what the leader writes and have
/// readers or admission refuse writes from an older epoch to get a real fencing
/// token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fence {
    /// The Lease's `metadata.resourceVersion` after our last write.
    pub resource_version: String,
    /// The Lease's `spec.leaseTransitions` after our last write.
    pub transitions: i32,
}

impl Fence {
    fn of(lease: &Lease) -> Fence {
        Fence {
            resource_version: lease.metadata.resource_version.clone().unwrap_or_default(),
            transitions: lease.spec.lease_transitions.unwrap_or(0),
        }
    }
}

/// Why [`Leadership::confirm`] could not confirm leadership. Whatever the cause, a
/// caller must not act as leader on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfirmError {
    /// The Lease changed since this leader last wrote it: somebody else wrote it,
    /// typically a candidate that took over.
    #[error("the lease changed since this leader last wrote it")]
    Conflict(#[source] Error),
    /// Leadership has already ended (lost, given up, or `run` returned).
    #[error("not leading")]
    NotLeading,
    /// The write failed for another reason, or did not finish within the renew
    /// deadline.
    #[error("could not confirm leadership")]
    Unconfirmed(#[source] Option<Error>),
}

impl ConfirmError {
    /// Whether the Lease was written by somebody else since our last write.
    pub fn is_conflict(&self) -> bool {
        matches!(self, ConfirmError::Conflict(_))
    }
}

/// How [`LeaderElector::run`] ended: client-go's `OnStoppedLeading`, always
/// delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stopped {
    /// Shutdown was requested before this candidate acquired the Lease; the work
    /// never ran.
    BeforeLeading,
    /// Shutdown was requested while leading; the work has returned. `released` says
    /// whether the Lease was handed back.
    Shutdown {
        /// Whether the Lease was handed back.
        released: bool,
    },
    /// The work returned by itself while leading, so this candidate stepped down.
    WorkReturned {
        /// Whether the Lease was handed back.
        released: bool,
    },
    /// No renewal succeeded within the renew deadline, or the Lease was found with
    /// another holder (or none); the work has returned.
    LeaseLost,
}

/// A reply channel for one confirmation.
type ConfirmReply = oneshot::Sender<Result<Fence, ConfirmError>>;

/// What the guarded work gets: client-go's leading `context`, plus the fencing value.
///
/// Cheap to clone; hand clones to the tasks that do the leader's work.
#[derive(Clone, Debug)]
pub struct Leadership {
    token: CancellationToken,
    shared: Arc<Shared>,
    /// Confirmations go to the renewal loop, so that they and the renewals are
    /// written one at a time with the same resourceVersion chain (two writers in one
    /// process would otherwise make each other fail with conflicts).
    confirm: mpsc::Sender<ConfirmReply>,
}

impl Leadership {
    /// The identity this candidate leads as.
    pub fn identity(&self) -> &str {
        &self.shared.config.identity
    }

    /// Cancelled the moment leadership is lost or given up (shutdown requested,
    /// renewals failing past the deadline, another holder seen). Stop acting as
    /// leader when it fires.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Whether leadership still holds: the token is not cancelled.
    pub fn is_leading(&self) -> bool {
        !self.token.is_cancelled()
    }

    /// The fence from the last successful acquire, renewal or confirmation.
    pub fn fence(&self) -> Fence {
        self.shared.state.lock().fence.clone().unwrap_or_default()
    }

    /// Confirms leadership by writing the Lease (a renewal) with the
    /// `resourceVersion` of our last write as precondition: a compare-and-swap that
    /// fails with a conflict if anybody else wrote the Lease since, as any candidate
    /// that took over must have.
    ///
    /// On success, at the moment the server committed the write this candidate was
    /// the holder, nobody else had held the Lease since our previous write, and the
    /// Lease is renewed: no other candidate may take over for at least the lease
    /// duration from then. What it does *not* protect: anything that happens after
    /// the confirmation. A leader that is paused between `confirm` and its next write
    /// for longer than the lease duration may still write as a deposed leader. For a
    /// hard guarantee the protected resource itself must check the fence (for
    /// example, objects carry [`Fence::transitions`] and writes with an older epoch
    /// are refused).
    ///
    /// A conflict can also come from a harmless write to the Lease by someone else
    /// (a label added with kubectl); it is reported as a conflict all the same, and
    /// the renewal loop then checks the Lease and keeps or ends leadership.
    ///
    /// # Errors
    ///
    /// [`ConfirmError::Conflict`] when the Lease changed since our last write;
    /// [`ConfirmError::NotLeading`] once leadership has ended;
    /// [`ConfirmError::Unconfirmed`] when the write failed otherwise or timed out.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe in that dropping the future never breaks the election: the write
    /// may still happen, as a renewal.
    pub async fn confirm(&self) -> Result<Fence, ConfirmError> {
        let (tx, rx) = oneshot::channel();
        if self.confirm.send(tx).await.is_err() {
            return Err(ConfirmError::NotLeading);
        }
        rx.await.unwrap_or(Err(ConfirmError::NotLeading))
    }
}

/// Leadership state readable from outside the election: who leads, whether we do,
/// and a health check (client-go's `GetLeader`, `IsLeader` and `HealthzAdaptor`).
#[derive(Clone, Debug)]
pub struct ElectionStatus {
    shared: Arc<Shared>,
}

impl ElectionStatus {
    /// The holder of the Lease as last observed, if any.
    pub fn leader(&self) -> Option<String> {
        let st = self.shared.state.lock();
        st.lease
            .as_ref()
            .and_then(|l| l.spec.holder_identity.clone())
            .filter(|h| !h.is_empty())
    }

    /// Whether this candidate is leading: acquired, and neither lost nor given up.
    pub fn is_leader(&self) -> bool {
        self.shared.state.lock().leading
    }

    /// client-go's `HealthzAdaptor` check: unhealthy when the guarded work is running
    /// (leading, or winding down after leadership ended) but the Lease has not been
    /// renewed for longer than the lease duration plus `max_tolerable_expired`. That
    /// is a process stuck as leader; a liveness probe that restarts it is the remedy.
    ///
    /// # Errors
    ///
    /// [`NotRenewedError`] when unhealthy.
    pub fn check(&self, max_tolerable_expired: Duration) -> Result<(), NotRenewedError> {
        let renewed_at = {
            let st = self.shared.state.lock();
            match (st.work_running, st.renewed_at) {
                (true, Some(at)) => at,
                _ => return Ok(()),
            }
        };
        let since = renewed_at.elapsed();
        if since > self.shared.config.lease_duration + max_tolerable_expired {
            return Err(NotRenewedError {
                lease: format!(
                    "{}/{}",
                    self.shared.config.namespace, self.shared.config.name
                ),
                since,
            });
        }
        Ok(())
    }
}

/// The leader's work is running but the Lease has not been renewed for too long.
#[derive(Debug, Clone, thiserror::Error)]
#[error("lease {lease} not renewed for {since:?} while the leader's work runs")]
pub struct NotRenewedError {
    /// `namespace/name` of the Lease.
    pub lease: String,
    /// Time since the last successful write.
    pub since: Duration,
}

/// Runs for leadership of one Lease: client-go's `LeaderElector`.
///
/// Build one per process and Lease with [`LeaderElector::new`], then call
/// [`run`](LeaderElector::run).
#[derive(Debug)]
pub struct LeaderElector {
    shared: Arc<Shared>,
}

/// What the elector, its status handles and the leadership handles share.
struct Shared {
    api: Api<Lease>,
    config: LeaderElectionConfig,
    state: Mutex<State>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What this candidate knows of the Lease. Guarded by one mutex, never held across
/// an await; callbacks run after the guard is dropped.
#[derive(Default)]
struct State {
    /// The Lease as last read or written by us. Its `resourceVersion` is the
    /// precondition of our next write.
    lease: Option<Lease>,
    /// Local time at which `lease.spec` last changed as we saw it. The only time used
    /// to judge whether another holder's record has expired.
    observed_at: Option<Instant>,
    /// The holder last reported to `on_new_leader`; `None` before the first report.
    reported: Option<Option<String>>,
    /// From our last successful write while acquiring or leading.
    fence: Option<Fence>,
    /// True from acquisition until leadership is lost or given up.
    leading: bool,
    /// True while the guarded work runs (it may outlive `leading` while winding down).
    work_running: bool,
    /// Start of our last successful write of the Lease while leading.
    renewed_at: Option<Instant>,
}

impl State {
    /// Records `lease` as seen at `now`; the observation time moves only when the
    /// record itself changed (client-go compares the raw record the same way).
    fn observe(&mut self, lease: Lease, now: Instant) {
        let changed = self.lease.as_ref().is_none_or(|old| old.spec != lease.spec);
        if changed || self.observed_at.is_none() {
            self.observed_at = Some(now);
        }
        self.lease = Some(lease);
    }

    fn holder(&self) -> Option<&str> {
        self.lease
            .as_ref()
            .and_then(|l| l.spec.holder_identity.as_deref())
            .filter(|h| !h.is_empty())
    }
}

/// Whether a record first seen at `observed_at` is still valid at `now`.
///
/// A record without a positive `leaseDurationSeconds` is judged with our own lease
/// duration: client-go would treat it as already expired, which lets a hand-written
/// Lease be taken at once; we prefer to wait.
fn record_is_valid(
    observed_at: Instant,
    lease_duration_seconds: Option<i32>,
    ours: Duration,
    now: Instant,
) -> bool {
    let duration = match lease_duration_seconds {
        Some(s) if s > 0 => Duration::from_secs(u64::from(s.unsigned_abs())),
        _ => ours,
    };
    observed_at + duration > now
}

/// The record we write: ours, keeping the acquire time and transitions when we
/// already hold `prev`, else a takeover that bumps the transitions.
fn next_spec(prev: Option<&LeaseSpec>, identity: &str, seconds: i32, now: &str) -> LeaseSpec {
    let prev_holder = prev.and_then(|p| p.holder_identity.as_deref());
    let ours = prev_holder == Some(identity);
    let (acquire_time, lease_transitions) = match prev {
        None => (Some(now.to_owned()), Some(0)),
        Some(p) if ours => (p.acquire_time.clone(), p.lease_transitions),
        Some(p) => (
            Some(now.to_owned()),
            Some(p.lease_transitions.unwrap_or(0).saturating_add(1)),
        ),
    };
    LeaseSpec {
        holder_identity: Some(identity.to_owned()),
        lease_duration_seconds: Some(seconds),
        acquire_time,
        renew_time: Some(now.to_owned()),
        lease_transitions,
        strategy: prev.and_then(|p| p.strategy.clone()),
        preferred_holder: prev.and_then(|p| p.preferred_holder.clone()),
    }
}

/// The outcome of one `try_acquire_or_renew`.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    /// We hold the Lease, freshly written.
    Leading,
    /// Somebody else holds it (or, when renewing, nobody: the Lease was released or
    /// deleted behind our back).
    NotOurs(Option<String>),
}

/// Acquiring takes a free or expired Lease; renewing accepts only a Lease we still
/// hold, so that a leader never silently re-acquires after someone else held it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Acquire,
    Renew,
}

/// Why the renewal loop ended.
#[derive(Debug)]
enum Loss {
    Deadline,
    NotOurs(Option<String>),
}

impl Shared {
    fn identity(&self) -> &str {
        &self.config.identity
    }

    fn seconds(&self) -> i32 {
        // validated: a whole number of seconds that fits
        lease_seconds(self.config.lease_duration).unwrap_or(i32::MAX)
    }

    /// Records what we read or wrote, then reports a change of holder.
    fn observe(&self, lease: Lease, wrote: bool) {
        let now = Instant::now();
        let report = {
            let mut st = self.state.lock();
            if wrote {
                st.fence = Some(Fence::of(&lease));
            }
            st.observe(lease, now);
            let holder = st.holder().map(str::to_owned);
            if st.reported.as_ref() == Some(&holder) {
                None
            } else {
                st.reported = Some(holder.clone());
                Some(holder)
            }
        };
        if let (Some(holder), Some(f)) = (report, &self.config.on_new_leader) {
            f(holder.as_deref());
        }
    }

    /// Writes our record over `base` (a compare-and-swap on its resourceVersion).
    async fn write(&self, base: &Lease) -> Result<Lease, Error> {
        let mut next = base.clone();
        next.spec = next_spec(
            Some(&base.spec),
            self.identity(),
            self.seconds(),
            &micro_time(jiff::Timestamp::now()),
        );
        let written = self
            .api
            .replace(&self.config.name, &UpdateOptions::default(), &next)
            .await?;
        self.observe(written.clone(), true);
        Ok(written)
    }

    /// client-go's `tryAcquireOrRenew`: a fast path that writes over our last write
    /// when we hold a valid Lease, else read, create when missing, refuse when
    /// another holder's record is still valid, and write.
    async fn try_acquire_or_renew(&self, mode: Mode) -> Result<Attempt, Error> {
        let fast = {
            let st = self.state.lock();
            let valid = |l: &Lease| {
                st.observed_at.is_some_and(|at| {
                    record_is_valid(
                        at,
                        l.spec.lease_duration_seconds,
                        self.config.lease_duration,
                        Instant::now(),
                    )
                })
            };
            match &st.lease {
                Some(l) if st.holder() == Some(self.identity()) && valid(l) => Some(l.clone()),
                _ => None,
            }
        };
        if let Some(base) = fast {
            match self.write(&base).await {
                Ok(_) => return Ok(Attempt::Leading),
                Err(e) => {
                    tracing::debug!(error = %e, "leader election: fast renewal failed; reading the lease")
                }
            }
        }

        let Some(current) = self.api.get_opt(&self.config.name).await? else {
            if mode == Mode::Renew {
                return Ok(Attempt::NotOurs(None));
            }
            let lease = Lease::new(
                &self.config.name,
                next_spec(
                    None,
                    self.identity(),
                    self.seconds(),
                    &micro_time(jiff::Timestamp::now()),
                ),
            );
            let created = self.api.create(&CreateOptions::default(), &lease).await?;
            self.observe(created, true);
            return Ok(Attempt::Leading);
        };

        self.observe(current.clone(), false);
        let holder = current
            .spec
            .holder_identity
            .clone()
            .filter(|h| !h.is_empty());
        let ours = holder.as_deref() == Some(self.identity());
        match mode {
            Mode::Renew if !ours => return Ok(Attempt::NotOurs(holder)),
            Mode::Acquire if !ours && holder.is_some() => {
                let valid = {
                    let st = self.state.lock();
                    st.observed_at.is_some_and(|at| {
                        record_is_valid(
                            at,
                            current.spec.lease_duration_seconds,
                            self.config.lease_duration,
                            Instant::now(),
                        )
                    })
                };
                if valid {
                    return Ok(Attempt::NotOurs(holder));
                }
            }
            _ => {}
        }
        self.write(&current).await?;
        Ok(Attempt::Leading)
    }

    /// Tries to acquire every jittered retry period until it succeeds (`Some(start
    /// of the successful attempt)`) or shutdown is requested (`None`).
    async fn acquire(&self, shutdown: &CancellationToken) -> Option<Instant> {
        let cfg = &self.config;
        loop {
            if shutdown.is_cancelled() {
                return None;
            }
            let start = Instant::now();
            // An attempt is not raced against shutdown: dropped halfway, its write
            // could commit unseen and leave the Lease held by nobody running. It is
            // bounded by the renew deadline instead (our choice; client-go relies on
            // the client's timeout).
            match tokio::time::timeout(cfg.renew_deadline, self.try_acquire_or_renew(Mode::Acquire))
                .await
            {
                Ok(Ok(Attempt::Leading)) => {
                    tracing::info!(lease = %cfg.name, identity = %cfg.identity, "acquired lease");
                    return Some(start);
                }
                Ok(Ok(Attempt::NotOurs(holder))) => {
                    tracing::trace!(?holder, "lease held by another candidate");
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "leader election: acquire failed"),
                Err(_) => tracing::debug!("leader election: acquire attempt timed out"),
            }
            let wait = cfg.retry_period
                + cfg
                    .retry_period
                    .mul_f64(cfg.jitter_factor * rand::random::<f64>());
            tokio::select! {
                () = shutdown.cancelled() => return None,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Renews every retry period, answering confirmations in between, until no write
    /// succeeded for the renew deadline or the Lease is found not ours.
    async fn keep_renewing(
        &self,
        mut renewed_at: Instant,
        mut confirms: mpsc::Receiver<ConfirmReply>,
    ) -> Loss {
        let cfg = &self.config;
        let mut next_attempt = Instant::now() + cfg.retry_period;
        loop {
            // Counted from the start of the last successful write: every other
            // candidate read that write after it started, so it waits at least a
            // lease duration from then, and we stop earlier than that.
            let deadline = renewed_at + cfg.renew_deadline;
            if Instant::now() >= deadline {
                return Loss::Deadline;
            }
            tokio::select! {
                Some(reply) = confirms.recv() => {
                    let start = Instant::now();
                    let result = match tokio::time::timeout_at(deadline, self.confirm_write()).await {
                        Ok(result) => result,
                        Err(_) => Err(ConfirmError::Unconfirmed(None)),
                    };
                    match &result {
                        Ok(_) => {
                            renewed_at = start;
                            self.state.lock().renewed_at = Some(start);
                            next_attempt = Instant::now() + cfg.retry_period;
                        }
                        // Somebody wrote the Lease: find out now whether it is still ours.
                        Err(ConfirmError::Conflict(_)) => next_attempt = Instant::now(),
                        Err(_) => {}
                    }
                    // The caller may have stopped waiting; nothing to do then.
                    let _ = reply.send(result);
                }
                () = tokio::time::sleep_until(next_attempt.min(deadline)) => {
                    if Instant::now() >= deadline {
                        return Loss::Deadline;
                    }
                    let start = Instant::now();
                    match tokio::time::timeout_at(deadline, self.try_acquire_or_renew(Mode::Renew)).await {
                        Ok(Ok(Attempt::Leading)) => {
                            renewed_at = start;
                            self.state.lock().renewed_at = Some(start);
                        }
                        Ok(Ok(Attempt::NotOurs(holder))) => return Loss::NotOurs(holder),
                        Ok(Err(e)) => tracing::debug!(error = %e, "leader election: renewal failed"),
                        Err(_) => return Loss::Deadline,
                    }
                    next_attempt = Instant::now() + cfg.retry_period;
                }
            }
        }
    }

    /// One confirmation: a strict compare-and-swap over our last write.
    async fn confirm_write(&self) -> Result<Fence, ConfirmError> {
        let base = {
            let st = self.state.lock();
            match &st.lease {
                Some(l) if st.leading && st.holder() == Some(self.identity()) => l.clone(),
                _ => return Err(ConfirmError::NotLeading),
            }
        };
        match self.write(&base).await {
            Ok(written) => Ok(Fence::of(&written)),
            Err(e) if e.is_conflict() => Err(ConfirmError::Conflict(e)),
            Err(e) => Err(ConfirmError::Unconfirmed(Some(e))),
        }
    }

    /// Hands the Lease back if we hold it: holder emptied, duration 1 s, as
    /// client-go. Retries on conflict (re-reading; a Lease no longer ours is left
    /// alone) and on errors, for at most the renew deadline. Returns whether the
    /// Lease was released by us.
    async fn release(&self) -> bool {
        let deadline = Instant::now() + self.config.renew_deadline;
        let mut base = {
            let st = self.state.lock();
            match &st.lease {
                Some(l) if st.holder() == Some(self.identity()) => l.clone(),
                _ => return false,
            }
        };
        loop {
            let mut next = base.clone();
            let now = micro_time(jiff::Timestamp::now());
            next.spec = LeaseSpec {
                holder_identity: Some(String::new()),
                lease_duration_seconds: Some(1),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_transitions: base.spec.lease_transitions,
                strategy: base.spec.strategy.clone(),
                preferred_holder: base.spec.preferred_holder.clone(),
            };
            let opts = UpdateOptions::default();
            let put = self.api.replace(&self.config.name, &opts, &next);
            let result = tokio::time::timeout_at(deadline, put).await;
            match result {
                Ok(Ok(released)) => {
                    self.observe(released, false);
                    tracing::info!(lease = %self.config.name, "released lease");
                    return true;
                }
                Ok(Err(e)) if e.is_conflict() || e.is_not_found() => {
                    let read =
                        tokio::time::timeout_at(deadline, self.api.get_opt(&self.config.name));
                    match read.await {
                        Ok(Ok(Some(current))) => {
                            self.observe(current.clone(), false);
                            if current.spec.holder_identity.as_deref() != Some(self.identity()) {
                                return false;
                            }
                            base = current;
                            continue;
                        }
                        Ok(Ok(None)) => return false,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "leader election: release read failed")
                        }
                        Err(_) => return false,
                    }
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "leader election: release failed"),
                Err(_) => return false,
            }
            let retry = Instant::now() + self.config.retry_period;
            if retry >= deadline {
                return false;
            }
            tokio::time::sleep_until(retry).await;
        }
    }
}

impl LeaderElector {
    /// An elector for `config`'s Lease, written through `client`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the config is invalid (see
    /// [`LeaderElectionConfig::validate`]).
    pub fn new(client: Client, config: LeaderElectionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(LeaderElector {
            shared: Arc::new(Shared {
                api: Api::namespaced(client, &config.namespace),
                config,
                state: Mutex::new(State::default()),
            }),
        })
    }

    /// A handle that reads who leads and checks health, usable while `run` runs.
    pub fn status(&self) -> ElectionStatus {
        ElectionStatus {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Runs for leadership until shutdown, and runs `lead` while leading: client-go's
    /// `Run`.
    ///
    /// 1. Tries to acquire the Lease every jittered retry period until it does or
    ///    `shutdown` is cancelled (then returns [`Stopped::BeforeLeading`]).
    /// 2. Calls `lead` with a [`Leadership`] and polls its future on this task while
    ///    renewing the Lease every retry period. The leadership token is cancelled
    ///    the moment `shutdown` is cancelled, no renewal has succeeded for the renew
    ///    deadline, or the Lease is found with another holder; renewals go on while
    ///    the work winds down after a shutdown, and stop after a loss.
    /// 3. Waits for the work to return, then releases the Lease when configured, and
    ///    returns how it [`Stopped`] — always, even when it never led.
    ///
    /// The work runs on the same task as the renewals: it must yield (await) often,
    /// and must return soon after its token is cancelled, or renewals stall and the
    /// release waits. Spawn heavy work on its own tasks and stop them on the token.
    /// A candidate that failed to renew should usually exit; running again starts
    /// over as a candidate.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the work immediately and does not release the Lease;
    /// other candidates then take over after the lease duration. Cancel `shutdown`
    /// instead to step down cleanly.
    pub async fn run<F, Fut>(&mut self, shutdown: CancellationToken, lead: F) -> Stopped
    where
        F: FnOnce(Leadership) -> Fut,
        Fut: Future<Output = ()>,
    {
        let shared = &self.shared;
        let Some(acquired_at) = shared.acquire(&shutdown).await else {
            return Stopped::BeforeLeading;
        };
        if shutdown.is_cancelled() {
            // Acquired just as shutdown came; never start the work.
            if shared.config.release_on_cancel {
                shared.release().await;
            }
            return Stopped::BeforeLeading;
        }

        let token = CancellationToken::new();
        // Confirmations wait for the renewal loop; a few in flight is plenty, and a
        // full channel only makes callers wait.
        let (confirm_tx, confirm_rx) = mpsc::channel(8);
        {
            let mut st = shared.state.lock();
            st.leading = true;
            st.work_running = true;
            st.renewed_at = Some(acquired_at);
        }
        let leadership = Leadership {
            token: token.clone(),
            shared: Arc::clone(shared),
            confirm: confirm_tx,
        };
        let mut work = std::pin::pin!(lead(leadership));
        // Boxed so that it can be dropped (stopping renewals) before the release.
        let mut renewer: Pin<Box<dyn Future<Output = Loss> + Send + '_>> =
            Box::pin(shared.keep_renewing(acquired_at, confirm_rx));
        let mut shutdown_seen = false;

        enum End {
            WorkReturned,
            Lost(Loss),
        }
        let end = loop {
            tokio::select! {
                () = &mut work => break End::WorkReturned,
                loss = &mut renewer => break End::Lost(loss),
                () = shutdown.cancelled(), if !shutdown_seen => {
                    shutdown_seen = true;
                    token.cancel();
                }
            }
        };
        token.cancel();
        shared.state.lock().leading = false;
        drop(renewer);
        if let End::Lost(loss) = &end {
            match loss {
                Loss::Deadline => tracing::info!(
                    lease = %shared.config.name,
                    "leadership lost: not renewed within the renew deadline"
                ),
                Loss::NotOurs(holder) => tracing::info!(
                    lease = %shared.config.name,
                    ?holder,
                    "leadership lost: the lease is no longer ours"
                ),
            }
            work.await;
        }
        shared.state.lock().work_running = false;

        let released = shared.config.release_on_cancel && shared.release().await;
        match end {
            End::Lost(_) => Stopped::LeaseLost,
            End::WorkReturned if shutdown_seen => Stopped::Shutdown { released },
            End::WorkReturned => Stopped::WorkReturned { released },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LeaderElectionConfig {
        LeaderElectionConfig::new("ns", "lease", "me")
    }

    #[test]
    fn validation_matches_client_go_rules() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        let cases: Vec<(LeaderElectionConfig, Result<(), ConfigError>)> = vec![
            // the defaults are valid
            (config(), Ok(())),
            // short test timings are valid
            (
                config()
                    .lease_duration(s(1))
                    .renew_deadline(ms(600))
                    .retry_period(ms(150)),
                Ok(()),
            ),
            // identity is required
            (
                LeaderElectionConfig::new("ns", "lease", ""),
                Err(ConfigError::EmptyIdentity),
            ),
            (
                LeaderElectionConfig::new("ns", "", "me"),
                Err(ConfigError::EmptyLeaseName),
            ),
            (
                LeaderElectionConfig::new("", "lease", "me"),
                Err(ConfigError::EmptyNamespace),
            ),
            // zero durations
            (
                config().retry_period(Duration::ZERO),
                Err(ConfigError::NotPositive {
                    field: "retry period",
                }),
            ),
            (
                config().lease_duration(Duration::ZERO),
                Err(ConfigError::NotPositive {
                    field: "lease duration",
                }),
            ),
            // lease must exceed the renew deadline
            (
                config().lease_duration(s(10)),
                Err(ConfigError::LeaseNotLongerThanRenewDeadline {
                    lease_duration: s(10),
                    renew_deadline: s(10),
                }),
            ),
            // renew deadline must exceed 1.2 × retry period: 2.4 s is not > 1.2 × 2 s
            (
                config().renew_deadline(ms(2400)),
                Err(ConfigError::RenewDeadlineTooShort {
                    renew_deadline: ms(2400),
                    retry_period: s(2),
                    jitter_factor: JITTER_FACTOR,
                }),
            ),
            // ... but 2.5 s is
            (config().renew_deadline(ms(2500)), Ok(())),
            // leaseDurationSeconds is an integer
            (
                config().lease_duration(ms(15500)),
                Err(ConfigError::LeaseNotWholeSeconds(ms(15500))),
            ),
            (
                config().jitter_factor(-1.0),
                Err(ConfigError::InvalidJitterFactor(-1.0)),
            ),
        ];
        for (cfg, want) in cases {
            assert_eq!(cfg.validate(), want, "{cfg:?}");
        }
    }

    #[test]
    fn a_record_is_valid_for_its_duration_after_it_was_observed() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let ours = s(15);
        // within the record's own duration
        assert!(record_is_valid(t0, Some(5), ours, t0 + s(4)));
        // at the boundary it has expired
        assert!(!record_is_valid(t0, Some(5), ours, t0 + s(5)));
        // a released record (1 s) expires quickly
        assert!(!record_is_valid(t0, Some(1), ours, t0 + s(2)));
        // no duration: judged with ours
        assert!(record_is_valid(t0, None, ours, t0 + s(14)));
        assert!(!record_is_valid(t0, Some(0), ours, t0 + s(15)));
        assert!(record_is_valid(t0, Some(-3), ours, t0 + s(1)));
    }

    #[test]
    fn next_spec_keeps_our_epoch_and_bumps_it_on_takeover() {
        let created = next_spec(None, "me", 15, "t0");
        assert_eq!(created.lease_transitions, Some(0));
        assert_eq!(created.acquire_time.as_deref(), Some("t0"));

        let renewed = next_spec(Some(&created), "me", 15, "t1");
        assert_eq!(renewed.lease_transitions, Some(0));
        assert_eq!(renewed.acquire_time.as_deref(), Some("t0"));
        assert_eq!(renewed.renew_time.as_deref(), Some("t1"));

        let taken = next_spec(Some(&renewed), "you", 15, "t2");
        assert_eq!(taken.holder_identity.as_deref(), Some("you"));
        assert_eq!(taken.lease_transitions, Some(1));
        assert_eq!(taken.acquire_time.as_deref(), Some("t2"));

        let huge = LeaseSpec {
            holder_identity: Some("old".into()),
            lease_transitions: Some(i32::MAX),
            ..LeaseSpec::default()
        };
        assert_eq!(
            next_spec(Some(&huge), "me", 15, "t").lease_transitions,
            Some(i32::MAX)
        );
    }

    #[test]
    fn observing_an_unchanged_record_keeps_the_first_observation_time() {
        let mut st = State::default();
        let t0 = Instant::now();
        let lease = Lease::new("l", next_spec(None, "other", 15, "t0"));
        st.observe(lease.clone(), t0);
        st.observe(lease.clone(), t0 + Duration::from_secs(3));
        assert_eq!(st.observed_at, Some(t0));
        let mut renewed = lease;
        renewed.spec.renew_time = Some("t1".into());
        st.observe(renewed, t0 + Duration::from_secs(4));
        assert_eq!(st.observed_at, Some(t0 + Duration::from_secs(4)));
    }
}
