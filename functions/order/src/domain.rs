//! Orders and the menu: the rules, with no I/O.

mod cart;
mod payment;
mod placing;
mod prices;
pub mod sign_in;

pub use cart::{LineRequest, MAX_LINES, OrderRequest};
pub use placing::*;
pub use prices::*;

use cafe_shared::checks::{Invalid, check_id};
use cafe_shared::events::{
    CafeEvent, OrderCancelled, OrderCompleted, OrderLine, OrderMaking, OrderPlaced, OrderSummary,
};
pub use cafe_shared::menu::Menu;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How many of one beverage, and how many beverages in all, one order may hold.
pub const BEVERAGE_QTY_RANGE: std::ops::RangeInclusive<i64> = 1..=50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    /// Past the point of no return: the machine is making it.
    Making,
    Cancelled,
    Completed,
}

impl OrderStatus {
    /// Whether the order has ended (it moves no more).
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Cancelled | OrderStatus::Completed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub customer_id: String,
    /// The beverage ordered (a cart: its first line's).
    pub beverage_name: String,
    /// How many beverages the order holds, over all its lines.
    pub beverage_qty: u32,
    /// A cart's lines, each with its price; empty for a one-line order (see [`Order::lines`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<OrderLine>,
    /// The stock item its beverages' cups come from.
    pub stock_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    pub order_status: OrderStatus,
    /// The registered kiosk that took the order (none: the operator or the customer's own token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kiosk_id: Option<String>,
    /// Why the order was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub order_date: DateTime<Utc>,
    /// What the cafe calls the order by (#1, #2, ...), counted each day, given as it is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<u32>,
    /// What one serving of a one-line order cost when it was placed, in `currency`'s minor units
    /// (none: a cart, whose lines each say theirs, or placed before the cafe priced its menu).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The card it is paid with (none: nothing is charged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
}

impl Order {
    /// Checks a customer's request against the menu and the limits, and makes the pending order.
    /// `order_id` comes from the caller: derived from an idempotency key, or fresh.
    pub fn place(request: OrderRequest, menu: &Menu, order_id: String, now: DateTime<Utc>) -> Result<Self, OrderError> {
        let customer_id = (request.customer_id.clone()).ok_or_else(|| {
            Invalid::Field("customerId is required (only a kiosk's walk-up customer gives none)".into())
        })?;
        check_id("customerId", &customer_id, 64)?;
        let (lines, stock_name) = cart::checked_lines(&request, menu)?;
        if let Some(card) = &request.payment_method {
            payment::check_payment_method(card)?;
        }
        let mut order = Self {
            order_id,
            customer_id,
            beverage_name: String::new(),
            beverage_qty: 0,
            lines: Vec::new(),
            stock_name,
            phone_number: request.phone_number,
            order_status: OrderStatus::Pending,
            kiosk_id: None,
            reason: None,
            order_date: now,
            order_number: None,
            unit_price: None,
            currency: None,
            payment_method: request.payment_method,
        };
        order.set_lines(lines);
        Ok(order)
    }

    /// Whether a retried request (same idempotency key) asks for the same order, from the same
    /// kiosk (a kiosk cannot fetch another's order by replaying its key).
    pub fn is_same_request(&self, other: &Order) -> bool {
        self.customer_id == other.customer_id
            && self.kiosk_id == other.kiosk_id
            && self.beverages_asked() == other.beverages_asked()
            && self.phone_number == other.phone_number
            && self.payment_method == other.payment_method
    }

    /// The order as a move leaves it.
    pub fn apply(&mut self, outcome: &Outcome) {
        self.order_status = outcome.status();
        if let Some(reason) = outcome.reason() {
            self.reason = Some(reason.to_string());
        }
    }

    pub fn summary(&self) -> OrderSummary {
        OrderSummary {
            order_id: self.order_id.clone(),
            customer_id: self.customer_id.clone(),
            beverage_name: self.beverage_name.clone(),
            beverage_qty: self.beverage_qty,
            phone_number: self.phone_number.clone(),
            order_number: self.order_number,
            lines: self.lines.clone(),
        }
    }

    pub fn placed_event(&self) -> OrderPlaced {
        OrderPlaced {
            order: self.summary(),
            stock_name: self.stock_name.clone(),
            order_date: self.order_date,
            payment: self.payment_due(),
        }
    }
}

