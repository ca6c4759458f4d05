//! The queue's synchronous core: every rule of client-go's `queue.go` and
//! `delaying_queue.go`, with no async and no locking of its own.
//!
//! [`Queue`](crate::Queue) and friends keep one [`State`] behind one mutex and
//! wrap it in an async shell that only parks and wakes tasks; the loom models
//! in `src/tests/` drive the same `State` from threads. Every method runs in a
//! short critical section: callers hash items before taking the lock, and
//! nothing in here does I/O.

#[cfg(test)]
use std::hash::BuildHasher;
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::{Priority, QueueConfig};
use crate::items::Items;
use crate::lanes::Lanes;
use crate::metrics::QueueMetrics;
use crate::waiting::Waiting;

/// The hasher for per-item bookkeeping: foldhash, seeded per process. Keys
/// come from the cluster (object names), so we want a randomly seeded hash;
/// foldhash is the one hashbrown picks by default, several times faster than
/// std's SipHash on short strings.
pub(crate) type ItemHasher = foldhash::fast::RandomState;

/// Where a `delay` this long or longer puts an item: about 30 years out, far
/// enough to mean "never" and still representable as an `Instant`.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The instant an item added with `delay` becomes ready, or `None` for a zero
/// delay (a plain add). Never overflows.
pub(crate) fn ready_at(delay: Duration) -> Option<Instant> {
    if delay.is_zero() {
        return None;
    }
    let now = Instant::now();
    Some(
        now.checked_add(delay.min(FAR_FUTURE))
            .unwrap_or(now + FAR_FUTURE),
    )
}

/// What the queue knows about one item that is dirty, being processed, or both.
#[derive(Debug)]
struct Status {
    /// Needs processing (client-go's `dirty` set).
    dirty: bool,
    /// Handed out by `get` and not yet `done` (client-go's `processing` set).
    processing: bool,
    /// The lane the item waits in, or goes back to at `done`.
    priority: Priority,
    /// The ticket of the item's live lane entry while `dirty && !processing`;
    /// tickets are never reused, so an entry with another ticket is stale.
    ticket: u64,
    /// When the live lane entry became ready (aging), if stamped.
    since: Option<Instant>,
    /// When the item last became dirty (metrics only).
    added_at: Option<Instant>,
    /// When the item was handed out (metrics only).
    started_at: Option<Instant>,
}

/// An add recorded in the inbox and not yet applied.
#[derive(Debug)]
pub(crate) struct Pending<T> {
    pub(crate) item: T,
    pub(crate) hash: u64,
    pub(crate) priority: Priority,
}

/// What `Core::pop` found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pop<T> {
    /// An item to process; it is now marked processing.
    Item(T),
    /// Nothing ready; the caller was counted as a waiter and must park.
    Wait,
    /// Shut down and nothing left to hand out.
    Closed,
}

/// What `done` changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DoneOutcome {
    /// The item was re-queued (a parked `get` may take it).
    pub(crate) requeued: bool,
    /// The last item in flight finished during a drain; wake the drainer.
    pub(crate) drained: bool,
}

/// What `add_after` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterOutcome {
    /// Added at once (delay zero); `queued` if newly queued.
    Added { queued: bool },
    /// Scheduled; re-arm the timer if the earliest deadline moved earlier.
    Scheduled { rearm: bool },
    /// Ignored: the queue is shutting down.
    Ignored,
}

