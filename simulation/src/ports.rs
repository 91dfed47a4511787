//! The saga's ports as the simulated cloud serves them: each call goes to the function's
//! in-memory fake through [`World::call`] (where tasks interleave and faults strike), and the
//! bus, the deadlines and the dead-letter queues are the world's own. A [`Mutant`] breaks here the
//! one guarantee it names, as the store's condition or key it stands for would if removed.

use crate::Mutant;
use crate::world::{Function, Sent, World};
use cafe_beverage::domain::{Attempt, MachineReading, Take};
use cafe_beverage::store::{BeverageMachine, Making};
use cafe_inventory::domain::{Release, Reservation};
use cafe_inventory::store::CupReservations;
use cafe_kiosk::day::{Alert, Ended, HourCounts};
use cafe_kiosk::domain::KioskOrder;
use cafe_kiosk::store::fake::MemoryViews;
use cafe_kiosk::store::{CafeDay, OrderViews};
use cafe_notify::domain::Notification;
use cafe_notify::sender::Notify;
use cafe_notify::store::Notifications;
use cafe_order::deadlines::{Deadlines, timer_body};
use cafe_order::domain::{OrderStatus, Outcome};
use cafe_order::store::{OrderOutcomes, Recorded};
use cafe_payment::domain::{Payment, PaymentStatus};
use cafe_payment::provider::{Capture, GivenBack, Hold, Opened, PaymentState, Payments};
use cafe_payment::store::PaymentRecords;
use cafe_shared::Error;
use cafe_shared::bus::Publish;
use cafe_shared::events::{BusMessage, CafeEvent, OrderMaking, OrderPlaced, OrderSummary, PaymentDue};
use cafe_shared::sqs::{SetAside, StepError};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The world's stores and senders, as each function's steps reach them.
#[derive(Clone, Copy)]
pub struct Port<'w>(pub &'w World);

impl Port<'_> {
    fn mutant(&self, mutant: Mutant) -> bool {
        self.0.mutant == Some(mutant)
    }
}

impl OrderOutcomes for Port<'_> {
    async fn record_outcome(
        &self,
        order_id: &str,
        customer_id: &str,
        outcome: &Outcome,
    ) -> Result<Option<Recorded>, Error> {
        let world = self.0;
        world
            .call(Function::Order, "record outcome", async {
                if self.mutant(Mutant::OrderMovesFromAnyStatus) {
                    let mut orders = world.orders.orders.lock().unwrap();
                    let Some(order) = orders.get_mut(order_id) else {
                        return Ok(None);
                    };
                    let before = order.clone();
                    order.apply(outcome);
                    (world.orders.changes.lock().unwrap()).push((Some(before), order.clone()));
                    return Ok(Some(Recorded::Moved));
                }
                world.orders.record_outcome(order_id, customer_id, outcome).await
            })
            .await
    }

    async fn status_of(&self, order_id: &str) -> Result<Option<OrderStatus>, Error> {
        let world = self.0;
        let read = world.orders.status_of(order_id);
        world.call(Function::Order, "read the order's status", read).await
    }
}

impl PaymentRecords for Port<'_> {
    async fn get(&self, order_id: &str) -> Result<Option<Payment>, Error> {
        let world = self.0;
        (world.call(Function::Payment, "read the payment", world.payments.get(order_id))).await
    }

    async fn begin(&self, payment: &Payment) -> Result<Payment, Error> {
        let world = self.0;
        (world.call(Function::Payment, "begin the payment", world.payments.begin(payment))).await
    }

    async fn attach(&self, order_id: &str, payment_id: &str) -> Result<Option<Payment>, Error> {
        let world = self.0;
        world
            .call(Function::Payment, "record the provider's payment", async {
                if self.mutant(Mutant::PaymentOpenedPerDelivery) {
                    let mut kept = world.payments.kept.lock().unwrap();
                    if let Some(payment) = kept.get_mut(order_id) {
                        payment.payment_id = Some(payment_id.to_string());
                    }
                    return Ok(None);
                }
                world.payments.attach(order_id, payment_id).await
            })
            .await
    }

    async fn settle(
        &self,
        order_id: &str,
        from: &[PaymentStatus],
        to: PaymentStatus,
        reason: Option<&str>,
    ) -> Result<Payment, Error> {
        let world = self.0;
        let settle = world.payments.settle(order_id, from, to, reason);
        world.call(Function::Payment, "settle the payment", settle).await
    }

    async fn cancel_order(&self, order_id: &str) -> Result<Payment, Error> {
        let world = self.0;
        (world.call(
            Function::Payment,
            "mark the order cancelled",
            world.payments.cancel_order(order_id),
        ))
        .await
    }
}

