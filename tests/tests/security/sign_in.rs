//! Signing in with a phone: a number is texted only once proven by a code, and signing out
//! everywhere ends every token the customer held.

use super::*;

/// The six-digit code in the latest text to `phone`, waiting for it to arrive.
async fn code_texted_to(phone: &str, texts_before: usize) -> String {
    let started = std::time::Instant::now();
    loop {
        let texts = cloud().texts_to(phone).await;
        if texts.len() > texts_before {
            let message = texts.last().unwrap()["Message"].as_str().unwrap().to_string();
            assert!(message.contains("is your cafe sign-in code"), "{message}");
            return message[..6].to_string();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "no code texted to {phone}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Signs `phone` in at `kiosk` with the code texted to it: the customer id and their token.
async fn sign_in(kiosk: &Api, phone: &str) -> (String, String) {
    let texted = cloud().texts_to(phone).await.len();
    let asked = kiosk.post("/sign-in", &json!({"phoneNumber": phone})).await;
    assert_eq!(asked.status, 202, "{asked:?}");
    let code = code_texted_to(phone, texted).await;
    let handle = &asked.body["handle"];
    let signed_in = cloud()
        .anonymous_api()
        .post(
            "/sign-in/verify",
            &json!({"phoneNumber": phone, "code": code, "handle": handle}),
        )
        .await;
    assert_eq!(signed_in.status, 200, "{signed_in:?}");
    let token = signed_in.body["customerToken"].as_str().unwrap().to_string();
    TOKENS_SEEN.lock().await.push(token.clone());
    (signed_in.body["customerId"].as_str().unwrap().to_string(), token)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_signs_out_everywhere_and_every_token_they_held_stops_working() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let at_kiosk = kiosk("sign-out").await;
    let (customer_id, token) = sign_in(&at_kiosk, "+821077770010").await;
    let (other_id, other_token) = sign_in(&at_kiosk, "+821077770011").await;
    let (customer, other) = (
        cloud.anonymous_api().with_token(&token),
        cloud.anonymous_api().with_token(&other_token),
    );
    let paths = |id: &str| {
        [
            format!("/orders?customerId={id}"),
            format!("/notifications?customerId={id}"),
            format!("/kiosk/customers/{id}/orders"),
        ]
    };
    for path in paths(&customer_id) {
        assert_eq!(customer.get(&path).await.status, 200, "{path}");
    }
    let sign_out = |id: &str| format!("/customers/{id}/tokens");
    let delete = |api: &Api, path: String| {
        let api = api.clone();
        async move { api.send_raw(reqwest::Method::DELETE, &path, "").await }
    };
    // Only the customer (or the operator) signs them out.
    refused(&delete(&other, sign_out(&customer_id)).await, 403, "forbidden");
    refused(
        &delete(&cloud.anonymous_api(), sign_out(&customer_id)).await,
        401,
        "unauthorized",
    );
    refused(&delete(&at_kiosk, sign_out(&customer_id)).await, 403, "forbidden");
    assert_eq!(
        customer.get(&paths(&customer_id)[0]).await.status,
        200,
        "refusals revoke nothing"
    );

    let signed_out = delete(&customer, sign_out(&customer_id)).await;
    assert_eq!(signed_out.status, 200, "{signed_out:?}");
    let started = std::time::Instant::now();
    // The order function refuses the token at once; the others once they re-read the secret.
    let revoked = customer.get(&paths(&customer_id)[0]).await;
    refused(&revoked, 401, "unauthorized");
    assert!(
        revoked.body["error"]["message"].as_str().unwrap().contains("revoked"),
        "{revoked:?}"
    );
    let mut refused_after = Vec::new();
    for path in paths(&customer_id) {
        loop {
            let answer = customer.get(&path).await;
            if answer.status == 401 {
                assert!(
                    answer.body["error"]["message"].as_str().unwrap().contains("revoked"),
                    "{answer:?}"
                );
                refused_after.push(started.elapsed().as_secs_f64());
                break;
            }
            assert_eq!(answer.status, 200, "{answer:?}");
            assert!(
                started.elapsed().as_secs() < SECRETS_REFRESH_SECONDS * 3 + 2,
                "{path} still takes the revoked token"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    // Another customer's token holds; a new sign-in gives the customer a token that works.
    for path in paths(&other_id) {
        assert_eq!(other.get(&path).await.status, 200, "{path}");
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let (again_id, again) = sign_in(&at_kiosk, "+821077770010").await;
    assert_eq!(again_id, customer_id);
    for path in paths(&customer_id) {
        assert_eq!(
            cloud.anonymous_api().with_token(&again).get(&path).await.status,
            200,
            "{path}"
        );
    }
    // The operator signs anyone out.
    assert_eq!(delete(&cloud.api(), sign_out(&other_id)).await.status, 200);
    refused(&other.get(&paths(&other_id)[0]).await, 401, "unauthorized");
    println!(
        "[security] sign out everywhere: another customer 403, no credential 401, a kiosk 403; then the \
         token was refused by the order function at once and by 3 functions after {:.1} s at most \
         (secrets re-read every {SECRETS_REFRESH_SECONDS} s); another customer's token held; a new sign-in's \
         token worked in all 3; the operator signed another out",
        refused_after.iter().cloned().fold(0.0, f64::max)
    );
}

/// A code other than `code`.
fn not(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_is_texted_only_once_proven_by_a_code_and_a_proven_phone_is_its_customer() {
    let _turn = turn_within_one_hour().await;
    let cloud = cloud();
    let operator = cloud.api();
    let anonymous = cloud.anonymous_api();
    let at_kiosk = kiosk("sign-in").await;
    let phone = "+821077770001";
    let latte = |customer: &str, phone: &str| json!({"customerId": customer, "beverageName": "latte", "beverageQty": 1, "phoneNumber": phone});

    // Whoever stands at a kiosk could type any number: a kiosk order texts nobody.
    refused(
        &at_kiosk.post("/orders", &latte("walk-in", phone)).await,
        403,
        "phone_not_proven",
    );
    assert_eq!(operator.get("/orders?customerId=walk-in").await.body, json!([]));
    // Codes are asked for from inside the cafe, to the cafe's countries only.
    refused(
        &anonymous.post("/sign-in", &json!({"phoneNumber": phone})).await,
        401,
        "unauthorized",
    );
    refused(
        &at_kiosk.post("/sign-in", &json!({"phoneNumber": "+12025550100"})).await,
        400,
        "invalid_phone_number",
    );
    assert!(cloud.texts_to(phone).await.is_empty(), "nothing texted yet");

    // The code texted proves the number, once; a wrong one says how many tries are left.
    let asked = at_kiosk.post("/sign-in", &json!({"phoneNumber": phone})).await;
    assert_eq!(asked.status, 202, "{asked:?}");
    let code = code_texted_to(phone, 0).await;
    let handle = asked.body["handle"].clone();
    let answer = |code: &str| json!({"phoneNumber": phone, "code": code, "handle": handle});
    let wrong = anonymous.post("/sign-in/verify", &answer(&not(&code))).await;
    refused(&wrong, 401, "wrong_code");
    assert!(
        wrong.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("4 tries left"),
        "{wrong:?}"
    );
    refused(
        &anonymous.post("/sign-in/verify", &answer("12345")).await,
        400,
        "invalid_code",
    );
    let signed_in = anonymous.post("/sign-in/verify", &answer(&code)).await;
    assert_eq!(signed_in.status, 200, "{signed_in:?}");
    refused(
        &anonymous.post("/sign-in/verify", &answer(&code)).await,
        401,
        "code_expired",
    );
    let customer_id = signed_in.body["customerId"].as_str().unwrap().to_string();
    assert!(customer_id.starts_with("cust-"), "an id the cafe issued: {customer_id}");
    let token = signed_in.body["customerToken"].as_str().unwrap().to_string();
    TOKENS_SEEN.lock().await.push(token.clone());
    let customer = cloud.anonymous_api().with_token(&token);

    // The proven number's customer is texted about their order, and only at that number.
    let placed = customer.post("/orders", &latte(&customer_id, phone)).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    refused(
        &customer.post("/orders", &latte(&customer_id, "+821077770002")).await,
        403,
        "phone_not_proven",
    );
    // Nobody orders for them by typing their id at a kiosk.
    let typed = at_kiosk
        .post(
            "/orders",
            &json!({"customerId": customer_id, "beverageName": "latte", "beverageQty": 1}),
        )
        .await;
    refused(&typed, 403, "forbidden");
    let orders = operator.get(&format!("/orders?customerId={customer_id}")).await.body;
    assert_eq!(
        orders.as_array().unwrap().len(),
        1,
        "only the order they placed: {orders}"
    );
    operator.final_order(placed.body["orderId"].as_str().unwrap()).await;
    let started = std::time::Instant::now();
    while cloud.texts_to(phone).await.len() < 2 {
        assert!(started.elapsed() < cafe_e2e::SAGA_TIMEOUT, "the order's text arrives");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let texts = cloud.texts_to(phone).await;
    assert!(texts[1]["Message"].as_str().unwrap().contains("1 latte"), "{texts:?}");

    // Signing in again, from the customer's phone with their token, is the same customer.
    let asked = customer.post("/sign-in", &json!({"phoneNumber": phone})).await;
    assert_eq!(asked.status, 202, "{asked:?}");
    let code = code_texted_to(phone, 2).await;
    let again = anonymous
        .post(
            "/sign-in/verify",
            &json!({"phoneNumber": phone, "code": code, "handle": asked.body["handle"]}),
        )
        .await;
    assert_eq!(again.body["customerId"], customer_id.as_str(), "{again:?}");

    // Five wrong tries end a code: the right one then proves nothing.
    let other = "+821077770003";
    let asked = at_kiosk.post("/sign-in", &json!({"phoneNumber": other})).await;
    assert_eq!(asked.status, 202, "{asked:?}");
    let other_code = code_texted_to(other, 0).await;
    let other_answer = |code: &str| json!({"phoneNumber": other, "code": code, "handle": asked.body["handle"]});
    for left in (0..5).rev() {
        let wrong = anonymous
            .post("/sign-in/verify", &other_answer(&not(&other_code)))
            .await;
        refused(&wrong, 401, "wrong_code");
        assert!(
            wrong.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} tries left"))
        );
    }
    let late = anonymous.post("/sign-in/verify", &other_answer(&other_code)).await;
    refused(&late, 401, "code_expired");

    // A flood of codes to one number: at most its texts an hour.
    let flooded = "+821099990000";
    let mut sent = 0;
    for _ in 0..8 {
        let asked = at_kiosk.post("/sign-in", &json!({"phoneNumber": flooded})).await;
        match asked.status {
            202 => sent += 1,
            _ => refused(&asked, 429, "too_many_requests"),
        }
    }
    assert_eq!(sent, CODES_PER_NUMBER_PER_HOUR as usize, "codes texted");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        cloud.texts_to(flooded).await.len(),
        CODES_PER_NUMBER_PER_HOUR as usize,
        "texts to one number in an hour"
    );
    println!(
        "[security] texts: a kiosk order with a number 403, an anonymous code 401, a +1 number 400; a code \
         proved {phone} as {customer_id} once (a wrong one 401, a reused one 401), whose orders text only \
         that number (another 403) and whom no kiosk orders for (403); 5 wrong tries ended a code; 8 codes \
         asked for one number: {sent} texted, {} refused with 429",
        8 - sent
    );
}
