//! Placing an order: who places it, what its transaction checks and records, and which of its
//! refusals the caller hears. Rules only, no I/O.

use super::{Order, OrderError};
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
    /// What it issued: an order (and its receipt) for each, and a customer token for each new
    /// customer. Revoking the kiosk ends them all.
    #[serde(default)]
    pub orders_placed: u64,
    #[serde(default)]
    pub customer_tokens_issued: u64,
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
            orders_placed: 0,
            customer_tokens_issued: 0,
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
    /// Order texts one phone number may be sent in an hour (each order with that number is one).
    pub texts_per_hour: u32,
    /// Sign-in codes one phone number may be sent in an hour, counted apart from its order
    /// texts: asking for codes to someone's number never uses up the texts their orders need.
    pub codes_per_number_per_hour: u32,
    /// Texts one receipt or one customer may have sent in an hour.
    pub texts_per_caller_per_hour: u32,
    /// Texts one kiosk may have sent in an hour (every customer who signs in there is one).
    pub texts_per_kiosk_per_hour: u32,
    /// Texts the whole cafe may send in an hour: the most an hour's texts can cost.
    pub texts_per_cafe_per_hour: u32,
    /// The country calling codes texts may go to, such as `82`.
    pub text_country_codes: Vec<String>,
    /// Orders the cafe makes at once (placed, not yet completed or cancelled); more wait.
    pub max_orders_in_progress: u32,
    /// Beverages one order may hold (at most the API's own 50).
    pub beverages_per_order: u32,
    /// Cups one customer's orders may take in an hour.
    pub cups_per_customer_per_hour: u32,
    /// One customer's orders in progress at once: no one customer fills the cafe.
    pub orders_in_progress_per_customer: u32,
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
    /// Whether the cafe takes another order: open, with room.
    pub fn takes_orders(&self) -> bool {
        self.open && self.orders_in_progress < self.max_orders_in_progress
    }

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
    /// A quantity this cafe takes in one order (the API's own range is checked first), and,
    /// but from the operator, one that fits a customer's cups in an hour at all.
    pub fn check_quantity(&self, beverage_qty: u32, placed_by: &PlacedBy) -> Result<(), OrderError> {
        if beverage_qty > self.beverages_per_order {
            return Err(OrderError::TooManyBeverages(self.beverages_per_order));
        }
        match *placed_by != PlacedBy::Operator && beverage_qty > self.cups_per_customer_per_hour {
            true => Err(OrderError::TooManyBeverages(self.cups_per_customer_per_hour)),
            false => Ok(()),
        }
    }

    /// The number the cafe texts for `written`, in E.164: every way of writing one number
    /// (spaces, dashes, a trunk `0` after the country code) is one number, counted as one. A
    /// number that is not a phone number, or is in a country the cafe does not text, is refused.
    pub fn textable(&self, written: &str) -> Result<String, OrderError> {
        let well_formed = written.starts_with('+')
            && written.len() <= 32
            && written.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let number =
            (well_formed.then(|| phonenumber::parse(None, written).ok()).flatten()).ok_or(OrderError::PhoneNotE164)?;
        let country = number.code().value().to_string();
        if !self.text_country_codes.contains(&country) {
            let countries: Vec<String> = self.text_country_codes.iter().map(|code| format!("+{code}")).collect();
            return Err(OrderError::PhoneNotTextable(countries.join(", ")));
        }
        match phonenumber::is_valid(&number) {
            true => Ok(number.format().mode(phonenumber::Mode::E164).to_string()),
            false => Err(OrderError::PhoneNotE164),
        }
    }
}

/// Who has the cafe send a text: what a caller's texts an hour are counted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Texter {
    /// Trusted with any number, and counted only in the cafe's texts.
    Operator,
    Kiosk(String),
    /// A kiosk order's receipt, on the customer's phone: the order it shows.
    Receipt(String),
    Customer(String),
}

