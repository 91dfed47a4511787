//! The HTTP side every API function shares: routing on API Gateway's resource template,
//! JSON bodies with a size limit, and the `{"error":{"code","message"}}` answer for bad input.

use crate::checks::{Invalid, check_id};
use crate::dynamo::{self, PageRequest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode, request::RequestContext};
use serde::{Serialize, de::DeserializeOwned};

/// Bodies above this are refused with 413 before they are parsed.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The longest id a path or query may carry.
pub const MAX_ID_CHARS: usize = 128;

/// An answer other than success: a client error with what is wrong, or an internal one.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no {what} with id {id:?}"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// No credential, or one that is not valid.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// A valid credential that does not reach this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
    }

    /// A failure of ours (a store or the bus), logged in full but answered without detail.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the cafe could not complete the request; try again",
        )
    }

    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = json_response(self.status, &body);
        let extra = match self.status {
            StatusCode::UNAUTHORIZED => Some(("www-authenticate", "Bearer")),
            // Rate windows are whole minutes.
            StatusCode::TOO_MANY_REQUESTS => Some(("retry-after", "60")),
            _ => None,
        };
        if let Some((name, value)) = extra {
            response
                .headers_mut()
                .insert(name, value.parse().expect("a valid header value"));
        }
        response
    }
}

/// Input that breaks a rule is the sender's to fix: 400, with what is wrong.
impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        let code = match invalid {
            Invalid::Field(_) => "invalid_field",
            Invalid::Quantity(_) => "invalid_quantity",
        };
        ApiError::bad_request(code, invalid.to_string())
    }
}

/// A store or bus failure while answering a request is ours, not the client's.
impl From<crate::Error> for ApiError {
    fn from(error: crate::Error) -> Self {
        Self::internal(error)
    }
}

/// A JSON answer.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(
            serde_json::to_string(body).expect("answers always serialize"),
        ))
        .expect("a valid response")
}

/// Turns a handler's outcome into the answer API Gateway returns.
/// Each answer is logged in one line (an access log; on MiniStack also the output it waits for
/// after an invocation, up to 50 ms when a function printed nothing).
pub fn respond(outcome: Result<Response<Body>, ApiError>) -> Response<Body> {
    let mut answer = match outcome {
        Ok(answer) => {
            tracing::info!(status = answer.status().as_u16(), "request answered");
            answer
        }
        Err(refused) => {
            // Refusals are what an operator watches for (probing, lost tokens, abuse); the
            // message is left out, as it may repeat what the client sent.
            if refused.status.is_client_error() {
                tracing::info!(status = refused.status.as_u16(), code = refused.code, "request refused");
            }
            refused.into_response()
        }
    };
    // Answers carry tokens and customers' orders: never sniffed as another type, never kept by a
    // shared browser or proxy, never leaking the page's URL to another site.
    let headers = answer.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
    ] {
        headers
            .entry(name)
            .or_insert(lambda_http::http::HeaderValue::from_static(value));
    }
    answer
}

/// Which route a request is for: its method and API Gateway's resource template, such as
/// `/orders/{orderId}` (the stage and the actual ids are not part of it).
pub fn route(req: &Request) -> (String, String) {
    let resource = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.resource_path.clone(),
        _ => None,
    }
    .unwrap_or_else(|| req.uri().path().to_string());
    (req.method().as_str().to_string(), resource)
}

/// The answer for a route this function does not serve.
pub fn no_route(req: &Request) -> ApiError {
    let (method, resource) = route(req);
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        format!("no route {method} {resource}"),
    )
}

/// A path parameter, such as `orderId` of `/orders/{orderId}`.
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    let value = req
        .path_parameters_ref()
        .and_then(|p| p.first(name))
        .ok_or_else(|| ApiError::bad_request("missing_parameter", format!("path parameter {name} is missing")))?;
    check_id(name, value, MAX_ID_CHARS)?;
    Ok(value.to_string())
}

