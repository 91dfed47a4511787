//! The order function's entry points: the HTTP API, the saga events from its queue, and the
//! outbox on the orders table's stream.

mod sign_in;

use crate::OrderService;
use crate::domain::{
    Kiosk, KioskRequest, Order, OrderRequest, OrderStatus, Outcome, PlacedBy, event_for_change, order_id_for_key,
    phone_not_proven,
};
use crate::store::{CUSTOMER_PAGE_KEY, KIOSK_PAGE_KEY, LATEST_PAGE_KEY, Placed, Recorded, Registration};
use aws_lambda_events::event::dynamodb::{Event as DynamoDbEvent, EventRecord as StreamRecord};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::auth::{Caller, NewKiosk};
use cafe_shared::events::{BusMessage, CafeEvent};
use cafe_shared::http::{
    ApiError, MAX_ID_CHARS, check_id, header, json_body, json_response, no_route, page_request, page_response,
    path_param, query_param, respond, route,
};
use cafe_shared::sqs::{self, StepError};
use cafe_shared::{Error, metrics};
use chrono::Utc;
use lambda_http::{Body, Request, Response, http::StatusCode};

/// `POST /orders`, `GET /orders`, `GET /orders/{orderId}`, `GET /menu`, the kiosks:
/// `POST /kiosks`, `GET /kiosks`, `DELETE /kiosks/{kioskId}`, and signing in with a phone:
/// `POST /sign-in`, `POST /sign-in/verify`, `DELETE /customers/{customerId}/tokens`.
pub async fn http(service: &OrderService, req: Request) -> Result<Response<Body>, Error> {
    let (method, resource) = route(&req);
    let outcome = match (method.as_str(), resource.as_str()) {
        ("POST", "/orders") => place_order(service, &req).await,
        ("GET", "/orders") => list_orders(service, &req).await,
        ("GET", "/orders/{orderId}") => get_order(service, &req).await,
        ("GET", "/menu") => Ok(json_response(StatusCode::OK, &service.menu)),
        ("POST", "/kiosks") => register_kiosk(service, &req).await,
        ("GET", "/kiosks") => list_kiosks(service, &req).await,
        ("DELETE", "/kiosks/{kioskId}") => revoke_kiosk(service, &req).await,
        ("POST", "/sign-in") => sign_in::send_code(service, &req).await,
        ("POST", "/sign-in/verify") => sign_in::verify_code(service, &req).await,
        ("DELETE", "/customers/{customerId}/tokens") => sign_in::sign_out_everywhere(service, &req).await,
        _ => Err(no_route(&req)),
    };
    Ok(respond(outcome))
}

/// A placed order, with the customer's token when this was a new customer's first order at a
/// kiosk, and the order's receipt when a kiosk placed it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PlacedOrder {
    #[serde(flatten)]
    order: Order,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt_expires_at: Option<chrono::DateTime<Utc>>,
}

