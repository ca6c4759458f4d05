//! The synchronous heart of a queue: the state behind its one lock, and the
//! protocol that decides when a parked `get` must be woken.
//!
//! Every operation hashes its item before taking the lock and then does one
//! short critical section: look the item up in the index, flip a flag or two,
//! link or unlink a record. Nothing is cloned under the lock except the item
//! `get` hands out, and nothing is allocated except a new record.
//!
//! Waking follows one rule: a getter that found nothing is counted as a
//! waiter under the lock, and whoever makes an item ready while a getter is
//! counted wakes one, one per newly ready item. Adds that coalesce (the item
//! was already waiting) wake nobody.
//!
//! The async shell ([`Queue`](crate::Queue)) parks on tokio's `Notify`; the
//! loom models in `src/tests/` drive this same code from threads.

use std::hash::{BuildHasher, Hash};

use tokio::time::Instant;

use crate::config::{Priority, QueueConfig};
use crate::loom::{Mutex, MutexGuard};
use crate::state::{AfterOutcome, ItemHasher, Pop, State};

/// What a `done` asks of the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DoneWake {
    /// Wake one parked `get`: the item was re-queued.
    pub(crate) getter: bool,
    /// Wake `shut_down_with_drain`: the last item in flight is done.
    pub(crate) drained: bool,
}

/// The state of one queue and the hasher its items are hashed with.
#[derive(Debug)]
pub(crate) struct Core<T> {
    state: Mutex<State<T>>,
    /// A copy of the state's hasher, so items are hashed outside the lock.
    hasher: ItemHasher,
}

impl<T: Clone + Eq + Hash> Core<T> {
    pub(crate) fn new(config: &QueueConfig) -> Self {
        let state = State::new(config);
        Self {
            hasher: state.hasher().clone(),
            state: Mutex::new(state),
        }
    }

    fn hash(&self, item: &T) -> u64 {
        self.hasher.hash_one(item)
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock()
    }

    /// Records an add of `item`. Returns whether to wake one parked `get`.
    pub(crate) fn add(&self, item: T, priority: Priority) -> bool {
        let hash = self.hash(&item);
        let (wake, _spare) = {
            let mut state = self.lock();
            let (queued, spare) = state.add(item, hash, priority);
            (state.wakes(usize::from(queued)) > 0, spare)
        };
        wake
    }

    /// Hands out the next item, or says why not. `counted` says the caller
    /// was counted as a waiter by its previous call. On [`Pop::Wait`] the
    /// caller is counted and must call this again, or [`Core::uncount`],
    /// once it wakes or gives up.
    pub(crate) fn pop(&self, counted: bool) -> Pop<T> {
        self.lock().pop(counted)
    }

    /// Hands out the next item if one is ready; never counts a waiter.
    pub(crate) fn try_pop(&self) -> Option<T> {
        self.lock().try_pop()
    }

    /// A counted getter was cancelled.
    pub(crate) fn uncount(&self) {
        self.lock().uncount();
    }

    /// Ends processing of `item`.
    pub(crate) fn done(&self, item: &T) -> DoneWake {
        let hash = self.hash(item);
        let (wake, _removed) = {
            let mut state = self.lock();
            let (outcome, removed) = state.done(item, hash);
            let wake = DoneWake {
                getter: state.wakes(usize::from(outcome.requeued)) > 0,
                drained: outcome.drained,
            };
            (wake, removed)
        };
        wake
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
        let mut state = self.lock();
        let outcome = state.add_after(item, hash, ready_at, priority);
        let wake = match outcome {
            AfterOutcome::Added { queued } => state.wakes(usize::from(queued)) > 0,
            _ => false,
        };
        (outcome, wake)
    }

    /// Adds every scheduled item due at `now`. Returns how many parked
    /// getters to wake and the next deadline, or `None` when shutting down.
    pub(crate) fn add_due(&self, now: Instant) -> Option<(usize, Option<Instant>)> {
        let mut state = self.lock();
        if state.is_shutting_down() {
            return None;
        }
        let queued = state.add_due(now);
        Some((state.wakes(queued), state.next_due()))
    }

    /// Stops the queue.
    pub(crate) fn shut_down(&self, drain: bool) {
        self.lock().shut_down(drain);
    }

    pub(crate) fn is_drained(&self) -> bool {
        self.lock().is_drained()
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.lock().is_shutting_down()
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn waiting_len(&self) -> usize {
        self.lock().waiting_len()
    }

    pub(crate) fn has_metrics(&self) -> bool {
        self.lock().has_metrics()
    }

    /// Refreshes the unfinished-work gauges. `false` once shutting down.
    pub(crate) fn update_unfinished_work(&self, now: Instant) -> bool {
        self.lock().update_unfinished_work(now)
    }

    /// Asserts the state's invariants (loom models).
    #[cfg(all(test, kubeforge_loom))]
    pub(crate) fn check_invariants(&self) {
        self.lock().check_invariants();
    }
}
