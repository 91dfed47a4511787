//! One seed's run: the customers, the operator and the machine act on the cafe while the
//! scheduler delivers messages, runs the outbox, interleaves the invocations at their port calls
//! and injects faults, all chosen by the seed; then the faults stop, the saga settles, and the
//! invariants are checked.

use crate::invariants;
use crate::invocations::{self, Finished, TaskFuture};
use crate::world::{FaultRates, Function, World, ready};
use crate::{Mutant, Outcome};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use cafe_order::domain::{LineRequest, Order, OrderRequest, OrderStatus, PriceList};
use cafe_payment::provider::fake::DECLINED_CARD;
use cafe_shared::sqs::SetAside;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

/// Steps after which a run that has not settled is a violation: something never finishes.
const MAX_STEPS: u64 = 200_000;

/// What a seed's run saw.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub orders: usize,
    pub completed: usize,
    pub cancelled: usize,
    pub steps: u64,
    pub deliveries: u64,
    /// Deliveries of a message received before.
    pub redeliveries: u64,
    /// Messages dead-lettered after too many failed receives, that the operator redrove.
    pub redriven: u64,
    /// How often each kind of trouble struck.
    pub struck: std::collections::BTreeMap<&'static str, u64>,
    /// Cancelled orders by the first words of their reason.
    pub cancelled_because: std::collections::BTreeMap<String, usize>,
}

/// An invocation in flight.
struct Task<'w> {
    job: Job,
    future: TaskFuture<'w>,
}

enum Job {
    Batch { function: Function, messages: Vec<u64> },
    Outbox { up_to: usize },
    Cancel,
}

/// Runs `seed`; `Err` holds each invariant broken.
pub fn simulate(seed: u64, mutant: Option<Mutant>, trace: bool) -> Outcome {
    cafe_shared::metrics::silence();
    let world = World::new(seed, mutant, trace);
    let mut run = Run::new(&world);
    let settled = run.until_settled();
    let mut violations = invariants::broken(&world);
    if !settled {
        let detail = format!("the saga did not settle within {MAX_STEPS} steps");
        violations.insert(
            0,
            invariants::Violation {
                invariant: invariants::Invariant::Settles,
                detail,
            },
        );
    }
    let counts = run.counts(&world);
    drop(run);
    Outcome {
        seed,
        counts,
        violations,
        trace: world.trace.map(|t| t.into_inner().unwrap()).unwrap_or_default(),
    }
}

struct Run<'w> {
    world: &'w World,
    tasks: Vec<Task<'w>>,
    orders_to_place: u32,
    placed: u32,
    poison_to_inject: u32,
    /// Cancels by customers or the operator still to come.
    cancels: u32,
    /// Restocks and machine breakdowns still to come.
    operator_actions: u32,
    /// When the stream may hand the outbox its batch again after a failure.
    outbox_retry_at: i64,
    /// Invocations still to be killed part-way.
    kills: u32,
    /// Outages of a function's table still to come.
    outages: u32,
    /// When the last outage started so far ends: the trouble lasts until then at least.
    trouble_until: i64,
    /// When the next customer orders.
    next_order_at: i64,
    /// When the machine is back in service after a breakdown.
    machine_back_at: i64,
    /// Until when the customers, the operator, the outages and the faults act.
    chaos_until: i64,
    counts: Counts,
}

