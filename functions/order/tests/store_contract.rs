//! The order stores' contract: the saga's moves (`OrderOutcomes`), placing orders with the
//! cafe's item and the kiosks (`OrderBook`) and signing in (`SignIns`). Each case holds for the
//! in-memory orders (which the saga's and the use cases' in-process tests and the simulation
//! run) and for the DynamoDB store on the template's `OrdersTable` and `CustomersTable`.

use cafe_order::domain::sign_in::{CODE_TRIES, LiveCode, SignInCode};
use cafe_order::domain::{Kiosk, Order, OrderLimits, OrderStatus, Outcome, PlacedBy, Refusal, Registration};
use cafe_order::store::fake::MemoryOrders;
use cafe_order::store::{CodeKept, OrderBook, OrderOutcomes, OrderStore, Proven, Recorded, SignIns};
use cafe_shared::auth::{KioskClaim, NewKiosk};
use cafe_shared::fakes::api::unreachable_cloud;
use cafe_testkit::Tables;
use chrono::{DateTime, Duration, Utc};
use std::sync::LazyLock;

trait Subject: OrderOutcomes + OrderBook + SignIns {}
impl<T: OrderOutcomes + OrderBook + SignIns> Subject for T {}

async fn fake_orders() -> MemoryOrders {
    MemoryOrders::default()
}

async fn dynamodb_orders() -> OrderStore {
    let tables = Tables::new(&["OrdersTable", "CustomersTable"]);
    let sdk = tables.sdk().await;
    OrderStore::new(&sdk, tables.name("OrdersTable"), tables.name("CustomersTable"))
}

cafe_testkit::contract!(
    fake: fake_orders,
    dynamodb: dynamodb_orders,
    cases: [
        an_order_moves_only_from_the_status_each_move_needs,
        a_redelivered_move_changes_nothing,
        of_a_cancel_and_the_machine_racing_exactly_one_wins,
        a_missing_order_has_no_status_and_takes_no_move,
        an_order_is_stored_once,
        of_two_placings_of_one_order_exactly_one_stores_it,
        a_closed_cafe_takes_no_order_and_uses_up_no_number,
        a_full_cafe_takes_no_order_until_one_ends,
        of_two_orders_racing_for_the_last_place_exactly_one_is_placed,
        order_numbers_count_from_one_each_day,
        a_customer_places_at_most_their_orders_a_minute,
        a_kiosk_places_at_most_its_orders_a_minute,
        a_number_is_texted_at_most_its_texts_an_hour,
        only_a_registered_kiosk_with_its_secret_places_orders,
        the_most_telling_refusal_is_answered,
        a_kiosk_registers_a_new_customer_once,
        a_customer_who_signs_in_by_phone_orders_only_with_their_own_token,
        a_kiosk_id_is_registered_once,
        a_code_takes_a_few_tries_before_it_ends,
        a_code_proves_its_number_once,
        a_number_signs_in_as_the_same_customer_every_time,
        codes_and_orders_share_a_number_s_texts,
        only_a_registered_kiosk_asks_for_a_code,
    ]
);

fn limits() -> &'static OrderLimits {
    static LIMITS: LazyLock<OrderLimits> = LazyLock::new(|| OrderLimits {
        orders_per_minute: 100,
        orders_per_kiosk_per_minute: 100,
        texts_per_hour: 5,
        text_country_codes: vec!["82".into()],
        max_orders_in_progress: 100,
    });
    &LIMITS
}

/// A pending order of customer `customer_id`, placed at `at`.
fn order_at(customer_id: &str, at: DateTime<Utc>) -> Order {
    serde_json::from_value(serde_json::json!({
        "orderId": uuid::Uuid::new_v4().to_string(), "customerId": customer_id, "beverageName": "latte",
        "beverageQty": 2, "stockName": "cup", "orderStatus": "pending", "orderDate": at,
    }))
    .unwrap()
}

fn pending_order() -> Order {
    order_at(&new_customer_id(), noon())
}

fn new_customer_id() -> String {
    format!("c-{}", uuid::Uuid::new_v4().simple())
}

fn noon() -> DateTime<Utc> {
    "2026-12-01T12:00:00Z".parse().unwrap()
}

fn with_phone(mut order: Order, phone: &str) -> Order {
    order.phone_number = Some(phone.into());
    order
}

async fn stored(store: &impl Subject, order: &Order) {
    let placed = store
        .place(order, &PlacedBy::Operator, Registration::IfNew, limits())
        .await;
    assert_eq!(placed.unwrap(), Ok(()), "the order is stored");
}

