//! The API's total throttle under a bounded load, on its own local cloud whose stage takes 5
//! requests a second with a burst of 10: a rush of orders gets 429 past the bucket, and only the
//! orders it accepted are stored and go through the saga.

use cafe_e2e::LocalCloud;
use serde_json::json;
use std::time::{Duration, Instant};

const RATE: f64 = 5.0;
const BURST: usize = 10;
const RUSH: usize = 40;
/// Each takes 10 of the rush, well within a kiosk's own limit (30 a minute): the stage is the limit.
const KIOSKS: usize = 4;

#[tokio::test(flavor = "multi_thread")]
async fn a_rush_of_orders_past_the_stage_throttle_gets_429_and_changes_nothing_else() {
    let cloud = LocalCloud::start(&[
        ("ApiRequestsPerSecond", &RATE.to_string()),
        ("ApiBurstRequests", &BURST.to_string()),
    ]);
    let api = cloud.api();
    // Let the bucket fill after the deploy's own calls, then set the stock with one request.
    tokio::time::sleep(Duration::from_secs(3)).await;
    api.set_stock("cup", 1000).await;
    let mut kiosks = Vec::new();
    for till in 0..KIOSKS {
        kiosks.push(cloud.kiosk_api(&format!("till {till}")).await);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Forty customers order at the same moment, at the cafe's four kiosks.
    let started = Instant::now();
    let mut rush = tokio::task::JoinSet::new();
    for i in 0..RUSH {
        let api = kiosks[i % KIOSKS].clone();
        rush.spawn(async move {
            let order = json!({"customerId": format!("rush-{i}"), "beverageName": "latte", "beverageQty": 1});
            (format!("rush-{i}"), api.post("/orders", &order).await)
        });
    }
    let answers = rush.join_all().await;
    let took = started.elapsed();
    let accepted: Vec<&String> = answers
        .iter()
        .filter(|(_, a)| a.status == 201)
        .map(|(c, _)| c)
        .collect();
    let throttled = answers.iter().filter(|(_, a)| a.status == 429).count();
    assert_eq!(accepted.len() + throttled, RUSH, "only 201 or 429: {answers:?}");
    assert!(throttled > 0, "a rush past the burst is throttled");
    let most = BURST + (RATE * took.as_secs_f64()).ceil() as usize + 1;
    assert!(
        accepted.len() <= most,
        "{} accepted in {took:?}, more than the bucket allows ({most})",
        accepted.len()
    );

    // Only the accepted orders exist, each once (read slowly, within the rate).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut stored = 0;
    for (customer, answer) in &answers {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let orders = api.get(&format!("/orders?customerId={customer}")).await;
        assert_eq!(orders.status, 200, "{orders:?}");
        let count = orders.body.as_array().unwrap().len();
        assert_eq!(count, usize::from(answer.status == 201), "{customer}: {orders:?}");
        stored += count;
    }
    println!(
        "[throttle] {RUSH} orders at once from {KIOSKS} kiosks against {RATE}/s with a burst of {BURST}: {} accepted, {throttled} \
         answered 429 in {:.2} s; {stored} orders stored, none of the throttled",
        accepted.len(),
        took.as_secs_f64()
    );
}
