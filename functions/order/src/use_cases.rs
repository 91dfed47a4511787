//! The order API's use cases: placing and cancelling an order and registering a kiosk (here),
//! and signing in with a phone (`sign_in`). Each is a function over the store's ports, so its
//! rules run in process on the fakes; the handlers read the request, ask who calls, and answer.

pub mod sign_in;

use crate::domain::{
    Kiosk, KioskRequest, Menu, Order, OrderError, OrderLimits, OrderRequest, OrderStatus, PlacedBy, Refusal,
    Registration, cancelled_by, not_cancellable, order_id_for_key, walk_up_customer_id,
};
use crate::store::{OrderBook, OrderOutcomes, Recorded};
use cafe_shared::auth::NewKiosk;
use cafe_shared::checks::check_id;
use cafe_shared::http::MAX_ID_CHARS;
use cafe_shared::{Error, metrics};
use chrono::{DateTime, Utc};

/// What a use case fails with: a refusal in the cafe's words, or the cloud failing.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Refused(#[from] OrderError),
    #[error(transparent)]
    Cloud(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Cloud(error)
    }
}

impl From<cafe_shared::checks::Invalid> for Failure {
    fn from(invalid: cafe_shared::checks::Invalid) -> Self {
        Failure::Refused(invalid.into())
    }
}

/// An order placed: as stored, and whether it was a new customer's first (their token is owed).
#[derive(Debug)]
pub struct Placing {
    pub order: Order,
    pub new_customer: bool,
}

/// What places an order: the menu it is checked against and priced by (in the cafe's
/// currency), and the limits it is counted within.
pub struct Counter<'a> {
    pub menu: &'a Menu,
    pub currency: &'a str,
    /// Whether an order that costs something must come with a card (the operator's need not).
    pub payment_required: bool,
    pub limits: &'a OrderLimits,
}

