//! The payments table (DynamoDB), keyed by `orderId`: one payment per order, moved only by
//! conditional writes, so each step of it happens once whatever is redelivered or raced.

use crate::domain::{Payment, PaymentStatus};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use cafe_shared::Error;
use cafe_shared::dynamo;
use std::future::Future;

/// The saga step's port: the cafe's own record of each order's payment.
pub trait PaymentRecords: Sync {
    fn get(&self, order_id: &str) -> impl Future<Output = Result<Option<Payment>, Error>> + Send;

    /// Records a new order's payment unless its order has one: the one on record.
    fn begin(&self, payment: &Payment) -> impl Future<Output = Result<Payment, Error>> + Send;

    /// Records the provider's id of the payment being held, unless one is recorded or the order
    /// was cancelled: `None` when recorded, else the payment on record.
    fn attach(&self, order_id: &str, payment_id: &str) -> impl Future<Output = Result<Option<Payment>, Error>> + Send;

    /// Moves the payment to `to` (with the reason, if any) if it is in one of `from`: the
    /// payment after, moved or not.
    fn settle(
        &self,
        order_id: &str,
        from: &[PaymentStatus],
        to: PaymentStatus,
        reason: Option<&str>,
    ) -> impl Future<Output = Result<Payment, Error>> + Send;

    /// Marks the order cancelled (recording a voided payment if there was none): the payment
    /// after.
    fn cancel_order(&self, order_id: &str) -> impl Future<Output = Result<Payment, Error>> + Send;
}

#[derive(Clone)]
pub struct PaymentStore {
    client: Client,
    table: String,
}

impl PaymentStore {
    pub fn new(sdk: &SdkConfig, table: String) -> Self {
        Self {
            client: Client::new(sdk),
            table,
        }
    }

    async fn on_record(&self, order_id: &str) -> Result<Payment, Error> {
        (self.get(order_id).await?).ok_or_else(|| format!("no payment for order {order_id}").into())
    }
}

fn status_value(status: PaymentStatus) -> Result<AttributeValue, Error> {
    Ok(serde_dynamo::to_attribute_value(status)?)
}

impl PaymentRecords for PaymentStore {
    async fn get(&self, order_id: &str) -> Result<Option<Payment>, Error> {
        let item = dynamo::get_item(&self.client, &self.table, dynamo::key("orderId", order_id)).await?;
        Ok(item.map(serde_dynamo::from_item).transpose()?)
    }

    async fn begin(&self, payment: &Payment) -> Result<Payment, Error> {
        let item = serde_dynamo::to_item(payment)?;
        match dynamo::put_if_absent(&self.client, &self.table, item, "orderId").await? {
            true => Ok(payment.clone()),
            false => self.on_record(&payment.order_id).await,
        }
    }

    async fn attach(&self, order_id: &str, payment_id: &str) -> Result<Option<Payment>, Error> {
        let attached = (self.client.update_item())
            .table_name(&self.table)
            .key("orderId", dynamo::s(order_id))
            .update_expression("SET paymentId = :id")
            .condition_expression("#status = :authorizing AND attribute_not_exists(paymentId) AND orderCancelled = :no")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":id", dynamo::s(payment_id))
            .expression_attribute_values(":authorizing", status_value(PaymentStatus::Authorizing)?)
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .send()
            .await;
        match dynamo::condition_held(attached)? {
            true => Ok(None),
            false => Ok(Some(self.on_record(order_id).await?)),
        }
    }

    async fn settle(
        &self,
        order_id: &str,
        from: &[PaymentStatus],
        to: PaymentStatus,
        reason: Option<&str>,
    ) -> Result<Payment, Error> {
        let names: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
        let mut update = (self.client.update_item())
            .table_name(&self.table)
            .key("orderId", dynamo::s(order_id))
            .update_expression(match reason {
                Some(_) => "SET #status = :to, reason = :reason",
                None => "SET #status = :to",
            })
            .condition_expression(format!("#status IN ({})", names.join(", ")))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", status_value(to)?)
            .return_values(ReturnValue::AllNew);
        for (name, status) in names.iter().zip(from) {
            update = update.expression_attribute_values(name, status_value(*status)?);
        }
        if let Some(reason) = reason {
            update = update.expression_attribute_values(":reason", dynamo::s(reason));
        }
        match update.send().await {
            Ok(settled) => Ok(serde_dynamo::from_item(settled.attributes.unwrap_or_default())?),
            Err(e) if dynamo::is_conditional_check_failed(&e) => self.on_record(order_id).await,
            Err(e) => Err(e.into()),
        }
    }

    async fn cancel_order(&self, order_id: &str) -> Result<Payment, Error> {
        let cancelled = (self.client.update_item())
            .table_name(&self.table)
            .key("orderId", dynamo::s(order_id))
            .update_expression(
                "SET orderCancelled = :yes, #status = if_not_exists(#status, :voided), amount = if_not_exists(amount, :zero)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":voided", status_value(PaymentStatus::Voided)?)
            .expression_attribute_values(":zero", dynamo::n(0))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        Ok(serde_dynamo::from_item(cancelled.attributes.unwrap_or_default())?)
    }
}

/// The payments in memory, for in-process tests of the saga step and the simulation.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct MemoryPayments {
        pub kept: Mutex<HashMap<String, Payment>>,
        /// While down, every call fails (as a throttled or unreachable table does).
        pub down: Outage,
    }

    impl MemoryPayments {
        fn reachable(&self) -> Result<(), Error> {
            self.down.check("the payments table is unreachable")
        }
    }

    impl PaymentRecords for MemoryPayments {
        async fn get(&self, order_id: &str) -> Result<Option<Payment>, Error> {
            self.reachable()?;
            Ok(self.kept.lock().unwrap().get(order_id).cloned())
        }

        async fn begin(&self, payment: &Payment) -> Result<Payment, Error> {
            self.reachable()?;
            let mut kept = self.kept.lock().unwrap();
            Ok(kept
                .entry(payment.order_id.clone())
                .or_insert_with(|| payment.clone())
                .clone())
        }

        async fn attach(&self, order_id: &str, payment_id: &str) -> Result<Option<Payment>, Error> {
            self.reachable()?;
            let mut kept = self.kept.lock().unwrap();
            let payment = kept
                .get_mut(order_id)
                .ok_or_else(|| format!("no payment for order {order_id}"))?;
            if payment.is_to_hold() && payment.payment_id.is_none() {
                payment.payment_id = Some(payment_id.to_string());
                return Ok(None);
            }
            Ok(Some(payment.clone()))
        }

        async fn settle(
            &self,
            order_id: &str,
            from: &[PaymentStatus],
            to: PaymentStatus,
            reason: Option<&str>,
        ) -> Result<Payment, Error> {
            self.reachable()?;
            let mut kept = self.kept.lock().unwrap();
            let payment = kept
                .get_mut(order_id)
                .ok_or_else(|| format!("no payment for order {order_id}"))?;
            if from.contains(&payment.status) {
                payment.status = to;
                if let Some(reason) = reason {
                    payment.reason = Some(reason.to_string());
                }
            }
            Ok(payment.clone())
        }

        async fn cancel_order(&self, order_id: &str) -> Result<Payment, Error> {
            self.reachable()?;
            let mut kept = self.kept.lock().unwrap();
            let payment = (kept.entry(order_id.to_string())).or_insert_with(|| Payment::voided(order_id));
            payment.order_cancelled = true;
            Ok(payment.clone())
        }
    }
}
