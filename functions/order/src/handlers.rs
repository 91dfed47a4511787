//! The order function's entry points: the HTTP API, the saga events from its queue, and the
//! outbox on the orders table's stream.

mod sign_in;

use crate::domain::{
    Kiosk, KioskRequest, OpeningRequest, Order, OrderError, OrderRequest, OrderStatus, PlacedBy, cancelled_by,
    not_cancellable, order_id_for_key,
};
use crate::store::{CUSTOMER_PAGE_KEY, KIOSK_PAGE_KEY, LATEST_PAGE_KEY, OrderOutcomes, Placed, Recorded, Registration};
use crate::{OrderService, saga};
use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::Error;
use cafe_shared::auth::{Caller, NewKiosk};
use cafe_shared::checks::check_id;
use cafe_shared::http::{
    ApiError, MAX_ID_CHARS, header, json_body, json_response, no_route, page_request, page_response, path_param,
    query_param, respond, route,
};
use cafe_shared::sqs;
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
            OrderError::QuantityOutOfRange { .. } => ApiError::bad_request("invalid_quantity", message),
            OrderError::PhoneNotE164 | OrderError::PhoneNotTextable(_) => {
                ApiError::bad_request("invalid_phone_number", message)
            }
            OrderError::CodeNotSixDigits => ApiError::bad_request("invalid_code", message),
            OrderError::PhoneNotProven => ApiError::new(StatusCode::FORBIDDEN, "phone_not_proven", message),
            OrderError::NotCancellable(_) => ApiError::new(StatusCode::CONFLICT, "not_cancellable", message),
            OrderError::CafeClosed => ApiError::new(StatusCode::CONFLICT, "cafe_closed", message),
            OrderError::CafeBusy(_) => ApiError::new(StatusCode::CONFLICT, "cafe_busy", message),
        }
    }
}

