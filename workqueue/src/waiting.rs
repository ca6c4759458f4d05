//! The timers of items scheduled with `add_after`, ordered by the instant
//! they become ready.
//!
//! client-go keeps a min-heap plus a map from item to heap entry so that
//! re-adding a waiting item can move it (`heap.Fix`). Rust's `BinaryHeap` has
//! no decrease-key, so a move pushes a fresh timer and the item's record
//! remembers which ticket is live; superseded timers are skipped when they
//! come out and compacted away if they ever outnumber the live ones. A timer
//! holds only its instant, its ticket and its record's position: the item
//! lives once, in its record, and no timer needs a hash lookup.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tokio::time::Instant;

/// A scheduled add of the record at `at`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timer {
    pub(crate) ready_at: Instant,
    /// Unique per scheduling; the record's live ticket, unless superseded.
    pub(crate) ticket: u64,
    /// The record's position.
    pub(crate) at: u32,
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
        self.ticket == other.ticket
    }
}

impl Eq for Timer {}

/// The timer heap.
#[derive(Debug)]
pub(crate) struct Timers {
    /// Every scheduled add, live or superseded.
    heap: BinaryHeap<Timer>,
    next_ticket: u64,
}

impl Timers {
    pub(crate) fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_ticket: 0,
        }
    }

    /// Adds a timer for the record at `at`; returns its ticket.
    pub(crate) fn push(&mut self, ready_at: Instant, at: u32) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.heap.push(Timer {
            ready_at,
            ticket,
            at,
        });
        ticket
    }

    /// The earliest instant of any timer, live or superseded.
    pub(crate) fn earliest(&self) -> Option<Instant> {
        self.heap.peek().map(|t| t.ready_at)
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.heap.peek()?.ready_at > now {
            return None;
        }
        self.heap.pop()
    }

    /// Removes every timer due at `now`, earliest first. For the case where
    /// many are due at once (a clock jump, a long stall): one pass over the
    /// heap and a sort beat popping each due timer, whose sift-down misses
    /// the cache at every level of a large heap.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<Timer> {
        let mut timers = std::mem::take(&mut self.heap).into_vec();
        let mut due = Vec::new();
        timers.retain(|t| {
            let is_due = t.ready_at <= now;
            if is_due {
                due.push(*t);
            }
            !is_due
        });
        self.heap = BinaryHeap::from(timers);
        // `Timer`'s order is reversed for the max-heap: sort descending to
        // get the earliest first.
        due.sort_unstable_by(|a, b| b.cmp(a));
        due
    }

    /// Keeps only the timers `live` accepts.
    pub(crate) fn retain(&mut self, live: impl FnMut(&Timer) -> bool) {
        self.heap.retain(live);
    }

    /// Removes every timer.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Timer> + '_ {
        self.heap.drain()
    }

    /// Number of timers, live or superseded.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Every timer, in no particular order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Timer> {
        self.heap.iter()
    }
}
