//! Items scheduled with `add_after`, ordered by the instant they become ready.
//!
//! client-go keeps a min-heap plus a map from item to heap entry so that
//! re-adding a waiting item can move it (`heap.Fix`). Rust's `BinaryHeap` has
//! no decrease-key, so a move pushes a fresh entry and the map remembers which
//! entry is live; superseded entries are skipped when they reach the top and
//! compacted away if they ever outnumber the live ones.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::collections::hash_map::Entry as MapEntry;
use std::hash::Hash;

use tokio::time::Instant;

use crate::config::Priority;
use crate::state::Map;

/// A scheduled add.
#[derive(Debug)]
struct Timer<T> {
    ready_at: Instant,
    ticket: u64,
    item: T,
}

// Ordered so that `BinaryHeap` (a max-heap) yields the earliest `ready_at`
// first, and among equal instants the earliest scheduled.
impl<T> Ord for Timer<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .ready_at
            .cmp(&self.ready_at)
            .then_with(|| other.ticket.cmp(&self.ticket))
    }
}

impl<T> PartialOrd for Timer<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> PartialEq for Timer<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ready_at == other.ready_at && self.ticket == other.ticket
    }
}

impl<T> Eq for Timer<T> {}

/// The live schedule of one waiting item.
#[derive(Debug, Clone, Copy)]
struct Slot {
    ready_at: Instant,
    ticket: u64,
    /// The highest priority any `add_after` of this item asked for.
    priority: Priority,
}

/// The timer heap.
#[derive(Debug)]
pub(crate) struct Waiting<T> {
    /// Every scheduled add, live or superseded.
    heap: BinaryHeap<Timer<T>>,
    /// Invariant: one slot per waiting item, naming its live heap entry
    /// (same `ticket` and `ready_at`); an entry whose ticket differs from its
    /// item's slot, or whose item has no slot, is superseded.
    slots: Map<T, Slot>,
    next_ticket: u64,
}

impl<T: Clone + Eq + Hash> Waiting<T> {
    pub(crate) fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            slots: Map::default(),
            next_ticket: 0,
        }
    }

    /// Schedules `item` at `ready_at`, or moves its schedule earlier if it is
    /// already waiting; a later instant never postpones it. Returns whether the
    /// earliest deadline moved earlier (the timer must be re-armed).
    pub(crate) fn schedule(&mut self, item: T, ready_at: Instant, priority: Priority) -> bool {
        let earliest = self.heap.peek().map(|t| t.ready_at);
        let ticket = self.next_ticket;
        match self.slots.entry(item) {
            MapEntry::Occupied(mut occupied) => {
                let slot = occupied.get_mut();
                slot.priority = slot.priority.max(priority);
                if ready_at >= slot.ready_at {
                    return false;
                }
                slot.ready_at = ready_at;
                slot.ticket = ticket;
                self.next_ticket += 1;
                let item = occupied.key().clone();
                self.heap.push(Timer {
                    ready_at,
                    ticket,
                    item,
                });
                self.compact_if_needed();
            }
            MapEntry::Vacant(slot) => {
                let item = slot.key().clone();
                slot.insert(Slot {
                    ready_at,
                    ticket,
                    priority,
                });
                self.next_ticket += 1;
                self.heap.push(Timer {
                    ready_at,
                    ticket,
                    item,
                });
            }
        }
        earliest.is_none_or(|e| ready_at < e)
    }

    /// Removes and returns the next item due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(T, Priority)> {
        while let Some(top) = self.heap.peek() {
            if top.ready_at > now {
                return None;
            }
            let timer = self.heap.pop().expect("peeked just above");
            match self.slots.get(&timer.item) {
                Some(slot) if slot.ticket == timer.ticket => {
                    let priority = slot.priority;
                    self.slots.remove(&timer.item);
                    return Some((timer.item, priority));
                }
                _ => continue,
            }
        }
        None
    }

    /// The earliest instant an item may become ready; may belong to a
    /// superseded entry, which only makes the timer fire early and find
    /// nothing.
    pub(crate) fn next_ready_at(&self) -> Option<Instant> {
        self.heap.peek().map(|t| t.ready_at)
    }

    /// Number of waiting items.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Drops every waiting item (shutdown).
    pub(crate) fn clear(&mut self) {
        self.heap = BinaryHeap::new();
        self.slots = Map::default();
    }

    /// Rebuilds the heap without superseded entries once they dominate, so
    /// repeated moves of far-future items cannot grow it without bound.
    fn compact_if_needed(&mut self) {
        if self.heap.len() > 2 * self.slots.len() + 64 {
            let slots = &self.slots;
            self.heap
                .retain(|t| slots.get(&t.item).is_some_and(|s| s.ticket == t.ticket));
        }
    }
}
