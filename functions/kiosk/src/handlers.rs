//! The kiosk function's entry points: the pages and read model over HTTP, every saga event from
//! its queue, and the WebSocket API's routes (pages watching live).

use crate::domain::{Board, LiveUpdate, Refusal, Watch, WatchRequest, board_of, kiosk_link, receipt_link};
use crate::live::{LiveUpdates, WatchingAs};
use crate::pages::{
    DISPLAY_PAGE, DISPLAY_PAGE_POLICY, KIOSK_PAGE, KIOSK_PAGE_POLICY, OPERATOR_PAGE, OPERATOR_PAGE_POLICY,
    RECEIPT_PAGE, RECEIPT_PAGE_POLICY, with_live_url,
};
use crate::store::{CUSTOMER_PAGE_KEY, CafeDay, KioskStore, OrderViews};
use crate::{KioskApi, KioskLive, KioskSaga, day, saga};
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::auth::{Caller, bearer_token, customer_token_claim};
use cafe_shared::http::{
    ApiError, header, json_response, no_route, page_request, page_response, path_param, respond, route,
};
use cafe_shared::sqs;
use cafe_shared::{Error, clock};
use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode};

/// `GET /`, `GET /operator`, `GET /receipt`, `GET /display`, `GET /openapi.json`, `POST /sessions`,
/// `GET /kiosk/orders/{orderId}`, `GET /kiosk/orders/{orderId}/receipt-link`,
/// `GET /kiosk/customers/{customerId}/orders`, `GET /kiosk/kiosk-link`, `GET /kiosk/dead-letters`,
/// `GET /kiosk/day`.
pub async fn http(service: &KioskApi, req: Request) -> Response<Body> {
    let (method, resource) = route(&req);
    let outcome = match (method.as_str(), resource.as_str()) {
        ("GET", "/") => Ok(page(service, KIOSK_PAGE, &KIOSK_PAGE_POLICY)),
        ("GET", "/operator") => Ok(page(service, OPERATOR_PAGE, &OPERATOR_PAGE_POLICY)),
        ("GET", "/receipt") => Ok(page(service, RECEIPT_PAGE, &RECEIPT_PAGE_POLICY)),
        ("GET", "/display") => display(service, &req).await,
        ("GET", "/openapi.json") => Ok(asset("application/json", &service.openapi)),
        ("POST", "/sessions") => open_operator_session(service, &req).await,
        ("GET", "/kiosk/orders/{orderId}") => order(service, &req).await,
        ("GET", "/kiosk/orders/{orderId}/receipt-link") => receipt_link_of(service, &req).await,
        ("GET", "/kiosk/customers/{customerId}/orders") => customer_orders(service, &req).await,
        ("GET", "/kiosk/kiosk-link") => kiosk_link_of(service, &req).await,
        ("GET", "/kiosk/dead-letters") => dead_letters(service, &req).await,
        ("GET", "/kiosk/day") => day(service, &req).await,
        _ => Err(no_route(&req)),
    };
    respond(outcome)
}

fn asset(content_type: &str, content: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .body(Body::Text(content.to_string()))
        .expect("a valid response")
}

