//! With the cloud out of reach, every inventory route answers the JSON 500 with no detail.

use cafe_inventory::{InventoryApi, handlers, store::InventoryStore};
use cafe_shared::auth::Credentials;
use cafe_shared::fakes::api::{Call, OPERATOR_TOKEN, every_route_with_the_cloud_down, unreachable_cloud};
use serde_json::json;

#[tokio::test]
async fn every_route_answers_a_json_500_without_detail() {
    let sdk = unreachable_cloud().await;
    let service = InventoryApi {
        store: InventoryStore::new(&sdk, "inventory".into()),
        credentials: Credentials::known(&sdk, OPERATOR_TOKEN),
    };
    let calls = [
        Call::down(
            "POST",
            "/inventories",
            "/inventories",
            Some(json!({"stockName": "cup", "qty": 1})),
        ),
        Call::down("GET", "/inventories", "/inventories", None),
        Call::down("GET", "/inventories/{stockName}", "/inventories/cup", None),
        Call::down(
            "PUT",
            "/inventories/{stockName}",
            "/inventories/cup",
            Some(json!({"qty": 1})),
        ),
    ];
    every_route_with_the_cloud_down("InventoryApiFunction", &calls, |req| handlers::http(&service, req)).await;
}
