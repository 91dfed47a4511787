//! Live updates: who watches what over the WebSocket API (the live table, keyed by
//! `connectionId`, with the `byTopic` index of what each connection watches), and sending to a
//! connection through the API's `@connections` endpoint.

use crate::domain::{LiveUpdate, Watch};
use aws_config::SdkConfig;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use cafe_shared::clock;
use cafe_shared::dynamo::{self, SortOrder, n, s};
use cafe_shared::{Error, config};
use std::collections::HashMap;
use std::future::Future;

/// API Gateway closes a WebSocket connection after 2 hours at most: its watch goes with it (TTL),
/// even if `$disconnect` never came.
const CONNECTION_LASTS_SECONDS: i64 = 2 * 3600;
/// Watchers read a page at a time: every one of them is sent the update, however many there are.
const WATCHERS_A_PAGE: i32 = 500;

/// A connection watching something; a customer's, only while it is theirs and their token holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watcher {
    pub connection_id: String,
    /// The customer whose token it watches with: it is sent an order only if the order is
    /// theirs (a page may start watching before the order's view exists to check it against),
    /// and nothing once they signed out everywhere.
    pub only_for: Option<WatchingAs>,
}

/// The customer a connection watches as, and when the token it proved that with ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchingAs {
    pub customer_id: String,
    /// Unix seconds: the watch goes then, and a sign-out of the tokens ending by a later moment
    /// closes it.
    pub token_ends: i64,
    /// The kiosk the token was issued through, if any: revoking it closes the watch.
    pub kiosk_id: Option<String>,
}

/// The port to the pages that watch: who watches what, and sending to them.
pub trait LiveUpdates: Sync {
    /// From now on the connection gets the updates of `watch`, and only of it (a page watches one
    /// thing: a second watch replaces the first), of orders of `only_for` when that is a customer.
    fn watch(
        &self,
        connection_id: &str,
        watch: &Watch,
        only_for: Option<&WatchingAs>,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The connection closed: it watches nothing more.
    fn forget(&self, connection_id: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// The connections watching `watch`, every one of them.
    fn watchers(&self, watch: &Watch) -> impl Future<Output = Result<Vec<Watcher>, Error>> + Send;

    /// Sends `update` to one connection; a connection that has gone is forgotten.
    fn send(&self, connection_id: &str, update: &LiveUpdate) -> impl Future<Output = Result<(), Error>> + Send;

    /// Closes the connection (its page sees it close) and forgets it; one already gone too.
    fn close(&self, connection_id: &str) -> impl Future<Output = Result<(), Error>> + Send;
}

pub struct LiveConnections {
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
    api: aws_sdk_apigatewaymanagement::Client,
}

impl LiveConnections {
    pub fn from_env(sdk: &SdkConfig) -> Result<Self, Error> {
        Ok(Self::new(
            sdk,
            &config::required_env("LIVE_API_ID")?,
            config::required_env("LIVE_TABLE")?,
        ))
    }

    /// The connections kept in `table` of the WebSocket API `api_id`.
    pub fn new(sdk: &SdkConfig, api_id: &str, table: String) -> Self {
        let callback = callback_url(sdk, api_id, &live_stage());
        let api = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(callback)
            .build();
        Self {
            dynamo: aws_sdk_dynamodb::Client::new(sdk),
            table,
            api: aws_sdk_apigatewaymanagement::Client::from_conf(api),
        }
    }
}

impl LiveUpdates for LiveConnections {
    async fn watch(&self, connection_id: &str, watch: &Watch, only_for: Option<&WatchingAs>) -> Result<(), Error> {
        let connection_ends = clock::now().timestamp() + CONNECTION_LASTS_SECONDS;
        let expires_at = only_for.map_or(connection_ends, |holder| holder.token_ends.min(connection_ends));
        let mut put = self
            .dynamo
            .put_item()
            .table_name(&self.table)
            .item("connectionId", s(connection_id))
            .item("topic", s(watch.topic()))
            .item("expiresAt", n(expires_at));
        if let Some(holder) = only_for {
            // One attribute, so that the `byTopic` index (which projects `onlyFor`) carries both.
            let mut kept = HashMap::from([
                ("customerId".to_string(), s(&holder.customer_id)),
                ("tokenEnds".to_string(), n(holder.token_ends)),
            ]);
            if let Some(kiosk_id) = &holder.kiosk_id {
                kept.insert("kioskId".to_string(), s(kiosk_id));
            }
            let holder = kept;
            put = put.item("onlyFor", AttributeValue::M(holder));
        }
        put.send().await?;
        Ok(())
    }

    async fn forget(&self, connection_id: &str) -> Result<(), Error> {
        self.dynamo
            .delete_item()
            .table_name(&self.table)
            .key("connectionId", s(connection_id))
            .send()
            .await?;
        Ok(())
    }

    async fn watchers(&self, watch: &Watch) -> Result<Vec<Watcher>, Error> {
        let topic = watch.topic();
        let text = |item: &dynamo::Item, name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let mut watchers = Vec::new();
        let mut start = None;
        loop {
            let page = dynamo::PageRequest {
                limit: WATCHERS_A_PAGE,
                start,
            };
            let index = ("topic", topic.as_str());
            let found = dynamo::query_page(
                &self.dynamo,
                &self.table,
                Some("byTopic"),
                index,
                SortOrder::Ascending,
                page,
            )
            .await?;
            watchers.extend(found.items.iter().filter_map(|item| {
                Some(Watcher {
                    connection_id: text(item, "connectionId")?,
                    only_for: item.get("onlyFor").map(watching_as),
                })
            }));
            match found.next {
                Some(next) => start = Some(next),
                None => return Ok(watchers),
            }
        }
    }

    async fn send(&self, connection_id: &str, update: &LiveUpdate) -> Result<(), Error> {
        let sent = self
            .api
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(serde_json::to_vec(update)?))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_gone_exception()) => self.forget(connection_id).await,
            Err(e) => Err(e.into()),
        }
    }

    async fn close(&self, connection_id: &str) -> Result<(), Error> {
        let closed = self.api.delete_connection().connection_id(connection_id).send().await;
        match closed {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|e| e.is_gone_exception()) => {}
            Err(e) => return Err(e.into()),
        }
        self.forget(connection_id).await
    }
}