/// The whole state of a queue, guarded by one mutex.
///
/// Invariants (asserted by `check_invariants` in tests):
/// - an item has a record in `items` iff it is dirty, processing, or both;
/// - every item that is dirty and not processing has exactly one live entry
///   in `lanes` (one naming the item's record and ticket); `ready` counts
///   them;
/// - `processing` counts the items whose status says processing;
/// - `draining` implies `shutting_down`;
/// - while shutting down, `waiting` is empty;
/// - every hash passed in is `hasher.hash_one(item)`.
#[derive(Debug)]
pub(crate) struct State<T> {
    items: Items<T, Status>,
    hasher: ItemHasher,
    lanes: Lanes<T>,
    /// Number of items waiting to be handed out: client-go's `len(queue)`.
    ready: usize,
    /// Number of items handed out and not yet done.
    processing: usize,
    /// Items scheduled with `add_after`.
    waiting: Waiting<T>,
    /// Set once by `shut_down`/`shut_down_with_drain`; adds are ignored after.
    shutting_down: bool,
    /// `shut_down_with_drain` is waiting for `processing` to reach zero; a
    /// later `shut_down` clears it to cancel that wait.
    draining: bool,
    metrics: Option<QueueMetrics>,
    /// Reused buffer for applying the inbox; empty outside that.
    scratch: Vec<Pending<T>>,
}

impl<T: Clone + Eq + Hash> State<T> {
    pub(crate) fn new(config: &QueueConfig) -> Self {
        Self {
            items: Items::new(),
            hasher: ItemHasher::default(),
            lanes: Lanes::new(config.aging),
            ready: 0,
            processing: 0,
            waiting: Waiting::new(),
            shutting_down: false,
            draining: false,
            metrics: QueueMetrics::new(config.name.as_deref(), config.metrics_provider.as_ref()),
            scratch: Vec::new(),
        }
    }

    /// Lends out the inbox buffer (empty).
    pub(crate) fn take_scratch(&mut self) -> Vec<Pending<T>> {
        std::mem::take(&mut self.scratch)
    }

    /// Returns the inbox buffer, emptied, keeping its capacity.
    pub(crate) fn put_scratch(&mut self, scratch: Vec<Pending<T>>) {
        debug_assert!(scratch.is_empty());
        self.scratch = scratch;
    }

    /// The hasher callers use to hash items before taking the lock.
    pub(crate) fn hasher(&self) -> &ItemHasher {
        &self.hasher
    }

    /// `item`'s hash, for callers that already hold the lock (tests).
    #[cfg(all(test, not(kubeforge_loom)))]
    pub(crate) fn hash(&self, item: &T) -> u64 {
        self.hasher.hash_one(item)
    }

    /// Marks `item` as needing processing. Returns whether it was newly
    /// queued (a parked `get` may take it).
    ///
    /// Ignored while shutting down. An item already waiting is not queued
    /// twice (at most its priority rises: client-go's `Touch`); an item being
    /// processed is only marked dirty and goes back in line at `done`.
    pub(crate) fn add(&mut self, item: T, hash: u64, priority: Priority) -> bool {
        if self.shutting_down {
            return false;
        }
        let metrics = &self.metrics;
        let found = self.items.find_or_insert(hash, item, || Status {
            dirty: true,
            processing: false,
            priority,
            // Set below, once the lane entry exists.
            ticket: u64::MAX,
            since: None,
            added_at: metrics.as_ref().map(|metrics| {
                metrics.added();
                Instant::now()
            }),
            started_at: None,
        });
        match found {
            Ok(at) => {
                let record = self.items.get_mut(at).expect("found just above");
                let status = &mut record.status;
                if status.dirty {
                    if priority > status.priority {
                        status.priority = priority;
                        if !status.processing {
                            // Promotion: a new live entry in the higher lane,
                            // keeping the age gathered so far; the old entry
                            // turns stale.
                            status.ticket = self.lanes.push_since(
                                record.item.clone(),
                                at,
                                priority,
                                status.since,
                            );
                        }
                    }
                    return false;
                }
                // Being processed: remember to run it once more after `done`.
                status.dirty = true;
                status.priority = priority;
                if let Some(metrics) = &self.metrics {
                    metrics.added();
                    status.added_at = Some(Instant::now());
                }
                false
            }
            Err(at) => {
                let record = self.items.get_mut(at).expect("inserted just above");
                let (ticket, since) = self.lanes.push(record.item.clone(), at, priority);
                record.status.ticket = ticket;
                record.status.since = since;
                self.ready += 1;
                true
            }
        }
    }

