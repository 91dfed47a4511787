//! The menu (the `MENU` configuration, a template Parameter): what the kiosk offers, the stock
//! item one beverage uses, its recipe, which the order function checks orders against and the
//! beverage machine follows, and the price a serving starts at (the operator changes prices and
//! what is on sale while the cafe runs: see the order function's price list).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Units of each ingredient one beverage takes, e.g. `{"beans": 1, "milk": 1}`.
pub type Recipe = BTreeMap<String, u32>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MenuItem {
    pub beverage_name: String,
    pub display_name: String,
    /// The stock item that one beverage uses up.
    pub stock_name: String,
    #[serde(default)]
    pub recipe: Recipe,
    /// What one serving costs until the operator sets another price, in the cafe's currency's
    /// minor units (KRW has none: won); none given, it is free.
    #[serde(default)]
    pub price: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Menu(Vec<MenuItem>);

impl Menu {
    pub fn from_json(json: &str) -> Result<Self, String> {
        let items: Vec<MenuItem> = serde_json::from_str(json).map_err(|e| format!("MENU is not a valid menu: {e}"))?;
        if items.is_empty() {
            return Err("MENU has no beverages".into());
        }
        if let Some(item) = items.iter().find(|item| item.recipe.values().any(|units| *units == 0)) {
            return Err(format!(
                "MENU: {}'s recipe lists an ingredient with 0 units",
                item.beverage_name
            ));
        }
        Ok(Self(items))
    }

    pub fn find(&self, beverage_name: &str) -> Option<&MenuItem> {
        self.0.iter().find(|item| item.beverage_name == beverage_name)
    }

    pub fn items(&self) -> &[MenuItem] {
        &self.0
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|item| item.beverage_name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_menu_reads_recipes_and_refuses_empty_ones() {
        let menu = Menu::from_json(
            r#"[{"beverageName":"latte","displayName":"Latte","stockName":"cup","recipe":{"beans":1,"milk":1}},
                {"beverageName":"water","displayName":"Water","stockName":"cup"}]"#,
        )
        .unwrap();
        assert_eq!(menu.find("latte").unwrap().recipe["milk"], 1);
        assert!(menu.find("water").unwrap().recipe.is_empty(), "a recipe is optional");
        assert!(Menu::from_json("[]").is_err());
        let zero = r#"[{"beverageName":"x","displayName":"X","stockName":"cup","recipe":{"beans":0}}]"#;
        assert!(Menu::from_json(zero).unwrap_err().contains("0 units"));
    }
}
