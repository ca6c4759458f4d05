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
use crate::lanes::{Lanes, Link, Links};
use crate::metrics::QueueMetrics;
use crate::waiting::{Timer, Timers};

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

/// What the queue knows about one item that is dirty, being processed,
/// scheduled, or any mix of those.
#[derive(Debug)]
struct Status {
    /// Its place in its lane while `dirty && !processing`.
    link: Link,
    /// The ticket of the live timer while `ready_at` is set; tickets are
    /// never reused, so a timer with another ticket is superseded.
    ticket: u64,
    /// When a scheduled add (`add_after`) is due; `None` if none is.
    ready_at: Option<Instant>,
    /// Needs processing (client-go's `dirty` set).
    dirty: bool,
    /// Handed out by `get` and not yet `done` (client-go's `processing` set).
    processing: bool,
    /// The lane the item waits in, or goes back to at `done`.
    priority: Priority,
    /// The highest priority any `add_after` of the scheduled add asked for.
    after_priority: Priority,
}

impl Status {
    /// A record about to be marked dirty or scheduled.
    fn new() -> Self {
        Self {
            link: Link::UNLINKED,
            ticket: 0,
            ready_at: None,
            dirty: false,
            processing: false,
            priority: Priority::Normal,
            after_priority: Priority::Normal,
        }
    }

    /// Whether anything still needs the record.
    fn is_tracked(&self) -> bool {
        self.dirty || self.processing || self.ready_at.is_some()
    }
}

