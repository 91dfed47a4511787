//! The payment provider: Stripe's PaymentIntents with manual capture, so an order's money is held
//! when it is placed and taken only at its point of no return. Every call reads the payment's
//! state first and acts on it, so a call made again (a redelivery, a race with another step)
//! does what is still to do and no more: Stripe's `Idempotency-Key` is sent too, but a local
//! stand-in may ignore it.

use aws_config::SdkConfig;
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use bytes::Bytes;
use cafe_shared::events::PaymentDue;
use cafe_shared::{Error, config};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::future::Future;

/// What opening a payment found: the provider's id of it, or a card it refuses outright (one it
/// does not know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    Payment(String),
    Declined(String),
}

/// What charging the card found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// The amount is held on the card.
    Held,
    /// The card was declined, with the provider's words.
    Declined(String),
    /// The payment was cancelled first (its order was): nothing is held.
    Cancelled,
}

/// What taking the held money found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    Captured,
    /// The hold was let go first (its order was cancelled): nothing is taken.
    Cancelled,
}

/// What giving an order's money back found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GivenBack {
    /// No money was ever held: the payment is cancelled.
    NothingHeld,
    /// The hold is let go.
    Released,
    /// The money taken is refunded (once, however often this is called).
    Refunded,
}

/// A payment as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentState {
    pub amount: u64,
    /// Stripe's PaymentIntent status: `requires_confirmation`, `requires_capture`, `succeeded`,
    /// `canceled`, `requires_payment_method` (declined), ...
    pub status: String,
    /// What was refunded of it.
    pub refunded: u64,
    /// Why the card was last declined.
    pub declined: Option<String>,
}

/// The saga step's port to the payment provider.
pub trait Payments: Sync {
    /// Opens a payment of `due` for the order, holding nothing yet.
    fn open(&self, order_id: &str, due: &PaymentDue) -> impl Future<Output = Result<Opened, Error>> + Send;

    /// Charges the card of an open payment, holding the amount.
    fn hold(&self, payment_id: &str) -> impl Future<Output = Result<Hold, Error>> + Send;

    /// Takes the money held.
    fn capture(&self, payment_id: &str) -> impl Future<Output = Result<Capture, Error>> + Send;

    /// Lets the hold go, or refunds the money taken, or cancels a payment never charged.
    fn give_back(&self, payment_id: &str) -> impl Future<Output = Result<GivenBack, Error>> + Send;

    /// The payment as the provider has it (what the contract tests hold the fake and Stripe to).
    fn state(&self, payment_id: &str) -> impl Future<Output = Result<PaymentState, Error>> + Send;
}

/// Stripe's API (or a stand-in at `PAYMENT_PROVIDER_URL`), with the secret key kept in Secrets
/// Manager (`PAYMENT_PROVIDER_SECRET_ARN`).
#[derive(Clone)]
pub struct Stripe {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
    authorization: String,
}

/// How long one call to the provider may take before it counts as failed (and is retried).
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A call the provider answered with an error of its own.
#[derive(Debug, Deserialize)]
struct StripeError {
    error: StripeErrorBody,
}

#[derive(Debug, Deserialize)]
struct StripeErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Intent {
    id: String,
    amount: u64,
    status: String,
    #[serde(default)]
    last_payment_error: Option<StripeErrorBody>,
}

#[derive(Debug, Deserialize)]
struct Refunds {
    data: Vec<Refund>,
}

#[derive(Debug, Deserialize)]
struct Refund {
    amount: u64,
    status: String,
}

/// An answer: the object, or the provider's refusal (status and its error). A failure to retry
/// (unreachable, too slow, 5xx, 429, unreadable) is an `Err`.
enum Answer<T> {
    Ok(T),
    Refused(StatusCode, StripeErrorBody),
}

impl Stripe {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, Error> {
        let secret = aws_sdk_secretsmanager::Client::new(sdk)
            .get_secret_value()
            .secret_id(config::required_env("PAYMENT_PROVIDER_SECRET_ARN")?)
            .send()
            .await?;
        let secret_key = (secret.secret_string).ok_or("the payment provider's secret has no value")?;
        Self::new(&config::required_env("PAYMENT_PROVIDER_URL")?, secret_key.trim())
    }

