//! The order function's entry points: the HTTP API, the saga events from its queue, and the
//! outbox on the orders table's stream.

mod sign_in;

use crate::domain::{
    Kiosk, KioskRequest, OpeningRequest, Order, OrderError, OrderRequest, PlacedBy, PriceChange, offered, on_the_menu,
};
use crate::store::{CUSTOMER_PAGE_KEY, KIOSK_PAGE_KEY, LATEST_PAGE_KEY, OrderBook};
use crate::use_cases::{self, Counter, Failure, Placing};
use crate::{OrderApi, OrderOutbox, OrderSaga, saga};
use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::auth::Caller;
use cafe_shared::http::{
    ApiError, header, json_body, json_response, no_route, page_request, page_response, path_param, query_param,
    respond, route,
};
use cafe_shared::{Error, clock, sqs};
use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response, http::StatusCode};

/// The one place a refusal in the cafe's words becomes an HTTP answer: what the caller can put
/// right is a 400, a number not proven by its customer a 403, a cancel too late a 409.
impl From<OrderError> for ApiError {
    fn from(refused: OrderError) -> Self {
        let message = refused.to_string();
        match refused {
            OrderError::Invalid(invalid) => invalid.into(),
            OrderError::UnknownBeverage { .. } => ApiError::bad_request("unknown_beverage", message),
            OrderError::NotOnSale(_) => ApiError::new(StatusCode::CONFLICT, "not_on_sale", message),
            OrderError::PaymentRequired(_) => ApiError::new(StatusCode::PAYMENT_REQUIRED, "payment_required", message),
            OrderError::QuantityOutOfRange { .. } | OrderError::TooManyBeverages(_) => {
                ApiError::bad_request("invalid_quantity", message)
            }
            OrderError::PhoneNotE164 | OrderError::PhoneNotTextable(_) => {
                ApiError::bad_request("invalid_phone_number", message)
            }
            OrderError::CodeNotSixDigits => ApiError::bad_request("invalid_code", message),
            OrderError::UnknownHandle => ApiError::bad_request("invalid_handle", message),
            OrderError::PhoneNotProven => ApiError::new(StatusCode::FORBIDDEN, "phone_not_proven", message),
            OrderError::NotCancellable(_) => ApiError::new(StatusCode::CONFLICT, "not_cancellable", message),
            OrderError::CafeClosed => ApiError::new(StatusCode::CONFLICT, "cafe_closed", message),
            OrderError::CafeBusy(_) => ApiError::new(StatusCode::CONFLICT, "cafe_busy", message),
            OrderError::KeyReused => ApiError::conflict(message),
            OrderError::UnknownKiosk => ApiError::unauthorized(message),
            OrderError::SignsInByPhone(_) => ApiError::forbidden(message),
            OrderError::KioskBusy(_)
            | OrderError::TooManyOrders(..)
            | OrderError::CustomerBusy(..)
            | OrderError::TooManyCups(..)
            | OrderError::TooManyTexts(_)
            | OrderError::TooManyCodes(_)
            | OrderError::CallerTexts(_)
            | OrderError::CafeTexts => ApiError::too_many_requests(message),
            OrderError::CodeExpired => ApiError::new(StatusCode::UNAUTHORIZED, "code_expired", message),
            OrderError::WrongCode(_) => ApiError::new(StatusCode::UNAUTHORIZED, "wrong_code", message),
            OrderError::UnknownOrder(order_id) => ApiError::not_found("order", &order_id),
        }
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(refused) => refused.into(),
            Failure::Cloud(error) => error.into(),
        }
    }
}

/// `POST /orders`, `GET /orders`, `GET /orders/{orderId}`, `POST /orders/{orderId}/cancel`,
/// `GET /menu`, `PUT /menu/{beverageName}`, `GET /cafe`, `PUT /cafe`, the kiosks:
/// `POST /kiosks`, `GET /kiosks`, `DELETE /kiosks/{kioskId}`, and signing in with a phone:
/// `POST /sign-in`, `POST /sign-in/verify`, `DELETE /customers/{customerId}/tokens`.
pub async fn http(service: &OrderApi, req: Request) -> Response<Body> {
    let (method, resource) = route(&req);
    let outcome = match (method.as_str(), resource.as_str()) {
        ("POST", "/orders") => place_order(service, &req).await,
        ("GET", "/orders") => list_orders(service, &req).await,
        ("GET", "/orders/{orderId}") => get_order(service, &req).await,
        ("POST", "/orders/{orderId}/cancel") => cancel_order(service, &req).await,
        ("GET", "/menu") => menu(service).await,
        ("PUT", "/menu/{beverageName}") => set_price(service, &req).await,
        ("GET", "/cafe") => get_cafe(service, &req).await,
        ("PUT", "/cafe") => open_or_close_cafe(service, &req).await,
        ("POST", "/kiosks") => register_kiosk(service, &req).await,
        ("GET", "/kiosks") => list_kiosks(service, &req).await,
        ("DELETE", "/kiosks/{kioskId}") => revoke_kiosk(service, &req).await,
        ("POST", "/sign-in") => sign_in::send_code(service, &req).await,
        ("POST", "/sign-in/verify") => sign_in::verify_code(service, &req).await,
        ("DELETE", "/customers/{customerId}/tokens") => sign_in::sign_out_everywhere(service, &req).await,
        _ => Err(no_route(&req)),
    };
    respond(outcome)
}

