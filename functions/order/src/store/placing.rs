//! Placing orders, the cafe's item and the registered kiosks, in the customers and orders
//! tables (see the store's module comment for the items).

use super::{
    CAFE, CAFE_TAKES_ORDERS, KIOSK, LISTED_AS, ON_SALE_PREFIX, ORDER, OrderBook, OrderStore, PRICE_PREFIX, cafe_of,
    price_list_of,
};
use crate::domain::{Cafe, Kiosk, Order, OrderLimits, PlacedBy, PriceList, PriceSetting, Refusal, Registration, Tally};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, ReturnValue, TransactWriteItem, Update};
use cafe_shared::Error;
use cafe_shared::auth::KioskClaim;
use cafe_shared::dynamo::{self, Item, n, s};
use chrono::{DateTime, Days, Utc};

impl OrderBook for OrderStore {
    async fn get(&self, order_id: &str) -> Result<Option<Order>, Error> {
        let item = dynamo::get_item(&self.client, &self.table, dynamo::key("orderId", order_id)).await?;
        Ok(item.map(serde_dynamo::from_item).transpose()?)
    }

    async fn is_registered_kiosk(&self, claim: &KioskClaim) -> Result<bool, Error> {
        let key = dynamo::key("customerKey", format!("kiosk#{}", claim.kiosk_id));
        let item = dynamo::get_item(&self.client, &self.customers_table, key).await?;
        Ok(item.and_then(|kiosk| kiosk.get("secretHash").cloned()) == Some(s(claim.secret_hash.clone())))
    }

    async fn place(
        &self,
        order: &Order,
        placed_by: &PlacedBy,
        registration: Registration,
        limits: &OrderLimits,
    ) -> Result<Result<u32, Refusal>, Error> {
        let checks = self.placing_checks(order, placed_by, registration, limits)?;
        let transact = |number: u32, cafe: TransactWriteItem| {
            let mut writes = checks.clone();
            writes.push((Refusal::AlreadyPlaced, self.put_order(order, number)?));
            writes.push((Refusal::CafeRefused, cafe));
            Ok::<_, Error>(async move {
                let items: Vec<TransactWriteItem> = writes.iter().map(|(_, write)| write.clone()).collect();
                let refused = dynamo::transact(&self.client, items).await?;
                Ok::<_, Error>(Refusal::most_telling(refused.into_iter().map(|i| writes[i].0)))
            })
        };
        // The day's number is read, then taken in the order's own transaction on condition that
        // it has not moved: a refused order uses up none.
        for _ in 0..NUMBER_TRIES {
            let cafe = dynamo::get_item(&self.client, &self.customers_table, dynamo::key("customerKey", CAFE)).await?;
            let number = last_number(&cafe.unwrap_or_default(), order.order_date)? + 1;
            match transact(number, self.take_place_numbered(order.order_date, number, limits)?)?.await? {
                None => return Ok(Ok(number)),
                // Closed or full, or only the number moved: the cafe as it is now says which.
                Some(Refusal::CafeRefused) if self.cafe(limits).await?.takes_orders() => continue,
                Some(refusal) => return Ok(Err(refusal)),
            }
        }
        // Orders placed at the same moment keep moving the number: this one takes the next
        // outright (an atomic count no other order can take from under it), so that a rush costs
        // each order a few calls, not one try per order ahead of it. Only here may a refusal use
        // up a number: an order that fails its checks while others race it for the cafe.
        let Some(number) = self.take_next_number(order.order_date, limits).await? else {
            return Ok(Err(Refusal::CafeRefused));
        };
        Ok(match transact(number, self.take_place(limits)?)?.await? {
            None => Ok(number),
            Some(refusal) => Err(refusal),
        })
    }

    async fn cafe(&self, limits: &OrderLimits) -> Result<Cafe, Error> {
        let item = dynamo::get_item(&self.client, &self.customers_table, dynamo::key("customerKey", CAFE)).await?;
        Ok(cafe_of(&item.unwrap_or_default(), limits))
    }

