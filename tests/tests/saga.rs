//! The seed's scenarios, end to end: the real functions on a fresh local cloud, deployed from
//! template.yaml, driven through the real REST API, checked through the API, SQS and SNS.

use cafe_e2e::{Answer, Api, LocalCloud, SAGA_TIMEOUT, drain, send_in_batches, tap_bus, tap_topic, wait_until_drained};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Tests that order beverages share the one cup stock, so they take turns.
static CUPS: Mutex<()> = Mutex::const_new(());

/// The kiosk view once it has seen the order's outcome and the customer notified: the saga's last
/// two steps, which reach the read model in either order.
async fn final_kiosk_view(api: &Api, order_id: &str) -> Value {
    api.wait_for(&format!("/kiosk/orders/{order_id}"), SAGA_TIMEOUT, |a| {
        let seen = |event: &str| (a.body["timeline"].as_array()).is_some_and(|t| t.iter().any(|s| s["event"] == event));
        a.status == 200 && seen("CustomerNotified") && (seen("OrderCompleted") || seen("OrderCancelled"))
    })
    .await
    .body
}

fn timeline_events(view: &Value) -> Vec<String> {
    view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["event"].as_str().unwrap().to_string())
        .collect()
}

async fn cups(api: &Api) -> Answer {
    api.get("/inventories/cup").await
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_scenarios_end_in_one_outcome_and_one_notification_each() {
    let _turn = CUPS.lock().await;
    let cloud = LocalCloud::shared();
    let api = cloud.api();
    let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
    let topic_tap = tap_topic(cloud, &sqs, "NotificationTopicArn").await;
    let bus_tap = tap_bus(cloud, &sqs).await;

    // No cup stock at all: the order is cancelled, not left pending.
    assert_eq!(cups(&api).await.status, 404);
    let order0 = api
        .place(json!({"customerId": "0", "beverageName": "americano", "beverageQty": 1}))
        .await;
    let order0 = api.final_order(order0["orderId"].as_str().unwrap()).await;
    assert_eq!(order0["orderStatus"], "cancelled");
    assert_eq!(order0["reason"], "there is no cup stock");

    // 10 cups in stock.
    let created = api.post("/inventories", &json!({"stockName": "cup", "qty": 10})).await;
    assert_eq!((created.status, &created.body["qty"]), (201, &json!(10)), "{created:?}");
    let again = api.post("/inventories", &json!({"stockName": "cup", "qty": 99})).await;
    assert_eq!((again.status, again.error_code()), (409, "conflict"));
    assert_eq!(cups(&api).await.body["qty"], 10);

    // Customer 1 orders 11 americanos: cancelled with a reason, cups stay at 10.
    let phone = "+821012345678";
    let order1 = api
        .place(json!({"customerId": "1", "beverageName": "americano", "beverageQty": 11, "phoneNumber": phone}))
        .await;
    let id1 = order1["orderId"].as_str().unwrap().to_string();
    assert_eq!(order1["customerId"], "1");
    assert_eq!(order1["beverageQty"], 11);
    assert!(order1["orderDate"].is_string());
    let order1 = api.final_order(&id1).await;
    assert_eq!(order1["orderStatus"], "cancelled");
    assert_eq!(order1["reason"], "not enough cups for 11 beverages");
    assert_eq!(cups(&api).await.body["qty"], 10);

    // Customer 2 orders 1 iced tea: a beverage is made, completed, cups are 9.
    let order2 = api
        .place(json!({"customerId": "2", "beverageName": "iced-tea", "beverageQty": 1}))
        .await;
    let id2 = order2["orderId"].as_str().unwrap().to_string();
    let order2 = api.final_order(&id2).await;
    assert_eq!(order2["orderStatus"], "completed");
    assert!(order2.get("reason").is_none());
    assert_eq!(cups(&api).await.body["qty"], 9);
    let beverages = api.get(&format!("/beverages?orderId={id2}")).await;
    assert_eq!(beverages.body.as_array().unwrap().len(), 1, "{beverages:?}");
    let beverage = &beverages.body[0];
    assert_eq!(
        (&beverage["beverageName"], &beverage["beverageQty"]),
        (&json!("iced-tea"), &json!(1))
    );
    let by_id = api
        .get(&format!("/beverages/{}", beverage["beverageId"].as_str().unwrap()))
        .await;
    assert_eq!(by_id.status, 200);

    // The kiosk read model shows both orders with their timelines, built from events alone.
    let view1 = final_kiosk_view(&api, &id1).await;
    assert_eq!(view1["orderStatus"], "cancelled");
    assert_eq!(view1["reason"], "not enough cups for 11 beverages");
    assert_eq!(
        timeline_events(&view1),
        [
            "OrderPlaced",
            "PaymentAuthorized",
            "CupOutOfStock",
            "OrderCancelled",
            "CustomerNotified"
        ]
    );
    let view2 = final_kiosk_view(&api, &id2).await;
    assert_eq!(view2["orderStatus"], "completed");
    assert_eq!(
        timeline_events(&view2),
        [
            "OrderPlaced",
            "PaymentAuthorized",
            "CupStockDecreased",
            "MakingRequested",
            "OrderMaking",
            "BeverageMade",
            "OrderCompleted",
            "CustomerNotified"
        ]
    );
    // Called by its number, the one the order was given when it was placed.
    let number2 = order2["orderNumber"].as_u64().expect("an order number");
    assert_eq!(view2["orderNumber"], number2);
    assert_eq!(
        view2["notification"],
        format!("Order #{number2}: your 1 iced-tea is ready. Enjoy!")
    );
    let customer1 = api.get("/kiosk/customers/1/orders").await;
    assert_eq!(customer1.body.as_array().unwrap().len(), 1);
    assert_eq!(customer1.body[0]["orderId"], id1.as_str());

    // Exactly one notification per order, and SNS published each (SMS for the phone number).
    final_kiosk_view(&api, order0["orderId"].as_str().unwrap()).await;
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    let n1 = api.notifications_of("1").await;
    assert_eq!(n1.len(), 1, "{n1:?}");
    assert_eq!(
        (&n1[0]["orderStatus"], &n1[0]["orderId"]),
        (&json!("cancelled"), &json!(id1))
    );
    assert_eq!(
        n1[0]["message"],
        format!(
            "Order #{}: sorry, your order of 11 americanos was cancelled: not enough cups for 11 beverages.",
            order1["orderNumber"]
        )
    );
    let n2 = api.notifications_of("2").await;
    assert_eq!(n2.len(), 1, "{n2:?}");
    assert_eq!(n2[0]["orderStatus"], "completed");
    let published = drain(&sqs, &topic_tap).await;
    let published_for = |customer: &str, status: &str| {
        published
            .iter()
            .filter(|m| {
                let attr = |k: &str| {
                    m.message_attributes()
                        .and_then(|a| a.get(k))
                        .and_then(|v| v.string_value())
                        .unwrap_or("")
                };
                attr("customerId") == customer && attr("orderStatus") == status
            })
            .count()
    };
    assert_eq!(published_for("0", "cancelled"), 1);
    assert_eq!(published_for("1", "cancelled"), 1);
    assert_eq!(published_for("2", "completed"), 1);
    let texts = cloud.texts_to(phone).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0]["Message"], n1[0]["message"]);

    // Every event delivered again (at-least-once): nothing changes twice.
    let events = drain(&sqs, &bus_tap).await;
    let queue_for = |detail_type: &str| -> &[&str] {
        match detail_type {
            "OrderPlaced" => &["PaymentQueueUrl"],
            "PaymentAuthorized" => &["InventoryQueueUrl"],
            "CupOutOfStock" | "PaymentDeclined" | "MakingRequested" | "BeverageMade" | "BeverageFailed" => {
                &["OrderQueueUrl"]
            }
            "CupStockDecreased" => &["BeverageQueueUrl"],
            "OrderMaking" => &["BeverageQueueUrl", "PaymentQueueUrl"],
            "OrderCancelled" => &["NotifyQueueUrl", "InventoryQueueUrl", "PaymentQueueUrl"],
            "OrderCompleted" => &["NotifyQueueUrl"],
            _ => &[],
        }
    };
    // Each consumer gets its events again as whole batches (up to 10 a message batch).
    let mut by_queue: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for message in &events {
        let body = message.body().unwrap();
        let event: Value = serde_json::from_str(body).unwrap();
        let detail_type = event["detail-type"].as_str().unwrap();
        for queue in queue_for(detail_type).iter().copied().chain(["KioskQueueUrl"]) {
            by_queue.entry(queue).or_default().push(body.to_string());
        }
    }
    let mut redelivered = 0;
    for (queue, bodies) in &by_queue {
        redelivered += send_in_batches(&sqs, &cloud.output(queue), bodies).await;
    }
    // Three orders: 5 + 5 + 8 events; each to its consumers (CustomerNotified has none, a
    // cancellation three, OrderMaking two) and the kiosk.
    assert_eq!(events.len(), 18, "the saga's events as published");
    assert_eq!(redelivered, 38);
    println!(
        "[e2e] at-least-once: redelivered {} events as {redelivered} messages in batches; nothing changed",
        events.len()
    );
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;

    assert_eq!(cups(&api).await.body["qty"], 9, "no cup taken twice");
    assert_eq!(
        api.get(&format!("/beverages?orderId={id2}"))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(api.notifications_of("1").await.len(), 1);
    assert_eq!(api.notifications_of("2").await.len(), 1);
    assert_eq!(api.final_order(&id1).await["orderStatus"], "cancelled");
    assert_eq!(api.final_order(&id2).await["orderStatus"], "completed");
    assert_eq!(cloud.texts_to(phone).await.len(), 1, "no second SMS");
    assert_eq!(drain(&sqs, &topic_tap).await.len(), 0, "no second topic notification");
    assert_eq!(
        final_kiosk_view(&api, &id2).await["timeline"],
        view2["timeline"],
        "the read model is unchanged"
    );
    for dlq in cloud.dead_letter_queues() {
        assert_eq!(drain(&sqs, &dlq).await.len(), 0, "{dlq} is empty");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_idempotency_key_returns_the_same_order() {
    let _turn = CUPS.lock().await;
    let api = LocalCloud::shared().api();
    let order = json!({"customerId": "idem-1", "beverageName": "latte", "beverageQty": 2});
    let send = |body: Value| {
        api.send(
            api.http
                .post(api.url("/orders"))
                .header("Idempotency-Key", "kiosk-7-0001")
                .json(&body),
        )
    };
    let first = send(order.clone()).await;
    let second = send(order.clone()).await;
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(second.status, 201, "{second:?}");
    assert_eq!(first.body["orderId"], second.body["orderId"]);
    assert_eq!(first.body["orderDate"], second.body["orderDate"]);

    let other = send(json!({"customerId": "idem-1", "beverageName": "latte", "beverageQty": 3})).await;
    assert_eq!((other.status, other.error_code()), (409, "conflict"));

    let listed = api.get("/orders?customerId=idem-1").await;
    assert_eq!(
        listed.body.as_array().unwrap().len(),
        1,
        "one order for one key: {listed:?}"
    );
    api.final_order(first.body["orderId"].as_str().unwrap()).await;
    let notified = api
        .wait_for("/notifications?customerId=idem-1", SAGA_TIMEOUT, |a| {
            a.body.as_array().is_some_and(|n| !n.is_empty())
        })
        .await;
    assert_eq!(notified.body.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let cloud = LocalCloud::shared();
    let api = cloud.api();
    use reqwest::Method;

    let expect = |answer: Answer, status: u16, code: &str| {
        assert_eq!((answer.status, answer.error_code()), (status, code), "{answer:?}");
        assert!(answer.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    };
    let order = async |body: Value| api.post("/orders", &body).await;

    expect(
        api.send_raw(Method::POST, "/orders", "{\"customerId\":").await,
        400,
        "malformed_json",
    );
    expect(api.send_raw(Method::POST, "/orders", "").await, 400, "missing_body");
    expect(
        order(json!({"customerId": "bad", "beverageQty": 1})).await,
        400,
        "invalid_field",
    );
    expect(
        order(json!({"customerId": "bad", "beverageName": "americano", "beverageQty": "1"})).await,
        400,
        "invalid_field",
    );
    expect(
        order(json!({"customerId": 7, "beverageName": "americano", "beverageQty": 1})).await,
        400,
        "invalid_field",
    );
    expect(
        order(json!({"customerId": "bad", "beverageName": "mocha", "beverageQty": 1})).await,
        400,
        "unknown_beverage",
    );
    for qty in [json!(0), json!(51), json!(-1), json!(1e300), json!(1.5)] {
        let answer = order(json!({"customerId": "bad", "beverageName": "americano", "beverageQty": qty})).await;
        assert_eq!(answer.status, 400, "qty {qty}: {answer:?}");
    }
    expect(
        order(json!({"customerId": "", "beverageName": "americano", "beverageQty": 1})).await,
        400,
        "invalid_field",
    );
    expect(
        order(json!({"customerId": "bad", "beverageName": "americano", "beverageQty": 1, "phoneNumber": "call me"}))
            .await,
        400,
        "invalid_phone_number",
    );
    let huge = json!({"customerId": "x".repeat(20_000), "beverageName": "americano", "beverageQty": 1});
    expect(
        api.send_raw(Method::POST, "/orders", huge.to_string()).await,
        413,
        "body_too_large",
    );
    let listed = api.get("/orders?customerId=bad").await;
    assert_eq!(listed.body, json!([]), "no rejected order was stored");

    expect(api.get("/orders/no-such-order").await, 404, "not_found");
    expect(api.get("/inventories/no-such-stock").await, 404, "not_found");
    expect(api.get("/beverages/no-such-beverage").await, 404, "not_found");
    expect(api.get("/kiosk/orders/no-such-order").await, 404, "not_found");
    expect(
        api.put("/inventories/no-such-stock", &json!({"qty": 5})).await,
        404,
        "not_found",
    );

    expect(
        api.post("/inventories", &json!({"stockName": "lid", "qty": -5})).await,
        400,
        "invalid_quantity",
    );
    expect(
        api.post("/inventories", &json!({"stockName": "lid#1", "qty": 5})).await,
        400,
        "invalid_field",
    );
    expect(
        api.post("/inventories", &json!({"stockName": "lid"})).await,
        400,
        "invalid_field",
    );
    assert_eq!(
        api.get("/inventories/lid").await.status,
        404,
        "no rejected stock item was stored"
    );
    let lid = api.post("/inventories", &json!({"stockName": "lid", "qty": 5})).await;
    assert_eq!(lid.status, 201, "{lid:?}");
    expect(
        api.put("/inventories/lid", &json!({"qty": "many"})).await,
        400,
        "invalid_field",
    );
    expect(
        api.send_raw(Method::PUT, "/inventories/lid", "{qty: 3}").await,
        400,
        "malformed_json",
    );
    assert_eq!(
        api.get("/inventories/lid").await.body["qty"],
        5,
        "rejected restocks change nothing"
    );
    let restocked = api.put("/inventories/lid", &json!({"qty": 25})).await;
    assert_eq!((restocked.status, &restocked.body["qty"]), (200, &json!(25)));
    let all = api.get("/inventories").await;
    assert!(
        all.body
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["stockName"] == "lid" && i["qty"] == 25)
    );

    let menu = api.get("/menu").await;
    assert_eq!(menu.status, 200);
    assert!(
        menu.body
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["beverageName"] == "americano" && b["stockName"] == "cup")
    );
    let page = api.http.get(api.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_come_a_page_at_a_time_newest_first() {
    // Its orders take cups and publish events: not while another test counts them.
    let _turn = CUPS.lock().await;
    let cloud = LocalCloud::shared();
    let api = cloud.api();
    let order = json!({"customerId": "pager", "beverageName": "americano", "beverageQty": 1});
    let mut placed = Vec::new();
    for _ in 0..5 {
        placed.push(api.place(order.clone()).await["orderId"].as_str().unwrap().to_string());
    }

    // A customer's orders, two at a time: each once, newest first, and the last page says so.
    let pages = |list: &'static str| {
        let api = api.clone();
        async move {
            let (mut items, mut token, mut pages) = (Vec::<Value>::new(), None::<String>, 0);
            loop {
                let path = match &token {
                    None => format!("{list}limit=2"),
                    Some(t) => format!("{list}limit=2&nextToken={t}"),
                };
                let page = api.get(&path).await;
                assert_eq!(page.status, 200, "{path}: {page:?}");
                let got = page.body.as_array().unwrap();
                assert!(got.len() <= 2, "{path}: {} items", got.len());
                items.extend(got.iter().cloned());
                pages += 1;
                match page.next_token {
                    Some(next) => token = Some(next),
                    None => return (items, pages),
                }
                assert!(pages < 500, "{list} never ends");
            }
        }
    };
    let (mine, customer_pages) = pages("/orders?customerId=pager&").await;
    let ids: Vec<&str> = mine.iter().map(|o| o["orderId"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = placed.iter().map(String::as_str).collect();
    expected.reverse();
    assert_eq!(ids, expected, "every order once, newest first");
    assert!(customer_pages >= 3);

    // Everyone's latest orders come from the date index, newest first, with no repeats.
    let (latest, latest_pages) = pages("/orders?").await;
    let dates: Vec<&str> = latest.iter().map(|o| o["orderDate"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first: {dates:?}");
    let unique: std::collections::HashSet<&str> = latest.iter().map(|o| o["orderId"].as_str().unwrap()).collect();
    assert_eq!(unique.len(), latest.len(), "no order twice");
    assert!(placed.iter().all(|id| unique.contains(id.as_str())));
    let (stock, _) = pages("/inventories?").await;
    let names: Vec<&str> = stock.iter().map(|i| i["stockName"].as_str().unwrap()).collect();
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "stock A to Z, each once: {names:?}"
    );

    // A bad page request is a 400, never a 500: out of range, not a token, another list's token.
    let token = api.get("/orders?customerId=pager&limit=2").await.next_token.unwrap();
    for path in [
        "/orders?customerId=pager&limit=0".to_string(),
        "/orders?customerId=pager&limit=101".to_string(),
        "/orders?customerId=pager&limit=two".to_string(),
        "/orders?customerId=pager&nextToken=garbage".to_string(),
        format!("/orders?customerId=someone-else&nextToken={token}"),
        format!("/orders?nextToken={token}"),
        format!("/notifications?customerId=pager&nextToken={token}"),
    ] {
        let answer = api.get(&path).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (400, "invalid_field"),
            "{path}: {answer:?}"
        );
    }
    // Its orders end before the next test counts cups and events.
    for order_id in &placed {
        final_kiosk_view(&api, order_id).await;
    }
    println!(
        "[saga] pages: 5 orders of a customer in {customer_pages} pages of 2; {} latest orders in {latest_pages} pages; \
         7 bad page requests refused with 400",
        latest.len()
    );
}
