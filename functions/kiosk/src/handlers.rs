//! The kiosk function's entry points: the page and read model over HTTP, and every saga
//! event from its queue.

use crate::domain::receipt_link;
use crate::pages::{
    KIOSK_PAGE, KIOSK_PAGE_POLICY, OPENAPI, OPERATOR_PAGE, OPERATOR_PAGE_POLICY, RECEIPT_PAGE, RECEIPT_PAGE_POLICY,
};
use crate::store::{CUSTOMER_PAGE_KEY, OrderViews};
use crate::{KioskService, saga};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::Error;
use cafe_shared::auth::Caller;
use cafe_shared::http::{
    ApiError, header, json_response, no_route, page_request, page_response, path_param, respond, route,
};
use cafe_shared::sqs;
use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode};

/// `GET /`, `GET /operator`, `GET /receipt`, `GET /openapi.json`, `POST /sessions`,
/// `GET /kiosk/orders/{orderId}`, `GET /kiosk/orders/{orderId}/receipt-link`,
/// `GET /kiosk/customers/{customerId}/orders`.
pub async fn http(service: &KioskService, req: Request) -> Result<Response<Body>, Error> {
    let (method, resource) = route(&req);
    let outcome = match (method.as_str(), resource.as_str()) {
        ("GET", "/") => Ok(page(KIOSK_PAGE, &KIOSK_PAGE_POLICY)),
        ("GET", "/operator") => Ok(page(OPERATOR_PAGE, &OPERATOR_PAGE_POLICY)),
        ("GET", "/receipt") => Ok(page(RECEIPT_PAGE, &RECEIPT_PAGE_POLICY)),
        ("GET", "/openapi.json") => Ok(asset("application/json", OPENAPI)),
        ("POST", "/sessions") => open_operator_session(service, &req).await,
        ("GET", "/kiosk/orders/{orderId}") => order(service, &req).await,
        ("GET", "/kiosk/orders/{orderId}/receipt-link") => receipt_link_of(service, &req).await,
        ("GET", "/kiosk/customers/{customerId}/orders") => customer_orders(service, &req).await,
        _ => Err(no_route(&req)),
    };
    Ok(respond(outcome))
}

fn asset(content_type: &str, content: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .body(Body::Text(content.to_string()))
        .expect("a valid response")
}

/// A page, with the policy that lets it run only its own script and style and be framed by no one.
fn page(html: &str, policy: &str) -> Response<Body> {
    let mut answer = asset("text/html; charset=utf-8", html);
    let headers = answer.headers_mut();
    headers.insert(
        "content-security-policy",
        policy.parse().expect("a policy is a valid header"),
    );
    headers.insert("x-frame-options", "DENY".parse().expect("a valid header"));
    answer
}

/// `POST /sessions` with the operator token: a session for the operator's page, which keeps only
/// that, in memory, until it ends or the operator signs out.
async fn open_operator_session(service: &KioskService, req: &Request) -> Result<Response<Body>, ApiError> {
    let (session_token, expires_at) = service
        .credentials
        .operator_session(req, service.operator_session)
        .await?;
    let expires_at = chrono::DateTime::from_timestamp(expires_at, 0).expect("a time within range");
    Ok(json_response(
        StatusCode::CREATED,
        &serde_json::json!({"sessionToken": session_token, "expiresAt": expires_at}),
    ))
}

async fn order(service: &KioskService, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    caller.require_identified()?;
    let order_id = path_param(req, "orderId")?;
    match service.store.get(&order_id).await? {
        // Another customer's order is answered as unknown.
        Some(view) if caller.may_see_order(&view.order_id, &view.customer_id) => {
            Ok(json_response(StatusCode::OK, &view))
        }
        _ => Err(ApiError::not_found("order", &order_id)),
    }
}

/// The link to the receipt page for the order whose receipt is the bearer token, and its QR
/// code, for the kiosk to show: `page` is the receipt page's address as the kiosk reaches it
/// (the API's own address differs between AWS, custom domains and local clouds).
async fn receipt_link_of(service: &KioskService, req: &Request) -> Result<Response<Body>, ApiError> {
    let order_id = path_param(req, "orderId")?;
    match service.credentials.caller(req).await? {
        Caller::Receipt { order_id: own } if own == order_id => {}
        Caller::Anonymous => return Err(ApiError::unauthorized("this needs the order's receipt")),
        _ => {
            return Err(ApiError::forbidden(
                "a receipt link is made with that order's own receipt",
            ));
        }
    }
    let page = req
        .query_string_parameters_ref()
        .and_then(|q| q.first("page"))
        .unwrap_or_default();
    let receipt = header(req, "authorization").unwrap_or_default();
    let receipt = receipt.trim_start_matches("Bearer ").trim();
    Ok(json_response(StatusCode::OK, &receipt_link(page, receipt)?))
}

async fn customer_orders(service: &KioskService, req: &Request) -> Result<Response<Body>, ApiError> {
    let customer_id = path_param(req, "customerId")?;
    service.credentials.caller(req).await?.require_customer(&customer_id)?;
    let page = page_request(req, &CUSTOMER_PAGE_KEY, &[("customerId", &customer_id)])?;
    Ok(page_response(
        &service.store.list_for_customer(&customer_id, page).await?,
    ))
}

/// Every saga event: fold it into its order's view (`saga`).
pub async fn saga_events(service: &KioskService, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| {
        saga::on_event(&service.store, message)
    })
    .await
}