    async fn price_list(&self) -> Result<PriceList, Error> {
        let item = dynamo::get_item(&self.client, &self.customers_table, dynamo::key("customerKey", CAFE)).await?;
        price_list_of(&item.unwrap_or_default())
    }

    async fn set_price(&self, beverage_name: &str, setting: &PriceSetting) -> Result<PriceList, Error> {
        let mut set = (self.client.update_item())
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            .return_values(ReturnValue::AllNew);
        let mut writes = Vec::new();
        if let Some(price) = setting.price {
            set = set
                .expression_attribute_names("#price", format!("{PRICE_PREFIX}{beverage_name}"))
                .expression_attribute_values(":price", n(price));
            writes.push("#price = :price");
        }
        if let Some(on_sale) = setting.on_sale {
            set = set
                .expression_attribute_names("#onSale", format!("{ON_SALE_PREFIX}{beverage_name}"))
                .expression_attribute_values(":onSale", AttributeValue::Bool(on_sale));
            writes.push("#onSale = :onSale");
        }
        if writes.is_empty() {
            return self.price_list().await;
        }
        let set = set.update_expression(format!("SET {}", writes.join(", ")));
        let out = dynamo::retry_conflicts(|| async { dynamo::conflict_to_retry(set.clone().send().await) }).await??;
        price_list_of(&out.attributes.unwrap_or_default())
    }

    async fn set_open(&self, open: bool, limits: &OrderLimits) -> Result<Cafe, Error> {
        let set = self
            .client
            .update_item()
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            .update_expression("SET isOpen = :open")
            .expression_attribute_values(":open", AttributeValue::Bool(open))
            .return_values(ReturnValue::AllNew);
        let out = dynamo::retry_conflicts(|| async { dynamo::conflict_to_retry(set.clone().send().await) }).await??;
        Ok(cafe_of(&out.attributes.unwrap_or_default(), limits))
    }

    async fn register_kiosk(&self, kiosk: &Kiosk, secret_hash: &str) -> Result<(), Error> {
        let mut item: Item = serde_dynamo::to_item(kiosk)?;
        item.insert("customerKey".into(), s(format!("kiosk#{}", kiosk.kiosk_id)));
        item.insert("secretHash".into(), s(secret_hash));
        item.insert(LISTED_AS.into(), s(KIOSK));
        // Ids are random: an existing one is a fault, not a retry to absorb.
        match dynamo::put_if_absent(&self.client, &self.customers_table, item, "customerKey").await? {
            true => Ok(()),
            false => Err(format!("kiosk id {} is taken", kiosk.kiosk_id).into()),
        }
    }

    async fn kiosk(&self, kiosk_id: &str) -> Result<Option<Kiosk>, Error> {
        let key = dynamo::key("customerKey", format!("kiosk#{kiosk_id}"));
        let item = dynamo::get_item(&self.client, &self.customers_table, key).await?;
        Ok(item.map(serde_dynamo::from_item).transpose()?)
    }

