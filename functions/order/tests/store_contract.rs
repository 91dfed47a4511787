//! The order stores' contract for the saga's moves (`OrderOutcomes`) and placing orders with
//! the cafe's item and the kiosks (`OrderBook`). Each case holds for the in-memory orders
//! (which the saga's and the use cases' in-process tests and the simulation run) and for the
//! DynamoDB store on the template's `OrdersTable` and `CustomersTable`.

mod common;

use cafe_order::domain::sign_in::SignInCode;
use cafe_order::domain::{Kiosk, Order, OrderLimits, OrderStatus, Outcome, PlacedBy, Refusal, Registration, Texter};
use cafe_shared::auth::{KioskClaim, NewKiosk};
use cafe_shared::events::OrderLine;
use chrono::Duration;
use common::*;

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
        ten_racing_orders_take_ten_numbers,
        a_refused_order_uses_up_no_number,
        a_customer_takes_at_most_their_cups_an_hour,
        a_customer_has_at_most_their_orders_in_progress,
        a_customer_places_at_most_their_orders_a_minute,
        a_kiosk_places_at_most_its_orders_a_minute,
        a_number_is_texted_at_most_its_texts_an_hour,
        only_a_registered_kiosk_with_its_secret_places_orders,
        the_most_telling_refusal_is_answered,
        a_kiosk_registers_a_new_customer_once,
        a_customer_who_signs_in_by_phone_orders_only_with_their_own_token,
        a_kiosk_id_is_registered_once,
    ]
);

