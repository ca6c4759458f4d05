//! The synchronous heart of a queue: the state, the inbox adds go through,
//! and the protocol that decides when a parked `get` must be woken.
//!
//! An add never waits for a worker. While the workers are busy (no getter
//! is parked) it appends to a small inbox under its own lock and returns;
//! whoever takes the state lock next (a `get`, `done`, `len`, a shutdown,
//! the timer) applies the inbox first, in arrival order, so no reader can
//! tell the difference from applying each add at once: an add's place in
//! the order is its append. Producers then write only the inbox, a buffer
//! filled front to back, while the records, the index and the lanes stay in
//! the cache of the workers that use them; with producers applying their
//! own adds, those lines moved between cores several times per item. While
//! a getter is parked, an add takes the state lock if it is free and is
//! applied at once, so the getter is woken only for an item that is
//! actually ready; if a worker holds the lock, the add goes to the inbox
//! and wakes the getter, which applies it. Waiting for the state lock would
//! tie producers to the workers' scheduling: on a loaded machine a worker
//! preempted while holding it stalled every producer for as long as it was
//! off the CPU.
//!
//! An add waits for the state lock in two cases only: the inbox is full
//! (memory stays bounded by the distinct items plus the limit), and the
//! queue needs the instant of each add (named queues: the depth gauge and
//! the queue-duration histogram; queues that used a priority other than
//! `Normal`: aging).
//!
//! Waking follows one rule: a getter that found nothing is counted as a
//! waiter, and whoever makes an item ready while a counted getter has not
//! been woken yet wakes one, one per newly ready item. Adds that coalesce
//! wake nobody.
//!
//! The async shell ([`Queue`](crate::Queue)) parks on tokio's `Notify`; the
//! loom models in `src/tests/` drive this same code from threads.

use std::hash::{BuildHasher, Hash};

use tokio::time::Instant;

use crate::config::{Priority, QueueConfig};
use crate::loom::{AtomicBool, Mutex, MutexGuard, Ordering};
use crate::state::{AfterOutcome, ItemHasher, Pending, Pop, State};

/// Adds waiting in the inbox beyond which the adder applies them itself, so
/// memory stays bounded by the distinct items (plus this) even when no
/// worker is taking items and the same keys keep coming.
const INBOX_LIMIT: usize = 1024;

/// Adds not yet applied, and the getters parked for an item.
#[derive(Debug)]
struct Inbox<T> {
    /// Pending adds in arrival order.
    adds: Vec<Pending<T>>,
    /// Number of `get` calls parked. Invariant: a getter is counted only
    /// while holding the state lock, after finding no item and `adds` empty;
    /// so an add appended later, or applied later under the state lock, sees
    /// the count and wakes one.
    waiters: usize,
    /// Wake-ups sent to parked getters that have not come back yet: a new
    /// ready item wakes a getter only if `waiters > woken`, so a burst of
    /// items while a woken getter is still on its way does not notify again
    /// and again. Invariant: `woken <= waiters`. A getter that comes back
    /// takes one off (one that was woken by shutdown may take off another's,
    /// which only causes an extra wake-up); a getter that gives up clamps it,
    /// since tokio forwards a wake-up its `Notified` had not received to
    /// another waiter, or keeps it as the permit the next `get` consumes.
    woken: usize,
    /// Adds bypass the inbox (see the module docs). Set at construction for
    /// named queues, or by the first add with a priority other than `Normal`;
    /// never cleared. Invariant: `adds` only holds adds made before it was set.
    direct: bool,
}

/// What a `done` asks of the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DoneWake {
    /// Wake one parked `get`: the item was re-queued.
    pub(crate) getter: bool,
    /// Wake `shut_down_with_drain`: the last item in flight is done.
    pub(crate) drained: bool,
}

/// State and inbox of one queue.
///
/// Lock order: `state` before `inbox`.
#[derive(Debug)]
pub(crate) struct Core<T> {
    state: Mutex<State<T>>,
    inbox: Mutex<Inbox<T>>,
    /// Whether the inbox may hold adds, so that readers of the state skip the
    /// inbox lock when it is empty. Invariant: `true` whenever `inbox.adds`
    /// is non-empty; written only under the inbox lock. A reader holding the
    /// state lock that sees `false` has nothing to apply that happened before
    /// it: the push that would make it `true` released the inbox lock after
    /// the store, and a drain that cleared it applied those adds under the
    /// state lock this reader now holds.
    pending: AtomicBool,
    /// Whether recent adds mostly coalesced with items already tracked; a
    /// hint, read and written without ordering. While set, adds try the
    /// state lock first even with no getter parked: a duplicate is then
    /// dropped by the thread that made it, at the cost of one probe, instead
    /// of travelling through the inbox to a worker that drops it there.
    /// While clear, adds of fresh items go through the inbox and leave the
    /// state in the workers' cache.
    coalescing: AtomicBool,
    /// A copy of the state's hasher, so items are hashed outside both locks.
    hasher: ItemHasher,
}

