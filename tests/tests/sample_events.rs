//! Every file in `events/` is a valid event that its function accepts: each is invoked, as it is,
//! on its function deployed on the local cloud (what `sam local invoke -e events/<file>` does with
//! Docker). The samples describe customer 2's order of one iced tea, placed with the
//! `Idempotency-Key` `kiosk-7-0001`, so on a stack where that order ran they are redeliveries and
//! must change nothing. The API sample's `authorization` header holds a placeholder where a
//! registered kiosk's token goes (a token is a secret, never committed): the test puts its kiosk's there.

use cafe_e2e::{LocalCloud, workspace_root};
use serde_json::{Value, json};

/// What the API sample carries in place of a kiosk token.
const KIOSK_TOKEN_PLACE: &str = "REPLACE_WITH_KIOSK_TOKEN";

const SAMPLES: [(&str, &str); 13] = [
    ("api-post-order.json", "order-api"),
    ("order-placed.json", "inventory-events"),
    ("cup-stock-decreased.json", "beverage-events"),
    ("cup-out-of-stock.json", "order-events"),
    ("making-requested.json", "order-events"),
    // The sample order was made before its deadline: the timer changes nothing.
    ("order-deadline-reached.json", "order-events"),
    ("order-making.json", "beverage-events"),
    ("beverage-made.json", "order-events"),
    // The sample order was made: a failure reported for it changes nothing.
    ("beverage-failed.json", "order-events"),
    ("cups-released.json", "kiosk-events"),
    ("order-cancelled.json", "notify-events"),
    ("order-completed.json", "notify-events"),
    ("customer-notified.json", "kiosk-events"),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_sample_event_is_accepted_by_its_function_and_changes_nothing_twice() {
    let folder = workspace_root().join("events");
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut covered: Vec<String> = SAMPLES.iter().map(|(f, _)| f.to_string()).collect();
    covered.sort();
    assert_eq!(files, covered, "every sample in events/ is invoked here");

    let cloud = LocalCloud::start(&[]);
    let api = cloud.api();
    let lambda = aws_sdk_lambda::Client::new(&cloud.sdk().await);
    assert_eq!(
        api.post("/inventories", &json!({"stockName": "cup", "qty": 10}))
            .await
            .status,
        201
    );
    // Customer 2's first order, placed at a registered kiosk, as the sample is (its
    // authorization header names where that kiosk's token goes).
    let order = json!({"customerId": "2", "beverageName": "iced-tea", "beverageQty": 1});
    let kiosk = cloud.kiosk_api("sample kiosk").await;
    let kiosk_token = kiosk.token.clone().unwrap();
    let placed = kiosk
        .send(
            kiosk
                .http
                .post(kiosk.url("/orders"))
                .header("Idempotency-Key", "kiosk-7-0001")
                .json(&order),
        )
        .await;
    let order_id = placed.body["orderId"].as_str().unwrap().to_string();
    assert_eq!(order_id, "0be4463a-e630-5884-9f64-224913e1da1d", "the samples' order");
    assert_eq!(api.final_order(&order_id).await["orderStatus"], "completed");
    api.wait_for("/notifications?customerId=2", cafe_e2e::SAGA_TIMEOUT, |a| {
        a.body != json!([])
    })
    .await;

    // The template names each function <stack>-<binary>.
    let name_of = |binary: &str| format!("{}-{binary}", cloud.stack);
    for (file, binary) in SAMPLES {
        let mut payload = std::fs::read_to_string(folder.join(file)).unwrap();
        if file.starts_with("api-") {
            assert!(
                payload.contains(KIOSK_TOKEN_PLACE),
                "{file} says where the kiosk token goes"
            );
            payload = payload.replace(KIOSK_TOKEN_PLACE, &kiosk_token);
        }
        let out = lambda
            .invoke()
            .function_name(name_of(binary))
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.into_bytes()))
            .send()
            .await
            .unwrap();
        let answer: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
        assert!(out.function_error().is_none(), "{file} -> {binary}: {answer}");
        if file.starts_with("api-") {
            assert_eq!(answer["statusCode"], 201, "{file}: {answer}");
            let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
            assert_eq!(body["orderId"], order_id.as_str(), "the same key gives the same order");
            assert!(placed.body["customerToken"].is_string(), "{placed:?}");
            assert!(
                body.get("customerToken").is_none(),
                "a retry never hands out the token again"
            );
        } else {
            assert_eq!(answer["batchItemFailures"], json!([]), "{file} -> {binary}: {answer}");
        }
        println!("[samples] {file} -> {binary}: accepted");
    }

    cafe_e2e::wait_until_drained(
        &aws_sdk_sqs::Client::new(&cloud.sdk().await),
        &cloud.saga_queues(),
        cafe_e2e::SAGA_TIMEOUT,
    )
    .await;
    assert_eq!(api.get("/inventories/cup").await.body["qty"], 9, "no cup taken twice");
    assert_eq!(api.notifications_of("2").await.len(), 1, "no second notification");
    assert_eq!(
        api.get(&format!("/beverages?orderId={order_id}"))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get(&format!("/orders/{order_id}")).await.body["orderStatus"],
        "completed"
    );
}