/// Orders come from a registered kiosk, the operator, or a customer with their own token. A kiosk
/// places orders for anyone who stands at it: a new customer id's first order registers the
/// customer and returns their token; every kiosk order returns its receipt (what the customer's
/// phone follows the order with), and a known customer's gets nothing more. A retry with the
/// same Idempotency-Key, from the same caller, gets the order back (with the same receipt, which
/// only the kiosk that placed it can ask for), never a customer token.
async fn place_order(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    let placed_by = match &caller {
        Caller::Anonymous => {
            return Err(ApiError::unauthorized(
                "orders are placed at a registered kiosk: send the kiosk's token (or a customer's own, or the \
                 operator's)",
            ));
        }
        Caller::Receipt { .. } => return Err(ApiError::forbidden("a receipt shows only its own order")),
        Caller::Operator => PlacedBy::Operator,
        Caller::Kiosk(claim) => PlacedBy::Kiosk(claim.clone()),
        Caller::Customer(_) => PlacedBy::Customer,
    };
    let request: OrderRequest = json_body(req)?;
    if placed_by == PlacedBy::Customer {
        caller.require_customer(&request.customer_id)?;
    }
    let key = header(req, "idempotency-key");
    if let Some(key) = &key {
        check_id("Idempotency-Key", key, MAX_ID_CHARS)?;
    }
    let order_id = match &key {
        Some(key) => order_id_for_key(&request.customer_id, key),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let mut order = Order::place(request, &service.menu, order_id, Utc::now())?;
    order.kiosk_id = placed_by.kiosk_id();
    placed_by.check_phone(order.phone_number.as_deref())?;
    if let Some(phone) = &order.phone_number {
        service.limits.check_textable(phone)?;
    }
    let registration = match placed_by {
        PlacedBy::Kiosk(_) => Registration::New,
        PlacedBy::Operator => Registration::IfNew,
        PlacedBy::Customer => Registration::None,
    };
    // The order's OrderPlaced goes out from the table's stream (see `outbox`), so an order
    // that is stored is always announced, even if the bus is down at this moment.
    let mut placed = service
        .store
        .place(&order, &placed_by, registration, &service.limits)
        .await?;
    let mut new_customer = registration == Registration::New;
    if matches!(placed, Placed::CustomerKnown) {
        // A returning customer at a kiosk: the order is theirs, with no token.
        new_customer = false;
        placed = service
            .store
            .place(&order, &placed_by, Registration::None, &service.limits)
            .await?;
    }
    let (order, new_customer) = match placed {
        Placed::New(order) => (order, new_customer),
        Placed::AlreadyPlaced(existing) if existing.is_same_request(&order) => (existing, false),
        Placed::AlreadyPlaced(_) => {
            return Err(ApiError::conflict(
                "this Idempotency-Key was already used for a different order",
            ));
        }
        Placed::UnknownKiosk => {
            return Err(ApiError::unauthorized(
                "this kiosk is not registered (or was revoked): ask the operator to register it",
            ));
        }
        Placed::CustomerKnown => return Err(ApiError::internal("a known customer refused without a registration")),
        Placed::KioskBusy => {
            return Err(ApiError::too_many_requests(format!(
                "this kiosk has placed {} orders this minute, the most allowed; try again in a minute",
                service.limits.orders_per_kiosk_per_minute
            )));
        }
        Placed::TooManyOrders => {
            return Err(ApiError::too_many_requests(format!(
                "customer {:?} has placed {} orders this minute, the most allowed; try again in a minute",
                order.customer_id, service.limits.orders_per_minute
            )));
        }
        Placed::TooManyTexts => {
            return Err(ApiError::too_many_requests(format!(
                "this phone number has been texted {} times this hour, the most allowed; order without a phone \
                 number, or try again later",
                service.limits.texts_per_hour
            )));
        }
        Placed::PhoneNotProven => return Err(phone_not_proven()),
        Placed::SignsInByPhone => {
            return Err(ApiError::forbidden(format!(
                "customer {:?} signs in with their phone: they order with their own token",
                order.customer_id
            )));
        }
    };
    let customer_token = match new_customer {
        true => {
            let expires_at = Utc::now() + service.customer_token_lifetime;
            Some(
                service
                    .credentials
                    .customer_token(&order.customer_id, expires_at.timestamp())
                    .await?,
            )
        }
        false => None,
    };
    // The receipt's end follows from the order, so a retry gets the same receipt, not a new one.
    let receipt_expires_at = order.order_date + service.receipt_lifetime;
    let receipt_token = match placed_by {
        PlacedBy::Kiosk(_) => Some(
            service
                .credentials
                .receipt(&order.order_id, receipt_expires_at.timestamp())
                .await?,
        ),
        PlacedBy::Operator | PlacedBy::Customer => None,
    };
    Ok(json_response(
        StatusCode::CREATED,
        &PlacedOrder {
            receipt_expires_at: receipt_token.as_ref().map(|_| receipt_expires_at),
            order,
            customer_token,
            receipt_token,
        },
    ))
}

/// A newly registered kiosk, with its token: shown this once, kept by the cafe only hashed.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RegisteredKiosk {
    #[serde(flatten)]
    kiosk: Kiosk,
    kiosk_token: String,
}

/// `POST /kiosks` (operator): registers a kiosk device.
async fn register_kiosk(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.require_operator(req).await?;
    let request: KioskRequest = json_body(req)?;
    let credentials = NewKiosk::generate();
    let kiosk = Kiosk::register(request, credentials.kiosk_id, Utc::now())?;
    service.store.register_kiosk(&kiosk, &credentials.secret_hash).await?;
    tracing::info!(kiosk_id = kiosk.kiosk_id, "kiosk registered");
    Ok(json_response(
        StatusCode::CREATED,
        &RegisteredKiosk {
            kiosk,
            kiosk_token: credentials.token,
        },
    ))
}

/// `GET /kiosks` (operator): the registered kiosks, by id, without their secrets.
async fn list_kiosks(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.require_operator(req).await?;
    let page = page_request(req, &KIOSK_PAGE_KEY, &[])?;
    Ok(page_response(&service.store.list_kiosks(page).await?))
}

