//! Loom models of the three core guarantees, driving the real `State` behind
//! the loom mutex from threads, with a condvar standing in for tokio's
//! `Notify` (loom cannot model the runtime). The wake-up decisions (`waiters`
//! counting) are the core's own, so a lost wake-up shows up as a deadlock.
//!
//! Run with:
//! `RUSTFLAGS="--cfg kubeforge_loom -C debug-assertions" cargo test -p kubeforge-workqueue --lib --release loom`

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar};
use loom::thread;

use crate::config::{Priority, QueueConfig};
use crate::loom::Mutex;
use crate::state::{Pop, State};

/// A blocking queue over the core, shaped like the async shell.
struct Harness {
    state: Mutex<State<u32>>,
    ready: Condvar,
    drained: Condvar,
}

impl Harness {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::new(&QueueConfig::new())),
            ready: Condvar::new(),
            drained: Condvar::new(),
        })
    }

    fn add(&self, item: u32) {
        let wake = self.state.lock().add(item, Priority::Normal);
        if wake {
            self.ready.notify_one();
        }
    }

    fn get(&self) -> Option<u32> {
        let mut state = self.state.lock();
        loop {
            match state.pop() {
                Pop::Item(item) => return Some(item),
                Pop::Closed => return None,
                Pop::Wait => {
                    state = self
                        .ready
                        .wait(state)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    state.stop_waiting();
                }
            }
        }
    }

    fn done(&self, item: u32) {
        let outcome = self.state.lock().done(&item);
        if outcome.wake_getter {
            self.ready.notify_one();
        }
        if outcome.drained {
            self.drained.notify_all();
        }
    }

    fn shut_down(&self, drain: bool) {
        self.state.lock().shut_down(drain);
        self.ready.notify_all();
        self.drained.notify_all();
    }

    fn shut_down_with_drain(&self) {
        self.shut_down(true);
        let mut state = self.state.lock();
        while !state.is_drained() {
            state = self
                .drained
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
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
        queue.state.lock().check_invariants();
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
        queue.state.lock().check_invariants();
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
        queue.state.lock().check_invariants();
    });
}