impl<T: Eq> Links for Items<T, Status> {
    fn link(&mut self, at: u32) -> &mut Link {
        &mut self
            .get_mut(at)
            .expect("lanes hold only positions of live records")
            .status
            .link
    }
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
/// Each item has one record in `items`; the lanes and the timers refer to it
/// by position. Invariants (asserted by `check_invariants` in tests):
/// - an item has a record iff it is dirty, processing or scheduled;
/// - the lanes hold exactly the records that are dirty and not processing,
///   each once, in the lane of its priority; `ready` counts them;
/// - `processing` counts the records that are processing;
/// - `scheduled` counts the records with a `ready_at`, and each has exactly
///   one timer in `timers` with its ticket and instant;
/// - `draining` implies `shutting_down`;
/// - while shutting down, nothing is scheduled;
/// - every hash passed in is `hasher.hash_one(item)`.
#[derive(Debug)]
pub(crate) struct State<T> {
    items: Items<T, Status>,
    hasher: ItemHasher,
    lanes: Lanes,
    /// Number of items waiting to be handed out: client-go's `len(queue)`.
    ready: usize,
    /// Number of items handed out and not yet done.
    processing: usize,
    /// Timers of the scheduled adds, live and superseded.
    timers: Timers,
    /// Number of items with a scheduled add.
    scheduled: usize,
    /// Reused buffer for applying the inbox (see `core.rs`); empty
    /// outside that.
    scratch: Vec<Pending<T>>,
    /// Set once by `shut_down`/`shut_down_with_drain`; adds are ignored after.
    shutting_down: bool,
    /// `shut_down_with_drain` is waiting for `processing` to reach zero; a
    /// later `shut_down` clears it to cancel that wait.
    draining: bool,
    metrics: Option<QueueMetrics>,
}

impl<T: Clone + Eq + Hash> State<T> {
    pub(crate) fn new(config: &QueueConfig) -> Self {
        Self {
            items: Items::new(),
            hasher: ItemHasher::default(),
            lanes: Lanes::new(config.aging),
            ready: 0,
            processing: 0,
            timers: Timers::new(),
            scheduled: 0,
            scratch: Vec::new(),
            shutting_down: false,
            draining: false,
            metrics: QueueMetrics::new(config.name.as_deref(), config.metrics_provider.as_ref()),
        }
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
    ///
    /// Returns the item back when the queue already tracks an equal one, so
    /// that the caller drops it after releasing the lock.
    pub(crate) fn add(&mut self, item: T, hash: u64, priority: Priority) -> (bool, Option<T>) {
        if self.shutting_down {
            return (false, Some(item));
        }
        match self.items.find_or_insert(hash, item, Status::new) {
            Ok((at, item)) => (self.mark_dirty(at, priority), Some(item)),
            Err(at) => (self.mark_dirty(at, priority), None),
        }
    }

    /// `add` for the record at `at`, which exists.
    fn mark_dirty(&mut self, at: u32, priority: Priority) -> bool {
        let status = &mut self.items.get_mut(at).expect("marked records exist").status;
        if status.dirty {
            if priority > status.priority {
                let from = std::mem::replace(&mut status.priority, priority);
                if !status.processing {
                    // Promotion: to the back of the higher lane, keeping the
                    // age gathered so far.
                    self.lanes.promote(&mut self.items, at, from, priority);
                }
            }
            return false;
        }
        status.dirty = true;
        status.priority = priority;
        let processing = status.processing;
        if let Some(metrics) = &mut self.metrics {
            metrics.added(at);
        }
        if processing {
            // Being processed: run it once more after `done`.
            return false;
        }
        self.lanes.push(&mut self.items, at, priority);
        self.ready += 1;
        true
    }

    /// Hands out the next ready item, marking it processing.
    pub(crate) fn try_pop(&mut self) -> Option<T> {
        let at = self.lanes.pop(&mut self.items)?;
        let record = self
            .items
            .get_mut(at)
            .expect("lanes hold only positions of live records");
        record.status.dirty = false;
        record.status.processing = true;
        self.ready -= 1;
        self.processing += 1;
        if let Some(metrics) = &mut self.metrics {
            metrics.handed_out(at, Instant::now());
        }
        Some(record.item.clone())
    }

    /// Applies `adds` (taken from the inbox) in order, leaving it empty.
    /// Returns how many items were newly queued and how many adds coalesced
    /// with an item the queue already tracked.
    pub(crate) fn apply(&mut self, adds: &mut Vec<Pending<T>>) -> (usize, usize) {
        let (mut queued, mut coalesced) = (0, 0);
        for add in adds.drain(..) {
            let (newly, spare) = self.add(add.item, add.hash, add.priority);
            queued += usize::from(newly);
            coalesced += usize::from(spare.is_some());
        }
        (queued, coalesced)
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

    /// Ends processing of `item`; if it was added meanwhile, it goes back in
    /// line. `done` for an item that is not being processed is ignored
    /// (client-go would queue a dirty item a second time).
    ///
    /// Returns the queue's copy of the item when the queue stops tracking
    /// it, so that the caller drops it after releasing the lock.
    pub(crate) fn done(&mut self, item: &T, hash: u64) -> (DoneOutcome, Option<T>) {
        let mut finished = None;
        let removed = self.items.find_then(hash, item, |at, record| {
            let status = &mut record.status;
            if !status.processing {
                return false;
            }
            status.processing = false;
            finished = Some((at, status.dirty, status.priority));
            !status.is_tracked()
        });
        let Some((at, dirty, priority)) = finished else {
            return (DoneOutcome::default(), None);
        };
        self.processing -= 1;
        if let Some(metrics) = &mut self.metrics {
            metrics.done(at, Instant::now());
        }
        let mut outcome = DoneOutcome {
            requeued: false,
            drained: self.draining && self.processing == 0,
        };
        if dirty {
            self.lanes.push(&mut self.items, at, priority);
            self.ready += 1;
            outcome.requeued = true;
        }
        (outcome, removed)
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
                queued: self.add(item, hash, priority).0,
            },
            Some(ready_at) => AfterOutcome::Scheduled {
                rearm: self.schedule(item, hash, ready_at, priority),
            },
        }
    }

    /// Schedules an add of `item` at `ready_at`, or moves its scheduled add
    /// earlier; a later instant never postpones it. Returns whether the
    /// earliest deadline moved earlier (the timer must be re-armed).
    fn schedule(&mut self, item: T, hash: u64, ready_at: Instant, priority: Priority) -> bool {
        let earliest = self.timers.earliest();
        let (Ok((at, _)) | Err(at)) = self.items.find_or_insert(hash, item, Status::new);
        let status = &mut self.items.get_mut(at).expect("inserted above").status;
        match status.ready_at {
            Some(current) => {
                status.after_priority = status.after_priority.max(priority);
                if ready_at >= current {
                    return false;
                }
            }
            None => {
                status.after_priority = priority;
                self.scheduled += 1;
            }
        }
        let moved = status.ready_at.is_some();
        status.ready_at = Some(ready_at);
        status.ticket = self.timers.push(ready_at, at);
        if moved {
            self.compact_timers_if_needed();
        }
        earliest.is_none_or(|e| ready_at < e)
    }