/// A query string parameter that holds an id, if given. An empty one is refused like any id out
/// of bounds: `?customerId=` is more likely a client's slip than a wish for everyone's orders.
pub fn query_param(req: &Request, name: &str) -> Result<Option<String>, ApiError> {
    let value = req.query_string_parameters_ref().and_then(|q| q.first(name));
    value
        .map(|v| check_id(name, v, MAX_ID_CHARS).map(|()| v.to_string()))
        .transpose()
        .map_err(ApiError::from)
}

/// A list's page size unless `limit` asks for another, and the most it may ask for.
pub const DEFAULT_PAGE_SIZE: i32 = 50;
pub const MAX_PAGE_SIZE: i32 = 100;

/// The page a request asks for: `limit` items (1 to [`MAX_PAGE_SIZE`]), from where the `nextToken`
/// (the previous page's `Next-Token` header) says. A `nextToken` must name exactly the list's `key_attributes`, and
/// those in `fixed` with the given values (a customer's list goes on only in that customer's
/// items); anything else is a 400, never a DynamoDB error.
pub fn page_request(req: &Request, key_attributes: &[&str], fixed: &[(&str, &str)]) -> Result<PageRequest, ApiError> {
    let query = req.query_string_parameters_ref();
    let limit = match query.and_then(|q| q.first("limit")) {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_field",
                    format!("limit must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                )
            })?,
    };
    let start = match query.and_then(|q| q.first("nextToken")).filter(|t| !t.is_empty()) {
        None => None,
        Some(token) => Some(
            decode_next_token(token, key_attributes, fixed)
                .ok_or_else(|| ApiError::bad_request("invalid_field", "nextToken is not one this list gave out"))?,
        ),
    };
    Ok(PageRequest { limit, start })
}

fn decode_next_token(token: &str, key_attributes: &[&str], fixed: &[(&str, &str)]) -> Option<dynamo::Item> {
    let json = B64.decode(token).ok()?;
    let key: std::collections::BTreeMap<String, String> = serde_json::from_slice(&json).ok()?;
    let names_match = key.len() == key_attributes.len() && key_attributes.iter().all(|a| key.contains_key(*a));
    let fixed_match = fixed
        .iter()
        .all(|(name, value)| key.get(*name).map(String::as_str) == Some(*value));
    (names_match && fixed_match).then(|| key.into_iter().map(|(name, value)| (name, dynamo::s(value))).collect())
}

/// A page of a list: the items as a JSON array (the lists' shape since the seed), and where the
/// next page starts in the `Next-Token` header (to send back as `nextToken`) when there is more.
pub fn page_response<T: Serialize>(page: &dynamo::Page<T>) -> Response<Body> {
    let mut answer = json_response(StatusCode::OK, &page.items);
    if let Some(next) = &page.next {
        let key: std::collections::BTreeMap<&str, &str> = next
            .iter()
            .filter_map(|(name, value)| value.as_s().ok().map(|v| (name.as_str(), v.as_str())))
            .collect();
        let token = B64.encode(serde_json::to_vec(&key).expect("a key serializes"));
        answer
            .headers_mut()
            .insert("next-token", token.parse().expect("base64url is a valid header"));
    }
    answer
}