/// `DELETE /kiosks/{kioskId}` (operator): the kiosk's token places no more orders.
async fn revoke_kiosk(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.require_operator(req).await?;
    let kiosk_id = path_param(req, "kioskId")?;
    match service.store.revoke_kiosk(&kiosk_id).await? {
        Some(kiosk) => {
            tracing::info!(kiosk_id, "kiosk revoked");
            Ok(json_response(StatusCode::OK, &kiosk))
        }
        None => Err(ApiError::not_found("kiosk", &kiosk_id)),
    }
}

/// A page of a customer's orders, or of everyone's (the operator), newest first.
async fn list_orders(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    let orders = match query_param(req, "customerId")? {
        Some(customer_id) => {
            caller.require_customer(&customer_id)?;
            let page = page_request(req, &CUSTOMER_PAGE_KEY, &[("customerId", &customer_id)])?;
            service.store.list_for_customer(&customer_id, page).await?
        }
        None => {
            caller.require_operator()?;
            service
                .store
                .list_latest(page_request(req, &LATEST_PAGE_KEY, &[])?)
                .await?
        }
    };
    Ok(page_response(&orders))
}

/// Another customer's order is answered as unknown: its id tells nothing.
async fn get_order(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    caller.require_identified()?;
    let order_id = path_param(req, "orderId")?;
    match service.store.get(&order_id).await? {
        Some(order) if caller.may_see_order(&order.order_id, &order.customer_id) => {
            Ok(json_response(StatusCode::OK, &order))
        }
        _ => Err(ApiError::not_found("order", &order_id)),
    }
}

/// `CupOutOfStock` cancels the order (the saga's compensation); `BeverageMade` completes it.
pub async fn saga_events(service: &OrderService, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| on_event(service, message)).await
}

async fn on_event(service: &OrderService, message: BusMessage) -> Result<(), StepError> {
    let (order_id, outcome) = match &message.event {
        CafeEvent::CupOutOfStock(e) => (
            &e.order.order_id,
            Outcome::Cancelled {
                reason: e.reason.clone(),
            },
        ),
        CafeEvent::BeverageMade(e) => (&e.order.order_id, Outcome::Completed),
        other => {
            tracing::warn!(
                detail_type = other.detail_type(),
                "not an event for the order function; ignored"
            );
            return Ok(());
        }
    };
    // The move is announced by `outbox` from the table's stream; a redelivered event finds
    // the order already final and changes nothing.
    match service.store.record_outcome(order_id, &outcome).await? {
        // Orders are never deleted and the table is read consistently: no later try finds it.
        None => Err(StepError::Poison(format!("no order {order_id}"))),
        Some(Recorded::Moved) => Ok(()),
        Some(Recorded::AlreadyFinal(order)) => {
            if order.order_status != outcome.status() {
                tracing::warn!(status = ?order.order_status, "order already reached another outcome; event ignored");
            }
            Ok(())
        }
    }
}

/// The transactional outbox: each change of the orders table arrives here from its DynamoDB
/// stream and is announced on the bus, in order. The stream keeps a change until this succeeds,
/// so a stored order is never left unannounced; a retried batch announces again, which the
/// idempotent steps absorb. A transient failure (the bus throttling or unreachable) fails the
/// whole batch, so no change after it is skipped; a change that can never be announced (one
/// that does not read as an order, or an event the bus refuses as invalid) goes to the outbox's
/// dead-letter queue once the rest is announced, and the shard moves on.
pub async fn outbox(service: &OrderService, changes: DynamoDbEvent) -> Result<(), Error> {
    let mut announced = Vec::new();
    let mut poison = Vec::new();
    for record in changes.records {
        match announcement_of(&record) {
            Ok(Some(announcement)) => announced.push((record, announcement)),
            Ok(None) => {}
            Err(reason) => poison.push((record, reason)),
        }
    }
    let events: Vec<_> = announced.iter().map(|(_, (event, _))| event.clone()).collect();
    match service.bus.publish_all(&events).await {
        Ok(()) => {}
        Err(StepError::Retry(error)) => return Err(error),
        // Some event of the batch is refused for good: announce them one by one to find which.
        Err(StepError::Poison(_)) => {
            let mut accepted = Vec::new();
            for (record, (event, order)) in announced {
                match service.bus.publish(&event).await {
                    Ok(()) => accepted.push((record, (event, order))),
                    Err(StepError::Retry(error)) => return Err(error),
                    Err(StepError::Poison(reason)) => poison.push((record, reason)),
                }
            }
            announced = accepted;
        }
    }
    // Set aside only after the rest went out, so a retried batch never dead-letters twice.
    for (record, reason) in &poison {
        let order_id = record.change.keys.get("orderId").and_then(|key| match key {
            serde_dynamo::AttributeValue::S(id) => Some(id.as_str()),
            _ => None,
        });
        service
            .dead_letters
            .send(&serde_json::to_string(record)?, order_id, reason)
            .await?;
        tracing::error!(order_id, reason, "order change dead-lettered; the stream moves on");
    }
    // Counted once announced, so a retried batch counts only what it announces again.
    for (_, (_, order)) in &announced {
        record_metrics(order);
    }
    Ok(())
}