/// A page, with the policy that lets it run only its own script and style, talk only to this API
/// and its live connection, and be framed by no one.
fn page(service: &KioskApi, html: &str, policy: &str) -> Response<Body> {
    let (html, policy) = with_live_url(html, policy, service.live_url.as_deref());
    let mut answer = asset("text/html; charset=utf-8", &html);
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
async fn open_operator_session(service: &KioskApi, req: &Request) -> Result<Response<Body>, ApiError> {
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

async fn order(service: &KioskApi, req: &Request) -> Result<Response<Body>, ApiError> {
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
async fn receipt_link_of(service: &KioskApi, req: &Request) -> Result<Response<Body>, ApiError> {
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
    Ok(json_response(
        StatusCode::OK,
        &receipt_link(page_param(req), &bearer_token(req).unwrap_or_default())?,
    ))
}

/// The link a new kiosk's screen opens to become that kiosk, and its QR code, for the operator's
/// page to show once, right after registering it: the kiosk token is the bearer token, so the link
/// carries nothing the caller did not already hold.
async fn kiosk_link_of(service: &KioskApi, req: &Request) -> Result<Response<Body>, ApiError> {
    match service.credentials.caller(req).await? {
        Caller::Kiosk(_) => {}
        Caller::Anonymous => return Err(ApiError::unauthorized("this needs the kiosk's own token")),
        _ => return Err(ApiError::forbidden("a kiosk link is made with that kiosk's own token")),
    }
    Ok(json_response(
        StatusCode::OK,
        &kiosk_link(page_param(req), &bearer_token(req).unwrap_or_default())?,
    ))
}

/// The messages waiting in each of the saga's dead-letter queues, for the operator.
async fn dead_letters(service: &KioskApi, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.require_operator(req).await?;
    Ok(json_response(StatusCode::OK, &service.dead_letters.waiting().await?))
}

/// The last 24 hours at a glance, for the operator: what ended in each hour, how long orders
/// took, how fast cups and ingredients are going.
async fn day(service: &KioskApi, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.require_operator(req).await?;
    let now = clock::now();
    let hours = service.store.hours(&day::hours_up_to(now)).await?;
    Ok(json_response(
        StatusCode::OK,
        &day::day_at_a_glance(hours, &service.menu, now),
    ))
}

/// The `page` query parameter: a page's address as the caller reaches it (the API's own address
/// differs between AWS, custom domains and local clouds).
fn page_param(req: &Request) -> &str {
    req.query_string_parameters_ref()
        .and_then(|q| q.first("page"))
        .unwrap_or_default()
}

async fn customer_orders(service: &KioskApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let customer_id = path_param(req, "customerId")?;
    service.credentials.caller(req).await?.require_customer(&customer_id)?;
    let page = page_request(req, &CUSTOMER_PAGE_KEY, &[("customerId", &customer_id)])?;
    Ok(page_response(
        &service.store.list_for_customer(&customer_id, page).await?,
    ))
}

/// `GET /display`, for anyone: the pickup screen, as a page for a screen in the cafe, or as JSON
/// (`{"making": [...], "ready": [...]}`, by number) for a client that asks for JSON.
async fn display(service: &KioskApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let accept = header(req, "accept").unwrap_or_default();
    if accept.contains("application/json") && !accept.contains("text/html") {
        return Ok(json_response(StatusCode::OK, &current_board(&service.store).await?));
    }
    Ok(page(service, DISPLAY_PAGE, &DISPLAY_PAGE_POLICY))
}

/// The pickup screen as it is now, from the latest orders' views.
async fn current_board(store: &KioskStore) -> Result<Board, Error> {
    Ok(board_of(&store.latest().await?, clock::now()))
}

/// Every saga event: fold it into its order's view and tell its watchers (`saga`).
pub async fn saga_events(service: &KioskSaga, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| {
        saga::on_event(
            &service.store,
            &service.live,
            &service.sign_outs,
            &service.alerts,
            &service.menu,
            message,
        )
    })
    .await
}

/// The WebSocket API's routes: anyone may connect (the pickup screen is public); a `watch`
/// message says what the connection follows, proven for an order by a token that may see it,
/// and is answered at once with it as it is now; `$disconnect` forgets the connection.
pub async fn live(
    service: &KioskLive,
    request: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, Error> {
    let context = &request.request_context;
    let connection_id = context.connection_id.clone().unwrap_or_default();
    match context.route_key.as_deref() {
        Some("$disconnect") => service.live.forget(&connection_id).await?,
        Some("watch") => {
            let update = match watch(service, &connection_id, request.body.as_deref()).await {
                Ok(Some(update)) => update,
                // The order's view is not there yet: its first change comes live.
                Ok(None) => return Ok(ok_answer()),
                Err(refused) if refused.status.is_client_error() => LiveUpdate::Refused {
                    error: Refusal {
                        code: refused.code.to_string(),
                        message: refused.message,
                    },
                },
                Err(failed) => return Err(failed.message.into()),
            };
            service.live.send(&connection_id, &update).await?;
        }
        _ => {}
    }
    Ok(ok_answer())
}

fn ok_answer() -> ApiGatewayProxyResponse {
    let mut answer = ApiGatewayProxyResponse::default();
    answer.status_code = 200;
    answer
}

/// Starts the connection watching what its message asks, and what it watches as it is now (an
/// order's view may not be there yet: a page watches right after placing it). A receipt watches
/// its own order; a customer's token any order, of which it is sent only theirs.
async fn watch(service: &KioskLive, connection_id: &str, body: Option<&str>) -> Result<Option<LiveUpdate>, ApiError> {
    let request: WatchRequest = serde_json::from_str(body.unwrap_or_default())
        .map_err(|e| ApiError::bad_request("invalid_field", format!("the watch message does not read: {e}")))?;
    match request.watch()? {
        (Watch::Board, _) => {
            service.live.watch(connection_id, &Watch::Board, None).await?;
            Ok(Some(LiveUpdate::Board {
                board: current_board(&service.store).await?,
            }))
        }
        (Watch::Order(order_id), token) => {
            let token = token.unwrap_or_default();
            let caller = service.credentials.caller_with_token(token).await?;
            caller.require_identified()?;
            let only_for = match &caller {
                Caller::Receipt { order_id: own } if *own != order_id => {
                    return Err(ApiError::not_found("order", &order_id));
                }
                // A valid customer token (checked just now) says when it ends and where it came from.
                Caller::Customer(customer_id) => {
                    let claim = customer_token_claim(token);
                    Some(WatchingAs {
                        customer_id: customer_id.clone(),
                        token_ends: claim.as_ref().map_or(0, |claim| claim.ends_at),
                        kiosk_id: claim.and_then(|claim| claim.kiosk_id),
                    })
                }
                _ => None,
            };
            if let Some(order) = service.store.get(&order_id).await?
                && !caller.may_see_order(&order.order_id, &order.customer_id)
            {
                return Err(ApiError::not_found("order", &order_id));
            }
            // Watcher first, then the mark, then the view: an event applied before the mark is in
            // the view sent now, one after it finds the watcher.
            let watch = Watch::Order(order_id.clone());
            service.live.watch(connection_id, &watch, only_for.as_ref()).await?;
            service.store.mark_watched(&order_id).await?;
            let view = service.store.get(&order_id).await?;
            Ok(view.map(|order| LiveUpdate::Order { order }))
        }
    }
}
