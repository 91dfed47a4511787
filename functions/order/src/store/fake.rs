//! The orders and the customers table in memory, for in-process tests of the saga step and the
//! order API's use cases. Each method checks and writes what the store's one request or
//! transaction does, under one lock; `tests/store_contract.rs` holds the two to the same cases.

use super::{CodeKept, OrderBook, OrderOutcomes, Proven, Recorded, SignIns};
use crate::domain::sign_in::{CODE_TRIES, LiveCode, SignInCode};
use crate::domain::{Cafe, Kiosk, Order, OrderLimits, OrderStatus, Outcome, PlacedBy, Refusal, Registration};
use cafe_shared::Error;
use cafe_shared::auth::KioskClaim;
use cafe_shared::fakes::Outage;
use chrono::{DateTime, Days, NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub struct MemoryOrders {
    pub orders: Mutex<HashMap<String, Order>>,
    /// Every write, in order, as the table's stream carries it: the order before (none when
    /// new) and after.
    pub changes: Mutex<Vec<(Option<Order>, Order)>>,
    customers: Mutex<Customers>,
    /// While down, every call fails (as a throttled or unreachable table does).
    pub down: Outage,
}

/// The customers table's items, by what each keeps.
#[derive(Default)]
struct Customers {
    /// `customer#<id>`: the number the customer proved, if any.
    customers: HashMap<String, Option<String>>,
    /// `kiosk#<id>`: the kiosk and the hash of its secret.
    kiosks: HashMap<String, (Kiosk, String)>,
    /// The window counters (`rate#…`, `kioskrate#…`, `texts#…`), by the store's keys.
    counts: HashMap<String, u32>,
    /// `cafe`: closed once the operator closed it, the orders in progress, the day's numbers.
    closed: bool,
    in_progress: i64,
    numbers: HashMap<NaiveDate, u32>,
    /// `phone#<number>`.
    phones: HashMap<String, Phone>,
}

#[derive(Default)]
struct Phone {
    customer_id: Option<String>,
    code: Option<LiveCode>,
    code_expires_at: i64,
}

impl Customers {
    fn cafe(&self, limits: &OrderLimits) -> Cafe {
        Cafe {
            open: !self.closed,
            orders_in_progress: self.in_progress.clamp(0, u32::MAX.into()) as u32,
            max_orders_in_progress: limits.max_orders_in_progress,
        }
    }

    fn takes_orders(&self, limits: &OrderLimits) -> bool {
        !self.closed && self.in_progress < i64::from(limits.max_orders_in_progress)
    }

    fn is_registered(&self, claim: &KioskClaim) -> bool {
        (self.kiosks.get(&claim.kiosk_id)).is_some_and(|(_, hash)| *hash == claim.secret_hash)
    }

    fn full(&self, key: &str, max: u32) -> bool {
        self.counts.get(key).copied().unwrap_or(0) >= max
    }
}

/// The counters' keys, as the store writes them.
fn minute_of(at: DateTime<Utc>) -> i64 {
    at.timestamp() / 60
}

fn texts_key(phone: &str, at: DateTime<Utc>) -> String {
    format!("texts#{phone}#{}", at.timestamp() / 3600)
}

impl MemoryOrders {
    /// Stores a new order as it is, as placing one does (with none of placing's checks).
    pub fn insert(&self, order: Order) {
        let mut orders = self.orders.lock().unwrap();
        self.changes.lock().unwrap().push((None, order.clone()));
        orders.insert(order.order_id.clone(), order);
    }

    fn reachable(&self) -> Result<(), Error> {
        self.down.check("the orders tables are unreachable")
    }

    /// The customers table, once it is reachable.
    fn customers(&self) -> Result<MutexGuard<'_, Customers>, Error> {
        self.reachable()?;
        Ok(self.customers.lock().unwrap())
    }
}