    /// Hands out the next ready item, marking it processing.
    pub(crate) fn try_pop(&mut self) -> Option<T> {
        while let Some(entry) = self.lanes.pop() {
            // The entry names its record's position; tickets are unique, so a
            // record with another ticket (or none) means a stale entry.
            let Some(record) = self.items.get_mut(entry.slot) else {
                continue; // stale: the item finished since
            };
            let status = &mut record.status;
            if status.ticket != entry.ticket || !status.dirty || status.processing {
                continue; // stale: re-queued, promoted or already handed out
            }
            status.dirty = false;
            status.processing = true;
            self.ready -= 1;
            self.processing += 1;
            if let Some(metrics) = &mut self.metrics {
                let now = Instant::now();
                metrics.handed_out(status.added_at.take(), now);
                status.started_at = Some(now);
            }
            return Some(entry.item);
        }
        None
    }

    /// Ends processing of `item`; if it was added meanwhile, it goes back in
    /// line. `done` for an item that is not being processed is ignored
    /// (client-go would queue a dirty item a second time).
    pub(crate) fn done(&mut self, item: &T, hash: u64) -> DoneOutcome {
        let Some(at) = self.items.find(hash, item) else {
            return DoneOutcome::default();
        };
        let record = self.items.get_mut(at).expect("found just above");
        let status = &mut record.status;
        if !status.processing {
            return DoneOutcome::default();
        }
        status.processing = false;
        self.processing -= 1;
        if let (Some(metrics), Some(started_at)) = (&mut self.metrics, status.started_at.take()) {
            metrics.done(started_at, Instant::now());
        }
        let mut outcome = DoneOutcome {
            requeued: false,
            drained: self.draining && self.processing == 0,
        };
        if status.dirty {
            let (ticket, since) = self.lanes.push(record.item.clone(), at, status.priority);
            status.ticket = ticket;
            status.since = since;
            self.ready += 1;
            outcome.requeued = true;
        } else {
            self.items.remove(at);
        }
        outcome
    }

    /// Schedules `item` to be added at `ready_at` (from [`ready_at`]);
    /// client-go's `AddAfter`. `None` adds at once; a waiting item only ever
    /// moves earlier.
    pub(crate) fn add_after(
        &mut self,
        item: T,
        hash: u64,
        ready_at: Option<Instant>,
        priority: Priority,
    ) -> AfterOutcome {
        if self.shutting_down {
            return AfterOutcome::Ignored;
        }
        if let Some(metrics) = &self.metrics {
            metrics.retried();
        }
        match ready_at {
            None => AfterOutcome::Added {
                queued: self.add(item, hash, priority),
            },
            Some(ready_at) => AfterOutcome::Scheduled {
                rearm: self.waiting.schedule(item, hash, ready_at, priority),
            },
        }
    }

    /// Adds every scheduled item due at `now`. Returns how many were newly
    /// queued.
    pub(crate) fn add_due(&mut self, now: Instant) -> usize {
        /// Due items popped one by one before switching to a bulk pass.
        const POP_LIMIT: usize = 32;
        let mut queued = 0;
        for _ in 0..POP_LIMIT {
            let Some((item, hash, priority)) = self.waiting.pop_due(now) else {
                return queued;
            };
            if self.add(item, hash, priority) {
                queued += 1;
            }
        }
        let due = self.waiting.take_all_due(now);
        self.items.reserve(due.len());
        self.lanes.reserve(due.len());
        for (item, hash, priority) in due {
            if self.add(item, hash, priority) {
                queued += 1;
            }
        }
        queued
    }

