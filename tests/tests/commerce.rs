//! Selling at the kiosk, on a deployed stack that takes payment with each order (the template's
//! default, `RequirePayment`) from this binary's payment provider (localstripe). The priced menu:
//! the operator changes a price and takes a beverage off sale while the cafe runs; the menu shows
//! it at once, an order is priced as the cafe sells when it is placed and keeps that price, and a
//! beverage off sale is refused (409) with nothing stored; only the operator sets prices. A
//! walk-up customer orders at a kiosk with no customer id. Payment: an order's money is held
//! when it is placed and taken once when it is made; every way an order is cancelled leaves no
//! money taken and no hold on the card; a declined card cancels the order with nothing reserved.

use cafe_e2e::{Api, LocalCloud, SAGA_TIMEOUT, holds, kept, provider_payments, switch_step};
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The cafe these tests share, one at a time (each sets the cups, the machine or the menu).
fn paying_cafe() -> &'static LocalCloud {
    static CLOUD: OnceLock<LocalCloud> = OnceLock::new();
    CLOUD.get_or_init(|| LocalCloud::start(&[("RequirePayment", "true")]))
}

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CARD: &str = "pm_card_visa";
/// Stripe's test card that is declined when charged.
const DECLINED_CARD: &str = "pm_card_chargeCustomerFail";

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_prices_the_menu_while_the_cafe_runs() {
    let _turn = TURN.lock().await;
    let cloud = paying_cafe();
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
async fn a_walk_up_customer_orders_at_a_kiosk_with_nothing_but_the_beverage_and_a_card() {
    let _turn = TURN.lock().await;
    let cloud = paying_cafe();
    cloud.api().set_stock("cup", 5).await;
    let kiosk = cloud.kiosk_api("front door").await;
    let order = json!({"beverageName": "americano", "beverageQty": 1, "paymentMethod": CARD});
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

/// An Idempotency-Key of its own for each order.
fn new_key() -> String {
    static KEYS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!("paid-{}", KEYS.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
}

/// A walk-up order at the kiosk, paid with `card`, to its end.
async fn paid_order_to_the_end(cloud: &LocalCloud, kiosk: &Api, order: Value) -> Value {
    let placed = kiosk.order_as_a_kiosk_does(&new_key(), &order).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    cloud.api().final_order(placed.body["orderId"].as_str().unwrap()).await
}

/// The order's payments once none is held any more (the money's last move follows the order's).
async fn settled_payments(order_id: &str) -> Vec<cafe_e2e::ProviderPayment> {
    let started = Instant::now();
    loop {
        let payments = provider_payments(order_id).await;
        if !holds(&payments) || started.elapsed() > SAGA_TIMEOUT {
            return payments;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The events of the order's view (the receipt's timeline) once `event` is among them.
async fn timeline_with(api: &Api, order_id: &str, event: &str) -> Vec<(String, String)> {
    let has =
        |a: &cafe_e2e::Answer| (a.body["timeline"].as_array()).is_some_and(|t| t.iter().any(|s| s["event"] == event));
    let view = api
        .wait_for(&format!("/kiosk/orders/{order_id}"), SAGA_TIMEOUT, has)
        .await;
    (view.body["timeline"].as_array().unwrap().iter())
        .map(|s| {
            (
                s["event"].as_str().unwrap().to_string(),
                s["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn cups(api: &Api) -> u64 {
    api.get("/inventories/cup").await.body["qty"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn money_is_taken_only_for_orders_made_and_given_back_however_an_order_is_cancelled() {
    let _turn = TURN.lock().await;
    let cloud = paying_cafe();
    let (api, kiosk) = (cloud.api(), cloud.kiosk_api("till").await);
    api.set_stock("cup", 10).await;
    let order = |beverage: &str, qty: u32, card: &str| json!({"beverageName": beverage, "beverageQty": qty, "paymentMethod": card});

    // A two-line order, paid and made: priced line by line, the total held when placed and
    // taken once when the machine started it.
    let cart = json!({
        "lines": [{"beverageName": "cappuccino", "beverageQty": 2}, {"beverageName": "iced-tea", "beverageQty": 1}],
        "paymentMethod": CARD,
    });
    let made = paid_order_to_the_end(cloud, &kiosk, cart).await;
    assert_eq!(made["orderStatus"], "completed", "{made}");
    let lines: Vec<(&str, u64, u64)> = (made["lines"].as_array().unwrap().iter())
        .map(|l| {
            let number = |field: &str| l[field].as_u64().unwrap();
            (
                l["beverageName"].as_str().unwrap(),
                number("beverageQty"),
                number("unitPrice"),
            )
        })
        .collect();
    assert_eq!(lines, [("cappuccino", 2, 3500), ("iced-tea", 1, 2500)]);
    assert_eq!(made["beverageQty"], 3, "{made}");
    let made_id = made["orderId"].as_str().unwrap();
    let payments = settled_payments(made_id).await;
    assert_eq!(payments.len(), 1, "one payment: {payments:?}");
    assert_eq!((payments[0].status.as_str(), kept(&payments)), ("succeeded", 9500));
    let receipt = timeline_with(&api, made_id, "PaymentCaptured").await;
    let said: Vec<&str> = receipt.iter().map(|(_, summary)| summary.as_str()).collect();
    for step in [
        "Ordered 2 cappuccinos and 1 iced-tea",
        "9,500 KRW held on the card",
        "3 cups reserved",
        "9,500 KRW charged",
    ] {
        assert!(said.contains(&step), "{step}: {said:?}");
    }
    assert_eq!(cups(&api).await, 7, "a cup for each of its beverages");
    let beverages = api.get(&format!("/beverages?orderId={made_id}")).await.body;
    assert_eq!(beverages[0]["lines"].as_array().map(Vec::len), Some(2), "{beverages}");
    let customer = made["customerId"].as_str().unwrap();
    let told = (api.wait_for(&format!("/notifications?customerId={customer}"), SAGA_TIMEOUT, |a| {
        a.body.as_array().is_some_and(|told| !told.is_empty())
    }))
    .await
    .body;
    assert_eq!(
        told[0]["message"],
        format!(
            "Order #{}: your 2 cappuccinos and 1 iced-tea are ready. Enjoy!",
            made["orderNumber"]
        )
    );
    println!(
        "[e2e] payment: a cart of 2 cappuccinos and 1 iced tea completed, 9,500 KRW held then captured once ({} payment)",
        payments.len()
    );

    // Declined: cancelled with the reason, nothing reserved or made, nothing held.
    let declined = paid_order_to_the_end(cloud, &kiosk, order("americano", 1, DECLINED_CARD)).await;
    assert_eq!(declined["orderStatus"], "cancelled");
    let reason = declined["reason"].as_str().unwrap();
    assert!(reason.contains("declined"), "{reason}");
    let declined_id = declined["orderId"].as_str().unwrap();
    timeline_with(&api, declined_id, "CustomerNotified").await;
    assert_eq!(cups(&api).await, 7, "no cup was reserved for it");
    assert_eq!(
        api.get(&format!("/beverages?orderId={declined_id}")).await.body,
        json!([])
    );
    let payments = settled_payments(declined_id).await;
    assert_eq!((kept(&payments), holds(&payments)), (0, false), "{payments:?}");

    // Out of cups: the hold is let go.
    api.set_stock("cup", 1).await;
    let short = paid_order_to_the_end(cloud, &kiosk, order("americano", 2, CARD)).await;
    assert_eq!(short["orderStatus"], "cancelled");
    let short_id = short["orderId"].as_str().unwrap();
    let payments = settled_payments(short_id).await;
    assert_eq!(payments.len(), 1);
    assert_eq!((payments[0].status.as_str(), kept(&payments)), ("canceled", 0));
    timeline_with(&api, short_id, "PaymentReleased").await;

    // Cancelled while it waits for the machine (the beverage step is down): the hold is let go.
    api.set_stock("cup", 10).await;
    switch_step(cloud, "BeverageQueueUrl", false).await;
    let placed = kiosk
        .order_as_a_kiosk_does(&new_key(), &order("americano", 1, CARD))
        .await;
    let waiting_id = placed.body["orderId"].as_str().unwrap().to_string();
    api.wait_for("/inventories/cup", SAGA_TIMEOUT, |a| a.body["qty"] == 9)
        .await;
    assert!(holds(&provider_payments(&waiting_id).await), "held once placed");
    let cancel = api.post(&format!("/orders/{waiting_id}/cancel"), &json!({})).await;
    assert_eq!(
        (cancel.status, &cancel.body["orderStatus"]),
        (200, &json!("cancelled")),
        "{cancel:?}"
    );
    let payments = settled_payments(&waiting_id).await;
    assert_eq!(
        (payments[0].status.as_str(), kept(&payments)),
        ("canceled", 0),
        "{payments:?}"
    );
    switch_step(cloud, "BeverageQueueUrl", true).await;

    // Past its point of no return, the machine fails it: the money taken is refunded.
    assert_eq!(api.put("/machine", &json!({"inService": false})).await.status, 200);
    let failed = paid_order_to_the_end(cloud, &kiosk, order("americano", 3, CARD)).await;
    assert_eq!(api.put("/machine", &json!({"inService": true})).await.status, 200);
    assert_eq!(failed["reason"], "the beverage machine is out of order");
    let failed_id = failed["orderId"].as_str().unwrap();
    let receipt = timeline_with(&api, failed_id, "PaymentRefunded").await;
    let payments = provider_payments(failed_id).await;
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (payments[0].status.as_str(), payments[0].refunded, kept(&payments)),
        ("succeeded", 9000, 0),
        "taken, then given back in full"
    );
    let said: Vec<&str> = receipt.iter().map(|(_, summary)| summary.as_str()).collect();
    assert!(said.contains(&"9,000 KRW refunded"), "{said:?}");
    println!(
        "[e2e] payment: declined, out of cups, cancelled while waiting, failed by the machine: 0 KRW kept, no hold left"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_that_costs_something_needs_a_card_but_the_operator_s_need_not() {
    let _turn = TURN.lock().await;
    let cloud = paying_cafe();
    let (api, kiosk) = (cloud.api(), cloud.kiosk_api("no card").await);
    api.set_stock("cup", 10).await;
    let unpaid = json!({"beverageName": "americano", "beverageQty": 1});
    let refused = kiosk.order_as_a_kiosk_does("no-card-1", &unpaid).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (402, "payment_required"),
        "{refused:?}"
    );
    let bad_card = json!({"beverageName": "americano", "beverageQty": 1, "paymentMethod": "4242424242424242"});
    let refused = kiosk.order_as_a_kiosk_does("no-card-2", &bad_card).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (400, "invalid_field"),
        "no card number: {refused:?}"
    );

    let on_the_house = api
        .place(json!({"customerId": "staff-1", "beverageName": "americano", "beverageQty": 1}))
        .await;
    let order_id = on_the_house["orderId"].as_str().unwrap();
    assert_eq!(api.final_order(order_id).await["orderStatus"], "completed");
    assert!(provider_payments(order_id).await.is_empty(), "nothing charged");
    let receipt = timeline_with(&api, order_id, "PaymentAuthorized").await;
    assert!(receipt.iter().any(|(_, said)| said == "Nothing to pay"), "{receipt:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_past_its_deadline_leaves_no_money_taken() {
    // A cloud of its own: a short deadline would cut into the other tests' orders. Short, yet long
    // enough for the card to be held first on a cold stack and a busy machine.
    let cloud = LocalCloud::start(&[("RequirePayment", "true"), ("OrderDeadlineSeconds", "20")]);
    let (api, kiosk) = (cloud.api(), cloud.kiosk_api("slow").await);
    api.set_stock("cup", 10).await;
    switch_step(&cloud, "BeverageQueueUrl", false).await;
    let order = json!({"beverageName": "latte", "beverageQty": 1, "paymentMethod": CARD});
    let late = paid_order_to_the_end(&cloud, &kiosk, order).await;
    assert_eq!(
        (&late["orderStatus"], &late["reason"]),
        (&json!("cancelled"), &json!("it was not ready in time"))
    );
    let payments = settled_payments(late["orderId"].as_str().unwrap()).await;
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (payments[0].status.as_str(), kept(&payments)),
        ("canceled", 0),
        "the hold let go"
    );
    switch_step(&cloud, "BeverageQueueUrl", true).await;
}
