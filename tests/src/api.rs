//! A small client for the cafe's API, and its answers.

use super::*;

/// An answer of the cafe's API: status, JSON body, and where a list's next page starts.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The `Next-Token` header of a list with more pages.
    pub next_token: Option<String>,
}

impl Answer {
    /// The `code` of a `{"error":{...}}` answer.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    /// Sent as `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl Api {
    /// The same API, calling with this bearer token.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let next_token = response
            .headers()
            .get("next-token")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            body,
            next_token,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.put(self.url(path)).json(body)).await
    }

    /// Sends a raw body, for malformed and oversized input.
    pub async fn send_raw(&self, method: reqwest::Method, path: &str, body: impl Into<reqwest::Body>) -> Answer {
        self.send(
            self.http
                .request(method, self.url(path))
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    /// Sets a stock level as the operator's page does, creating the stock item if needed.
    pub async fn set_stock(&self, stock_name: &str, qty: u32) {
        let created = self
            .post("/inventories", &json!({"stockName": stock_name, "qty": qty}))
            .await;
        if created.status == 409 {
            let path = format!("/inventories/{stock_name}");
            assert_eq!(self.put(&path, &json!({"qty": qty})).await.status, 200);
        } else {
            assert_eq!(created.status, 201, "{created:?}");
        }
    }

    /// Places an order, which must be accepted as pending.
    pub async fn place(&self, order: Value) -> Value {
        let placed = self.post("/orders", &order).await;
        assert_eq!(placed.status, 201, "{placed:?}");
        assert_eq!(placed.body["orderStatus"], "pending");
        placed.body
    }

    /// Places an order as the kiosk page does: under an `Idempotency-Key` (`key`), sent again with
    /// the same key when the gateway answered for a function that timed out or was throttled
    /// (502, 503, 504), as a busy machine sometimes makes it. The same key never orders twice.
    pub async fn order_as_a_kiosk_does(&self, key: &str, order: &Value) -> Answer {
        let mut tries = 0;
        loop {
            let request = self
                .http
                .post(self.url("/orders"))
                .header("Idempotency-Key", key)
                .json(order);
            let answer = self.send(request).await;
            tries += 1;
            if !matches!(answer.status, 502..=504) || tries == 3 {
                return answer;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The order once it is cancelled or completed.
    pub async fn final_order(&self, order_id: &str) -> Value {
        let is_final =
            |a: &Answer| a.status == 200 && matches!(a.body["orderStatus"].as_str(), Some("cancelled" | "completed"));
        self.wait_for(&format!("/orders/{order_id}"), SAGA_TIMEOUT, is_final)
            .await
            .body
    }

    /// The customer's notifications once there are at least `count`: an order's outcome reaches
    /// the notify step through the orders table's stream, which no queue shows in flight.
    pub async fn notified(&self, customer_id: &str, count: usize) -> Vec<Value> {
        let path = format!("/notifications?customerId={customer_id}");
        let enough = |a: &Answer| a.status == 200 && a.body.as_array().is_some_and(|n| n.len() >= count);
        let answer = self.wait_for(&path, SAGA_TIMEOUT, enough).await;
        answer.body.as_array().unwrap().clone()
    }

    pub async fn notifications_of(&self, customer_id: &str) -> Vec<Value> {
        let answer = self.get(&format!("/notifications?customerId={customer_id}")).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body.as_array().unwrap().clone()
    }

    /// Polls `GET path` until `done` holds for the answer, or fails after `timeout`.
    pub async fn wait_for(&self, path: &str, timeout: Duration, done: impl Fn(&Answer) -> bool) -> Answer {
        let started = Instant::now();
        loop {
            let answer = self.get(path).await;
            if done(&answer) {
                return answer;
            }
            assert!(
                started.elapsed() < timeout,
                "GET {path} did not reach the expected state in {timeout:?}; last: {answer:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