/// `GET /menu`, for anyone: each beverage with its recipe, its price now and whether it is on sale.
async fn menu(service: &OrderApi) -> Result<Response<Body>, ApiError> {
    let prices = service.store.price_list().await?;
    Ok(json_response(
        StatusCode::OK,
        &on_the_menu(&service.menu, &prices, &service.currency),
    ))
}

/// `PUT /menu/{beverageName}`, for the operator: a beverage's price, whether it is on sale, or
/// both, from the next order on (an order keeps the price it was placed at).
async fn set_price(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.require_operator(req).await?;
    let name = path_param(req, "beverageName")?;
    let item = (service.menu.find(&name)).ok_or_else(|| ApiError::not_found("beverage", &name))?;
    let change: PriceChange = json_body(req)?;
    let setting = change.check()?;
    let prices = service.store.set_price(&name, &setting).await?;
    Ok(json_response(
        StatusCode::OK,
        &offered(item, prices.get(&name), &service.currency),
    ))
}

/// A new token for `customer_id`, issued with a first order at `kiosk_id` or for a proven phone
/// (no kiosk): the token and when it ends.
async fn issue_customer_token(
    service: &OrderApi,
    customer_id: &str,
    kiosk_id: Option<&str>,
) -> Result<(String, DateTime<Utc>), Error> {
    let expires_at = clock::now() + service.customer_token_lifetime;
    let token = (service.credentials)
        .customer_token(customer_id, kiosk_id, expires_at.timestamp())
        .await?;
    Ok((token, expires_at))
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

/// Orders come from a registered kiosk, the operator, or a customer with their own token (see
/// `Counter::place_order`).
async fn place_order(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    let placed_by = placed_by(&caller)?;
    let mut request: OrderRequest = json_body(req)?;
    if let Caller::Customer(own) = &caller {
        let customer_id = request.customer_id.get_or_insert_with(|| own.clone());
        caller.require_customer(customer_id)?;
    }
    let key = header(req, "idempotency-key");
    let counter = Counter {
        menu: &service.menu,
        currency: &service.currency,
        payment_required: service.payment_required,
        limits: &service.limits,
    };
    let placing = (counter.place_order(&service.store, &placed_by, request, key.as_deref(), clock::now())).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &placed_order(service, placing, &placed_by).await?,
    ))
}

/// Who places an order, as the caller's credential says.
fn placed_by(caller: &Caller) -> Result<PlacedBy, ApiError> {
    match caller {
        Caller::Anonymous => Err(ApiError::unauthorized(
            "orders are placed at a registered kiosk: send the kiosk's token (or a customer's own, or the operator's)",
        )),
        Caller::Receipt { .. } => Err(ApiError::forbidden("a receipt shows only its own order")),
        Caller::Operator => Ok(PlacedBy::Operator),
        Caller::Kiosk(claim) => Ok(PlacedBy::Kiosk(claim.clone())),
        Caller::Customer(_) => Ok(PlacedBy::Customer),
    }
}

