//! The inventory function's entry points: the HTTP API and `OrderPlaced` from its queue.

use crate::domain::{NewStockItem, Restock, check_qty, check_stock_name};
use crate::store::{STOCK_PAGE_KEY, StockLevels};
use crate::{InventoryApi, InventorySaga, saga};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::http::{
    ApiError, json_body, json_response, no_route, page_request, page_response, path_param, respond, route,
};
use cafe_shared::sqs;
use lambda_http::{Body, Request, Response, http::StatusCode};

/// `POST /inventories`, `GET /inventories`, `GET|PUT /inventories/{stockName}`.
pub async fn http(service: &InventoryApi, req: Request) -> Response<Body> {
    let (method, resource) = route(&req);
    // Stock is the operators' business: every inventory endpoint needs their token.
    if let Err(refused) = service.credentials.require_operator(&req).await {
        return respond(Err(refused));
    }
    let outcome = match (method.as_str(), resource.as_str()) {
        ("POST", "/inventories") => create(service, &req).await,
        ("GET", "/inventories") => list(service, &req).await,
        ("GET", "/inventories/{stockName}") => get(service, &req).await,
        ("PUT", "/inventories/{stockName}") => restock(service, &req).await,
        _ => Err(no_route(&req)),
    };
    respond(outcome)
}

/// A page of the stock items, A to Z.
async fn list(service: &InventoryApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let page = page_request(req, &STOCK_PAGE_KEY, &[])?;
    Ok(page_response(&service.store.list(page).await?))
}

async fn create(service: &InventoryApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let new: NewStockItem = json_body(req)?;
    check_stock_name(&new.stock_name)?;
    let qty = check_qty(new.qty)?;
    match service.store.create(&new.stock_name, qty).await? {
        Some(item) => Ok(json_response(StatusCode::CREATED, &item)),
        None => Err(ApiError::conflict(format!(
            "stock item {:?} already exists; PUT /inventories/{} sets its level",
            new.stock_name, new.stock_name
        ))),
    }
}

async fn get(service: &InventoryApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let stock_name = path_param(req, "stockName")?;
    match service.store.get(&stock_name).await? {
        Some(item) => Ok(json_response(StatusCode::OK, &item)),
        None => Err(ApiError::not_found("stock item", &stock_name)),
    }
}

async fn restock(service: &InventoryApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let stock_name = path_param(req, "stockName")?;
    let restock: Restock = json_body(req)?;
    let qty = check_qty(restock.qty)?;
    match service.store.set_level(&stock_name, qty).await? {
        Some(item) => Ok(json_response(StatusCode::OK, &item)),
        None => Err(ApiError::not_found("stock item", &stock_name)),
    }
}

/// `OrderPlaced`: reserve one cup per beverage, then tell the saga the outcome (`saga`).
pub async fn saga_events(service: &InventorySaga, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| {
        saga::on_event(&service.store, &service.bus, message)
    })
    .await
}