impl Texter {
    /// The caller's own count's name and its texts an hour; `None` for the operator.
    fn budget(&self, limits: &OrderLimits) -> Option<(String, u32)> {
        match self {
            Texter::Operator => None,
            Texter::Kiosk(kiosk_id) => Some((format!("kiosk:{kiosk_id}"), limits.texts_per_kiosk_per_hour)),
            Texter::Receipt(order_id) => Some((format!("receipt:{order_id}"), limits.texts_per_caller_per_hour)),
            Texter::Customer(customer_id) => {
                Some((format!("customer:{customer_id}"), limits.texts_per_caller_per_hour))
            }
        }
    }
}

impl PlacedBy {
    /// Who has the order's customer texted: the customer whose own token placed it, or the
    /// operator (a kiosk's order texts nobody).
    fn texter(&self, customer_id: &str) -> Texter {
        match self {
            PlacedBy::Operator => Texter::Operator,
            PlacedBy::Kiosk(claim) => Texter::Kiosk(claim.kiosk_id.clone()),
            PlacedBy::Customer => Texter::Customer(customer_id.into()),
        }
    }

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

/// The customer id the cafe gives a kiosk's walk-up customer, who types none: derived from the
/// kiosk and the request's Idempotency-Key, so that the request sent again is the same order, or
/// fresh without one.
pub fn walk_up_customer_id(kiosk_id: &str, idempotency_key: Option<&str>) -> String {
    let id = match idempotency_key {
        Some(key) => uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("walk-up\n{kiosk_id}\n{key}").as_bytes(),
        ),
        None => uuid::Uuid::new_v4(),
    };
    format!("walk-up-{}", id.simple())
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
    /// The customer has as many orders in progress as allowed.
    CustomerBusy,
    /// The order's cups would take the customer past their cups this hour.
    TooManyCups,
    /// The order's phone number has been texted as often this hour as allowed.
    TooManyTexts,
    /// The number has been sent as many sign-in codes this hour as allowed.
    TooManyCodes,
    /// The caller has had as many texts sent this hour as allowed.
    CallerTexts,
    /// The cafe has sent as many texts this hour as it allows.
    CafeTexts,
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
            Refusal::CustomerBusy => {
                OrderError::CustomerBusy(customer_id.into(), limits.orders_in_progress_per_customer)
            }
            Refusal::TooManyCups => OrderError::TooManyCups(customer_id.into(), limits.cups_per_customer_per_hour),
            Refusal::TooManyTexts => OrderError::TooManyTexts(limits.texts_per_hour),
            Refusal::TooManyCodes => OrderError::TooManyCodes(limits.codes_per_number_per_hour),
            Refusal::CallerTexts => OrderError::CallerTexts(limits.texts_per_caller_per_hour),
            Refusal::CafeTexts => OrderError::CafeTexts,
            Refusal::AlreadyPlaced | Refusal::CafeRefused | Refusal::CustomerKnown => return None,
        })
    }
}

/// A count the cafe keeps against a limit (what one customer, kiosk or number has asked of it),
/// named by what it counts and when: `rate#<customer>#<minute>`, `kioskrate#<kiosk>#<minute>`,
/// `cups#<customer>#<hour>`, `texts#<number>#<hour>`, and `active#<customer>`, a customer's orders
/// in progress, which an order gives back when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub key: String,
    /// How much one more adds.
    pub amount: u32,
    /// The most it may hold; `None`: counted, never refused.
    pub max: Option<u32>,
    /// When it may be forgotten (Unix seconds): a window after its own. `None`: kept.
    pub expires_at: Option<i64>,
}

impl Tally {
    fn new(key: String, max: Option<u32>) -> Self {
        Self {
            key,
            amount: 1,
            max,
            expires_at: None,
        }
    }

    /// Counted in the minute of `at`, forgotten a minute after it.
    fn per_minute(key: &str, at: DateTime<Utc>, max: Option<u32>) -> Self {
        let minute = at.timestamp() / 60;
        Self {
            expires_at: Some((minute + 2) * 60),
            ..Self::new(format!("{key}#{minute}"), max)
        }
    }

