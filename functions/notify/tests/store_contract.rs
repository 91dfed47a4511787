//! The notification stores' contract: each case holds for the in-memory store (which the saga's
//! in-process tests and the simulation run) and for the DynamoDB store on the template's
//! `NotificationsTable`.

use cafe_notify::domain::{Notification, notification_id_for};
use cafe_notify::store::fake::MemoryNotifications;
use cafe_notify::store::{NotificationStore, Notifications};
use cafe_shared::fakes::api::unreachable_cloud;
use cafe_testkit::Tables;
use chrono::{DateTime, Duration, Utc};

async fn fake_store() -> MemoryNotifications {
    MemoryNotifications::default()
}

async fn dynamodb_store() -> NotificationStore {
    let tables = Tables::new(&["NotificationsTable"]);
    NotificationStore::new(&tables.sdk().await, tables.name("NotificationsTable"))
}

cafe_testkit::contract!(
    fake: fake_store,
    dynamodb: dynamodb_store,
    cases: [
        an_order_outcome_is_recorded_once,
        of_racing_records_exactly_one_holds_the_claim,
        a_sending_is_claimed_only_once_its_claim_has_lapsed,
        of_racing_claims_exactly_one_wins,
        a_sent_notification_is_never_claimed_again,
        a_missing_notification_is_neither_found_nor_claimed,
    ]
);

/// Times rounded to the millisecond, as the claims are kept.
fn at(seconds: i64) -> DateTime<Utc> {
    "2026-12-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::seconds(seconds)
}

fn notification(message: &str) -> Notification {
    let order_id = uuid::Uuid::new_v4().to_string();
    Notification {
        notification_id: notification_id_for(&order_id),
        customer_id: "1".into(),
        order_id,
        order_status: "completed".into(),
        message: message.into(),
        notification_date: at(0),
        sns_message_id: None,
        sms: false,
    }
}

async fn an_order_outcome_is_recorded_once(store: &impl Notifications) {
    let first = notification("Your 1 latte is ready");
    assert_eq!(store.record(&first, at(10)).await.unwrap(), (first.clone(), true));
    let again = Notification {
        message: "a second outcome for the same order".into(),
        ..first.clone()
    };
    assert_eq!(store.record(&again, at(20)).await.unwrap(), (first.clone(), false));
    assert_eq!(store.get(&first.notification_id).await.unwrap(), Some(first));
}

async fn of_racing_records_exactly_one_holds_the_claim(store: &impl Notifications) {
    let one = notification("ready");
    let (a, b) = tokio::join!(store.record(&one, at(10)), store.record(&one, at(10)));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((&a.0, &b.0), (&one, &one));
    assert!(a.1 ^ b.1, "exactly one recorded it: {} and {}", a.1, b.1);
}

async fn a_sending_is_claimed_only_once_its_claim_has_lapsed(store: &impl Notifications) {
    let one = notification("ready");
    store.record(&one, at(10)).await.unwrap();
    let id = &one.notification_id;
    assert!(
        !store.claim_send(id, at(5), at(15)).await.unwrap(),
        "the record's claim holds until 10 s"
    );
    assert!(
        store.claim_send(id, at(11), at(21)).await.unwrap(),
        "a lapsed claim is taken over"
    );
    assert!(
        !store.claim_send(id, at(20), at(30)).await.unwrap(),
        "and now holds until 21 s"
    );
}

async fn of_racing_claims_exactly_one_wins(store: &impl Notifications) {
    let one = notification("ready");
    store.record(&one, at(10)).await.unwrap();
    let id = &one.notification_id;
    let (a, b) = tokio::join!(
        store.claim_send(id, at(11), at(21)),
        store.claim_send(id, at(11), at(21))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a ^ b, "exactly one claimed it: {a} and {b}");
}

async fn a_sent_notification_is_never_claimed_again(store: &impl Notifications) {
    let one = notification("ready");
    store.record(&one, at(10)).await.unwrap();
    store.mark_sent(&one.notification_id, "sns-1").await.unwrap();
    let kept = store.get(&one.notification_id).await.unwrap().unwrap();
    assert_eq!(kept.sns_message_id.as_deref(), Some("sns-1"));
    assert!(!store.claim_send(&one.notification_id, at(60), at(70)).await.unwrap());
}

async fn a_missing_notification_is_neither_found_nor_claimed(store: &impl Notifications) {
    let id = notification("never recorded").notification_id;
    assert_eq!(store.get(&id).await.unwrap(), None);
    assert!(!store.claim_send(&id, at(0), at(10)).await.unwrap());
    assert!(store.mark_sent(&id, "sns-1").await.is_err(), "there is nothing to mark");
    assert_eq!(store.get(&id).await.unwrap(), None, "neither made a notification");
}

/// With the table out of reach, every call is an error, never a default answer.
mod unreachable {
    use super::*;

    async fn fake_down() -> MemoryNotifications {
        let store = MemoryNotifications::default();
        store.down.set(true);
        store
    }

    async fn dynamodb_down() -> NotificationStore {
        NotificationStore::new(&unreachable_cloud().await, "notifications".into())
    }

    cafe_testkit::contract!(fake: fake_down, dynamodb: dynamodb_down, cases: [every_call_fails]);

    async fn every_call_fails(store: &impl Notifications) {
        let one = notification("ready");
        assert!(store.get(&one.notification_id).await.is_err());
        assert!(store.record(&one, at(10)).await.is_err());
        assert!(store.claim_send(&one.notification_id, at(11), at(21)).await.is_err());
        assert!(store.mark_sent(&one.notification_id, "sns-1").await.is_err());
    }
}
