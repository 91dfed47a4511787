//! The cafe floor on the local cloud: each order gets the day's next number, the operator opens
//! and closes the cafe, and a full cafe (`MaxOrdersInProgress`, 2 here, with 3 s of brewing so
//! orders stay in progress a while) asks new orders to wait; the pickup screen, the kiosk and the
//! receipt page follow orders by themselves in a real browser (`tests/browser/floor.mjs`).

use cafe_e2e::{Api, LocalCloud, SAGA_TIMEOUT, run_browser_script, workspace_root};
use serde_json::{Value, json};
use std::time::Duration;

fn order_for(customer: &str) -> Value {
    json!({"customerId": customer, "beverageName": "americano", "beverageQty": 1})
}

/// The cafe as the operator sees it, once it shows no order in progress.
async fn wait_until_empty(api: &Api) -> Value {
    api.wait_for("/cafe", SAGA_TIMEOUT, |a| a.body["ordersInProgress"] == 0)
        .await
        .body
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_are_numbered_and_a_closed_or_full_cafe_asks_them_to_wait() {
    // Numbers count from 1 each (UTC) day: start where the day does not turn within 3 minutes.
    let left = 86_400 - chrono::Utc::now().timestamp() % 86_400;
    if left < 180 {
        tokio::time::sleep(Duration::from_secs(left as u64 + 1)).await;
    }
    let cloud = LocalCloud::start(&[("MaxOrdersInProgress", "2"), ("BrewSeconds", "3")]);
    let api = cloud.api();
    let kiosk = cloud.kiosk_api("till 1").await;
    api.set_stock("cup", 10).await;

    // Open and empty; the kiosks may look, nobody else.
    let cafe = api.get("/cafe").await;
    assert_eq!(
        cafe.body,
        json!({"open": true, "ordersInProgress": 0, "maxOrdersInProgress": 2})
    );
    assert_eq!(kiosk.get("/cafe").await.body["open"], true);
    assert_eq!(cloud.anonymous_api().get("/cafe").await.status, 401);

    // Two orders fill the cafe; each has the day's next number.
    let first = kiosk.post("/orders", &order_for("floor-1")).await;
    let second = kiosk.post("/orders", &order_for("floor-2")).await;
    assert_eq!((first.status, second.status), (201, 201), "{first:?} {second:?}");
    assert_eq!(
        (&first.body["orderNumber"], &second.body["orderNumber"]),
        (&json!(1), &json!(2))
    );
    let full = kiosk.post("/orders", &order_for("floor-3")).await;
    assert_eq!((full.status, full.error_code()), (409, "cafe_busy"), "{full:?}");
    assert!(full.body["error"]["message"].as_str().unwrap().contains("wait"));
    assert_eq!(api.get("/cafe").await.body["ordersInProgress"], 2);

    // Made, they give their places back; the refused order used up no number.
    for placed in [&first, &second] {
        let done = api.final_order(placed.body["orderId"].as_str().unwrap()).await;
        assert_eq!(done["orderStatus"], "completed");
    }
    wait_until_empty(&api).await;
    let third = kiosk.post("/orders", &order_for("floor-3")).await;
    assert_eq!(
        (third.status, &third.body["orderNumber"]),
        (201, &json!(3)),
        "{third:?}"
    );

    // Closed: only the operator closes it, and a closed cafe refuses orders.
    assert_eq!(kiosk.put("/cafe", &json!({"open": false})).await.status, 403);
    for bad in [
        json!({"open": "no"}),
        json!({}),
        json!({"open": false, "until": "noon"}),
    ] {
        let refused = api.put("/cafe", &bad).await;
        assert_eq!(refused.status, 400, "{bad} {refused:?}");
    }
    let closed = api.put("/cafe", &json!({"open": false})).await;
    assert_eq!(
        (closed.status, &closed.body["open"]),
        (200, &json!(false)),
        "{closed:?}"
    );
    let refused = kiosk.post("/orders", &order_for("floor-4")).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (409, "cafe_closed"),
        "{refused:?}"
    );
    // The order in progress is still made.
    let third = api.final_order(third.body["orderId"].as_str().unwrap()).await;
    assert_eq!(third["orderStatus"], "completed");

    // Open again: the numbers run on.
    let opened = api.put("/cafe", &json!({"open": true})).await;
    assert_eq!(opened.body["open"], true);
    let fourth = kiosk.post("/orders", &order_for("floor-4")).await;
    assert_eq!(
        (fourth.status, &fourth.body["orderNumber"]),
        (201, &json!(4)),
        "{fourth:?}"
    );
    let fourth = api.final_order(fourth.body["orderId"].as_str().unwrap()).await;
    assert_eq!(fourth["orderStatus"], "completed");

    // Each customer was told their order by its number, and every place came back exactly once.
    for (customer, number) in [("floor-1", 1), ("floor-2", 2), ("floor-3", 3), ("floor-4", 4)] {
        let told = api
            .wait_for(&format!("/notifications?customerId={customer}"), SAGA_TIMEOUT, |a| {
                a.body.as_array().is_some_and(|n| !n.is_empty())
            })
            .await;
        let message = told.body[0]["message"].as_str().unwrap().to_string();
        assert_eq!(message, format!("Order #{number}: your 1 americano is ready. Enjoy!"));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        wait_until_empty(&api).await,
        json!({"open": true, "ordersInProgress": 0, "maxOrdersInProgress": 2})
    );
    // Every place came back exactly once: the cafe takes 2 again, not 3 (a place given back
    // twice would let a third in).
    let again: Vec<u16> = {
        let mut statuses = Vec::new();
        for customer in ["floor-5", "floor-6", "floor-7"] {
            statuses.push(kiosk.post("/orders", &order_for(customer)).await.status);
        }
        statuses
    };
    assert_eq!(again, [201, 201, 409]);
}

#[test]
fn the_pickup_screen_kiosk_and_phone_follow_orders_live_in_a_browser() {
    let cloud = LocalCloud::start(&[("MaxOrdersInProgress", "2"), ("BrewSeconds", "3")]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(cloud.api().set_stock("cup", 10));
    // The pickup screen as JSON, for anyone: nothing yet.
    let board = runtime.block_on(async {
        let client = reqwest::Client::new();
        let answer = client
            .get(cloud.anonymous_api().url("/display"))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        answer.json::<Value>().await.unwrap()
    });
    assert_eq!(board, json!({"making": [], "ready": []}));
    let out = run_browser_script(&cloud, &runtime, "floor.mjs");
    assert!(out.contains("[floor] all checks passed"));
    let screenshots = workspace_root().join("target/e2e/screenshots");
    for shot in [
        "display-making.png",
        "display-ready.png",
        "kiosk-live-completed.png",
        "receipt-live-completed.png",
        "kiosk-busy.png",
        "kiosk-closed.png",
    ] {
        assert!(screenshots.join(shot).exists(), "{shot} was not taken");
    }
}
