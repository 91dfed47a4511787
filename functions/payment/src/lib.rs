//! payment: takes each order's money as the saga goes. `OrderPlaced` holds the amount on the
//! customer's card (`PaymentAuthorized`, or `PaymentDeclined`), and only then are cups reserved;
//! `OrderMaking`, the point of no return, takes it (`PaymentCaptured`); `OrderCancelled` lets a
//! hold go (`PaymentReleased`) or gives taken money back (`PaymentRefunded`).

pub mod domain;
pub mod handlers;
pub mod provider;
pub mod saga;
pub mod store;

use cafe_shared::{Error, bus::EventBus, config};
use provider::Stripe;
use store::PaymentStore;

/// The payment saga Lambda's state, built once per cold start.
pub struct PaymentSaga {
    pub store: PaymentStore,
    pub provider: Stripe,
    pub bus: EventBus,
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
}

impl PaymentSaga {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: PaymentStore::new(&sdk, config::required_env("PAYMENTS_TABLE")?),
            provider: Stripe::from_env(&sdk).await?,
            bus: EventBus::from_env(&sdk, "payment")?,
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk)?,
        })
    }
}

cafe_shared::lambda_entry_points!(saga: PaymentSaga);
