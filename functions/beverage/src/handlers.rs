//! The beverage function's entry points: the HTTP API and `CupStockDecreased` from its queue.

use crate::BeverageService;
use crate::domain::{Beverage, beverage_id_for};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::Error;
use cafe_shared::dynamo::Page;
use cafe_shared::events::{BusMessage, CafeEvent};
use cafe_shared::http::{
    ApiError, json_response, no_route, page_request, page_response, path_param, query_param, respond, route,
};
use cafe_shared::sqs::{self, StepError};
use chrono::Utc;
use lambda_http::{Body, Request, Response, http::StatusCode};

/// `GET /beverages[?orderId=]`, `GET /beverages/{beverageId}`.
pub async fn http(service: &BeverageService, req: Request) -> Result<Response<Body>, Error> {
    let (method, resource) = route(&req);
    // The beverages made are the operators' view of the cafe.
    if let Err(refused) = service.credentials.require_operator(&req).await {
        return Ok(respond(Err(refused)));
    }
    let outcome = match (method.as_str(), resource.as_str()) {
        ("GET", "/beverages") => list(service, &req).await,
        ("GET", "/beverages/{beverageId}") => get(service, &req).await,
        _ => Err(no_route(&req)),
    };
    Ok(respond(outcome))
}

/// The order's beverage (at most one), or a page of all of them.
async fn list(service: &BeverageService, req: &Request) -> Result<Response<Body>, ApiError> {
    let beverages = match query_param(req, "orderId")? {
        Some(order_id) => Page {
            items: service
                .store
                .get(&beverage_id_for(&order_id))
                .await?
                .into_iter()
                .collect(),
            next: None,
        },
        None => service.store.list(page_request(req, &["beverageId"], &[])?).await?,
    };
    Ok(page_response(&beverages))
}

async fn get(service: &BeverageService, req: &Request) -> Result<Response<Body>, ApiError> {
    let beverage_id = path_param(req, "beverageId")?;
    match service.store.get(&beverage_id).await? {
        Some(beverage) => Ok(json_response(StatusCode::OK, &beverage)),
        None => Err(ApiError::not_found("beverage", &beverage_id)),
    }
}

/// `CupStockDecreased`: make the order's beverages once, then tell the saga.
pub async fn saga_events(service: &BeverageService, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| on_event(service, message)).await
}

async fn on_event(service: &BeverageService, message: BusMessage) -> Result<(), StepError> {
    let CafeEvent::CupStockDecreased(reserved) = &message.event else {
        tracing::warn!(
            detail_type = message.event.detail_type(),
            "not an event for the beverage function; ignored"
        );
        return Ok(());
    };
    let made = match service.store.get(&beverage_id_for(&reserved.order.order_id)).await? {
        Some(already_made) => already_made,
        None => {
            tokio::time::sleep(service.brew_time).await;
            service.store.record(&Beverage::brewed(reserved, Utc::now())).await?
        }
    };
    // Published again on a redelivery too, in case the first attempt failed after the write.
    service
        .bus
        .publish(&CafeEvent::BeverageMade(made.made_event(reserved)))
        .await
}
