//! The payment steps of the saga. `OrderPlaced` holds the order's amount on its card and
//! announces `PaymentAuthorized` (so its cups are reserved) or `PaymentDeclined` (so it is
//! cancelled); `OrderMaking` takes the money held (`PaymentCaptured`); `OrderCancelled` lets the
//! hold go (`PaymentReleased`) or gives the money back (`PaymentRefunded`). Each announcement is
//! made again on a redelivery, in case the first attempt failed after the write.

use crate::domain::{Payment, PaymentStatus};
use crate::provider::{Capture, GivenBack, Hold, Opened, Payments};
use crate::store::PaymentRecords;
use PaymentStatus::{Authorizing, Captured, Declined, Held};
use cafe_shared::Error;
use cafe_shared::bus::Publish;
use cafe_shared::events::{BusMessage, CafeEvent, OrderPlaced, OrderSummary, PaymentDue};
use cafe_shared::sqs::StepError;

pub async fn on_event(
    records: &impl PaymentRecords,
    payments: &impl Payments,
    bus: &impl Publish,
    message: BusMessage,
) -> Result<(), StepError> {
    let announcement = match &message.event {
        CafeEvent::OrderPlaced(placed) => authorize(records, payments, placed).await?,
        CafeEvent::OrderMaking(making) => capture(records, payments, &making.order).await?,
        CafeEvent::OrderCancelled(cancelled) => give_back(records, payments, &cancelled.order).await?,
        other => {
            tracing::warn!(
                detail_type = other.detail_type(),
                "not an event for the payment function; ignored"
            );
            None
        }
    };
    match announcement {
        Some(event) => bus.publish(&event).await,
        None => Ok(()),
    }
}

async fn authorize(
    records: &impl PaymentRecords,
    payments: &impl Payments,
    placed: &OrderPlaced,
) -> Result<Option<CafeEvent>, Error> {
    let mut payment = records.begin(&Payment::for_order(placed)).await?;
    if let (true, Some(due)) = (payment.is_to_hold(), &placed.payment) {
        payment = hold(records, payments, payment, due).await?;
    }
    tracing::info!(status = ?payment.status, "payment of a placed order");
    Ok(payment.on_placed(placed))
}

/// Opens the order's payment (once: its id is recorded before the card is charged) and charges
/// the card.
async fn hold(
    records: &impl PaymentRecords,
    payments: &impl Payments,
    payment: Payment,
    due: &PaymentDue,
) -> Result<Payment, Error> {
    let order_id = &payment.order_id;
    let payment_id = match payment.payment_id {
        Some(id) => id,
        None => match payments.open(order_id, due).await? {
            Opened::Declined(reason) => return records.settle(order_id, &[Authorizing], Declined, Some(&reason)).await,
            Opened::Payment(id) => match records.attach(order_id, &id).await? {
                None => id,
                Some(on_record) => {
                    // Another delivery recorded the order's payment first (Stripe answers the
                    // same `Idempotency-Key` with the same payment: then it is that one, which
                    // the other delivery charges), or the order was cancelled meanwhile: a
                    // payment of this delivery's own is never charged.
                    if on_record.payment_id.as_deref() != Some(id.as_str()) {
                        payments.give_back(&id).await?;
                    }
                    return Ok(on_record);
                }
            },
        },
    };
    let (to, reason) = match payments.hold(&payment_id).await? {
        Hold::Held => (Held, None),
        Hold::Declined(reason) => (Declined, Some(reason)),
        // Its order's cancellation let it go, and records that.
        Hold::Cancelled => return (records.get(order_id).await?).ok_or_else(|| "a payment vanished".into()),
    };
    records.settle(order_id, &[Authorizing], to, reason.as_deref()).await
}

/// Takes the money held for an order past its point of no return (unless it was cancelled since).
async fn capture(
    records: &impl PaymentRecords,
    payments: &impl Payments,
    order: &OrderSummary,
) -> Result<Option<CafeEvent>, Error> {
    let Some(payment) = records.get(&order.order_id).await? else {
        return Err(format!("no payment for order {}: not placed here yet", order.order_id).into());
    };
    let payment = match (payment.status, &payment.payment_id) {
        (Held, Some(payment_id)) if !payment.order_cancelled => match payments.capture(payment_id).await? {
            Capture::Captured => records.settle(&order.order_id, &[Held], Captured, None).await?,
            Capture::Cancelled => return Ok(None),
        },
        _ => payment,
    };
    // Announced by this step only while taken; a refund since is the cancellation's to announce.
    Ok((payment.status == Captured)
        .then(|| payment.announcement(order))
        .flatten())
}

/// A cancelled order's money: the hold let go, the money taken given back, or none ever held.
async fn give_back(
    records: &impl PaymentRecords,
    payments: &impl Payments,
    order: &OrderSummary,
) -> Result<Option<CafeEvent>, Error> {
    let payment = records.cancel_order(&order.order_id).await?;
    let given = match (payment.status, &payment.payment_id) {
        (Authorizing | Held | Captured, Some(payment_id)) => payments.give_back(payment_id).await?,
        (Authorizing, None) => GivenBack::NothingHeld,
        // Ended already: said again.
        _ => return Ok(payment.announcement(order)),
    };
    let to = match given {
        GivenBack::NothingHeld => PaymentStatus::Voided,
        GivenBack::Released => PaymentStatus::Released,
        GivenBack::Refunded => PaymentStatus::Refunded,
    };
    let payment = (records.settle(&order.order_id, &[Authorizing, Held, Captured], to, None)).await?;
    tracing::info!(status = ?payment.status, "payment of a cancelled order");
    Ok(payment.announcement(order))
}

#[cfg(test)]
mod tests;
