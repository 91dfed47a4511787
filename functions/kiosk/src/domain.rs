//! The kiosk's view of an order, folded from the saga's events, with no I/O.
//!
//! Each event fills its own step of the order's timeline, once: events may arrive late,
//! twice or out of order, and the view comes out the same.

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use cafe_shared::checks::Invalid;
use cafe_shared::events::{CafeEvent, OrderLine, PaymentAuthorized};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One step of an order's timeline: which event, when, and what it means for the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineStep {
    pub event: String,
    pub at: DateTime<Utc>,
    pub summary: String,
}

/// The read model of one order, as the kiosk shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KioskOrder {
    pub order_id: String,
    pub customer_id: String,
    pub beverage_name: String,
    pub beverage_qty: u32,
    /// Each beverage and how many, on an order of several lines (see
    /// [`lines_of`](cafe_shared::events::lines_of)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<OrderLine>,
    /// What the customer pays for it, in `currency`'s minor units; none when nothing is charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub order_date: DateTime<Utc>,
    /// What the cafe calls the order by (#1, #2, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<u32>,
    pub order_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    /// Whether a page watches it live (what its saga step needs to know, not the customer).
    #[serde(default, skip_serializing)]
    pub watched: bool,
    /// Whether the day at a glance counted its outcome (see `day::ended`).
    #[serde(default, skip_serializing)]
    pub counted: bool,
    pub timeline: Vec<TimelineStep>,
}

fn plural(qty: u32, noun: &str) -> String {
    format!("{qty} {noun}{}", if qty == 1 { "" } else { "s" })
}

/// The timeline step an event makes.
pub fn step_of(event: &CafeEvent, at: DateTime<Utc>) -> TimelineStep {
    let summary = match event {
        CafeEvent::OrderPlaced(e) => format!("Ordered {}", e.order.beverages()),
        CafeEvent::PaymentAuthorized(e) => match e.amount_held {
            0 => "Nothing to pay".to_string(),
            held => format!("{} held on the card", money(held, payment_currency(e))),
        },
        CafeEvent::PaymentDeclined(e) => format!("Payment declined: {}", e.reason),
        CafeEvent::PaymentCaptured(e) => format!("{} charged", money(e.amount, &e.currency)),
        CafeEvent::PaymentReleased(e) => format!("{} released: nothing was charged", money(e.amount, &e.currency)),
        CafeEvent::PaymentRefunded(e) => format!("{} refunded", money(e.amount, &e.currency)),
        CafeEvent::CupStockDecreased(e) => format!("{} reserved", plural(e.cups_reserved, &e.stock_name)),
        CafeEvent::CupOutOfStock(e) => format!("Out of stock: {}", e.reason),
        CafeEvent::MakingRequested(_) => "The machine is ready for it".to_string(),
        CafeEvent::OrderMaking(_) => "Being made: it can no longer be cancelled".to_string(),
        CafeEvent::OrderDeadlineReached(_) => "Its deadline came".to_string(),
        CafeEvent::OrderCancelled(e) => format!("Order cancelled: {}", e.reason),
        CafeEvent::BeverageMade(e) => format!("{} made", e.order.beverages()),
        CafeEvent::BeverageFailed(e) => format!("Could not be made: {}", e.reason),
        CafeEvent::CupsReleased(e) => format!("{} back in stock", plural(e.cups_released, &e.stock_name)),
        CafeEvent::OrderCompleted(_) => "Order completed".to_string(),
        CafeEvent::CustomerNotified(e) => format!("Customer notified: {}", e.message),
    };
    TimelineStep {
        event: event.detail_type().to_string(),
        at,
        summary,
    }
}

fn payment_currency(authorized: &PaymentAuthorized) -> &str {
    (authorized.placed.payment.as_ref()).map_or("", |due| due.currency.as_str())
}

/// Currencies with no minor unit, as card networks count them (Stripe's list): an amount in
/// them is whole units; in any other, hundredths.
const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
];

/// An amount in `currency`'s minor units as a customer reads it: `7,000 KRW`, `3.50 USD`.
pub fn money(amount: u64, currency: &str) -> String {
    let grouped = |whole: u64| {
        let digits = whole.to_string();
        let mut out = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(digit);
        }
        out
    };
    match ZERO_DECIMAL.contains(&currency) {
        true => format!("{} {currency}", grouped(amount)),
        false => format!("{}.{:02} {currency}", grouped(amount / 100), amount % 100),
    }
}

