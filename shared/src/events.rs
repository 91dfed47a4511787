//! The saga's events. Each is published on the `cafe` bus with its variant name as the
//! EventBridge `detail-type` and its fields (camelCase) as the `detail`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What every event says about the order it belongs to, so each step has what it needs
/// without asking another function (choreography: data travels with the events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    pub order_id: String,
    pub customer_id: String,
    /// The beverage ordered (an order of several lines: its first line's).
    pub beverage_name: String,
    /// How many beverages the order holds, over all its lines (one cup each).
    pub beverage_qty: u32,
    /// Each beverage and how many of it, on an order of more than one line (a cart); absent from
    /// a one-line order, which `beverageName` and `beverageQty` say in full. Read through
    /// [`OrderSummary::lines`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The short number the cafe calls the order by, counted from 1 each day (none for orders
    /// placed before the cafe numbered them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<u32>,
}

/// One line of an order: a beverage and how many of it, at the price one cost when it was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub beverage_name: String,
    pub beverage_qty: u32,
    /// In the cafe's currency's minor units; none when the order was not priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<u32>,
}

/// An order's lines as every record of it keeps them: a cart's `lines`, or none and the one
/// line its `beverageName` and `beverageQty` say.
pub fn lines_of(lines: &[OrderLine], beverage_name: &str, beverage_qty: u32) -> Vec<OrderLine> {
    match lines.is_empty() {
        true => vec![OrderLine {
            beverage_name: beverage_name.to_string(),
            beverage_qty,
            unit_price: None,
        }],
        false => lines.to_vec(),
    }
}

impl OrderSummary {
    /// The order's lines: its cart's, or the one line of a one-line order.
    pub fn lines(&self) -> Vec<OrderLine> {
        lines_of(&self.lines, &self.beverage_name, self.beverage_qty)
    }

    /// What the order holds, as a customer reads it: `1 latte`, `2 lattes and 1 americano`.
    pub fn beverages(&self) -> String {
        let lines: Vec<String> = (self.lines().iter())
            .map(|line| {
                let plural = if line.beverage_qty == 1 { "" } else { "s" };
                format!("{} {}{plural}", line.beverage_qty, line.beverage_name)
            })
            .collect();
        match lines.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPlaced {
    #[serde(flatten)]
    pub order: OrderSummary,
    /// The stock item one beverage of this kind uses (one per beverage), from the menu.
    pub stock_name: String,
    pub order_date: DateTime<Utc>,
    /// What the customer pays and with what; none when nothing is charged (a free order, or one
    /// the operator placed without a card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentDue>,
}

/// What an order costs and the card its customer pays with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDue {
    /// In `currency`'s minor units (ISO 4217), more than zero.
    pub amount: u64,
    /// ISO 4217, e.g. `KRW`.
    pub currency: String,
    /// The card, as the payment provider's id of it (Stripe's `pm_...`): the kiosk took the card
    /// through the provider's own form, so no card number reaches the cafe.
    pub payment_method: String,
}

/// The order's money is held (or there is nothing to charge, `amountHeld` 0): the cafe may now
/// reserve its cups. Carries the order as placed, so the next step needs nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAuthorized {
    #[serde(flatten)]
    pub placed: OrderPlaced,
    pub amount_held: u64,
}

/// The card was declined: the order is cancelled, and nothing was reserved for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDeclined {
    #[serde(flatten)]
    pub order: OrderSummary,
    /// Why, in words for the customer.
    pub reason: String,
}

/// An order's money moved: taken when it passed its point of no return (`PaymentCaptured`), or
/// for a cancelled order the hold let go (`PaymentReleased`: nothing was taken) or the money
/// taken given back (`PaymentRefunded`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMoved {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub amount: u64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CupStockDecreased {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub stock_name: String,
    pub cups_reserved: u32,
    /// The stock item's cups as read right after the reservation, for the operator's alerts;
    /// absent when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cups_left: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CupOutOfStock {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub stock_name: String,
    pub cups_requested: u32,
    /// Cups in stock when the reservation failed; `None` when there is no such stock item at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cups_available: Option<u32>,
    pub reason: String,
}

/// The order was cancelled (out of cups, by the customer, or the machine could not make it):
/// whatever cups it reserved go back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    #[serde(flatten)]
    pub order: OrderSummary,
    /// The stock item its cups came from.
    pub stock_name: String,
    pub reason: String,
}

/// The machine has the order's cups and is ready to make it: it asks the order function, which
/// holds the order's lock, whether it may (the order may have been cancelled meanwhile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MakingRequested {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub stock_name: String,
}

/// An order's deadline came (`OrderDeadlineSeconds` after it was placed). A timer, not a bus
/// event: the order outbox sends it to the order function's own queue with that delay. A pending
/// order is then cancelled; one being made or finished changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDeadlineReached {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub deadline: DateTime<Utc>,
}

