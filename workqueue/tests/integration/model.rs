//! State-machine tests: `Queue`, `DelayingQueue` and `RateLimitingQueue`
//! against a reference model a few obviously-correct lines long, compared
//! after every step. Time is tokio's paused clock, moved only by `Advance`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use kubeforge_workqueue::{
    DelayingQueue, ItemExponentialFailureRateLimiter, Priority, Queue, RateLimitingQueue,
};
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use tokio::runtime::Runtime;

/// Items are small numbers so that collisions (re-adds) are frequent.
const ITEMS: u8 = 5;
/// The model's exponential limiter: 1 ms doubling up to 16 ms.
const BASE_MS: u64 = 1;
const MAX_MS: u64 = 16;

#[derive(Debug, Clone)]
enum Op {
    Add(u8, Priority),
    Get,
    Done(u8),
    ShutDown,
    AddAfter(u8, u64),
    Advance(u64),
    AddRateLimited(u8),
    Forget(u8),
    /// Compare `len`, `waiting_len`, `is_shutting_down` with the model. An
    /// operation of its own rather than a check after every step: reading
    /// the length applies pending adds, and the steps in between must also
    /// run with adds still pending.
    Check,
}

/// What the last `Get` must have returned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Item(u8),
    Waits,
    Closed,
}

/// The reference: client-go's rules, written as plainly as possible.
#[derive(Debug, Clone, Default)]
struct Model {
    /// Ready items, one FIFO per priority (High, Normal, Low).
    lanes: [VecDeque<u8>; 3],
    /// Dirty items and the priority they wait at.
    dirty: BTreeMap<u8, Priority>,
    processing: BTreeSet<u8>,
    shutting_down: bool,
    /// Scheduled items: ready time (ms) and scheduling order.
    waiting: BTreeMap<u8, (u64, u64)>,
    next_seq: u64,
    now_ms: u64,
    failures: BTreeMap<u8, u32>,
    last_get: Option<Got>,
}

fn lane(p: Priority) -> usize {
    match p {
        Priority::High => 0,
        Priority::Normal => 1,
        Priority::Low => 2,
    }
}

impl Model {
    fn add(&mut self, x: u8, p: Priority) {
        if self.shutting_down {
            return;
        }
        match self.dirty.get(&x).copied() {
            Some(cur) if p > cur => {
                self.dirty.insert(x, p);
                if !self.processing.contains(&x) {
                    self.lanes[lane(cur)].retain(|&y| y != x);
                    self.lanes[lane(p)].push_back(x);
                }
            }
            Some(_) => {}
            None => {
                self.dirty.insert(x, p);
                if !self.processing.contains(&x) {
                    self.lanes[lane(p)].push_back(x);
                }
            }
        }
    }

    fn get(&mut self) -> Got {
        match self.lanes.iter_mut().find_map(|l| l.pop_front()) {
            Some(x) => {
                self.dirty.remove(&x);
                self.processing.insert(x);
                Got::Item(x)
            }
            None if self.shutting_down => Got::Closed,
            None => Got::Waits,
        }
    }

    fn done(&mut self, x: u8) {
        if self.processing.remove(&x)
            && let Some(&p) = self.dirty.get(&x)
        {
            self.lanes[lane(p)].push_back(x);
        }
    }

    fn add_after(&mut self, x: u8, ms: u64) {
        if self.shutting_down {
            return;
        }
        if ms == 0 {
            return self.add(x, Priority::Normal);
        }
        let at = self.now_ms + ms;
        match self.waiting.get(&x) {
            Some(&(cur, _)) if cur <= at => {}
            _ => {
                self.waiting.insert(x, (at, self.next_seq));
                self.next_seq += 1;
            }
        }
    }

    fn advance(&mut self, ms: u64) {
        self.now_ms += ms;
        let mut due: Vec<(u64, u64, u8)> = self
            .waiting
            .iter()
            .filter(|(_, (at, _))| *at <= self.now_ms)
            .map(|(&x, &(at, seq))| (at, seq, x))
            .collect();
        due.sort();
        for (_, _, x) in due {
            self.waiting.remove(&x);
            self.add(x, Priority::Normal);
        }
    }

    fn when(&mut self, x: u8) -> u64 {
        let n = self.failures.entry(x).or_insert(0);
        let delay = (BASE_MS << (*n).min(16)).min(MAX_MS);
        *n += 1;
        delay
    }

    fn len(&self) -> usize {
        self.lanes.iter().map(VecDeque::len).sum()
    }
}

fn item() -> impl Strategy<Value = u8> {
    0..ITEMS
}

fn priority() -> impl Strategy<Value = Priority> {
    prop_oneof![
        3 => Just(Priority::Normal),
        1 => Just(Priority::High),
        1 => Just(Priority::Low),
    ]
}

fn queue_ops() -> BoxedStrategy<Op> {
    prop_oneof![
        4 => item().prop_map(|x| Op::Add(x, Priority::Normal)),
        4 => Just(Op::Get),
        3 => item().prop_map(Op::Done),
        2 => Just(Op::Check),
        1 => Just(Op::ShutDown),
    ]
    .boxed()
}

