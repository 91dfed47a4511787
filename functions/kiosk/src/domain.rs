//! The kiosk's view of an order, folded from the saga's events, with no I/O.
//!
//! Each event fills its own step of the order's timeline, once: events may arrive late,
//! twice or out of order, and the view comes out the same.

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use cafe_shared::checks::Invalid;
use cafe_shared::events::CafeEvent;
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
    pub order_date: DateTime<Utc>,
    /// What the cafe calls the order by (#1, #2, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<u32>,
    pub order_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    pub timeline: Vec<TimelineStep>,
}

fn plural(qty: u32, noun: &str) -> String {
    format!("{qty} {noun}{}", if qty == 1 { "" } else { "s" })
}

/// The timeline step an event makes.
pub fn step_of(event: &CafeEvent, at: DateTime<Utc>) -> TimelineStep {
    let summary = match event {
        CafeEvent::OrderPlaced(e) => format!("Ordered {}", plural(e.order.beverage_qty, &e.order.beverage_name)),
        CafeEvent::CupStockDecreased(e) => format!("{} reserved", plural(e.cups_reserved, &e.stock_name)),
        CafeEvent::CupOutOfStock(e) => format!("Out of stock: {}", e.reason),
        CafeEvent::MakingRequested(_) => "The machine is ready for it".to_string(),
        CafeEvent::OrderMaking(_) => "Being made: it can no longer be cancelled".to_string(),
        CafeEvent::OrderDeadlineReached(_) => "Its deadline came".to_string(),
        CafeEvent::OrderCancelled(e) => format!("Order cancelled: {}", e.reason),
        CafeEvent::BeverageMade(e) => format!("{} made", plural(e.order.beverage_qty, &e.order.beverage_name)),
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
        "CupStockDecreased" | "CupOutOfStock" => 1,
        "MakingRequested" => 2,
        "OrderMaking" => 3,
        "BeverageMade" | "BeverageFailed" => 4,
        "OrderCancelled" | "OrderCompleted" => 5,
        "CupsReleased" => 6,
        _ => 7,
    }
}

/// The status the steps seen so far add up to, whatever order they arrived in.
pub fn status_of(steps: &[TimelineStep]) -> &'static str {
    let seen = |name: &str| steps.iter().any(|s| s.event == name);
    if seen("OrderCancelled") || seen("CupOutOfStock") || seen("BeverageFailed") {
        "cancelled"
    } else if seen("OrderCompleted") {
        "completed"
    } else if seen("OrderMaking") || seen("BeverageMade") {
        "making"
    } else {
        "pending"
    }
}

/// Where a customer's phone follows one order: the receipt page with the receipt in the link's
/// fragment (which browsers never send to a server), and that link as a QR code for the kiosk's
/// screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptLink {
    pub link: String,
    /// An SVG image, as a `data:` URL an `<img>` shows.
    pub qr_code: String,
}

/// The longest receipt page address a kiosk may give.
const MAX_PAGE_CHARS: usize = 512;

/// The receipt link for `page`, the receipt page's address as the kiosk reaches it: an http(s)
/// address with no fragment of its own.
pub fn receipt_link(page: &str, receipt: &str) -> Result<ReceiptLink, Invalid> {
    let well_formed = (page.starts_with("https://") || page.starts_with("http://"))
        && page.len() <= MAX_PAGE_CHARS
        && page
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '#' | '"' | '<' | '>' | '\\'));
    if !well_formed {
        return Err(Invalid::Field(format!(
            "page must be the receipt page's http(s) address, without a fragment, at most {MAX_PAGE_CHARS} characters"
        )));
    }
    let link = format!("{page}#r={receipt}");
    let code = qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Invalid::Field(format!("the link does not fit a QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok(ReceiptLink {
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
            "BeverageMade",
            "OrderCompleted",
            "OrderPlaced",
            "CupStockDecreased",
        ];
        events.sort_by_key(|e| saga_position(e));
        assert_eq!(
            events,
            [
                "OrderPlaced",
                "CupStockDecreased",
                "BeverageMade",
                "OrderCompleted",
                "CustomerNotified"
            ]
        );
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
}
