//! The order in which ready items are handed out: one FIFO lane per priority,
//! with aging.
//!
//! client-go lets a queue plug in its own ordering (`Queue[T]` with `Touch`,
//! `Push`, `Pop`); this is ours. A lane is a doubly linked list threaded
//! through the item records themselves (each record holds a [`Link`]), so
//! queueing an item allocates nothing and copies nothing, and a promotion to
//! a higher lane unlinks the item in place instead of leaving a stale entry
//! behind. With only [`Priority::Normal`] in use it is a plain FIFO and never
//! reads the clock.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::Priority;

/// No position: the end of a lane.
const NIL: u32 = u32::MAX;

/// A record's neighbours in its lane, by position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    prev: u32,
    next: u32,
}

impl Link {
    /// The link of a record in no lane.
    pub(crate) const UNLINKED: Link = Link {
        prev: NIL,
        next: NIL,
    };
}

/// Access to the [`Link`] of the record at a position; the lanes only ever
/// ask for positions they were given.
pub(crate) trait Links {
    fn link(&mut self, at: u32) -> &mut Link;
}

/// Both ends of one lane.
#[derive(Debug, Clone, Copy)]
struct Ends {
    head: u32,
    tail: u32,
}

impl Ends {
    const EMPTY: Ends = Ends {
        head: NIL,
        tail: NIL,
    };

    fn is_empty(self) -> bool {
        self.head == NIL
    }
}

/// FIFO lanes, the most urgent first.
#[derive(Debug)]
pub(crate) struct Lanes {
    lanes: [Ends; Priority::COUNT],
    /// When the item at each position became ready, written by every push
    /// once stamping is on and read only then. Positions never written since
    /// stamping began hold `None`.
    since: Vec<Option<Instant>>,
    /// Set when a priority other than `Normal` is first used. From then on
    /// every push is stamped; items queued before count as queued at this
    /// instant, which only understates how long they have waited. Until then
    /// everything is in the `Normal` lane, so no clock read is needed.
    stamping_since: Option<Instant>,
    aging: Duration,
}

impl Lanes {
    pub(crate) fn new(aging: Duration) -> Self {
        Self {
            lanes: [Ends::EMPTY; Priority::COUNT],
            since: Vec::new(),
            stamping_since: None,
            aging,
        }
    }

    /// Appends the item at `at` to `priority`'s lane, ready from now.
    pub(crate) fn push(&mut self, links: &mut impl Links, at: u32, priority: Priority) {
        self.start_stamping_for(priority);
        if self.stamping_since.is_some() {
            self.set_since(at, Some(Instant::now()));
        }
        self.link_back(links, at, priority);
    }

    /// Moves the queued item at `at` from lane `from` to the back of lane
    /// `to`, keeping the age it has gathered.
    pub(crate) fn promote(
        &mut self,
        links: &mut impl Links,
        at: u32,
        from: Priority,
        to: Priority,
    ) {
        self.start_stamping_for(to);
        self.unlink(links, at, from);
        self.link_back(links, at, to);
    }

    /// Removes the item to hand out next and returns its position.
    pub(crate) fn pop(&mut self, links: &mut impl Links) -> Option<u32> {
        let normal = Priority::Normal.lane();
        // Fast path: without priorities only the `Normal` lane is used.
        let lane = if self.stamping_since.is_none() {
            normal
        } else {
            let mut nonempty = (0..Priority::COUNT).filter(|&l| !self.lanes[l].is_empty());
            let first = nonempty.next()?;
            if nonempty.next().is_none() {
                first
            } else {
                self.choose()
            }
        };
        let head = self.lanes[lane].head;
        if head == NIL {
            return None;
        }
        let next = std::mem::replace(links.link(head), Link::UNLINKED).next;
        self.lanes[lane].head = next;
        if next == NIL {
            self.lanes[lane].tail = NIL;
        } else {
            links.link(next).prev = NIL;
        }
        Some(head)
    }

    /// Every queued position with its lane, most urgent lane first, each
    /// lane front to back.
    #[cfg(test)]
    pub(crate) fn positions(&self, link_of: impl Fn(u32) -> Link) -> Vec<(u32, Priority)> {
        let mut out = Vec::new();
        for priority in [Priority::High, Priority::Normal, Priority::Low] {
            let mut at = self.lanes[priority.lane()].head;
            while at != NIL {
                out.push((at, priority));
                at = link_of(at).next;
            }
        }
        out
    }

    fn start_stamping_for(&mut self, priority: Priority) {
        if priority != Priority::Normal && self.stamping_since.is_none() {
            self.stamping_since = Some(Instant::now());
        }
    }

    fn set_since(&mut self, at: u32, since: Option<Instant>) {
        let at = at as usize;
        if self.since.len() <= at {
            self.since.resize(at + 1, None);
        }
        self.since[at] = since;
    }

    fn link_back(&mut self, links: &mut impl Links, at: u32, priority: Priority) {
        let ends = &mut self.lanes[priority.lane()];
        *links.link(at) = Link {
            prev: ends.tail,
            next: NIL,
        };
        if ends.tail == NIL {
            ends.head = at;
        } else {
            links.link(ends.tail).next = at;
        }
        ends.tail = at;
    }

    fn unlink(&mut self, links: &mut impl Links, at: u32, priority: Priority) {
        let Link { prev, next } = std::mem::replace(links.link(at), Link::UNLINKED);
        let ends = &mut self.lanes[priority.lane()];
        if prev == NIL {
            ends.head = next;
        } else {
            links.link(prev).next = next;
        }
        if next == NIL {
            ends.tail = prev;
        } else {
            links.link(next).prev = prev;
        }
    }

    /// The lane whose head has the highest effective level (priority plus one
    /// per `aging` waited); among equals the head that waited longest, then
    /// the more urgent lane. Only called with two or more lanes in use, which
    /// implies stamping is on.
    fn choose(&self) -> usize {
        let now = Instant::now();
        let aging = self.aging.as_nanos().max(1);
        let mut best: Option<(u128, Instant, usize)> = None;
        for (lane, ends) in self.lanes.iter().enumerate() {
            if ends.is_empty() {
                continue;
            }
            let since = self
                .since
                .get(ends.head as usize)
                .copied()
                .flatten()
                .or(self.stamping_since)
                .unwrap_or(now);
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
        best.map_or(Priority::Normal.lane(), |(_, _, lane)| lane)
    }
}
