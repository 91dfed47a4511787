//! The inventory stores' contract: each case holds for the in-memory fake (which the saga's
//! in-process tests and the simulation run) and for the DynamoDB store on the template's
//! `InventoryTable`, so what those tests prove of the fake holds of the store.

use aws_sdk_dynamodb::types::AttributeValue;
use cafe_inventory::domain::{Release, Reservation};
use cafe_inventory::store::fake::MemoryInventory;
use cafe_inventory::store::{CupReservations, InventoryStore, StockLevels};
use cafe_shared::events::{OrderPlaced, OrderSummary};
use cafe_shared::fakes::api::unreachable_cloud;
use cafe_testkit::Tables;

trait Subject: CupReservations + StockLevels {}
impl<T: CupReservations + StockLevels> Subject for T {}

async fn fake_store() -> MemoryInventory {
    MemoryInventory::default()
}

async fn dynamodb_store() -> InventoryStore {
    let tables = Tables::new(&["InventoryTable"]);
    InventoryStore::new(&tables.sdk().await, tables.name("InventoryTable"))
}

cafe_testkit::contract!(
    fake: fake_store,
    dynamodb: dynamodb_store,
    cases: [
        a_stock_item_is_created_once,
        a_level_is_set_only_on_an_existing_item,
        a_reservation_takes_its_cups_once,
        the_stock_never_goes_below_zero,
        an_order_for_a_stock_with_no_item_is_out_of_stock,
        of_two_orders_racing_for_the_last_cups_exactly_one_gets_them,
        racing_deliveries_of_one_order_take_its_cups_once,
        a_release_gives_back_exactly_the_reserved_cups_once,
        racing_releases_give_the_cups_back_once,
        an_order_released_before_it_is_decided_reserves_nothing,
        an_order_out_of_stock_gives_nothing_back,
        a_release_racing_the_reservation_leaves_every_cup_accounted,
        deliveries_racing_a_restock_get_the_one_decision,
        the_cups_left_are_the_level_after_the_reservation,
    ]
);

fn placed(order_id: &str, stock_name: &str, cups: u32) -> OrderPlaced {
    OrderPlaced {
        order: OrderSummary {
            order_id: order_id.into(),
            customer_id: "1".into(),
            beverage_name: "latte".into(),
            beverage_qty: cups,
            phone_number: None,
            order_number: None,
            lines: Vec::new(),
        },
        stock_name: stock_name.into(),
        order_date: "2026-12-01T10:00:00Z".parse().unwrap(),
        payment: None,
    }
}

fn new_order_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn level(store: &impl Subject, stock_name: &str) -> Option<u32> {
    store.get(stock_name).await.unwrap().map(|item| item.qty)
}

async fn a_stock_item_is_created_once(store: &impl Subject) {
    let created = store.create("cup", 10).await.unwrap().expect("a new item is created");
    assert_eq!((created.stock_name.as_str(), created.qty), ("cup", 10));
    assert_eq!(
        store.create("cup", 3).await.unwrap(),
        None,
        "the second create is refused"
    );
    assert_eq!(level(store, "cup").await, Some(10), "the first item stays as it was");
}

async fn a_level_is_set_only_on_an_existing_item(store: &impl Subject) {
    assert_eq!(store.set_level("lid", 5).await.unwrap(), None);
    assert_eq!(store.get("lid").await.unwrap(), None, "setting a level made no item");
    store.create("cup", 10).await.unwrap();
    let restocked = store.set_level("cup", 25).await.unwrap().expect("the item exists");
    assert_eq!(restocked.qty, 25);
    assert_eq!(level(store, "cup").await, Some(25));
}

async fn a_reservation_takes_its_cups_once(store: &impl Subject) {
    store.create("cup", 10).await.unwrap();
    let order = placed(&new_order_id(), "cup", 3);
    assert_eq!(
        store.reserve_cups(&order).await.unwrap(),
        Reservation::Reserved { cups: 3 }
    );
    assert_eq!(level(store, "cup").await, Some(7));
    // A redelivery, even after a restock, answers the decision on record and takes nothing.
    store.set_level("cup", 7).await.unwrap();
    assert_eq!(
        store.reserve_cups(&order).await.unwrap(),
        Reservation::Reserved { cups: 3 }
    );
    assert_eq!(level(store, "cup").await, Some(7));
}

async fn the_cups_left_are_the_level_after_the_reservation(store: &impl Subject) {
    assert_eq!(store.cups_left("cup").await.unwrap(), None, "no such stock item");
    store.create("cup", 4).await.unwrap();
    store.reserve_cups(&placed(&new_order_id(), "cup", 3)).await.unwrap();
    assert_eq!(store.cups_left("cup").await.unwrap(), Some(1));
}

