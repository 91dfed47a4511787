//! The order stores' contract for signing in (`SignIns`): codes kept under the handle they are
//! tried through, the numbers they prove, and what each code counts. Each case holds for the
//! in-memory orders and for the DynamoDB store on the template's `CustomersTable`.

mod common;

use cafe_order::domain::sign_in::{CODE_TRIES, LiveCode, SignInCode};
use cafe_order::domain::{OrderLimits, PlacedBy, Refusal, Registration, Texter};
use cafe_order::store::Proven;
use cafe_shared::auth::KioskClaim;
use chrono::{DateTime, Duration, Utc};
use common::*;

cafe_testkit::contract!(
    fake: fake_orders,
    dynamodb: dynamodb_orders,
    cases: [
        a_code_takes_a_few_tries_through_its_own_handle_only,
        a_code_proves_its_number_once,
        a_number_signs_in_as_the_same_customer_every_time,
        codes_and_order_texts_are_counted_apart,
        a_caller_and_the_cafe_have_at_most_their_texts_an_hour,
        only_a_registered_kiosk_asks_for_a_code,
    ]
);

/// A new code for `phone` kept on the store as asked by `by`, and what keeping it answered.
async fn keep_as(
    store: &impl Subject,
    phone: &str,
    by: &Texter,
    kiosk: Option<&KioskClaim>,
    limits: &OrderLimits,
) -> (Result<(), Refusal>, SignInCode) {
    let code = SignInCode::generate();
    let expires_at = noon() + Duration::minutes(5);
    let kept = store.keep_sign_in_code(phone, &code, by, noon(), expires_at, kiosk, limits);
    (kept.await.unwrap(), code)
}

/// A code kept for `phone`, asked by the operator.
async fn keep(store: &impl Subject, phone: &str) -> SignInCode {
    let (kept, code) = keep_as(store, phone, &Texter::Operator, None, limits()).await;
    assert_eq!(kept, Ok(()));
    code
}

async fn try_code(store: &impl Subject, code: &SignInCode, phone: &str, at: DateTime<Utc>) -> Option<LiveCode> {
    store.try_sign_in_code(&code.handle, phone, at).await.unwrap()
}

async fn a_code_takes_a_few_tries_through_its_own_handle_only(store: &impl Subject) {
    let phone = "+821055500005";
    let guessed = keep(store, phone).await;
    let owners = keep(store, phone).await;
    for tried in 1..=CODE_TRIES {
        let live = try_code(store, &guessed, phone, noon()).await.expect("tries are left");
        assert_eq!(live.tries, tried);
    }
    assert_eq!(try_code(store, &guessed, phone, noon()).await, None, "no tries left");
    let live = try_code(store, &owners, phone, noon()).await;
    assert_eq!(
        live.map(|live| live.tries),
        Some(1),
        "tries through another handle never touched this code"
    );
    assert_eq!(
        try_code(store, &owners, "+821055500099", noon()).await,
        None,
        "a handle tries only the number its code was texted to"
    );
    let later = noon() + Duration::minutes(5);
    assert_eq!(try_code(store, &owners, phone, later).await, None, "the code ended");
    assert_eq!(
        try_code(store, &SignInCode::generate(), phone, noon()).await,
        None,
        "no code kept"
    );
}

async fn a_code_proves_its_number_once(store: &impl Subject) {
    let phone = "+821055500006";
    let code = keep(store, phone).await;
    let live = try_code(store, &code, phone, noon()).await.unwrap();
    assert_eq!(live.customer_id, None, "a number never proven signs in as nobody yet");
    let (a, b) = tokio::join!(
        store.prove_phone(phone, &live, "cust-a", noon()),
        store.prove_phone(phone, &live, "cust-b", noon())
    );
    let proved: Vec<String> = [a.unwrap(), b.unwrap()]
        .into_iter()
        .filter_map(|proven| match proven {
            Proven::Customer(id) => Some(id),
            Proven::CodeUsed => None,
        })
        .collect();
    assert_eq!(proved.len(), 1, "one of two racing answers proved it");
    assert_eq!(try_code(store, &code, phone, noon()).await, None, "the code is used up");
}

