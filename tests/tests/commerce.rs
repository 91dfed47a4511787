//! Selling at the kiosk, on a deployed stack. The priced menu: the operator changes a price and
//! takes a beverage off sale while the cafe runs; the menu shows it at once, an order is priced
//! as the cafe sells when it is placed and keeps that price, and a beverage off sale is refused
//! (409) with nothing stored; only the operator sets prices. A walk-up customer orders at a kiosk
//! with no customer id.

use cafe_e2e::LocalCloud;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_prices_the_menu_while_the_cafe_runs() {
    let cloud = LocalCloud::start(&[]);
    let (api, anyone) = (cloud.api(), cloud.anonymous_api());
    api.set_stock("cup", 20).await;
    let latte_on_the_menu = || async {
        let menu = anyone.get("/menu").await;
        assert_eq!(menu.status, 200, "{menu:?}");
        let latte = menu
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["beverageName"] == "latte");
        latte.cloned().expect("latte is on the menu")
    };
    let latte = latte_on_the_menu().await;
    assert_eq!(
        (&latte["price"], &latte["currency"], &latte["onSale"]),
        (&json!(3500), &json!("KRW"), &json!(true)),
        "the template's price: {latte}"
    );
    let order = |customer: &str| json!({"customerId": customer, "beverageName": "latte", "beverageQty": 2});
    let first = api.place(order("p1")).await;
    assert_eq!((&first["unitPrice"], &first["currency"]), (&json!(3500), &json!("KRW")));

    let raised = api.put("/menu/latte", &json!({"price": 4000})).await;
    assert_eq!(
        (raised.status, &raised.body["price"], &raised.body["onSale"]),
        (200, &json!(4000), &json!(true))
    );
    assert_eq!(latte_on_the_menu().await["price"], 4000, "seen at once");
    let second = api.place(order("p2")).await;
    assert_eq!(second["unitPrice"], 4000);
    let first_now = api
        .get(&format!("/orders/{}", first["orderId"].as_str().unwrap()))
        .await;
    assert_eq!(
        first_now.body["unitPrice"], 3500,
        "an order keeps the price it was placed at"
    );

    let off = api.put("/menu/latte", &json!({"onSale": false})).await;
    assert_eq!(
        (off.status, &off.body["onSale"], &off.body["price"]),
        (200, &json!(false), &json!(4000))
    );
    let refused = api.post("/orders", &order("p3")).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (409, "not_on_sale"),
        "{refused:?}"
    );
    let stored = api.get("/orders?customerId=p3").await;
    assert_eq!(stored.body, json!([]), "nothing stored for a refused order");

    // Only the operator sets prices, on the menu's beverages, within range.
    let kiosk = cloud.kiosk_api("front door").await;
    for (who, answer) in [
        ("anyone", anyone.put("/menu/latte", &json!({"onSale": true})).await),
        ("a kiosk", kiosk.put("/menu/latte", &json!({"onSale": true})).await),
    ] {
        assert!(matches!(answer.status, 401 | 403), "{who}: {answer:?}");
    }
    assert_eq!(api.put("/menu/flat-white", &json!({"price": 1})).await.status, 404);
    for bad in [
        json!({"price": -1}),
        json!({}),
        json!({"price": 10_000_001}),
        json!({"price": "free"}),
    ] {
        let answer = api.put("/menu/latte", &bad).await;
        assert_eq!(answer.status, 400, "{bad}: {answer:?}");
    }
    assert_eq!(
        latte_on_the_menu().await["onSale"],
        false,
        "the refused changes changed nothing"
    );

    assert_eq!(api.put("/menu/latte", &json!({"onSale": true})).await.status, 200);
    assert_eq!(api.place(order("p3")).await["unitPrice"], 4000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_walk_up_customer_orders_at_a_kiosk_with_nothing_but_the_beverage() {
    let cloud = LocalCloud::start(&[]);
    cloud.api().set_stock("cup", 5).await;
    let kiosk = cloud.kiosk_api("front door").await;
    let order = json!({"beverageName": "americano", "beverageQty": 1});
    let placed = kiosk.order_as_a_kiosk_does("walk-up-1", &order).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let customer_id = placed.body["customerId"].as_str().unwrap().to_string();
    assert!(customer_id.starts_with("walk-up-"), "the cafe's own id: {customer_id}");
    assert!(
        placed.body.get("customerToken").is_none(),
        "no customer is kept for a walk-up, nor a token"
    );
    assert!(placed.body["receiptToken"].is_string(), "the receipt follows the order");
    assert_eq!(placed.body["unitPrice"], 3000);
    let again = kiosk.order_as_a_kiosk_does("walk-up-1", &order).await;
    assert_eq!(
        (again.status, &again.body["orderId"], &again.body["customerId"]),
        (201, &placed.body["orderId"], &json!(customer_id)),
        "sent again with its key: the same order"
    );
    let other = kiosk.order_as_a_kiosk_does("walk-up-2", &order).await;
    assert_ne!(
        other.body["customerId"],
        json!(customer_id),
        "another walk-up, another id"
    );
    // Only a kiosk's customer may walk up: the operator names the customer.
    let operator = cloud.api().post("/orders", &order).await;
    assert_eq!(
        (operator.status, operator.error_code()),
        (400, "invalid_field"),
        "{operator:?}"
    );
}