async fn the_stock_never_goes_below_zero(store: &impl Subject) {
    store.create("cup", 2).await.unwrap();
    let order = placed(&new_order_id(), "cup", 3);
    let refused = store.reserve_cups(&order).await.unwrap();
    assert_eq!(refused, Reservation::out_of_stock("cup", 3, Some(2)));
    assert_eq!(level(store, "cup").await, Some(2), "nothing was taken");
    // Decided is decided: cups stocked later do not turn a redelivery into a reservation.
    store.set_level("cup", 10).await.unwrap();
    assert_eq!(store.reserve_cups(&order).await.unwrap(), refused);
    assert_eq!(level(store, "cup").await, Some(10));
}

async fn an_order_for_a_stock_with_no_item_is_out_of_stock(store: &impl Subject) {
    let order = placed(&new_order_id(), "cup", 1);
    let refused = store.reserve_cups(&order).await.unwrap();
    assert_eq!(refused, Reservation::out_of_stock("cup", 1, None));
    assert_eq!(store.get("cup").await.unwrap(), None, "no stock item was made");
}

async fn of_two_orders_racing_for_the_last_cups_exactly_one_gets_them(store: &impl Subject) {
    store.create("cup", 3).await.unwrap();
    let (first, second) = (placed(&new_order_id(), "cup", 3), placed(&new_order_id(), "cup", 3));
    let (a, b) = tokio::join!(store.reserve_cups(&first), store.reserve_cups(&second));
    let reserved = [a.unwrap(), b.unwrap()]
        .iter()
        .filter(|decision| matches!(decision, Reservation::Reserved { .. }))
        .count();
    assert_eq!(reserved, 1, "exactly one order got the last cups");
    assert_eq!(level(store, "cup").await, Some(0));
}

async fn racing_deliveries_of_one_order_take_its_cups_once(store: &impl Subject) {
    store.create("cup", 10).await.unwrap();
    let order = placed(&new_order_id(), "cup", 3);
    let (a, b) = tokio::join!(store.reserve_cups(&order), store.reserve_cups(&order));
    assert_eq!(a.unwrap(), Reservation::Reserved { cups: 3 });
    assert_eq!(
        b.unwrap(),
        Reservation::Reserved { cups: 3 },
        "both deliveries get the one decision"
    );
    assert_eq!(level(store, "cup").await, Some(7));
}

async fn a_release_gives_back_exactly_the_reserved_cups_once(store: &impl Subject) {
    store.create("cup", 10).await.unwrap();
    let order = placed(&new_order_id(), "cup", 3);
    store.reserve_cups(&order).await.unwrap();
    let order_id = &order.order.order_id;
    assert_eq!(
        store.release_cups("cup", order_id).await.unwrap(),
        Release::Released { cups: 3 }
    );
    assert_eq!(level(store, "cup").await, Some(10));
    assert_eq!(
        store.release_cups("cup", order_id).await.unwrap(),
        Release::Released { cups: 3 }
    );
    assert_eq!(
        level(store, "cup").await,
        Some(10),
        "a redelivered release adds nothing"
    );
}

async fn racing_releases_give_the_cups_back_once(store: &impl Subject) {
    store.create("cup", 10).await.unwrap();
    let order = placed(&new_order_id(), "cup", 4);
    store.reserve_cups(&order).await.unwrap();
    let order_id = &order.order.order_id;
    let (a, b) = tokio::join!(store.release_cups("cup", order_id), store.release_cups("cup", order_id));
    assert_eq!(
        (a.unwrap(), b.unwrap()),
        (Release::Released { cups: 4 }, Release::Released { cups: 4 })
    );
    assert_eq!(level(store, "cup").await, Some(10));
}

async fn an_order_released_before_it_is_decided_reserves_nothing(store: &impl Subject) {
    store.create("cup", 10).await.unwrap();
    let order = placed(&new_order_id(), "cup", 3);
    let released = store.release_cups("cup", &order.order.order_id).await.unwrap();
    assert_eq!(released, Release::NothingReserved);
    // Its OrderPlaced, arriving late, finds the order withdrawn.
    assert_eq!(store.reserve_cups(&order).await.unwrap(), Reservation::Withdrawn);
    assert_eq!(level(store, "cup").await, Some(10));
}

async fn an_order_out_of_stock_gives_nothing_back(store: &impl Subject) {
    store.create("cup", 1).await.unwrap();
    let order = placed(&new_order_id(), "cup", 2);
    store.reserve_cups(&order).await.unwrap();
    let released = store.release_cups("cup", &order.order.order_id).await.unwrap();
    assert_eq!(released, Release::NothingReserved);
    assert_eq!(level(store, "cup").await, Some(1));
}