/// A kiosk registered on the store, and its claim.
async fn registered_kiosk(store: &impl Subject) -> KioskClaim {
    let new = NewKiosk::generate();
    let kiosk = Kiosk {
        kiosk_id: new.kiosk_id.clone(),
        kiosk_name: "by the door".into(),
        registered_at: noon(),
    };
    store.register_kiosk(&kiosk, &new.secret_hash).await.unwrap();
    KioskClaim {
        kiosk_id: new.kiosk_id,
        secret_hash: new.secret_hash,
    }
}

fn withdrawn(reason: &str) -> Outcome {
    Outcome::Withdrawn { reason: reason.into() }
}

/// The order as it is when the move did not happen; `None` when it moved.
fn unmoved(recorded: Option<Recorded>) -> Option<Order> {
    match recorded.expect("the order exists") {
        Recorded::Moved => None,
        Recorded::Unmoved(order) => Some(order),
    }
}

async fn status(store: &impl Subject, order: &Order) -> Option<OrderStatus> {
    store.status_of(&order.order_id).await.unwrap()
}

async fn in_progress(store: &impl Subject) -> u32 {
    store.cafe(limits()).await.unwrap().orders_in_progress
}

async fn an_order_moves_only_from_the_status_each_move_needs(store: &impl Subject) {
    let order = pending_order();
    stored(store, &order).await;
    let id = &order.order_id;
    assert_eq!(status(store, &order).await, Some(OrderStatus::Pending));
    let early = unmoved(store.record_outcome(id, &Outcome::Completed).await.unwrap());
    assert_eq!(
        early.map(|o| o.order_status),
        Some(OrderStatus::Pending),
        "a pending order is not completed"
    );
    assert_eq!(unmoved(store.record_outcome(id, &Outcome::Making).await.unwrap()), None);
    let late = unmoved(store.record_outcome(id, &withdrawn("changed my mind")).await.unwrap());
    assert_eq!(
        late.map(|o| o.order_status),
        Some(OrderStatus::Making),
        "past the point of no return"
    );
    assert_eq!(
        in_progress(store).await,
        1,
        "a move that ends nothing keeps the order's place"
    );
    assert_eq!(
        unmoved(store.record_outcome(id, &Outcome::Completed).await.unwrap()),
        None
    );
    assert_eq!(status(store, &order).await, Some(OrderStatus::Completed));
    assert_eq!(
        in_progress(store).await,
        0,
        "the move that ends it gives its place back"
    );
}

async fn a_redelivered_move_changes_nothing(store: &impl Subject) {
    let order = pending_order();
    stored(store, &order).await;
    let id = &order.order_id;
    assert_eq!(
        unmoved(store.record_outcome(id, &withdrawn("no cups")).await.unwrap()),
        None
    );
    let again = unmoved(store.record_outcome(id, &withdrawn("a later reason")).await.unwrap());
    let again = again.expect("a second move finds the order moved");
    assert_eq!(
        (again.order_status, again.reason.as_deref()),
        (OrderStatus::Cancelled, Some("no cups"))
    );
    assert_eq!(in_progress(store).await, 0, "the place was given back once");
}

async fn of_a_cancel_and_the_machine_racing_exactly_one_wins(store: &impl Subject) {
    let order = pending_order();
    stored(store, &order).await;
    let id = &order.order_id;
    let (cancel, making) = (withdrawn("cancelled by the customer"), Outcome::Making);
    let (a, b) = tokio::join!(store.record_outcome(id, &cancel), store.record_outcome(id, &making));
    let (cancelled, made) = (unmoved(a.unwrap()).is_none(), unmoved(b.unwrap()).is_none());
    assert!(
        cancelled ^ made,
        "exactly one move won: cancel {cancelled}, making {made}"
    );
    let expected = if cancelled {
        OrderStatus::Cancelled
    } else {
        OrderStatus::Making
    };
    assert_eq!(status(store, &order).await, Some(expected));
}

