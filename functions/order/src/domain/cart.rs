//! What a customer asks for (`POST /orders`): one beverage or a cart of several lines, each
//! beverage and how many of it, checked against the menu; and the order's lines as one.

use super::{BEVERAGE_QTY_RANGE, Menu, Order, OrderError};
use cafe_shared::checks::Invalid;
use cafe_shared::events::{OrderLine, lines_of};
use cafe_shared::menu::MenuItem;
use serde::{Deserialize, Deserializer};

/// The most lines one request may list (the same beverage's lines are joined into one).
pub const MAX_LINES: usize = 20;

/// The body of `POST /orders`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrderRequest {
    /// None from a kiosk's walk-up customer (the cafe gives the order an id of its own: see
    /// [`walk_up_customer_id`](super::walk_up_customer_id)); with a customer's token, theirs if none is given.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// One beverage and how many of it (a one-line order)...
    #[serde(default, deserialize_with = "given")]
    pub beverage_name: Option<String>,
    #[serde(default, deserialize_with = "given")]
    pub beverage_qty: Option<i64>,
    /// ... or several (a cart): one of the two.
    #[serde(default, deserialize_with = "given")]
    pub lines: Option<Vec<LineRequest>>,
    #[serde(default)]
    pub phone_number: Option<String>,
    /// The card the customer pays with, as the payment provider's id of it (`pm_...`): the
    /// kiosk takes the card through the provider's own form.
    #[serde(default)]
    pub payment_method: Option<String>,
}

/// One line of `POST /orders`'s `lines`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LineRequest {
    pub beverage_name: String,
    pub beverage_qty: i64,
}

/// The lines asked for, checked: each beverage on the menu, each quantity and the order's
/// beverages within [`BEVERAGE_QTY_RANGE`], every beverage served from the same stock item, and
/// a beverage listed twice one line. With the order's stock item.
pub(super) fn checked_lines(request: &OrderRequest, menu: &Menu) -> Result<(Vec<OrderLine>, String), OrderError> {
    let asked = lines_asked(request)?;
    let mut lines: Vec<OrderLine> = Vec::new();
    let mut stock: Option<(&str, &str)> = None;
    for line in asked {
        let item = find_beverage(menu, &line.beverage_name)?;
        if !BEVERAGE_QTY_RANGE.contains(&line.beverage_qty) {
            return Err(OrderError::QuantityOutOfRange { qty: line.beverage_qty });
        }
        // One reservation per order, of one stock item: a cart that needs two is refused rather
        // than reserved in part.
        match stock {
            Some((first, stock_name)) if stock_name != item.stock_name => {
                return Err(Invalid::Field(format!(
                    "{first} and {} come from different stock ({stock_name}, {}): order them separately",
                    item.beverage_name, item.stock_name
                ))
                .into());
            }
            Some(_) => {}
            None => stock = Some((&item.beverage_name, &item.stock_name)),
        }
        match lines.iter_mut().find(|l| l.beverage_name == item.beverage_name) {
            Some(same) => same.beverage_qty += line.beverage_qty as u32,
            None => lines.push(OrderLine {
                beverage_name: item.beverage_name.clone(),
                beverage_qty: line.beverage_qty as u32,
                unit_price: None,
            }),
        }
    }
    let beverages: i64 = lines.iter().map(|l| i64::from(l.beverage_qty)).sum();
    if !BEVERAGE_QTY_RANGE.contains(&beverages) {
        return Err(Invalid::Field(format!(
            "an order holds from {} to {} beverages, not {beverages}",
            BEVERAGE_QTY_RANGE.start(),
            BEVERAGE_QTY_RANGE.end()
        ))
        .into());
    }
    let stock_name = stock.map(|(_, stock_name)| stock_name.to_string()).unwrap_or_default();
    Ok((lines, stock_name))
}

/// The menu's item for a beverage a customer named, or what they may choose instead.
pub(super) fn find_beverage<'m>(menu: &'m Menu, name: &str) -> Result<&'m MenuItem, OrderError> {
    menu.find(name).ok_or_else(|| OrderError::UnknownBeverage {
        name: name.to_string(),
        choices: menu.names().join(", "),
    })
}

/// A field that may be left out but, given, is what it says: `null` is refused (it would
/// otherwise read as left out, and `{"lines": [...], "beverageName": null}` as a cart).
pub(super) fn given<'de, D: Deserializer<'de>, T: Deserialize<'de>>(field: D) -> Result<Option<T>, D::Error> {
    T::deserialize(field).map(Some)
}

/// `lines`, or the one line `beverageName` and `beverageQty` make; never both.
fn lines_asked(request: &OrderRequest) -> Result<Vec<LineRequest>, Invalid> {
    let one_line = (&request.beverage_name, request.beverage_qty);
    match (&request.lines, one_line) {
        (None, (Some(name), Some(qty))) => Ok(vec![LineRequest {
            beverage_name: name.clone(),
            beverage_qty: qty,
        }]),
        (None, (Some(_), None)) => Err(Invalid::Field("beverageQty is required with beverageName".into())),
        (None, (None, _)) => Err(Invalid::Field(
            "beverageName and beverageQty are required (or lines, for several beverages)".into(),
        )),
        (Some(_), (Some(_), _) | (_, Some(_))) => Err(Invalid::Field(
            "give lines, or beverageName and beverageQty, not both".into(),
        )),
        (Some(lines), _) if lines.is_empty() || lines.len() > MAX_LINES => Err(Invalid::Field(format!(
            "lines must hold from 1 to {MAX_LINES} lines, not {}",
            lines.len()
        ))),
        (Some(lines), _) => Ok(lines.clone()),
    }
}

