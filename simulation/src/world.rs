//! The simulated cloud: the six functions' tables as the in-memory fakes beside their ports, the
//! bus and the queues (at-least-once, unordered, visibility timeouts, redrive after
//! `MaxReceiveCount` receives), the orders table's stream, a clock, and the faults a seed injects.

use crate::Mutant;
use crate::rng::Rng;
use crate::template::Deployment;
use cafe_beverage::store::fake::MemoryMachine;
use cafe_inventory::store::fake::MemoryInventory;
use cafe_kiosk::live::fake::MemoryLive;
use cafe_kiosk::store::fake::MemoryViews;
use cafe_notify::store::fake::MemoryNotifications;
use cafe_order::store::fake::MemoryOrders;
use cafe_payment::provider::fake::MemoryStripe;
use cafe_payment::store::fake::MemoryPayments;
use cafe_shared::Error;
use cafe_shared::events::CafeEvent;
use cafe_shared::fakes::{FakeDeadLetters, envelope_as};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::task::{Context, Poll};

/// The functions whose queues the bus feeds, in the template's words (a rule's target id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Function {
    Payment,
    Order,
    Inventory,
    Beverage,
    Notify,
    Kiosk,
}

impl Function {
    pub const ALL: [Function; 6] = [
        Self::Payment,
        Self::Order,
        Self::Inventory,
        Self::Beverage,
        Self::Notify,
        Self::Kiosk,
    ];

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Order => "order",
            Self::Inventory => "inventory",
            Self::Beverage => "beverage",
            Self::Notify => "notify",
            Self::Kiosk => "kiosk",
        }
    }
}

/// A message SNS took.
#[derive(Debug, Clone)]
pub struct Sent {
    pub order_id: String,
    /// The order's status it tells.
    pub status: String,
    pub sns_message_id: String,
    /// Recorded sent by the step that sent it. A send left unconfirmed (its answer lost, or its
    /// invocation died before recording it) is sent again: SMS is at least once.
    pub confirmed: bool,
}

/// A message in a queue.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: u64,
    pub body: String,
    pub receives: u32,
    /// When it may next be received (simulated milliseconds).
    pub visible_at: i64,
    /// Injected by the simulation as poison: it must end in a dead-letter queue.
    pub poison: bool,
}

#[derive(Default)]
pub struct Queue {
    pub messages: Vec<Message>,
    /// What the queue's redrive policy moved to its dead-letter queue.
    pub dead_lettered: Vec<Message>,
}

/// Stock set by the operator, for the ledger the invariants check: the level each stock item and
/// ingredient started at, plus every change the operator made.
#[derive(Default)]
pub struct Ledger {
    pub cups_stocked: BTreeMap<String, i64>,
    pub ingredients_stocked: BTreeMap<String, i64>,
}

/// How often a seed's faults strike, each in a thousand.
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultRates {
    /// A call fails before it does anything (throttling, a network error).
    pub call_fails: u32,
    /// A call does its work but its answer is lost (the function dies after the write).
    pub answer_lost: u32,
    /// A message handled is delivered again anyway (its delete lost, the stream's checkpoint
    /// lost): standard queues and streams deliver at least once.
    pub duplicates: u32,
}

