//! `POST /sign-in` texts a one-time code to a number; `POST /sign-in/verify` trades the code for
//! the token of the customer that number is; `DELETE /customers/{customerId}/tokens` signs a
//! customer out everywhere. Codes are asked for from inside the cafe (a kiosk,
//! a kiosk order's receipt on the customer's phone, a signed-in customer, the operator), so the
//! cafe's texts cannot be turned on the world.

use crate::OrderApi;
use crate::domain::Texter;
use crate::domain::sign_in::{CodeAnswer, CodeRequest, new_phone_customer_id};
use crate::use_cases::sign_in;
use cafe_shared::auth::Caller;
use cafe_shared::checks::check_id;
use cafe_shared::clock;
use cafe_shared::http::{ApiError, json_body, json_response, path_param};
use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response, http::StatusCode};

/// What a right code gives: the customer the number is, and their token.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedIn {
    customer_id: String,
    phone_number: String,
    customer_token: String,
    expires_at: DateTime<Utc>,
}

/// `POST /sign-in`: texts a new code (`use_cases::sign_in::send_code`), counted in the texts of
/// whoever asks.
pub async fn send_code(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let (asked_by, kiosk) = match service.credentials.caller(req).await? {
        Caller::Anonymous => {
            return Err(ApiError::unauthorized(
                "a code is asked for from the cafe's kiosk, or from an order's receipt on your phone",
            ));
        }
        Caller::Kiosk(claim) => (Texter::Kiosk(claim.kiosk_id.clone()), Some(claim)),
        Caller::Receipt { order_id } => (Texter::Receipt(order_id), None),
        Caller::Customer(customer_id) => (Texter::Customer(customer_id), None),
        Caller::Operator => (Texter::Operator, None),
    };
    let request: CodeRequest = json_body(req)?;
    let (store, texts, limits) = (&service.store, &service.texts, &service.limits);
    let sent = sign_in::send_code(store, texts, request, &asked_by, kiosk.as_ref(), limits, clock::now()).await?;
    tracing::info!("sign-in code texted");
    Ok(json_response(StatusCode::ACCEPTED, &sent))
}

/// `POST /sign-in/verify`: a right code, through its handle, gives the customer the number is,
/// and their token.
pub async fn verify_code(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let answer: CodeAnswer = json_body(req)?;
    let (store, limits) = (&service.store, &service.limits);
    let (customer_id, phone_number) =
        sign_in::verify_code(store, &answer, &new_phone_customer_id(), limits, clock::now()).await?;
    let (customer_token, expires_at) = super::issue_customer_token(service, &customer_id, None).await?;
    tracing::info!(customer_id, "phone proven");
    Ok(json_response(
        StatusCode::OK,
        &SignedIn {
            customer_id,
            phone_number,
            customer_token,
            expires_at,
        },
    ))
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedOut {
    customer_id: String,
    /// Every token of the customer's that ends by then no longer holds; a new sign-in's does.
    tokens_ending_by: DateTime<Utc>,
}

/// `DELETE /customers/{customerId}/tokens` (that customer, or the operator): every token the
/// customer holds stops working: here at once, in every other function within a minute (when it
/// next reads the published token checks). Signing in again gives a token that works.
pub async fn sign_out_everywhere(service: &OrderApi, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    let customer_id = path_param(req, "customerId")?;
    check_id("customerId", &customer_id, 64)?;
    caller.require_customer(&customer_id)?;
    let now = clock::now();
    // Every token issued until now ends by then.
    let ends_by = now + service.customer_token_lifetime;
    (service.credentials)
        .revoke_customer_tokens(&customer_id, ends_by.timestamp(), now.timestamp())
        .await?;
    tracing::info!(customer_id, "customer signed out everywhere");
    Ok(json_response(
        StatusCode::OK,
        &SignedOut {
            customer_id,
            tokens_ending_by: ends_by,
        },
    ))
}