/// The order passed its point of no return: the machine makes it now, and it can no longer be
/// cancelled by the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderMaking {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub stock_name: String,
    /// When the order must be ready by: past it the machine no longer starts the order (its
    /// customer has been told it was not ready in time). Absent from an event an earlier version
    /// published while it was being deployed: then there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
}

/// Why an order not ready by its deadline is cancelled, whichever step gives up on it (the order
/// function while it is pending, the machine once it is being made), for the customer to read.
pub const NOT_READY_IN_TIME: &str = "it was not ready in time";

/// Why an order is cancelled while the machine is out of service, for the customer to read.
pub const MACHINE_OUT_OF_ORDER: &str = "the beverage machine is out of order";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BeverageMade {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub beverage_id: String,
    pub made_at: DateTime<Utc>,
    /// The machine's metered ingredients as read before making it, less what it took, for the
    /// operator's alerts; empty when not read (a redelivery announces the recorded beverage again).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub ingredients_left: std::collections::BTreeMap<String, u32>,
}

/// The machine could not make an order's beverages (too few of an ingredient, or out of order):
/// the order is cancelled, and its cups go back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BeverageFailed {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub beverage_id: String,
    /// Why, in words for the customer.
    pub reason: String,
    pub failed_at: DateTime<Utc>,
}

/// The cups a cancelled order reserved are back in stock (the compensation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CupsReleased {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub stock_name: String,
    pub cups_released: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCompleted {
    #[serde(flatten)]
    pub order: OrderSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerNotified {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub notification_id: String,
    pub order_status: String,
    pub message: String,
}

/// Every event of the saga, tagged as EventBridge tags it: `detail-type` names the variant,
/// `detail` holds its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "detail-type", content = "detail")]
pub enum CafeEvent {
    OrderPlaced(OrderPlaced),
    PaymentAuthorized(PaymentAuthorized),
    PaymentDeclined(PaymentDeclined),
    PaymentCaptured(PaymentMoved),
    PaymentReleased(PaymentMoved),
    PaymentRefunded(PaymentMoved),
    CupStockDecreased(CupStockDecreased),
    CupOutOfStock(CupOutOfStock),
    MakingRequested(MakingRequested),
    OrderMaking(OrderMaking),
    OrderDeadlineReached(OrderDeadlineReached),
    OrderCancelled(OrderCancelled),
    BeverageMade(BeverageMade),
    BeverageFailed(BeverageFailed),
    CupsReleased(CupsReleased),
    OrderCompleted(OrderCompleted),
    CustomerNotified(CustomerNotified),
}

impl CafeEvent {
    pub fn detail_type(&self) -> &'static str {
        match self {
            CafeEvent::OrderPlaced(_) => "OrderPlaced",
            CafeEvent::PaymentAuthorized(_) => "PaymentAuthorized",
            CafeEvent::PaymentDeclined(_) => "PaymentDeclined",
            CafeEvent::PaymentCaptured(_) => "PaymentCaptured",
            CafeEvent::PaymentReleased(_) => "PaymentReleased",
            CafeEvent::PaymentRefunded(_) => "PaymentRefunded",
            CafeEvent::CupStockDecreased(_) => "CupStockDecreased",
            CafeEvent::CupOutOfStock(_) => "CupOutOfStock",
            CafeEvent::MakingRequested(_) => "MakingRequested",
            CafeEvent::OrderMaking(_) => "OrderMaking",
            CafeEvent::OrderDeadlineReached(_) => "OrderDeadlineReached",
            CafeEvent::OrderCancelled(_) => "OrderCancelled",
            CafeEvent::BeverageMade(_) => "BeverageMade",
            CafeEvent::BeverageFailed(_) => "BeverageFailed",
            CafeEvent::CupsReleased(_) => "CupsReleased",
            CafeEvent::OrderCompleted(_) => "OrderCompleted",
            CafeEvent::CustomerNotified(_) => "CustomerNotified",
        }
    }

    pub fn order(&self) -> &OrderSummary {
        match self {
            CafeEvent::OrderPlaced(e) => &e.order,
            CafeEvent::PaymentAuthorized(e) => &e.placed.order,
            CafeEvent::PaymentDeclined(e) => &e.order,
            CafeEvent::PaymentCaptured(e) => &e.order,
            CafeEvent::PaymentReleased(e) => &e.order,
            CafeEvent::PaymentRefunded(e) => &e.order,
            CafeEvent::CupStockDecreased(e) => &e.order,
            CafeEvent::CupOutOfStock(e) => &e.order,
            CafeEvent::MakingRequested(e) => &e.order,
            CafeEvent::OrderMaking(e) => &e.order,
            CafeEvent::OrderDeadlineReached(e) => &e.order,
            CafeEvent::OrderCancelled(e) => &e.order,
            CafeEvent::BeverageMade(e) => &e.order,
            CafeEvent::BeverageFailed(e) => &e.order,
            CafeEvent::CupsReleased(e) => &e.order,
            CafeEvent::OrderCompleted(e) => &e.order,
            CafeEvent::CustomerNotified(e) => &e.order,
        }
    }

    /// The event's fields alone, as EventBridge's `Detail` string.
    pub fn detail_json(&self) -> String {
        let tagged = serde_json::to_value(self).expect("events always serialize");
        tagged["detail"].to_string()
    }
}