/// The event a stream record announces with the order it is about, if it announces any; an
/// error when the record does not read as an order (it never will).
fn announcement_of(record: &StreamRecord) -> Result<Option<(CafeEvent, Order)>, String> {
    let image = |item: &serde_dynamo::Item, which: &str| -> Result<Option<Order>, String> {
        if item.is_empty() {
            return Ok(None);
        }
        serde_dynamo::from_item(item.clone()).map_err(|e| format!("the {which} image is not an order: {e}"))
    };
    let before = image(&record.change.old_image, "old")?;
    let after = image(&record.change.new_image, "new")?;
    Ok(event_for_change(before.as_ref(), after.as_ref()).zip(after))
}

/// OrdersPlaced, OrdersCancelled, OrdersCompleted, and for a final order the saga's latency
/// from placing to the outcome.
fn record_metrics(order: &Order) {
    let counter = match order.order_status {
        OrderStatus::Pending => "OrdersPlaced",
        OrderStatus::Cancelled => "OrdersCancelled",
        OrderStatus::Completed => "OrdersCompleted",
    };
    metrics::emit(counter, 1.0, "Count", "order");
    if order.order_status != OrderStatus::Pending {
        let latency = (Utc::now() - order.order_date).num_milliseconds() as f64;
        metrics::emit("SagaLatency", latency, "Milliseconds", "order");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A stream record as Lambda delivers it, with these images.
    fn record(old: serde_json::Value, new: serde_json::Value) -> StreamRecord {
        serde_json::from_value(json!({
            "eventID": "1", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "eventVersion": "1.1",
            "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/x",
            "dynamodb": {"Keys": {"orderId": {"S": "o-1"}}, "OldImage": old, "NewImage": new,
                         "SequenceNumber": "100", "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }))
        .unwrap()
    }

    fn order_image(status: &str) -> serde_json::Value {
        json!({"orderId": {"S": "o-1"}, "customerId": {"S": "1"}, "beverageName": {"S": "latte"},
               "beverageQty": {"N": "2"}, "stockName": {"S": "cup"}, "orderStatus": {"S": status},
               "orderDate": {"S": "2026-11-25T01:00:00Z"}})
    }

    #[test]
    fn a_change_that_reads_as_an_order_announces_its_event() {
        let placed = announcement_of(&record(json!({}), order_image("pending"))).unwrap();
        assert!(matches!(placed, Some((CafeEvent::OrderPlaced(_), _))));
        let completed = announcement_of(&record(order_image("pending"), order_image("completed"))).unwrap();
        assert!(matches!(completed, Some((CafeEvent::OrderCompleted(_), _))));
        let rewrite = announcement_of(&record(order_image("completed"), order_image("completed"))).unwrap();
        assert!(rewrite.is_none(), "a rewrite announces nothing");
    }

    #[test]
    fn a_change_that_is_no_order_is_poison_with_the_reason() {
        let reason = announcement_of(&record(json!({}), order_image("brewing"))).unwrap_err();
        assert!(reason.starts_with("the new image is not an order"), "{reason}");
        let reason = announcement_of(&record(json!({"orderId": {"S": "o-1"}}), order_image("pending"))).unwrap_err();
        assert!(reason.starts_with("the old image is not an order"), "{reason}");
    }

    #[test]
    fn a_set_aside_record_replays_as_the_same_record() {
        let original = record(json!({}), order_image("brewing"));
        let replayed: StreamRecord = serde_json::from_str(&serde_json::to_string(&original).unwrap()).unwrap();
        assert_eq!(replayed.change.sequence_number, original.change.sequence_number);
        assert_eq!(replayed.change.new_image, original.change.new_image);
    }
}