impl<T: Clone + Eq + Hash> Core<T> {
    pub(crate) fn new(config: &QueueConfig) -> Self {
        let state = State::new(config);
        Self {
            hasher: state.hasher().clone(),
            inbox: Mutex::new(Inbox {
                adds: Vec::new(),
                waiters: 0,
                woken: 0,
                direct: state.has_metrics(),
            }),
            pending: AtomicBool::new(false),
            coalescing: AtomicBool::new(false),
            state: Mutex::new(state),
        }
    }

    fn hash(&self, item: &T) -> u64 {
        self.hasher.hash_one(item)
    }

    /// Locks the state with every pending add applied.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        let mut state = self.state.lock();
        self.apply_inbox(&mut state);
        state
    }

    /// Locks the state as it is, for reads that pending adds cannot change.
    fn lock_raw(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock()
    }

    /// Applies every pending add. Returns how many items were newly queued.
    fn apply_inbox(&self, state: &mut State<T>) -> usize {
        if !self.pending.load(Ordering::Acquire) {
            return 0;
        }
        let mut batch = state.take_scratch();
        {
            let mut inbox = self.inbox.lock();
            std::mem::swap(&mut inbox.adds, &mut batch);
            self.pending.store(false, Ordering::Relaxed);
        }
        let total = batch.len();
        let (queued, coalesced) = state.apply(&mut batch);
        state.put_scratch(batch);
        if total > 0 {
            self.note_coalescing(2 * coalesced >= total);
        }
        queued
    }

    /// Records whether adds are mostly coalescing (see `coalescing`),
    /// writing the shared flag only when it changes.
    fn note_coalescing(&self, coalescing: bool) {
        if self.coalescing.load(Ordering::Relaxed) != coalescing {
            self.coalescing.store(coalescing, Ordering::Relaxed);
        }
    }

    /// Claims up to `ready` wake-ups for newly ready items: one per parked
    /// getter not woken yet. Returns how many getters to wake.
    fn claim_wakes(&self, ready: usize) -> usize {
        if ready == 0 {
            return 0;
        }
        let mut inbox = self.inbox.lock();
        let wakes = ready.min(inbox.waiters - inbox.woken);
        inbox.woken += wakes;
        wakes
    }

    /// Records an add of `item`. Returns whether to wake one parked `get`.
    ///
    /// Never waits for the state lock unless the queue needs every add
    /// applied at once or the inbox is full. While no getter is parked and
    /// adds are mostly of fresh items, the add goes to the inbox: the workers
    /// are busy and will apply it, and the state stays in their cache. While
    /// a getter is parked, or adds mostly coalesce, the add is applied at
    /// once if the lock is free (a parked getter is then woken only for an
    /// item that is actually ready, and a duplicate is dropped here); if a
    /// worker holds the lock, the add goes to the inbox, waking a parked
    /// getter if there is one, which applies it.
    pub(crate) fn add(&self, item: T, priority: Priority) -> bool {
        let hash = self.hash(&item);
        let pending = Pending {
            item,
            hash,
            priority,
        };
        let mut tried_lock = false;
        loop {
            let mut inbox = self.inbox.lock();
            if priority != Priority::Normal {
                inbox.direct = true;
            }
            if inbox.direct || inbox.adds.len() >= INBOX_LIMIT {
                break;
            }
            let try_direct = inbox.waiters > 0 || self.coalescing.load(Ordering::Relaxed);
            if !try_direct || tried_lock {
                inbox.adds.push(pending);
                if inbox.adds.len() == 1 {
                    self.pending.store(true, Ordering::Release);
                }
                // A getter counted itself after seeing the inbox empty, so
                // it has not seen this add: wake one, which applies it.
                let wake = inbox.waiters > inbox.woken;
                if wake {
                    inbox.woken += 1;
                }
                return wake;
            }
            drop(inbox);
            tried_lock = true;
            if let Some(mut state) = self.state.try_lock() {
                let (wake, _spare) = self.add_locked(&mut state, pending);
                drop(state);
                return wake;
            }
            // A worker holds the lock: go through the inbox after all.
        }
        let (wake, _spare) = {
            let mut state = self.state.lock();
            self.add_locked(&mut state, pending)
        };
        wake
    }

    /// An add under the state lock: pending adds first, so arrival order is
    /// kept, then this one. Returns whether to wake one parked `get`.
    ///
    /// Hands a duplicate item back so that the caller drops it after
    /// releasing the lock.
    fn add_locked(&self, state: &mut State<T>, add: Pending<T>) -> (bool, Option<T>) {
        let queued = self.apply_inbox(state);
        let (own, spare) = state.add(add.item, add.hash, add.priority);
        self.note_coalescing(spare.is_some());
        (self.claim_wakes(queued + usize::from(own)) > 0, spare)
    }

    /// Hands out the next item, or says why not. `counted` says the caller
    /// was counted as a waiter by its previous call. On [`Pop::Wait`] the
    /// caller is counted and must call this again, or [`Core::uncount`],
    /// once it wakes or gives up.
    pub(crate) fn pop(&self, counted: bool) -> Pop<T> {
        if counted {
            let mut inbox = self.inbox.lock();
            inbox.waiters -= 1;
            inbox.woken = inbox.woken.saturating_sub(1).min(inbox.waiters);
        }
        let mut state = self.lock();
        loop {
            if let Some(item) = state.try_pop() {
                return Pop::Item(item);
            }
            if state.is_shutting_down() {
                return Pop::Closed;
            }
            let mut inbox = self.inbox.lock();
            if inbox.adds.is_empty() {
                inbox.waiters += 1;
                return Pop::Wait;
            }
            // Adds arrived since the state was locked: apply them and look again.
            drop(inbox);
            self.apply_inbox(&mut state);
        }
    }

    /// Hands out the next item if one is ready; never counts a waiter.
    pub(crate) fn try_pop(&self) -> Option<T> {
        self.lock().try_pop()
    }

    /// A counted getter gave up (its `get` was cancelled).
    pub(crate) fn uncount(&self) {
        let mut inbox = self.inbox.lock();
        inbox.waiters -= 1;
        inbox.woken = inbox.woken.min(inbox.waiters);
    }

    /// Ends processing of `item`. Adds recorded before are applied first: an
    /// add of `item` made while it was processed must make it dirty, and
    /// adds of other items keep their place ahead of the requeue.
    pub(crate) fn done(&self, item: &T) -> DoneWake {
        let hash = self.hash(item);
        let (outcome, _removed) = {
            let mut state = self.lock();
            state.done(item, hash)
        };
        DoneWake {
            getter: self.claim_wakes(usize::from(outcome.requeued)) > 0,
            drained: outcome.drained,
        }
    }

    /// Schedules `item` (see [`State::add_after`]). Returns the outcome and
    /// whether a parked getter must be woken.
    pub(crate) fn add_after(
        &self,
        item: T,
        ready_at: Option<Instant>,
        priority: Priority,
    ) -> (AfterOutcome, bool) {
        let hash = self.hash(&item);
        let outcome = self.lock().add_after(item, hash, ready_at, priority);
        let wake = match outcome {
            AfterOutcome::Added { queued } => self.claim_wakes(usize::from(queued)) > 0,
            _ => false,
        };
        (outcome, wake)
    }

    /// Adds every scheduled item due at `now`. Returns how many parked
    /// getters to wake and the next deadline, or `None` when shutting down.
    pub(crate) fn add_due(&self, now: Instant) -> Option<(usize, Option<Instant>)> {
        let (queued, next) = {
            let mut state = self.lock();
            if state.is_shutting_down() {
                return None;
            }
            (state.add_due(now), state.next_due())
        };
        Some((self.claim_wakes(queued), next))
    }

    /// Stops the queue; pending adds that came first are applied before.
    pub(crate) fn shut_down(&self, drain: bool) {
        self.lock().shut_down(drain);
    }

    pub(crate) fn is_drained(&self) -> bool {
        self.lock_raw().is_drained()
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.lock_raw().is_shutting_down()
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn waiting_len(&self) -> usize {
        self.lock_raw().waiting_len()
    }

    pub(crate) fn has_metrics(&self) -> bool {
        self.lock_raw().has_metrics()
    }

    /// Refreshes the unfinished-work gauges (and applies pending adds, so the
    /// depth gauge lags by at most one refresh). `false` once shutting down.
    pub(crate) fn update_unfinished_work(&self, now: Instant) -> bool {
        self.lock().update_unfinished_work(now)
    }

    /// Asserts the state's invariants (loom models).
    #[cfg(all(test, kubeforge_loom))]
    pub(crate) fn check_invariants(&self) {
        self.lock().check_invariants();
    }
}