/// The answer to a placed order: a new customer's first order at a kiosk comes with their token,
/// and every kiosk order with its receipt (what the customer's phone follows the order with). A
/// receipt ends a fixed time after its order, so a retry with the same Idempotency-Key gets the
/// same one.
async fn placed_order(service: &OrderApi, placing: Placing, placed_by: &PlacedBy) -> Result<PlacedOrder, Error> {
    let order = placing.order;
    let kiosk_id = match placed_by {
        PlacedBy::Kiosk(claim) => Some(claim.kiosk_id.as_str()),
        PlacedBy::Operator | PlacedBy::Customer => None,
    };
    let customer_token = match placing.new_customer {
        true => Some(issue_customer_token(service, &order.customer_id, kiosk_id).await?.0),
        false => None,
    };
    let receipt_expires_at = order.order_date + service.receipt_lifetime;
    let receipt_token = match kiosk_id {
        Some(kiosk_id) => Some(
            (service.credentials)
                .receipt(
                    &order.order_id,
                    kiosk_id,
                    order.order_date.timestamp(),
                    receipt_expires_at.timestamp(),
                )
                .await?,
        ),
        None => None,
    };
    Ok(PlacedOrder {
        receipt_expires_at: receipt_token.as_ref().map(|_| receipt_expires_at),
        order,
        customer_token,
        receipt_token,
    })
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
async fn register_kiosk(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.require_operator(req).await?;
    let request: KioskRequest = json_body(req)?;
    let (kiosk, kiosk_token) = use_cases::register_kiosk(&service.store, request, clock::now()).await?;
    tracing::info!(kiosk_id = kiosk.kiosk_id, "kiosk registered");
    Ok(json_response(
        StatusCode::CREATED,
        &RegisteredKiosk { kiosk, kiosk_token },
    ))
}

/// `GET /kiosks` (operator): the registered kiosks, by id, with what each issued, without their
/// secrets.
async fn list_kiosks(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.require_operator(req).await?;
    let page = page_request(req, &KIOSK_PAGE_KEY, &[])?;
    Ok(page_response(&service.store.list_kiosks(page).await?))
}

/// What a kiosk issued as it was placing an order when it was revoked may be signed this long
/// after: its revocation covers it.
const ISSUING_IN_FLIGHT: chrono::Duration = chrono::Duration::minutes(5);

/// `DELETE /kiosks/{kioskId}` (operator): the kiosk's token places no more orders, and what it
/// issued (customer tokens, receipts) stops working everywhere. The revocation is published
/// before the kiosk goes, so a retry after a failure finds the kiosk and finishes.
async fn revoke_kiosk(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.require_operator(req).await?;
    let kiosk_id = path_param(req, "kioskId")?;
    let Some(kiosk) = service.store.kiosk(&kiosk_id).await? else {
        return Err(ApiError::not_found("kiosk", &kiosk_id));
    };
    let now = clock::now();
    let longest = service.customer_token_lifetime.max(service.receipt_lifetime);
    let ends_by = now + longest + ISSUING_IN_FLIGHT;
    (service.credentials)
        .revoke_kiosk_tokens(&kiosk_id, ends_by.timestamp(), now.timestamp())
        .await?;
    let kiosk = service.store.revoke_kiosk(&kiosk_id).await?.unwrap_or(kiosk);
    tracing::info!(
        kiosk_id,
        kiosk.orders_placed,
        kiosk.customer_tokens_issued,
        "kiosk revoked"
    );
    Ok(json_response(StatusCode::OK, &kiosk))
}

/// A page of a customer's orders, or of everyone's (the operator), newest first.
async fn list_orders(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
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
async fn get_order(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
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

/// `POST /orders/{orderId}/cancel`: by the order's customer (their token or its receipt) or the
/// operator (see `use_cases::cancel_order`).
async fn cancel_order(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    caller.require_identified()?;
    let order_id = path_param(req, "orderId")?;
    let may_see = |order: &Order| caller.may_see_order(&order.order_id, &order.customer_id);
    let by_operator = matches!(caller, Caller::Operator);
    let order = use_cases::cancel_order(&service.store, &order_id, may_see, by_operator).await?;
    tracing::info!(order_id, "order cancelled by a person");
    Ok(json_response(StatusCode::OK, &order))
}

/// `GET /cafe`: whether the cafe takes orders, for the operator and the registered kiosks.
async fn get_cafe(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    match service.credentials.caller(req).await? {
        Caller::Operator => {}
        Caller::Kiosk(claim) if service.store.is_registered_kiosk(&claim).await? => {}
        Caller::Kiosk(_) => return Err(OrderError::UnknownKiosk.into()),
        Caller::Anonymous => return Err(ApiError::unauthorized("send the operator's or a kiosk's token")),
        _ => {
            return Err(ApiError::forbidden(
                "only the operator and the kiosks see the cafe's state",
            ));
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &service.store.cafe(&service.limits).await?,
    ))
}

/// `PUT /cafe` `{"open": bool}`: the operator opens or closes the cafe to new orders; the orders
/// in progress are made either way.
async fn open_or_close_cafe(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.caller(req).await?.require_operator()?;
    let opening: OpeningRequest = json_body(req)?;
    let cafe = service.store.set_open(opening.open, &service.limits).await?;
    tracing::info!(open = cafe.open, "the operator opened or closed the cafe");
    Ok(json_response(StatusCode::OK, &cafe))
}

/// The saga's events: the order's moves (`saga`).
pub async fn saga_events(service: &OrderSaga, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| {
        saga::on_event(&service.store, message)
    })
    .await
}

/// The orders table's changes, announced on the bus (`saga::outbox`).
pub async fn outbox(service: &OrderOutbox, changes: DynamoDbEvent) -> Result<(), Error> {
    saga::outbox(&service.bus, &service.dead_letters, &service.deadlines, changes).await
}