impl Counter<'_> {
    /// Places `request` for `placed_by`. A request with an `idempotency_key` already placed by
    /// the same customer gets that order back, whatever the cafe is now, and never a new
    /// customer's token; with another order, it is refused. A kiosk's order for a customer who
    /// has ordered before is theirs, with no token.
    pub async fn place_order(
        &self,
        book: &impl OrderBook,
        placed_by: &PlacedBy,
        mut request: OrderRequest,
        idempotency_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Placing, Failure> {
        if let Some(key) = idempotency_key {
            check_id("Idempotency-Key", key, MAX_ID_CHARS)?;
        }
        // A kiosk's walk-up customer types no id: the order gets one of the cafe's, and no
        // customer is kept for it (nor a token issued).
        let walk_up = match (&request.customer_id, placed_by) {
            (None, PlacedBy::Kiosk(claim)) => {
                request.customer_id = Some(walk_up_customer_id(&claim.kiosk_id, idempotency_key));
                true
            }
            _ => false,
        };
        let order_id = match idempotency_key {
            Some(key) => order_id_for_key(request.customer_id.as_deref().unwrap_or_default(), key),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let mut order = Order::place(request, self.menu, order_id, now)?;
        self.limits.check_quantity(order.beverage_qty, placed_by)?;
        order.kiosk_id = placed_by.kiosk_id();
        placed_by.check_phone(order.phone_number.as_deref())?;
        if let Some(written) = &order.phone_number {
            order.phone_number = Some(self.limits.textable(written)?);
        }
        // A kiosk proves its secret before anything else: a made-up token learns nothing and
        // touches nothing (the order's transaction checks it again).
        if let PlacedBy::Kiosk(claim) = placed_by
            && !book.is_registered_kiosk(claim).await?
        {
            return Err(OrderError::UnknownKiosk.into());
        }
        if idempotency_key.is_some()
            && let Some(stored) = book.get(&order.order_id).await?
        {
            return replayed(stored, &order);
        }
        // Priced as the cafe sells now; a retry above keeps the price it was placed at.
        let prices = book.price_list().await?;
        let mut order = order.priced(self.menu, &prices, self.currency)?;
        if self.payment_required
            && *placed_by != PlacedBy::Operator
            && order.payment_method.is_none()
            && order.total() > 0
        {
            return Err(OrderError::PaymentRequired(format!("{} {}", order.total(), self.currency)).into());
        }
        let mut registration = match walk_up {
            true => Registration::None,
            false => placed_by.registration(),
        };
        loop {
            // The order takes its number as it is stored, so a refused order uses up none.
            // OrderPlaced goes out from the orders table's stream: a stored order is announced
            // even if the bus is down at this moment.
            match book.place(&order, placed_by, registration, self.limits).await? {
                Ok(number) => {
                    order.order_number = Some(number);
                    if order.phone_number.is_some() {
                        text_counted(self.limits);
                    }
                    let new_customer = registration == Registration::New;
                    return Ok(Placing { order, new_customer });
                }
                Err(Refusal::CustomerKnown) if registration == Registration::New => {
                    registration = Registration::None;
                }
                Err(Refusal::AlreadyPlaced) => {
                    let stored = book.get(&order.order_id).await?;
                    let stored = stored.ok_or_else(|| Error::from("order vanished after a conflicting write"))?;
                    return replayed(stored, &order);
                }
                // Closed or filled up since the number was taken.
                Err(Refusal::CafeRefused) => return Err(book.cafe(self.limits).await?.refusal().into()),
                Err(refusal) => {
                    let refused = refusal.error(&order.customer_id, self.limits);
                    return Err(refused
                        .ok_or_else(|| Error::from(format!("placing refused as {refusal:?}")))?
                        .into());
                }
            }
        }
    }
}

/// A text counted in the cafe's hourly budget: its share of the budget, for the alarm that
/// watches the hour's sum (`TextBudgetAlarm`).
pub(crate) fn text_counted(limits: &OrderLimits) {
    let share = 100.0 / f64::from(limits.texts_per_cafe_per_hour.max(1));
    metrics::emit("TextBudgetUsed", share, "Percent", "order");
}

/// The stored order for a retried request: the same order, or a key used for another.
fn replayed(stored: Order, asked: &Order) -> Result<Placing, Failure> {
    match stored.is_same_request(asked) {
        true => Ok(Placing {
            order: stored,
            new_customer: false,
        }),
        false => Err(OrderError::KeyReused.into()),
    }
}

/// Cancels an order for someone who may see it (`may_see`), until the machine starts it: the
/// cancel and the machine's start each move only a pending order, so one of them wins. A
/// cancelled order is answered as it is; one being made or completed is refused.
pub async fn cancel_order(
    book: &(impl OrderBook + OrderOutcomes),
    order_id: &str,
    may_see: impl Fn(&Order) -> bool,
    by_operator: bool,
) -> Result<Order, Failure> {
    let unknown = || Failure::Refused(OrderError::UnknownOrder(order_id.into()));
    let mut order = book.get(order_id).await?.filter(&may_see).ok_or_else(unknown)?;
    let cancel = cancelled_by(by_operator);
    match book.record_outcome(order_id, &order.customer_id, &cancel).await? {
        Some(Recorded::Moved) => {
            order.apply(&cancel);
            Ok(order)
        }
        Some(Recorded::Unmoved(order)) if order.order_status == OrderStatus::Cancelled => Ok(*order),
        Some(Recorded::Unmoved(order)) => Err(not_cancellable(&order).into()),
        None => Err(unknown()),
    }
}

/// Registers a kiosk named as the operator asked: the kiosk, and its token, which the cafe keeps
/// only hashed.
pub async fn register_kiosk(
    book: &impl OrderBook,
    request: KioskRequest,
    now: DateTime<Utc>,
) -> Result<(Kiosk, String), Failure> {
    let credentials = NewKiosk::generate();
    let kiosk = Kiosk::register(request, credentials.kiosk_id, now)?;
    book.register_kiosk(&kiosk, &credentials.secret_hash).await?;
    Ok((kiosk, credentials.token))
}

#[cfg(test)]
pub(crate) mod tests;
