//! The items a queue tracks: one record per item in a slab, found by item
//! through a hash index of slab positions.
//!
//! Every other structure (the FIFO lanes, the timer heap, the metrics
//! stamps) names an item by its record's position, so each item is stored
//! once, however many of those it is in, and moving it between them never
//! clones or re-hashes it. The index holds only positions (4 bytes a bucket),
//! so probing it for `add` and `done` stays in cache longer.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

/// One tracked item.
#[derive(Debug)]
pub(crate) struct Record<T, S> {
    pub(crate) item: T,
    pub(crate) hash: u64,
    pub(crate) status: S,
}

/// Records plus the index over them.
#[derive(Debug)]
pub(crate) struct Items<T, S> {
    /// Records by position; `None` positions are on `free`.
    slots: Vec<Option<Record<T, S>>>,
    /// Free positions, reused last-in first-out (the most recently freed
    /// record is the likeliest to be in cache).
    free: Vec<u32>,
    /// Position of every record, hashed by the record's hash.
    /// Invariant: holds exactly the positions of the `Some` slots.
    index: HashTable<u32>,
}

impl<T: Eq, S> Items<T, S> {
    pub(crate) fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
        }
    }

    /// The position of the record for `item`, creating one with status
    /// `make()` if there is none: `Ok` for an existing record, with `item`
    /// handed back (the caller drops it once its lock is released), `Err`
    /// for a new one. One probe either way.
    pub(crate) fn find_or_insert(
        &mut self,
        hash: u64,
        item: T,
        make: impl FnOnce() -> S,
    ) -> Result<(u32, T), u32> {
        let Self { slots, free, index } = self;
        let entry = index.entry(
            hash,
            |&at| {
                slots[at as usize]
                    .as_ref()
                    .is_some_and(|r| r.hash == hash && r.item == item)
            },
            |&at| slots[at as usize].as_ref().map_or(0, |r| r.hash),
        );
        match entry {
            Entry::Occupied(occupied) => Ok((*occupied.get(), item)),
            Entry::Vacant(vacant) => {
                let record = Some(Record {
                    item,
                    hash,
                    status: make(),
                });
                // The index rehashes only inside `entry` above, so naming the
                // position just before its record is stored is never observed.
                let at = match free.pop() {
                    Some(at) => {
                        slots[at as usize] = record;
                        at
                    }
                    None => {
                        let at = u32::try_from(slots.len())
                            .ok()
                            .filter(|&at| at != u32::MAX)
                            .expect("a queue tracks fewer than 2^32 - 1 items");
                        slots.push(record);
                        at
                    }
                };
                vacant.insert(at);
                Err(at)
            }
        }
    }

    /// Finds `item`'s record and lets `decide` look at it: if `decide`
    /// returns `true` the record is removed and its item returned. One probe.
    pub(crate) fn find_then(
        &mut self,
        hash: u64,
        item: &T,
        decide: impl FnOnce(u32, &mut Record<T, S>) -> bool,
    ) -> Option<T> {
        let Self { slots, free, index } = self;
        let entry = index
            .find_entry(hash, |&at| {
                slots[at as usize]
                    .as_ref()
                    .is_some_and(|r| r.hash == hash && r.item == *item)
            })
            .ok()?;
        let at = *entry.get();
        let slot = &mut slots[at as usize];
        if !decide(at, slot.as_mut()?) {
            return None;
        }
        entry.remove();
        free.push(at);
        slot.take().map(|record| record.item)
    }

    /// The record at `at`, if that position holds one.
    pub(crate) fn get(&self, at: u32) -> Option<&Record<T, S>> {
        self.slots.get(at as usize).and_then(Option::as_ref)
    }

    /// The record at `at`, if that position holds one.
    pub(crate) fn get_mut(&mut self, at: u32) -> Option<&mut Record<T, S>> {
        self.slots.get_mut(at as usize).and_then(Option::as_mut)
    }

    /// Removes and returns the record at `at`.
    pub(crate) fn remove(&mut self, at: u32) -> Option<Record<T, S>> {
        let record = self.slots.get_mut(at as usize)?.take()?;
        if let Ok(entry) = self.index.find_entry(record.hash, |&i| i == at) {
            entry.remove();
        }
        self.free.push(at);
        Some(record)
    }

    /// Every record with its position.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &Record<T, S>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(at, slot)| Some((at as u32, slot.as_ref()?)))
    }

    /// Asserts the index invariant.
    #[cfg(test)]
    pub(crate) fn check_index(&self) {
        let used = self.slots.iter().filter(|s| s.is_some()).count();
        assert_eq!(self.index.len(), used, "index size");
        for (at, record) in self.iter() {
            assert!(
                self.index.find(record.hash, |&i| i == at).is_some(),
                "record at {at} missing from the index"
            );
        }
    }
}
