//! The notifications table (DynamoDB), keyed by `notificationId`, with the `byCustomer` index.

use crate::domain::Notification;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::{Client, types::AttributeValue};
use cafe_shared::Error;
use cafe_shared::dynamo::SortOrder::Descending;
use cafe_shared::dynamo::{self, Page, PageRequest};
use chrono::{DateTime, Utc};
use std::future::Future;

/// The saga step's port: one notification per order, recorded once, marked once sent.
pub trait Notifications: Sync {
    fn get(&self, notification_id: &str) -> impl Future<Output = Result<Option<Notification>, Error>> + Send;

    /// Records a notification unless its order already has one, its sending claimed until
    /// `claimed_until` in the same write; returns the one on record, and whether this call
    /// recorded it (and so holds the claim).
    fn record(
        &self,
        notification: &Notification,
        claimed_until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(Notification, bool), Error>> + Send;

    /// Claims the sending of a notification not yet sent until `until`; false while it is sent or
    /// another claim holds at `now`.
    fn claim_send(
        &self,
        notification_id: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Marks a notification as sent, with the topic's message id; an error when there is no
    /// such notification (nothing is made).
    fn mark_sent(&self, notification_id: &str, sns_message_id: &str) -> impl Future<Output = Result<(), Error>> + Send;
}

#[derive(Clone)]
pub struct NotificationStore {
    client: Client,
    table: String,
}

impl NotificationStore {
    pub fn new(sdk: &SdkConfig, table: String) -> Self {
        Self {
            client: Client::new(sdk),
            table,
        }
    }

    /// A page of notifications, newest first: one customer's (their index), or everyone's (a
    /// page of the table, newest first within it).
    pub async fn list(&self, customer_id: Option<&str>, page: PageRequest) -> Result<Page<Notification>, Error> {
        let found = match customer_id {
            Some(id) => {
                let index = ("customerId", id);
                let found =
                    dynamo::query_page(&self.client, &self.table, Some("byCustomer"), index, Descending, page).await?;
                dynamo::items_of(&self.client, &self.table, "notificationId", found).await?
            }
            None => dynamo::scan_page(&self.client, &self.table, page).await?,
        };
        let mut notifications = found.try_map(serde_dynamo::from_item::<_, Notification>)?;
        notifications
            .items
            .sort_by_key(|x| std::cmp::Reverse(x.notification_date));
        Ok(notifications)
    }
}

/// The page keys of the two notification lists, for `nextToken`.
pub const CUSTOMER_PAGE_KEY: [&str; 3] = ["notificationId", "customerId", "notificationDate"];
pub const ALL_PAGE_KEY: [&str; 1] = ["notificationId"];

impl Notifications for NotificationStore {
    async fn record(
        &self,
        notification: &Notification,
        claimed_until: DateTime<Utc>,
    ) -> Result<(Notification, bool), Error> {
        let mut item: dynamo::Item = serde_dynamo::to_item(notification)?;
        item.insert("sendingUntil".into(), dynamo::n(claimed_until.timestamp_millis()));
        if dynamo::put_if_absent(&self.client, &self.table, item, "notificationId").await? {
            return Ok((notification.clone(), true));
        }
        let on_record = (self.get(&notification.notification_id).await?)
            .ok_or("notification vanished after a conflicting write")?;
        Ok((on_record, false))
    }

    async fn claim_send(&self, notification_id: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, Error> {
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("notificationId", AttributeValue::S(notification_id.to_string()))
            .update_expression("SET sendingUntil = :until")
            .condition_expression(
                "attribute_exists(notificationId) AND attribute_not_exists(snsMessageId) \
                 AND (attribute_not_exists(sendingUntil) OR sendingUntil < :now)",
            )
            .expression_attribute_values(":until", dynamo::n(until.timestamp_millis()))
            .expression_attribute_values(":now", dynamo::n(now.timestamp_millis()))
            .send()
            .await;
        dynamo::condition_held(claimed)
    }

    async fn mark_sent(&self, notification_id: &str, sns_message_id: &str) -> Result<(), Error> {
        let marked = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("notificationId", AttributeValue::S(notification_id.to_string()))
            .update_expression("SET snsMessageId = :id")
            .condition_expression("attribute_exists(notificationId)")
            .expression_attribute_values(":id", AttributeValue::S(sns_message_id.to_string()))
            .send()
            .await;
        match dynamo::condition_held(marked)? {
            true => Ok(()),
            false => Err(format!("no notification {notification_id} to mark sent").into()),
        }
    }

    async fn get(&self, notification_id: &str) -> Result<Option<Notification>, Error> {
        let item = dynamo::get_item(
            &self.client,
            &self.table,
            dynamo::key("notificationId", notification_id),
        )
        .await?;
        Ok(item.map(serde_dynamo::from_item).transpose()?)
    }
}

/// The notifications in memory, for in-process tests of the saga step.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct MemoryNotifications {
        pub kept: Mutex<HashMap<String, Notification>>,
        /// Until when a delivery has claimed each notification's sending.
        pub sending_until: Mutex<HashMap<String, DateTime<Utc>>>,
        /// While down, every call fails (as a throttled or unreachable table does).
        pub down: Outage,
    }

    impl MemoryNotifications {
        fn reachable(&self) -> Result<(), Error> {
            self.down.check("the notifications table is unreachable")
        }
    }

    impl Notifications for MemoryNotifications {
        async fn get(&self, notification_id: &str) -> Result<Option<Notification>, Error> {
            self.reachable()?;
            Ok(self.kept.lock().unwrap().get(notification_id).cloned())
        }

        async fn record(
            &self,
            notification: &Notification,
            claimed_until: DateTime<Utc>,
        ) -> Result<(Notification, bool), Error> {
            self.reachable()?;
            let mut kept = self.kept.lock().unwrap();
            if let Some(on_record) = kept.get(&notification.notification_id) {
                return Ok((on_record.clone(), false));
            }
            kept.insert(notification.notification_id.clone(), notification.clone());
            (self.sending_until.lock().unwrap()).insert(notification.notification_id.clone(), claimed_until);
            Ok((notification.clone(), true))
        }

        async fn claim_send(
            &self,
            notification_id: &str,
            now: DateTime<Utc>,
            until: DateTime<Utc>,
        ) -> Result<bool, Error> {
            self.reachable()?;
            let kept = self.kept.lock().unwrap();
            let Some(notification) = kept.get(notification_id) else {
                return Ok(false);
            };
            let mut claims = self.sending_until.lock().unwrap();
            let free = claims.get(notification_id).is_none_or(|claimed| *claimed < now);
            if notification.sns_message_id.is_some() || !free {
                return Ok(false);
            }
            claims.insert(notification_id.to_string(), until);
            Ok(true)
        }

        async fn mark_sent(&self, notification_id: &str, sns_message_id: &str) -> Result<(), Error> {
            self.reachable()?;
            let mut kept = self.kept.lock().unwrap();
            let notification = kept.get_mut(notification_id).ok_or("no such notification")?;
            notification.sns_message_id = Some(sns_message_id.into());
            Ok(())
        }
    }
}
