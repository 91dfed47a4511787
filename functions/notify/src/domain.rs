//! Notifications: what the customer is told, with no I/O.

use cafe_shared::events::{CafeEvent, CustomerNotified, OrderSummary};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub notification_id: String,
    pub customer_id: String,
    pub order_id: String,
    pub order_status: String,
    pub message: String,
    pub notification_date: DateTime<Utc>,
    /// Set once SNS took the message; a notification without it is sent again on redelivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sns_message_id: Option<String>,
    #[serde(default)]
    pub sms: bool,
}

/// The id of an order's notification: one per order outcome, whatever is redelivered.
pub fn notification_id_for(order_id: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("notification\n{order_id}").as_bytes(),
    )
    .to_string()
}

impl Notification {
    /// The notification an order outcome calls for; `None` for any other event.
    pub fn for_outcome(event: &CafeEvent, now: DateTime<Utc>) -> Option<Self> {
        let (order, status, message) = match event {
            CafeEvent::OrderCancelled(e) => (
                &e.order,
                "cancelled",
                format!(
                    "Sorry, your order of {} was cancelled: {}.",
                    e.order.beverages(),
                    e.reason
                ),
            ),
            CafeEvent::OrderCompleted(e) => (
                &e.order,
                "completed",
                format!(
                    "Your {} {} ready. Enjoy!",
                    e.order.beverages(),
                    if e.order.beverage_qty == 1 { "is" } else { "are" }
                ),
            ),
            _ => return None,
        };
        // The number the cafe calls the order by comes first, as on the pickup screen.
        let message = match order.order_number {
            Some(number) => format!("Order #{number}: {}{}", message[..1].to_lowercase(), &message[1..]),
            None => message,
        };
        Some(Self {
            notification_id: notification_id_for(&order.order_id),
            customer_id: order.customer_id.clone(),
            order_id: order.order_id.clone(),
            order_status: status.to_string(),
            message,
            notification_date: now,
            sns_message_id: None,
            sms: order.phone_number.is_some(),
        })
    }

    pub fn notified_event(&self, order: &OrderSummary) -> CafeEvent {
        CafeEvent::CustomerNotified(CustomerNotified {
            order: order.clone(),
            notification_id: self.notification_id.clone(),
            order_status: self.order_status.clone(),
            message: self.message.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafe_shared::events::{OrderCancelled, OrderCompleted};

    fn order(qty: u32) -> OrderSummary {
        OrderSummary {
            order_id: "o-1".into(),
            customer_id: "1".into(),
            beverage_name: "americano".into(),
            beverage_qty: qty,
            phone_number: Some("+821012345678".into()),
            order_number: None,
            lines: Vec::new(),
        }
    }

    #[test]
    fn a_cancellation_says_why() {
        let event = CafeEvent::OrderCancelled(OrderCancelled {
            order: order(11),
            stock_name: "cup".into(),
            reason: "not enough cups for 11 beverages".into(),
        });
        let n = Notification::for_outcome(&event, Utc::now()).unwrap();
        assert_eq!(n.order_status, "cancelled");
        assert_eq!(
            n.message,
            "Sorry, your order of 11 americanos was cancelled: not enough cups for 11 beverages."
        );
        assert!(n.sms);
    }

    #[test]
    fn a_completion_says_it_is_ready() {
        let n = Notification::for_outcome(
            &CafeEvent::OrderCompleted(OrderCompleted { order: order(1) }),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(n.order_status, "completed");
        assert_eq!(n.message, "Your 1 americano is ready. Enjoy!");
        assert_eq!(n.notification_id, notification_id_for("o-1"));
    }

    #[test]
    fn a_cart_is_told_line_by_line() {
        let line = |name: &str, qty| cafe_shared::events::OrderLine {
            beverage_name: name.into(),
            beverage_qty: qty,
            unit_price: Some(3000),
        };
        let cart = OrderSummary {
            lines: vec![line("latte", 2), line("americano", 1)],
            ..order(3)
        };
        let ready = CafeEvent::OrderCompleted(OrderCompleted { order: cart });
        let n = Notification::for_outcome(&ready, Utc::now()).unwrap();
        assert_eq!(n.message, "Your 2 lattes and 1 americano are ready. Enjoy!");
    }

    #[test]
    fn a_numbered_order_is_called_by_its_number() {
        let numbered = OrderSummary {
            order_number: Some(12),
            ..order(2)
        };
        let ready = CafeEvent::OrderCompleted(OrderCompleted {
            order: numbered.clone(),
        });
        let n = Notification::for_outcome(&ready, Utc::now()).unwrap();
        assert_eq!(n.message, "Order #12: your 2 americanos are ready. Enjoy!");
        let cancelled = CafeEvent::OrderCancelled(OrderCancelled {
            order: numbered,
            stock_name: "cup".into(),
            reason: "cancelled at your request".into(),
        });
        let n = Notification::for_outcome(&cancelled, Utc::now()).unwrap();
        assert_eq!(
            n.message,
            "Order #12: sorry, your order of 2 americanos was cancelled: cancelled at your request."
        );
    }
}