/// A request header, if present: bytes that are not text read as U+FFFD, so a value with them
/// is refused by the check of what it should be, never taken as absent.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The JSON body as `T`: 413 when too large, 400 when missing, malformed, or when a field is
/// missing, unknown or of the wrong type (serde's message names the field).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the body has {} bytes; at most {MAX_BODY_BYTES} are accepted",
                bytes.len()
            ),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("missing_body", "a JSON body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::bad_request("invalid_field", e.to_string()),
        _ => ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Restock {
        #[allow(dead_code)]
        qty: i64,
    }

    fn request(body: &str) -> Request {
        lambda_http::http::Request::builder().body(Body::from(body)).unwrap()
    }

    fn code_of<T: std::fmt::Debug>(r: Result<T, ApiError>) -> (u16, &'static str) {
        let e = r.unwrap_err();
        (e.status.as_u16(), e.code)
    }

    #[test]
    fn an_id_filter_left_out_is_none_and_an_empty_one_is_refused() {
        let query = |pairs: &[(&str, &str)]| {
            let map: std::collections::HashMap<String, String> =
                pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            request("").with_query_string_parameters(map)
        };
        assert_eq!(query_param(&query(&[]), "customerId").unwrap(), None);
        assert_eq!(
            query_param(&query(&[("customerId", "c1")]), "customerId")
                .unwrap()
                .as_deref(),
            Some("c1")
        );
        assert_eq!(code_of(query_param(&query(&[("customerId", "")]), "customerId")).0, 400);
        let first_page = page_request(&query(&[("nextToken", "")]), &["orderId"], &[]).unwrap();
        assert!(first_page.start.is_none(), "an empty nextToken is the first page");
    }

    #[test]
    fn a_header_that_is_not_text_is_read_as_such_not_as_absent() {
        let with = |value: &[u8]| {
            let value = lambda_http::http::HeaderValue::from_bytes(value).unwrap();
            let mut req = request("");
            req.headers_mut().insert("idempotency-key", value);
            header(&req, "idempotency-key")
        };
        assert_eq!(with(b"key-1").as_deref(), Some("key-1"));
        let latin = with(b"key\xe9").expect("present");
        assert!(
            crate::checks::check_id("Idempotency-Key", &latin, 64).is_err(),
            "{latin}"
        );
        assert_eq!(header(&request(""), "idempotency-key"), None);
    }

    #[test]
    fn bad_bodies_get_the_matching_4xx() {
        assert_eq!(code_of(json_body::<Restock>(&request(""))), (400, "missing_body"));
        assert_eq!(
            code_of(json_body::<Restock>(&request("{\"qty\":"))),
            (400, "malformed_json")
        );
        assert_eq!(
            code_of(json_body::<Restock>(&request("{\"qty\":\"5\"}"))),
            (400, "invalid_field")
        );
        assert_eq!(code_of(json_body::<Restock>(&request("{}"))), (400, "invalid_field"));
        assert_eq!(
            code_of(json_body::<Restock>(&request("{\"qty\":1,\"x\":2}"))),
            (400, "invalid_field")
        );
        let huge = format!("{{\"qty\":1,\"pad\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        assert_eq!(code_of(json_body::<Restock>(&request(&huge))), (413, "body_too_large"));
        assert!(json_body::<Restock>(&request("{\"qty\":5}")).is_ok());
    }

    #[test]
    fn a_next_token_goes_on_only_in_the_list_that_gave_it() {
        let page = dynamo::Page {
            items: vec![1],
            next: Some(
                [
                    ("orderId", "o-9"),
                    ("customerId", "alice"),
                    ("orderDate", "2026-11-25T01:00:00Z"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), dynamo::s(v)))
                .collect(),
            ),
        };
        let answer = page_response(&page);
        let token = answer.headers()["next-token"].to_str().unwrap();
        let keys = ["orderId", "customerId", "orderDate"];
        let start = decode_next_token(token, &keys, &[("customerId", "alice")]).unwrap();
        assert_eq!(Some(start), page.next, "the page after it starts where it ended");
        assert_eq!(
            decode_next_token(token, &keys, &[("customerId", "bob")]),
            None,
            "another's list"
        );
        assert_eq!(decode_next_token(token, &["notificationId"], &[]), None, "another list");
        assert_eq!(decode_next_token("not base64!", &keys, &[]), None);
        assert_eq!(decode_next_token(&B64.encode("[1,2]"), &keys, &[]), None);
        let last = page_response(&dynamo::Page {
            items: vec![1],
            next: None,
        });
        assert!(last.headers().get("next-token").is_none(), "the last page says so");
    }
}
