//! The saga's hard paths, end to end on a fresh local cloud: the beverage machine fails after the
//! cups were reserved (an ingredient runs out, the machine is switched out of service), and the
//! compensation gives back exactly that order's cups, cancels the order with the machine's reason
//! and notifies the customer once, whatever is redelivered.

use cafe_e2e::{Api, LocalCloud, SAGA_TIMEOUT, drain, redeliver_to_every_consumer, tap_bus, wait_until_drained};
use serde_json::{Value, json};

async fn level(api: &Api, path: &str) -> u64 {
    let answer = api.get(path).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body["qty"].as_u64().unwrap()
}

/// Places an order and waits for its outcome and its notification.
async fn order_to_the_end(api: &Api, customer: &str, beverage: &str, qty: u32) -> Value {
    let placed = api
        .place(json!({"customerId": customer, "beverageName": beverage, "beverageQty": qty}))
        .await;
    let order_id = placed["orderId"].as_str().unwrap();
    let order = api.final_order(order_id).await;
    api.wait_for(&format!("/kiosk/orders/{order_id}"), SAGA_TIMEOUT, |a| {
        a.body["notification"].is_string()
    })
    .await;
    order
}

fn timeline_of(view: &Value) -> Vec<&str> {
    (view["timeline"].as_array().unwrap().iter())
        .map(|step| step["event"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_machine_fault_after_reservation_gives_the_cups_back_and_notifies_once() {
    let cloud = LocalCloud::shared();
    let api = cloud.api();
    let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
    let bus_tap = tap_bus(cloud, &sqs).await;

    // 10 cups; the machine meters beans and milk (tea, never set, is not metered).
    api.set_stock("cup", 10).await;
    for (ingredient, qty) in [("beans", 10), ("milk", 1)] {
        let set = api
            .put(&format!("/ingredients/{ingredient}"), &json!({"qty": qty}))
            .await;
        assert_eq!((set.status, &set.body["qty"]), (200, &json!(qty)), "{set:?}");
    }
    let menu = api.get("/menu").await.body;
    let latte = menu
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["beverageName"] == "latte")
        .unwrap();
    assert_eq!(
        latte["recipe"],
        json!({"beans": 1, "milk": 1}),
        "the menu shows the recipe"
    );

    // One latte takes the last milk; two more find none after their cups were reserved.
    let made = order_to_the_end(&api, "hp-1", "latte", 1).await;
    assert_eq!(made["orderStatus"], "completed");
    let short = order_to_the_end(&api, "hp-2", "latte", 2).await;
    assert_eq!(short["orderStatus"], "cancelled");
    assert_eq!(short["reason"], "the machine ran out of milk");

    // Switched out of service, the machine fails what it gets; back in service, it makes again.
    let off = api.put("/machine", &json!({"inService": false})).await;
    assert_eq!((off.status, &off.body["inService"]), (200, &json!(false)), "{off:?}");
    let while_off = order_to_the_end(&api, "hp-3", "americano", 3).await;
    assert_eq!(while_off["orderStatus"], "cancelled");
    assert_eq!(while_off["reason"], "the beverage machine is out of order");
    assert_eq!(api.put("/machine", &json!({"inService": true})).await.status, 200);
    let tea = order_to_the_end(&api, "hp-4", "iced-tea", 1).await;
    assert_eq!(
        tea["orderStatus"], "completed",
        "an unmetered ingredient never runs out"
    );

    // What the operator and the customer see of the failed order.
    let short_id = short["orderId"].as_str().unwrap();
    let attempt = api.get(&format!("/beverages?orderId={short_id}")).await.body;
    assert_eq!(attempt[0]["beverageStatus"], "failed", "{attempt}");
    assert_eq!(attempt[0]["reason"], "the machine ran out of milk");
    let view = api.get(&format!("/kiosk/orders/{short_id}")).await.body;
    assert_eq!(view["orderStatus"], "cancelled");
    let customer_sees = api.notifications_of("hp-2").await;
    assert_eq!(customer_sees.len(), 1, "{customer_sees:?}");
    assert_eq!(
        customer_sees[0]["message"],
        "Sorry, your order of 2 lattes was cancelled: the machine ran out of milk."
    );
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    let view = api.get(&format!("/kiosk/orders/{short_id}")).await.body;
    let steps = timeline_of(&view);
    for step in [
        "CupStockDecreased",
        "BeverageFailed",
        "CupsReleased",
        "OrderCancelled",
        "CustomerNotified",
    ] {
        assert!(steps.contains(&step), "{step} missing from {steps:?}");
    }

    let orders = [&made, &short, &while_off, &tea];
    let check_invariant = |when: &'static str| {
        let api = &api;
        async move {
            let cups = level(api, "/inventories/cup").await;
            let beans = level(api, "/ingredients/beans").await;
            let milk = level(api, "/ingredients/milk").await;
            // Completed: one latte and one iced tea. Cups: 10 - 2; beans: 10 - 1 (the latte);
            // milk: 1 - 1.
            println!(
                "[e2e] invariant {when}: cups left {cups} = 10 stocked - 2 of completed orders; \
                 beans {beans} = 10 - 1; milk {milk} = 1 - 1"
            );
            assert_eq!((cups, beans, milk), (8, 9, 0), "{when}");
            for order in orders {
                let id = order["orderId"].as_str().unwrap();
                let now = api.get(&format!("/orders/{id}")).await.body;
                assert_eq!(now["orderStatus"], order["orderStatus"], "{when}: order {id}");
                let customer = order["customerId"].as_str().unwrap();
                assert_eq!(api.notifications_of(customer).await.len(), 1, "{when}: {customer}");
            }
            println!("[e2e] {when}: 4 orders terminal (2 completed, 2 cancelled), one notification each");
        }
    };
    check_invariant("after the saga").await;

    // Every event of these sagas delivered again to every consumer: nothing changes.
    let bodies: Vec<String> = (drain(&sqs, &bus_tap).await.iter())
        .map(|m| m.body().unwrap().to_string())
        .collect();
    let kinds = |kind: &str| {
        (bodies.iter())
            .filter(|body| serde_json::from_str::<Value>(body).unwrap()["detail-type"] == kind)
            .count()
    };
    assert_eq!((kinds("BeverageFailed"), kinds("CupsReleased")), (2, 2), "{bodies:?}");
    let sent = redeliver_to_every_consumer(cloud, &sqs, &bodies).await;
    println!(
        "[e2e] redelivered {} events as {sent} messages to every consumer",
        bodies.len()
    );
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    check_invariant("after every event was redelivered").await;
    for dlq in cloud.dead_letter_queues() {
        assert_eq!(drain(&sqs, &dlq).await.len(), 0, "{dlq} is empty");
    }
}
