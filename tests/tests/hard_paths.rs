//! The saga's hard paths, end to end on a fresh local cloud: the beverage machine fails after the
//! cups were reserved (an ingredient runs out, the machine is switched out of service), and the
//! compensation gives back exactly that order's cups, cancels the order with the machine's reason
//! and notifies the customer once; customers cancel orders while the machine races to make them,
//! and exactly one of the two wins each order; an order still waiting for the machine at its
//! deadline is cancelled, and the machine's late step changes nothing; one the machine had
//! started asking for when it went down is given up by the machine, back after the deadline;
//! whatever is redelivered changes nothing.

use cafe_e2e::{
    Api, LocalCloud, SAGA_TIMEOUT, drain, redeliver_to_every_consumer, send_in_batches, switch_step, tap_bus,
    wait_until_drained,
};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::Mutex;

/// The tests share the cup stock and the machine, so they take turns.
static MACHINE: Mutex<()> = Mutex::const_new(());

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
    let _turn = MACHINE.lock().await;
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
        format!(
            "Order #{}: sorry, your order of 2 lattes was cancelled: the machine ran out of milk.",
            short["orderNumber"]
        )
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
    // Counted for these orders only: the tap may hold what another test's redelivery republished.
    let kinds = |kind: &str| {
        (bodies.iter().map(|body| serde_json::from_str::<Value>(body).unwrap()))
            .filter(|event| {
                event["detail-type"] == kind && orders.iter().any(|o| o["orderId"] == event["detail"]["orderId"])
            })
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

/// What became of one raced order.
struct Raced {
    order_id: String,
    customer_id: String,
    /// The customer's own token, which their first order at the kiosk gave them: none when that
    /// answer was lost at the gateway (the order sent again with its key is answered as placed,
    /// and never with a token again).
    customer_token: Option<String>,
    /// The cancel's answer: 200 (cancelled) or 409 (being made).
    cancel_status: u16,
}

#[tokio::test(flavor = "multi_thread")]
async fn cancels_raced_against_the_making_of_50_orders_never_both_win() {
    let _turn = MACHINE.lock().await;
    let cloud = LocalCloud::shared();
    let api = cloud.api();
    let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
    let bus_tap = tap_bus(cloud, &sqs).await;
    api.set_stock("cup", 100).await;
    assert_eq!(api.put("/ingredients/beans", &json!({"qty": 100})).await.status, 200);
    // Two kiosks: one takes at most MaxOrdersPerKioskPerMinute (30) orders a minute.
    let kiosks = [cloud.kiosk_api("race a").await, cloud.kiosk_api("race b").await];

    // Each customer orders at a kiosk and calls it off from their receipt after a little while,
    // from at once to 3.6 s, or (the last five) once the order is done.
    let mut races = tokio::task::JoinSet::new();
    for i in 0..50 {
        let kiosk = kiosks[i % 2].clone();
        races.spawn(async move {
            let customer_id = format!("race-{i}");
            // Fifty at once: on a busy machine the odd one times out at the gateway, and is sent
            // again with its key, as a kiosk would.
            let placed = kiosk
                .order_as_a_kiosk_does(
                    &format!("race-{i}-order"),
                    &json!({"customerId": customer_id, "beverageName": "americano", "beverageQty": 1}),
                )
                .await;
            assert_eq!(placed.status, 201, "{placed:?}");
            let order_id = placed.body["orderId"].as_str().unwrap().to_string();
            let receipt = kiosk.with_token(placed.body["receiptToken"].as_str().unwrap());
            match i {
                // The last few call it off only once it is made: however slow the machine, the
                // race is run both ways.
                45.. => drop(receipt.final_order(&order_id).await),
                _ => tokio::time::sleep(Duration::from_millis(80 * i as u64)).await,
            }
            let cancel = receipt.post(&format!("/orders/{order_id}/cancel"), &json!({})).await;
            match cancel.status {
                200 => assert_eq!(cancel.body["orderStatus"], "cancelled", "{cancel:?}"),
                409 => assert_eq!(cancel.error_code(), "not_cancellable", "{cancel:?}"),
                _ => panic!("{cancel:?}"),
            }
            Raced {
                order_id,
                customer_id,
                customer_token: placed.body["customerToken"].as_str().map(String::from),
                cancel_status: cancel.status,
            }
        });
    }
    let raced: Vec<Raced> = races.join_all().await;
    let won = raced.iter().filter(|r| r.cancel_status == 200).count();
    println!(
        "[e2e] 50 cancels raced against the machine: {won} cancelled in time, {} too late (409)",
        50 - won
    );
    assert!(0 < won && won < 50, "the race was run both ways");

    // Another customer's token finds no such order; a kiosk cancels nothing.
    let first = &raced[0].order_id;
    let stranger = (raced[1..].iter())
        .find_map(|r| r.customer_token.as_deref())
        .expect("a new customer's first order answered with their token");
    let stranger = kiosks[0].with_token(stranger);
    let refused = stranger.post(&format!("/orders/{first}/cancel"), &json!({})).await;
    assert_eq!(refused.status, 404, "{refused:?}");
    let by_kiosk = kiosks[0].post(&format!("/orders/{first}/cancel"), &json!({})).await;
    assert_eq!(by_kiosk.status, 403, "{by_kiosk:?}");

    let check = |when: &'static str| {
        let (api, raced, sqs) = (&api, &raced, &sqs);
        async move {
            let mut completed = 0;
            for r in raced {
                let order = api.final_order(&r.order_id).await;
                let beverage = api.get(&format!("/beverages?orderId={}", r.order_id)).await.body;
                let made = beverage
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|b| b["beverageStatus"] == "made");
                match (r.cancel_status, order["orderStatus"].as_str().unwrap()) {
                    (200, "cancelled") => {
                        assert!(!made, "{when}: order {} cancelled yet made", r.order_id);
                        assert_eq!(order["reason"], "cancelled at your request");
                    }
                    (409, "completed") => {
                        assert!(made, "{when}: order {} completed but not made", r.order_id);
                        completed += 1;
                    }
                    (status, outcome) => panic!("{when}: cancel answered {status} but the order is {outcome}"),
                }
                let told = api.notified(&r.customer_id, 1).await;
                assert_eq!(told.len(), 1, "{when}: {} was told {told:?}", r.customer_id);
            }
            // Each outcome was published (it was told); what it gives back is handled once the
            // queues are empty.
            wait_until_drained(sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
            let cups = level(api, "/inventories/cup").await;
            let beans = level(api, "/ingredients/beans").await;
            println!(
                "[e2e] invariant {when}: cups left {cups} = 100 stocked - {completed} of completed orders; \
                 beans {beans} = 100 - {completed}; 50 orders terminal, none both made and cancelled, \
                 one notification each"
            );
            assert_eq!((cups, beans), (100 - completed, 100 - completed), "{when}");
        }
    };
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    check("after the race").await;

    let bodies: Vec<String> = (drain(&sqs, &bus_tap).await.iter())
        .map(|m| m.body().unwrap().to_string())
        .collect();
    let sent = redeliver_to_every_consumer(cloud, &sqs, &bodies).await;
    println!(
        "[e2e] redelivered {} events as {sent} messages to every consumer",
        bodies.len()
    );
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    check("after every event was redelivered").await;
    for dlq in cloud.dead_letter_queues() {
        assert_eq!(drain(&sqs, &dlq).await.len(), 0, "{dlq} is empty");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_waiting_past_its_deadline_is_cancelled_and_the_late_step_changes_nothing() {
    // A cloud of its own: a short deadline would cut into the other tests' orders. Short, yet long
    // enough for the first order, which wakes every function cold on a busy machine, to finish.
    const DEADLINE: Duration = Duration::from_secs(20);
    let cloud = LocalCloud::start(&[("OrderDeadlineSeconds", "20")]);
    let api = cloud.api();
    let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
    api.set_stock("cup", 10).await;

    // Made in time: its timer, which fires later, changes nothing.
    let on_time = order_to_the_end(&api, "dl-1", "americano", 1).await;
    assert_eq!(on_time["orderStatus"], "completed");

    // The beverage step is down: the cups are reserved and the order waits for the machine.
    switch_step(&cloud, "BeverageQueueUrl", false).await;
    let placed_at = std::time::Instant::now();
    let late = api
        .place(json!({"customerId": "dl-2", "beverageName": "americano", "beverageQty": 2}))
        .await;
    let late_id = late["orderId"].as_str().unwrap();
    let cancelled = api.final_order(late_id).await;
    let waited = placed_at.elapsed();
    assert_eq!(cancelled["orderStatus"], "cancelled");
    assert_eq!(cancelled["reason"], "it was not ready in time");
    assert!(waited >= DEADLINE, "cancelled after {waited:?}, before its deadline");
    api.wait_for("/inventories/cup", SAGA_TIMEOUT, |a| a.body["qty"] == 9)
        .await;
    println!(
        "[e2e] deadline: the waiting order was cancelled {:.1} s after it was placed (deadline 20 s); its 2 cups are back",
        waited.as_secs_f64()
    );

    // The step comes back and handles what waited for it: the order is not made.
    switch_step(&cloud, "BeverageQueueUrl", true).await;
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    let attempts = api.get(&format!("/beverages?orderId={late_id}")).await.body;
    assert_eq!(attempts, json!([]), "the machine never started the cancelled order");
    assert_eq!(
        api.get(&format!("/orders/{late_id}")).await.body["orderStatus"],
        "cancelled"
    );

    // Past its point of no return when the step went down: the machine asked for the order (its
    // own MakingRequested, sent as it sends it) and went down before it started it. Its timer
    // cannot cancel an order being made; the machine, back after the deadline, gives it up
    // rather than start it, and its cups come back.
    switch_step(&cloud, "BeverageQueueUrl", false).await;
    let placed_at = std::time::Instant::now();
    let stuck = api
        .place(json!({"customerId": "dl-3", "beverageName": "americano", "beverageQty": 3}))
        .await;
    let stuck_id = stuck["orderId"].as_str().unwrap();
    api.wait_for("/inventories/cup", SAGA_TIMEOUT, |a| a.body["qty"] == 6)
        .await;
    let asked = json!({
        "version": "0", "id": format!("asked-{stuck_id}"), "detail-type": "MakingRequested",
        "source": "cafe.beverage", "time": chrono::Utc::now().to_rfc3339(),
        "detail": {"orderId": stuck_id, "customerId": "dl-3", "beverageName": "americano",
                   "beverageQty": 3, "stockName": "cup"},
    });
    send_in_batches(&sqs, &cloud.output("OrderQueueUrl"), &[asked.to_string()]).await;
    api.wait_for(&format!("/orders/{stuck_id}"), SAGA_TIMEOUT, |a| {
        a.body["orderStatus"] == "making"
    })
    .await;
    tokio::time::sleep((DEADLINE + Duration::from_secs(3)).saturating_sub(placed_at.elapsed())).await;
    assert_eq!(
        api.get(&format!("/orders/{stuck_id}")).await.body["orderStatus"],
        "making",
        "the timer does not cancel an order being made"
    );
    switch_step(&cloud, "BeverageQueueUrl", true).await;
    let given_up = api.final_order(stuck_id).await;
    assert_eq!(given_up["orderStatus"], "cancelled");
    assert_eq!(given_up["reason"], "it was not ready in time");
    api.wait_for("/inventories/cup", SAGA_TIMEOUT, |a| a.body["qty"] == 9)
        .await;
    let attempt = api.get(&format!("/beverages?orderId={stuck_id}")).await.body;
    assert_eq!(attempt[0]["beverageStatus"], "failed", "{attempt}");
    println!(
        "[e2e] deadline: the order being made when the machine went down was given up by the machine {:.1} s after \
         it was placed (deadline 20 s); its 3 cups are back",
        placed_at.elapsed().as_secs_f64()
    );

    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    let on_time_id = on_time["orderId"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/orders/{on_time_id}")).await.body["orderStatus"],
        "completed"
    );
    let cups = level(&api, "/inventories/cup").await;
    assert_eq!(cups, 9, "10 stocked - 1 of the completed order");
    for customer in ["dl-1", "dl-2", "dl-3"] {
        assert_eq!(api.notifications_of(customer).await.len(), 1, "{customer}");
    }
    for order_id in [late_id, stuck_id] {
        let view = api.get(&format!("/kiosk/orders/{order_id}")).await.body;
        assert_eq!(view["orderStatus"], "cancelled");
    }
    println!(
        "[e2e] invariant after the late steps: cups left {cups} = 10 stocked - 1 of completed orders; \
         3 orders terminal, one notification each, nothing made for the cancelled ones"
    );
}
