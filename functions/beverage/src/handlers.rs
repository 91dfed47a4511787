//! The beverage function's entry points: the HTTP API and `CupStockDecreased` from its queue.

use crate::domain::beverage_id_for;
use crate::store::Beverages;
use crate::{BeverageService, saga};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::Error;
use cafe_shared::dynamo::Page;
use cafe_shared::http::{
    ApiError, json_response, no_route, page_request, page_response, path_param, query_param, respond, route,
};
use cafe_shared::sqs;
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

/// `CupStockDecreased`: make the order's beverages once, then tell the saga (`saga`).
pub async fn saga_events(service: &BeverageService, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| {
        saga::on_event(&service.store, &service.bus, service.brew_time, message)
    })
    .await
}
