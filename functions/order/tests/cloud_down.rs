//! With the cloud out of reach, every order route answers the JSON 500 with no detail (the menu
//! too: its prices are the operator's, in the cafe's item).

use cafe_order::domain::{Menu, OrderLimits};
use cafe_order::{OrderApi, handlers, store::OrderStore};
use cafe_shared::auth::Credentials;
use cafe_shared::fakes::api::{Call, OPERATOR_TOKEN, every_route_with_the_cloud_down, unreachable_cloud};
use cafe_shared::sms::TextMessages;
use serde_json::json;

#[tokio::test]
async fn every_route_answers_a_json_500_without_detail() {
    let sdk = unreachable_cloud().await;
    let menu = r#"[{"beverageName":"americano","displayName":"Americano","stockName":"cup","recipe":{"beans":1}}]"#;
    let service = OrderApi {
        store: OrderStore::new(&sdk, "orders".into(), "customers".into()),
        menu: Menu::from_json(menu).unwrap(),
        currency: "KRW".into(),
        payment_required: true,
        credentials: Credentials::known(&sdk, OPERATOR_TOKEN),
        texts: TextMessages::new(&sdk),
        limits: OrderLimits {
            orders_per_minute: 20,
            orders_per_kiosk_per_minute: 30,
            texts_per_hour: 5,
            codes_per_number_per_hour: 3,
            texts_per_caller_per_hour: 5,
            texts_per_kiosk_per_hour: 60,
            texts_per_cafe_per_hour: 200,
            text_country_codes: vec!["82".into()],
            max_orders_in_progress: 100,
            beverages_per_order: 20,
            cups_per_customer_per_hour: 60,
            orders_in_progress_per_customer: 5,
        },
        receipt_lifetime: chrono::Duration::hours(2),
        customer_token_lifetime: chrono::Duration::days(30),
    };
    let o = "0be4463a-e630-5884-9f64-224913e1da1d";
    let order = json!({"customerId": "1", "beverageName": "americano", "beverageQty": 1});
    let calls = [
        Call::down("POST", "/orders", "/orders", Some(order)),
        Call::down("GET", "/orders", "/orders", None),
        Call::down("GET", "/orders", "/orders?customerId=1", None),
        Call::down("GET", "/orders/{orderId}", format!("/orders/{o}"), None),
        Call::down("POST", "/orders/{orderId}/cancel", format!("/orders/{o}/cancel"), None),
        Call::down("GET", "/menu", "/menu", None),
        Call::down(
            "PUT",
            "/menu/{beverageName}",
            "/menu/americano",
            Some(json!({"price": 3000})),
        ),
        Call::down("GET", "/cafe", "/cafe", None),
        Call::down("PUT", "/cafe", "/cafe", Some(json!({"open": false}))),
        Call::down("POST", "/kiosks", "/kiosks", Some(json!({"kioskName": "front door"}))),
        Call::down("GET", "/kiosks", "/kiosks", None),
        Call::down("DELETE", "/kiosks/{kioskId}", "/kiosks/kiosk-1", None),
        Call::down(
            "POST",
            "/sign-in",
            "/sign-in",
            Some(json!({"phoneNumber": "+821012345678"})),
        ),
        Call::down(
            "POST",
            "/sign-in/verify",
            "/sign-in/verify",
            Some(json!({"phoneNumber": "+821012345678", "code": "123456", "handle": "0".repeat(32)})),
        ),
        Call::down("DELETE", "/customers/{customerId}/tokens", "/customers/1/tokens", None),
    ];
    every_route_with_the_cloud_down("OrderApiFunction", &calls, |req| handlers::http(&service, req)).await;
}