    /// Counted in the hour of `at`, forgotten an hour after it.
    fn per_hour(key: &str, at: DateTime<Utc>, max: Option<u32>) -> Self {
        let hour = at.timestamp() / 3600;
        Self {
            expires_at: Some((hour + 2) * 3600),
            ..Self::new(format!("{key}#{hour}"), max)
        }
    }

    /// What placing `order` counts, each with the refusal it answers when full. The operator's
    /// orders count against the customer's cups and orders in progress, but are not refused.
    pub fn of_placing(order: &Order, placed_by: &PlacedBy, limits: &OrderLimits) -> Vec<(Refusal, Tally)> {
        let at = order.order_date;
        let customer = &order.customer_id;
        let capped = |max| (*placed_by != PlacedBy::Operator).then_some(max);
        let mut counted = Vec::new();
        if let PlacedBy::Kiosk(claim) = placed_by {
            let kiosk = format!("kioskrate#{}", claim.kiosk_id);
            let kiosk_rate = Self::per_minute(&kiosk, at, Some(limits.orders_per_kiosk_per_minute));
            counted.push((Refusal::KioskBusy, kiosk_rate));
        }
        let rate = Self::per_minute(&format!("rate#{customer}"), at, Some(limits.orders_per_minute));
        counted.push((Refusal::TooManyOrders, rate));
        let active = Self::active(customer, capped(limits.orders_in_progress_per_customer));
        counted.push((Refusal::CustomerBusy, active));
        let cups = Self {
            amount: order.beverage_qty,
            ..Self::per_hour(
                &format!("cups#{customer}"),
                at,
                capped(limits.cups_per_customer_per_hour),
            )
        };
        counted.push((Refusal::TooManyCups, cups));
        if let Some(phone) = &order.phone_number {
            counted.push((Refusal::TooManyTexts, Self::texts(phone, at, limits)));
            counted.extend(Self::of_text(&placed_by.texter(customer), at, limits));
        }
        counted
    }

    /// What a sign-in code to `phone` asked by `asked_by` counts.
    pub fn of_code(phone: &str, asked_by: &Texter, at: DateTime<Utc>, limits: &OrderLimits) -> Vec<(Refusal, Tally)> {
        let codes = Self::per_hour(&format!("codes#{phone}"), at, Some(limits.codes_per_number_per_hour));
        let mut counted = vec![(Refusal::TooManyCodes, codes)];
        counted.extend(Self::of_text(asked_by, at, limits));
        counted
    }

    /// What any text counts besides its number's: its caller's texts (none for the operator's)
    /// and the cafe's.
    fn of_text(asked_by: &Texter, at: DateTime<Utc>, limits: &OrderLimits) -> Vec<(Refusal, Tally)> {
        let mut counted = Vec::new();
        if let Some((caller, max)) = asked_by.budget(limits) {
            let caller_texts = Self::per_hour(&format!("textsby#{caller}"), at, Some(max));
            counted.push((Refusal::CallerTexts, caller_texts));
        }
        let cafe = Self::per_hour("cafetexts", at, Some(limits.texts_per_cafe_per_hour));
        counted.push((Refusal::CafeTexts, cafe));
        counted
    }

    /// A customer's orders in progress.
    pub fn active(customer_id: &str, max: Option<u32>) -> Self {
        Self::new(format!("active#{customer_id}"), max)
    }

    /// The order texts a number is sent in the hour of `at`.
    pub fn texts(phone: &str, at: DateTime<Utc>, limits: &OrderLimits) -> Self {
        Self::per_hour(&format!("texts#{phone}"), at, Some(limits.texts_per_hour))
    }

    /// Whether one more fits, the counter holding `now`.
    pub fn fits(&self, now: u32) -> bool {
        self.max
            .is_none_or(|max| u64::from(now) + u64::from(self.amount) <= u64::from(max))
    }
}