    async fn revoke_kiosk(&self, kiosk_id: &str) -> Result<Option<Kiosk>, Error> {
        let removed = self
            .client
            .delete_item()
            .table_name(&self.customers_table)
            .key("customerKey", s(format!("kiosk#{kiosk_id}")))
            .condition_expression("attribute_exists(secretHash)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match removed {
            Ok(out) => Ok(out.attributes.map(serde_dynamo::from_item).transpose()?),
            Err(e) if dynamo::is_conditional_check_failed(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl OrderStore {
    /// What placing `order` checks and counts besides the order itself and its place in the
    /// cafe, each with the refusal it answers when its condition fails.
    fn placing_checks(
        &self,
        order: &Order,
        placed_by: &PlacedBy,
        registration: Registration,
        limits: &OrderLimits,
    ) -> Result<Vec<(Refusal, TransactWriteItem)>, Error> {
        let mut writes = Vec::new();
        if let PlacedBy::Kiosk(claim) = placed_by {
            writes.push((Refusal::UnknownKiosk, self.kiosk_issues(claim, registration)?));
        }
        for (refusal, tally) in Tally::of_placing(order, placed_by, limits) {
            writes.push((refusal, self.count(tally)?));
        }
        let customer = s(format!("customer#{}", order.customer_id));
        match (registration, placed_by, &order.phone_number) {
            // The number was proven by the customer whose token placed the order.
            (Registration::None, PlacedBy::Customer, Some(phone)) => {
                let proven = ConditionCheck::builder()
                    .table_name(&self.customers_table)
                    .key("customerKey", customer.clone())
                    .condition_expression("phoneNumber = :phone")
                    .expression_attribute_values(":phone", s(phone.clone()))
                    .build()?;
                writes.push((
                    Refusal::PhoneNotProven,
                    TransactWriteItem::builder().condition_check(proven).build(),
                ));
            }
            // A kiosk orders for a known customer only if they don't sign in with their phone.
            (Registration::None, PlacedBy::Kiosk(_), _) => {
                let typed = ConditionCheck::builder()
                    .table_name(&self.customers_table)
                    .key("customerKey", customer.clone())
                    .condition_expression("attribute_not_exists(phoneNumber)")
                    .build()?;
                writes.push((
                    Refusal::SignsInByPhone,
                    TransactWriteItem::builder().condition_check(typed).build(),
                ));
            }
            _ => {}
        }
        match registration {
            Registration::New => {
                let register = Put::builder()
                    .table_name(&self.customers_table)
                    .item("customerKey", customer)
                    .item("firstOrderId", s(order.order_id.clone()))
                    .condition_expression("attribute_not_exists(customerKey)")
                    .build()?;
                writes.push((
                    Refusal::CustomerKnown,
                    TransactWriteItem::builder().put(register).build(),
                ));
            }
            Registration::IfNew => {
                let register = Update::builder()
                    .table_name(&self.customers_table)
                    .key("customerKey", customer)
                    .update_expression("SET firstOrderId = if_not_exists(firstOrderId, :order)")
                    .expression_attribute_values(":order", s(order.order_id.clone()))
                    .build()?;
                writes.push((
                    Refusal::CustomerKnown,
                    TransactWriteItem::builder().update(register).build(),
                ));
            }
            Registration::None => {}
        }
        Ok(writes)
    }

    /// The new order, numbered `number`, if no order has its id.
    fn put_order(&self, order: &Order, number: u32) -> Result<TransactWriteItem, Error> {
        let numbered = Order {
            order_number: Some(number),
            ..order.clone()
        };
        let mut item: Item = serde_dynamo::to_item(numbered)?;
        // Every order is in the `byDate` index, where the operator reads the latest.
        item.insert(LISTED_AS.into(), s(ORDER));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(orderId)")
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The order's place in the cafe, which it gives back when it ends, and `number`, the
    /// day's next, if the cafe takes orders and the day's last number is still the one before.
    fn take_place_numbered(
        &self,
        at: DateTime<Utc>,
        number: u32,
        limits: &OrderLimits,
    ) -> Result<TransactWriteItem, Error> {
        let day = at.date_naive();
        let yesterday = day.checked_sub_days(Days::new(1)).unwrap_or(day);
        let unmoved = match number {
            1 => "attribute_not_exists(#today)",
            _ => "#today = :last",
        };
        let mut take = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            // Yesterday's counter goes as today's starts: the item stays small.
            .update_expression("ADD inProgress :one SET #today = :number REMOVE #yesterday")
            .condition_expression(format!("{CAFE_TAKES_ORDERS} AND {unmoved}"))
            .expression_attribute_names("#today", format!("number#{day}"))
            .expression_attribute_names("#yesterday", format!("number#{yesterday}"))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":number", n(number))
            .expression_attribute_values(":open", AttributeValue::Bool(true))
            .expression_attribute_values(":max", n(limits.max_orders_in_progress));
        if number > 1 {
            take = take.expression_attribute_values(":last", n(number - 1));
        }
        Ok(TransactWriteItem::builder().update(take.build()?).build())
    }

    /// The order's place in the cafe alone (its number taken already), if the cafe takes orders.
    fn take_place(&self, limits: &OrderLimits) -> Result<TransactWriteItem, Error> {
        let take = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            .update_expression("ADD inProgress :one")
            .condition_expression(CAFE_TAKES_ORDERS)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":open", AttributeValue::Bool(true))
            .expression_attribute_values(":max", n(limits.max_orders_in_progress))
            .build()?;
        Ok(TransactWriteItem::builder().update(take).build())
    }

    /// The day's next number, counted at once, if the cafe takes orders (`None` if not).
    async fn take_next_number(&self, at: DateTime<Utc>, limits: &OrderLimits) -> Result<Option<u32>, Error> {
        let day = at.date_naive();
        let yesterday = day.checked_sub_days(Days::new(1)).unwrap_or(day);
        let take = self
            .client
            .update_item()
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            .update_expression("ADD #today :one REMOVE #yesterday")
            .condition_expression(CAFE_TAKES_ORDERS)
            .expression_attribute_names("#today", format!("number#{day}"))
            .expression_attribute_names("#yesterday", format!("number#{yesterday}"))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":open", AttributeValue::Bool(true))
            .expression_attribute_values(":max", n(limits.max_orders_in_progress))
            .return_values(ReturnValue::UpdatedNew);
        let taken = dynamo::retry_conflicts(|| async { dynamo::conflict_to_retry(take.clone().send().await) }).await?;
        match taken {
            Ok(out) => Ok(Some(last_number(&out.attributes.unwrap_or_default(), at)?)),
            Err(e) if dynamo::is_conditional_check_failed(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// That the kiosk is registered with the secret it claims (and not revoked).
    pub(super) fn kiosk_registered(&self, claim: &KioskClaim) -> Result<TransactWriteItem, Error> {
        let registered = ConditionCheck::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(format!("kiosk#{}", claim.kiosk_id)))
            .condition_expression("secretHash = :hash")
            .expression_attribute_values(":hash", s(claim.secret_hash.clone()))
            .build()?;
        Ok(TransactWriteItem::builder().condition_check(registered).build())
    }

    /// The kiosk is registered with the secret it claims: it counts the order it places and, for
    /// a new customer, the token it issues.
    fn kiosk_issues(&self, claim: &KioskClaim, registration: Registration) -> Result<TransactWriteItem, Error> {
        let new_customer = u8::from(registration == Registration::New);
        let issues = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(format!("kiosk#{}", claim.kiosk_id)))
            .update_expression("ADD ordersPlaced :one, customerTokensIssued :new")
            .condition_expression("secretHash = :hash")
            .expression_attribute_values(":hash", s(claim.secret_hash.clone()))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":new", n(new_customer))
            .build()?;
        Ok(TransactWriteItem::builder().update(issues).build())
    }

    /// `tally.amount` more in its item, if it then holds at most its `max`.
    pub(super) fn count(&self, tally: Tally) -> Result<TransactWriteItem, Error> {
        let mut update = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(tally.key))
            .expression_attribute_values(":amount", n(tally.amount));
        update = match tally.expires_at {
            Some(expires_at) => update
                .update_expression("ADD placed :amount SET expiresAt = :expires")
                .expression_attribute_values(":expires", n(expires_at)),
            None => update.update_expression("ADD placed :amount"),
        };
        if let Some(max) = tally.max {
            let room = i64::from(max) - i64::from(tally.amount);
            update = update
                .condition_expression("attribute_not_exists(placed) OR placed <= :room")
                .expression_attribute_values(":room", n(room));
        }
        Ok(TransactWriteItem::builder().update(update.build()?).build())
    }
}

/// Tries at taking the day's number in the order's own transaction before taking it outright: a
/// try fails this way only when another order took the number first.
const NUMBER_TRIES: usize = 3;

/// The last order number of the day of `at` on the cafe's item (0 before the day's first).
fn last_number(cafe: &Item, at: DateTime<Utc>) -> Result<u32, Error> {
    match cafe.get(&format!("number#{}", at.date_naive())) {
        None => Ok(0),
        Some(AttributeValue::N(number)) => Ok(number.parse()?),
        Some(other) => Err(format!("the day's order number reads {other:?}").into()),
    }
}
