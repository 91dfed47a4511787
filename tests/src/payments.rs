//! What the payment provider (this test binary's localstripe) holds of an order: every payment
//! opened for it, as Stripe reports them.

use crate::PaymentProvider;
use serde_json::Value;

/// A payment as the provider has it: its status, amount and what was refunded of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPayment {
    pub status: String,
    pub amount: u64,
    pub refunded: u64,
}

/// Every payment the provider holds for the order (`metadata.orderId`).
pub async fn provider_payments(order_id: &str) -> Vec<ProviderPayment> {
    let provider = &PaymentProvider::shared().url;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let request = http
            .get(format!("{provider}{path}"))
            .basic_auth("sk_test_e2e", Some(""));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let intents = get("/v1/payment_intents?limit=100".into()).await;
    assert_eq!(intents["has_more"], false, "more payments than one page reads");
    let mut payments = Vec::new();
    for intent in intents["data"].as_array().unwrap() {
        if intent["metadata"]["orderId"] != order_id {
            continue;
        }
        let status = intent["status"].as_str().unwrap().to_string();
        let refunded = match status.as_str() {
            "succeeded" => {
                let refunds = get(format!("/v1/refunds?payment_intent={}", intent["id"].as_str().unwrap())).await;
                refunds["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["amount"].as_u64().unwrap())
                    .sum()
            }
            _ => 0,
        };
        let amount = intent["amount"].as_u64().unwrap();
        payments.push(ProviderPayment {
            status,
            amount,
            refunded,
        });
    }
    payments
}

/// What the provider kept of the order's money: taken, less refunds.
pub fn kept(payments: &[ProviderPayment]) -> u64 {
    (payments.iter().filter(|p| p.status == "succeeded"))
        .map(|p| p.amount - p.refunded)
        .sum()
}

/// Whether any of the order's payments still holds money on the card.
pub fn holds(payments: &[ProviderPayment]) -> bool {
    payments.iter().any(|p| p.status == "requires_capture")
}
