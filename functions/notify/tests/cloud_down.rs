//! With the cloud out of reach, every notify route answers the JSON 500 with no detail.

use cafe_notify::{NotifyService, handlers, sender::NotificationSender, store::NotificationStore};
use cafe_shared::auth::Credentials;
use cafe_shared::bus::EventBus;
use cafe_shared::fakes::api::{Call, OPERATOR_TOKEN, every_route_with_the_cloud_down, unreachable_cloud};
use cafe_shared::sqs::DeadLetterQueue;

#[tokio::test]
async fn every_route_answers_a_json_500_without_detail() {
    let sdk = unreachable_cloud().await;
    let service = NotifyService {
        dead_letters: DeadLetterQueue::from_env(&sdk),
        store: NotificationStore::new(&sdk, "notifications".into()),
        sender: NotificationSender::new(&sdk, "arn:aws:sns:us-east-1:000000000000:cafe".into()),
        bus: EventBus::new(&sdk, "cafe".into(), "notify"),
        credentials: Credentials::known(&sdk, OPERATOR_TOKEN),
    };
    let calls = [
        Call::down("GET", "/notifications", "/notifications", None),
        Call::down("GET", "/notifications", "/notifications?customerId=1", None),
        Call::down("GET", "/notifications", "/notifications?customerId=1&limit=5", None),
    ];
    every_route_with_the_cloud_down("NotifyApiFunction", &calls, |req| handlers::http(&service, req)).await;
}