/// When an order was placed, as far as this event tells: the order date itself, or the
/// event's time until `OrderPlaced` arrives.
pub fn order_date_of(event: &CafeEvent, at: DateTime<Utc>) -> DateTime<Utc> {
    match event {
        CafeEvent::OrderPlaced(e) => e.order_date,
        _ => at,
    }
}

/// What an event adds beyond its step: the reason of a cancellation, the notification text.
pub fn reason_of(event: &CafeEvent) -> Option<&str> {
    match event {
        CafeEvent::CupOutOfStock(e) => Some(&e.reason),
        CafeEvent::BeverageFailed(e) => Some(&e.reason),
        CafeEvent::OrderCancelled(e) => Some(&e.reason),
        _ => None,
    }
}

pub fn notification_of(event: &CafeEvent) -> Option<&str> {
    match event {
        CafeEvent::CustomerNotified(e) => Some(&e.message),
        _ => None,
    }
}

/// Where an event stands in the saga. The bus stamps events to the second, so steps that
/// happen within one second are ordered by the saga's own causality instead.
pub fn saga_position(event: &str) -> u8 {
    match event {
        "OrderPlaced" => 0,
        "PaymentAuthorized" | "PaymentDeclined" => 1,
        "CupStockDecreased" | "CupOutOfStock" => 2,
        "MakingRequested" => 3,
        "OrderMaking" => 4,
        "PaymentCaptured" => 5,
        "BeverageMade" | "BeverageFailed" => 6,
        "OrderCancelled" | "OrderCompleted" => 7,
        "CupsReleased" | "PaymentReleased" | "PaymentRefunded" => 8,
        _ => 9,
    }
}

/// The status the steps seen so far add up to, whatever order they arrived in.
pub fn status_of(steps: &[TimelineStep]) -> &'static str {
    let seen = |name: &str| steps.iter().any(|s| s.event == name);
    if seen("OrderCancelled") || seen("CupOutOfStock") || seen("BeverageFailed") || seen("PaymentDeclined") {
        "cancelled"
    } else if seen("OrderCompleted") {
        "completed"
    } else if seen("OrderMaking") || seen("BeverageMade") {
        "making"
    } else {
        "pending"
    }
}

/// How long a completed order shows on the pickup screen as ready to pick up.
pub const READY_SHOWN_FOR: chrono::Duration = chrono::Duration::minutes(10);

/// Where an order stands on the pickup screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BoardStatus {
    /// The machine is making it.
    Making,
    /// Made: the customer picks it up.
    Ready,
    /// Not on the screen: pending, cancelled, or ready long enough ago.
    Gone,
}

/// One order on the pickup screen: its number and what it is, nothing about who ordered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardOrder {
    pub order_number: u32,
    pub beverage_name: String,
    pub beverage_qty: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<OrderLine>,
    pub status: BoardStatus,
}

/// The pickup screen (`GET /display`): orders being made and orders ready, by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Board {
    pub making: Vec<BoardOrder>,
    pub ready: Vec<BoardOrder>,
}

/// Where a numbered order stands on the pickup screen at `now` (none without a number).
pub fn board_order(view: &KioskOrder, now: DateTime<Utc>) -> Option<BoardOrder> {
    let completed_at = view.timeline.iter().find(|s| s.event == "OrderCompleted").map(|s| s.at);
    let status = match (view.order_status.as_str(), completed_at) {
        ("making", _) => BoardStatus::Making,
        ("completed", Some(at)) if now - at < READY_SHOWN_FOR => BoardStatus::Ready,
        _ => BoardStatus::Gone,
    };
    Some(BoardOrder {
        order_number: view.order_number?,
        beverage_name: view.beverage_name.clone(),
        beverage_qty: view.beverage_qty,
        // What it is, not what it cost.
        lines: (view.lines.iter())
            .map(|line| OrderLine {
                unit_price: None,
                ..line.clone()
            })
            .collect(),
        status,
    })
}