    pub fn new(base: &str, secret_key: &str) -> Result<Self, Error> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            http: Client::builder(TokioExecutor::new()).build(https),
            base: base.trim_end_matches('/').to_string(),
            authorization: format!("Basic {}", B64.encode(format!("{secret_key}:"))),
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        form: &[(&str, &str)],
        idempotency_key: Option<&str>,
    ) -> Result<Answer<T>, Error> {
        let form = serde_urlencoded::to_string(form)?;
        let (uri, body) = match method {
            Method::GET if !form.is_empty() => (format!("{}{path}?{form}", self.base), String::new()),
            Method::GET => (format!("{}{path}", self.base), String::new()),
            _ => (format!("{}{path}", self.base), form),
        };
        let mut request = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::AUTHORIZATION, &self.authorization)
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let request = request.body(Full::new(Bytes::from(body)))?;
        let answer = tokio::time::timeout(CALL_TIMEOUT, async {
            let answer = self.http.request(request).await?;
            let status = answer.status();
            let body = answer.into_body().collect().await?.to_bytes();
            Ok::<_, Error>((status, body))
        });
        let (status, body) =
            (answer.await).map_err(|_| format!("the payment provider took over {CALL_TIMEOUT:?} on {path}"))??;
        if status.is_success() {
            return Ok(Answer::Ok(serde_json::from_slice(&body)?));
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(format!("the payment provider answered {status} to {path}").into());
        }
        let refused = serde_json::from_slice::<StripeError>(&body)
            .map_err(|_| format!("the payment provider answered {status} to {path}"))?;
        Ok(Answer::Refused(status, refused.error))
    }

    async fn intent(&self, payment_id: &str) -> Result<Intent, Error> {
        match (self.call(Method::GET, &intent_path(payment_id, ""), &[], None)).await? {
            Answer::Ok(intent) => Ok(intent),
            Answer::Refused(status, error) => Err(refusal(status, &error, "reading a payment")),
        }
    }

    /// Posts an action on a payment; a refusal reads the payment again (another call may have
    /// moved it: the caller decides on its state).
    async fn act(&self, payment_id: &str, action: &str, form: &[(&str, &str)], key: &str) -> Result<Intent, Error> {
        let path = intent_path(payment_id, action);
        match (self.call(Method::POST, &path, form, Some(key))).await? {
            Answer::Ok(intent) => Ok(intent),
            Answer::Refused(status, error) => {
                tracing::info!(%status, code = ?error.code, message = ?error.message, action, "refused; reading the payment");
                self.intent(payment_id).await
            }
        }
    }

    async fn refunded(&self, payment_id: &str) -> Result<u64, Error> {
        let form = [("payment_intent", payment_id), ("limit", "100")];
        match (self.call::<Refunds>(Method::GET, "/v1/refunds", &form, None)).await? {
            Answer::Ok(refunds) => Ok(refunds
                .data
                .iter()
                .filter(|r| r.status != "failed" && r.status != "canceled")
                .map(|r| r.amount)
                .sum()),
            Answer::Refused(status, error) => Err(refusal(status, &error, "reading a payment's refunds")),
        }
    }
}

fn intent_path(payment_id: &str, action: &str) -> String {
    match action {
        "" => format!("/v1/payment_intents/{payment_id}"),
        _ => format!("/v1/payment_intents/{payment_id}/{action}"),
    }
}

fn refusal(status: StatusCode, error: &StripeErrorBody, doing: &str) -> Error {
    format!(
        "the payment provider refused {doing}: {status} {} {}",
        error.code.as_deref().unwrap_or(""),
        error.message.as_deref().unwrap_or("")
    )
    .into()
}

fn declined(error: Option<&StripeErrorBody>) -> String {
    (error.and_then(|e| e.message.clone())).unwrap_or_else(|| crate::domain::DECLINED.to_string())
}