    /// When the next scheduled item is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.waiting.next_ready_at()
    }

    /// Stops accepting items and drops scheduled ones; items already queued
    /// are still handed out. With `drain`, [`State::is_drained`] turns true
    /// only once every item handed out is done; without, it cancels the wait
    /// of an earlier drain.
    pub(crate) fn shut_down(&mut self, drain: bool) {
        self.shutting_down = true;
        self.draining = drain;
        self.waiting.clear();
    }

    /// Whether a `shut_down_with_drain` may return.
    pub(crate) fn is_drained(&self) -> bool {
        !self.draining || self.processing == 0
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Number of items ready to be handed out (client-go's `Len`).
    pub(crate) fn len(&self) -> usize {
        self.ready
    }

    /// Number of items scheduled with `add_after` and not yet due.
    pub(crate) fn waiting_len(&self) -> usize {
        self.waiting.len()
    }

    /// Whether the queue has a metrics recorder (is named).
    pub(crate) fn has_metrics(&self) -> bool {
        self.metrics.is_some()
    }

    /// Refreshes the unfinished-work gauges. Returns `false` once the queue is
    /// shutting down, when client-go stops refreshing them.
    pub(crate) fn update_unfinished_work(&self, now: Instant) -> bool {
        if self.shutting_down {
            return false;
        }
        if let Some(metrics) = &self.metrics {
            metrics.update_unfinished_work(now);
        }
        true
    }

    /// Asserts the invariants listed on [`State`].
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        self.items.check_index();
        let statuses = || self.items.iter().map(|t| &t.status);
        let processing = statuses().filter(|s| s.processing).count();
        assert_eq!(processing, self.processing, "processing count");
        let ready = statuses().filter(|s| s.dirty && !s.processing).count();
        assert_eq!(ready, self.ready, "ready count");
        assert!(
            statuses().all(|s| s.dirty || s.processing),
            "an item that is neither dirty nor processing is still tracked"
        );
        assert!(
            self.items
                .iter()
                .all(|t| t.hash == self.hasher.hash_one(&t.item)),
            "an item tracked under the wrong hash"
        );
        assert!(
            !self.draining || self.shutting_down,
            "draining without shutdown"
        );
        assert!(
            !self.shutting_down || self.waiting.len() == 0,
            "scheduled items kept after shutdown"
        );
    }
}

#[cfg(all(test, not(kubeforge_loom)))]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, Priority),
        Pop,
        Done(u8),
        AddAfter(u8, u8),
        AddDue,
        ShutDown(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        let priority = prop_oneof![
            Just(Priority::Low),
            Just(Priority::Normal),
            Just(Priority::High)
        ];
        prop_oneof![
            (0..6u8, priority).prop_map(|(x, p)| Op::Add(x, p)),
            Just(Op::Pop),
            (0..6u8).prop_map(Op::Done),
            (0..6u8, 0..3u8).prop_map(|(x, d)| Op::AddAfter(x, d)),
            Just(Op::AddDue),
            any::<bool>().prop_map(Op::ShutDown),
        ]
    }

    proptest! {
        /// Any sequence of operations keeps the invariants written on
        /// `State`, and `pop` never hands out an item that is processing.
        #[test]
        fn every_operation_keeps_the_state_invariants(ops in prop::collection::vec(op(), 1..80)) {
            let mut state = State::new(&QueueConfig::new());
            let mut processing = std::collections::BTreeSet::new();
            for op in ops {
                match op {
                    Op::Add(x, p) => { state.add(x, state.hash(&x), p); }
                    Op::Pop => {
                        if let Some(x) = state.try_pop() {
                            prop_assert!(processing.insert(x), "{x} handed out twice");
                        }
                    }
                    Op::Done(x) => {
                        state.done(&x, state.hash(&x));
                        processing.remove(&x);
                    }
                    Op::AddAfter(x, d) => {
                        let at = ready_at(Duration::from_nanos(u64::from(d)));
                        state.add_after(x, state.hash(&x), at, Priority::Normal);
                    }
                    // Everything scheduled is due "now" or in a few ns.
                    Op::AddDue => { state.add_due(Instant::now() + Duration::from_micros(1)); }
                    Op::ShutDown(drain) => state.shut_down(drain),
                }
                state.check_invariants();
            }
        }
    }
}