/// The pickup screen made of these orders' views, each list by number.
pub fn board_of(views: &[KioskOrder], now: DateTime<Utc>) -> Board {
    let mut board = Board::default();
    for order in views.iter().filter_map(|view| board_order(view, now)) {
        match order.status {
            BoardStatus::Making => board.making.push(order),
            BoardStatus::Ready => board.ready.push(order),
            BoardStatus::Gone => {}
        }
    }
    board.making.sort_by_key(|o| o.order_number);
    board.ready.sort_by_key(|o| o.order_number);
    board
}

/// Whether an event can move its order on the pickup screen (the rest only add to its timeline).
pub fn moves_on_board(event: &CafeEvent) -> bool {
    matches!(
        event,
        CafeEvent::OrderMaking(_)
            | CafeEvent::BeverageMade(_)
            | CafeEvent::OrderCompleted(_)
            | CafeEvent::OrderCancelled(_)
            | CafeEvent::BeverageFailed(_)
    )
}

/// What a page watches live: the pickup screen, or one order (with a credential that may see it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    Board,
    Order(String),
}

impl Watch {
    /// The key its watchers are kept under.
    pub fn topic(&self) -> String {
        match self {
            Watch::Board => "board".to_string(),
            Watch::Order(order_id) => format!("order#{order_id}"),
        }
    }
}

/// A page's `watch` message on the live connection: `{"action":"watch","board":true}`, or
/// `{"action":"watch","orderId":"…","token":"…"}` with the order's receipt or its customer's (or
/// the operator's) token; a browser's WebSocket sends no Authorization header.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WatchRequest {
    pub action: String,
    #[serde(default)]
    pub board: bool,
    pub order_id: Option<String>,
    pub token: Option<String>,
}

impl WatchRequest {
    /// What the message asks to watch, with the token for an order.
    pub fn watch(&self) -> Result<(Watch, Option<&str>), Invalid> {
        match (self.board, &self.order_id, &self.token) {
            (true, None, None) => Ok((Watch::Board, None)),
            (false, Some(order_id), Some(token)) => {
                cafe_shared::checks::check_id("orderId", order_id, cafe_shared::http::MAX_ID_CHARS)?;
                Ok((Watch::Order(order_id.clone()), Some(token)))
            }
            _ => Err(Invalid::Field(
                "watch either the board (\"board\": true) or one order (\"orderId\" and the \"token\" that may see it)"
                    .into(),
            )),
        }
    }
}

/// What a live connection is sent: the order it watches as it is now, the whole board, one order's
/// move on the board, or why a `watch` message was refused.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum LiveUpdate {
    Order { order: KioskOrder },
    Board { board: Board },
    BoardMove { order: BoardOrder },
    Refused { error: Refusal },
}

/// Why a live connection's message was refused, as the HTTP API's errors say it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

/// A page's link that carries a credential in its fragment (which browsers never send to a
/// server), and that link as a QR code for a screen to show: a receipt for a customer's phone, a
/// kiosk token for a new kiosk's screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageLink {
    pub link: String,
    /// An SVG image, as a `data:` URL an `<img>` shows.
    pub qr_code: String,
}

/// The longest page address a caller may give.
const MAX_PAGE_CHARS: usize = 512;

/// Where a customer's phone follows one order: `page` is the receipt page's address as the kiosk
/// reaches it.
pub fn receipt_link(page: &str, receipt: &str) -> Result<PageLink, Invalid> {
    page_link(page, "the receipt page", "r", receipt)
}

/// What a new kiosk's screen opens to become that kiosk: `page` is the kiosk page's address as the
/// operator reaches it.
pub fn kiosk_link(page: &str, kiosk_token: &str) -> Result<PageLink, Invalid> {
    page_link(page, "the kiosk page", "kiosk", kiosk_token)
}

