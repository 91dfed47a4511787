//! Customers: each sees and orders only as themselves, their token ends, limits and look-alike
//! ids are clear 4xx answers, and a cancelled customer is not told the stock level.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_sees_and_orders_only_as_themselves() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let kiosk = kiosk("alice's kiosk").await;
    let anonymous = cloud.anonymous_api();
    let (alice_order, alice_token) = first_order(&kiosk, "alice").await;
    let (_, bob_token) = first_order(&kiosk, "bob").await;
    let alice = kiosk.with_token(&alice_token);
    let bob = kiosk.with_token(&bob_token);
    let alice_order_id = alice_order["orderId"].as_str().unwrap();
    let order_for = |customer: &str| json!({"customerId": customer, "beverageName": "latte", "beverageQty": 2});

    // A kiosk orders for whoever stands at it, but a known customer's order there brings no
    // token (only its receipt); elsewhere only their own token orders for them.
    let at_kiosk = kiosk.post("/orders", &order_for("alice")).await;
    assert_eq!(at_kiosk.status, 201, "{at_kiosk:?}");
    assert!(at_kiosk.body.get("customerToken").is_none(), "a token is issued once");
    assert!(at_kiosk.body["receiptToken"].is_string(), "{at_kiosk:?}");
    refused(&bob.post("/orders", &order_for("alice")).await, 403, "forbidden");
    let again = alice.post("/orders", &order_for("alice")).await;
    assert_eq!(again.status, 201, "{again:?}");
    assert!(again.body.get("customerToken").is_none() && again.body.get("receiptToken").is_none());
    assert_eq!(
        operator
            .get("/orders?customerId=alice")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        3,
        "only the three accepted orders are stored"
    );

    // Alice's data: hers to read, not bob's, not anyone's without a token.
    for path in [
        "/orders?customerId=alice".to_string(),
        "/notifications?customerId=alice".to_string(),
        "/kiosk/customers/alice/orders".to_string(),
    ] {
        assert_eq!(alice.get(&path).await.status, 200, "{path}");
        refused(&bob.get(&path).await, 403, "forbidden");
        refused(&anonymous.get(&path).await, 401, "unauthorized");
        refused(&kiosk.get(&path).await, 403, "forbidden");
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
        refused(&anonymous.get(&path).await, 401, "unauthorized");
        refused(&kiosk.get(&path).await, 403, "forbidden");
    }

    // A token edited to name another customer, or in an old home-made form, is refused.
    let (_, bob_claims, signature) = opened(&bob_token);
    let bob_subject = format!(r#""sub":{}"#, bob_claims["sub"]);
    assert_eq!(forged(&bob_token, &bob_subject, &bob_subject), bob_token);
    let alice_part = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("alice");
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
    for forged in [
        forged(&bob_token, &bob_subject, r#""sub":"alice""#),
        format!("c2.{alice_part}.4102444800.{signature}"),
        format!("c1.{alice_part}.{signature}"),
    ] {
        let forged = kiosk.with_token(&forged);
        refused(&forged.get("/orders?customerId=alice").await, 401, "unauthorized");
        refused(&forged.post("/orders", &order_for("alice")).await, 401, "unauthorized");
    }

    // A retried first order (same Idempotency-Key, same kiosk) gets the same order and receipt
    // back but never a token again; from another kiosk it is refused and tells nothing of the
    // order; a new key for a known customer gets no token.
    let with_key = |from: &Api, key: &str| {
        from.http
            .post(from.url("/orders"))
            .header("Idempotency-Key", key)
            .json(&order_for("carol"))
    };
    let first = kiosk.send(with_key(&kiosk, "carol-1")).await;
    assert_eq!(first.status, 201, "{first:?}");
    TOKENS_SEEN
        .lock()
        .await
        .push(first.body["customerToken"].as_str().unwrap().to_string());
    let retried = kiosk.send(with_key(&kiosk, "carol-1")).await;
    assert_eq!(retried.status, 201);
    assert_eq!(retried.body["orderId"], first.body["orderId"]);
    assert!(retried.body.get("customerToken").is_none(), "{retried:?}");
    assert_eq!(
        retried.body["receiptToken"], first.body["receiptToken"],
        "the same receipt, not a new one"
    );
    let elsewhere = cloud.kiosk_api("another kiosk").await;
    let replayed = elsewhere.send(with_key(&elsewhere, "carol-1")).await;
    refused(&replayed, 409, "conflict");
    assert!(replayed.body.get("orderId").is_none(), "{replayed:?}");
    let later = kiosk.send(with_key(&kiosk, "carol-2")).await;
    assert_eq!(later.status, 201, "{later:?}");
    assert!(later.body.get("customerToken").is_none(), "{later:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_token_ends_and_then_says_so_everywhere() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let kiosk = kiosk("token ends").await;
    let asked = chrono::Utc::now().timestamp();
    let (_, token) = first_order(&kiosk, "ken").await;
    let (_, claims, _) = opened(&token);
    let ends = chrono::DateTime::parse_from_rfc3339(claims["exp"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let lasts = lasts(asked, chrono::Utc::now().timestamp(), ends, CUSTOMER_TOKEN_SECONDS);
    let ken = cloud.anonymous_api().with_token(&token);
    let paths = [
        "/orders?customerId=ken",
        "/notifications?customerId=ken",
        "/kiosk/customers/ken/orders",
    ];
    for path in paths {
        assert_eq!(ken.get(path).await.status, 200, "{path}");
    }
    tokio::time::sleep(std::time::Duration::from_secs((lasts + 1).max(0) as u64)).await;
    for path in paths {
        let ended = ken.get(path).await;
        refused(&ended, 401, "unauthorized");
        assert!(
            ended.body["error"]["message"].as_str().unwrap().contains("expired"),
            "{ended:?}"
        );
    }
    println!("[security] customer token: lasted {lasts} s, then refused as expired by 3 functions");
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_are_clear_4xx_answers() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let kiosk = kiosk("limits").await;
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
async fn look_alike_customer_ids_are_refused_and_change_nothing() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let at_kiosk = kiosk("look-alikes").await;
    let orders_before = operator.get("/orders").await.body.as_array().unwrap().len();
    // A zero-width space, a right-to-left override, full-width letters, a Cyrillic "а".
    let look_alikes = ["grace\u{200b}", "\u{202e}ecarg", "ｇｒａｃｅ", "gr\u{430}ce"];
    for id in look_alikes {
        let order = json!({"customerId": id, "beverageName": "latte", "beverageQty": 1});
        refused(&at_kiosk.post("/orders", &order).await, 400, "invalid_field");
        refused(&operator.post("/orders", &order).await, 400, "invalid_field");
        refused(
            &operator.get(&format!("/orders?customerId={id}")).await,
            400,
            "invalid_field",
        );
    }
    assert_eq!(
        operator.get("/orders").await.body.as_array().unwrap().len(),
        orders_before
    );
    println!(
        "[security] look-alike ids: {} ids x 3 requests refused with 400, no order stored",
        look_alikes.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_customer_is_not_told_the_stock_level() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    operator.set_stock("cup", 7).await;
    let placed = kiosk("stock level")
        .await
        .place(json!({"customerId": "heidi", "beverageName": "americano", "beverageQty": 9}))
        .await;
    let order = operator.final_order(placed["orderId"].as_str().unwrap()).await;
    assert_eq!(order["orderStatus"], "cancelled");
    assert_eq!(order["reason"], "not enough cups for 9 beverages");
    let notified = operator
        .wait_for("/notifications?customerId=heidi", cafe_e2e::SAGA_TIMEOUT, |a| {
            a.body != json!([])
        })
        .await;
    let message = notified.body[0]["message"].as_str().unwrap();
    // Past the order's own number, which may be any.
    let told = message
        .strip_prefix(&format!("Order #{}: ", order["orderNumber"]))
        .unwrap_or(message);
    assert!(
        !told.contains('7') && !order["reason"].as_str().unwrap().contains('7'),
        "{message}"
    );
    println!("[security] stock level: 9 asked of 7 cups; the customer read {message:?}");
}
