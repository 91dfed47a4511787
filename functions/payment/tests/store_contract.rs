//! The payment records' contract: each case holds for the in-memory store (which the saga's
//! in-process tests and the simulation run) and for the DynamoDB store on the template's
//! `PaymentsTable`.

use PaymentStatus::{Authorizing, Captured, Held, Refunded, Released, Voided};
use cafe_payment::domain::{Payment, PaymentStatus};
use cafe_payment::store::fake::MemoryPayments;
use cafe_payment::store::{PaymentRecords, PaymentStore};
use cafe_testkit::Tables;

async fn fake_store() -> MemoryPayments {
    MemoryPayments::default()
}

async fn dynamodb_store() -> PaymentStore {
    let tables = Tables::new(&["PaymentsTable"]);
    PaymentStore::new(&tables.sdk().await, tables.name("PaymentsTable"))
}

cafe_testkit::contract!(
    fake: fake_store,
    dynamodb: dynamodb_store,
    cases: [
        an_order_s_payment_is_begun_once,
        the_provider_s_payment_is_recorded_once_and_never_for_a_cancelled_order,
        a_payment_moves_only_from_the_statuses_named,
        a_cancellation_marks_the_payment_and_voids_one_never_begun,
    ]
);

fn to_hold(order_id: &str) -> Payment {
    Payment {
        order_id: order_id.to_string(),
        status: Authorizing,
        amount: 7000,
        currency: Some("KRW".into()),
        payment_id: None,
        reason: None,
        order_cancelled: false,
    }
}

fn new_order() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn an_order_s_payment_is_begun_once(store: &impl PaymentRecords) {
    let order = new_order();
    assert_eq!(store.get(&order).await.unwrap(), None);
    let first = to_hold(&order);
    assert_eq!(store.begin(&first).await.unwrap(), first);
    let again = Payment {
        amount: 1,
        ..first.clone()
    };
    assert_eq!(store.begin(&again).await.unwrap(), first, "the one on record");
    assert_eq!(store.get(&order).await.unwrap(), Some(first));
}

async fn the_provider_s_payment_is_recorded_once_and_never_for_a_cancelled_order(store: &impl PaymentRecords) {
    let order = new_order();
    store.begin(&to_hold(&order)).await.unwrap();
    assert_eq!(store.attach(&order, "pi_1").await.unwrap(), None);
    let on_record = store.attach(&order, "pi_2").await.unwrap().expect("one is recorded");
    assert_eq!(on_record.payment_id.as_deref(), Some("pi_1"));

    let cancelled = new_order();
    store.begin(&to_hold(&cancelled)).await.unwrap();
    store.cancel_order(&cancelled).await.unwrap();
    let refused = store.attach(&cancelled, "pi_3").await.unwrap().expect("refused");
    assert_eq!((refused.payment_id, refused.order_cancelled), (None, true));
}

async fn a_payment_moves_only_from_the_statuses_named(store: &impl PaymentRecords) {
    let order = new_order();
    store.begin(&to_hold(&order)).await.unwrap();
    let held = store.settle(&order, &[Authorizing], Held, None).await.unwrap();
    assert_eq!(held.status, Held);
    let unmoved = store
        .settle(&order, &[Authorizing], PaymentStatus::Declined, Some("no"))
        .await
        .unwrap();
    assert_eq!(
        (unmoved.status, unmoved.reason),
        (Held, None),
        "not from Authorizing any more"
    );
    let captured = store.settle(&order, &[Held], Captured, None).await.unwrap();
    assert_eq!(captured.status, Captured);
    let refunded = store
        .settle(&order, &[Authorizing, Held, Captured], Refunded, None)
        .await
        .unwrap();
    assert_eq!(refunded.status, Refunded);
    assert_eq!(store.get(&order).await.unwrap().unwrap().status, Refunded);

    let declined = new_order();
    store.begin(&to_hold(&declined)).await.unwrap();
    let said = store
        .settle(
            &declined,
            &[Authorizing],
            PaymentStatus::Declined,
            Some("Your card was declined."),
        )
        .await
        .unwrap();
    assert_eq!(said.reason.as_deref(), Some("Your card was declined."));
}

async fn a_cancellation_marks_the_payment_and_voids_one_never_begun(store: &impl PaymentRecords) {
    let order = new_order();
    store.begin(&to_hold(&order)).await.unwrap();
    store.attach(&order, "pi_1").await.unwrap();
    store.settle(&order, &[Authorizing], Held, None).await.unwrap();
    let marked = store.cancel_order(&order).await.unwrap();
    assert_eq!(
        (marked.status, marked.order_cancelled, marked.payment_id.as_deref()),
        (Held, true, Some("pi_1"))
    );
    assert_eq!(
        store.settle(&order, &[Held], Released, None).await.unwrap().status,
        Released
    );
    assert_eq!(
        store.cancel_order(&order).await.unwrap().status,
        Released,
        "again: as it is"
    );

    let overtaken = new_order();
    assert_eq!(
        store.cancel_order(&overtaken).await.unwrap(),
        Payment::voided(&overtaken)
    );
    let later = store.begin(&to_hold(&overtaken)).await.unwrap();
    assert_eq!(
        later.status, Voided,
        "the order placed after its cancellation holds nothing"
    );
}
