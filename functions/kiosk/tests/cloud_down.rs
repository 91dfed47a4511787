//! With the cloud out of reach, every kiosk route that reads the read model or the dead-letter
//! queues answers the JSON 500 with no detail; the pages, the OpenAPI document, an operator's session, a receipt's link and a
//! kiosk's link need no cloud.

use cafe_kiosk::{KioskApi, dead_letters::DeadLetterQueues, handlers, pages, store::KioskStore};
use cafe_shared::auth::Credentials;
use cafe_shared::fakes::api::{Call, OPERATOR_TOKEN, every_route_with_the_cloud_down, unreachable_cloud};
use std::time::Duration;

#[tokio::test]
async fn every_route_answers_a_json_500_without_detail() {
    let sdk = unreachable_cloud().await;
    let service = KioskApi {
        store: KioskStore::new(&sdk, "kiosk".into()),
        live_url: None,
        openapi: pages::OPENAPI.to_string(),
        credentials: Credentials::known(&sdk, OPERATOR_TOKEN),
        operator_session: Duration::from_secs(900),
        dead_letters: DeadLetterQueues::new(&sdk, "inventory=http://127.0.0.1:9/queue/inventory-dlq").unwrap(),
        menu: cafe_shared::menu::Menu::from_json(
            r#"[{"beverageName":"latte","displayName":"Latte","stockName":"cup","recipe":{"beans":1}}]"#,
        )
        .unwrap(),
    };
    let o = "0be4463a-e630-5884-9f64-224913e1da1d";
    let receipt = (service
        .credentials
        .receipt(
            o,
            "kiosk-1",
            chrono::Utc::now().timestamp(),
            chrono::Utc::now().timestamp() + 600,
        )
        .await)
        .unwrap();
    let calls = [
        Call::still_answers("GET", "/"),
        Call::still_answers("GET", "/operator"),
        Call::still_answers("GET", "/receipt"),
        Call::still_answers("GET", "/openapi.json"),
        Call::still_answers("POST", "/sessions"),
        Call::down("GET", "/display", "/display", None),
        Call::down("GET", "/kiosk/orders/{orderId}", format!("/kiosk/orders/{o}"), None),
        // Made from the order's receipt alone.
        Call::still_answers("GET", "/kiosk/orders/{orderId}/receipt-link")
            .at(format!(
                "/kiosk/orders/{o}/receipt-link?page=https://cafe.example/receipt"
            ))
            .with_token(receipt),
        Call::down(
            "GET",
            "/kiosk/customers/{customerId}/orders",
            "/kiosk/customers/1/orders",
            None,
        ),
        Call::down("GET", "/kiosk/dead-letters", "/kiosk/dead-letters", None),
        Call::down("GET", "/kiosk/day", "/kiosk/day", None),
        // Made from the kiosk's token alone.
        Call::still_answers("GET", "/kiosk/kiosk-link")
            .at("/kiosk/kiosk-link?page=https://cafe.example/")
            .with_token(format!("k1.kiosk-1.{}", "A".repeat(43))),
    ];
    every_route_with_the_cloud_down("KioskApiFunction", &calls, |req| handlers::http(&service, req)).await;
}