fn priority_queue_ops() -> BoxedStrategy<Op> {
    prop_oneof![
        4 => (item(), priority()).prop_map(|(x, p)| Op::Add(x, p)),
        4 => Just(Op::Get),
        3 => item().prop_map(Op::Done),
        2 => Just(Op::Check),
        1 => Just(Op::ShutDown),
    ]
    .boxed()
}

fn delaying_ops() -> BoxedStrategy<Op> {
    prop_oneof![
        3 => (item(), priority()).prop_map(|(x, p)| Op::Add(x, p)),
        4 => Just(Op::Get),
        3 => item().prop_map(Op::Done),
        4 => (item(), 0..20u64).prop_map(|(x, ms)| Op::AddAfter(x, ms)),
        3 => (1..15u64).prop_map(Op::Advance),
        2 => Just(Op::Check),
        1 => Just(Op::ShutDown),
    ]
    .boxed()
}

fn rate_limiting_ops() -> BoxedStrategy<Op> {
    prop_oneof![
        2 => (item(), priority()).prop_map(|(x, p)| Op::Add(x, p)),
        4 => Just(Op::Get),
        3 => item().prop_map(Op::Done),
        4 => item().prop_map(Op::AddRateLimited),
        2 => item().prop_map(Op::Forget),
        3 => (1..15u64).prop_map(Op::Advance),
        2 => Just(Op::Check),
        1 => Just(Op::ShutDown),
    ]
    .boxed()
}

fn apply_model(mut m: Model, op: &Op) -> Model {
    m.last_get = None;
    match *op {
        Op::Add(x, p) => m.add(x, p),
        Op::Get => m.last_get = Some(m.get()),
        Op::Done(x) => m.done(x),
        Op::ShutDown => {
            m.shutting_down = true;
            m.waiting.clear();
        }
        Op::AddAfter(x, ms) => m.add_after(x, ms),
        Op::Advance(ms) => m.advance(ms),
        Op::AddRateLimited(x) => {
            let ms = m.when(x);
            m.add_after(x, ms);
        }
        Op::Forget(x) => {
            m.failures.remove(&x);
        }
        Op::Check => {}
    }
    m
}

macro_rules! reference {
    ($name:ident, $ops:expr) => {
        struct $name;
        impl ReferenceStateMachine for $name {
            type State = Model;
            type Transition = Op;
            fn init_state() -> BoxedStrategy<Model> {
                Just(Model::default()).boxed()
            }
            fn transitions(_: &Model) -> BoxedStrategy<Op> {
                $ops
            }
            fn apply(m: Model, op: &Op) -> Model {
                apply_model(m, op)
            }
        }
    };
}

reference!(QueueRef, queue_ops());
reference!(PriorityQueueRef, priority_queue_ops());
reference!(DelayingRef, delaying_ops());
reference!(RateLimitingRef, rate_limiting_ops());

/// The queue under test, on its own paused-clock runtime.
struct Sut {
    rt: Runtime,
    queue: Kind,
}

enum Kind {
    Plain(Queue<u8>),
    Delaying(DelayingQueue<u8>),
    RateLimiting(RateLimitingQueue<u8>),
}