impl OrderOutcomes for MemoryOrders {
    async fn record_outcome(&self, order_id: &str, outcome: &Outcome) -> Result<Option<Recorded>, Error> {
        let mut customers = self.customers()?;
        let mut orders = self.orders.lock().unwrap();
        let Some(order) = orders.get_mut(order_id) else {
            return Ok(None);
        };
        if order.order_status != outcome.from() {
            return Ok(Some(Recorded::Unmoved(order.clone())));
        }
        let before = order.clone();
        order.apply(outcome);
        if outcome.status().is_final() {
            customers.in_progress -= 1;
        }
        self.changes.lock().unwrap().push((Some(before), order.clone()));
        Ok(Some(Recorded::Moved))
    }

    async fn status_of(&self, order_id: &str) -> Result<Option<OrderStatus>, Error> {
        self.reachable()?;
        Ok(self
            .orders
            .lock()
            .unwrap()
            .get(order_id)
            .map(|order| order.order_status))
    }
}

impl OrderBook for MemoryOrders {
    async fn get(&self, order_id: &str) -> Result<Option<Order>, Error> {
        self.reachable()?;
        Ok(self.orders.lock().unwrap().get(order_id).cloned())
    }

    async fn is_registered_kiosk(&self, claim: &KioskClaim) -> Result<bool, Error> {
        Ok(self.customers()?.is_registered(claim))
    }

    async fn take_order_number(&self, at: DateTime<Utc>, limits: &OrderLimits) -> Result<Result<u32, Cafe>, Error> {
        let mut customers = self.customers()?;
        if !customers.takes_orders(limits) {
            return Ok(Err(customers.cafe(limits)));
        }
        let day = at.date_naive();
        customers
            .numbers
            .remove(&day.checked_sub_days(Days::new(1)).unwrap_or(day));
        let number = customers.numbers.entry(day).or_insert(0);
        *number += 1;
        Ok(Ok(*number))
    }

    async fn place(
        &self,
        order: &Order,
        placed_by: &PlacedBy,
        registration: Registration,
        limits: &OrderLimits,
    ) -> Result<Result<(), Refusal>, Error> {
        let mut customers = self.customers()?;
        let mut orders = self.orders.lock().unwrap();
        let minute = minute_of(order.order_date);
        let customer = &order.customer_id;
        let mut counted = vec![(format!("rate#{customer}#{minute}"), limits.orders_per_minute)];
        let mut refused = Vec::new();
        if let PlacedBy::Kiosk(claim) = placed_by {
            if !customers.is_registered(claim) {
                refused.push(Refusal::UnknownKiosk);
            }
            counted.push((
                format!("kioskrate#{}#{minute}", claim.kiosk_id),
                limits.orders_per_kiosk_per_minute,
            ));
        }
        if let Some(phone) = &order.phone_number {
            counted.push((texts_key(phone, order.order_date), limits.texts_per_hour));
        }
        if orders.contains_key(&order.order_id) {
            refused.push(Refusal::AlreadyPlaced);
        }
        if !customers.takes_orders(limits) {
            refused.push(Refusal::CafeRefused);
        }
        for (key, max) in &counted {
            if customers.full(key, *max) {
                refused.push(match key.split('#').next() {
                    Some("kioskrate") => Refusal::KioskBusy,
                    Some("texts") => Refusal::TooManyTexts,
                    _ => Refusal::TooManyOrders,
                });
            }
        }
        let proven = customers.customers.get(customer);
        match (registration, placed_by, &order.phone_number) {
            (Registration::None, PlacedBy::Customer, Some(phone)) if proven != Some(&Some(phone.clone())) => {
                refused.push(Refusal::PhoneNotProven)
            }
            (Registration::None, PlacedBy::Kiosk(_), _) if proven.is_some_and(Option::is_some) => {
                refused.push(Refusal::SignsInByPhone)
            }
            _ => {}
        }
        if registration == Registration::New && proven.is_some() {
            refused.push(Refusal::CustomerKnown);
        }
        if let Some(refusal) = Refusal::most_telling(refused) {
            return Ok(Err(refusal));
        }
        for (key, _) in counted {
            *customers.counts.entry(key).or_insert(0) += 1;
        }
        customers.in_progress += 1;
        if registration != Registration::None {
            customers.customers.entry(customer.clone()).or_insert(None);
        }
        self.changes.lock().unwrap().push((None, order.clone()));
        orders.insert(order.order_id.clone(), order.clone());
        Ok(Ok(()))
    }

