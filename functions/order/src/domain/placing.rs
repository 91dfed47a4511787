//! Placing an order: who places it, what its transaction checks and records, and which of its
//! refusals the caller hears. Rules only, no I/O.

use super::OrderError;
use cafe_shared::auth::KioskClaim;
use cafe_shared::checks::{Invalid, check_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who places an order, which decides what its transaction checks and records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacedBy {
    /// The operator: any customer; a new customer id is registered (so that no kiosk can later
    /// claim it as a new customer and read this order with the token it would get).
    Operator,
    /// A kiosk, if it is registered: a new customer's first order (their token comes with it).
    Kiosk(KioskClaim),
    /// A customer with their own token.
    Customer,
}

impl PlacedBy {
    /// A kiosk's order texts nobody: whoever stands at it could type any number. A customer
    /// proves their number by signing in (`POST /sign-in`) and orders with their own token, whose
    /// proven number the order's transaction checks; the operator is trusted with any number.
    pub fn check_phone(&self, phone_number: Option<&str>) -> Result<(), OrderError> {
        match (self, phone_number) {
            (PlacedBy::Kiosk(_), Some(_)) => Err(OrderError::PhoneNotProven),
            _ => Ok(()),
        }
    }

    pub fn kiosk_id(&self) -> Option<String> {
        match self {
            PlacedBy::Kiosk(claim) => Some(claim.kiosk_id.clone()),
            PlacedBy::Operator | PlacedBy::Customer => None,
        }
    }
}

/// A kiosk device the operator registered: its token places orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kiosk {
    pub kiosk_id: String,
    pub kiosk_name: String,
    pub registered_at: DateTime<Utc>,
}

/// The body of `POST /kiosks`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KioskRequest {
    pub kiosk_name: String,
}

impl Kiosk {
    /// A kiosk to register under `kiosk_id`, named as the operator asked (where it stands).
    pub fn register(request: KioskRequest, kiosk_id: String, now: DateTime<Utc>) -> Result<Self, Invalid> {
        check_text("kioskName", &request.kiosk_name, 64)?;
        Ok(Self {
            kiosk_id,
            kiosk_name: request.kiosk_name.trim().to_string(),
            registered_at: now,
        })
    }
}

/// How much one customer, one kiosk and one phone number may ask of the cafe (template
/// parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLimits {
    /// Orders one customer may place in a minute.
    pub orders_per_minute: u32,
    /// Orders one kiosk may place in a minute.
    pub orders_per_kiosk_per_minute: u32,
    /// Texts one phone number may be sent in an hour (each order with that number is one).
    pub texts_per_hour: u32,
    /// The country calling codes texts may go to, such as `82`.
    pub text_country_codes: Vec<String>,
    /// Orders the cafe makes at once (placed, not yet completed or cancelled); more wait.
    pub max_orders_in_progress: u32,
}

/// Whether the cafe takes orders (`GET /cafe`): open, and how full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cafe {
    pub open: bool,
    /// Placed and not yet completed or cancelled.
    pub orders_in_progress: u32,
    pub max_orders_in_progress: u32,
}

impl Cafe {
    /// Why the cafe, as it is just after it refused an order, refused it: closed, or else full
    /// (even if an order ended in the moment since).
    pub fn refusal(&self) -> OrderError {
        match self.open {
            false => OrderError::CafeClosed,
            true => OrderError::CafeBusy(self.orders_in_progress),
        }
    }
}

/// The body of `PUT /cafe`: the operator opens or closes the cafe.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OpeningRequest {
    pub open: bool,
}

impl OrderLimits {
    /// A number the cafe may text: in one of the allowed countries (calling codes are a prefix
    /// code, so a number's starts with exactly one of them).
    pub fn check_textable(&self, phone: &str) -> Result<(), OrderError> {
        let digits = phone.trim_start_matches('+');
        if self
            .text_country_codes
            .iter()
            .any(|code| digits.starts_with(code.as_str()))
        {
            return Ok(());
        }
        let countries: Vec<String> = self.text_country_codes.iter().map(|code| format!("+{code}")).collect();
        Err(OrderError::PhoneNotTextable(countries.join(", ")))
    }
}

impl PlacedBy {
    /// What the order records of its customer: a kiosk's order is a new customer's first (their
    /// token comes with it), the operator's registers the customer if they are new, and a
    /// customer's own token needs nothing recorded.
    pub fn registration(&self) -> Registration {
        match self {
            PlacedBy::Kiosk(_) => Registration::New,
            PlacedBy::Operator => Registration::IfNew,
            PlacedBy::Customer => Registration::None,
        }
    }
}

/// What placing an order records of its customer (`customer#<id>`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Registration {
    /// A new customer, whose token comes with this order: refused if they have ordered before.
    New,
    /// The customer is registered if they are not yet (nothing refused).
    IfNew,
    /// Nothing: the customer is known.
    None,
}

/// A check of the order's transaction that failed, in the order the caller hears them: the
/// first is the most telling. An unregistered kiosk explains nothing else and learns nothing (not
/// even whether an order with this id exists); an order already stored with this id explains
/// every other refusal (it is a retry).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Refusal {
    /// The kiosk token names no registered kiosk, or not with that secret (or it was revoked).
    UnknownKiosk,
    /// An order with this id is stored (a retried request with the same key).
    AlreadyPlaced,
    /// The cafe is closed or full.
    CafeRefused,
    /// Asked as the customer's first order, but they have ordered before.
    CustomerKnown,
    /// The kiosk has placed as many orders this minute as allowed.
    KioskBusy,
    /// A kiosk typed the id of a customer who signs in with their phone: only their token orders
    /// for them.
    SignsInByPhone,
    /// The customer's order asks texts to a number they have not proven.
    PhoneNotProven,
    /// The customer has placed as many orders this minute as allowed.
    TooManyOrders,
    /// The order's phone number has been texted as often this hour as allowed.
    TooManyTexts,
}

impl Refusal {
    /// The refusal the caller hears of those that failed together: the most telling.
    pub fn most_telling(failed: impl IntoIterator<Item = Refusal>) -> Option<Refusal> {
        failed.into_iter().min()
    }

    /// The refusal in the caller's words; `None` for those the placing resolves itself (a retry,
    /// the cafe as it is now, a returning customer).
    pub fn error(self, customer_id: &str, limits: &OrderLimits) -> Option<OrderError> {
        Some(match self {
            Refusal::UnknownKiosk => OrderError::UnknownKiosk,
            Refusal::KioskBusy => OrderError::KioskBusy(limits.orders_per_kiosk_per_minute),
            Refusal::SignsInByPhone => OrderError::SignsInByPhone(customer_id.into()),
            Refusal::PhoneNotProven => OrderError::PhoneNotProven,
            Refusal::TooManyOrders => OrderError::TooManyOrders(customer_id.into(), limits.orders_per_minute),
            Refusal::TooManyTexts => OrderError::TooManyTexts(limits.texts_per_hour),
            Refusal::AlreadyPlaced | Refusal::CafeRefused | Refusal::CustomerKnown => return None,
        })
    }
}
