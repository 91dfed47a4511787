//! `POST /sign-in` texts a one-time code to a number; `POST /sign-in/verify` trades the code for
//! the token of the customer that number is; `DELETE /customers/{customerId}/tokens` signs a
//! customer out everywhere. Codes are asked for from inside the cafe (a kiosk,
//! a kiosk order's receipt on the customer's phone, a signed-in customer, the operator), so the
//! cafe's texts cannot be turned on the world.

use crate::OrderService;
use crate::domain::sign_in::{CODE_SECONDS, CodeAnswer, CodeRequest, SignInCode, new_phone_customer_id};
use crate::store::{CodeKept, Proven};
use cafe_shared::auth::Caller;
use cafe_shared::checks::check_id;
use cafe_shared::http::{ApiError, json_body, json_response, path_param};
use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response, http::StatusCode};

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeSent {
    phone_number: String,
    /// When the code stops working.
    expires_at: DateTime<Utc>,
}

/// What a right code gives: the customer the number is, and their token.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedIn {
    customer_id: String,
    phone_number: String,
    customer_token: String,
    expires_at: DateTime<Utc>,
}

/// `POST /sign-in`: texts a new code (the number's hourly texts count it).
pub async fn send_code(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    let kiosk = match service.credentials.caller(req).await? {
        Caller::Anonymous => {
            return Err(ApiError::unauthorized(
                "a code is asked for from the cafe's kiosk, or from an order's receipt on your phone",
            ));
        }
        Caller::Kiosk(claim) => Some(claim),
        Caller::Receipt { .. } | Caller::Customer(_) | Caller::Operator => None,
    };
    let request: CodeRequest = json_body(req)?;
    request.check(&service.limits)?;
    let phone = request.phone_number;
    let code = SignInCode::generate();
    let now = Utc::now();
    let expires_at = now + chrono::Duration::seconds(CODE_SECONDS);
    let kept = service
        .store
        .keep_sign_in_code(&phone, &code, now, expires_at, kiosk.as_ref(), &service.limits)
        .await?;
    match kept {
        CodeKept::Kept => {}
        CodeKept::UnknownKiosk => {
            return Err(ApiError::unauthorized(
                "this kiosk is not registered (or was revoked): ask the operator to register it",
            ));
        }
        CodeKept::TooManyTexts => {
            return Err(ApiError::too_many_requests(format!(
                "this phone number has been texted {} times this hour, the most allowed; try again later",
                service.limits.texts_per_hour
            )));
        }
    }
    service.texts.send(&phone, &code.message()).await?;
    tracing::info!("sign-in code texted");
    Ok(json_response(
        StatusCode::ACCEPTED,
        &CodeSent {
            phone_number: phone,
            expires_at,
        },
    ))
}

/// `POST /sign-in/verify`: the code is the credential, so anyone may answer one; each code takes
/// a few tries and works once.
pub async fn verify_code(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    let answer: CodeAnswer = json_body(req)?;
    answer.check()?;
    let now = Utc::now();
    let no_code = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "code_expired",
            "no code is waiting for this number (it was used, ended or tried too often): ask for a new one",
        )
    };
    let live = service
        .store
        .try_sign_in_code(&answer.phone_number, now)
        .await?
        .ok_or_else(no_code)?;
    if !live.matches(&answer) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_code",
            format!("that is not the code texted; {} tries left", live.tries_left()),
        ));
    }
    let customer_id = match service
        .store
        .prove_phone(&answer.phone_number, &live, &new_phone_customer_id(), now)
        .await?
    {
        Proven::Customer(id) => id,
        Proven::CodeUsed => return Err(no_code()),
    };
    let (customer_token, expires_at) = super::issue_customer_token(service, &customer_id).await?;
    tracing::info!(customer_id, "phone proven");
    Ok(json_response(
        StatusCode::OK,
        &SignedIn {
            customer_id,
            phone_number: answer.phone_number,
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
pub async fn sign_out_everywhere(service: &OrderService, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = service.credentials.caller(req).await?;
    let customer_id = path_param(req, "customerId")?;
    check_id("customerId", &customer_id, 64)?;
    caller.require_customer(&customer_id)?;
    let now = Utc::now();
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