impl<'w> Run<'w> {
    /// The seed's scenario: how many orders, the stock, how often faults strike, how long an
    /// order may take.
    fn new(world: &'w World) -> Self {
        let orders_to_place = world.between(1, 12) as u32;
        // Mostly enough stock; some seeds run out (and one in twenty has no cup item at all).
        let stock = |world: &World| match world.chance(250) {
            true => world.between(0, 8),
            false => world.between(20, 60),
        };
        let mut ledger = world.ledger.lock().unwrap();
        if !world.chance(50) {
            let cups = stock(world);
            world.inventory.stock_up("cup", cups as u32);
            ledger.cups_stocked.insert("cup".into(), cups);
        }
        for ingredient in ["beans", "milk", "tea"] {
            let level = stock(world);
            world
                .machine
                .levels
                .lock()
                .unwrap()
                .insert(ingredient.into(), level as u32);
            ledger.ingredients_stocked.insert(ingredient.into(), level);
        }
        drop(ledger);
        let rates = [(0, 0), (10, 5), (40, 15)];
        let (call_fails, answer_lost) = rates[world.between(0, 2) as usize];
        let duplicates = [0, 20, 100][world.between(0, 2) as usize];
        *world.faults.lock().unwrap() = FaultRates {
            call_fails,
            answer_lost,
            duplicates,
        };
        // A quarter of the seeds give an order only 1-30 s, so deadlines race the steps.
        if world.chance(250) {
            world.deadline_ms.store(world.between(1_000, 30_000), Ordering::SeqCst);
        }
        let deadline_ms = world.deadline_ms.load(Ordering::SeqCst);
        world.note(|| format!("scenario: {orders_to_place} orders, per mille: {call_fails} calls fail, {answer_lost} answers lost, {duplicates} duplicates; deadline {deadline_ms} ms"));
        Self {
            world,
            tasks: Vec::new(),
            orders_to_place,
            placed: 0,
            poison_to_inject: world.between(0, 2) as u32,
            cancels: world.between(0, i64::from(orders_to_place) / 2) as u32,
            operator_actions: world.between(0, 3) as u32,
            machine_back_at: 0,
            next_order_at: 0,
            outbox_retry_at: 0,
            kills: if call_fails > 0 { world.between(0, 10) as u32 } else { 0 },
            outages: if call_fails > 0 { world.between(0, 3) as u32 } else { 0 },
            trouble_until: 0,
            chaos_until: i64::MAX,
            counts: Counts::default(),
        }
    }

    fn counts(&self, world: &World) -> Counts {
        let orders = world.orders.orders.lock().unwrap();
        let status = |s: OrderStatus| orders.values().filter(|o| o.order_status == s).count();
        let mut cancelled_because = std::collections::BTreeMap::new();
        for order in orders.values().filter(|o| o.order_status == OrderStatus::Cancelled) {
            let reason = order.reason.as_deref().unwrap_or_default();
            let words: Vec<&str> = reason.split_whitespace().take(3).collect();
            *cancelled_because.entry(words.join(" ")).or_default() += 1;
        }
        Counts {
            cancelled_because,
            struck: world.struck.lock().unwrap().clone(),
            orders: orders.len(),
            completed: status(OrderStatus::Completed),
            cancelled: status(OrderStatus::Cancelled),
            ..self.counts.clone()
        }
    }

    fn chaos(&self) -> bool {
        self.world.now() < self.chaos_until
    }

    /// Steps until nothing is left to do; false if that never came.
    fn until_settled(&mut self) -> bool {
        while self.counts.steps < MAX_STEPS {
            self.counts.steps += 1;
            let world = self.world;
            world.advance_to(world.now() + world.between(0, 20));
            if self.placed == self.orders_to_place && self.chaos_until == i64::MAX {
                // The last customer has ordered: a few more seconds of trouble, then calm.
                self.chaos_until = (world.now() + 5_000).max(self.trouble_until);
            }
            if world.now() >= self.machine_back_at && world.machine.out_of_order.swap(false, Ordering::SeqCst) {
                world.note(|| "the machine is back in service".into());
            }
            if !self.chaos() {
                *world.faults.lock().unwrap() = FaultRates::default();
                world.down_until.lock().unwrap().clear();
            }
            if !self.act() {
                let next_order = (self.placed < self.orders_to_place).then_some(self.next_order_at);
                let outbox_retry = world.unannounced().then_some(self.outbox_retry_at);
                let wake = self
                    .next_visible()
                    .into_iter()
                    .chain(next_order)
                    .chain(outbox_retry)
                    .min();
                let quiet = self.tasks.is_empty() && self.placed == self.orders_to_place;
                match wake {
                    Some(at) => world.advance_to(at),
                    // Quiet: settled, unless the operator has dead letters to redrive.
                    None if quiet && !self.redrive() => return true,
                    None => {}
                }
            }
        }
        false
    }

