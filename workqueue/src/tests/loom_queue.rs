//! Loom models of the three core guarantees, driving the real [`Core`]
//! (state and wake-up decisions) from threads. Loom cannot model the
//! tokio runtime, so a small condvar-based [`Event`] stands in for tokio's
//! `Notify` with `enable`; a wake-up the core forgets to ask for shows up as
//! a deadlock.
//!
//! Run with:
//! `RUSTFLAGS="--cfg kubeforge_loom -C debug-assertions" cargo test -p kubeforge-workqueue --lib --release loom`

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use crate::config::{Priority, QueueConfig};
use crate::core::Core;
use crate::state::Pop;

/// tokio's `Notify` as the shell uses it: a waiter reads the generation
/// before it looks at the queue (`enable`) and sleeps only while the
/// generation is unchanged, so a notification between look and sleep is
/// never lost.
struct Event {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Event {
    fn new() -> Self {
        Self {
            generation: Mutex::new(0),
            changed: Condvar::new(),
        }
    }

    fn listen(&self) -> u64 {
        *self.generation.lock().expect("not poisoned")
    }

    fn wait(&self, seen: u64) {
        let mut generation = self.generation.lock().expect("not poisoned");
        while *generation == seen {
            generation = self.changed.wait(generation).expect("not poisoned");
        }
    }

    fn notify(&self) {
        *self.generation.lock().expect("not poisoned") += 1;
        self.changed.notify_all();
    }
}

/// A blocking queue over the core, shaped like the async shell.
struct Harness {
    core: Core<u32>,
    ready: Event,
    drained: Event,
}

impl Harness {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            core: Core::new(&QueueConfig::new()),
            ready: Event::new(),
            drained: Event::new(),
        })
    }

    fn add(&self, item: u32) {
        if self.core.add(item, Priority::Normal) {
            self.ready.notify();
        }
    }

    fn get(&self) -> Option<u32> {
        let mut counted = false;
        loop {
            let seen = self.ready.listen();
            match self.core.pop(std::mem::take(&mut counted)) {
                Pop::Item(item) => return Some(item),
                Pop::Closed => return None,
                Pop::Wait => counted = true,
            }
            self.ready.wait(seen);
        }
    }

    fn done(&self, item: u32) {
        let wake = self.core.done(&item);
        if wake.getter {
            self.ready.notify();
        }
        if wake.drained {
            self.drained.notify();
        }
    }

    fn shut_down(&self, drain: bool) {
        self.core.shut_down(drain);
        self.ready.notify();
        self.drained.notify();
    }

    fn shut_down_with_drain(&self) {
        self.shut_down(true);
        loop {
            let seen = self.drained.listen();
            if self.core.is_drained() {
                return;
            }
            self.drained.wait(seen);
        }
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

/// Two workers and a concurrent re-add: an item is never held by two
/// workers at once, and every hand-out is matched by a `done`.
#[test]
fn loom_item_is_never_handed_to_two_workers_at_once() {
    model(|| {
        let queue = Harness::new();
        let holders = Arc::new(AtomicUsize::new(0));
        queue.add(1);

        let adder = {
            let queue = queue.clone();
            thread::spawn(move || queue.add(1))
        };
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (queue, holders) = (queue.clone(), holders.clone());
                thread::spawn(move || {
                    let mut handed = 0;
                    while let Some(item) = queue.get() {
                        assert_eq!(holders.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        holders.fetch_sub(1, Ordering::SeqCst);
                        queue.done(item);
                        handed += 1;
                    }
                    handed
                })
            })
            .collect();

        adder.join().expect("adder");
        queue.shut_down(false);
        let handed: usize = workers.into_iter().map(|w| w.join().expect("worker")).sum();
        // The second add either coalesced with the waiting item or ran it
        // once more; never lost, never more.
        assert!((1..=2).contains(&handed), "handed out {handed} times");
        queue.core.check_invariants();
    });
}

/// Two re-adds while the item is processed: handed out exactly once more,
/// and only after `done`.
#[test]
fn loom_readded_while_processing_is_handed_out_once_after_done() {
    model(|| {
        let queue = Harness::new();
        let done_called = Arc::new(AtomicBool::new(false));
        queue.add(7);
        let item = queue.get().expect("queued");

        let adders: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || queue.add(7))
            })
            .collect();
        let worker = {
            let (queue, done_called) = (queue.clone(), done_called.clone());
            thread::spawn(move || {
                let mut handed = 0;
                while let Some(item) = queue.get() {
                    assert!(done_called.load(Ordering::SeqCst), "handed out before done");
                    queue.done(item);
                    handed += 1;
                }
                handed
            })
        };

        for adder in adders {
            adder.join().expect("adder");
        }
        done_called.store(true, Ordering::SeqCst);
        queue.done(item);
        queue.shut_down(false);
        assert_eq!(worker.join().expect("worker"), 1);
        queue.core.check_invariants();
    });
}

/// `shut_down_with_drain` returns only after every item handed out is done.
#[test]
fn loom_drain_waits_for_in_flight_work() {
    model(|| {
        let queue = Harness::new();
        queue.add(1);
        queue.add(2);
        let first = queue.get().expect("queued");
        let second = queue.get().expect("queued");

        let finished: Vec<_> = [first, second]
            .into_iter()
            .map(|item| {
                let queue = queue.clone();
                let finished = Arc::new(AtomicBool::new(false));
                let flag = finished.clone();
                thread::spawn(move || {
                    flag.store(true, Ordering::SeqCst);
                    queue.done(item);
                });
                finished
            })
            .collect();

        queue.shut_down_with_drain();
        for flag in &finished {
            assert!(
                flag.load(Ordering::SeqCst),
                "drain returned with work in flight"
            );
        }
        assert_eq!(queue.get(), None);
        queue.core.check_invariants();
    });
}

/// An add racing a getter that is about to park reaches it, whether the add
/// is applied at once or goes through the inbox because the getter holds
/// the state lock: the getter returns the item with no shutdown to wake it.
#[test]
fn loom_add_racing_a_parking_getter_is_handed_to_it() {
    model(|| {
        let queue = Harness::new();
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || queue.get())
        };
        queue.add(1);
        assert_eq!(getter.join().expect("getter"), Some(1));
        queue.core.check_invariants();
    });
}