/// Whose a customer's watch is, as kept. A customer id alone (kept before watches kept their
/// token's end) is a token that ended at 0: closed by any sign-out of that customer.
fn watching_as(kept: &AttributeValue) -> WatchingAs {
    let field = |name: &str| kept.as_m().ok().and_then(|holder| holder.get(name));
    let customer_id = (field("customerId").or(Some(kept)))
        .and_then(|id| id.as_s().ok())
        .cloned()
        .unwrap_or_default();
    let token_ends = (field("tokenEnds").and_then(|end| end.as_n().ok()?.parse().ok())).unwrap_or(0);
    let kiosk_id = field("kioskId").and_then(|id| id.as_s().ok()).cloned();
    WatchingAs {
        customer_id,
        token_ends,
        kiosk_id,
    }
}

/// The stage of the WebSocket API.
fn live_stage() -> String {
    std::env::var("LIVE_STAGE").unwrap_or_else(|_| "live".into())
}

/// Where the functions reach the API's `@connections`: on a local cloud under its own endpoint, on
/// AWS at the API's domain (the only difference between them, as everywhere: the endpoint).
fn callback_url(sdk: &SdkConfig, api_id: &str, stage: &str) -> String {
    match sdk.endpoint_url() {
        Some(local) => format!("{}/_aws/execute-api/{api_id}/{stage}", local.trim_end_matches('/')),
        None => format!("https://{api_id}.execute-api.{}.amazonaws.com/{stage}", region(sdk)),
    }
}

/// The address the pages open their WebSocket at, as the callback's but `ws(s)://`; none when the
/// stack has no live API (the pages then look every few seconds instead).
pub fn page_url(sdk: &SdkConfig) -> Option<String> {
    let api_id = std::env::var("LIVE_API_ID").ok().filter(|id| !id.is_empty())?;
    let callback = callback_url(sdk, &api_id, &live_stage());
    Some(match callback.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", callback.trim_start_matches("http://")),
    })
}

fn region(sdk: &SdkConfig) -> String {
    sdk.region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into())
}

/// Connections in memory, for in-process tests of the saga step.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::collections::HashSet;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct MemoryLive {
        /// (connection, topic, only for) of each watcher.
        pub watching: Mutex<Vec<(String, String, Option<WatchingAs>)>>,
        /// The connections closed, in order.
        pub closed: Mutex<Vec<String>>,
        /// What each connection was sent, in order.
        pub sent: Mutex<Vec<(String, serde_json::Value)>>,
        /// The topics whose watchers were looked up, in order.
        pub looked_up: Mutex<Vec<String>>,
        /// The connections whose page has gone (closed without `$disconnect`).
        pub gone: Mutex<HashSet<String>>,
        /// While down, every call fails (as a throttled or unreachable table does).
        pub down: Outage,
    }

    impl MemoryLive {
        fn reachable(&self) -> Result<(), Error> {
            self.down.check("the live table is unreachable")
        }
    }

    impl LiveUpdates for MemoryLive {
        async fn watch(&self, connection_id: &str, watch: &Watch, only_for: Option<&WatchingAs>) -> Result<(), Error> {
            self.reachable()?;
            let mut watching = self.watching.lock().unwrap();
            watching.retain(|(connection, _, _)| connection != connection_id);
            watching.push((connection_id.into(), watch.topic(), only_for.cloned()));
            Ok(())
        }

        async fn forget(&self, connection_id: &str) -> Result<(), Error> {
            self.reachable()?;
            (self.watching.lock().unwrap()).retain(|(connection, _, _)| connection != connection_id);
            Ok(())
        }

        async fn watchers(&self, watch: &Watch) -> Result<Vec<Watcher>, Error> {
            self.reachable()?;
            self.looked_up.lock().unwrap().push(watch.topic());
            let watching = self.watching.lock().unwrap();
            Ok(watching
                .iter()
                .filter(|(_, topic, _)| *topic == watch.topic())
                .map(|(connection, _, only_for)| Watcher {
                    connection_id: connection.clone(),
                    only_for: only_for.clone(),
                })
                .collect())
        }

        async fn send(&self, connection_id: &str, update: &LiveUpdate) -> Result<(), Error> {
            self.reachable()?;
            if self.gone.lock().unwrap().contains(connection_id) {
                return self.forget(connection_id).await;
            }
            let update = serde_json::to_value(update)?;
            self.sent.lock().unwrap().push((connection_id.to_string(), update));
            Ok(())
        }

        async fn close(&self, connection_id: &str) -> Result<(), Error> {
            self.reachable()?;
            self.closed.lock().unwrap().push(connection_id.into());
            self.forget(connection_id).await
        }
    }
}
