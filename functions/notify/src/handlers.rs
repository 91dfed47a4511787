//! The notify function's entry points: the HTTP API and order outcomes from its queue.

use crate::store::{ALL_PAGE_KEY, CUSTOMER_PAGE_KEY};
use crate::{NotifyApi, NotifySaga, saga};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::http::{ApiError, no_route, page_request, page_response, query_param, respond, route};
use cafe_shared::sqs;
use lambda_http::{Body, Request, Response};

/// `GET /notifications[?customerId=]`.
pub async fn http(service: &NotifyApi, req: Request) -> Response<Body> {
    let (method, resource) = route(&req);
    let outcome = match (method.as_str(), resource.as_str()) {
        ("GET", "/notifications") => list(service, &req).await,
        _ => Err(no_route(&req)),
    };
    respond(outcome)
}

async fn list(service: &NotifyApi, req: &Request) -> Result<Response<Body>, ApiError> {
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

/// `OrderCancelled` and `OrderCompleted`: notify the customer once, then `CustomerNotified`
/// (`saga`).
pub async fn saga_events(service: &NotifySaga, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| {
        saga::on_event(&service.store, &service.sender, &service.bus, message)
    })
    .await
}