    /// One action, chosen by weight among those possible now; false when none is.
    fn act(&mut self) -> bool {
        let world = self.world;
        let chaos = self.chaos();
        let deliverable: Vec<Function> = (Function::ALL.into_iter())
            .filter(|f| self.running(*f) < world.deployment.concurrent_batches && self.has_visible(*f))
            .collect();
        let outbox_running = self.tasks.iter().any(|t| matches!(t.job, Job::Outbox { .. }));
        let mut choices: Vec<(u32, Action)> = Vec::new();
        let mut offer = |possible: bool, weight: u32, action: Action| {
            if possible {
                choices.push((weight, action));
            }
        };
        offer(
            self.placed < self.orders_to_place && world.now() >= self.next_order_at,
            3,
            Action::Place,
        );
        offer(chaos && self.placed > 0 && self.cancels > 0, 1, Action::Cancel);
        offer(chaos && self.operator_actions > 0, 1, Action::Restock);
        offer(chaos && self.outages > 0, 1, Action::Outage);
        offer(chaos && self.poison_to_inject > 0, 1, Action::Poison);
        offer(!deliverable.is_empty(), 8, Action::Deliver);
        offer(
            world.unannounced() && !outbox_running && world.now() >= self.outbox_retry_at,
            6,
            Action::Outbox,
        );
        offer(!self.tasks.is_empty(), 14, Action::Poll);
        offer(chaos && self.kills > 0 && !self.tasks.is_empty(), 1, Action::Crash);
        let total: u32 = choices.iter().map(|(w, _)| w).sum();
        if total == 0 {
            return false;
        }
        let mut pick = world.between(0, total as i64 - 1) as u32;
        let action = choices
            .into_iter()
            .find(|(weight, _)| match pick < *weight {
                true => true,
                false => {
                    pick -= weight;
                    false
                }
            })
            .map(|(_, action)| action)
            .expect("a choice");
        match action {
            Action::Place => self.place(),
            Action::Cancel => self.cancel(),
            Action::Restock => self.restock(),
            Action::Outage => {
                self.outages -= 1;
                let function = Function::ALL[world.between(0, Function::ALL.len() as i64 - 1) as usize];
                // Up to as many visibility timeouts as a message's receives: long enough that a
                // queue dead-letters what keeps failing, for the operator to redrive.
                let longest = i64::from(world.deployment.max_receives) * world.deployment.visibility_ms;
                let until = world.now() + world.between(500, longest);
                world.down_until.lock().unwrap().insert(function, until);
                self.trouble_until = self.trouble_until.max(until);
                if self.chaos_until != i64::MAX {
                    // The last order is in: the trouble lasts as long as this outage.
                    self.chaos_until = self.chaos_until.max(until);
                }
                world.struck("outage");
                world.note(|| format!("{} is down until {until} ms", function.name()));
            }
            Action::Poison => {
                self.poison_to_inject -= 1;
                let function = Function::ALL[world.between(0, Function::ALL.len() as i64 - 1) as usize];
                let body = format!("{{\"poison\": {}}}", world.next_id());
                world.injected_poison.lock().unwrap().push(body.clone());
                world.struck("poison");
                world.send(function, body, world.now(), true);
                world.note(|| format!("poison into the {} queue", function.name()));
            }
            Action::Deliver => self.deliver(deliverable[world.between(0, deliverable.len() as i64 - 1) as usize]),
            Action::Outbox => self.run_outbox(),
            Action::Poll => self.poll(world.between(0, self.tasks.len() as i64 - 1) as usize),
            Action::Crash => {
                let task = self
                    .tasks
                    .remove(world.between(0, self.tasks.len() as i64 - 1) as usize);
                self.kills -= 1;
                world.struck("invocation killed");
                world.note(|| format!("crash: {}", task.job.describe()));
            }
        }
        true
    }

    fn running(&self, function: Function) -> usize {
        (self.tasks.iter())
            .filter(|t| matches!(t.job, Job::Batch { function: f, .. } if f == function))
            .count()
    }

    fn has_visible(&self, function: Function) -> bool {
        let now = self.world.now();
        self.world.queues.lock().unwrap()[&function]
            .messages
            .iter()
            .any(|m| m.visible_at <= now)
    }

    /// When the next message becomes visible, if any waits.
    fn next_visible(&self) -> Option<i64> {
        let queues = self.world.queues.lock().unwrap();
        queues
            .values()
            .flat_map(|q| q.messages.iter().map(|m| m.visible_at))
            .min()
    }

    /// The operator's redrive (`localstack/dlq.py redrive`) once the trouble is over: what the
    /// queues dead-lettered after too many failed receives, but the injected poison, goes back to
    /// its queue. False when there is nothing to redrive.
    fn redrive(&mut self) -> bool {
        let world = self.world;
        let mut queues = world.queues.lock().unwrap();
        let mut redriven = 0;
        for queue in queues.values_mut() {
            let (poison, back): (Vec<_>, Vec<_>) = queue.dead_lettered.drain(..).partition(|m| m.poison);
            queue.dead_lettered = poison;
            for mut message in back {
                message.receives = 0;
                message.visible_at = world.now();
                queue.messages.push(message);
                redriven += 1;
            }
        }
        if redriven > 0 {
            self.counts.redriven += redriven;
            world.note(|| format!("operator: redrives {redriven} dead-lettered messages"));
        }
        redriven > 0
    }

