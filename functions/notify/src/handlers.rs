//! The notify function's entry points: the HTTP API and order outcomes from its queue.

use crate::NotifyService;
use crate::domain::{Notification, notification_id_for};
use crate::store::{ALL_PAGE_KEY, CUSTOMER_PAGE_KEY};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::Error;
use cafe_shared::events::BusMessage;
use cafe_shared::http::{ApiError, no_route, page_request, page_response, query_param, respond, route};
use cafe_shared::sqs::{self, StepError};
use chrono::Utc;
use lambda_http::{Body, Request, Response};

/// `GET /notifications[?customerId=]`.
pub async fn http(service: &NotifyService, req: Request) -> Result<Response<Body>, Error> {
    let (method, resource) = route(&req);
    let outcome = match (method.as_str(), resource.as_str()) {
        ("GET", "/notifications") => list(service, &req).await,
        _ => Err(no_route(&req)),
    };
    Ok(respond(outcome))
}

async fn list(service: &NotifyService, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    let customer_id = query_param(req, "customerId")?;
    match &customer_id {
        Some(customer_id) => caller.require_customer(customer_id)?,
        None => caller.require_operator()?,
    }
    let page = match &customer_id {
        Some(id) => page_request(req, &CUSTOMER_PAGE_KEY, &[("customerId", id)])?,
        None => page_request(req, &ALL_PAGE_KEY, &[])?,
    };
    Ok(page_response(&service.store.list(customer_id.as_deref(), page).await?))
}

/// `OrderCancelled` and `OrderCompleted`: notify the customer once, then `CustomerNotified`.
pub async fn saga_events(service: &NotifyService, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| on_event(service, message)).await
}

async fn on_event(service: &NotifyService, message: BusMessage) -> Result<(), StepError> {
    let Some(fresh) = Notification::for_outcome(&message.event, Utc::now()) else {
        tracing::warn!(
            detail_type = message.event.detail_type(),
            "not an event for the notify function; ignored"
        );
        return Ok(());
    };
    let order = message.event.order();
    let notification = match service.store.get(&notification_id_for(&order.order_id)).await? {
        Some(on_record) => on_record,
        None => service.store.record(&fresh).await?,
    };
    // Sent unless a previous delivery got as far as recording it sent.
    if notification.sns_message_id.is_none() {
        let sns_message_id = service
            .sender
            .send(&notification, order.phone_number.as_deref())
            .await?;
        service
            .store
            .mark_sent(&notification.notification_id, &sns_message_id)
            .await?;
        tracing::info!(sns_message_id, "customer notified");
    }
    service.bus.publish(&notification.notified_event(order)).await
}
