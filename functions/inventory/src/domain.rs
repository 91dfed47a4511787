//! Stock items and cup reservations: the rules, with no I/O.

use cafe_shared::checks::{Invalid, check_level, check_name};
use cafe_shared::events::{CafeEvent, CupOutOfStock, CupStockDecreased, CupsReleased, OrderCancelled, OrderPlaced};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most of one item the cafe can hold.
pub const MAX_STOCK_QTY: i64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockItem {
    pub stock_name: String,
    pub qty: u32,
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /inventories`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewStockItem {
    pub stock_name: String,
    pub qty: i64,
}

/// The body of `PUT /inventories/{stockName}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restock {
    pub qty: i64,
}

pub fn check_stock_name(name: &str) -> Result<(), Invalid> {
    check_name("stockName", name)
}

pub fn check_qty(qty: i64) -> Result<u32, Invalid> {
    check_level(qty, MAX_STOCK_QTY)
}

/// What was decided for one order's cups; stored, so a redelivered `OrderPlaced` is answered
/// with the same outcome even if the stock changed since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Reservation {
    #[serde(rename_all = "camelCase")]
    Reserved { cups: u32 },
    #[serde(rename_all = "camelCase")]
    OutOfStock {
        cups_requested: u32,
        cups_available: Option<u32>,
        reason: String,
    },
    /// The order was cancelled before its cups were decided: it gets none, however late its
    /// `OrderPlaced` arrives.
    Withdrawn,
}

impl Reservation {
    /// Not enough cups: `available` is the stock level, or `None` when the item does not exist.
    /// The reason reaches the customer (the order, the notification, an SMS), so it never tells
    /// the stock level; the event's `cupsAvailable` keeps it for the operator.
    pub fn out_of_stock(stock_name: &str, requested: u32, available: Option<u32>) -> Self {
        let reason = match available {
            None => format!("there is no {stock_name} stock"),
            Some(0) => format!("{stock_name}s are sold out"),
            Some(_) => format!("not enough {stock_name}s for {requested} beverages"),
        };
        Reservation::OutOfStock {
            cups_requested: requested,
            cups_available: available,
            reason,
        }
    }

    /// The event that tells the saga this outcome; none for a withdrawn order (its saga is over).
    pub fn event(&self, placed: &OrderPlaced) -> Option<CafeEvent> {
        Some(match self {
            Reservation::Reserved { cups } => CafeEvent::CupStockDecreased(CupStockDecreased {
                order: placed.order.clone(),
                stock_name: placed.stock_name.clone(),
                cups_reserved: *cups,
                cups_left: None,
            }),
            Reservation::OutOfStock {
                cups_requested,
                cups_available,
                reason,
            } => CafeEvent::CupOutOfStock(CupOutOfStock {
                order: placed.order.clone(),
                stock_name: placed.stock_name.clone(),
                cups_requested: *cups_requested,
                cups_available: *cups_available,
                reason: reason.clone(),
            }),
            Reservation::Withdrawn => return None,
        })
    }
}

/// What giving back an order's cups came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    /// These cups are back in stock (now, or by an earlier delivery).
    Released { cups: u32 },
    /// The order never got cups (it was out of stock, or cancelled before they were decided):
    /// nothing to give back.
    NothingReserved,
}

impl Release {
    /// The event that tells the saga the cups are back, if any came back.
    pub fn event(&self, cancelled: &OrderCancelled) -> Option<CafeEvent> {
        match self {
            Release::Released { cups } => Some(CafeEvent::CupsReleased(CupsReleased {
                order: cancelled.order.clone(),
                stock_name: cancelled.stock_name.clone(),
                cups_released: *cups,
            })),
            Release::NothingReserved => None,
        }
    }
}

/// One cup per beverage.
pub fn cups_needed(placed: &OrderPlaced) -> u32 {
    placed.order.beverage_qty
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_stock_reasons_say_what_is_missing() {
        let r = |available| match Reservation::out_of_stock("cup", 11, available) {
            Reservation::OutOfStock { reason, .. } => reason,
            _ => unreachable!(),
        };
        assert_eq!(r(None), "there is no cup stock");
        assert_eq!(r(Some(0)), "cups are sold out");
        assert_eq!(r(Some(10)), "not enough cups for 11 beverages");
    }

    #[test]
    fn quantities_and_names_are_checked() {
        assert!(check_qty(-1).is_err());
        assert!(check_qty(MAX_STOCK_QTY + 1).is_err());
        assert_eq!(check_qty(10).unwrap(), 10);
        assert!(check_stock_name("cup").is_ok());
        assert!(check_stock_name("cup#1").is_err());
        assert!(check_stock_name("").is_err());
    }

    #[test]
    fn a_reservation_round_trips_through_its_stored_form() {
        let r = Reservation::out_of_stock("cup", 3, Some(1));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["outcome"], "outOfStock");
        assert_eq!(serde_json::from_value::<Reservation>(json).unwrap(), r);
    }
}
