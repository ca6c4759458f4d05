//! The items a queue tracks: records in a slab, found by item through a hash
//! index of slab positions.
//!
//! Handing an item out must find its record. A hash table of records would
//! mean a probe at a random place per `get`; with a slab, a queued entry
//! carries its record's position, and records of items queued together sit
//! together. The index holds only positions (8 bytes a bucket), so probing
//! it for `add` and `done` stays in cache longer too.

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
    /// Free positions, reused last-in first-out.
    free: Vec<usize>,
    /// Position of every record, hashed by the record's hash.
    /// Invariant: holds exactly the positions of the `Some` slots.
    index: HashTable<usize>,
}

impl<T: Eq, S> Items<T, S> {
    pub(crate) fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
        }
    }

    /// The position of `item`'s record.
    pub(crate) fn find(&self, hash: u64, item: &T) -> Option<usize> {
        let slots = &self.slots;
        self.index
            .find(hash, |&at| {
                slots[at]
                    .as_ref()
                    .is_some_and(|r| r.hash == hash && r.item == *item)
            })
            .copied()
    }

    /// The position of the record for `item`, creating one with status
    /// `make()` if there is none: `Ok` for an existing record (and `item` is
    /// dropped), `Err` for a new one. One probe either way.
    pub(crate) fn find_or_insert(
        &mut self,
        hash: u64,
        item: T,
        make: impl FnOnce() -> S,
    ) -> Result<usize, usize> {
        let Self { slots, free, index } = self;
        let entry = index.entry(
            hash,
            |&at| {
                slots[at]
                    .as_ref()
                    .is_some_and(|r| r.hash == hash && r.item == item)
            },
            |&at| slots[at].as_ref().map_or(0, |r| r.hash),
        );
        match entry {
            Entry::Occupied(occupied) => Ok(*occupied.get()),
            Entry::Vacant(vacant) => {
                // The index rehashes only inside `entry` above, so naming the
                // position just before its record is stored is never observed.
                let at = free.pop().unwrap_or(slots.len());
                vacant.insert(at);
                let record = Some(Record {
                    item,
                    hash,
                    status: make(),
                });
                match slots.get_mut(at) {
                    Some(slot) => *slot = record,
                    None => slots.push(record),
                }
                Err(at)
            }
        }
    }

    /// The record at `at`, if that position holds one.
    pub(crate) fn get_mut(&mut self, at: usize) -> Option<&mut Record<T, S>> {
        self.slots.get_mut(at).and_then(Option::as_mut)
    }

    /// Removes and returns the record at `at`.
    pub(crate) fn remove(&mut self, at: usize) -> Option<Record<T, S>> {
        let record = self.slots.get_mut(at)?.take()?;
        if let Ok(entry) = self.index.find_entry(record.hash, |&i| i == at) {
            entry.remove();
        }
        self.free.push(at);
        Some(record)
    }

    /// Makes room for `additional` more records.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let additional = additional.saturating_sub(self.free.len());
        self.slots.reserve(additional);
        let slots = &self.slots;
        self.index
            .reserve(additional, |&i| slots[i].as_ref().map_or(0, |r| r.hash));
    }

    /// Every record.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Record<T, S>> {
        self.slots.iter().flatten()
    }

    /// Asserts the index invariant.
    #[cfg(test)]
    pub(crate) fn check_index(&self) {
        let used = self.slots.iter().filter(|s| s.is_some()).count();
        assert_eq!(self.index.len(), used, "index size");
        for (at, slot) in self.slots.iter().enumerate() {
            if let Some(record) = slot {
                assert!(
                    self.index.find(record.hash, |&i| i == at).is_some(),
                    "record at {at} missing from the index"
                );
            }
        }
    }
}
