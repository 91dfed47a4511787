//! The kiosk page and the operator's page in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/kiosk.mjs`), clicks through the seed's scenarios on a freshly
//! deployed stack (as a kiosk the operator registered, from an unregistered screen to a revoked
//! one), cancels pending orders from the kiosk and from the receipt page while the machine's
//! step is down, taps Cancel too late, and checks that the operator's page keeps nothing after
//! sign-out or when idle; then checks the cups and notifications the clicks left behind.
//! Screenshots of each final state are kept in `target/e2e/screenshots/`.

use cafe_e2e::{LocalCloud, SAGA_TIMEOUT, switch_step, wait_until_drained, workspace_root};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

#[test]
fn the_seed_scenarios_clicked_through_on_the_kiosk_page() {
    let root = workspace_root();
    let browser_tests = root.join("tests/browser");
    assert!(
        browser_tests.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: localstack/test.sh installs it (npm ci in tests/browser)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no Chromium at {chromium}: localstack/test.sh installs Debian's chromium (or set CHROMIUM)"
    );
    let cloud = LocalCloud::start(&[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let kiosk = runtime.block_on(cloud.kiosk_api("browser test"));
    let screenshots = root.join("target/e2e/screenshots");
    let mut run = Command::new("node")
        .arg(browser_tests.join("kiosk.mjs"))
        .arg(&cloud.api_url)
        .arg(&screenshots)
        .env("CHROMIUM", &chromium)
        .env("CAFE_OPERATOR_TOKEN", &cloud.operator_token)
        .env("CAFE_KIOSK_TOKEN", kiosk.token.as_deref().unwrap())
        .env(
            "CAFE_SMS_LOG",
            format!("{}/_ministack/sns/sms-messages", cloud.endpoint),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    let errors = run.stderr.take().unwrap();
    let errors = std::thread::spawn(move || std::io::read_to_string(errors).unwrap_or_default());
    // The page's script asks for what only the cloud's operator can do (turn a saga step off and
    // on), one `[cloud] ...` line at a time, and waits for `done`.
    let mut replies = run.stdin.take().unwrap();
    let mut out = String::new();
    for line in BufReader::new(run.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        println!("{line}");
        out.push_str(&line);
        out.push('\n');
        let Some(request) = line.strip_prefix("[cloud] ") else {
            continue;
        };
        match request {
            "beverage step off" => runtime.block_on(switch_step(&cloud, "BeverageQueueUrl", false)),
            "beverage step on" => runtime.block_on(switch_step(&cloud, "BeverageQueueUrl", true)),
            other => panic!("the page's script asked for {other:?}"),
        }
        writeln!(replies, "done").unwrap();
    }
    let status = run.wait().unwrap();
    assert!(
        status.success(),
        "the kiosk page failed a check:\n{out}\n{}",
        errors.join().unwrap()
    );
    assert!(out.contains("[kiosk] all checks passed"));
    runtime.block_on(every_order_settled(&cloud));
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
