//! The HTTP API with the cloud out of reach, in process: API Gateway's requests for each route
//! the template gives a function, sent to its handler while every AWS call fails at once, as when
//! a store is down. What a client must then get is the JSON 500 with no detail of ours.

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::future::Future;

/// The token the tests' [`crate::auth::Credentials::known`] take for the operator's.
pub const OPERATOR_TOKEN: &str = "the-operators-token";

/// The SDK set up for a local port no one listens on, each call tried once: every AWS call
/// fails at once with the SDK's own error, as a store or bus that is down makes it fail.
pub async fn unreachable_cloud() -> SdkConfig {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{closed_port}"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// One request to a route: `resource` is the template's path (`/orders/{orderId}`), `path` the
/// one sent, with its query.
pub struct Call {
    pub method: &'static str,
    pub resource: &'static str,
    pub path: String,
    pub body: Option<Value>,
    /// Whether the answer needs the cloud (a store, a secret, the bus): then it must be the JSON
    /// 500; otherwise (a page, the menu) a success.
    pub needs_the_cloud: bool,
    /// The bearer token sent: the operator's unless the route wants another's.
    pub token: String,
}

impl Call {
    pub fn down(method: &'static str, resource: &'static str, path: impl Into<String>, body: Option<Value>) -> Self {
        let path = path.into();
        Self {
            method,
            resource,
            path,
            body,
            needs_the_cloud: true,
            token: OPERATOR_TOKEN.into(),
        }
    }

    pub fn still_answers(method: &'static str, resource: &'static str) -> Self {
        Self {
            method,
            resource,
            path: resource.into(),
            body: None,
            needs_the_cloud: false,
            token: OPERATOR_TOKEN.into(),
        }
    }

    /// The same call to `path` (the route's path with its parameters filled in).
    pub fn at(self, path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            ..self
        }
    }

    /// The same call with `token` instead of the operator's.
    pub fn with_token(self, token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            ..self
        }
    }

    /// The call as API Gateway's REST API hands it to the function, asking for JSON.
    pub fn request(&self) -> Request {
        let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let path_parameters: serde_json::Map<String, Value> = (self.resource.split('/'))
            .zip(path.split('/'))
            .filter_map(|(template, sent)| {
                let name = template.strip_prefix('{')?.strip_suffix('}')?;
                Some((name.to_string(), json!(sent)))
            })
            .collect();
        let query: serde_json::Map<String, Value> = (query.split('&'))
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.to_string(), json!(value)))
            .collect();
        let multi = |map: &serde_json::Map<String, Value>| -> Value {
            map.iter().map(|(k, v)| (k.clone(), json!([v]))).collect()
        };
        let headers = json!({
            "authorization": format!("Bearer {}", self.token),
            "content-type": "application/json",
            "accept": "application/json",
        });
        let event = json!({
            "resource": self.resource, "path": path, "httpMethod": self.method,
            "headers": headers, "multiValueHeaders": multi(headers.as_object().expect("an object")),
            "queryStringParameters": query, "multiValueQueryStringParameters": multi(&query),
            "pathParameters": path_parameters, "stageVariables": null,
            "requestContext": {
                "accountId": "000000000000", "resourceId": "r", "stage": "prod", "requestId": "in-process",
                "identity": {"sourceIp": "127.0.0.1", "userAgent": "tests"},
                "resourcePath": self.resource, "httpMethod": self.method, "apiId": "tests",
                "path": format!("/prod{path}"), "requestTimeEpoch": 1764032400000_i64, "protocol": "HTTP/1.1",
            },
            "body": self.body.as_ref().map(Value::to_string), "isBase64Encoded": false,
        });
        lambda_http::request::from_str(&event.to_string()).expect("an API Gateway request")
    }
}

/// Each `(method, path)` the template routes to `function` (its logical id, `OrderApiFunction`).
/// Its API events are one line each: `Name: { Type: Api, Properties: { ..., Path: /x, Method: get } }`.
pub fn routes_in_template(function: &str) -> BTreeSet<(String, String)> {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"))
        .expect("template.yaml beside the workspace");
    let start = format!("  {function}:");
    (template.lines())
        .skip_while(|line| *line != start)
        .skip(1)
        .take_while(|line| line.trim().is_empty() || line.starts_with("   ") || line.trim_start().starts_with('#'))
        .filter(|line| line.contains("Type: Api,") || line.contains("Type: Api }"))
        .map(|line| {
            // A value ends at the next comma or space, or, quoted (a path with `{param}`), at its quote.
            let field = |name: &str| {
                let rest = &line[line.find(name).unwrap_or_else(|| panic!("{name} in {line}")) + name.len()..];
                match rest.strip_prefix('"') {
                    Some(quoted) => quoted.split('"').next(),
                    None => rest.split([',', ' ']).next(),
                }
                .unwrap_or_default()
                .to_string()
            };
            (field("Method: ").to_uppercase(), field("Path: "))
        })
        .collect()
}

/// Sends every call to `handle` and checks each answer: the JSON 500 with no detail where it
/// needs the cloud, a success where it does not. The calls must reach every route the template
/// gives `function`, so a new route cannot go untested.
pub async fn every_route_with_the_cloud_down<F, Fut>(function: &str, calls: &[Call], handle: F)
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>>,
{
    let called: BTreeSet<(String, String)> = (calls.iter())
        .map(|call| (call.method.to_string(), call.resource.to_string()))
        .collect();
    assert_eq!(
        called,
        routes_in_template(function),
        "the calls reach {function}'s routes"
    );
    for call in calls {
        let what = format!("{} {}", call.method, call.path);
        let answer = handle(call.request()).await;
        let status = answer.status().as_u16();
        if !call.needs_the_cloud {
            assert!(
                answer.status().is_success(),
                "{what} needs no cloud, yet answered {status}"
            );
            continue;
        }
        let body: Value = serde_json::from_slice(answer.body().as_ref())
            .unwrap_or_else(|e| panic!("{what} answered {status} without JSON: {e}"));
        assert_eq!(status, 500, "{what}: {body}");
        assert_eq!(
            body,
            json!({"error": {"code": "internal_error", "message": "the cafe could not complete the request; try again"}}),
            "{what}: no detail of ours"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parser finds every route of the API: each API event names the REST API it belongs to.
    #[test]
    fn every_api_event_of_the_template_is_a_route_of_one_function() {
        let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
        let events = template.matches("RestApiId: !Ref CafeApi").count();
        let functions = ["Order", "Inventory", "Beverage", "Notify", "Kiosk"];
        let routes: usize = (functions.iter())
            .map(|name| routes_in_template(&format!("{name}ApiFunction")).len())
            .sum();
        assert_eq!(routes, events, "a route the parser missed would go untested");
        assert!(routes >= 34, "{routes}");
    }
}
