//! Kiosks and receipts: only registered kiosks order, within their limit, until revoked; the
//! kiosk command; a receipt shows its own order only, until it expires.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_shows_its_own_order_only_until_it_expires() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let anonymous = cloud.anonymous_api();
    let kiosk = kiosk("receipts").await;
    let order = json!({"customerId": "judy", "beverageName": "latte", "beverageQty": 1});
    let asked = chrono::Utc::now().timestamp();
    let placed = kiosk.post("/orders", &order).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let receipt = placed.body["receiptToken"].as_str().unwrap().to_string();
    TOKENS_SEEN.lock().await.push(receipt.clone());
    let order_id = placed.body["orderId"].as_str().unwrap();
    let expires_at: chrono::DateTime<chrono::Utc> = placed.body["receiptExpiresAt"].as_str().unwrap().parse().unwrap();
    let lasts = lasts(
        asked,
        chrono::Utc::now().timestamp(),
        expires_at.timestamp(),
        RECEIPT_SECONDS,
    );
    let mut checks = 0;

    // Its own order, in the order function and in the read model.
    let by_receipt = anonymous.with_token(&receipt);
    for path in [format!("/orders/{order_id}"), format!("/kiosk/orders/{order_id}")] {
        let seen = by_receipt
            .wait_for(&path, cafe_e2e::SAGA_TIMEOUT, |a| a.status == 200)
            .await;
        assert_eq!(seen.body["orderId"], order_id);
        checks += 1;
    }
    // Nothing else: another order is unknown to it, every other route refuses it.
    let other = operator
        .place(json!({"customerId": "judy", "beverageName": "latte", "beverageQty": 1}))
        .await;
    assert!(
        other.get("receiptToken").is_none(),
        "only a kiosk's order has a receipt"
    );
    let other_id = other["orderId"].as_str().unwrap();
    for path in [format!("/orders/{other_id}"), format!("/kiosk/orders/{other_id}")] {
        let answer = by_receipt
            .wait_for(&path, cafe_e2e::SAGA_TIMEOUT, |a| {
                a.status != 200 || a.body["orderId"] == other_id
            })
            .await;
        refused(&answer, 404, "not_found");
        checks += 1;
    }
    for path in [
        "/orders?customerId=judy",
        "/notifications?customerId=judy",
        "/kiosk/customers/judy/orders",
        "/inventories",
        "/orders",
        "/kiosks",
    ] {
        refused(&by_receipt.get(path).await, 403, "forbidden");
        checks += 1;
    }
    refused(&by_receipt.post("/orders", &order).await, 403, "forbidden");
    refused(&by_receipt.post("/sessions", &json!({})).await, 403, "forbidden");
    checks += 2;
    // Edited to name another order, or to last longer: not a receipt at all.
    let (_, claims, _) = opened(&receipt);
    let (subject, end) = (
        format!(r#""sub":{}"#, claims["sub"]),
        format!(r#""exp":{}"#, claims["exp"]),
    );
    let later = (expires_at + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for forged in [
        forged(&receipt, &subject, &format!(r#""sub":"{other_id}""#)),
        forged(&receipt, &end, &format!(r#""exp":"{later}""#)),
    ] {
        assert_ne!(forged, receipt);
        refused(
            &anonymous.with_token(&forged).get(&format!("/orders/{other_id}")).await,
            401,
            "unauthorized",
        );
        checks += 1;
    }

    // The link for the customer's phone is made only with the receipt itself.
    let link_path = |page: &str| format!("/kiosk/orders/{order_id}/receipt-link?page={page}");
    let page = "http%3A%2F%2Fcafe.example%2Fprod%2Freceipt";
    let link = by_receipt.get(&link_path(page)).await;
    assert_eq!(link.status, 200, "{link:?}");
    assert_eq!(
        link.body["link"],
        format!("http://cafe.example/prod/receipt#r={receipt}")
    );
    assert!(
        link.body["qrCode"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml;base64,")
    );
    refused(&operator.get(&link_path(page)).await, 403, "forbidden");
    refused(&kiosk.get(&link_path(page)).await, 403, "forbidden");
    refused(&anonymous.get(&link_path(page)).await, 401, "unauthorized");
    refused(
        &by_receipt.get(&link_path("javascript%3Aalert(1)")).await,
        400,
        "invalid_field",
    );
    checks += 5;

    // At its end it stops working everywhere, and says why.
    tokio::time::sleep(std::time::Duration::from_secs((lasts + 1).max(0) as u64)).await;
    for path in [format!("/orders/{order_id}"), format!("/kiosk/orders/{order_id}")] {
        let ended = by_receipt.get(&path).await;
        refused(&ended, 401, "unauthorized");
        assert!(
            ended.body["error"]["message"].as_str().unwrap().contains("expired"),
            "{ended:?}"
        );
        checks += 1;
    }
    println!(
        "[security] receipt: lasted {lasts} s; showed its own order in 2 functions; {checks} checks: another order \
         404, 8 other routes 403, 2 edited receipts 401, the phone link only with the receipt itself, 401 \
         \"expired\" once ended"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_registered_kiosks_place_orders_within_their_limit_until_revoked() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let operator = cloud.api();
    let anonymous = cloud.anonymous_api();
    let order = |customer: &str| json!({"customerId": customer, "beverageName": "latte", "beverageQty": 1});
    let stored = async |customer: &str| {
        operator
            .get(&format!("/orders?customerId={customer}"))
            .await
            .body
            .as_array()
            .unwrap()
            .len()
    };
    let mut refusals = 1; // the order with no credential, just below

    // No credential, or a kiosk token that is not a registered kiosk's: 401, nothing stored.
    refused(&anonymous.post("/orders", &order("kim")).await, 401, "unauthorized");
    let front = kiosk("front door").await;
    let back = kiosk("back door").await;
    let front_token = front.token.clone().unwrap();
    let (front_id, front_secret) = front_token.trim_start_matches("k1.").split_once('.').unwrap();
    let back_secret = back.token.as_deref().unwrap().rsplit('.').next().unwrap();
    for forged in [
        format!("k1.{front_id}.{back_secret}"),
        format!("k1.kiosk-000000000000.{front_secret}"),
        "k1.front.door".to_string(),
    ] {
        let answer = anonymous.with_token(&forged).post("/orders", &order("kim")).await;
        refused(&answer, 401, "unauthorized");
        refusals += 1;
    }
    assert_eq!(stored("kim").await, 0, "no refused order stored");

    // The operator sees the kiosks but never their secrets; the cafe keeps only their hashes.
    let listed = operator.get("/kiosks").await;
    assert_eq!(listed.status, 200, "{listed:?}");
    let names: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kioskName"].as_str())
        .collect();
    assert!(
        names.contains(&"front door") && names.contains(&"back door"),
        "{names:?}"
    );
    assert!(!listed.body.to_string().contains(front_secret), "a secret in the list");
    let table = cloud.output("CustomersTableName");
    let stored_kiosk = aws_sdk_dynamodb::Client::new(&cloud.sdk().await)
        .get_item()
        .table_name(&table)
        .key(
            "customerKey",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("kiosk#{front_id}")),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("the kiosk is stored");
    let hash = stored_kiosk["secretHash"].as_s().unwrap();
    assert!(
        hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{hash}"
    );
    assert!(
        stored_kiosk.values().all(|v| !format!("{v:?}").contains(front_secret)),
        "the secret itself is stored: {stored_kiosk:?}"
    );

    // A kiosk's orders a minute: past its limit 429, while another kiosk still orders.
    let mut accepted = 0;
    let mut busy = None;
    // A minute may turn during the run, so allow two windows' worth before expecting a refusal.
    for i in 0..2 * KIOSK_ORDERS_PER_MINUTE + 1 {
        let answer = front.post("/orders", &order(&format!("queue-{i}"))).await;
        match answer.status {
            201 => accepted += 1,
            _ => {
                refused(&answer, 429, "too_many_requests");
                assert_eq!(stored(&format!("queue-{i}")).await, 0, "a refused order stored nothing");
                busy = Some(answer);
                refusals += 1;
                break;
            }
        }
    }
    let busy = busy.expect("a kiosk past its orders a minute is refused");
    for i in 0..accepted {
        assert_eq!(
            stored(&format!("queue-{i}")).await,
            1,
            "an accepted order is stored once"
        );
    }
    assert!(
        busy.body["error"]["message"].as_str().unwrap().contains("this kiosk"),
        "{busy:?}"
    );
    assert!(
        (KIOSK_ORDERS_PER_MINUTE..=2 * KIOSK_ORDERS_PER_MINUTE).contains(&accepted),
        "{accepted}"
    );
    let other = back.post("/orders", &order("from-the-back")).await;
    assert_eq!(other.status, 201, "another kiosk is not held up: {other:?}");
    assert_eq!(
        other.body["kioskId"],
        back.token.as_deref().unwrap().split('.').nth(1).unwrap()
    );

    // Revoked: its token orders no more, at once, and it is gone from the list.
    let revoke = |id: &str| operator.http.delete(operator.url(&format!("/kiosks/{id}")));
    let revoked = operator.send(revoke(front_id)).await;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_eq!(revoked.body["kioskName"], "front door");
    refused(
        &front.post("/orders", &order("after-revoke")).await,
        401,
        "unauthorized",
    );
    refusals += 1;
    assert_eq!(stored("after-revoke").await, 0);
    refused(&operator.send(revoke(front_id)).await, 404, "not_found");
    let listed = operator.get("/kiosks").await.body;
    assert!(
        listed.as_array().unwrap().iter().all(|k| k["kioskId"] != front_id),
        "{listed}"
    );
    assert_eq!(back.post("/orders", &order("still-open")).await.status, 201);
    println!(
        "[security] kiosks: no credential and 3 forged kiosk tokens refused with 401; one kiosk took {accepted} \
         orders, then 429 (limit {KIOSK_ORDERS_PER_MINUTE}/min) while another kept ordering; revoked, its next \
         order 401; {refusals} refusals stored nothing, each accepted order was stored once"
    );
}

/// `make kiosk` / `localstack/kiosk.py`, as an operator runs it at a shell with no AWS settings.
#[tokio::test(flavor = "multi_thread")]
async fn the_kiosk_command_registers_replaces_lists_and_revokes_kiosks() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let run = |args: &[&str]| -> String {
        let out = std::process::Command::new(workspace_root().join(".venv/bin/python"))
            .arg(workspace_root().join("localstack/kiosk.py"))
            .args(["--endpoint", &cloud.endpoint, "--outputs"])
            .arg(&cloud.outputs_file)
            .args(args)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_REGION")
            .output()
            .expect("python in .venv runs kiosk.py");
        assert!(
            out.status.success(),
            "kiosk.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let token_in = |link: &str| link.trim().split_once("#kiosk=").unwrap().1.to_string();
    let order = json!({"customerId": "by-command", "beverageName": "latte", "beverageQty": 1});

    let link = run(&["register", "till by the door", "--link"]);
    assert!(link.starts_with(&cloud.api_url), "{link}");
    let first = cloud.anonymous_api().with_token(&token_in(&link));
    assert_eq!(first.post("/orders", &order).await.status, 201);
    // `--replace` (what `make up` does) revokes the kiosks of that name first.
    let second = cloud.anonymous_api().with_token(&token_in(&run(&[
        "register",
        "till by the door",
        "--replace",
        "--link",
    ])));
    refused(&first.post("/orders", &order).await, 401, "unauthorized");
    assert_eq!(second.post("/orders", &order).await.status, 201);
    let listed = run(&["list"]);
    let ours: Vec<&str> = listed.lines().filter(|l| l.ends_with("till by the door")).collect();
    assert_eq!(ours.len(), 1, "{listed}");
    assert!(!listed.contains("k1."), "the list shows no token: {listed}");
    let kiosk_id = ours[0].split_whitespace().next().unwrap();
    assert!(run(&["revoke", kiosk_id]).contains("places no more orders"));
    refused(&second.post("/orders", &order).await, 401, "unauthorized");
    assert!(!run(&["list"]).contains("till by the door"));
    TOKENS_SEEN
        .lock()
        .await
        .extend([first.token.unwrap(), second.token.unwrap()]);
    println!("[security] kiosk command: registered, replaced (the old token refused), listed without tokens, revoked");
}
