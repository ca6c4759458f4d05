//! The synchronous heart of a queue: the state, the inbox adds go through,
//! and the protocol that decides when a parked `get` must be woken.
//!
//! Adds do not take the state lock. They append to a small inbox under its
//! own lock and return; whoever takes the state lock next (a `get`, `len`, a
//! shutdown, the timer) applies the inbox first, in arrival order. So
//! producers never wait behind workers, and a burst of duplicate adds costs
//! producers an append each, with the de-duplication done in one batch.
//! Everything that reads the queue applies the inbox first, so no reader can
//! tell the difference from applying each add at once: an add's place in the
//! order is its append.
//!
//! Two kinds of queue apply adds at once instead, because they need the
//! instant of each add: named queues (the depth gauge and queue-duration
//! histogram must be exact) and queues that have used a priority other than
//! `Normal` (aging measures waiting from the add).
//!
//! The async shell ([`Queue`](crate::Queue)) parks on tokio's `Notify`; the
//! loom models in `src/tests/` drive this same code from threads.

use std::hash::{BuildHasher, Hash};

use tokio::time::Instant;

use crate::config::{Priority, QueueConfig};
use crate::loom::{Mutex, MutexGuard};
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
    /// so an add or requeue that then finds it non-zero must wake one.
    waiters: usize,
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
/// Lock order: `state` before `inbox`; adds take only `inbox`.
#[derive(Debug)]
pub(crate) struct Core<T> {
    state: Mutex<State<T>>,
    inbox: Mutex<Inbox<T>>,
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
                direct: state.has_metrics(),
            }),
            state: Mutex::new(state),
        }
    }

    pub(crate) fn hash(&self, item: &T) -> u64 {
        self.hasher.hash_one(item)
    }

    /// Records an add of `item`. Returns how many parked `get` calls to wake.
    ///
    /// Fast path: append to the inbox and return. When a getter is parked the
    /// adder applies the inbox itself and wakes getters only for items that
    /// are actually ready, so a stream of duplicate adds does not wake idle
    /// workers for nothing.
    pub(crate) fn add(&self, item: T, priority: Priority) -> usize {
        let hash = self.hash(&item);
        let mut direct = Some(item);
        {
            let mut inbox = self.inbox.lock();
            if priority != Priority::Normal {
                inbox.direct = true;
            }
            if !inbox.direct
                && let Some(item) = direct.take()
            {
                inbox.adds.push(Pending {
                    item,
                    hash,
                    priority,
                });
                if inbox.waiters == 0 && inbox.adds.len() < INBOX_LIMIT {
                    return 0;
                }
            }
        }
        // `lock` applies whatever the inbox holds first, so arrival order is
        // kept for a direct add too.
        let ready = {
            let mut state = self.lock();
            if let Some(item) = direct {
                state.add(item, hash, priority);
            }
            state.len()
        };
        self.wakes(ready)
    }

    /// Locks the state with every pending add applied.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State<T>> {
        let mut state = self.state.lock();
        self.apply_inbox(&mut state);
        state
    }

    /// Locks the state as it is, for reads that pending adds cannot change
    /// (`is_shutting_down`, drain checks, the timer heap's size).
    pub(crate) fn lock_raw(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock()
    }

    fn apply_inbox(&self, state: &mut State<T>) {
        let mut batch = state.take_scratch();
        {
            let mut inbox = self.inbox.lock();
            if inbox.adds.is_empty() {
                drop(inbox);
                state.put_scratch(batch);
                return;
            }
            std::mem::swap(&mut inbox.adds, &mut batch);
        }
        for add in batch.drain(..) {
            state.add(add.item, add.hash, add.priority);
        }
        state.put_scratch(batch);
    }

    /// Hands out the next item, or says why not. On [`Pop::Wait`] the caller
    /// is counted as a waiter and must call [`Core::stop_waiting`] once it
    /// wakes or gives up.
    pub(crate) fn pop(&self) -> Pop<T> {
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

    /// A counted getter woke up or was cancelled.
    pub(crate) fn stop_waiting(&self) {
        self.inbox.lock().waiters -= 1;
    }

    /// How many parked getters to wake for `queued` items that are ready.
    fn wakes(&self, queued: usize) -> usize {
        if queued == 0 {
            return 0;
        }
        queued.min(self.inbox.lock().waiters)
    }

    /// Ends processing of `item`. Adds recorded before are applied first: an
    /// add of `item` made while it was processed must make it dirty, and
    /// adds of other items keep their place ahead of the requeue.
    pub(crate) fn done(&self, item: &T) -> DoneWake {
        let hash = self.hash(item);
        let outcome = self.lock().done(item, hash);
        DoneWake {
            getter: self.wakes(usize::from(outcome.requeued)) > 0,
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
            AfterOutcome::Added { queued } => self.wakes(usize::from(queued)) > 0,
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
        Some((self.wakes(queued), next))
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
