//! What must hold once the saga has settled, whatever the schedule (docs/architecture.md): every order
//! ended; the stock accounts for exactly the completed orders; one notification per order, telling
//! its outcome (sent once, but again when a send's invocation died before recording it); the kiosk's read model agrees with the orders; a beverage made only for a completed
//! order; the day at a glance counts each order once, by its outcome; money is kept for completed
//! orders alone and no hold outlives its order; the dead-letter queues hold
//! the injected poison and nothing else.

use crate::world::{World, ready};
use cafe_beverage::domain::{Attempt, beverage_id_for};
use cafe_kiosk::day::hour_of;
use cafe_kiosk::store::{CafeDay, OrderViews};
use cafe_order::domain::{Order, OrderStatus};
use std::collections::{BTreeMap, BTreeSet};

/// The invariants, each checked once a run settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invariant {
    /// The run reaches a quiet cafe (no message, change or invocation left).
    Settles,
    /// Every order is completed or cancelled.
    OrdersEnd,
    /// Cups and ingredients left are what was stocked less what completed orders used.
    StockAccounted,
    /// Each customer is told once, their order's outcome.
    ToldOnce,
    /// The kiosk's read model shows each order's status and notification.
    KioskAgrees,
    /// A beverage is made for every completed order and no other.
    MadeOnlyWhenCompleted,
    /// The operator's day counts each order once, completed or cancelled as it ended.
    DayCountsOnce,
    /// Money is kept only for completed orders: a payment taken and not refunded is a completed
    /// order's, and every completed order that costs something was paid for exactly once.
    MoneyKeptOnlyWhenCompleted,
    /// No hold on a card outlives its order: once an order has ended, none of its payments is
    /// still held.
    NoHoldOutlivesItsOrder,
    /// The dead-letter queues hold all the injected poison and nothing else.
    DeadLettersArePoison,
}

/// An invariant broken, and how.
#[derive(Debug, Clone)]
pub struct Violation {
    pub invariant: Invariant,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.invariant, self.detail)
    }
}