impl Payments for Stripe {
    async fn open(&self, order_id: &str, due: &PaymentDue) -> Result<Opened, Error> {
        let amount = due.amount.to_string();
        let currency = due.currency.to_lowercase();
        let form = [
            ("amount", amount.as_str()),
            ("currency", currency.as_str()),
            ("payment_method", due.payment_method.as_str()),
            ("payment_method_types[]", "card"),
            ("capture_method", "manual"),
            ("metadata[orderId]", order_id),
        ];
        let key = format!("open-{order_id}");
        match (self.call::<Intent>(Method::POST, "/v1/payment_intents", &form, Some(&key))).await? {
            Answer::Ok(intent) => Ok(Opened::Payment(intent.id)),
            // A card the provider does not take at all, refused outright (402) or unknown (Stripe:
            // 400 `resource_missing`; localstripe: 404): the customer's, not the cafe's, to mend.
            Answer::Refused(status, error)
                if status == StatusCode::PAYMENT_REQUIRED
                    || status == StatusCode::NOT_FOUND
                    || error.code.as_deref() == Some("resource_missing") =>
            {
                Ok(Opened::Declined(declined(Some(&error))))
            }
            Answer::Refused(status, error) => Err(refusal(status, &error, "opening a payment")),
        }
    }

    async fn hold(&self, payment_id: &str) -> Result<Hold, Error> {
        let mut intent = self.intent(payment_id).await?;
        if intent.status == "requires_confirmation" {
            intent = self
                .act(payment_id, "confirm", &[], &format!("hold-{payment_id}"))
                .await?;
        }
        match intent.status.as_str() {
            "requires_capture" | "succeeded" => Ok(Hold::Held),
            "canceled" => Ok(Hold::Cancelled),
            "requires_payment_method" | "requires_action" => {
                Ok(Hold::Declined(declined(intent.last_payment_error.as_ref())))
            }
            other => Err(format!("payment {payment_id} is {other} after charging its card").into()),
        }
    }

    async fn capture(&self, payment_id: &str) -> Result<Capture, Error> {
        let mut intent = self.intent(payment_id).await?;
        if intent.status == "requires_capture" {
            intent = self
                .act(payment_id, "capture", &[], &format!("capture-{payment_id}"))
                .await?;
        }
        match intent.status.as_str() {
            "succeeded" => Ok(Capture::Captured),
            "canceled" => Ok(Capture::Cancelled),
            other => Err(format!("payment {payment_id} is {other} when taking its money").into()),
        }
    }

    async fn give_back(&self, payment_id: &str) -> Result<GivenBack, Error> {
        let mut intent = self.intent(payment_id).await?;
        if matches!(
            intent.status.as_str(),
            "requires_capture" | "requires_confirmation" | "requires_payment_method" | "requires_action"
        ) {
            let was_held = intent.status == "requires_capture";
            intent = self
                .act(payment_id, "cancel", &[], &format!("cancel-{payment_id}"))
                .await?;
            if intent.status == "canceled" {
                return Ok(if was_held {
                    GivenBack::Released
                } else {
                    GivenBack::NothingHeld
                });
            }
        }
        match intent.status.as_str() {
            "succeeded" => {
                let refunded = self.refunded(payment_id).await?;
                if refunded < intent.amount {
                    let form = [("payment_intent", payment_id)];
                    let key = format!("refund-{payment_id}");
                    if let Answer::Refused(status, error) =
                        (self.call::<Refund>(Method::POST, "/v1/refunds", &form, Some(&key))).await?
                    {
                        return Err(refusal(status, &error, "refunding a payment"));
                    }
                }
                Ok(GivenBack::Refunded)
            }
            // Cancelled by an earlier call: whether it had held money the caller's record says.
            "canceled" => Ok(GivenBack::Released),
            other => Err(format!("payment {payment_id} is {other} when giving its money back").into()),
        }
    }

    async fn state(&self, payment_id: &str) -> Result<PaymentState, Error> {
        let intent = self.intent(payment_id).await?;
        Ok(PaymentState {
            amount: intent.amount,
            // Only money taken can be refunded (and localstripe lists no refunds of a payment
            // never charged).
            refunded: match intent.status.as_str() {
                "succeeded" => self.refunded(&intent.id).await?,
                _ => 0,
            },
            declined: intent.last_payment_error.and_then(|e| e.message),
            status: intent.status,
        })
    }
}

