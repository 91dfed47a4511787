//! Security, end to end on its own local cloud (at most 5 orders per customer a minute): only the
//! operator token restocks or sees everyone's data; a customer's token, issued with their first
//! order, reaches only that customer's orders; limits give clear 4xx answers; and no token shows
//! up in an answer or in the functions' logs.

use cafe_e2e::{Answer, Api, LocalCloud};
use serde_json::{Value, json};
use std::sync::OnceLock;
use tokio::sync::Mutex;

const ORDERS_PER_MINUTE: u32 = 5;

fn cloud() -> &'static LocalCloud {
    static CLOUD: OnceLock<LocalCloud> = OnceLock::new();
    CLOUD.get_or_init(|| LocalCloud::start(&[("MaxOrdersPerCustomerPerMinute", "5")]))
}

/// Every token handed out during the run, for the log check at the end.
static TOKENS_SEEN: Mutex<Vec<String>> = Mutex::const_new(Vec::new());

/// The tests share one stack; the log check runs once the others are done.
static TURNS: Mutex<()> = Mutex::const_new(());

async fn first_order(kiosk: &Api, customer: &str) -> (Value, String) {
    let placed = kiosk
        .post(
            "/orders",
            &json!({"customerId": customer, "beverageName": "latte", "beverageQty": 1}),
        )
        .await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let token = placed.body["customerToken"]
        .as_str()
        .unwrap_or_else(|| panic!("a first order carries the customer's token: {placed:?}"))
        .to_string();
    TOKENS_SEEN.lock().await.push(token.clone());
    (placed.body, token)
}