/// The payment provider, reached by the payment function over the network: its calls fail, and
/// lose their answers, as the function's own do.
impl Payments for Port<'_> {
    async fn open(&self, order_id: &str, due: &PaymentDue) -> Result<Opened, Error> {
        let world = self.0;
        (world.call(Function::Payment, "open a payment", world.stripe.open(order_id, due))).await
    }

    async fn hold(&self, payment_id: &str) -> Result<Hold, Error> {
        let world = self.0;
        (world.call(Function::Payment, "charge the card", world.stripe.hold(payment_id))).await
    }

    async fn capture(&self, payment_id: &str) -> Result<Capture, Error> {
        let world = self.0;
        (world.call(Function::Payment, "take the money", world.stripe.capture(payment_id))).await
    }

    async fn give_back(&self, payment_id: &str) -> Result<GivenBack, Error> {
        let world = self.0;
        (world.call(
            Function::Payment,
            "give the money back",
            world.stripe.give_back(payment_id),
        ))
        .await
    }

    async fn state(&self, payment_id: &str) -> Result<PaymentState, Error> {
        let world = self.0;
        (world.call(Function::Payment, "read the payment", world.stripe.state(payment_id))).await
    }
}

impl CupReservations for Port<'_> {
    async fn reserve_cups(&self, placed: &OrderPlaced) -> Result<Reservation, Error> {
        let world = self.0;
        world
            .call(Function::Inventory, "reserve cups", async {
                if self.mutant(Mutant::CupsReservedPerDelivery) {
                    (world.inventory.decisions.lock().unwrap()).remove(&placed.order.order_id);
                }
                world.inventory.reserve_cups(placed).await
            })
            .await
    }

    async fn release_cups(&self, stock_name: &str, order_id: &str) -> Result<Release, Error> {
        let world = self.0;
        world
            .call(Function::Inventory, "release cups", async {
                if self.mutant(Mutant::CupsGivenBackPerDelivery) {
                    world.inventory.released.lock().unwrap().remove(order_id);
                }
                world.inventory.release_cups(stock_name, order_id).await
            })
            .await
    }

    async fn cups_left(&self, stock_name: &str) -> Result<Option<u32>, Error> {
        (self.0)
            .call(
                Function::Inventory,
                "read the cups left",
                self.0.inventory.cups_left(stock_name),
            )
            .await
    }
}

