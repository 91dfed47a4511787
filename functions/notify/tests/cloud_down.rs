//! With the cloud out of reach, every notify route answers the JSON 500 with no detail.

use cafe_notify::{NotifyApi, handlers, store::NotificationStore};
use cafe_shared::auth::Credentials;
use cafe_shared::fakes::api::{Call, OPERATOR_TOKEN, every_route_with_the_cloud_down, unreachable_cloud};

#[tokio::test]
async fn every_route_answers_a_json_500_without_detail() {
    let sdk = unreachable_cloud().await;
    let service = NotifyApi {
        store: NotificationStore::new(&sdk, "notifications".into()),
        credentials: Credentials::known(&sdk, OPERATOR_TOKEN),
    };
    let calls = [
        Call::down("GET", "/notifications", "/notifications", None),
        Call::down("GET", "/notifications", "/notifications?customerId=1", None),
        Call::down("GET", "/notifications", "/notifications?customerId=1&limit=5", None),
    ];
    every_route_with_the_cloud_down("NotifyApiFunction", &calls, |req| handlers::http(&service, req)).await;
}
