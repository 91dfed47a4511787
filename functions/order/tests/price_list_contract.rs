//! The price list's contract (`OrderBook::price_list`, `set_price`): what the operator sets for
//! a beverage while the cafe runs, kept on the cafe's item. Each case holds for the in-memory
//! orders and for the DynamoDB store on the template's `CustomersTable`.

mod common;

use cafe_order::domain::{PriceList, PriceSetting};
use common::*;

cafe_testkit::contract!(
    fake: fake_orders,
    dynamodb: dynamodb_orders,
    cases: [
        the_price_list_keeps_what_the_operator_set_beverage_by_beverage,
        a_price_change_leaves_the_cafe_as_it_was,
    ]
);

fn setting(price: Option<u32>, on_sale: Option<bool>) -> PriceSetting {
    PriceSetting { price, on_sale }
}

async fn the_price_list_keeps_what_the_operator_set_beverage_by_beverage(store: &impl Subject) {
    assert_eq!(
        store.price_list().await.unwrap(),
        PriceList::new(),
        "nothing set: the menu's prices"
    );
    let after = store.set_price("latte", &setting(Some(4000), None)).await.unwrap();
    assert_eq!(after, PriceList::from([("latte".into(), setting(Some(4000), None))]));
    store.set_price("latte", &setting(None, Some(false))).await.unwrap();
    let after = store
        .set_price("americano", &setting(Some(0), Some(true)))
        .await
        .unwrap();
    let expected = PriceList::from([
        ("americano".into(), setting(Some(0), Some(true))),
        ("latte".into(), setting(Some(4000), Some(false))),
    ]);
    assert_eq!(after, expected, "each change keeps what it does not give");
    assert_eq!(store.price_list().await.unwrap(), expected, "read back");
}

async fn a_price_change_leaves_the_cafe_as_it_was(store: &impl Subject) {
    store.set_open(false, limits()).await.unwrap();
    store.set_price("latte", &setting(Some(3800), None)).await.unwrap();
    let cafe = store.cafe(limits()).await.unwrap();
    assert!(!cafe.open, "still closed");
    assert_eq!(cafe.orders_in_progress, 0);
}

/// With the table out of reach, both calls are errors, never an empty list.
mod unreachable {
    use super::*;

    cafe_testkit::contract!(fake: fake_down, dynamodb: dynamodb_down, cases: [every_call_fails]);

    async fn every_call_fails(store: &impl Subject) {
        assert!(store.price_list().await.is_err());
        assert!(store.set_price("latte", &setting(Some(1), None)).await.is_err());
    }
}