/// Each invariant the world breaks.
pub fn broken(world: &World) -> Vec<Violation> {
    let mut orders: Vec<Order> = world.orders.orders.lock().unwrap().values().cloned().collect();
    orders.sort_by_key(|order| order.order_number);
    let completed: Vec<&Order> = (orders.iter())
        .filter(|o| o.order_status == OrderStatus::Completed)
        .collect();
    let mut broken = Vec::new();
    let mut breaks = |invariant, detail: String| broken.push(Violation { invariant, detail });

    for order in orders.iter().filter(|order| !order.order_status.is_final()) {
        breaks(
            Invariant::OrdersEnd,
            format!("{} is still {}", order.order_id, status_name(order.order_status)),
        );
    }

    let ledger = world.ledger.lock().unwrap();
    let cups = world.inventory.stock.lock().unwrap();
    for (stock_name, stocked) in &ledger.cups_stocked {
        let taken: i64 = (completed.iter())
            .filter(|o| o.stock_name == *stock_name)
            .map(|o| i64::from(o.beverage_qty))
            .sum();
        let left = cups.get(stock_name).map(|item| item.qty).unwrap_or_default();
        if let Some(detail) = unaccounted(&format!("{stock_name}s"), left, *stocked, taken) {
            breaks(Invariant::StockAccounted, detail);
        }
    }
    let levels = world.machine.levels.lock().unwrap();
    for (ingredient, stocked) in &ledger.ingredients_stocked {
        let used: i64 = (completed.iter().flat_map(|o| o.lines()))
            .map(|line| {
                let menu = &world.deployment.menu;
                let recipe = &menu.find(&line.beverage_name).expect("on the menu").recipe;
                i64::from(recipe.get(ingredient).copied().unwrap_or_default() * line.beverage_qty)
            })
            .sum();
        let left = levels.get(ingredient).copied().unwrap_or_default();
        if let Some(detail) = unaccounted(ingredient, left, *stocked, used) {
            breaks(Invariant::StockAccounted, detail);
        }
    }

    // Each order's confirmed sends; an unconfirmed one was sent again (SMS is at least once).
    let mut told: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let sent = world.sent.lock().unwrap();
    for sent in sent.iter().filter(|sent| sent.confirmed) {
        told.entry(&sent.order_id).or_default().push(&sent.status);
    }
    let attempts = world.machine.attempts.lock().unwrap();
    let mut hours = BTreeSet::new();
    for order in &orders {
        let status = status_name(order.order_status);
        match told.get(order.order_id.as_str()).map(Vec::as_slice) {
            Some([once]) if *once == status => {}
            tellings => breaks(
                Invariant::ToldOnce,
                format!("{} is {status} but its customer was told {tellings:?}", order.order_id),
            ),
        }
        let view = ready(world.views.get(&order.order_id));
        if let Ok(Some(view)) = &view {
            hours.extend(view.timeline.iter().map(|step| hour_of(step.at)));
        }
        match view {
            Ok(Some(view)) if view.order_status == status && view.notification.is_some() => {}
            Ok(Some(view)) => breaks(
                Invariant::KioskAgrees,
                format!(
                    "{} is {status} but the kiosk shows it {} (notification: {:?})",
                    order.order_id, view.order_status, view.notification
                ),
            ),
            other => breaks(
                Invariant::KioskAgrees,
                format!("{} has no kiosk view: {other:?}", order.order_id),
            ),
        }
        let made = matches!(attempts.get(&beverage_id_for(&order.order_id)), Some(Attempt::Made(_)));
        if made != (order.order_status == OrderStatus::Completed) {
            breaks(
                Invariant::MadeOnlyWhenCompleted,
                format!("{} is {status}, and its beverage made: {made}", order.order_id),
            );
        }
    }

    let hours: Vec<_> = hours.into_iter().collect();
    match ready(world.views.hours(&hours)) {
        Ok(counts) => {
            let counted = |cancelled: bool| -> u32 {
                (counts.iter())
                    .map(|hour| match cancelled {
                        true => hour.cancelled.values().sum(),
                        false => hour.completed,
                    })
                    .sum()
            };
            let cancelled = orders.len() - completed.len();
            if (counted(false) as usize, counted(true) as usize) != (completed.len(), cancelled) {
                breaks(
                    Invariant::DayCountsOnce,
                    format!(
                        "{} completed and {cancelled} cancelled orders, counted {} and {}",
                        completed.len(),
                        counted(false),
                        counted(true)
                    ),
                );
            }
        }
        Err(error) => breaks(Invariant::DayCountsOnce, format!("the day does not read: {error}")),
    }

    for order in &orders {
        let status = status_name(order.order_status);
        let payments = world.stripe.of_order(&order.order_id);
        let kept: u64 = (payments.iter())
            .filter(|p| p.status == "succeeded")
            .map(|p| p.amount - p.refunded)
            .sum();
        let owed = match (order.order_status, order.payment_due()) {
            (OrderStatus::Completed, Some(due)) => due.amount,
            _ => 0,
        };
        if kept != owed {
            breaks(
                Invariant::MoneyKeptOnlyWhenCompleted,
                format!(
                    "{} is {status}, owes {owed} and {kept} was kept: {payments:?}",
                    order.order_id
                ),
            );
        }
        let held = payments.iter().filter(|p| p.status == "requires_capture").count();
        if held > 0 {
            breaks(
                Invariant::NoHoldOutlivesItsOrder,
                format!("{} is {status} and {held} hold(s) on its card remain", order.order_id),
            );
        }
    }

    let injected = world.injected_poison.lock().unwrap();
    let mut dead: Vec<String> = (world.set_aside.values())
        .flat_map(|queue| queue.set_aside().into_iter().map(|(body, _, _)| body))
        .collect();
    let queues = world.queues.lock().unwrap();
    dead.extend(
        queues
            .values()
            .flat_map(|q| q.dead_lettered.iter().map(|m| m.body.clone())),
    );
    for body in dead.iter().filter(|body| !injected.contains(body)) {
        breaks(
            Invariant::DeadLettersArePoison,
            format!("a dead-letter queue holds a message that is no poison: {body}"),
        );
    }
    for body in injected.iter().filter(|body| !dead.contains(body)) {
        breaks(
            Invariant::DeadLettersArePoison,
            format!("injected poison never reached a dead-letter queue: {body}"),
        );
    }
    broken
}

/// What is wrong, if `left` is not what was stocked less what completed orders used.
fn unaccounted(what: &str, left: u32, stocked: i64, used: i64) -> Option<String> {
    let expected = stocked - used;
    (i64::from(left) != expected)
        .then(|| format!("{left} {what} left, but {stocked} stocked less {used} in completed orders is {expected}"))
}

fn status_name(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "pending",
        OrderStatus::Making => "making",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Completed => "completed",
    }
}