/// Stripe in memory, as Stripe's test mode (and localstripe) treat its test cards: `pm_card_visa`
/// is charged, `pm_card_chargeCustomerFail` is declined when charged, any other not `pm_card_`
/// card is unknown.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    #[derive(Debug, Clone)]
    pub struct FakePayment {
        pub order_id: String,
        pub card: String,
        pub state: PaymentState,
    }

    #[derive(Default)]
    pub struct MemoryStripe {
        pub payments: Mutex<BTreeMap<String, FakePayment>>,
        /// While down, every call fails (as an unreachable provider does).
        pub down: Outage,
    }

    /// The card Stripe's test mode declines when charged.
    pub const DECLINED_CARD: &str = "pm_card_chargeCustomerFail";

    impl MemoryStripe {
        fn reachable(&self) -> Result<(), Error> {
            self.down.check("the payment provider is unreachable")
        }

        /// Moves a payment by `step` on its state; an unknown payment is an error, as Stripe's 404.
        fn with<T>(&self, payment_id: &str, step: impl FnOnce(&mut FakePayment) -> T) -> Result<T, Error> {
            self.reachable()?;
            let mut payments = self.payments.lock().unwrap();
            let payment = (payments.get_mut(payment_id)).ok_or_else(|| format!("no payment {payment_id}"))?;
            Ok(step(payment))
        }

        /// Each order's payments as the provider has them.
        pub fn of_order(&self, order_id: &str) -> Vec<PaymentState> {
            let payments = self.payments.lock().unwrap();
            (payments.values().filter(|p| p.order_id == order_id))
                .map(|p| p.state.clone())
                .collect()
        }
    }

    impl Payments for MemoryStripe {
        async fn open(&self, order_id: &str, due: &PaymentDue) -> Result<Opened, Error> {
            self.reachable()?;
            if !due.payment_method.starts_with("pm_card_") {
                return Ok(Opened::Declined(format!(
                    "No such PaymentMethod: '{}'",
                    due.payment_method
                )));
            }
            let mut payments = self.payments.lock().unwrap();
            let id = format!("pi_{}", payments.len() + 1);
            let state = PaymentState {
                amount: due.amount,
                status: "requires_confirmation".into(),
                refunded: 0,
                declined: None,
            };
            let payment = FakePayment {
                order_id: order_id.to_string(),
                card: due.payment_method.clone(),
                state,
            };
            payments.insert(id.clone(), payment);
            Ok(Opened::Payment(id))
        }

        async fn hold(&self, payment_id: &str) -> Result<Hold, Error> {
            self.with(payment_id, |payment| {
                let state = &mut payment.state;
                if state.status == "requires_confirmation" {
                    if payment.card == DECLINED_CARD {
                        state.status = "requires_payment_method".into();
                        state.declined = Some("Your card was declined.".into());
                    } else {
                        state.status = "requires_capture".into();
                    }
                }
                match state.status.as_str() {
                    "canceled" => Hold::Cancelled,
                    "requires_payment_method" => Hold::Declined(state.declined.clone().unwrap_or_default()),
                    _ => Hold::Held,
                }
            })
        }

        async fn capture(&self, payment_id: &str) -> Result<Capture, Error> {
            self.with(payment_id, |FakePayment { state, .. }| {
                if state.status == "requires_capture" {
                    state.status = "succeeded".into();
                }
                match state.status.as_str() {
                    "succeeded" => Ok(Capture::Captured),
                    "canceled" => Ok(Capture::Cancelled),
                    other => Err(format!("payment is {other} when taking its money").into()),
                }
            })?
        }

        async fn give_back(&self, payment_id: &str) -> Result<GivenBack, Error> {
            self.with(payment_id, |FakePayment { state, .. }| match state.status.as_str() {
                "succeeded" => {
                    state.refunded = state.amount;
                    GivenBack::Refunded
                }
                "canceled" => GivenBack::Released,
                held => {
                    let was_held = held == "requires_capture";
                    state.status = "canceled".into();
                    if was_held {
                        GivenBack::Released
                    } else {
                        GivenBack::NothingHeld
                    }
                }
            })
        }

        async fn state(&self, payment_id: &str) -> Result<PaymentState, Error> {
            self.with(payment_id, |payment| payment.state.clone())
        }
    }
}