fn refused(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.error_code(), code, "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_endpoints_need_the_operator_token_and_refusals_change_nothing() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let anonymous = cloud.anonymous_api();
    TOKENS_SEEN.lock().await.push(cloud.operator_token.clone());
    let created = operator
        .post("/inventories", &json!({"stockName": "lid", "qty": 7}))
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let (_, customer) = first_order(&anonymous, "op-check").await;
    let as_customer = anonymous.with_token(&customer);
    let wrong = anonymous.with_token("not-the-operator-token");

    for (caller, status, code) in [
        (&anonymous, 401, "unauthorized"),
        (&wrong, 401, "unauthorized"),
        (&as_customer, 403, "forbidden"),
    ] {
        refused(
            &caller
                .post("/inventories", &json!({"stockName": "straw", "qty": 1}))
                .await,
            status,
            code,
        );
        refused(&caller.put("/inventories/lid", &json!({"qty": 0})).await, status, code);
        refused(&caller.get("/inventories").await, status, code);
        refused(&caller.get("/inventories/lid").await, status, code);
        refused(&caller.get("/orders").await, status, code);
        refused(&caller.get("/beverages").await, status, code);
        refused(&caller.get("/notifications").await, status, code);
    }
    // A 401 says how to authenticate.
    let raw = reqwest::get(anonymous.url("/inventories")).await.unwrap();
    assert_eq!(raw.headers()["www-authenticate"], "Bearer");

    assert_eq!(
        operator.get("/inventories/lid").await.body["qty"],
        7,
        "no refused restock applied"
    );
    assert_eq!(
        operator.get("/inventories/straw").await.status,
        404,
        "no refused stock item created"
    );
    let listed = operator.get("/inventories").await;
    assert_eq!(listed.status, 200);
    assert_eq!(operator.put("/inventories/lid", &json!({"qty": 9})).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_sees_and_orders_only_as_themselves() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let kiosk = cloud.anonymous_api();
    let (alice_order, alice_token) = first_order(&kiosk, "alice").await;
    let (_, bob_token) = first_order(&kiosk, "bob").await;
    let alice = kiosk.with_token(&alice_token);
    let bob = kiosk.with_token(&bob_token);
    let alice_order_id = alice_order["orderId"].as_str().unwrap();
    let order_for = |customer: &str| json!({"customerId": customer, "beverageName": "latte", "beverageQty": 2});

    // Ordering again for a known customer needs their token.
    refused(&kiosk.post("/orders", &order_for("alice")).await, 401, "unauthorized");
    refused(&bob.post("/orders", &order_for("alice")).await, 403, "forbidden");
    let again = alice.post("/orders", &order_for("alice")).await;
    assert_eq!(again.status, 201, "{again:?}");
    assert!(again.body.get("customerToken").is_none(), "a token is issued once");
    assert_eq!(
        operator
            .get("/orders?customerId=alice")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2,
        "only the two accepted orders are stored"
    );

    // Alice's data: hers to read, not bob's, not anyone's without a token.
    for path in [
        "/orders?customerId=alice".to_string(),
        "/notifications?customerId=alice".to_string(),
        "/kiosk/customers/alice/orders".to_string(),
    ] {
        assert_eq!(alice.get(&path).await.status, 200, "{path}");
        refused(&bob.get(&path).await, 403, "forbidden");
        refused(&kiosk.get(&path).await, 401, "unauthorized");
    }
    let hers = alice.get("/orders?customerId=alice").await;
    assert!(hers.body.as_array().unwrap().iter().all(|o| o["customerId"] == "alice"));
    // By id, another customer's order is answered as unknown.
    for path in [
        format!("/orders/{alice_order_id}"),
        format!("/kiosk/orders/{alice_order_id}"),
    ] {
        let own = operator
            .wait_for(&path, cafe_e2e::SAGA_TIMEOUT, |a| a.status == 200)
            .await;
        assert_eq!(own.body["customerId"], "alice");
        assert_eq!(alice.get(&path).await.status, 200, "{path}");
        refused(&bob.get(&path).await, 404, "not_found");
        refused(&kiosk.get(&path).await, 401, "unauthorized");
    }

    // A token edited to name another customer, or signed with another key, is refused.
    let (_, signature) = bob_token.rsplit_once('.').unwrap();
    let alice_id_b64 = alice_token.split('.').nth(1).unwrap();
    let forged = kiosk.with_token(&format!("c1.{alice_id_b64}.{signature}"));
    refused(&forged.get("/orders?customerId=alice").await, 401, "unauthorized");
    refused(&forged.post("/orders", &order_for("alice")).await, 401, "unauthorized");

    // A retried first order (same Idempotency-Key) gets the same order and token back; a new
    // key for a known customer does not get one.
    let with_key = |key: &str| {
        kiosk
            .http
            .post(kiosk.url("/orders"))
            .header("Idempotency-Key", key)
            .json(&order_for("carol"))
    };
    let first = kiosk.send(with_key("carol-1")).await;
    assert_eq!(first.status, 201, "{first:?}");
    TOKENS_SEEN
        .lock()
        .await
        .push(first.body["customerToken"].as_str().unwrap().to_string());
    let retried = kiosk.send(with_key("carol-1")).await;
    assert_eq!(retried.status, 201);
    assert_eq!(retried.body["orderId"], first.body["orderId"]);
    assert_eq!(retried.body["customerToken"], first.body["customerToken"]);
    refused(&kiosk.send(with_key("carol-2")).await, 401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_are_clear_4xx_answers() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let kiosk = cloud.anonymous_api();
    let order =
        |customer: &str, qty: Value| json!({"customerId": customer, "beverageName": "latte", "beverageQty": qty});

    refused(
        &kiosk.post("/orders", &order("dave", json!(0))).await,
        400,
        "invalid_quantity",
    );
    refused(
        &kiosk.post("/orders", &order("dave", json!(51))).await,
        400,
        "invalid_quantity",
    );
    refused(
        &kiosk.post("/orders", &order(&"d".repeat(129), json!(1))).await,
        400,
        "invalid_field",
    );
    let huge = order("dave", json!(1))
        .to_string()
        .replace('{', &format!("{{\"pad\":\"{}\",", "x".repeat(17 * 1024)));
    let too_large = kiosk.send_raw(reqwest::Method::POST, "/orders", huge).await;
    refused(&too_large, 413, "body_too_large");
    assert_eq!(
        operator.get("/orders?customerId=dave").await.body,
        json!([]),
        "nothing stored"
    );

    // Orders per customer a minute: the sixth in a minute is refused with 429 and Retry-After.
    let (_, token) = first_order(&kiosk, "erin").await;
    let erin = kiosk.with_token(&token);
    let mut accepted = 1;
    let mut too_many = None;
    // A minute may turn during the run, so allow two windows' worth before expecting a refusal.
    for _ in 0..2 * ORDERS_PER_MINUTE + 1 {
        let request = erin
            .http
            .post(erin.url("/orders"))
            .bearer_auth(&token)
            .json(&order("erin", json!(1)));
        let raw = request.send().await.unwrap();
        match raw.status().as_u16() {
            201 => accepted += 1,
            429 => {
                too_many = Some((
                    raw.headers()["retry-after"].to_str().unwrap().to_string(),
                    raw.json::<Value>().await.unwrap(),
                ));
                break;
            }
            other => panic!("order answered {other}"),
        }
    }
    let (retry_after, body) = too_many.expect("a customer ordering too often is refused");
    assert_eq!(retry_after, "60");
    assert_eq!(body["error"]["code"], "too_many_requests");
    assert!(accepted <= 2 * ORDERS_PER_MINUTE, "{accepted} accepted");
    let stored = operator
        .get("/orders?customerId=erin")
        .await
        .body
        .as_array()
        .unwrap()
        .len();
    assert_eq!(stored, accepted as usize, "refused orders are not stored");
    println!("[security] rate: {accepted} orders accepted, then 429 (limit {ORDERS_PER_MINUTE}/min)");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_operator_token_takes_over_and_the_old_one_stops_working() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let secrets = aws_sdk_secretsmanager::Client::new(&cloud.sdk().await);
    let secret = cloud.output("OperatorTokenSecretArn");
    let set_token = |value: String| {
        secrets
            .put_secret_value()
            .secret_id(&secret)
            .secret_string(value)
            .send()
    };
    let old = cloud.api();
    assert_eq!(old.get("/inventories").await.status, 200);

    // The README's rotation: a new value for the secret.
    let rotated = format!("rotated-{}", std::process::id());
    TOKENS_SEEN.lock().await.push(rotated.clone());
    set_token(rotated.clone()).await.unwrap();
    let new = cloud.anonymous_api().with_token(&rotated);
    let started = std::time::Instant::now();
    new.wait_for("/inventories", std::time::Duration::from_secs(15), |a| a.status == 200)
        .await;
    let new_works_in = started.elapsed();
    let old_refused = old
        .wait_for("/inventories", std::time::Duration::from_secs(90), |a| a.status == 401)
        .await;
    refused(&old_refused, 401, "unauthorized");
    let old_refused_in = started.elapsed();
    println!(
        "[security] rotation: the new operator token worked after {:.1} s, the old one was refused after {:.1} s",
        new_works_in.as_secs_f64(),
        old_refused_in.as_secs_f64()
    );

    // Back to the token the other tests use.
    set_token(cloud.operator_token.clone()).await.unwrap();
    old.wait_for("/inventories", std::time::Duration::from_secs(15), |a| a.status == 200)
        .await;
}

/// Runs after the others (test names are ordered): every token handed out, and the operator's,
/// must appear in no function's log, though the refusals were logged.
#[tokio::test(flavor = "multi_thread")]
async fn zz_no_token_appears_in_the_functions_logs() {
    // Wait for the other tests of this binary to have taken their turns.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let kiosk = cloud.anonymous_api();
    // This test's own traffic, so it stands alone: a first order and a refused call.
    let (_, token) = first_order(&kiosk, "frank").await;
    refused(&kiosk.with_token(&token).get("/orders").await, 403, "forbidden");
    refused(&kiosk.with_token("x").get("/orders").await, 401, "unauthorized");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    let logs = aws_sdk_cloudwatchlogs::Client::new(&cloud.sdk().await);
    let mut lines = Vec::new();
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{}-", cloud.stack))
        .send()
        .await
        .unwrap();
    for group in groups.log_groups() {
        let name = group.log_group_name().unwrap();
        let mut next = None;
        loop {
            let page = logs
                .filter_log_events()
                .log_group_name(name)
                .set_next_token(next)
                .send()
                .await
                .unwrap();
            lines.extend(page.events().iter().filter_map(|e| e.message().map(String::from)));
            next = page.next_token().map(String::from);
            if next.is_none() {
                break;
            }
        }
    }
    let refusals = lines.iter().filter(|l| l.contains("request refused")).count();
    assert!(refusals >= 2, "the refusals were logged ({} lines read)", lines.len());
    let mut tokens = TOKENS_SEEN.lock().await.clone();
    tokens.push(cloud.operator_token.clone());
    tokens.push(token);
    for token in &tokens {
        // The signature part is what makes a customer token secret.
        let secret_part = token.rsplit('.').next().unwrap();
        let leaks: Vec<_> = lines.iter().filter(|l| l.contains(secret_part)).collect();
        assert!(leaks.is_empty(), "a token is in the logs: {leaks:?}");
    }
    println!(
        "[security] {} log lines of {} functions read ({refusals} refusals logged): none holds any of {} tokens",
        lines.len(),
        groups.log_groups().len(),
        tokens.len()
    );
}