async fn a_missing_order_has_no_status_and_takes_no_move(store: &impl Subject) {
    let order = pending_order();
    assert_eq!(status(store, &order).await, None);
    assert_eq!(store.get(&order.order_id).await.unwrap(), None);
    assert!(
        store
            .record_outcome(&order.order_id, &withdrawn("x"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(status(store, &order).await, None, "the move made no order");
}

async fn an_order_is_stored_once(store: &impl Subject) {
    let order = pending_order();
    stored(store, &order).await;
    assert_eq!(store.get(&order.order_id).await.unwrap(), Some(order.clone()));
    let again = store
        .place(&order, &PlacedBy::Operator, Registration::IfNew, limits())
        .await;
    assert_eq!(again.unwrap(), Err(Refusal::AlreadyPlaced));
    assert_eq!(in_progress(store).await, 1, "the refused placing took no place");
}

async fn of_two_placings_of_one_order_exactly_one_stores_it(store: &impl Subject) {
    let order = pending_order();
    let place = || store.place(&order, &PlacedBy::Operator, Registration::IfNew, limits());
    let (a, b) = tokio::join!(place(), place());
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort();
    assert_eq!(outcomes, [Ok(()), Err(Refusal::AlreadyPlaced)]);
    assert_eq!(in_progress(store).await, 1);
}

async fn a_closed_cafe_takes_no_order_and_uses_up_no_number(store: &impl Subject) {
    assert!(!store.set_open(false, limits()).await.unwrap().open);
    let cafe = store.take_order_number(noon(), limits()).await.unwrap().unwrap_err();
    assert!(!cafe.open);
    let order = pending_order();
    let placed = store
        .place(&order, &PlacedBy::Operator, Registration::IfNew, limits())
        .await;
    assert_eq!(placed.unwrap(), Err(Refusal::CafeRefused));
    assert_eq!(store.get(&order.order_id).await.unwrap(), None);
    assert!(store.set_open(true, limits()).await.unwrap().open);
    assert_eq!(
        store.take_order_number(noon(), limits()).await.unwrap(),
        Ok(1),
        "no number was used up"
    );
}

async fn a_full_cafe_takes_no_order_until_one_ends(store: &impl Subject) {
    let one_at_a_time = OrderLimits {
        max_orders_in_progress: 1,
        ..limits().clone()
    };
    let (first, second) = (pending_order(), pending_order());
    let place = |order| store.place(order, &PlacedBy::Operator, Registration::IfNew, &one_at_a_time);
    assert_eq!(place(&first).await.unwrap(), Ok(()));
    assert_eq!(place(&second).await.unwrap(), Err(Refusal::CafeRefused));
    let full = store
        .take_order_number(noon(), &one_at_a_time)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!((full.open, full.orders_in_progress), (true, 1));
    store
        .record_outcome(&first.order_id, &withdrawn("no cups"))
        .await
        .unwrap();
    assert_eq!(
        place(&second).await.unwrap(),
        Ok(()),
        "the ended order gave its place back"
    );
}

async fn of_two_orders_racing_for_the_last_place_exactly_one_is_placed(store: &impl Subject) {
    let one_at_a_time = OrderLimits {
        max_orders_in_progress: 1,
        ..limits().clone()
    };
    let (first, second) = (pending_order(), pending_order());
    let place = |order| store.place(order, &PlacedBy::Operator, Registration::IfNew, &one_at_a_time);
    let (a, b) = tokio::join!(place(&first), place(&second));
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort();
    assert_eq!(outcomes, [Ok(()), Err(Refusal::CafeRefused)]);
    assert_eq!(in_progress(store).await, 1);
}

async fn order_numbers_count_from_one_each_day(store: &impl Subject) {
    let take = |at| store.take_order_number(at, limits());
    let (a, b) = tokio::join!(take(noon()), take(noon()));
    let mut today = [a.unwrap().unwrap(), b.unwrap().unwrap()];
    today.sort();
    assert_eq!(today, [1, 2], "racing takers get a number each");
    assert_eq!(take(noon() + Duration::days(1)).await.unwrap(), Ok(1));
    assert_eq!(take(noon() + Duration::days(1)).await.unwrap(), Ok(2));
}

async fn a_customer_places_at_most_their_orders_a_minute(store: &impl Subject) {
    let two_a_minute = &OrderLimits {
        orders_per_minute: 2,
        ..limits().clone()
    };
    let customer = new_customer_id();
    let place = |order| async move {
        (store.place(&order, &PlacedBy::Operator, Registration::IfNew, two_a_minute))
            .await
            .unwrap()
    };
    assert_eq!(place(order_at(&customer, noon())).await, Ok(()));
    assert_eq!(place(order_at(&customer, noon())).await, Ok(()));
    let third = order_at(&customer, noon());
    assert_eq!(place(third.clone()).await, Err(Refusal::TooManyOrders));
    assert_eq!(store.get(&third.order_id).await.unwrap(), None);
    assert_eq!(in_progress(store).await, 2, "the refused order took no place");
    assert_eq!(
        place(order_at(&new_customer_id(), noon())).await,
        Ok(()),
        "another customer's is counted apart"
    );
    assert_eq!(
        place(order_at(&customer, noon() + Duration::minutes(1))).await,
        Ok(()),
        "and the next minute's"
    );
}

async fn a_kiosk_places_at_most_its_orders_a_minute(store: &impl Subject) {
    let one_a_minute = &OrderLimits {
        orders_per_kiosk_per_minute: 1,
        ..limits().clone()
    };
    let kiosk = &PlacedBy::Kiosk(registered_kiosk(store).await);
    let place = |order| async move {
        (store.place(&order, kiosk, Registration::New, one_a_minute))
            .await
            .unwrap()
    };
    assert_eq!(place(pending_order()).await, Ok(()));
    assert_eq!(place(pending_order()).await, Err(Refusal::KioskBusy));
    assert_eq!(
        place(order_at(&new_customer_id(), noon() + Duration::minutes(1))).await,
        Ok(())
    );
}

async fn a_number_is_texted_at_most_its_texts_an_hour(store: &impl Subject) {
    let two_an_hour = &OrderLimits {
        texts_per_hour: 2,
        ..limits().clone()
    };
    let place = |order| async move {
        (store.place(&order, &PlacedBy::Operator, Registration::IfNew, two_an_hour))
            .await
            .unwrap()
    };
    let texted = |at| with_phone(order_at(&new_customer_id(), at), "+821055500001");
    assert_eq!(place(texted(noon())).await, Ok(()));
    assert_eq!(place(texted(noon())).await, Ok(()));
    assert_eq!(place(texted(noon())).await, Err(Refusal::TooManyTexts));
    let other = with_phone(order_at(&new_customer_id(), noon()), "+821055500002");
    assert_eq!(place(other).await, Ok(()), "another number is counted apart");
    assert_eq!(
        place(texted(noon() + Duration::hours(1))).await,
        Ok(()),
        "and the next hour"
    );
}

async fn only_a_registered_kiosk_with_its_secret_places_orders(store: &impl Subject) {
    let claim = registered_kiosk(store).await;
    assert!(store.is_registered_kiosk(&claim).await.unwrap());
    let wrong = KioskClaim {
        secret_hash: NewKiosk::generate().secret_hash,
        ..claim.clone()
    };
    assert!(!store.is_registered_kiosk(&wrong).await.unwrap());
    let place = |by: PlacedBy| async move { store.place(&pending_order(), &by, Registration::New, limits()).await };
    assert_eq!(place(PlacedBy::Kiosk(wrong)).await.unwrap(), Err(Refusal::UnknownKiosk));
    assert_eq!(place(PlacedBy::Kiosk(claim.clone())).await.unwrap(), Ok(()));
    let revoked = store
        .revoke_kiosk(&claim.kiosk_id)
        .await
        .unwrap()
        .expect("it was registered");
    assert_eq!(revoked.kiosk_id, claim.kiosk_id);
    assert_eq!(store.revoke_kiosk(&claim.kiosk_id).await.unwrap(), None, "revoked once");
    assert!(!store.is_registered_kiosk(&claim).await.unwrap());
    assert_eq!(place(PlacedBy::Kiosk(claim)).await.unwrap(), Err(Refusal::UnknownKiosk));
    assert_eq!(in_progress(store).await, 1, "no refused order took a place");
}

async fn the_most_telling_refusal_is_answered(store: &impl Subject) {
    let order = pending_order();
    stored(store, &order).await;
    store.set_open(false, limits()).await.unwrap();
    let again = store
        .place(&order, &PlacedBy::Operator, Registration::IfNew, limits())
        .await;
    assert_eq!(
        again.unwrap(),
        Err(Refusal::AlreadyPlaced),
        "a retry, not a closed cafe"
    );
    let stranger = PlacedBy::Kiosk(KioskClaim {
        kiosk_id: "kiosk-nobody".into(),
        secret_hash: "x".into(),
    });
    let unknown = store.place(&order, &stranger, Registration::New, limits()).await;
    assert_eq!(
        unknown.unwrap(),
        Err(Refusal::UnknownKiosk),
        "an unknown kiosk learns nothing more"
    );
}

async fn a_kiosk_registers_a_new_customer_once(store: &impl Subject) {
    let kiosk = &PlacedBy::Kiosk(registered_kiosk(store).await);
    let customer = new_customer_id();
    let place = |registration| {
        let order = order_at(&customer, noon());
        async move { store.place(&order, kiosk, registration, limits()).await }
    };
    assert_eq!(place(Registration::New).await.unwrap(), Ok(()));
    assert_eq!(place(Registration::New).await.unwrap(), Err(Refusal::CustomerKnown));
    assert_eq!(
        place(Registration::None).await.unwrap(),
        Ok(()),
        "a returning customer orders"
    );
    let by_operator = order_at(&new_customer_id(), noon());
    stored(store, &by_operator).await;
    let at_kiosk = order_at(&by_operator.customer_id, noon());
    let claimed = store.place(&at_kiosk, kiosk, Registration::New, limits()).await;
    assert_eq!(
        claimed.unwrap(),
        Err(Refusal::CustomerKnown),
        "the operator's order registered them"
    );
}

/// Proves `phone` with a code kept and answered on the store: the customer id it signs in as.
async fn proven(store: &impl Subject, phone: &str) -> String {
    let code = SignInCode::generate();
    let kept = store.keep_sign_in_code(phone, &code, noon(), noon() + Duration::minutes(5), None, limits());
    assert!(matches!(kept.await.unwrap(), CodeKept::Kept));
    let live = store
        .try_sign_in_code(phone, noon())
        .await
        .unwrap()
        .expect("a live code");
    match store
        .prove_phone(phone, &live, &new_customer_id(), noon())
        .await
        .unwrap()
    {
        Proven::Customer(customer_id) => customer_id,
        Proven::CodeUsed => panic!("a fresh code proves its number"),
    }
}

async fn a_customer_who_signs_in_by_phone_orders_only_with_their_own_token(store: &impl Subject) {
    let phone = "+821055500003";
    let customer = proven(store, phone).await;
    let kiosk = PlacedBy::Kiosk(registered_kiosk(store).await);
    let typed = order_at(&customer, noon());
    let typed = store.place(&typed, &kiosk, Registration::None, limits()).await;
    assert_eq!(typed.unwrap(), Err(Refusal::SignsInByPhone));
    let own = |order| async move {
        store
            .place(&order, &PlacedBy::Customer, Registration::None, limits())
            .await
    };
    assert_eq!(
        own(with_phone(order_at(&customer, noon()), phone)).await.unwrap(),
        Ok(())
    );
    let other_number = with_phone(order_at(&customer, noon()), "+821055500004");
    assert_eq!(own(other_number).await.unwrap(), Err(Refusal::PhoneNotProven));
    let stranger = with_phone(order_at(&new_customer_id(), noon()), phone);
    assert_eq!(
        own(stranger).await.unwrap(),
        Err(Refusal::PhoneNotProven),
        "the number is not theirs"
    );
}

async fn a_kiosk_id_is_registered_once(store: &impl Subject) {
    let claim = registered_kiosk(store).await;
    let again = Kiosk {
        kiosk_id: claim.kiosk_id.clone(),
        kiosk_name: "a second kiosk".into(),
        registered_at: noon(),
    };
    assert!(store.register_kiosk(&again, "other").await.is_err());
    assert!(
        store.is_registered_kiosk(&claim).await.unwrap(),
        "the first kiosk stays"
    );
}

async fn keep(store: &impl Subject, phone: &str, at: DateTime<Utc>, kiosk: Option<&KioskClaim>) -> CodeKept {
    let code = SignInCode::generate();
    let expires_at = at + Duration::minutes(5);
    store
        .keep_sign_in_code(phone, &code, at, expires_at, kiosk, limits())
        .await
        .unwrap()
}

async fn a_code_takes_a_few_tries_before_it_ends(store: &impl Subject) {
    let phone = "+821055500005";
    assert!(matches!(keep(store, phone, noon(), None).await, CodeKept::Kept));
    for tried in 1..=CODE_TRIES {
        let live = store
            .try_sign_in_code(phone, noon())
            .await
            .unwrap()
            .expect("tries are left");
        assert_eq!(live.tries, tried);
    }
    assert_eq!(
        store.try_sign_in_code(phone, noon()).await.unwrap(),
        None,
        "no tries left"
    );
    assert!(matches!(keep(store, phone, noon(), None).await, CodeKept::Kept));
    let later = noon() + Duration::minutes(5);
    assert_eq!(
        store.try_sign_in_code(phone, later).await.unwrap(),
        None,
        "the new code ended"
    );
    assert_eq!(
        store.try_sign_in_code("+821055500099", noon()).await.unwrap(),
        None,
        "no code kept"
    );
}

async fn a_code_proves_its_number_once(store: &impl Subject) {
    let phone = "+821055500006";
    keep(store, phone, noon(), None).await;
    let live: LiveCode = store.try_sign_in_code(phone, noon()).await.unwrap().unwrap();
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
    assert_eq!(
        store.try_sign_in_code(phone, noon()).await.unwrap(),
        None,
        "the code is used up"
    );
}

async fn a_number_signs_in_as_the_same_customer_every_time(store: &impl Subject) {
    let phone = "+821055500007";
    let first = proven(store, phone).await;
    keep(store, phone, noon(), None).await;
    let live = store.try_sign_in_code(phone, noon()).await.unwrap().unwrap();
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
    keep(store, phone, noon(), None).await;
    let mut stale = store.try_sign_in_code(phone, noon()).await.unwrap().unwrap();
    stale.customer_id = Some(new_customer_id());
    let taken = store.prove_phone(phone, &stale, "x", noon()).await.unwrap();
    assert!(matches!(taken, Proven::CodeUsed), "a number never changes its customer");
}

async fn codes_and_orders_share_a_number_s_texts(store: &impl Subject) {
    let phone = "+821055500008";
    let two_an_hour = &OrderLimits {
        texts_per_hour: 2,
        ..limits().clone()
    };
    let order = with_phone(order_at(&new_customer_id(), noon()), phone);
    let placed = store.place(&order, &PlacedBy::Operator, Registration::IfNew, two_an_hour);
    assert_eq!(placed.await.unwrap(), Ok(()));
    let code = SignInCode::generate();
    let keep = |at| store.keep_sign_in_code(phone, &code, at, noon() + Duration::minutes(5), None, two_an_hour);
    assert!(matches!(keep(noon()).await.unwrap(), CodeKept::Kept));
    assert!(matches!(keep(noon()).await.unwrap(), CodeKept::TooManyTexts));
    assert!(matches!(
        keep(noon() + Duration::hours(1)).await.unwrap(),
        CodeKept::Kept
    ));
}

async fn only_a_registered_kiosk_asks_for_a_code(store: &impl Subject) {
    let claim = registered_kiosk(store).await;
    let phone = "+821055500009";
    assert!(matches!(keep(store, phone, noon(), Some(&claim)).await, CodeKept::Kept));
    store.revoke_kiosk(&claim.kiosk_id).await.unwrap();
    assert!(matches!(
        keep(store, phone, noon(), Some(&claim)).await,
        CodeKept::UnknownKiosk
    ));
}

/// With the tables out of reach, every call is an error, never a default answer.
mod unreachable {
    use super::*;

    async fn fake_down() -> MemoryOrders {
        let store = MemoryOrders::default();
        store.down.set(true);
        store
    }

    async fn dynamodb_down() -> OrderStore {
        OrderStore::new(&unreachable_cloud().await, "orders".into(), "customers".into())
    }

    cafe_testkit::contract!(fake: fake_down, dynamodb: dynamodb_down, cases: [every_call_fails]);

    async fn every_call_fails(store: &impl Subject) {
        let order = pending_order();
        let claim = KioskClaim {
            kiosk_id: "kiosk-1".into(),
            secret_hash: "x".into(),
        };
        assert!(store.record_outcome(&order.order_id, &Outcome::Making).await.is_err());
        assert!(store.status_of(&order.order_id).await.is_err());
        assert!(store.get(&order.order_id).await.is_err());
        assert!(store.is_registered_kiosk(&claim).await.is_err());
        assert!(store.take_order_number(noon(), limits()).await.is_err());
        assert!(
            store
                .place(&order, &PlacedBy::Operator, Registration::IfNew, limits())
                .await
                .is_err()
        );
        assert!(store.cafe(limits()).await.is_err());
        assert!(store.set_open(false, limits()).await.is_err());
        assert!(store.revoke_kiosk("kiosk-1").await.is_err());
        let code = SignInCode::generate();
        let kept = store.keep_sign_in_code("+821055500010", &code, noon(), noon(), None, limits());
        assert!(kept.await.is_err());
        assert!(store.try_sign_in_code("+821055500010", noon()).await.is_err());
    }
}