    /// A customer orders a cart of one to three lines, each one to three of a beverage on the
    /// menu, at its price, and pays by card (now and then one the provider declines, or none: the
    /// operator's order).
    fn place(&mut self) {
        let world = self.world;
        self.placed += 1;
        self.next_order_at = world.now() + world.between(0, 2_000);
        let names = world.deployment.menu.names();
        let lines = (0..world.between(1, 3))
            .map(|_| LineRequest {
                beverage_name: names[world.between(0, names.len() as i64 - 1) as usize].to_string(),
                beverage_qty: world.between(1, 3),
            })
            .collect();
        let request = OrderRequest {
            customer_id: Some(format!("c{}", world.between(1, 3))),
            beverage_name: None,
            beverage_qty: None,
            lines: Some(lines),
            phone_number: None,
            payment_method: match world.between(0, 9) {
                0 => None,
                1 => Some(DECLINED_CARD.to_string()),
                _ => Some("pm_card_visa".to_string()),
            },
        };
        let order_id = format!("o-{}", self.placed);
        let menu = &world.deployment.menu;
        let order = Order::place(request, menu, order_id, world.now_date()).expect("a valid order");
        let mut order = order.priced(menu, &PriceList::new(), "KRW").expect("on sale");
        order.order_number = Some(self.placed);
        world.note(|| format!("place {}: {}", order.order_id, order.summary().beverages()));
        world.orders.insert(order);
    }

    /// A customer or the operator cancels an order, racing the saga.
    fn cancel(&mut self) {
        let world = self.world;
        self.cancels -= 1;
        let order_id = format!("o-{}", world.between(1, self.placed as i64));
        let by_operator = world.chance(300);
        world.note(|| format!("cancel {order_id}"));
        self.tasks.push(Task {
            job: Job::Cancel,
            future: invocations::cancel(world, order_id, by_operator),
        });
    }

    /// The operator sets the cups' level or an ingredient's, or the machine breaks down for a
    /// while.
    fn restock(&mut self) {
        let world = self.world;
        self.operator_actions -= 1;
        let level = world.between(0, 30);
        match world.between(0, 5) {
            0 => {
                let mut stock = world.inventory.stock.lock().unwrap();
                let Some(cups) = stock.get_mut("cup") else { return };
                let change = level - cups.qty as i64;
                cups.qty = level as u32;
                *world
                    .ledger
                    .lock()
                    .unwrap()
                    .cups_stocked
                    .get_mut("cup")
                    .expect("stocked") += change;
                world.note(|| format!("operator: cups set to {level}"));
            }
            1..=3 => {
                let ingredient = ["beans", "milk", "tea"][world.between(0, 2) as usize];
                let mut levels = world.machine.levels.lock().unwrap();
                let now = levels.get_mut(ingredient).expect("metered");
                let change = level - *now as i64;
                *now = level as u32;
                *world
                    .ledger
                    .lock()
                    .unwrap()
                    .ingredients_stocked
                    .get_mut(ingredient)
                    .expect("stocked") += change;
                world.note(|| format!("operator: {ingredient} set to {level}"));
            }
            _ => {
                world.machine.out_of_order.store(true, Ordering::SeqCst);
                self.machine_back_at = world.now() + world.between(500, 5_000);
                world.note(|| format!("the machine is out of order until {} ms", self.machine_back_at));
            }
        }
    }

    /// The event source mapping receives a batch of `function`'s queue and invokes it.
    fn deliver(&mut self, function: Function) {
        let world = self.world;
        let now = world.now();
        let mut batch = SqsEvent::default();
        let mut ids = Vec::new();
        let mut queues = world.queues.lock().unwrap();
        let queue = queues.get_mut(&function).expect("a queue per function");
        let want = world.between(1, world.deployment.batch_size as i64) as usize;
        while ids.len() < want {
            let visible: Vec<usize> = (0..queue.messages.len())
                .filter(|i| queue.messages[*i].visible_at <= now)
                .collect();
            if visible.is_empty() {
                break;
            }
            let index = visible[world.between(0, visible.len() as i64 - 1) as usize];
            let message = &mut queue.messages[index];
            message.receives += 1;
            if message.receives > world.deployment.max_receives {
                let message = queue.messages.remove(index);
                world.note(|| format!("{} queue dead-letters message {}", function.name(), message.id));
                queue.dead_lettered.push(message);
                continue;
            }
            message.visible_at = now + world.deployment.visibility_ms;
            self.counts.deliveries += 1;
            if message.receives > 1 {
                self.counts.redeliveries += 1;
            }
            let mut sqs = SqsMessage::default();
            sqs.message_id = Some(message.id.to_string());
            sqs.body = Some(message.body.clone());
            batch.records.push(sqs);
            ids.push(message.id);
        }
        drop(queues);
        if ids.is_empty() {
            return;
        }
        world.note(|| {
            format!(
                "deliver to {}: {}",
                function.name(),
                invocations::describe_batch(&batch)
            )
        });
        self.tasks.push(Task {
            job: Job::Batch {
                function,
                messages: ids,
            },
            future: invocations::batch(world, function, batch),
        });
    }

