//! The beverage machine: what it made or could not make for each order, its ingredient levels,
//! and the rule that decides whether an order can be made, with no I/O.

use cafe_shared::checks::{Invalid, check_level, check_name};
use cafe_shared::events::{BeverageFailed, BeverageMade, CafeEvent, MACHINE_OUT_OF_ORDER, OrderLine, OrderSummary};
use cafe_shared::menu::Menu;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The most of one ingredient the machine can hold.
pub const MAX_INGREDIENT_QTY: i64 = 1_000_000;

/// Beverages made for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Beverage {
    pub beverage_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub beverage_name: String,
    pub beverage_qty: u32,
    /// Each beverage and how many, for an order of several lines (as the order says them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<OrderLine>,
    pub made_at: DateTime<Utc>,
}

/// An order the machine could not make, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedBeverage {
    pub beverage_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub beverage_name: String,
    pub beverage_qty: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<OrderLine>,
    pub reason: String,
    pub failed_at: DateTime<Utc>,
}

/// What the machine did with an order: one attempt per order, made or failed, never both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "beverageStatus", rename_all = "lowercase")]
pub enum Attempt {
    Made(Beverage),
    Failed(FailedBeverage),
}

/// The id of an order's attempt: one per order, the same however often the order's cups are
/// reported reserved, so a redelivered event cannot make a second one.
pub fn beverage_id_for(order_id: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("beverage\n{order_id}").as_bytes()).to_string()
}

impl Attempt {
    pub fn made(order: &OrderSummary, now: DateTime<Utc>) -> Self {
        Attempt::Made(Beverage {
            beverage_id: beverage_id_for(&order.order_id),
            order_id: order.order_id.clone(),
            customer_id: order.customer_id.clone(),
            beverage_name: order.beverage_name.clone(),
            beverage_qty: order.beverage_qty,
            lines: order.lines.clone(),
            made_at: now,
        })
    }

    pub fn failed(order: &OrderSummary, reason: String, now: DateTime<Utc>) -> Self {
        Attempt::Failed(FailedBeverage {
            beverage_id: beverage_id_for(&order.order_id),
            order_id: order.order_id.clone(),
            customer_id: order.customer_id.clone(),
            beverage_name: order.beverage_name.clone(),
            beverage_qty: order.beverage_qty,
            lines: order.lines.clone(),
            reason,
            failed_at: now,
        })
    }

    pub fn beverage_id(&self) -> &str {
        match self {
            Attempt::Made(made) => &made.beverage_id,
            Attempt::Failed(failed) => &failed.beverage_id,
        }
    }

    /// The event that tells the saga how the attempt went.
    pub fn event(&self, order: &OrderSummary) -> CafeEvent {
        match self {
            Attempt::Made(made) => CafeEvent::BeverageMade(BeverageMade {
                order: order.clone(),
                beverage_id: made.beverage_id.clone(),
                made_at: made.made_at,
                ingredients_left: Default::default(),
            }),
            Attempt::Failed(failed) => CafeEvent::BeverageFailed(BeverageFailed {
                order: order.clone(),
                beverage_id: failed.beverage_id.clone(),
                reason: failed.reason.clone(),
                failed_at: failed.failed_at,
            }),
        }
    }
}

/// One ingredient's level in the machine. The machine meters only the ingredients whose level
/// the operator set: one never set is not counted (a cafe that tracks only cups needs no ingredient levels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ingredient {
    pub ingredient_name: String,
    pub qty: u32,
    pub updated_at: DateTime<Utc>,
}

/// The body of `PUT /ingredients/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngredientLevel {
    pub qty: i64,
}

/// Whether the machine takes orders; the operator switches it off for maintenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineState {
    pub in_service: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for MachineState {
    /// A machine never switched is in service.
    fn default() -> Self {
        Self {
            in_service: true,
            updated_at: None,
        }
    }
}

/// The body of `PUT /machine`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MachineSwitch {
    pub in_service: bool,
}

pub fn check_ingredient_name(name: &str) -> Result<(), Invalid> {
    check_name("ingredientName", name)
}

pub fn check_ingredient_qty(qty: i64) -> Result<u32, Invalid> {
    check_level(qty, MAX_INGREDIENT_QTY)
}

/// What making one order takes from one ingredient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub ingredient: String,
    pub units: u32,
    /// False for an ingredient the machine does not meter: nothing is counted, but the making
    /// checks it is still unmetered (the operator may set its level meanwhile).
    pub metered: bool,
}

/// What the machine knows before making an order: whether it is in service and the levels of
/// the metered ingredients among those the recipe needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineReading {
    pub state: MachineState,
    pub levels: HashMap<String, u32>,
}

/// The metered ingredients' levels once these takes are taken from the reading.
pub fn left_after(reading: &MachineReading, takes: &[Take]) -> BTreeMap<String, u32> {
    (takes.iter().filter(|take| take.metered))
        .filter_map(|take| {
            let level = reading.levels.get(&take.ingredient)?;
            Some((take.ingredient.clone(), level.saturating_sub(take.units)))
        })
        .collect()
}

