//! Placing orders, the cafe's item and the registered kiosks, in the customers and orders
//! tables (see the store's module comment for the items).

use super::{CAFE, CAFE_TAKES_ORDERS, KIOSK, LISTED_AS, ORDER, OrderBook, OrderStore, cafe_of};
use crate::domain::{Cafe, Kiosk, Order, OrderLimits, PlacedBy, Refusal, Registration};
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

    async fn take_order_number(&self, at: DateTime<Utc>, limits: &OrderLimits) -> Result<Result<u32, Cafe>, Error> {
        let day = at.date_naive();
        let yesterday = day.checked_sub_days(Days::new(1)).unwrap_or(day);
        let take = self
            .client
            .update_item()
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            // Yesterday's counter goes as today's starts: the item stays small.
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
            Ok(out) => {
                let number = out
                    .attributes
                    .unwrap_or_default()
                    .get(&format!("number#{day}"))
                    .cloned();
                match number {
                    Some(AttributeValue::N(number)) => Ok(Ok(number.parse()?)),
                    other => Err(format!("the day's order number reads {other:?}").into()),
                }
            }
            Err(e) if dynamo::is_conditional_check_failed(&e) => Ok(Err(self.cafe(limits).await?)),
            Err(e) => Err(e.into()),
        }
    }

    async fn place(
        &self,
        order: &Order,
        placed_by: &PlacedBy,
        registration: Registration,
        limits: &OrderLimits,
    ) -> Result<Result<(), Refusal>, Error> {
        let mut item: Item = serde_dynamo::to_item(order)?;
        // Every order is in the `byDate` index, where the operator reads the latest.
        item.insert(LISTED_AS.into(), s(ORDER));
        let put_order = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(orderId)")
            .build()?;
        let minute = order.order_date.timestamp() / 60;
        let mut writes = Vec::new();
        if let PlacedBy::Kiosk(claim) = placed_by {
            writes.push((Refusal::UnknownKiosk, self.kiosk_registered(claim)?));
            let kiosk_rate = self.count(
                format!("kioskrate#{}#{minute}", claim.kiosk_id),
                limits.orders_per_kiosk_per_minute,
                (minute + 2) * 60,
            )?;
            writes.push((Refusal::KioskBusy, kiosk_rate));
        }
        writes.push((
            Refusal::AlreadyPlaced,
            TransactWriteItem::builder().put(put_order).build(),
        ));
        // The order takes its place in the cafe, which it gives back when it ends.
        let cafe = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            .update_expression("ADD inProgress :one")
            .condition_expression(CAFE_TAKES_ORDERS)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":open", AttributeValue::Bool(true))
            .expression_attribute_values(":max", n(limits.max_orders_in_progress))
            .build()?;
        writes.push((Refusal::CafeRefused, TransactWriteItem::builder().update(cafe).build()));
        writes.push((
            Refusal::TooManyOrders,
            self.count(
                format!("rate#{}#{minute}", order.customer_id),
                limits.orders_per_minute,
                (minute + 2) * 60,
            )?,
        ));
        if let Some(phone) = &order.phone_number {
            writes.push((Refusal::TooManyTexts, self.count_text(phone, order.order_date, limits)?));
        }
        // Last: when only it fails, everything before it held.
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
        // Every order counts itself in the cafe's item: concurrent ones may meet on it.
        let items: Vec<TransactWriteItem> = writes.iter().map(|(_, write)| write.clone()).collect();
        let refused = dynamo::transact(&self.client, items)
            .await?
            .into_iter()
            .map(|i| writes[i].0);
        Ok(match Refusal::most_telling(refused) {
            None => Ok(()),
            Some(refusal) => Err(refusal),
        })
    }

    async fn cafe(&self, limits: &OrderLimits) -> Result<Cafe, Error> {
        let item = dynamo::get_item(&self.client, &self.customers_table, dynamo::key("customerKey", CAFE)).await?;
        Ok(cafe_of(&item.unwrap_or_default(), limits))
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

    /// One more text to `phone` in the hour of `at`, within the limit (an order's outcome or a
    /// sign-in code: each is one text).
    pub(super) fn count_text(
        &self,
        phone: &str,
        at: DateTime<Utc>,
        limits: &OrderLimits,
    ) -> Result<TransactWriteItem, Error> {
        let hour = at.timestamp() / 3600;
        self.count(
            format!("texts#{phone}#{hour}"),
            limits.texts_per_hour,
            (hour + 2) * 3600,
        )
    }

    /// One more in the window counter `key`, if it holds fewer than `max`; gone (DynamoDB TTL)
    /// at `expires_at`, a window after its own.
    fn count(&self, key: String, max: u32, expires_at: i64) -> Result<TransactWriteItem, Error> {
        let update = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(key))
            .update_expression("ADD placed :one SET expiresAt = :expires")
            .condition_expression("attribute_not_exists(placed) OR placed < :max")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max))
            .expression_attribute_values(":expires", n(expires_at))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
