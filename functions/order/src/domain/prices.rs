//! The menu's prices as the cafe sells now: the operator sets a beverage's price and whether it
//! is on sale while the cafe runs, over the menu's configuration, and an order keeps the price it
//! was placed at.

use super::cart::find_beverage;
use super::{Order, OrderError};
use cafe_shared::checks::Invalid;
use cafe_shared::menu::{Menu, MenuItem};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most a serving may cost, in minor units (10 million won).
pub const MAX_PRICE: i64 = 10_000_000;

/// What the operator set for one beverage; what is not set is as the menu says (its price, on
/// sale).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PriceSetting {
    pub price: Option<u32>,
    pub on_sale: Option<bool>,
}

/// The operator's settings, by beverage name.
pub type PriceList = BTreeMap<String, PriceSetting>;

/// A beverage as the kiosk offers it now (`GET /menu`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnTheMenu {
    #[serde(flatten)]
    pub item: MenuItem,
    /// The cafe's currency (ISO 4217), in whose minor units `price` is.
    pub currency: String,
    pub on_sale: bool,
}

/// The menu with the operator's prices and sales over it, in the menu's order.
pub fn on_the_menu(menu: &Menu, prices: &PriceList, currency: &str) -> Vec<OnTheMenu> {
    menu.items()
        .iter()
        .map(|item| offered(item, prices.get(&item.beverage_name), currency))
        .collect()
}

/// One beverage with what the operator set for it.
pub fn offered(item: &MenuItem, setting: Option<&PriceSetting>, currency: &str) -> OnTheMenu {
    let setting = setting.copied().unwrap_or_default();
    OnTheMenu {
        item: MenuItem {
            price: setting.price.unwrap_or(item.price),
            ..item.clone()
        },
        currency: currency.to_string(),
        on_sale: setting.on_sale.unwrap_or(true),
    }
}

/// The body of `PUT /menu/{beverageName}`: a new price, whether it is on sale, or both.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PriceChange {
    pub price: Option<i64>,
    pub on_sale: Option<bool>,
}

impl PriceChange {
    /// The setting it asks for: a price from 0 to [`MAX_PRICE`] minor units, and at least one
    /// of the two.
    pub fn check(&self) -> Result<PriceSetting, Invalid> {
        let price = match self.price {
            Some(price) if !(0..=MAX_PRICE).contains(&price) => {
                return Err(Invalid::Field(format!(
                    "price must be from 0 to {MAX_PRICE} (the currency's minor units), not {price}"
                )));
            }
            price => price.map(|p| p as u32),
        };
        if price.is_none() && self.on_sale.is_none() {
            return Err(Invalid::Field("give a price, onSale, or both".into()));
        }
        Ok(PriceSetting {
            price,
            on_sale: self.on_sale,
        })
    }
}

impl Order {
    /// The order priced line by line as each beverage is offered now: refused if one is not on
    /// sale.
    pub fn priced(mut self, menu: &Menu, prices: &PriceList, currency: &str) -> Result<Self, OrderError> {
        let mut lines = self.lines();
        for line in &mut lines {
            let item = find_beverage(menu, &line.beverage_name)?;
            let offered = offered(item, prices.get(&line.beverage_name), currency);
            if !offered.on_sale {
                return Err(OrderError::NotOnSale(offered.item.display_name));
            }
            line.unit_price = Some(offered.item.price);
        }
        self.set_lines(lines);
        self.currency = Some(currency.to_string());
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu() -> Menu {
        Menu::from_json(
            r#"[{"beverageName":"americano","displayName":"Americano","stockName":"cup","price":3000},
                {"beverageName":"latte","displayName":"Caffè latte","stockName":"cup","price":3500}]"#,
        )
        .unwrap()
    }

    #[test]
    fn the_operator_s_settings_go_over_the_menu_s_prices() {
        let prices = PriceList::from([(
            "latte".to_string(),
            PriceSetting {
                price: Some(4000),
                on_sale: None,
            },
        )]);
        let offered = on_the_menu(&menu(), &prices, "KRW");
        let seen: Vec<_> = offered
            .iter()
            .map(|o| (o.item.beverage_name.as_str(), o.item.price, o.on_sale))
            .collect();
        assert_eq!(seen, [("americano", 3000, true), ("latte", 4000, true)]);
        let json = serde_json::to_value(&offered[1]).unwrap();
        assert_eq!(
            (&json["price"], &json["currency"], &json["onSale"], &json["displayName"]),
            (
                &serde_json::json!(4000),
                &serde_json::json!("KRW"),
                &serde_json::json!(true),
                &serde_json::json!("Caffè latte")
            )
        );
    }

    #[test]
    fn a_price_change_asks_for_a_price_in_range_or_a_sale_or_both() {
        let change = |price, on_sale| PriceChange { price, on_sale }.check();
        assert_eq!(change(Some(0), None).unwrap().price, Some(0));
        assert_eq!(change(None, Some(false)).unwrap().on_sale, Some(false));
        for refused in [
            change(Some(-1), None),
            change(Some(MAX_PRICE + 1), Some(true)),
            change(None, None),
        ] {
            assert!(matches!(refused, Err(Invalid::Field(_))), "{refused:?}");
        }
    }
}