async fn an_order_moves_only_from_the_status_each_move_needs(store: &impl Subject) {
    let order = pending_order();
    stored(store, &order).await;
    let id = &order.order_id;
    assert_eq!(status(store, &order).await, Some(OrderStatus::Pending));
    let early = unmoved(
        store
            .record_outcome(id, &order.customer_id, &Outcome::Completed)
            .await
            .unwrap(),
    );
    assert_eq!(
        early.map(|o| o.order_status),
        Some(OrderStatus::Pending),
        "a pending order is not completed"
    );
    assert_eq!(
        unmoved(
            store
                .record_outcome(id, &order.customer_id, &Outcome::Making)
                .await
                .unwrap()
        ),
        None
    );
    let late = unmoved(
        store
            .record_outcome(id, &order.customer_id, &withdrawn("changed my mind"))
            .await
            .unwrap(),
    );
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
        unmoved(
            store
                .record_outcome(id, &order.customer_id, &Outcome::Completed)
                .await
                .unwrap()
        ),
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
        unmoved(
            store
                .record_outcome(id, &order.customer_id, &withdrawn("no cups"))
                .await
                .unwrap()
        ),
        None
    );
    let again = unmoved(
        store
            .record_outcome(id, &order.customer_id, &withdrawn("a later reason"))
            .await
            .unwrap(),
    );
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
    let (a, b) = tokio::join!(
        store.record_outcome(id, &order.customer_id, &cancel),
        store.record_outcome(id, &order.customer_id, &making)
    );
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
            .record_outcome(&order.order_id, &order.customer_id, &withdrawn("x"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(status(store, &order).await, None, "the move made no order");
}

async fn an_order_is_stored_once(store: &impl Subject) {
    let order = pending_order();
    stored(store, &order).await;
    let numbered = Order {
        order_number: Some(1),
        ..order.clone()
    };
    assert_eq!(store.get(&order.order_id).await.unwrap(), Some(numbered));
    let again = store
        .place(&order, &PlacedBy::Operator, Registration::IfNew, limits())
        .await;
    assert_eq!(again.unwrap(), Err(Refusal::AlreadyPlaced));
    assert_eq!(in_progress(store).await, 1, "the refused placing took no place");
    // A cart is kept line by line, each line at its price.
    let line = |name: &str, qty, price| OrderLine {
        beverage_name: name.into(),
        beverage_qty: qty,
        unit_price: Some(price),
    };
    let cart = Order {
        beverage_qty: 3,
        lines: vec![line("latte", 2, 3500), line("americano", 1, 3000)],
        ..pending_order()
    };
    stored(store, &cart).await;
    let kept = store.get(&cart.order_id).await.unwrap().expect("stored");
    assert_eq!((kept.lines, kept.beverage_qty), (cart.lines, 3));
}

async fn of_two_placings_of_one_order_exactly_one_stores_it(store: &impl Subject) {
    let order = pending_order();
    let place = || store.place(&order, &PlacedBy::Operator, Registration::IfNew, limits());
    let (a, b) = tokio::join!(place(), place());
    let mut outcomes = [a.unwrap().map(drop), b.unwrap().map(drop)];
    outcomes.sort();
    assert_eq!(outcomes, [Ok(()), Err(Refusal::AlreadyPlaced)]);
    assert_eq!(in_progress(store).await, 1);
}

async fn a_closed_cafe_takes_no_order_and_uses_up_no_number(store: &impl Subject) {
    assert!(!store.set_open(false, limits()).await.unwrap().open);
    let order = pending_order();
    let placed = store
        .place(&order, &PlacedBy::Operator, Registration::IfNew, limits())
        .await;
    assert_eq!(placed.unwrap(), Err(Refusal::CafeRefused));
    assert_eq!(store.get(&order.order_id).await.unwrap(), None);
    assert!(store.set_open(true, limits()).await.unwrap().open);
    let placed = store
        .place(&order, &PlacedBy::Operator, Registration::IfNew, limits())
        .await;
    assert_eq!(placed.unwrap(), Ok(1), "no number was used up");
}

async fn a_full_cafe_takes_no_order_until_one_ends(store: &impl Subject) {
    let one_at_a_time = OrderLimits {
        max_orders_in_progress: 1,
        ..limits().clone()
    };
    let (first, second) = (pending_order(), pending_order());
    let place = |order| store.place(order, &PlacedBy::Operator, Registration::IfNew, &one_at_a_time);
    assert_eq!(place(&first).await.unwrap(), Ok(1));
    assert_eq!(place(&second).await.unwrap(), Err(Refusal::CafeRefused));
    let full = store.cafe(&one_at_a_time).await.unwrap();
    assert_eq!(
        (full.open, full.orders_in_progress, full.takes_orders()),
        (true, 1, false)
    );
    store
        .record_outcome(&first.order_id, &first.customer_id, &withdrawn("no cups"))
        .await
        .unwrap();
    assert_eq!(
        place(&second).await.unwrap(),
        Ok(2),
        "the ended order gave its place back, and the refused one used up no number"
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
    let mut outcomes = [a.unwrap().map(drop), b.unwrap().map(drop)];
    outcomes.sort();
    assert_eq!(outcomes, [Ok(()), Err(Refusal::CafeRefused)]);
    assert_eq!(in_progress(store).await, 1);
}

async fn order_numbers_count_from_one_each_day(store: &impl Subject) {
    let place = |at| async move {
        let order = order_at(&new_customer_id(), at);
        let number = store
            .place(&order, &PlacedBy::Operator, Registration::IfNew, limits())
            .await
            .unwrap()
            .expect("placed");
        let stored = store.get(&order.order_id).await.unwrap().expect("stored");
        assert_eq!(stored.order_number, Some(number), "the order is stored with its number");
        number
    };
    let (a, b) = tokio::join!(place(noon()), place(noon()));
    let mut today = [a, b];
    today.sort();
    assert_eq!(today, [1, 2], "racing orders get a number each");
    assert_eq!(place(noon() + Duration::days(1)).await, 1);
    assert_eq!(place(noon() + Duration::days(1)).await, 2);
}

async fn ten_racing_orders_take_ten_numbers(store: &impl Subject) {
    let place = || async {
        let order = pending_order();
        (store.place(&order, &PlacedBy::Operator, Registration::IfNew, limits()))
            .await
            .unwrap()
            .expect("placed")
    };
    let placed = futures::future::join_all((0..10).map(|_| place())).await;
    let mut numbers = placed.clone();
    numbers.sort();
    assert_eq!(numbers, (1..=10).collect::<Vec<u32>>());
    assert_eq!(in_progress(store).await, 10);
}

async fn a_refused_order_uses_up_no_number(store: &impl Subject) {
    let one_a_minute = &OrderLimits {
        orders_per_minute: 1,
        ..limits().clone()
    };
    let customer = new_customer_id();
    let place = |order| async move {
        (store.place(&order, &PlacedBy::Operator, Registration::IfNew, one_a_minute))
            .await
            .unwrap()
    };
    assert_eq!(place(order_at(&customer, noon())).await, Ok(1));
    for _ in 0..3 {
        assert_eq!(place(order_at(&customer, noon())).await, Err(Refusal::TooManyOrders));
    }
    assert_eq!(place(order_at(&new_customer_id(), noon())).await, Ok(2));
}

/// A customer's order of `qty` cups, placed by `placed_by` (their own token, or the operator).
fn cups(customer: &str, qty: u32) -> Order {
    Order {
        beverage_qty: qty,
        ..order_at(customer, noon())
    }
}

async fn a_customer_takes_at_most_their_cups_an_hour(store: &impl Subject) {
    let ten_an_hour = &OrderLimits {
        cups_per_customer_per_hour: 10,
        ..limits().clone()
    };
    let customer = new_customer_id();
    let place = |order: Order, by: PlacedBy| async move {
        (store.place(&order, &by, Registration::None, ten_an_hour))
            .await
            .unwrap()
            .map(drop)
    };
    assert_eq!(place(cups(&customer, 6), PlacedBy::Customer).await, Ok(()));
    assert_eq!(
        place(cups(&customer, 5), PlacedBy::Customer).await,
        Err(Refusal::TooManyCups)
    );
    assert_eq!(
        place(cups(&customer, 4), PlacedBy::Customer).await,
        Ok(()),
        "up to the cap"
    );
    assert_eq!(
        place(cups(&customer, 3), PlacedBy::Operator).await,
        Ok(()),
        "the operator's order is not refused"
    );
    assert_eq!(in_progress(store).await, 3, "the refused order took no place");
    let next_hour = Order {
        order_date: noon() + Duration::hours(1),
        ..cups(&customer, 10)
    };
    assert_eq!(place(next_hour, PlacedBy::Customer).await, Ok(()), "the next hour");
}

async fn a_customer_has_at_most_their_orders_in_progress(store: &impl Subject) {
    let two_at_a_time = &OrderLimits {
        orders_in_progress_per_customer: 2,
        ..limits().clone()
    };
    let customer = new_customer_id();
    let place = |order: Order, by: PlacedBy| async move {
        (store.place(&order, &by, Registration::None, two_at_a_time))
            .await
            .unwrap()
            .map(drop)
    };
    let first = cups(&customer, 1);
    assert_eq!(place(first.clone(), PlacedBy::Customer).await, Ok(()));
    assert_eq!(place(cups(&customer, 1), PlacedBy::Operator).await, Ok(()));
    assert_eq!(
        place(cups(&customer, 1), PlacedBy::Customer).await,
        Err(Refusal::CustomerBusy),
        "the operator's order counts"
    );
    assert_eq!(
        place(cups(&new_customer_id(), 1), PlacedBy::Customer).await,
        Ok(()),
        "another customer is counted apart"
    );
    let ended = store
        .record_outcome(&first.order_id, &customer, &withdrawn("no cups"))
        .await
        .unwrap();
    assert_eq!(unmoved(ended), None);
    assert_eq!(
        place(cups(&customer, 1), PlacedBy::Customer).await,
        Ok(()),
        "the ended order gave its place back"
    );
    let again = store
        .record_outcome(&first.order_id, &customer, &withdrawn("no cups"))
        .await
        .unwrap();
    assert!(unmoved(again).is_some());
    assert_eq!(
        place(cups(&customer, 1), PlacedBy::Customer).await,
        Err(Refusal::CustomerBusy),
        "a redelivered end gives nothing back twice"
    );
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
            .map(drop)
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
            .map(drop)
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
            .map(drop)
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
    assert_eq!(place(PlacedBy::Kiosk(claim.clone())).await.unwrap().map(drop), Ok(()));
    let revoked = store
        .revoke_kiosk(&claim.kiosk_id)
        .await
        .unwrap()
        .expect("it was registered");
    assert_eq!(revoked.kiosk_id, claim.kiosk_id);
    assert_eq!(revoked.orders_placed, 1);
    assert_eq!(store.revoke_kiosk(&claim.kiosk_id).await.unwrap(), None, "revoked once");
    assert_eq!(store.kiosk(&claim.kiosk_id).await.unwrap(), None);
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
    let claim = registered_kiosk(store).await;
    let kiosk = &PlacedBy::Kiosk(claim.clone());
    let customer = new_customer_id();
    let place = |registration| {
        let order = order_at(&customer, noon());
        async move { store.place(&order, kiosk, registration, limits()).await }
    };
    assert_eq!(place(Registration::New).await.unwrap().map(drop), Ok(()));
    assert_eq!(place(Registration::New).await.unwrap(), Err(Refusal::CustomerKnown));
    assert_eq!(
        place(Registration::None).await.unwrap().map(drop),
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
    let issued = store.kiosk(&claim.kiosk_id).await.unwrap().expect("registered");
    assert_eq!(
        (issued.orders_placed, issued.customer_tokens_issued),
        (2, 1),
        "two orders placed, one new customer's token; refusals issue nothing"
    );
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
        own(with_phone(order_at(&customer, noon()), phone))
            .await
            .unwrap()
            .map(drop),
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
        orders_placed: 0,
        customer_tokens_issued: 0,
    };
    assert!(store.register_kiosk(&again, "other").await.is_err());
    assert!(
        store.is_registered_kiosk(&claim).await.unwrap(),
        "the first kiosk stays"
    );
}

/// With the tables out of reach, every call is an error, never a default answer.
mod unreachable {
    use super::*;

    cafe_testkit::contract!(fake: fake_down, dynamodb: dynamodb_down, cases: [every_call_fails]);

    async fn every_call_fails(store: &impl Subject) {
        let order = pending_order();
        let claim = KioskClaim {
            kiosk_id: "kiosk-1".into(),
            secret_hash: "x".into(),
        };
        assert!(
            store
                .record_outcome(&order.order_id, &order.customer_id, &Outcome::Making)
                .await
                .is_err()
        );
        assert!(store.status_of(&order.order_id).await.is_err());
        assert!(store.get(&order.order_id).await.is_err());
        assert!(store.is_registered_kiosk(&claim).await.is_err());
        assert!(
            store
                .place(&order, &PlacedBy::Operator, Registration::IfNew, limits())
                .await
                .is_err()
        );
        assert!(store.cafe(limits()).await.is_err());
        assert!(store.set_open(false, limits()).await.is_err());
        assert!(store.revoke_kiosk("kiosk-1").await.is_err());
        assert!(store.kiosk("kiosk-1").await.is_err());
        let code = SignInCode::generate();
        let (phone, by) = ("+821055500010", &Texter::Operator);
        let kept = store.keep_sign_in_code(phone, &code, by, noon(), noon(), None, limits());
        assert!(kept.await.is_err());
        assert!(store.try_sign_in_code(&code.handle, phone, noon()).await.is_err());
    }
}