/// The event a change of a stored order announces (the transactional outbox): a new pending
/// order is `OrderPlaced`; pending to making is `OrderMaking`; a move to cancelled or completed is
/// `OrderCancelled` or `OrderCompleted`. Anything else (a rewrite that changes no status)
/// announces nothing. `OrderMaking` tells the machine the order's deadline, `time_allowed` after
/// it was placed.
pub fn event_for_change(before: Option<&Order>, after: Option<&Order>, time_allowed: Duration) -> Option<CafeEvent> {
    let after = after?;
    let before = before.map(|o| o.order_status);
    if before == Some(after.order_status) {
        return None;
    }
    match after.order_status {
        OrderStatus::Pending => (before.is_none()).then(|| CafeEvent::OrderPlaced(after.placed_event())),
        OrderStatus::Making => Some(CafeEvent::OrderMaking(OrderMaking {
            order: after.summary(),
            stock_name: after.stock_name.clone(),
            deadline: Some(after.order_date + time_allowed),
        })),
        OrderStatus::Cancelled => Some(CafeEvent::OrderCancelled(OrderCancelled {
            order: after.summary(),
            stock_name: after.stock_name.clone(),
            reason: after.reason.clone().unwrap_or_default(),
        })),
        OrderStatus::Completed => Some(CafeEvent::OrderCompleted(OrderCompleted { order: after.summary() })),
    }
}

/// Why the cafe refuses an order, a kiosk's registration, a sign-in or a cancel, in the words the
/// caller reads; `handlers` gives each its HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{name:?} is not on the menu; choose one of {choices}")]
    UnknownBeverage { name: String, choices: String },
    /// The operator took the beverage off sale (`PUT /menu/{beverageName}`).
    #[error("{0} is not on sale now; choose another beverage (GET /menu says which are)")]
    NotOnSale(String),
    /// The cafe takes payment with the order (`RequirePayment`), and none was given.
    #[error("this order costs {0}; pay for it with a card (paymentMethod)")]
    PaymentRequired(String),
    #[error("beverageQty must be from {} to {}, not {qty}", BEVERAGE_QTY_RANGE.start(), BEVERAGE_QTY_RANGE.end())]
    QuantityOutOfRange { qty: i64 },
    #[error("phoneNumber must be a phone number in international form, such as +821012345678")]
    PhoneNotE164,
    /// The cafe texts only some countries (`TextCountryCodes`), listed here as `+82, +1`.
    #[error("the cafe texts only numbers with the country codes {0}; order without a phone number")]
    PhoneNotTextable(String),
    #[error("code must be the six digits texted")]
    CodeNotSixDigits,
    /// No code was asked for with this handle (or it was used, ended or tried too often).
    #[error("handle must be the one POST /sign-in answered when the code was asked for")]
    UnknownHandle,
    #[error(
        "the cafe is closed: it takes orders again when the operator opens it (GET /cafe says when it \
         is open)"
    )]
    CafeClosed,
    /// The cafe is making as many orders as it takes at once (`MaxOrdersInProgress`).
    #[error("the cafe is making {0} orders, the most it takes at once: please wait a few minutes and order again")]
    CafeBusy(u32),
    /// An order's number is texted only once its customer proved it with a code.
    #[error(
        "the cafe texts only a number proven with the code it texts: sign in (POST /sign-in, then \
         POST /sign-in/verify) and order with the customer token it gives"
    )]
    PhoneNotProven,
    /// A cancel that came too late: the order is past its point of no return.
    #[error("the order is {0}: it can no longer be cancelled")]
    NotCancellable(&'static str),
    #[error("this kiosk is not registered (or was revoked): ask the operator to register it")]
    UnknownKiosk,
    /// The kiosk placed as many orders this minute as allowed (`MaxOrdersPerKioskPerMinute`).
    #[error("this kiosk has placed {0} orders this minute, the most allowed; try again in a minute")]
    KioskBusy(u32),
    /// More beverages than one order may hold (`MaxBeveragesPerOrder`).
    #[error("one order holds at most {0} beverages; place another order for more")]
    TooManyBeverages(u32),
    /// The customer has as many orders in progress as allowed (`MaxOrdersInProgressPerCustomer`).
    #[error("customer {0:?} has {1} orders in progress, the most allowed; order again when one is ready")]
    CustomerBusy(String, u32),
    /// The order would take the customer past their cups this hour (`MaxCupsPerCustomerPerHour`).
    #[error("customer {0:?} may take at most {1} cups an hour; order fewer, or later")]
    TooManyCups(String, u32),
    /// The customer placed as many orders this minute as allowed (`MaxOrdersPerMinute`).
    #[error("customer {0:?} has placed {1} orders this minute, the most allowed; try again in a minute")]
    TooManyOrders(String, u32),
    /// The order's number was texted as often this hour as allowed (`MaxTextsPerNumberPerHour`).
    #[error(
        "this phone number has been texted {0} times this hour, the most allowed; order without a phone \
         number, or try again later"
    )]
    TooManyTexts(u32),
    /// A sign-in code asked for a number sent as many codes this hour as allowed
    /// (`MaxCodesPerNumberPerHour`).
    #[error("this phone number has been sent {0} sign-in codes this hour, the most allowed; try again later")]
    TooManyCodes(u32),
    /// The caller has had as many texts sent this hour as allowed (`MaxTextsPerCallerPerHour`).
    #[error("you have had the cafe send {0} texts this hour, the most allowed; try again later")]
    CallerTexts(u32),
    /// The cafe's texts this hour are spent (`MaxTextsPerCafePerHour`).
    #[error("the cafe has sent all the texts it sends in an hour; order without a phone number, or try again later")]
    CafeTexts,
    /// A kiosk typed the id of a customer who signs in with their phone.
    #[error("customer {0:?} signs in with their phone: they order with their own token")]
    SignsInByPhone(String),
    /// An Idempotency-Key sent again with another order.
    #[error("this Idempotency-Key was already used for a different order")]
    KeyReused,
    /// No code waits for the number: used, ended, or tried too often.
    #[error("no code is waiting for this number (it was used, ended or tried too often): ask for a new one")]
    CodeExpired,
    #[error("that is not the code texted; {0} tries left")]
    WrongCode(u32),
    /// No such order, or not one the caller may see: the two answer alike.
    #[error("no order with id {0:?}")]
    UnknownOrder(String),
}

