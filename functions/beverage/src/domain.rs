//! Beverages: the record of what was made, with no I/O.

use cafe_shared::events::{BeverageMade, CupStockDecreased};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Beverage {
    pub beverage_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub beverage_name: String,
    pub beverage_qty: u32,
    pub made_at: DateTime<Utc>,
}

/// The id of an order's beverages: one per order, the same however often the order's cups are
/// reported reserved, so a redelivered event cannot make a second one.
pub fn beverage_id_for(order_id: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("beverage\n{order_id}").as_bytes()).to_string()
}

impl Beverage {
    pub fn brewed(reserved: &CupStockDecreased, now: DateTime<Utc>) -> Self {
        let order = &reserved.order;
        Self {
            beverage_id: beverage_id_for(&order.order_id),
            order_id: order.order_id.clone(),
            customer_id: order.customer_id.clone(),
            beverage_name: order.beverage_name.clone(),
            beverage_qty: order.beverage_qty,
            made_at: now,
        }
    }

    pub fn made_event(&self, reserved: &CupStockDecreased) -> BeverageMade {
        BeverageMade {
            order: reserved.order.clone(),
            beverage_id: self.beverage_id.clone(),
            made_at: self.made_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_beverage_id_per_order() {
        assert_eq!(beverage_id_for("o-1"), beverage_id_for("o-1"));
        assert_ne!(beverage_id_for("o-1"), beverage_id_for("o-2"));
    }
}
