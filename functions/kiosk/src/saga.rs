//! The kiosk's part in the saga: every event is folded into its order's view (the read model),
//! in whatever order and however often the events arrive, and the pages watching the order or
//! the pickup screen are sent what changed. An order that ended is counted, once, in its hour;
//! an event that reports levels, or a failure on a machine out of service, may alert the operator.

use crate::alerts::OperatorAlerts;
use crate::day::{self, Alert, MACHINE, MACHINE_ALERT, hour_of, levels_in, running_out};
use crate::domain::{KioskOrder, LiveUpdate, Watch, board_order, moves_on_board};
use crate::live::{LiveUpdates, Watcher};
use crate::store::{CafeDay, OrderViews};
use cafe_shared::Error;
use cafe_shared::auth::SignOutList;
use cafe_shared::events::{BusMessage, CafeEvent, CupOutOfStock, MACHINE_OUT_OF_ORDER};
use cafe_shared::menu::Menu;
use cafe_shared::sqs::StepError;
use futures::StreamExt;

/// Live updates sent at once by one saga step.
const SENDS_AT_ONCE: usize = 32;

pub async fn on_event(
    views: &(impl OrderViews + CafeDay),
    live: &impl LiveUpdates,
    sign_outs: &impl SignOutList,
    alerts: &impl OperatorAlerts,
    menu: &Menu,
    message: BusMessage,
) -> Result<(), StepError> {
    let view = views.apply(&message).await?;
    if let Some(ended) = day::ended(&view) {
        views.count(&view.order_id, &ended).await?;
    }
    tell_watchers(live, sign_outs, &view, &message).await;
    alert_operator(views, alerts, menu, &message).await?;
    Ok(())
}

/// The alerts this event calls for, each sent once an hour: the items whose reported levels run
/// out within the hour at the current rate, a stock item too short for an order, the machine out
/// of service. Sent, then recorded: a send that fails is sent again on the retry (so two
/// deliveries at once may both send one).
async fn alert_operator(
    store: &impl CafeDay,
    alerts: &impl OperatorAlerts,
    menu: &Menu,
    message: &BusMessage,
) -> Result<(), Error> {
    let levels = levels_in(&message.event);
    let mut raised = Vec::new();
    match &message.event {
        CafeEvent::CupOutOfStock(CupOutOfStock {
            stock_name,
            cups_available: Some(left),
            ..
        }) => raised.push((
            stock_name.clone(),
            format!("{stock_name} is short: an order was cancelled for want of it ({left} left). Restock it."),
        )),
        CafeEvent::BeverageFailed(failed) if failed.reason == MACHINE_OUT_OF_ORDER => {
            raised.push((MACHINE.to_string(), MACHINE_ALERT.to_string()));
        }
        _ if levels.is_empty() => return Ok(()),
        _ => {}
    }
    let hour = hour_of(message.time);
    let hours = store.hours(&[hour - chrono::Duration::hours(1), hour]).await?;
    let (_, usage) = day::usage(&hours, menu, message.time);
    raised.extend(running_out(&levels, &usage));
    let raised_before = |subject: &str| hours.iter().any(|h| h.hour == hour && h.alerts.contains_key(subject));
    for (subject, text) in raised {
        if raised_before(&subject) {
            continue;
        }
        let alert = Alert {
            hour,
            subject,
            message: text,
        };
        tracing::warn!(
            subject = alert.subject,
            message = alert.message,
            "the operator is alerted"
        );
        alerts.send(&alert).await?;
        store.raise(&alert).await?;
    }
    Ok(())
}

/// The order's watchers get its view as it is now (looked up only if a page marked it watched);
/// the pickup screens, the order's move when the event moves it. A page watching as a customer
/// gets only that customer's orders, and is closed once they signed out everywhere. Best effort:
/// the view is stored whatever happens here, and a page that missed an update gets the whole of
/// it again when it reads or watches anew. Sent `SENDS_AT_ONCE` at a time, so many screens do not
/// hold up the step.
async fn tell_watchers(live: &impl LiveUpdates, sign_outs: &impl SignOutList, view: &KioskOrder, message: &BusMessage) {
    let mut updates = Vec::new();
    if view.watched {
        updates.push((
            Watch::Order(view.order_id.clone()),
            LiveUpdate::Order { order: view.clone() },
        ));
    }
    if moves_on_board(&message.event)
        && let Some(order) = board_order(view, message.time)
    {
        updates.push((Watch::Board, LiveUpdate::BoardMove { order }));
    }
    for (watch, update) in updates {
        let watchers = match live.watchers(&watch).await {
            Ok(watchers) => watchers,
            Err(error) => {
                tracing::warn!(%error, topic = watch.topic(), "could not look up the watchers; no update sent");
                continue;
            }
        };
        // A customer's page that started watching before the view existed gets only their own.
        let theirs =
            |watcher: &Watcher| (watcher.only_for.as_ref()).is_none_or(|holder| holder.customer_id == view.customer_id);
        let sends = watchers.iter().filter(|w| theirs(w)).map(|watcher| async {
            let connection_id = &watcher.connection_id;
            if let Some(holder) = &watcher.only_for {
                match (sign_outs.has_signed_out(&holder.customer_id, holder.kiosk_id.as_deref(), holder.token_ends))
                    .await
                {
                    Ok(false) => {}
                    Ok(true) => {
                        if let Err(error) = live.close(connection_id).await {
                            tracing::warn!(%error, connection_id, "a signed-out page was not closed");
                        }
                        return;
                    }
                    // Nothing goes to a page whose token cannot be checked now.
                    Err(error) => {
                        tracing::warn!(%error, connection_id, "sign-outs unread; no update sent");
                        return;
                    }
                }
            }
            if let Err(error) = live.send(connection_id, &update).await {
                tracing::warn!(%error, connection_id, "a live update was not sent");
            }
        });
        futures::stream::iter(sends)
            .buffer_unordered(SENDS_AT_ONCE)
            .collect::<Vec<()>>()
            .await;
    }
}

#[cfg(test)]
mod tests;
