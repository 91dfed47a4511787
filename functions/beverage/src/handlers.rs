//! The beverage function's entry points: the HTTP API (the beverages, the ingredients and the
//! machine's switch, all the operator's) and `CupStockDecreased` from its queue.

use crate::domain::{IngredientLevel, MachineSwitch, beverage_id_for, check_ingredient_name, check_ingredient_qty};
use crate::store::{BeverageMachine, INGREDIENT_PAGE_KEY, MachineSettings};
use crate::{BeverageApi, BeverageSaga, saga};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::dynamo::Page;
use cafe_shared::http::{
    ApiError, json_body, json_response, no_route, page_request, page_response, path_param, query_param, respond, route,
};
use cafe_shared::sqs;
use lambda_http::{Body, Request, Response, http::StatusCode};

/// `GET /beverages[?orderId=]`, `GET /beverages/{beverageId}`, `GET /ingredients`,
/// `GET|PUT /ingredients/{ingredientName}`, `GET|PUT /machine`.
pub async fn http(service: &BeverageApi, req: Request) -> Response<Body> {
    let (method, resource) = route(&req);
    // The machine and what it made are the operators' business.
    if let Err(refused) = service.credentials.require_operator(&req).await {
        return respond(Err(refused));
    }
    let outcome = match (method.as_str(), resource.as_str()) {
        ("GET", "/beverages") => list(service, &req).await,
        ("GET", "/beverages/{beverageId}") => get(service, &req).await,
        ("GET", "/ingredients") => ingredients(service, &req).await,
        ("GET", "/ingredients/{ingredientName}") => ingredient(service, &req).await,
        ("PUT", "/ingredients/{ingredientName}") => refill(service, &req).await,
        ("GET", "/machine") => machine(service).await,
        ("PUT", "/machine") => switch(service, &req).await,
        _ => Err(no_route(&req)),
    };
    respond(outcome)
}

/// Whether the machine is in service.
async fn machine(service: &BeverageApi) -> Result<Response<Body>, ApiError> {
    Ok(json_response(StatusCode::OK, &service.store.machine_state().await?))
}

/// The order's attempt (at most one), or a page of all of them. The page asked for is checked
/// either way: a bad `limit` or `nextToken` is a 400 whatever else the query says.
async fn list(service: &BeverageApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let page = page_request(req, &["beverageId"], &[])?;
    let attempts = match query_param(req, "orderId")? {
        Some(order_id) => Page {
            items: (service.store.attempt(&beverage_id_for(&order_id)).await?)
                .into_iter()
                .collect(),
            next: None,
        },
        None => service.store.list(page).await?,
    };
    Ok(page_response(&attempts))
}

async fn get(service: &BeverageApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let beverage_id = path_param(req, "beverageId")?;
    match service.store.attempt(&beverage_id).await? {
        Some(attempt) => Ok(json_response(StatusCode::OK, &attempt)),
        None => Err(ApiError::not_found("beverage", &beverage_id)),
    }
}

/// A page of the metered ingredients, A to Z.
async fn ingredients(service: &BeverageApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let page = page_request(req, &INGREDIENT_PAGE_KEY, &[("part", "ingredient")])?;
    Ok(page_response(&service.store.ingredients(page).await?))
}

async fn ingredient(service: &BeverageApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let name = path_param(req, "ingredientName")?;
    match service.store.ingredient(&name).await? {
        Some(level) => Ok(json_response(StatusCode::OK, &level)),
        None => Err(ApiError::not_found("ingredient", &name)),
    }
}

/// Sets an ingredient's level; the machine meters it from then on.
async fn refill(service: &BeverageApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let name = path_param(req, "ingredientName")?;
    check_ingredient_name(&name)?;
    let level: IngredientLevel = json_body(req)?;
    let qty = check_ingredient_qty(level.qty)?;
    Ok(json_response(
        StatusCode::OK,
        &service.store.set_ingredient(&name, qty).await?,
    ))
}

async fn switch(service: &BeverageApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let switch: MachineSwitch = json_body(req)?;
    Ok(json_response(
        StatusCode::OK,
        &service.store.switch_machine(switch.in_service).await?,
    ))
}

/// `CupStockDecreased`: make the order's beverages once, or say why not (`saga`).
pub async fn saga_events(service: &BeverageSaga, batch: SqsEvent) -> SqsBatchResponse {
    let recipes = saga::Recipes {
        menu: &service.menu,
        brew_time: service.brew_time,
    };
    sqs::handle_batch(batch, &service.dead_letters, |message| {
        saga::on_event(&service.store, &service.bus, &recipes, message)
    })
    .await
}
