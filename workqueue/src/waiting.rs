//! Items scheduled with `add_after`, ordered by the instant they become ready.
//!
//! client-go keeps a min-heap plus a map from item to heap entry so that
//! re-adding a waiting item can move it (`heap.Fix`). Rust's `BinaryHeap` has
//! no decrease-key, so a move pushes a fresh timer and the item's slot
//! remembers which timer is live; superseded timers are skipped when they
//! reach the top and compacted away if they ever outnumber the live ones.
//! The heap holds only instants, tickets and hashes; the item itself lives
//! once, in its slot.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use tokio::time::Instant;

use crate::config::Priority;

/// A scheduled add, pointing at its slot by hash and ticket.
#[derive(Debug)]
struct Timer {
    ready_at: Instant,
    ticket: u64,
    hash: u64,
}

// Ordered so that `BinaryHeap` (a max-heap) yields the earliest `ready_at`
// first, and among equal instants the earliest scheduled.
impl Ord for Timer {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .ready_at
            .cmp(&self.ready_at)
            .then_with(|| other.ticket.cmp(&self.ticket))
    }
}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.ready_at == other.ready_at && self.ticket == other.ticket
    }
}

impl Eq for Timer {}

/// One waiting item and its live schedule.
#[derive(Debug)]
struct Slot<T> {
    item: T,
    hash: u64,
    ready_at: Instant,
    /// The ticket of the live timer; tickets are never reused, so a timer
    /// whose ticket no slot holds is superseded.
    ticket: u64,
    /// The highest priority any `add_after` of this item asked for.
    priority: Priority,
}

/// The timer heap.
#[derive(Debug)]
pub(crate) struct Waiting<T> {
    /// Every scheduled add, live or superseded.
    heap: BinaryHeap<Timer>,
    /// Invariant: one slot per waiting item, whose `ticket` and `ready_at`
    /// name its live timer in `heap`.
    slots: HashTable<Slot<T>>,
    next_ticket: u64,
}

impl<T: Eq> Waiting<T> {
    pub(crate) fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            slots: HashTable::new(),
            next_ticket: 0,
        }
    }

    /// Schedules `item` at `ready_at`, or moves its schedule earlier if it is
    /// already waiting; a later instant never postpones it. Returns whether the
    /// earliest deadline moved earlier (the timer must be re-armed).
    pub(crate) fn schedule(
        &mut self,
        item: T,
        hash: u64,
        ready_at: Instant,
        priority: Priority,
    ) -> bool {
        let earliest = self.heap.peek().map(|t| t.ready_at);
        let ticket = self.next_ticket;
        match self
            .slots
            .entry(hash, |s| s.hash == hash && s.item == item, |s| s.hash)
        {
            Entry::Occupied(mut occupied) => {
                let slot = occupied.get_mut();
                slot.priority = slot.priority.max(priority);
                if ready_at >= slot.ready_at {
                    return false;
                }
                slot.ready_at = ready_at;
                slot.ticket = ticket;
                self.next_ticket += 1;
                self.heap.push(Timer {
                    ready_at,
                    ticket,
                    hash,
                });
                self.compact_if_needed();
            }
            Entry::Vacant(vacant) => {
                vacant.insert(Slot {
                    item,
                    hash,
                    ready_at,
                    ticket,
                    priority,
                });
                self.next_ticket += 1;
                self.heap.push(Timer {
                    ready_at,
                    ticket,
                    hash,
                });
            }
        }
        earliest.is_none_or(|e| ready_at < e)
    }

    /// Removes and returns the next item due at or before `now`, with its
    /// hash and priority.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(T, u64, Priority)> {
        while let Some(top) = self.heap.peek() {
            if top.ready_at > now {
                return None;
            }
            let timer = self.heap.pop().expect("peeked just above");
            if let Ok(live) = self
                .slots
                .find_entry(timer.hash, |s| s.ticket == timer.ticket)
            {
                let (slot, _) = live.remove();
                return Some((slot.item, slot.hash, slot.priority));
            }
        }
        None
    }

    /// Removes every item due at or before `now`, earliest first. For the
    /// case where many are due at once (a clock jump, a long stall): one pass
    /// over the heap and a sort beat popping each due timer, whose sift-down
    /// misses the cache at every level of a large heap.
    pub(crate) fn take_all_due(&mut self, now: Instant) -> Vec<(T, u64, Priority)> {
        let timers = std::mem::take(&mut self.heap).into_vec();
        let (mut due, rest): (Vec<Timer>, Vec<Timer>) =
            timers.into_iter().partition(|t| t.ready_at <= now);
        self.heap = BinaryHeap::from(rest);
        // `Timer`'s order is reversed for the max-heap: sort descending to
        // get the earliest first.
        due.sort_unstable_by(|a, b| b.cmp(a));
        let mut items = Vec::with_capacity(due.len());
        for timer in due {
            if let Ok(live) = self
                .slots
                .find_entry(timer.hash, |s| s.ticket == timer.ticket)
            {
                let (slot, _) = live.remove();
                items.push((slot.item, slot.hash, slot.priority));
            }
        }
        items
    }

    /// The earliest instant an item may become ready; may belong to a
    /// superseded timer, which only makes the timer task wake early and find
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
        self.slots = HashTable::new();
    }

    /// Rebuilds the heap without superseded timers once they dominate, so
    /// repeated moves of far-future items cannot grow it without bound.
    fn compact_if_needed(&mut self) {
        if self.heap.len() > 2 * self.slots.len() + 64 {
            let slots = &self.slots;
            self.heap
                .retain(|t| slots.find(t.hash, |s| s.ticket == t.ticket).is_some());
        }
    }
}