impl Order {
    /// Sets what the order holds, as every record of it keeps it: `beverageName` the first line's,
    /// `beverageQty` all its beverages, and either `lines` (a cart) or, for one line, none and
    /// its price in `unitPrice`. The inverse of [`Order::lines`].
    pub(super) fn set_lines(&mut self, mut lines: Vec<OrderLine>) {
        self.beverage_name = lines[0].beverage_name.clone();
        self.beverage_qty = lines.iter().map(|line| line.beverage_qty).sum();
        match lines.len() {
            1 => {
                self.unit_price = lines.remove(0).unit_price;
                self.lines = Vec::new();
            }
            _ => {
                self.unit_price = None;
                self.lines = lines;
            }
        }
    }

    /// The order's lines, each at the price it was placed at: its cart's, or its one line.
    pub fn lines(&self) -> Vec<OrderLine> {
        let mut lines = lines_of(&self.lines, &self.beverage_name, self.beverage_qty);
        if self.lines.is_empty() {
            lines[0].unit_price = self.unit_price;
        }
        lines
    }

    /// What is ordered, whatever it costs and in whatever order its lines were listed: each
    /// beverage and how many.
    pub(super) fn beverages_asked(&self) -> Vec<(String, u32)> {
        let mut asked: Vec<_> = (self.lines().into_iter())
            .map(|line| (line.beverage_name, line.beverage_qty))
            .collect();
        asked.sort();
        asked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu() -> Menu {
        Menu::from_json(
            r#"[{"beverageName":"americano","displayName":"Americano","stockName":"cup"},
            {"beverageName":"latte","displayName":"Caffè latte","stockName":"cup"},
            {"beverageName":"bottled-water","displayName":"Water","stockName":"bottle"}]"#,
        )
        .unwrap()
    }

    fn cart(lines: &[(&str, i64)]) -> OrderRequest {
        let lines = (lines.iter())
            .map(|(name, qty)| LineRequest {
                beverage_name: name.to_string(),
                beverage_qty: *qty,
            })
            .collect();
        OrderRequest {
            customer_id: Some("1".into()),
            beverage_name: None,
            beverage_qty: None,
            lines: Some(lines),
            phone_number: None,
            payment_method: None,
        }
    }

    fn checked(request: &OrderRequest) -> Result<Vec<(String, u32)>, String> {
        let (lines, stock) = checked_lines(request, &menu()).map_err(|e| e.to_string())?;
        assert_eq!(stock, "cup");
        Ok(lines.into_iter().map(|l| (l.beverage_name, l.beverage_qty)).collect())
    }

    #[test]
    fn a_cart_keeps_its_lines_in_order_and_joins_a_beverage_listed_twice() {
        let lines = checked(&cart(&[("latte", 2), ("americano", 1), ("latte", 1)])).unwrap();
        assert_eq!(lines, [("latte".to_string(), 3), ("americano".to_string(), 1)]);
    }

    #[test]
    fn a_cart_s_lines_each_and_together_are_checked() {
        let refused = |lines: &[(&str, i64)]| checked(&cart(lines)).unwrap_err();
        assert_eq!(
            refused(&[("latte", 1), ("mocha", 1)]),
            "\"mocha\" is not on the menu; choose one of americano, latte, bottled-water"
        );
        assert_eq!(refused(&[("latte", 0)]), "beverageQty must be from 1 to 50, not 0");
        assert_eq!(
            refused(&[("latte", 30), ("americano", 21)]),
            "an order holds from 1 to 50 beverages, not 51"
        );
        assert_eq!(refused(&[]), "lines must hold from 1 to 20 lines, not 0");
        assert_eq!(
            refused(&[("latte", 1), ("bottled-water", 1)]),
            "latte and bottled-water come from different stock (cup, bottle): order them separately"
        );
    }

    #[test]
    fn a_field_left_out_is_none_and_one_given_as_null_is_refused() {
        let read = |body: &str| serde_json::from_str::<OrderRequest>(body).map_err(|e| e.to_string());
        let cart = read(r#"{"lines":[{"beverageName":"latte","beverageQty":1}]}"#).unwrap();
        assert_eq!((cart.beverage_name, cart.lines.map(|l| l.len())), (None, Some(1)));
        let null = read(r#"{"lines":[{"beverageName":"latte","beverageQty":1}],"beverageName":null}"#);
        assert!(null.unwrap_err().starts_with("invalid type: null, expected a string"));
    }

    #[test]
    fn an_order_is_a_cart_or_one_beverage_never_both_nor_neither() {
        let both = OrderRequest {
            beverage_name: Some("latte".into()),
            beverage_qty: Some(1),
            ..cart(&[("latte", 1)])
        };
        assert_eq!(
            checked(&both).unwrap_err(),
            "give lines, or beverageName and beverageQty, not both"
        );
        let neither = OrderRequest {
            lines: None,
            ..cart(&[])
        };
        assert_eq!(
            checked(&neither).unwrap_err(),
            "beverageName and beverageQty are required (or lines, for several beverages)"
        );
        let one_line = OrderRequest {
            beverage_name: Some("latte".into()),
            beverage_qty: Some(2),
            lines: None,
            ..cart(&[])
        };
        assert_eq!(checked(&one_line).unwrap(), [("latte".to_string(), 2)]);
    }
}
