//! The sample events in `events/`, as their functions receive them: which function takes each,
//! the order they describe (placed here first, so each sample is a redelivery), and what must
//! hold after each is delivered again. Used by the tests that invoke them on the deployed
//! functions (`sample_events.rs`) and through `sam local invoke` (`sam_local.rs`).

use crate::{Api, LocalCloud, SAGA_TIMEOUT, wait_until_drained, workspace_root};
use serde_json::{Value, json};

/// What the API sample carries in place of a kiosk token (a token is a secret, never committed).
const KIOSK_TOKEN_PLACE: &str = "REPLACE_WITH_KIOSK_TOKEN";

/// Each sample and the function (binary) that takes it, in the saga's order.
pub const SAMPLES: [(&str, &str); 14] = [
    ("api-post-order.json", "order-api"),
    ("order-placed.json", "payment-events"),
    ("payment-authorized.json", "inventory-events"),
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

/// Customer 2's order of one iced tea that the samples describe, placed at a registered kiosk
/// with the `Idempotency-Key` `kiosk-7-0001`.
pub struct SampleOrder {
    pub order_id: String,
    kiosk: Api,
}

impl SampleOrder {
    /// Stocks 10 cups and registers the kiosk the API sample orders at.
    pub async fn prepare(cloud: &LocalCloud) -> SampleOrder {
        let stocked = (cloud.api())
            .post("/inventories", &json!({"stockName": "cup", "qty": 10}))
            .await;
        assert_eq!(stocked.status, 201, "{stocked:?}");
        SampleOrder {
            order_id: "0be4463a-e630-5884-9f64-224913e1da1d".into(),
            kiosk: cloud.kiosk_api("sample kiosk").await,
        }
    }

    /// Places the order through the deployed API, as the API sample does.
    pub async fn place_through_the_api(&self) {
        let order =
            json!({"customerId": "2", "beverageName": "iced-tea", "beverageQty": 1, "paymentMethod": "pm_card_visa"});
        let placed = (self.kiosk)
            .send(
                (self.kiosk.http.post(self.kiosk.url("/orders")))
                    .header("Idempotency-Key", "kiosk-7-0001")
                    .json(&order),
            )
            .await;
        self.check_first_answer(&placed.body);
    }

    /// The answer to the order's first placing: the samples' order, with the customer's token.
    pub fn check_first_answer(&self, order: &Value) {
        assert_eq!(order["orderId"], self.order_id.as_str(), "the samples' order: {order}");
        assert!(order["customerToken"].is_string(), "{order}");
    }

    /// Waits until the deployed saga has completed the order and notified its customer.
    pub async fn wait_until_completed(&self, cloud: &LocalCloud) {
        let api = cloud.api();
        assert_eq!(api.final_order(&self.order_id).await["orderStatus"], "completed");
        api.wait_for("/notifications?customerId=2", SAGA_TIMEOUT, |a| a.body != json!([]))
            .await;
    }

    /// The sample file's content, with this test's kiosk token where the API sample says.
    pub fn payload(&self, file: &str) -> String {
        let payload = std::fs::read_to_string(workspace_root().join("events").join(file)).unwrap();
        if file.starts_with("api-") {
            assert!(
                payload.contains(KIOSK_TOKEN_PLACE),
                "{file} says where the kiosk token goes"
            );
        }
        payload.replace(KIOSK_TOKEN_PLACE, self.kiosk.token.as_deref().unwrap())
    }

    /// What the function answered a redelivered sample: the API the same order (and no token
    /// again), a saga step no failed message.
    pub fn check_answer(&self, file: &str, answer: &Value) {
        if file.starts_with("api-") {
            assert_eq!(answer["statusCode"], 201, "{file}: {answer}");
            let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
            assert_eq!(
                body["orderId"],
                self.order_id.as_str(),
                "the same key gives the same order"
            );
            assert!(
                body.get("customerToken").is_none(),
                "a retry never hands out the token again"
            );
        } else {
            assert_eq!(answer["batchItemFailures"], json!([]), "{file}: {answer}");
        }
    }

    /// Once the saga is quiet: every sample delivered again changed nothing.
    pub async fn check_nothing_changed(&self, cloud: &LocalCloud) {
        let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
        wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
        let api: Api = cloud.api();
        assert_eq!(api.get("/inventories/cup").await.body["qty"], 9, "no cup taken twice");
        assert_eq!(api.notifications_of("2").await.len(), 1, "no second notification");
        let made = api.get(&format!("/beverages?orderId={}", self.order_id)).await.body;
        assert_eq!(made.as_array().unwrap().len(), 1, "{made}");
        let order = api.get(&format!("/orders/{}", self.order_id)).await.body;
        assert_eq!(order["orderStatus"], "completed");
    }
}

/// Every file in `events/` has its function here.
pub fn check_every_sample_is_listed() {
    let mut files: Vec<String> = (std::fs::read_dir(workspace_root().join("events")).unwrap())
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut listed: Vec<String> = SAMPLES.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "every sample in events/ is invoked");
}