    /// The stream's next records go to the outbox (one shard: one batch at a time, in order).
    fn run_outbox(&mut self) {
        let world = self.world;
        let from = *world.stream_checkpoint.lock().unwrap();
        let changes = world.orders.changes.lock().unwrap();
        let up_to = (from + world.between(1, world.deployment.batch_size as i64) as usize).min(changes.len());
        let future = invocations::outbox(world, &changes[from..up_to]);
        drop(changes);
        world.note(|| format!("outbox: changes {from}..{up_to}"));
        self.tasks.push(Task {
            job: Job::Outbox { up_to },
            future,
        });
    }

    /// Runs task `index` to its next port call, or to its end.
    fn poll(&mut self, index: usize) {
        let world = self.world;
        let mut context = Context::from_waker(Waker::noop());
        let polled = self.tasks[index].future.as_mut().poll(&mut context);
        let Poll::Ready(finished) = polled else { return };
        let task = self.tasks.remove(index);
        match (task.job, finished) {
            (Job::Batch { function, messages }, Finished::Batch(response)) => {
                self.finish_batch(function, &messages, &response)
            }
            (Job::Outbox { up_to }, Finished::Outbox(result)) => {
                let skip_failed = world.mutant == Some(Mutant::OutboxSkipsFailedBatch);
                // The checkpoint may be lost after a good batch: the stream delivers it again.
                let checkpoint_lost = world.chance(world.faults.lock().unwrap().duplicates);
                if result.is_err() {
                    // The stream mapping tries a failed batch again after a second.
                    self.outbox_retry_at = world.now() + 1_000;
                }
                if checkpoint_lost {
                    world.struck("stream batch read again");
                }
                if (result.is_ok() || skip_failed) && !checkpoint_lost {
                    *world.stream_checkpoint.lock().unwrap() = up_to;
                }
                world.note(|| {
                    format!(
                        "outbox done: {}",
                        result.map_or_else(|e| e.to_string(), |()| "ok".into())
                    )
                });
            }
            _ => {}
        }
    }

    /// The mapping deletes what the function handled and leaves the rest to be received again.
    fn finish_batch(&mut self, function: Function, messages: &[u64], response: &SqsBatchResponse) {
        let world = self.world;
        let failed: Vec<u64> = (response.batch_item_failures.iter())
            .filter_map(|f| f.item_identifier.parse().ok())
            .collect();
        let set_aside_transient = world.mutant == Some(Mutant::TransientFailureSetAside);
        let mut queues = world.queues.lock().unwrap();
        let queue = queues.get_mut(&function).expect("a queue per function");
        for id in messages {
            let handled = !failed.contains(id);
            if handled && world.chance(world.faults.lock().unwrap().duplicates) {
                world.note(|| format!("  {} message {id}: delete lost", function.name()));
                world.struck("message delivered again");
                continue;
            }
            if handled || set_aside_transient {
                let Some(index) = queue.messages.iter().position(|m| m.id == *id) else {
                    continue;
                };
                let message = queue.messages.remove(index);
                if !handled {
                    // What the mutant's step would have set aside.
                    let dead_letters = &world.set_aside[&Some(function)];
                    ready(SetAside::set_aside(
                        dead_letters,
                        &message.body,
                        None,
                        "a transient failure",
                    ))
                    .expect("kept");
                }
            }
        }
        world.note(|| format!("{} done: {} failed", function.name(), failed.len()));
    }
}

impl Job {
    fn describe(&self) -> String {
        match self {
            Job::Batch { function, messages } => format!("{} invocation with messages {messages:?}", function.name()),
            Job::Outbox { up_to } => format!("outbox invocation up to change {up_to}"),
            Job::Cancel => "a cancel".into(),
        }
    }
}

enum Action {
    Place,
    Cancel,
    Restock,
    Outage,
    Poison,
    Deliver,
    Outbox,
    Poll,
    Crash,
}
