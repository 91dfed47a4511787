//! What an order costs, in process: the card it needs, the prices it is placed at, a cart priced
//! line by line and charged as one.

use super::*;

#[tokio::test]
async fn an_order_that_costs_something_needs_a_card_unless_the_operator_places_it() {
    let cafe = Cafe {
        payment_required: true,
        ..Cafe::new(limits())
    };
    let kiosk = cafe.kiosk().await;
    for by in [&PlacedBy::Customer, &kiosk] {
        let unpaid = cafe.place(by, request("ann", 2), None).await;
        assert_eq!(refused(unpaid), OrderError::PaymentRequired("7000 KRW".into()));
    }
    assert_eq!(cafe.in_progress().await, 0, "nothing placed");
    let paid = OrderRequest {
        payment_method: Some("pm_card_visa".into()),
        ..request("ann", 2)
    };
    let order = cafe.place(&PlacedBy::Customer, paid, None).await.unwrap().order;
    let due = order.payment_due().expect("a payment due");
    assert_eq!(
        (due.amount, due.currency.as_str(), due.payment_method.as_str()),
        (7000, "KRW", "pm_card_visa")
    );
    assert_eq!(
        order.placed_event().payment,
        Some(due),
        "OrderPlaced tells the payment step"
    );
    let on_the_house = cafe
        .place(&PlacedBy::Operator, request("staff", 1), None)
        .await
        .unwrap()
        .order;
    assert_eq!(on_the_house.payment_due(), None, "the operator's order is not charged");
}

#[tokio::test]
async fn an_order_is_priced_as_the_cafe_sells_now_and_keeps_that_price() {
    let cafe = Cafe::new(limits());
    let first = cafe
        .place(&PlacedBy::Customer, request("ann", 2), Some("k1"))
        .await
        .unwrap()
        .order;
    assert_eq!(
        (first.unit_price, first.currency.as_deref()),
        (Some(3500), Some("KRW")),
        "the menu's price"
    );
    let raised = PriceSetting {
        price: Some(4000),
        on_sale: None,
    };
    cafe.store.set_price("latte", &raised).await.unwrap();
    let second = cafe
        .place(&PlacedBy::Customer, request("ann", 1), None)
        .await
        .unwrap()
        .order;
    assert_eq!(second.unit_price, Some(4000));
    // The first order sent again (its key) is the order as placed, at its price.
    let again = cafe
        .place(&PlacedBy::Customer, request("ann", 2), Some("k1"))
        .await
        .unwrap()
        .order;
    assert_eq!((again.order_id, again.unit_price), (first.order_id, Some(3500)));
    let off = PriceSetting {
        price: None,
        on_sale: Some(false),
    };
    cafe.store.set_price("latte", &off).await.unwrap();
    let before = cafe.in_progress().await;
    assert_eq!(
        refused(cafe.place(&PlacedBy::Customer, request("bob", 1), None).await),
        OrderError::NotOnSale("Latte".into())
    );
    assert_eq!(cafe.in_progress().await, before, "a refused order takes no place");
}

fn cart(customer_id: &str, lines: &[(&str, i64)]) -> OrderRequest {
    let lines = (lines.iter())
        .map(|(name, qty)| crate::domain::LineRequest {
            beverage_name: name.to_string(),
            beverage_qty: *qty,
        })
        .collect();
    OrderRequest {
        beverage_name: None,
        beverage_qty: None,
        lines: Some(lines),
        payment_method: Some("pm_card_visa".into()),
        ..request(customer_id, 1)
    }
}

#[tokio::test]
async fn a_cart_is_one_order_priced_line_by_line_and_charged_as_one() {
    let cafe = Cafe {
        payment_required: true,
        ..Cafe::new(limits())
    };
    let asked = cart("ann", &[("latte", 2), ("americano", 1)]);
    let order = (cafe.place(&PlacedBy::Customer, asked.clone(), Some("cart-1")).await)
        .unwrap()
        .order;
    assert_eq!(
        (order.beverage_name.as_str(), order.beverage_qty, order.unit_price),
        ("latte", 3, None),
        "three beverages, no one price"
    );
    let lines: Vec<_> = (order.lines().into_iter())
        .map(|line| (line.beverage_name, line.beverage_qty, line.unit_price))
        .collect();
    assert_eq!(
        lines,
        [
            ("latte".to_string(), 2, Some(3500)),
            ("americano".to_string(), 1, Some(3000))
        ]
    );
    let placed = order.placed_event();
    assert_eq!(
        placed.payment.map(|due| due.amount),
        Some(10_000),
        "one payment of the total"
    );
    assert_eq!(placed.order.beverages(), "2 lattes and 1 americano");
    // Sent again with its key: the same order; the key with another cart is refused.
    let again = cafe.place(&PlacedBy::Customer, asked, Some("cart-1")).await.unwrap();
    assert_eq!(again.order, order);
    let listed_otherwise = cart("ann", &[("americano", 1), ("latte", 2)]);
    let again = cafe.place(&PlacedBy::Customer, listed_otherwise, Some("cart-1")).await;
    assert_eq!(
        again.unwrap().order.order_id,
        order.order_id,
        "the same cart, listed otherwise"
    );
    let other = cart("ann", &[("latte", 2)]);
    assert_eq!(
        refused(cafe.place(&PlacedBy::Customer, other, Some("cart-1")).await),
        OrderError::KeyReused
    );
    // Its limits count all its beverages.
    let too_many = cart("bob", &[("latte", 6), ("americano", 5)]);
    assert_eq!(
        refused(cafe.place(&PlacedBy::Customer, too_many, None).await),
        OrderError::TooManyBeverages(10)
    );
    // One line off sale refuses the whole cart, and nothing is placed.
    let off = PriceSetting {
        price: None,
        on_sale: Some(false),
    };
    cafe.store.set_price("americano", &off).await.unwrap();
    let before = cafe.in_progress().await;
    assert_eq!(
        refused(
            cafe.place(
                &PlacedBy::Customer,
                cart("bob", &[("latte", 1), ("americano", 1)]),
                None
            )
            .await
        ),
        OrderError::NotOnSale("Americano".into())
    );
    assert_eq!(cafe.in_progress().await, before);
}