thread_local! {
    /// The time of the world running on this thread, in simulated milliseconds.
    static SIMULATED_NOW: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// The simulated instant 0.
pub fn epoch() -> DateTime<Utc> {
    "2100-01-01T00:00:00Z".parse().expect("a date")
}

pub struct World {
    pub deployment: Deployment,
    pub mutant: Option<Mutant>,
    pub rng: Mutex<Rng>,
    now: AtomicI64,
    /// How long an order may take (`OrderDeadlineSeconds`, or the seed's own few seconds).
    pub deadline_ms: AtomicI64,
    next_id: AtomicU64,
    pub faults: Mutex<FaultRates>,
    /// Until when each function's table is down.
    pub down_until: Mutex<BTreeMap<Function, i64>>,
    pub queues: Mutex<BTreeMap<Function, Queue>>,
    /// Each function's own dead-letter queue, where a step sets aside what it can never handle;
    /// the outbox's under `None`.
    pub set_aside: BTreeMap<Option<Function>, FakeDeadLetters>,
    /// How many of the orders table's changes the outbox has announced (its stream's checkpoint).
    pub stream_checkpoint: Mutex<usize>,
    pub orders: MemoryOrders,
    /// The payment function's table, and the payment provider it calls.
    pub payments: MemoryPayments,
    pub stripe: MemoryStripe,
    pub inventory: MemoryInventory,
    pub machine: MemoryMachine,
    pub notifications: MemoryNotifications,
    /// Each message SNS took, in order.
    pub sent: Mutex<Vec<Sent>>,
    pub views: MemoryViews,
    pub live: MemoryLive,
    /// No customer signs out in the simulation: every page's token holds.
    pub sign_outs: cafe_shared::fakes::FakeSignOuts,
    /// What the operator was alerted to.
    pub alerts: cafe_kiosk::alerts::fake::SentAlerts,
    pub ledger: Mutex<Ledger>,
    /// How often each kind of trouble struck, for the figures and the check that each does.
    pub struck: Mutex<BTreeMap<&'static str, u64>>,
    /// The poison the simulation put in the queues: each must end in a dead-letter queue.
    pub injected_poison: Mutex<Vec<String>>,
    /// The schedule, a line per step, when asked for.
    pub trace: Option<Mutex<Vec<String>>>,
}

impl World {
    pub fn new(seed: u64, mutant: Option<Mutant>, trace: bool) -> Self {
        let mut set_aside = BTreeMap::new();
        set_aside.insert(None, FakeDeadLetters::default());
        for function in Function::ALL {
            set_aside.insert(Some(function), FakeDeadLetters::default());
        }
        // The steps read the simulated clock (`cafe_shared::clock`), this thread's world's.
        cafe_shared::clock::run_on(|| epoch() + chrono::Duration::milliseconds(SIMULATED_NOW.get()));
        SIMULATED_NOW.set(0);
        let deployment = Deployment::from_template();
        Self {
            deadline_ms: AtomicI64::new(deployment.deadline_ms),
            deployment,
            mutant,
            rng: Mutex::new(Rng::new(seed)),
            now: AtomicI64::new(0),
            next_id: AtomicU64::new(1),
            faults: Mutex::default(),
            down_until: Mutex::default(),
            queues: Mutex::new(Function::ALL.into_iter().map(|f| (f, Queue::default())).collect()),
            set_aside,
            stream_checkpoint: Mutex::new(0),
            orders: MemoryOrders::default(),
            payments: MemoryPayments::default(),
            stripe: MemoryStripe::default(),
            inventory: MemoryInventory::default(),
            machine: MemoryMachine::default(),
            notifications: MemoryNotifications::default(),
            sent: Mutex::default(),
            views: MemoryViews::default(),
            live: MemoryLive::default(),
            sign_outs: Default::default(),
            alerts: Default::default(),
            ledger: Mutex::default(),
            injected_poison: Mutex::default(),
            struck: Mutex::default(),
            trace: trace.then(Mutex::default),
        }
    }

    pub fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    pub fn now_date(&self) -> DateTime<Utc> {
        epoch() + chrono::Duration::milliseconds(self.now())
    }

    pub fn advance_to(&self, at: i64) {
        let now = self.now.fetch_max(at, Ordering::SeqCst).max(at);
        SIMULATED_NOW.set(now);
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    pub fn chance(&self, per_mille: u32) -> bool {
        self.rng.lock().unwrap().chance(per_mille)
    }

    pub fn between(&self, low: i64, high: i64) -> i64 {
        self.rng.lock().unwrap().between(low, high)
    }

    pub fn struck(&self, what: &'static str) {
        *self.struck.lock().unwrap().entry(what).or_default() += 1;
    }

    pub fn note(&self, line: impl FnOnce() -> String) {
        if let Some(trace) = &self.trace {
            trace.lock().unwrap().push(format!("{:>8} ms  {}", self.now(), line()));
        }
    }

    /// A call of `function`'s port: other tasks may run first (a port call is where concurrent
    /// invocations interleave), then it may fail before its work or lose its answer after it, as
    /// the seed's faults and the function's outage say.
    pub async fn call<T>(
        &self,
        function: Function,
        what: &str,
        work: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        YieldOnce(false).await;
        let down = self
            .down_until
            .lock()
            .unwrap()
            .get(&function)
            .is_some_and(|until| *until > self.now());
        let call_fails = self.faults.lock().unwrap().call_fails;
        if down || self.chance(call_fails) {
            self.struck(if down {
                "call to a function that is down"
            } else {
                "call failed"
            });
            self.note(|| format!("  {} {what}: fails", function.name()));
            return Err(format!("{what}: {} is unreachable", function.name()).into());
        }
        let done = work.await?;
        let answer_lost = self.faults.lock().unwrap().answer_lost;
        if self.chance(answer_lost) {
            self.struck("answer lost after the work");
            self.note(|| format!("  {} {what}: done, answer lost", function.name()));
            return Err(format!("{what}: done, but the answer was lost").into());
        }
        Ok(done)
    }

    /// `PutEvents`: each event, in the bus's envelope, to the queue of every rule it matches, each
    /// after its own short delay (so queues see events in different orders).
    pub fn put_events(&self, source: &str, events: &[CafeEvent]) {
        for event in events {
            let id = format!("e-{}", self.next_id());
            let body = envelope_as(event, &id, source, &self.now_date().to_rfc3339());
            self.note(|| format!("  publish {} {}", event.detail_type(), event.order().order_id));
            for route in &self.deployment.routes {
                if route.matches(source, event.detail_type()) {
                    let at = self.now() + self.between(0, 50);
                    self.send(route.to, body.clone(), at, false);
                }
            }
        }
    }

    /// Whether the orders table has changes the outbox has not announced yet.
    pub fn unannounced(&self) -> bool {
        self.orders.changes.lock().unwrap().len() > *self.stream_checkpoint.lock().unwrap()
    }

    pub fn send(&self, to: Function, body: String, visible_at: i64, poison: bool) {
        let message = Message {
            id: self.next_id(),
            body,
            receives: 0,
            visible_at,
            poison,
        };
        self.queues
            .lock()
            .unwrap()
            .get_mut(&to)
            .expect("a queue per function")
            .messages
            .push(message);
    }
}

/// Pending once, then ready: a point where the scheduler may run another task.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The answer of a future that never waits (an in-memory fake's).
pub fn ready<T>(future: impl Future<Output = T>) -> T {
    match std::pin::pin!(future).poll(&mut Context::from_waker(std::task::Waker::noop())) {
        Poll::Ready(answer) => answer,
        Poll::Pending => unreachable!("in-memory fakes never wait"),
    }
}