/// The id of an order placed with an idempotency key: the same customer and key always give
/// the same id, so a retried request finds the order it already placed.
pub fn order_id_for_key(customer_id: &str, idempotency_key: &str) -> String {
    let name = format!("{customer_id}\n{idempotency_key}");
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

/// A move asked of an order: by a saga event, or by the customer or the operator cancelling.
/// Each move is allowed from one status only, which is the order's lock: a cancel and the
/// machine's start cannot both win, and a redelivered event finds the order moved already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The machine starts making it: the point of no return.
    Making,
    /// Called off before the point of no return (out of cups, by the customer or the operator).
    Withdrawn {
        reason: String,
    },
    /// The machine could not make it.
    Failed {
        reason: String,
    },
    Completed,
}

impl Outcome {
    /// The status the order must have for this move.
    pub fn from(&self) -> OrderStatus {
        match self {
            Outcome::Making | Outcome::Withdrawn { .. } => OrderStatus::Pending,
            Outcome::Failed { .. } | Outcome::Completed => OrderStatus::Making,
        }
    }

    /// The status the move leaves the order in.
    pub fn status(&self) -> OrderStatus {
        match self {
            Outcome::Making => OrderStatus::Making,
            Outcome::Withdrawn { .. } | Outcome::Failed { .. } => OrderStatus::Cancelled,
            Outcome::Completed => OrderStatus::Completed,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Withdrawn { reason } | Outcome::Failed { reason } => Some(reason),
            Outcome::Making | Outcome::Completed => None,
        }
    }
}

/// Why an order was cancelled by a person, for the customer to read.
pub fn cancelled_by(operator: bool) -> Outcome {
    let reason = match operator {
        true => "cancelled by the cafe",
        false => "cancelled at your request",
    };
    Outcome::Withdrawn { reason: reason.into() }
}

