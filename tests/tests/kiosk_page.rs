//! The kiosk page and the operator's page in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/kiosk.mjs`), clicks through the seed's scenarios on a freshly
//! deployed stack (as a kiosk the operator registered, from an unregistered screen to a revoked
//! one), cancels pending orders from the kiosk and from the receipt page while the machine's
//! step is down, taps Cancel too late, and checks that the operator's page keeps nothing after
//! sign-out or when idle; then checks the cups and notifications the clicks left behind.
//! Screenshots of each final state are kept in `target/e2e/screenshots/`.

use cafe_e2e::{LocalCloud, SAGA_TIMEOUT, run_browser_script, wait_until_drained, workspace_root};
use serde_json::Value;
use std::collections::HashMap;

#[test]
fn the_seed_scenarios_clicked_through_on_the_kiosk_page() {
    let cloud = LocalCloud::start(&[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let out = run_browser_script(&cloud, &runtime, "kiosk.mjs");
    assert!(out.contains("[kiosk] all checks passed"));
    runtime.block_on(every_order_settled(&cloud));
    let screenshots = workspace_root().join("target/e2e/screenshots");
    for shot in [
        "customer-1-cancelled.png",
        "customer-2-completed.png",
        "operator.png",
        "operator-signed-out.png",
        "phone.png",
        "customer-5-texted.png",
        "customer-6-cancelled.png",
        "customer-7-receipt-cancelled.png",
        "customer-8-too-late.png",
    ] {
        assert!(screenshots.join(shot).exists(), "{shot} was not taken");
    }
}

/// What the clicks left behind, once the saga is quiet: every order terminal with one
/// notification, and cups left = 10 stocked - cups of completed orders (the cancelled ones,
/// whatever stage they were cancelled at, gave theirs back).
async fn every_order_settled(cloud: &LocalCloud) {
    let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    let api = cloud.api();
    let orders = api.get("/orders?limit=100").await.body;
    let orders = orders.as_array().unwrap();
    let notified = api.get("/notifications?limit=100").await.body;
    let mut notifications = HashMap::<&str, usize>::new();
    for n in notified.as_array().unwrap() {
        *notifications.entry(n["orderId"].as_str().unwrap()).or_default() += 1;
    }
    let status = |o: &Value| o["orderStatus"].as_str().unwrap().to_string();
    let completed: u64 = (orders.iter())
        .filter(|o| status(o) == "completed")
        .map(|o| o["beverageQty"].as_u64().unwrap())
        .sum();
    let cancelled = orders.iter().filter(|o| status(o) == "cancelled").count();
    let cups = api.get("/inventories/cup").await.body["qty"].as_u64().unwrap();
    println!(
        "[e2e] invariant: cups left {cups} = 10 stocked - {completed} of completed orders; {} orders, {cancelled} cancelled, one notification each",
        orders.len()
    );
    assert_eq!(cups, 10 - completed);
    for order in orders {
        let id = order["orderId"].as_str().unwrap();
        assert!(["completed", "cancelled"].contains(&status(order).as_str()), "{order}");
        assert_eq!(notifications.get(id), Some(&1), "one notification for {order}");
    }
}
