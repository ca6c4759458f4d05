//! The order in which ready items are handed out: one FIFO lane per priority,
//! with aging.
//!
//! client-go lets a queue plug in its own ordering (`Queue[T]` with `Touch`,
//! `Push`, `Pop`); this is ours. With only [`Priority::Normal`] in use it is a
//! plain FIFO and never reads the clock.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::Priority;

/// One queued entry.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub(crate) item: T,
    /// Position of the item's record, so handing it out needs no lookup.
    pub(crate) slot: usize,
    /// Matches the owning item's ticket while this entry is the item's live
    /// one; a promotion to a higher lane leaves a stale copy behind, which the
    /// state skips when it comes out.
    pub(crate) ticket: u64,
    /// When the item became ready; `None` before priorities were first used.
    pub(crate) since: Option<Instant>,
}

/// FIFO lanes, the most urgent first.
#[derive(Debug)]
pub(crate) struct Lanes<T> {
    lanes: [VecDeque<Entry<T>>; Priority::COUNT],
    next_ticket: u64,
    /// Set when a priority other than `Normal` is first used. From then on
    /// every entry is stamped; entries queued before count as queued at this
    /// instant, which only understates how long they have waited. Until then
    /// everything is in the `Normal` lane, so no clock read is needed.
    stamping_since: Option<Instant>,
    aging: Duration,
}

impl<T> Lanes<T> {
    pub(crate) fn new(aging: Duration) -> Self {
        Self {
            lanes: Default::default(),
            next_ticket: 0,
            stamping_since: None,
            aging,
        }
    }

    /// Appends `item` to its priority's lane; returns the entry's ticket and
    /// ready time.
    pub(crate) fn push(
        &mut self,
        item: T,
        slot: usize,
        priority: Priority,
    ) -> (u64, Option<Instant>) {
        if priority != Priority::Normal && self.stamping_since.is_none() {
            self.stamping_since = Some(Instant::now());
        }
        let since = self.stamping_since.map(|_| Instant::now());
        (self.push_since(item, slot, priority, since), since)
    }

    /// Appends `item` keeping an earlier ready time (a promotion keeps the
    /// age the item has already gathered).
    pub(crate) fn push_since(
        &mut self,
        item: T,
        slot: usize,
        priority: Priority,
        since: Option<Instant>,
    ) -> u64 {
        if priority != Priority::Normal && self.stamping_since.is_none() {
            self.stamping_since = Some(Instant::now());
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.lanes[priority.lane()].push_back(Entry {
            item,
            slot,
            ticket,
            since,
        });
        ticket
    }

    /// Makes room for `additional` `Normal` entries (a bulk of due items).
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.lanes[Priority::Normal.lane()].reserve(additional);
    }

    /// Removes the entry to hand out next, live or stale.
    pub(crate) fn pop(&mut self) -> Option<Entry<T>> {
        let mut nonempty = self.lanes.iter().enumerate().filter(|(_, l)| !l.is_empty());
        let first = nonempty.next()?.0;
        if nonempty.next().is_none() {
            return self.lanes[first].pop_front();
        }
        let lane = self.choose();
        self.lanes[lane].pop_front()
    }

    /// The lane whose head has the highest effective level (priority plus one
    /// per `aging` waited); among equals the head that waited longest, then
    /// the more urgent lane. Only called with two or more lanes in use, which
    /// implies stamping is on.
    fn choose(&self) -> usize {
        let now = Instant::now();
        let aging = self.aging.as_nanos().max(1);
        let mut best: Option<(u128, Instant, usize)> = None;
        for (lane, entries) in self.lanes.iter().enumerate() {
            let Some(head) = entries.front() else {
                continue;
            };
            let since = head.since.or(self.stamping_since).unwrap_or(now);
            let waited = now.saturating_duration_since(since).as_nanos();
            let level = (Priority::COUNT - 1 - lane) as u128 + waited / aging;
            let better = match best {
                None => true,
                Some((best_level, best_since, _)) => {
                    level > best_level || (level == best_level && since < best_since)
                }
            };
            if better {
                best = Some((level, since, lane));
            }
        }
        best.map_or(0, |(_, _, lane)| lane)
    }
}