impl BeverageMachine for Port<'_> {
    async fn attempt(&self, beverage_id: &str) -> Result<Option<Attempt>, Error> {
        let world = self.0;
        world
            .call(Function::Beverage, "look up the attempt", async {
                if self.mutant(Mutant::BeverageMadePerDelivery) {
                    return Ok(None);
                }
                world.machine.attempt(beverage_id).await
            })
            .await
    }

    async fn read(&self, ingredients: &[&str]) -> Result<MachineReading, Error> {
        (self.0)
            .call(Function::Beverage, "read the machine", self.0.machine.read(ingredients))
            .await
    }

    async fn make(&self, made: &Attempt, takes: &[Take]) -> Result<Making, Error> {
        let world = self.0;
        let first_line_only;
        let takes = match made {
            Attempt::Made(beverage) if self.mutant(Mutant::CartMadeAsItsFirstLine) && !beverage.lines.is_empty() => {
                let first = &beverage.lines[0];
                let recipe = &world
                    .deployment
                    .menu
                    .find(&first.beverage_name)
                    .expect("on the menu")
                    .recipe;
                first_line_only = (takes.iter())
                    .filter_map(|take| {
                        let per_cup = recipe.get(&take.ingredient)?;
                        let units = per_cup * first.beverage_qty;
                        Some(Take { units, ..take.clone() })
                    })
                    .collect::<Vec<_>>();
                &first_line_only[..]
            }
            _ => takes,
        };
        world
            .call(Function::Beverage, "make", async {
                if self.mutant(Mutant::BeverageMadePerDelivery) {
                    world.machine.attempts.lock().unwrap().remove(made.beverage_id());
                }
                world.machine.make(made, takes).await
            })
            .await
    }

    async fn record_failure(&self, failed: &Attempt) -> Result<Attempt, Error> {
        (self.0)
            .call(
                Function::Beverage,
                "record the failure",
                self.0.machine.record_failure(failed),
            )
            .await
    }
}

impl Notifications for Port<'_> {
    async fn get(&self, notification_id: &str) -> Result<Option<Notification>, Error> {
        let world = self.0;
        let look_up = world.notifications.get(notification_id);
        world.call(Function::Notify, "look up the notification", look_up).await
    }

    async fn record(
        &self,
        notification: &Notification,
        claimed_until: DateTime<Utc>,
    ) -> Result<(Notification, bool), Error> {
        let world = self.0;
        world
            .call(Function::Notify, "record the notification", async {
                if self.mutant(Mutant::NotifiedPerDelivery) {
                    (world.notifications.kept.lock().unwrap()).remove(&notification.notification_id);
                }
                world.notifications.record(notification, claimed_until).await
            })
            .await
    }

    async fn claim_send(&self, notification_id: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, Error> {
        let world = self.0;
        let claim = world.notifications.claim_send(notification_id, now, until);
        let claimed = world.call(Function::Notify, "claim the sending", claim).await?;
        if !claimed {
            world.struck("notification claimed by another delivery");
        }
        Ok(claimed)
    }

    async fn mark_sent(&self, notification_id: &str, sns_message_id: &str) -> Result<(), Error> {
        let world = self.0;
        let mark = async {
            world.notifications.mark_sent(notification_id, sns_message_id).await?;
            let mut sent = world.sent.lock().unwrap();
            if let Some(confirmed) = sent.iter_mut().find(|s| s.sns_message_id == sns_message_id) {
                confirmed.confirmed = true;
            }
            Ok(())
        };
        world.call(Function::Notify, "mark it sent", mark).await
    }
}

/// SNS: keeps what it takes, by order.
impl Notify for Port<'_> {
    async fn send(&self, notification: &Notification, _phone_number: Option<&str>) -> Result<String, Error> {
        let world = self.0;
        world
            .call(Function::Notify, "send", async {
                let mut sent = world.sent.lock().unwrap();
                let sns_message_id = format!("sns-{}", sent.len() + 1);
                sent.push(Sent {
                    order_id: notification.order_id.clone(),
                    status: notification.order_status.clone(),
                    sns_message_id: sns_message_id.clone(),
                    confirmed: false,
                });
                Ok(sns_message_id)
            })
            .await
    }
}

impl OrderViews for Port<'_> {
    async fn apply(&self, message: &BusMessage) -> Result<KioskOrder, Error> {
        let applied = (self.0)
            .call(Function::Kiosk, "apply to the view", self.0.views.apply(message))
            .await;
        match applied {
            // The view as it would be, for the live updates, but not stored.
            Err(_) if self.mutant(Mutant::ViewDropsEventsOnFailure) => MemoryViews::default().apply(message).await,
            Ok(view) if self.mutant(Mutant::CountedPerDelivery) => Ok(KioskOrder { counted: false, ..view }),
            applied => applied,
        }
    }

    async fn get(&self, order_id: &str) -> Result<Option<KioskOrder>, Error> {
        (self.0)
            .call(Function::Kiosk, "read the view", self.0.views.get(order_id))
            .await
    }
}