    async fn cafe(&self, limits: &OrderLimits) -> Result<Cafe, Error> {
        Ok(self.customers()?.cafe(limits))
    }

    async fn set_open(&self, open: bool, limits: &OrderLimits) -> Result<Cafe, Error> {
        let mut customers = self.customers()?;
        customers.closed = !open;
        Ok(customers.cafe(limits))
    }

    async fn register_kiosk(&self, kiosk: &Kiosk, secret_hash: &str) -> Result<(), Error> {
        let mut customers = self.customers()?;
        if customers.kiosks.contains_key(&kiosk.kiosk_id) {
            return Err(format!("kiosk id {} is taken", kiosk.kiosk_id).into());
        }
        (customers.kiosks).insert(kiosk.kiosk_id.clone(), (kiosk.clone(), secret_hash.into()));
        Ok(())
    }

    async fn revoke_kiosk(&self, kiosk_id: &str) -> Result<Option<Kiosk>, Error> {
        Ok(self.customers()?.kiosks.remove(kiosk_id).map(|(kiosk, _)| kiosk))
    }
}

impl SignIns for MemoryOrders {
    async fn keep_sign_in_code(
        &self,
        phone: &str,
        code: &SignInCode,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        kiosk: Option<&KioskClaim>,
        limits: &OrderLimits,
    ) -> Result<CodeKept, Error> {
        let mut customers = self.customers()?;
        if kiosk.is_some_and(|claim| !customers.is_registered(claim)) {
            return Ok(CodeKept::UnknownKiosk);
        }
        let texts = texts_key(phone, now);
        if customers.full(&texts, limits.texts_per_hour) {
            return Ok(CodeKept::TooManyTexts);
        }
        *customers.counts.entry(texts).or_insert(0) += 1;
        let kept = customers.phones.entry(phone.into()).or_default();
        kept.code = Some(LiveCode {
            code_hash: code.hash(phone),
            salt: code.salt.clone(),
            tries: 0,
            customer_id: None,
        });
        kept.code_expires_at = expires_at.timestamp();
        Ok(CodeKept::Kept)
    }

    async fn try_sign_in_code(&self, phone: &str, now: DateTime<Utc>) -> Result<Option<LiveCode>, Error> {
        let mut customers = self.customers()?;
        let Some(kept) = customers.phones.get_mut(phone) else {
            return Ok(None);
        };
        let live = kept.code_expires_at > now.timestamp();
        let Some(code) = kept.code.as_mut().filter(|code| live && code.tries < CODE_TRIES) else {
            return Ok(None);
        };
        code.tries += 1;
        Ok(Some(LiveCode {
            customer_id: kept.customer_id.clone(),
            ..code.clone()
        }))
    }

    async fn prove_phone(
        &self,
        phone: &str,
        code: &LiveCode,
        new_customer_id: &str,
        _now: DateTime<Utc>,
    ) -> Result<Proven, Error> {
        let mut customers = self.customers()?;
        let customer_id = code.customer_id.as_deref().unwrap_or(new_customer_id).to_string();
        let kept = customers.phones.entry(phone.into()).or_default();
        let same_code = kept.code.as_ref().is_some_and(|kept| kept.code_hash == code.code_hash);
        let same_customer = kept.customer_id.as_ref().is_none_or(|id| *id == customer_id);
        if !(same_code && same_customer) {
            return Ok(Proven::CodeUsed);
        }
        kept.code = None;
        kept.customer_id = Some(customer_id.clone());
        customers.customers.insert(customer_id.clone(), Some(phone.into()));
        Ok(Proven::Customer(customer_id))
    }
}