/// An event as the bus delivers it (the EventBridge envelope, e.g. the body of an SQS message).
#[derive(Debug, Clone, Deserialize)]
pub struct BusMessage {
    pub id: String,
    pub source: String,
    pub time: DateTime<Utc>,
    #[serde(flatten)]
    pub event: CafeEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> OrderSummary {
        OrderSummary {
            order_id: "o-1".into(),
            customer_id: "1".into(),
            beverage_name: "americano".into(),
            beverage_qty: 11,
            phone_number: None,
            order_number: None,
            lines: Vec::new(),
        }
    }

    #[test]
    fn a_bus_message_decodes_from_an_eventbridge_envelope() {
        let body = r#"{"version":"0","id":"e-1","detail-type":"CupOutOfStock","source":"cafe.inventory",
            "account":"000000000000","time":"2026-11-25T01:00:00Z","region":"us-east-1","resources":[],
            "detail":{"orderId":"o-1","customerId":"1","beverageName":"americano","beverageQty":11,
            "stockName":"cup","cupsRequested":11,"cupsAvailable":10,"reason":"not enough cups for 11 beverages"}}"#;
        let msg: BusMessage = serde_json::from_str(body).unwrap();
        assert_eq!(msg.id, "e-1");
        assert_eq!(msg.source, "cafe.inventory");
        assert_eq!(
            msg.event,
            CafeEvent::CupOutOfStock(CupOutOfStock {
                order: order(),
                stock_name: "cup".into(),
                cups_requested: 11,
                cups_available: Some(10),
                reason: "not enough cups for 11 beverages".into(),
            })
        );
    }

    #[test]
    fn detail_json_is_the_flat_camel_case_detail() {
        let event = CafeEvent::OrderCompleted(OrderCompleted { order: order() });
        let detail: serde_json::Value = serde_json::from_str(&event.detail_json()).unwrap();
        assert_eq!(detail["orderId"], "o-1");
        assert_eq!(detail["beverageQty"], 11);
        assert!(detail.get("phoneNumber").is_none());
        assert_eq!(event.detail_type(), "OrderCompleted");
    }

    #[test]
    fn an_order_says_its_beverages_line_by_line_and_a_one_line_order_reads_as_before() {
        let line = |name: &str, qty| OrderLine {
            beverage_name: name.into(),
            beverage_qty: qty,
            unit_price: Some(3000),
        };
        assert_eq!(order().beverages(), "11 americanos");
        assert_eq!(
            order().lines(),
            [OrderLine {
                unit_price: None,
                ..line("americano", 11)
            }]
        );
        let cart = OrderSummary {
            lines: vec![line("latte", 2), line("americano", 1), line("iced-tea", 3)],
            beverage_qty: 6,
            ..order()
        };
        assert_eq!(cart.beverages(), "2 lattes, 1 americano and 3 iced-teas");
        let two = OrderSummary {
            lines: cart.lines[..2].to_vec(),
            ..cart.clone()
        };
        assert_eq!(two.beverages(), "2 lattes and 1 americano");
        // On the wire a one-line order has no lines; a cart has them, each with its price.
        let one: serde_json::Value = serde_json::to_value(order()).unwrap();
        assert!(one.get("lines").is_none(), "{one}");
        let json = serde_json::to_value(&cart).unwrap();
        assert_eq!(
            json["lines"][0],
            serde_json::json!({"beverageName": "latte", "beverageQty": 2, "unitPrice": 3000})
        );
        assert_eq!(serde_json::from_value::<OrderSummary>(json).unwrap(), cart);
    }

    #[test]
    fn an_unknown_detail_type_is_rejected() {
        let body = r#"{"id":"e","source":"x","time":"2026-11-25T01:00:00Z","detail-type":"Nope","detail":{}}"#;
        assert!(serde_json::from_str::<BusMessage>(body).is_err());
    }

    #[test]
    fn every_sample_sqs_event_in_events_folder_carries_a_cafe_event() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let sample: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let Some(records) = sample["Records"].as_array() else {
                continue;
            };
            for record in records {
                let message: BusMessage = serde_json::from_str(record["body"].as_str().unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen.push(message.event.detail_type());
            }
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                "BeverageFailed",
                "BeverageMade",
                "CupOutOfStock",
                "CupStockDecreased",
                "CupsReleased",
                "CustomerNotified",
                "MakingRequested",
                "OrderCancelled",
                "OrderCompleted",
                "OrderDeadlineReached",
                "OrderMaking",
                "OrderPlaced",
                "PaymentAuthorized"
            ]
        );
    }
}