async fn a_number_signs_in_as_the_same_customer_every_time(store: &impl Subject) {
    let phone = "+821055500007";
    let first = proven(store, phone).await;
    let code = keep(store, phone).await;
    let live = try_code(store, &code, phone, noon()).await.unwrap();
    assert_eq!(live.customer_id.as_deref(), Some(first.as_str()));
    let again = store
        .prove_phone(phone, &live, &new_customer_id(), noon())
        .await
        .unwrap();
    assert!(matches!(again, Proven::Customer(id) if id == first));
    let twice = store
        .prove_phone(phone, &live, &new_customer_id(), noon())
        .await
        .unwrap();
    assert!(matches!(twice, Proven::CodeUsed), "a used code proves nothing again");
    // A live code that names another customer (as one read before the number was first proven
    // may): the number keeps its own.
    let code = keep(store, phone).await;
    let mut stale = try_code(store, &code, phone, noon()).await.unwrap();
    stale.customer_id = Some(new_customer_id());
    let taken = store.prove_phone(phone, &stale, "x", noon()).await.unwrap();
    assert!(matches!(taken, Proven::CodeUsed), "a number never changes its customer");
}

async fn codes_and_order_texts_are_counted_apart(store: &impl Subject) {
    let phone = "+821055500008";
    let two_each = &OrderLimits {
        texts_per_hour: 2,
        codes_per_number_per_hour: 2,
        ..limits().clone()
    };
    let by = &Texter::Operator;
    for _ in 0..2 {
        assert_eq!(keep_as(store, phone, by, None, two_each).await.0, Ok(()));
    }
    assert_eq!(
        keep_as(store, phone, by, None, two_each).await.0,
        Err(Refusal::TooManyCodes)
    );
    for _ in 0..2 {
        let order = with_phone(order_at(&new_customer_id(), noon()), phone);
        let placed = store.place(&order, &PlacedBy::Operator, Registration::IfNew, two_each);
        assert!(placed.await.unwrap().is_ok(), "codes used up none of the order texts");
    }
    let order = with_phone(order_at(&new_customer_id(), noon()), phone);
    let placed = store.place(&order, &PlacedBy::Operator, Registration::IfNew, two_each);
    assert_eq!(placed.await.unwrap(), Err(Refusal::TooManyTexts));
    let next_hour = SignInCode::generate();
    let at = noon() + Duration::hours(1);
    let kept = store.keep_sign_in_code(phone, &next_hour, by, at, at + Duration::minutes(5), None, two_each);
    assert_eq!(kept.await.unwrap(), Ok(()), "the next hour");
}

async fn a_caller_and_the_cafe_have_at_most_their_texts_an_hour(store: &impl Subject) {
    let few = &OrderLimits {
        texts_per_caller_per_hour: 2,
        texts_per_cafe_per_hour: 4,
        ..limits().clone()
    };
    let receipt = &Texter::Receipt("o-1".into());
    for phone in ["+821077770001", "+821077770002"] {
        assert_eq!(keep_as(store, phone, receipt, None, few).await.0, Ok(()));
    }
    let third = keep_as(store, "+821077770003", receipt, None, few).await;
    assert_eq!(third.0, Err(Refusal::CallerTexts));
    assert_eq!(
        try_code(store, &third.1, "+821077770003", noon()).await,
        None,
        "nothing kept"
    );
    let another = &Texter::Receipt("o-2".into());
    assert_eq!(keep_as(store, "+821077770003", another, None, few).await.0, Ok(()));
    // An order's text is the cafe's too: the fourth of the hour is its last.
    let order = with_phone(order_at(&new_customer_id(), noon()), "+821077770010");
    let placed = store.place(&order, &PlacedBy::Operator, Registration::IfNew, few);
    assert!(placed.await.unwrap().is_ok());
    let past = keep_as(store, "+821077770011", &Texter::Operator, None, few).await;
    assert_eq!(past.0, Err(Refusal::CafeTexts), "even the operator's");
    let order = with_phone(order_at(&new_customer_id(), noon()), "+821077770010");
    let refused = store.place(&order, &PlacedBy::Operator, Registration::IfNew, few);
    assert_eq!(refused.await.unwrap(), Err(Refusal::CafeTexts));
    assert_eq!(
        store.get(&order.order_id).await.unwrap(),
        None,
        "the refused order is not stored"
    );
}

async fn only_a_registered_kiosk_asks_for_a_code(store: &impl Subject) {
    let claim = registered_kiosk(store).await;
    let phone = "+821055500009";
    let kiosk = &Texter::Kiosk(claim.kiosk_id.clone());
    assert_eq!(keep_as(store, phone, kiosk, Some(&claim), limits()).await.0, Ok(()));
    store.revoke_kiosk(&claim.kiosk_id).await.unwrap();
    let revoked = keep_as(store, phone, kiosk, Some(&claim), limits()).await;
    assert_eq!(revoked.0, Err(Refusal::UnknownKiosk));
}
