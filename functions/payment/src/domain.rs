//! An order's payment and the rules of its moves, with no I/O.

use cafe_shared::events::{CafeEvent, OrderPlaced, OrderSummary, PaymentAuthorized, PaymentDeclined, PaymentMoved};
use serde::{Deserialize, Serialize};

/// Where an order's money stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PaymentStatus {
    /// Being held: the card is being charged (a payment may be open with the provider, no money
    /// held yet).
    Authorizing,
    /// The amount is held on the card, not taken.
    Held,
    /// The card was declined: nothing held.
    Declined,
    /// The order passed its point of no return: the money is taken.
    Captured,
    /// The order was cancelled while its money was held: the hold is let go.
    Released,
    /// The order was cancelled after its money was taken: it is given back.
    Refunded,
    /// Nothing to charge (a free order, or the operator's without a card).
    NotCharged,
    /// The order was cancelled before any money was held: none ever will be.
    Voided,
}

/// An order's payment as the payment table keeps it, one per order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub order_id: String,
    pub status: PaymentStatus,
    /// In `currency`'s minor units; 0 when nothing is charged.
    pub amount: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The provider's id of the payment (Stripe's PaymentIntent), once opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// Why the card was declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The order was cancelled: no money is held for it from then on.
    #[serde(default)]
    pub order_cancelled: bool,
}

impl Payment {
    /// The payment a placed order starts: to be held, or nothing to charge.
    pub fn for_order(placed: &OrderPlaced) -> Self {
        let (status, amount, currency) = match &placed.payment {
            Some(due) => (PaymentStatus::Authorizing, due.amount, Some(due.currency.clone())),
            None => (PaymentStatus::NotCharged, 0, None),
        };
        Self {
            order_id: placed.order.order_id.clone(),
            status,
            amount,
            currency,
            payment_id: None,
            reason: None,
            order_cancelled: false,
        }
    }

    /// The payment of an order cancelled before it was placed here (the cancellation overtook
    /// the order): nothing is ever held.
    pub fn voided(order_id: &str) -> Self {
        Self {
            order_id: order_id.to_string(),
            status: PaymentStatus::Voided,
            amount: 0,
            currency: None,
            payment_id: None,
            reason: None,
            order_cancelled: true,
        }
    }

    /// Whether the money is still to be held: `OrderPlaced` charges the card.
    pub fn is_to_hold(&self) -> bool {
        self.status == PaymentStatus::Authorizing && !self.order_cancelled
    }

    /// What the payment says of a placed order, announced again on every delivery: held (or
    /// nothing to charge) lets its cups be reserved; declined cancels it. One still being held
    /// (another delivery holds it) or ended says nothing.
    pub fn on_placed(&self, placed: &OrderPlaced) -> Option<CafeEvent> {
        match self.status {
            PaymentStatus::Held | PaymentStatus::Captured | PaymentStatus::NotCharged if !self.order_cancelled => {
                Some(CafeEvent::PaymentAuthorized(PaymentAuthorized {
                    placed: placed.clone(),
                    amount_held: self.amount,
                }))
            }
            PaymentStatus::Declined => Some(CafeEvent::PaymentDeclined(PaymentDeclined {
                order: placed.order.clone(),
                reason: self.reason.clone().unwrap_or_else(|| DECLINED.to_string()),
            })),
            _ => None,
        }
    }

    /// The announcement of the money's move for `order`: taken, let go or given back.
    pub fn announcement(&self, order: &OrderSummary) -> Option<CafeEvent> {
        let moved = PaymentMoved {
            order: order.clone(),
            amount: self.amount,
            currency: self.currency.clone().unwrap_or_default(),
        };
        match self.status {
            PaymentStatus::Captured => Some(CafeEvent::PaymentCaptured(moved)),
            PaymentStatus::Released => Some(CafeEvent::PaymentReleased(moved)),
            PaymentStatus::Refunded => Some(CafeEvent::PaymentRefunded(moved)),
            _ => None,
        }
    }
}

/// Why a card was declined when the provider gives no reason.
pub const DECLINED: &str = "the card was declined";

#[cfg(test)]
mod tests {
    use super::*;
    use cafe_shared::events::PaymentDue;

    fn placed(payment: Option<PaymentDue>) -> OrderPlaced {
        OrderPlaced {
            order: OrderSummary {
                order_id: "o-1".into(),
                customer_id: "c-1".into(),
                beverage_name: "latte".into(),
                beverage_qty: 2,
                phone_number: None,
                order_number: Some(1),
                lines: Vec::new(),
            },
            stock_name: "cup".into(),
            order_date: "2026-12-07T10:00:00Z".parse().unwrap(),
            payment,
        }
    }

    fn due() -> PaymentDue {
        PaymentDue {
            amount: 7000,
            currency: "KRW".into(),
            payment_method: "pm_card_visa".into(),
        }
    }

    #[test]
    fn an_order_with_a_card_is_to_be_held_and_one_without_is_not_charged() {
        let paid = Payment::for_order(&placed(Some(due())));
        assert_eq!((paid.status, paid.amount), (PaymentStatus::Authorizing, 7000));
        assert!(paid.is_to_hold());
        let free = Payment::for_order(&placed(None));
        assert_eq!((free.status, free.amount), (PaymentStatus::NotCharged, 0));
        assert!(!free.is_to_hold());
    }

    #[test]
    fn only_money_held_or_nothing_to_charge_lets_the_cups_be_reserved() {
        let order = placed(Some(due()));
        let mut payment = Payment::for_order(&order);
        assert_eq!(payment.on_placed(&order), None, "still being held");
        payment.status = PaymentStatus::Held;
        assert!(matches!(
            payment.on_placed(&order),
            Some(CafeEvent::PaymentAuthorized(PaymentAuthorized {
                amount_held: 7000,
                ..
            }))
        ));
        payment.order_cancelled = true;
        assert_eq!(payment.on_placed(&order), None, "an order cancelled reserves nothing");
        let declined = Payment {
            status: PaymentStatus::Declined,
            reason: Some("Your card was declined.".into()),
            ..Payment::for_order(&order)
        };
        let Some(CafeEvent::PaymentDeclined(said)) = declined.on_placed(&order) else {
            panic!()
        };
        assert_eq!(said.reason, "Your card was declined.");
        assert_eq!(Payment::voided("o-1").on_placed(&order), None);
    }

    #[test]
    fn each_end_of_the_money_is_announced_with_its_amount() {
        let order = placed(Some(due()));
        let mut payment = Payment::for_order(&order);
        for (status, kind) in [
            (PaymentStatus::Captured, "PaymentCaptured"),
            (PaymentStatus::Released, "PaymentReleased"),
            (PaymentStatus::Refunded, "PaymentRefunded"),
        ] {
            payment.status = status;
            let said = payment.announcement(&order.order).unwrap();
            assert_eq!(said.detail_type(), kind);
            let detail: serde_json::Value = serde_json::from_str(&said.detail_json()).unwrap();
            assert_eq!(
                (detail["amount"].as_u64(), detail["currency"].as_str()),
                (Some(7000), Some("KRW"))
            );
        }
        payment.status = PaymentStatus::Voided;
        assert_eq!(payment.announcement(&order.order), None);
    }
}