/// `POST /orders`, `GET /orders`, `GET /orders/{orderId}`, `POST /orders/{orderId}/cancel`,
/// `GET /menu`, `GET /cafe`, `PUT /cafe`, the kiosks:
/// `POST /kiosks`, `GET /kiosks`, `DELETE /kiosks/{kioskId}`, and signing in with a phone:
/// `POST /sign-in`, `POST /sign-in/verify`, `DELETE /customers/{customerId}/tokens`.
pub async fn http(service: &OrderService, req: Request) -> Response<Body> {
    let (method, resource) = route(&req);
    let outcome = match (method.as_str(), resource.as_str()) {
        ("POST", "/orders") => place_order(service, &req).await,
        ("GET", "/orders") => list_orders(service, &req).await,
        ("GET", "/orders/{orderId}") => get_order(service, &req).await,
        ("POST", "/orders/{orderId}/cancel") => cancel_order(service, &req).await,
        ("GET", "/menu") => Ok(json_response(StatusCode::OK, &service.menu)),
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

/// A new token for `customer_id`, the only kind this function issues (with a first order at a
/// kiosk, or a proven phone): the token and when it ends.
async fn issue_customer_token(service: &OrderService, customer_id: &str) -> Result<(String, DateTime<Utc>), Error> {
    let expires_at = Utc::now() + service.customer_token_lifetime;
    let token = (service.credentials)
        .customer_token(customer_id, expires_at.timestamp())
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
    // A kiosk proves its secret before anything else: a made-up token learns nothing and
    // touches nothing (the order's transaction checks it again).
    if let PlacedBy::Kiosk(claim) = &placed_by
        && !service.store.is_registered_kiosk(claim).await?
    {
        return Err(unknown_kiosk());
    }
    let registration = match placed_by {
        PlacedBy::Kiosk(_) => Registration::New,
        PlacedBy::Operator => Registration::IfNew,
        PlacedBy::Customer => Registration::None,
    };
    // A retry of an order already stored is answered from it, whatever the cafe is now.
    let stored = match &key {
        Some(_) => service.store.get(&order.order_id).await?,
        None => None,
    };
    let mut placed = match stored {
        Some(existing) => Placed::AlreadyPlaced(existing),
        None => {
            // The number first: a closed or full cafe refuses here, using up none.
            match service
                .store
                .take_order_number(order.order_date, &service.limits)
                .await?
            {
                Ok(number) => order.order_number = Some(number),
                Err(cafe) => return Err(cafe.refusal().into()),
            }
            // The order's OrderPlaced goes out from the table's stream (see `outbox`), so an
            // order that is stored is always announced, even if the bus is down at this moment.
            service
                .store
                .place(&order, &placed_by, registration, &service.limits)
                .await?
        }
    };
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
        // Closed or filled up since the number was taken.
        Placed::CafeRefused(cafe) => {
            return Err(cafe.refusal().into());
        }
        Placed::AlreadyPlaced(existing) if existing.is_same_request(&order) => (existing, false),
        Placed::AlreadyPlaced(_) => {
            return Err(ApiError::conflict(
                "this Idempotency-Key was already used for a different order",
            ));
        }
        Placed::UnknownKiosk => return Err(unknown_kiosk()),
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
        Placed::PhoneNotProven => return Err(OrderError::PhoneNotProven.into()),
        Placed::SignsInByPhone => {
            return Err(ApiError::forbidden(format!(
                "customer {:?} signs in with their phone: they order with their own token",
                order.customer_id
            )));
        }
    };
    let customer_token = match new_customer {
        true => Some(issue_customer_token(service, &order.customer_id).await?.0),
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

/// `POST /orders/{orderId}/cancel`: by the order's customer (their token or its receipt) or the
/// operator, until the machine starts it (`Outcome::Withdrawn` moves only a pending order, the
/// machine's start only a pending one too: one of them wins). Cancelling a cancelled order
/// answers it as it is; one being made or completed is 409.
async fn cancel_order(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    caller.require_identified()?;
    let order_id = path_param(req, "orderId")?;
    let mut order = match service.store.get(&order_id).await? {
        Some(order) if caller.may_see_order(&order.order_id, &order.customer_id) => order,
        _ => return Err(ApiError::not_found("order", &order_id)),
    };
    let cancel = cancelled_by(matches!(caller, Caller::Operator));
    match service.store.record_outcome(&order_id, &cancel).await? {
        Some(Recorded::Moved) => {
            tracing::info!(order_id, "order cancelled by a person");
            order.apply(&cancel);
            Ok(json_response(StatusCode::OK, &order))
        }
        Some(Recorded::Unmoved(order)) if order.order_status == OrderStatus::Cancelled => {
            Ok(json_response(StatusCode::OK, &order))
        }
        Some(Recorded::Unmoved(order)) => Err(not_cancellable(&order).into()),
        None => Err(ApiError::not_found("order", &order_id)),
    }
}

fn unknown_kiosk() -> ApiError {
    ApiError::unauthorized("this kiosk is not registered (or was revoked): ask the operator to register it")
}

/// `GET /cafe`: whether the cafe takes orders, for the operator and the registered kiosks.
async fn get_cafe(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    match service.credentials.caller(req).await? {
        Caller::Operator => {}
        Caller::Kiosk(claim) if service.store.is_registered_kiosk(&claim).await? => {}
        Caller::Kiosk(_) => return Err(unknown_kiosk()),
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
async fn open_or_close_cafe(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    service.credentials.caller(req).await?.require_operator()?;
    let opening: OpeningRequest = json_body(req)?;
    let cafe = service.store.set_open(opening.open, &service.limits).await?;
    tracing::info!(open = cafe.open, "the operator opened or closed the cafe");
    Ok(json_response(StatusCode::OK, &cafe))
}

/// The saga's events: the order's moves (`saga`).
pub async fn saga_events(service: &OrderService, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| {
        saga::on_event(&service.store, message)
    })
    .await
}

/// The orders table's changes, announced on the bus (`saga::outbox`).
pub async fn outbox(service: &OrderService, changes: DynamoDbEvent) -> Result<(), Error> {
    saga::outbox(&service.bus, &service.dead_letters, &service.deadlines, changes).await
}