/// What an order's lines need of each ingredient together, by their recipes; why not, when a
/// beverage is no longer on the menu.
pub fn ingredients_needed(menu: &Menu, order: &OrderSummary) -> Result<BTreeMap<String, u32>, String> {
    let mut needed: BTreeMap<String, u32> = BTreeMap::new();
    for line in order.lines() {
        let item = (menu.find(&line.beverage_name))
            .ok_or_else(|| format!("{} is no longer on the menu", line.beverage_name))?;
        for (ingredient, per_cup) in &item.recipe {
            // Saturating: a menu's absurd recipe is an ingredient the machine runs out of, not a
            // wrapped count.
            let units = needed.entry(ingredient.clone()).or_default();
            *units = units.saturating_add(per_cup.saturating_mul(line.beverage_qty));
        }
    }
    Ok(needed)
}

/// Whether the machine can make this order, and if so what it takes; if not, why, in words for
/// the customer (the reason reaches the order, the notification and an SMS, so it names what
/// ran out, never a level).
pub fn plan_brew(menu: &Menu, order: &OrderSummary, reading: &MachineReading) -> Result<Vec<Take>, String> {
    if !reading.state.in_service {
        return Err(MACHINE_OUT_OF_ORDER.into());
    }
    (ingredients_needed(menu, order)?.into_iter())
        .map(|(ingredient, units)| match reading.levels.get(&ingredient) {
            Some(level) if *level < units => Err(format!("the machine ran out of {ingredient}")),
            level => Ok(Take {
                metered: level.is_some(),
                ingredient,
                units,
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu() -> Menu {
        Menu::from_json(
            r#"[{"beverageName":"latte","displayName":"Latte","stockName":"cup","recipe":{"beans":1,"milk":2}},
                {"beverageName":"americano","displayName":"Americano","stockName":"cup","recipe":{"beans":2}}]"#,
        )
        .unwrap()
    }

    fn reserved(beverage: &str, qty: u32) -> OrderSummary {
        OrderSummary {
            order_id: "o-1".into(),
            customer_id: "1".into(),
            beverage_name: beverage.into(),
            beverage_qty: qty,
            phone_number: None,
            order_number: None,
            lines: Vec::new(),
        }
    }

    fn reading(levels: &[(&str, u32)]) -> MachineReading {
        MachineReading {
            state: MachineState::default(),
            levels: levels.iter().map(|(name, qty)| (name.to_string(), *qty)).collect(),
        }
    }

    #[test]
    fn one_attempt_id_per_order() {
        assert_eq!(beverage_id_for("o-1"), beverage_id_for("o-1"));
        assert_ne!(beverage_id_for("o-1"), beverage_id_for("o-2"));
    }

    #[test]
    fn a_recipe_takes_its_units_per_cup_of_the_metered_ingredients() {
        let takes = plan_brew(&menu(), &reserved("latte", 3), &reading(&[("milk", 6)])).unwrap();
        assert_eq!(
            takes,
            [
                Take {
                    ingredient: "beans".into(),
                    units: 3,
                    metered: false
                },
                Take {
                    ingredient: "milk".into(),
                    units: 6,
                    metered: true
                },
            ]
        );
    }

    #[test]
    fn a_cart_takes_what_its_lines_take_together() {
        let line = |name: &str, qty| cafe_shared::events::OrderLine {
            beverage_name: name.into(),
            beverage_qty: qty,
            unit_price: None,
        };
        let cart = OrderSummary {
            beverage_qty: 3,
            lines: vec![line("latte", 2), line("americano", 1)],
            ..reserved("latte", 3)
        };
        let takes = plan_brew(&menu(), &cart, &reading(&[("beans", 4), ("milk", 4)])).unwrap();
        let units: Vec<_> = takes.iter().map(|t| (t.ingredient.as_str(), t.units)).collect();
        assert_eq!(units, [("beans", 4), ("milk", 4)], "beans: 2 x 1 + 1 x 2");
        // Enough beans for either line alone, not for both: the whole order is not made.
        let short = plan_brew(&menu(), &cart, &reading(&[("beans", 3), ("milk", 4)]));
        assert_eq!(short.unwrap_err(), "the machine ran out of beans");
        let made = serde_json::to_value(Attempt::made(&cart, Utc::now())).unwrap();
        assert_eq!(made["lines"][1]["beverageName"], "americano", "{made}");
    }

    #[test]
    fn too_little_of_an_ingredient_or_a_machine_out_of_order_says_why_without_levels() {
        let short = plan_brew(&menu(), &reserved("latte", 3), &reading(&[("milk", 5), ("beans", 9)]));
        assert_eq!(short.unwrap_err(), "the machine ran out of milk");
        let mut off = reading(&[]);
        off.state.in_service = false;
        assert_eq!(
            plan_brew(&menu(), &reserved("latte", 1), &off).unwrap_err(),
            "the beverage machine is out of order"
        );
        assert_eq!(
            plan_brew(&menu(), &reserved("mocha", 1), &reading(&[])).unwrap_err(),
            "mocha is no longer on the menu"
        );
    }

    #[test]
    fn an_attempt_says_made_or_failed_and_round_trips() {
        let failed = Attempt::failed(&reserved("latte", 1), "the machine ran out of milk".into(), Utc::now());
        let json = serde_json::to_value(&failed).unwrap();
        assert_eq!(json["beverageStatus"], "failed");
        assert_eq!(json["reason"], "the machine ran out of milk");
        assert_eq!(serde_json::from_value::<Attempt>(json).unwrap(), failed);
        let made = serde_json::to_value(Attempt::made(&reserved("latte", 1), Utc::now())).unwrap();
        assert_eq!(made["beverageStatus"], "made");
        assert!(made["madeAt"].is_string());
    }
}