/// A cancel that came too late: the order is past its point of no return.
pub fn not_cancellable(order: &Order) -> OrderError {
    OrderError::NotCancellable(match order.order_status {
        OrderStatus::Making => "being made",
        OrderStatus::Completed => "completed",
        OrderStatus::Pending | OrderStatus::Cancelled => "past its point of no return",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafe_shared::auth::KioskClaim;

    fn menu() -> Menu {
        Menu::from_json(
            r#"[{"beverageName":"americano","displayName":"Americano","stockName":"cup"},
            {"beverageName":"iced-tea","displayName":"Iced tea","stockName":"cup"}]"#,
        )
        .unwrap()
    }

    fn request(beverage: &str, qty: i64) -> OrderRequest {
        OrderRequest {
            customer_id: Some("1".into()),
            beverage_name: Some(beverage.into()),
            beverage_qty: Some(qty),
            lines: None,
            phone_number: None,
            payment_method: None,
        }
    }

    fn place(request: OrderRequest) -> Result<Order, OrderError> {
        Order::place(request, &menu(), "o-1".into(), Utc::now())
    }

    #[test]
    fn a_valid_request_makes_a_pending_order_using_the_menus_stock() {
        let order = place(request("americano", 11)).unwrap();
        assert_eq!(order.order_status, OrderStatus::Pending);
        assert_eq!(order.stock_name, "cup");
        assert_eq!(order.beverage_qty, 11);
    }

    #[test]
    fn unknown_beverages_and_quantities_out_of_range_are_refused() {
        let unknown = place(request("mocha", 1)).unwrap_err();
        assert!(matches!(unknown, OrderError::UnknownBeverage { .. }), "{unknown:?}");
        assert_eq!(
            unknown.to_string(),
            "\"mocha\" is not on the menu; choose one of americano, iced-tea"
        );
        for qty in [0, -1, 51, i64::MAX] {
            assert_eq!(
                place(request("americano", qty)).unwrap_err(),
                OrderError::QuantityOutOfRange { qty },
                "qty {qty}"
            );
        }
        assert_eq!(
            OrderError::QuantityOutOfRange { qty: 0 }.to_string(),
            "beverageQty must be from 1 to 50, not 0"
        );
        assert!(place(request("americano", 50)).is_ok());
    }

    #[test]
    fn every_way_of_writing_a_number_is_one_number_in_an_allowed_country() {
        let limits = OrderLimits {
            text_country_codes: vec!["82".into(), "1".into()],
            ..crate::use_cases::tests::limits()
        };
        for written in [
            "+821055500013",
            "+8201055500013",
            "+82 10-5550-0013",
            "+82 (010) 5550 0013",
        ] {
            assert_eq!(limits.textable(written).as_deref(), Ok("+821055500013"), "{written}");
        }
        assert_eq!(limits.textable("+1 202-555-0100").as_deref(), Ok("+12025550100"));
        assert_eq!(
            limits.textable("+447700900123"),
            Err(OrderError::PhoneNotTextable("+82, +1".into()))
        );
        let not_numbers = [
            "12345678",
            "+0123456789",
            "+12ab4567",
            "+123",
            "",
            "821055500013",
            "+82101234",
        ];
        for bad in not_numbers
            .into_iter()
            .chain(["+8210555000130", "+82\u{0661}0", "+82 10 5550 0013 ext 5"])
        {
            assert_eq!(limits.textable(bad), Err(OrderError::PhoneNotE164), "{bad}");
        }
    }

    #[test]
    fn a_retry_is_the_same_request_only_from_the_same_kiosk() {
        let mut at_kiosk = place(request("americano", 1)).unwrap();
        at_kiosk.kiosk_id = Some("kiosk-a".into());
        let mut retried = at_kiosk.clone();
        retried.order_date = Utc::now();
        assert!(at_kiosk.is_same_request(&retried));
        retried.kiosk_id = Some("kiosk-b".into());
        assert!(!at_kiosk.is_same_request(&retried), "another kiosk");
        retried.kiosk_id = None;
        assert!(!at_kiosk.is_same_request(&retried), "no kiosk");
    }

    #[test]
    fn a_kiosk_is_named_within_limits() {
        let named = |name: &str| {
            Kiosk::register(
                KioskRequest {
                    kiosk_name: name.into(),
                },
                "kiosk-1".into(),
                Utc::now(),
            )
        };
        assert_eq!(named(" front door ").unwrap().kiosk_name, "front door");
        assert!(matches!(named(""), Err(Invalid::Field(_))));
        assert!(matches!(named(&"x".repeat(65)), Err(Invalid::Field(_))));
    }

    #[test]
    fn the_same_key_gives_the_same_order_id_per_customer() {
        assert_eq!(order_id_for_key("1", "k"), order_id_for_key("1", "k"));
        assert_ne!(order_id_for_key("1", "k"), order_id_for_key("2", "k"));
        assert_ne!(order_id_for_key("1", "k"), order_id_for_key("1", "k2"));
    }

    /// How long an order may take to be ready.
    const ALLOWED: Duration = Duration::from_secs(300);

    #[test]
    fn each_status_change_announces_its_event_once() {
        let pending = place(request("americano", 1)).unwrap();
        let mut cancelled = pending.clone();
        cancelled.order_status = OrderStatus::Cancelled;
        cancelled.reason = Some("there is no cup stock".into());
        let mut completed = pending.clone();
        completed.order_status = OrderStatus::Completed;
        let detail_type = |e: Option<CafeEvent>| e.map(|e| e.detail_type());

        assert_eq!(
            detail_type(event_for_change(None, Some(&pending), ALLOWED)),
            Some("OrderPlaced")
        );
        assert_eq!(
            detail_type(event_for_change(Some(&pending), Some(&cancelled), ALLOWED)),
            Some("OrderCancelled")
        );
        let mut making = pending.clone();
        making.order_status = OrderStatus::Making;
        match event_for_change(Some(&pending), Some(&making), ALLOWED) {
            Some(CafeEvent::OrderMaking(e)) => assert_eq!(e.deadline, Some(pending.order_date + ALLOWED)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            detail_type(event_for_change(Some(&making), Some(&completed), ALLOWED)),
            Some("OrderCompleted")
        );
        assert_eq!(
            detail_type(event_for_change(Some(&making), Some(&cancelled), ALLOWED)),
            Some("OrderCancelled")
        );
        assert_eq!(event_for_change(Some(&pending), Some(&pending), ALLOWED), None);
        assert_eq!(event_for_change(Some(&cancelled), Some(&cancelled), ALLOWED), None);
        assert_eq!(event_for_change(Some(&pending), None, ALLOWED), None);
        match event_for_change(Some(&pending), Some(&cancelled), ALLOWED) {
            Some(CafeEvent::OrderCancelled(e)) => assert_eq!(e.reason, "there is no cup stock"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_move_is_allowed_from_one_status_so_a_cancel_and_the_making_never_both_win() {
        let withdrawn = cancelled_by(false);
        assert_eq!(
            (withdrawn.from(), withdrawn.status()),
            (OrderStatus::Pending, OrderStatus::Cancelled)
        );
        assert_eq!(withdrawn.reason(), Some("cancelled at your request"));
        assert_eq!(
            (Outcome::Making.from(), Outcome::Making.status()),
            (OrderStatus::Pending, OrderStatus::Making)
        );
        let failed = Outcome::Failed {
            reason: "the machine ran out of milk".into(),
        };
        assert_eq!(
            (failed.from(), failed.status()),
            (OrderStatus::Making, OrderStatus::Cancelled)
        );
        assert_eq!(Outcome::Completed.from(), OrderStatus::Making);
        let mut order = place(request("americano", 1)).unwrap();
        order.order_status = OrderStatus::Making;
        assert_eq!(
            not_cancellable(&order).to_string(),
            "the order is being made: it can no longer be cancelled"
        );
    }

    #[test]
    fn orders_serialize_with_the_seeds_field_names() {
        let order = place(request("americano", 1)).unwrap();
        let json = serde_json::to_value(&order).unwrap();
        for field in [
            "orderId",
            "customerId",
            "beverageName",
            "beverageQty",
            "orderStatus",
            "orderDate",
        ] {
            assert!(json.get(field).is_some(), "{field}");
        }
        assert_eq!(json["orderStatus"], "pending");
    }

    #[test]
    fn only_a_kiosk_order_is_refused_a_phone_number_up_front() {
        let kiosk = PlacedBy::Kiosk(KioskClaim {
            kiosk_id: "kiosk-1".into(),
            secret_hash: "h".into(),
        });
        assert_eq!(
            kiosk.check_phone(Some("+821012345678")),
            Err(OrderError::PhoneNotProven)
        );
        assert!(kiosk.check_phone(None).is_ok());
        // The customer's proof is checked in the order's transaction; the operator is trusted.
        assert!(PlacedBy::Customer.check_phone(Some("+821012345678")).is_ok());
        assert!(PlacedBy::Operator.check_phone(Some("+821012345678")).is_ok());
    }
}