async fn a_release_racing_the_reservation_leaves_every_cup_accounted(store: &impl Subject) {
    store.create("cup", 100).await.unwrap();
    let orders: Vec<OrderPlaced> = (0..10).map(|_| placed(&new_order_id(), "cup", 3)).collect();
    // Each order's cancel races its OrderPlaced: the release may find no decision yet.
    let races = orders.iter().map(|order| async {
        let (released, reserved) = tokio::join!(
            store.release_cups("cup", &order.order.order_id),
            store.reserve_cups(order)
        );
        (released.unwrap(), reserved.unwrap())
    });
    for (released, reserved) in futures::future::join_all(races).await {
        match reserved {
            Reservation::Reserved { cups } => assert_eq!(released, Release::Released { cups }),
            other => assert_eq!((other, released), (Reservation::Withdrawn, Release::NothingReserved)),
        }
    }
    assert_eq!(level(store, "cup").await, Some(100), "every order's cups are back");
}

async fn deliveries_racing_a_restock_get_the_one_decision(store: &impl Subject) {
    // Each of ten orders, from a stock of its own with too few cups, is delivered twice: the
    // first delivery may find too few, the second the restock that happens between them.
    let races = (0..10).map(|i| async move {
        let stock_name = format!("cup{i}");
        store.create(&stock_name, 2).await.unwrap();
        let order = placed(&new_order_id(), &stock_name, 3);
        let (first, second) = tokio::join!(store.reserve_cups(&order), async {
            store.set_level(&stock_name, 10).await.unwrap();
            store.reserve_cups(&order).await
        });
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(first, second, "two deliveries of one order got two decisions");
        assert_eq!(
            store.reserve_cups(&order).await.unwrap(),
            first,
            "and the record says the same"
        );
        let expected = if first == (Reservation::Reserved { cups: 3 }) {
            7
        } else {
            10
        };
        assert_eq!(level(store, &stock_name).await, Some(expected));
    });
    futures::future::join_all(races).await;
}

/// A release whose stock item was removed meanwhile (by hand: the API cannot) is an error, so the
/// message is retried and then dead-lettered; no stock item of only the released cups appears.
mod stock_item_removed {
    use super::*;

    async fn release_after_removal(store: &impl Subject, remove: impl AsyncFnOnce()) {
        store.create("cup", 10).await.unwrap();
        let order = placed(&new_order_id(), "cup", 3);
        store.reserve_cups(&order).await.unwrap();
        remove().await;
        assert!(store.release_cups("cup", &order.order.order_id).await.is_err());
        assert_eq!(store.get("cup").await.unwrap(), None);
    }

    #[tokio::test]
    async fn fake() {
        let store = MemoryInventory::default();
        release_after_removal(&store, async || {
            store.stock.lock().unwrap().remove("cup");
        })
        .await;
    }

    #[tokio::test]
    async fn dynamodb() {
        let tables = Tables::new(&["InventoryTable"]);
        let (sdk, table) = (tables.sdk().await, tables.name("InventoryTable"));
        let store = InventoryStore::new(&sdk, table.clone());
        release_after_removal(&store, async || {
            let key =
                [("stockName", "cup"), ("entry", "STOCK")].map(|(k, v)| (k.to_string(), AttributeValue::S(v.into())));
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            client
                .delete_item()
                .table_name(&table)
                .set_key(Some(key.into()))
                .send()
                .await
                .unwrap();
        })
        .await;
    }
}

/// With the table out of reach, every call is an error, never a default answer.
mod unreachable {
    use super::*;

    async fn fake_down() -> MemoryInventory {
        let store = MemoryInventory::with_cups(10);
        store.down.set(true);
        store
    }

    async fn dynamodb_down() -> InventoryStore {
        InventoryStore::new(&unreachable_cloud().await, "inventory".into())
    }

    cafe_testkit::contract!(fake: fake_down, dynamodb: dynamodb_down, cases: [every_call_fails]);

    async fn every_call_fails(store: &impl Subject) {
        let order = placed(&new_order_id(), "cup", 1);
        assert!(store.reserve_cups(&order).await.is_err());
        assert!(store.release_cups("cup", &order.order.order_id).await.is_err());
        assert!(store.create("cup", 1).await.is_err());
        assert!(store.set_level("cup", 1).await.is_err());
        assert!(store.get("cup").await.is_err());
        assert!(store.cups_left("cup").await.is_err());
    }
}