/// `page` (an http(s) address with no fragment of its own) with `#key=credential`.
fn page_link(page: &str, which: &str, key: &str, credential: &str) -> Result<PageLink, Invalid> {
    let well_formed = (page.starts_with("https://") || page.starts_with("http://"))
        && page.len() <= MAX_PAGE_CHARS
        && page
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '#' | '"' | '<' | '>' | '\\'));
    if !well_formed {
        return Err(Invalid::Field(format!(
            "page must be {which}'s http(s) address, without a fragment, at most {MAX_PAGE_CHARS} characters"
        )));
    }
    let link = format!("{page}#{key}={credential}");
    let code = qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Invalid::Field(format!("the link does not fit a QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok(PageLink {
        qr_code: format!("data:image/svg+xml;base64,{}", B64.encode(svg)),
        link,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafe_shared::events::{OrderCompleted, OrderSummary};

    fn step(event: &str, second: u32) -> TimelineStep {
        TimelineStep {
            event: event.into(),
            at: format!("2026-11-25T01:00:{second:02}Z").parse().unwrap(),
            summary: String::new(),
        }
    }

    #[test]
    fn status_follows_the_outcome_in_any_arrival_order() {
        assert_eq!(status_of(&[step("OrderPlaced", 0)]), "pending");
        assert_eq!(
            status_of(&[step("OrderCompleted", 3), step("OrderPlaced", 0)]),
            "completed"
        );
        assert_eq!(status_of(&[step("CupOutOfStock", 1)]), "cancelled");
    }

    #[test]
    fn timeline_order_follows_the_saga() {
        let mut events = [
            "CustomerNotified",
            "PaymentCaptured",
            "BeverageMade",
            "OrderCompleted",
            "OrderPlaced",
            "CupStockDecreased",
            "PaymentAuthorized",
        ];
        events.sort_by_key(|e| saga_position(e));
        assert_eq!(
            events,
            [
                "OrderPlaced",
                "PaymentAuthorized",
                "CupStockDecreased",
                "PaymentCaptured",
                "BeverageMade",
                "OrderCompleted",
                "CustomerNotified"
            ]
        );
    }

    #[test]
    fn money_reads_in_the_currency_s_own_units() {
        assert_eq!(money(7000, "KRW"), "7,000 KRW");
        assert_eq!(money(1234567, "JPY"), "1,234,567 JPY");
        assert_eq!(money(350, "USD"), "3.50 USD");
        assert_eq!(money(123456705, "EUR"), "1,234,567.05 EUR");
        assert_eq!(money(0, "KRW"), "0 KRW");
    }

    #[test]
    fn a_declined_payment_ends_the_order_cancelled() {
        assert_eq!(status_of(&[step("PaymentDeclined", 1)]), "cancelled");
    }

    #[test]
    fn steps_read_as_the_customer_would_say_them() {
        let order = OrderSummary {
            order_id: "o".into(),
            customer_id: "2".into(),
            beverage_name: "iced-tea".into(),
            beverage_qty: 1,
            phone_number: None,
            order_number: None,
            lines: Vec::new(),
        };
        let s = step_of(&CafeEvent::OrderCompleted(OrderCompleted { order }), Utc::now());
        assert_eq!(
            (s.event.as_str(), s.summary.as_str()),
            ("OrderCompleted", "Order completed")
        );
    }

    #[test]
    fn a_receipt_link_carries_the_receipt_in_its_fragment_and_as_a_qr_code() {
        let link = receipt_link("http://127.0.0.1:4566/_aws/execute-api/a1/prod/receipt", "r1.o.9.sig").unwrap();
        assert_eq!(
            link.link,
            "http://127.0.0.1:4566/_aws/execute-api/a1/prod/receipt#r=r1.o.9.sig"
        );
        let svg = B64
            .decode(link.qr_code.strip_prefix("data:image/svg+xml;base64,").unwrap())
            .unwrap();
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
        for bad in [
            "",
            "javascript:alert(1)",
            "ftp://x/receipt",
            "http://x/receipt#r=other",
            "http://x/a b",
            "http://x/\"><script>",
        ] {
            assert!(
                matches!(receipt_link(bad, "r1.o.9.sig"), Err(Invalid::Field(_))),
                "{bad}"
            );
        }
        let long = format!("https://x/{}", "a".repeat(MAX_PAGE_CHARS));
        assert!(receipt_link(&long, "r1.o.9.sig").is_err());
    }

    #[test]
    fn a_kiosk_link_carries_the_kiosk_token_in_its_fragment_and_as_a_qr_code() {
        let link = kiosk_link("https://cafe.example/prod/", "k1.kiosk-1.secret").unwrap();
        assert_eq!(link.link, "https://cafe.example/prod/#kiosk=k1.kiosk-1.secret");
        assert!(link.qr_code.starts_with("data:image/svg+xml;base64,"));
        let refused = kiosk_link("https://cafe.example/prod/#r=x", "k1.kiosk-1.secret").unwrap_err();
        assert!(
            matches!(&refused, Invalid::Field(m) if m.contains("the kiosk page")),
            "{refused:?}"
        );
    }
}