    /// Adds every scheduled item due at `now`. Returns how many were newly
    /// queued.
    pub(crate) fn add_due(&mut self, now: Instant) -> usize {
        /// Due timers popped one by one before switching to a bulk pass.
        const POP_LIMIT: usize = 32;
        let mut queued = 0;
        for _ in 0..POP_LIMIT {
            let Some(timer) = self.timers.pop_due(now) else {
                return queued;
            };
            queued += usize::from(self.fire(timer));
        }
        for timer in self.timers.take_due(now) {
            queued += usize::from(self.fire(timer));
        }
        queued
    }

    /// Adds the item of a due timer unless the timer was superseded.
    /// Returns whether the item was newly queued.
    fn fire(&mut self, timer: Timer) -> bool {
        let Some(record) = self.items.get_mut(timer.at) else {
            return false;
        };
        let status = &mut record.status;
        if status.ready_at.is_none() || status.ticket != timer.ticket {
            return false; // superseded by an earlier schedule
        }
        status.ready_at = None;
        let priority = status.after_priority;
        self.scheduled -= 1;
        self.mark_dirty(timer.at, priority)
    }

    /// Rebuilds the timer heap without superseded timers once they dominate,
    /// so repeated moves of far-future items cannot grow it without bound.
    fn compact_timers_if_needed(&mut self) {
        if self.timers.len() > 2 * self.scheduled + 64 {
            let items = &self.items;
            self.timers.retain(|t| {
                items
                    .get(t.at)
                    .is_some_and(|r| r.status.ready_at.is_some() && r.status.ticket == t.ticket)
            });
        }
    }

    /// When the next scheduled item is due (or a little earlier: the
    /// earliest timer may be superseded, which only wakes the timer task
    /// early to find nothing).
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.timers.earliest()
    }

    /// Stops accepting items and drops scheduled ones; items already queued
    /// are still handed out. With `drain`, [`State::is_drained`] turns true
    /// only once every item handed out is done; without, it cancels the wait
    /// of an earlier drain.
    pub(crate) fn shut_down(&mut self, drain: bool) {
        self.shutting_down = true;
        self.draining = drain;
        let Self {
            items,
            timers,
            scheduled,
            ..
        } = self;
        for timer in timers.drain() {
            let Some(record) = items.get_mut(timer.at) else {
                continue;
            };
            let status = &mut record.status;
            if status.ready_at.is_none() || status.ticket != timer.ticket {
                continue;
            }
            status.ready_at = None;
            *scheduled -= 1;
            if !status.is_tracked() {
                items.remove(timer.at);
            }
        }
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
        self.scheduled
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
        let statuses = || self.items.iter().map(|(_, r)| &r.status);
        assert!(
            statuses().all(Status::is_tracked),
            "an item that is neither dirty, processing nor scheduled is still tracked"
        );
        let processing = statuses().filter(|s| s.processing).count();
        assert_eq!(processing, self.processing, "processing count");
        let mut expected: Vec<(u32, Priority)> = self
            .items
            .iter()
            .filter(|(_, r)| r.status.dirty && !r.status.processing)
            .map(|(at, r)| (at, r.status.priority))
            .collect();
        assert_eq!(expected.len(), self.ready, "ready count");
        let mut queued = self.lanes.positions(|at| {
            self.items
                .get(at)
                .expect("lanes hold only positions of live records")
                .status
                .link
        });
        expected.sort_unstable_by_key(|&(at, _)| at);
        queued.sort_unstable_by_key(|&(at, _)| at);
        assert_eq!(queued, expected, "lanes hold exactly the ready items");
        let scheduled: Vec<(u32, u64, Instant)> = self
            .items
            .iter()
            .filter_map(|(at, r)| Some((at, r.status.ticket, r.status.ready_at?)))
            .collect();
        assert_eq!(scheduled.len(), self.scheduled, "scheduled count");
        let timers = self.timers.iter().collect::<Vec<_>>();
        for (at, ticket, ready_at) in scheduled {
            assert_eq!(
                timers
                    .iter()
                    .filter(|t| t.at == at && t.ticket == ticket && t.ready_at == ready_at)
                    .count(),
                1,
                "a scheduled item without its live timer"
            );
        }
        assert!(
            self.items
                .iter()
                .all(|(_, r)| r.hash == self.hasher.hash_one(&r.item)),
            "an item tracked under the wrong hash"
        );
        assert!(
            !self.draining || self.shutting_down,
            "draining without shutdown"
        );
        assert!(
            !self.shutting_down || self.scheduled == 0,
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
