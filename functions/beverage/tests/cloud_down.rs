//! With the cloud out of reach, every beverage route answers the JSON 500 with no detail.

use cafe_beverage::{BeverageApi, handlers, store::BeverageStore};
use cafe_shared::auth::Credentials;
use cafe_shared::fakes::api::{Call, OPERATOR_TOKEN, every_route_with_the_cloud_down, unreachable_cloud};
use serde_json::json;

#[tokio::test]
async fn every_route_answers_a_json_500_without_detail() {
    let sdk = unreachable_cloud().await;
    let service = BeverageApi {
        store: BeverageStore::new(&sdk, "beverages".into(), "machine".into()),
        credentials: Credentials::known(&sdk, OPERATOR_TOKEN),
    };
    let o = "0be4463a-e630-5884-9f64-224913e1da1d";
    let calls = [
        Call::down("GET", "/beverages", "/beverages", None),
        Call::down("GET", "/beverages", format!("/beverages?orderId={o}"), None),
        Call::down("GET", "/beverages/{beverageId}", format!("/beverages/{o}"), None),
        Call::down("GET", "/ingredients", "/ingredients", None),
        Call::down("GET", "/ingredients/{ingredientName}", "/ingredients/milk", None),
        Call::down(
            "PUT",
            "/ingredients/{ingredientName}",
            "/ingredients/milk",
            Some(json!({"qty": 1})),
        ),
        Call::down("GET", "/machine", "/machine", None),
        Call::down("PUT", "/machine", "/machine", Some(json!({"inService": true}))),
    ];
    every_route_with_the_cloud_down("BeverageApiFunction", &calls, |req| handlers::http(&service, req)).await;
}
