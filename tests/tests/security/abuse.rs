//! Abuse at the public edge, each as an attacker would try it: every attempt is refused with a
//! clear 4xx and changes nothing (no cups taken, no order stored, no order number used).

use super::*;
use cafe_e2e::{SAGA_TIMEOUT, switch_step, wait_until_drained};

fn latte(customer: &str, qty: u32) -> Value {
    json!({"customerId": customer, "beverageName": "latte", "beverageQty": qty})
}

/// Waits until no order of an earlier test is in progress and every event about them has been
/// handled (cups given back included): a cup level set after this changes only with this test's
/// orders.
async fn quiet(operator: &Api) {
    operator
        .wait_for("/cafe", SAGA_TIMEOUT, |a| a.body["ordersInProgress"] == 0)
        .await;
    let sqs = aws_sdk_sqs::Client::new(&cloud().sdk().await);
    wait_until_drained(&sqs, &cloud().saga_queues(), SAGA_TIMEOUT).await;
}

fn message(answer: &Answer) -> &str {
    answer.body["error"]["message"].as_str().unwrap_or("")
}

/// The numbers of accepted orders, which must follow each other: a refusal between two uses up
/// none.
struct Numbers(Vec<u64>);

impl Numbers {
    fn accepted(&mut self, answer: &Answer) -> String {
        assert_eq!(answer.status, 201, "{answer:?}");
        let number = answer.body["orderNumber"].as_u64().expect("an order number");
        if let Some(last) = self.0.last() {
            assert_eq!(number, last + 1, "no refused order used up a number: {:?}", self.0);
        }
        self.0.push(number);
        answer.body["orderId"].as_str().unwrap().to_string()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_customer_cannot_drain_the_cups_or_fill_the_cafe() {
    let _turn = turn_within_one_hour().await;
    let cloud = cloud();
    let operator = cloud.api();
    quiet(&operator).await;
    operator.set_stock("cup", 100).await;
    let kiosk = kiosk("abuse: stock").await;
    // The machine takes nothing while the test runs, so every accepted order stays in progress.
    switch_step(cloud, "BeverageQueueUrl", false).await;
    let mut numbers = Numbers(Vec::new());

    // One order holds at most MaxBeveragesPerOrder.
    let (first, token) = first_order(&kiosk, "greedy").await;
    numbers.0.push(first["orderNumber"].as_u64().unwrap());
    let greedy = kiosk.with_token(&token);
    let huge = greedy.post("/orders", &latte("greedy", BEVERAGES_PER_ORDER + 1)).await;
    refused(&huge, 400, "invalid_quantity");
    assert!(
        message(&huge).contains(&format!("at most {BEVERAGES_PER_ORDER}")),
        "{huge:?}"
    );
    // And one customer at most MaxCupsPerCustomerPerHour: 1 + 10 of 12, then 2 more is past it.
    numbers.accepted(&greedy.post("/orders", &latte("greedy", BEVERAGES_PER_ORDER)).await);
    let past = greedy.post("/orders", &latte("greedy", 2)).await;
    refused(&past, 429, "too_many_requests");
    assert!(
        message(&past).contains(&format!("{CUPS_PER_CUSTOMER_PER_HOUR} cups an hour")),
        "{past:?}"
    );

    // One customer has at most MaxOrdersInProgressPerCustomer orders in progress.
    let (first, token) = first_order(&kiosk, "eager").await;
    let first_id = numbers.accepted(&Answer {
        status: 201,
        body: first,
        next_token: None,
    });
    let eager = kiosk.with_token(&token);
    for _ in 1..ORDERS_IN_PROGRESS_PER_CUSTOMER {
        numbers.accepted(&eager.post("/orders", &latte("eager", 1)).await);
    }
    let busy = eager.post("/orders", &latte("eager", 1)).await;
    refused(&busy, 429, "too_many_requests");
    assert!(message(&busy).contains("in progress"), "{busy:?}");
    let cancelled = eager.post(&format!("/orders/{first_id}/cancel"), &json!({})).await;
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    numbers.accepted(&eager.post("/orders", &latte("eager", 1)).await);

    // Nothing refused was stored, and only accepted orders took cups: greedy holds 11, eager
    // 3 (its cancelled order's cup came back).
    let stored = |customer: &'static str| {
        let operator = operator.clone();
        async move {
            let path = format!("/orders?customerId={customer}");
            operator.get(&path).await.body.as_array().unwrap().len()
        }
    };
    assert_eq!(
        (stored("greedy").await, stored("eager").await),
        (2, ORDERS_IN_PROGRESS_PER_CUSTOMER as usize + 1)
    );
    let expected = 100 - 11 - ORDERS_IN_PROGRESS_PER_CUSTOMER as u64;
    let cups = operator
        .wait_for("/inventories/cup", SAGA_TIMEOUT, |a| a.body["qty"] == expected)
        .await;
    assert_eq!(cups.body["qty"], expected);
    switch_step(cloud, "BeverageQueueUrl", true).await;
    println!(
        "[security] stock: order numbers {:?}, cups left {expected} of 100",
        numbers.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_respelled_token_or_a_key_that_is_not_text_is_refused() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let kiosk = kiosk("abuse: parsing").await;
    let (_, token) = first_order(&kiosk, "speller").await;
    // One signed end has one spelling: the same moment written another way is another token.
    let (_, claims, _) = opened(&token);
    let end = claims["exp"].as_str().unwrap().to_string();
    let moment = chrono::DateTime::parse_from_rfc3339(&end).unwrap();
    for respelled in [
        moment.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        moment.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    ] {
        assert_ne!(respelled, end);
        let written = format!(r#""exp":"{end}""#);
        assert_eq!(forged(&token, &written, &written), token);
        let forged = forged(&token, &written, &format!(r#""exp":"{respelled}""#));
        let answer = kiosk.with_token(&forged).get("/orders?customerId=speller").await;
        refused(&answer, 401, "unauthorized");
    }
    // An Idempotency-Key that is not plain text is refused, not taken as absent.
    let key = reqwest::header::HeaderValue::from_bytes(b"key-\xe9").unwrap();
    let request = kiosk.http.post(kiosk.url("/orders")).header("Idempotency-Key", key);
    let answer = kiosk.send(request.json(&latte("speller", 1))).await;
    refused(&answer, 400, "invalid_field");
    let stored = operator.get("/orders?customerId=speller").await;
    assert_eq!(
        stored.body.as_array().unwrap().len(),
        1,
        "only the first order is stored"
    );
}

/// Asks `path` until it is refused because a kiosk was revoked: at once in the order function,
/// which publishes the revocation, and within `SECRETS_REFRESH_SECONDS` in every other one.
async fn refused_as_revoked(holder: &Api, path: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(SECRETS_REFRESH_SECONDS + 10);
    loop {
        let answer = holder.get(path).await;
        if answer.status == 401 {
            assert!(
                message(&answer).contains("kiosk") && message(&answer).contains("revoked"),
                "{path}: {answer:?}"
            );
            return;
        }
        assert_eq!(answer.status, 200, "{path}: {answer:?}");
        assert!(
            std::time::Instant::now() < deadline,
            "{path} still answers after its kiosk was revoked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_stolen_kiosk_issued_ends_when_it_is_revoked() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let stolen = kiosk("abuse: stolen").await;
    let kiosk_id = stolen.token.as_deref().unwrap().split('.').nth(1).unwrap().to_string();
    // The thief mints customers: each first order comes with a customer token and a receipt.
    let mut minted = Vec::new();
    for i in 0..3 {
        let customer = format!("minted-{i}-{}", std::process::id());
        let (placed, token) = first_order(&stolen, &customer).await;
        let receipt = placed["receiptToken"].as_str().unwrap().to_string();
        let (_, claims, _) = opened(&token);
        assert_eq!(claims["kiosk"], kiosk_id.as_str(), "a token says where it was issued");
        assert_eq!(opened(&receipt).1["kiosk"], kiosk_id.as_str());
        TOKENS_SEEN.lock().await.push(receipt.clone());
        let order_id = placed["orderId"].as_str().unwrap().to_string();
        minted.push((customer, order_id, token, receipt));
    }
    // The operator sees what the kiosk issued, and revokes it.
    let listed = operator.get("/kiosks?limit=100").await;
    let entry = (listed.body.as_array().unwrap().iter())
        .find(|k| k["kioskId"] == kiosk_id.as_str())
        .unwrap_or_else(|| panic!("the kiosk is listed: {listed:?}"))
        .clone();
    assert_eq!(
        (entry["ordersPlaced"].as_u64(), entry["customerTokensIssued"].as_u64()),
        (Some(3), Some(3))
    );
    let revoked = operator
        .send(operator.http.delete(operator.url(&format!("/kiosks/{kiosk_id}"))))
        .await;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_eq!(revoked.body["customerTokensIssued"], 3);

    // Receipts first (they last seconds here), then the customers' tokens, in every function.
    for (_, order_id, _, receipt) in &minted {
        let phone = cloud.anonymous_api().with_token(receipt);
        refused_as_revoked(&phone, &format!("/orders/{order_id}")).await;
        refused_as_revoked(&phone, &format!("/kiosk/orders/{order_id}")).await;
    }
    for (customer, _, token, _) in &minted {
        let holder = cloud.anonymous_api().with_token(token);
        for path in [
            format!("/orders?customerId={customer}"),
            format!("/kiosk/customers/{customer}/orders"),
            format!("/notifications?customerId={customer}"),
        ] {
            refused_as_revoked(&holder, &path).await;
        }
        let ordered = holder.post("/orders", &latte(customer, 1)).await;
        refused(&ordered, 401, "unauthorized");
        let stored = operator.get(&format!("/orders?customerId={customer}")).await;
        assert_eq!(
            stored.body.as_array().unwrap().len(),
            1,
            "only the thief's first order: {stored:?}"
        );
    }
    println!(
        "[security] stolen kiosk: listed with 3 orders placed and 3 customer tokens issued; revoked, its 3 \
         receipts (2 functions) and 3 customer tokens (3 functions, and placing an order) answer 401, and no \
         order was stored by them"
    );
}

/// The code texted to `phone` last, once more than `before` texts reached it.
async fn next_code(phone: &str, before: usize) -> String {
    let started = std::time::Instant::now();
    loop {
        let texts = cloud().texts_to(phone).await;
        if texts.len() > before {
            return texts.last().unwrap()["Message"].as_str().unwrap()[..6].to_string();
        }
        assert!(started.elapsed() < SAGA_TIMEOUT, "no code texted to {phone}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_cannot_pump_texts_and_a_number_written_two_ways_is_one_number() {
    let _turn = turn_within_one_hour().await;
    let cloud = cloud();
    let kiosk = kiosk("abuse: texts").await;
    let placed = kiosk.post("/orders", &latte("pumper", 1)).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    TOKENS_SEEN
        .lock()
        .await
        .push(placed.body["customerToken"].as_str().unwrap().to_string());
    let receipt = kiosk.with_token(placed.body["receiptToken"].as_str().unwrap());

    // One number, written as a caller likes, is texted and counted as one.
    let number = "+821055500013";
    for written in ["+8201055500013", "+82 10-5550-0013"] {
        let asked = receipt.post("/sign-in", &json!({"phoneNumber": written})).await;
        assert_eq!(asked.status, 202, "{asked:?}");
        assert_eq!(asked.body["phoneNumber"], number, "{written}");
    }
    // A receipt has the cafe send at most MaxTextsPerCallerPerHour texts.
    let asked = receipt.post("/sign-in", &json!({"phoneNumber": "+821055500014"})).await;
    assert_eq!(asked.status, 202, "{asked:?}");
    let pumped = receipt.post("/sign-in", &json!({"phoneNumber": "+821055500015"})).await;
    refused(&pumped, 429, "too_many_requests");
    assert!(
        message(&pumped).contains(&format!("{TEXTS_PER_CALLER_PER_HOUR} texts this hour")),
        "{pumped:?}"
    );
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        cloud.texts_to(number).await.len(),
        2,
        "both spellings reached the one number"
    );
    assert_eq!(cloud.texts_to("+821055500014").await.len(), 1);
    assert!(
        cloud.texts_to("+821055500015").await.is_empty(),
        "the refused code was not texted"
    );
    // A number the cafe's phone rules do not know is refused, not texted.
    let bogus = kiosk.post("/sign-in", &json!({"phoneNumber": "+8210555000130"})).await;
    refused(&bogus, 400, "invalid_phone_number");
    println!(
        "[security] texts: one number written two ways texted as {number}; a receipt's {TEXTS_PER_CALLER_PER_HOUR} texts, then 429"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stranger_cannot_lock_a_customer_out_of_their_sign_in_or_their_texts() {
    let _turn = turn_within_one_hour().await;
    let cloud = cloud();
    let kiosk = kiosk("abuse: lockout").await;
    let anonymous = cloud.anonymous_api();
    let phone = "+821055500020";

    // The customer asks for a code at the kiosk: only the kiosk's screen holds its handle.
    let asked = kiosk.post("/sign-in", &json!({"phoneNumber": phone})).await;
    assert_eq!(asked.status, 202, "{asked:?}");
    let code = next_code(phone, 0).await;
    // A stranger, with no credential, guesses: through no handle of theirs does a guess touch it.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for handle in ["0".repeat(32), "f".repeat(32), uuid_like(7)] {
        for _ in 0..3 {
            let guess = json!({"phoneNumber": phone, "code": wrong, "handle": handle});
            refused(&anonymous.post("/sign-in/verify", &guess).await, 401, "code_expired");
        }
    }
    let answer = json!({"phoneNumber": phone, "code": code, "handle": asked.body["handle"]});
    let signed_in = anonymous.post("/sign-in/verify", &answer).await;
    assert_eq!(
        signed_in.status, 200,
        "the customer's code kept all its tries: {signed_in:?}"
    );
    let (customer_id, token) = (
        signed_in.body["customerId"].as_str().unwrap().to_string(),
        signed_in.body["customerToken"].as_str().unwrap().to_string(),
    );
    TOKENS_SEEN.lock().await.push(token.clone());

    // The stranger asks for codes to the customer's number until refused...
    let prank = kiosk.post("/orders", &latte("prankster", 1)).await;
    TOKENS_SEEN
        .lock()
        .await
        .push(prank.body["customerToken"].as_str().unwrap().to_string());
    let receipt = kiosk.with_token(prank.body["receiptToken"].as_str().unwrap());
    let mut codes = 1;
    loop {
        let asked = receipt.post("/sign-in", &json!({"phoneNumber": phone})).await;
        if asked.status != 202 {
            refused(&asked, 429, "too_many_requests");
            break;
        }
        codes += 1;
    }
    assert_eq!(codes, CODES_PER_NUMBER_PER_HOUR, "codes texted to the number this hour");
    // ...which leaves the customer's own order texts untouched.
    let customer = cloud.anonymous_api().with_token(&token);
    let order = json!({"customerId": customer_id, "beverageName": "latte", "beverageQty": 1, "phoneNumber": "+82 010 5550 0020"});
    let placed = customer.post("/orders", &order).await;
    assert_eq!(placed.status, 201, "the customer's order is still texted: {placed:?}");
    assert_eq!(
        placed.body["phoneNumber"], phone,
        "written another way, the proven number"
    );
    println!(
        "[security] lockout: 9 guesses through strangers' handles left the code whole; {codes} codes to the number, then 429; the customer's texted order 201"
    );
}

/// A well-formed handle nobody was given.
fn uuid_like(seed: u8) -> String {
    format!("{seed:x}").repeat(32)
}

/// Connections to the live API, opened by `tests/live.mjs`, one per watch message; what each gets
/// arrives as JSON lines.
struct LivePages {
    node: std::process::Child,
    lines: std::sync::mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl LivePages {
    fn open(watches: &[Value]) -> LivePages {
        use std::io::BufRead;
        let cloud = cloud();
        let url = format!(
            "{}/_aws/execute-api/{}/live",
            cloud.endpoint.replacen("http://", "ws://", 1),
            cloud.output("LiveApiId")
        );
        let mut node = std::process::Command::new("node")
            .arg("--experimental-websocket")
            .arg(workspace_root().join("tests/live.mjs"))
            .arg(url)
            .arg(Value::from(watches.to_vec()).to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs");
        let stdout = node.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(serde_json::from_str(&line).unwrap()).is_err() {
                    return;
                }
            }
        });
        LivePages {
            node,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits until a line of what the pages got matches, or fails after `SAGA_TIMEOUT`.
    fn wait_for(&mut self, what: &str, matches: impl Fn(&Value) -> bool) {
        let started = std::time::Instant::now();
        while !self.seen.iter().any(&matches) {
            let left = SAGA_TIMEOUT.saturating_sub(started.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("{what}: not seen in {SAGA_TIMEOUT:?}; the pages got {:?}", self.seen),
            }
        }
    }

    /// What connection `i` was sent, in order.
    fn messages(&mut self, i: u64) -> Vec<Value> {
        self.seen.extend(self.lines.try_iter());
        let of = |line: &&Value| line["connection"] == i && line.get("message").is_some();
        self.seen
            .iter()
            .filter(of)
            .map(|line| line["message"].clone())
            .collect()
    }
}

impl Drop for LivePages {
    fn drop(&mut self) {
        let _ = self.node.kill();
        let _ = self.node.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_out_closes_the_customer_s_pages_and_watches_of_no_order_leave_nothing() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    quiet(&operator).await;
    operator.set_stock("cup", 100).await;
    let kiosk = kiosk("abuse: watches").await;
    // The machine takes nothing: the order waits, so that a later change of it comes live.
    switch_step(cloud, "BeverageQueueUrl", false).await;
    let (order, token) = first_order(&kiosk, "watcher").await;
    let order_id = order["orderId"].as_str().unwrap().to_string();
    let made_up: Vec<String> = (0..3)
        .map(|i| format!("no-such-order-{i}-{}", std::process::id()))
        .collect();
    let mut watches = vec![json!({"action": "watch", "orderId": order_id, "token": token})];
    watches.extend(
        made_up
            .iter()
            .map(|id| json!({"action": "watch", "orderId": id, "token": token})),
    );
    let mut pages = tokio::task::block_in_place(|| {
        let mut pages = LivePages::open(&watches);
        pages.wait_for("the order's view, sent on watching", |line| {
            line["connection"] == 0 && line["message"]["type"] == "order"
        });
        pages
    });

    // The customer signs out everywhere; then their order changes (the operator cancels it).
    let customer = kiosk.with_token(&token);
    let signed_out = customer
        .send(customer.http.delete(customer.url("/customers/watcher/tokens")))
        .await;
    assert_eq!(signed_out.status, 200, "{signed_out:?}");
    // The saga step reads the sign-outs again after this long at most.
    tokio::time::sleep(std::time::Duration::from_secs(SECRETS_REFRESH_SECONDS + 1)).await;
    let cancelled = operator.post(&format!("/orders/{order_id}/cancel"), &json!({})).await;
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    tokio::task::block_in_place(|| {
        pages.wait_for("the signed-out customer's page closed", |line| {
            line["connection"] == 0 && line["closed"] == true
        })
    });
    let sent = pages.messages(0);
    assert!(
        sent.iter().all(|m| m["order"]["orderStatus"] != "cancelled"),
        "nothing after the sign-out reached the page: {sent:?}"
    );
    switch_step(cloud, "BeverageQueueUrl", true).await;

    // The watches of ids that are no order left only marks that DynamoDB's TTL removes.
    let dynamodb = aws_sdk_dynamodb::Client::new(&cloud.sdk().await);
    let now = chrono::Utc::now().timestamp();
    for id in &made_up {
        let item = dynamodb
            .get_item()
            .table_name(cloud.output("KioskTableName"))
            .key("orderId", aws_sdk_dynamodb::types::AttributeValue::S(id.clone()))
            .send()
            .await
            .unwrap()
            .item
            .unwrap_or_default();
        let expires: i64 = item["expiresAt"].as_n().unwrap().parse().unwrap();
        assert!(
            now < expires && expires <= now + 3600 + 60,
            "{id}: expires at {expires}, now {now}"
        );
        assert!(!item.contains_key("customerId"), "{id} is no view: {item:?}");
    }
    let view = dynamodb
        .get_item()
        .table_name(cloud.output("KioskTableName"))
        .key("orderId", aws_sdk_dynamodb::types::AttributeValue::S(order_id.clone()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(!view.contains_key("expiresAt"), "a real order's view is kept");
    println!(
        "[security] watches: a signed-out customer's page closed at the next change, sent nothing of it; 3 watches of no order left marks gone within the hour"
    );
}