impl CafeDay for Port<'_> {
    async fn count(&self, order_id: &str, ended: &Ended) -> Result<bool, Error> {
        if self.mutant(Mutant::CountedPerDelivery)
            && let Some(view) = self.0.views.items.lock().unwrap().get_mut(order_id)
        {
            view.remove("countedAs");
        }
        (self.0)
            .call(
                Function::Kiosk,
                "count the order's outcome",
                self.0.views.count(order_id, ended),
            )
            .await
    }

    async fn hours(&self, hours: &[DateTime<Utc>]) -> Result<Vec<HourCounts>, Error> {
        (self.0)
            .call(Function::Kiosk, "read the day", self.0.views.hours(hours))
            .await
    }

    async fn raise(&self, alert: &Alert) -> Result<bool, Error> {
        (self.0)
            .call(Function::Kiosk, "raise an alert", self.0.views.raise(alert))
            .await
    }
}

/// EventBridge, as one function publishes to it (`cafe.<function>`).
pub struct Bus<'w> {
    pub world: &'w World,
    pub function: Function,
}

impl Publish for Bus<'_> {
    async fn publish_all(&self, events: &[CafeEvent]) -> Result<(), StepError> {
        let world = self.world;
        let source = format!("cafe.{}", self.function.name());
        let publish = async {
            world.put_events(&source, events);
            if world.mutant == Some(Mutant::MakesWithoutTheOrdersLock) {
                // The machine's request taken as granted: the order is never asked.
                let granted: Vec<CafeEvent> = (events.iter())
                    .filter_map(|event| match event {
                        CafeEvent::MakingRequested(asked) => Some(CafeEvent::OrderMaking(OrderMaking {
                            order: asked.order.clone(),
                            stock_name: asked.stock_name.clone(),
                            deadline: None,
                        })),
                        _ => None,
                    })
                    .collect();
                world.put_events("cafe.order", &granted);
            }
            Ok(())
        };
        world
            .call(self.function, "publish", publish)
            .await
            .map_err(StepError::Retry)
    }
}

/// The order deadlines: each a timer message on the order queue.
pub struct Timers<'w>(pub &'w World);

impl Deadlines for Timers<'_> {
    fn time_allowed(&self) -> Duration {
        Duration::from_millis(self.0.deadline_ms.load(std::sync::atomic::Ordering::SeqCst) as u64)
    }

    async fn start(&self, order: &OrderSummary, placed_at: DateTime<Utc>) -> Result<(), Error> {
        let world = self.0;
        let start = async {
            let deadline = placed_at + self.time_allowed();
            // An SQS delay of the whole time allowed, counted from now as the real one is: a
            // timer started late (the outbox was behind) fires late.
            let due = world.now() + self.time_allowed().as_millis() as i64;
            world.send(Function::Order, timer_body(order, deadline), due, false);
            Ok(())
        };
        world.call(Function::Order, "start the deadline", start).await
    }
}

/// A function's own dead-letter queue (`None`: the outbox's).
pub struct DeadLetters<'w> {
    pub world: &'w World,
    pub of: Option<Function>,
}

impl SetAside for DeadLetters<'_> {
    async fn set_aside(&self, body: &str, order_id: Option<&str>, reason: &str) -> Result<(), Error> {
        let world = self.world;
        let queue = &world.set_aside[&self.of];
        let function = self.of.unwrap_or(Function::Order);
        world
            .call(
                function,
                "set aside",
                SetAside::set_aside(queue, body, order_id, reason),
            )
            .await
    }
}