impl Sut {
    fn new(make: impl FnOnce() -> Kind) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime builds");
        let queue = {
            let _guard = rt.enter();
            make()
        };
        Self { rt, queue }
    }

    fn add(&self, x: u8, p: Priority) {
        match &self.queue {
            Kind::Plain(q) => q.add_with_priority(x, p),
            Kind::Delaying(q) => q.add_with_priority(x, p),
            Kind::RateLimiting(q) => q.add_with_priority(x, p),
        }
    }

    async fn get(&self) -> Option<u8> {
        match &self.queue {
            Kind::Plain(q) => q.get().await,
            Kind::Delaying(q) => q.get().await,
            Kind::RateLimiting(q) => q.get().await,
        }
    }

    fn done(&self, x: u8) {
        match &self.queue {
            Kind::Plain(q) => q.done(&x),
            Kind::Delaying(q) => q.done(&x),
            Kind::RateLimiting(q) => q.done(&x),
        }
    }

    fn shut_down(&self) {
        match &self.queue {
            Kind::Plain(q) => q.shut_down(),
            Kind::Delaying(q) => q.shut_down(),
            Kind::RateLimiting(q) => q.shut_down(),
        }
    }

    fn len(&self) -> usize {
        match &self.queue {
            Kind::Plain(q) => q.len(),
            Kind::Delaying(q) => q.len(),
            Kind::RateLimiting(q) => q.len(),
        }
    }

    fn waiting_len(&self) -> usize {
        match &self.queue {
            Kind::Plain(_) => 0,
            Kind::Delaying(q) => q.waiting_len(),
            Kind::RateLimiting(q) => q.waiting_len(),
        }
    }

    fn is_shutting_down(&self) -> bool {
        match &self.queue {
            Kind::Plain(q) => q.is_shutting_down(),
            Kind::Delaying(q) => q.is_shutting_down(),
            Kind::RateLimiting(q) => q.is_shutting_down(),
        }
    }

    /// Lets the timer task run until the waiting set has the expected size.
    fn settle(&self, expected_waiting: usize) {
        self.rt.block_on(async {
            for _ in 0..100 {
                if self.waiting_len() == expected_waiting {
                    break;
                }
                tokio::task::yield_now().await;
            }
        });
    }

    fn apply(self, m: &Model, op: Op) -> Self {
        match op {
            Op::Add(x, p) => self.add(x, p),
            Op::Get => {
                let expected = m.last_get.clone().expect("a Get records its result");
                let got = self.rt.block_on(async {
                    if expected == Got::Waits {
                        // Give a misbehaving timer task every chance to hand
                        // something out, then poll `get` once.
                        for _ in 0..3 {
                            tokio::task::yield_now().await;
                        }
                        match tokio::time::timeout(Duration::ZERO, self.get()).await {
                            Ok(Some(x)) => Got::Item(x),
                            Ok(None) => Got::Closed,
                            Err(_) => Got::Waits,
                        }
                    } else {
                        match tokio::time::timeout(Duration::from_nanos(1), self.get()).await {
                            Ok(Some(x)) => Got::Item(x),
                            Ok(None) => Got::Closed,
                            Err(_) => Got::Waits,
                        }
                    }
                });
                assert_eq!(got, expected, "get");
            }
            Op::Done(x) => self.done(x),
            Op::ShutDown => self.shut_down(),
            Op::AddAfter(x, ms) => {
                let _guard = self.rt.enter();
                match &self.queue {
                    Kind::Delaying(q) => q.add_after(x, Duration::from_millis(ms)),
                    Kind::RateLimiting(q) => q.add_after(x, Duration::from_millis(ms)),
                    Kind::Plain(_) => unreachable!("plain queues get no AddAfter"),
                }
            }
            Op::Advance(ms) => {
                self.rt
                    .block_on(tokio::time::advance(Duration::from_millis(ms)));
                self.settle(m.waiting.len());
            }
            Op::AddRateLimited(x) => {
                let _guard = self.rt.enter();
                match &self.queue {
                    Kind::RateLimiting(q) => q.add_rate_limited(x),
                    _ => unreachable!("only rate-limiting queues get AddRateLimited"),
                }
            }
            Op::Forget(x) => match &self.queue {
                Kind::RateLimiting(q) => q.forget(&x),
                _ => unreachable!("only rate-limiting queues get Forget"),
            },
            Op::Check => {
                assert_eq!(self.len(), m.len(), "len");
                assert_eq!(self.is_shutting_down(), m.shutting_down, "is_shutting_down");
                assert_eq!(self.waiting_len(), m.waiting.len(), "waiting_len");
            }
        }
        self
    }

    /// Checked after every step; reads nothing that applies pending adds.
    fn check(&self, m: &Model) {
        if let Kind::RateLimiting(q) = &self.queue {
            for x in 0..ITEMS {
                let expected = m.failures.get(&x).copied().unwrap_or(0);
                assert_eq!(q.num_requeues(&x), expected, "num_requeues({x})");
            }
        }
    }
}

macro_rules! sut {
    ($name:ident, $reference:ident, $make:expr) => {
        struct $name;
        impl StateMachineTest for $name {
            type SystemUnderTest = Sut;
            type Reference = $reference;
            fn init_test(_: &Model) -> Sut {
                Sut::new($make)
            }
            fn apply(sut: Sut, m: &Model, op: Op) -> Sut {
                sut.apply(m, op)
            }
            fn check_invariants(sut: &Sut, m: &Model) {
                sut.check(m);
            }
        }
    };
}

sut!(QueueTest, QueueRef, || Kind::Plain(Queue::new()));
sut!(PriorityQueueTest, PriorityQueueRef, || Kind::Plain(
    Queue::new()
));
sut!(DelayingTest, DelayingRef, || Kind::Delaying(
    DelayingQueue::new()
));
sut!(RateLimitingTest, RateLimitingRef, || {
    Kind::RateLimiting(RateLimitingQueue::new(
        ItemExponentialFailureRateLimiter::new(
            Duration::from_millis(BASE_MS),
            Duration::from_millis(MAX_MS),
        ),
    ))
});

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `Queue` behaves as the model: FIFO, dedup of waiting items, one
    /// re-run for adds during processing, shutdown.
    #[test]
    fn queue_behaves_as_the_reference_model(sequential 1..60 => QueueTest);

    /// The same with priorities: higher lanes first, promotion on re-add.
    #[test]
    fn queue_with_priorities_behaves_as_the_reference_model(sequential 1..60 => PriorityQueueTest);

    /// `DelayingQueue` behaves as the model on a paused clock: scheduled
    /// items appear in ready-time order, re-scheduling only moves earlier,
    /// shutdown drops what waits.
    #[test]
    fn delaying_queue_behaves_as_the_reference_model(sequential 1..60 => DelayingTest);

    /// `RateLimitingQueue` behaves as the model: exponential delays per
    /// item, `forget` resets, `num_requeues` counts.
    #[test]
    fn rate_limiting_queue_behaves_as_the_reference_model(sequential 1..60 => RateLimitingTest);
}
