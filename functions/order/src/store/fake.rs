//! The orders and the customers table in memory, for in-process tests of the saga step and the
//! order API's use cases. Each method checks and writes what the store's one request or
//! transaction does, under one lock; `tests/store_contract.rs` holds the two to the same cases.

use super::{OrderBook, OrderOutcomes, Proven, Recorded, SignIns};
use crate::domain::sign_in::{CODE_TRIES, LiveCode, SignInCode, handle_key};
use crate::domain::{
    Cafe, Kiosk, Order, OrderLimits, OrderStatus, Outcome, PlacedBy, PriceList, PriceSetting, Refusal, Registration,
    Tally, Texter,
};
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
    /// The counters ([`Tally`]), by their keys.
    counts: HashMap<String, i64>,
    /// `cafe`: closed once the operator closed it, the orders in progress, the day's numbers.
    closed: bool,
    in_progress: i64,
    numbers: HashMap<NaiveDate, u32>,
    /// `phone#<number>`: the customer the number signs in as.
    phones: HashMap<String, String>,
    /// The operator's price list, on the cafe's item.
    prices: PriceList,
    /// `code#<handle key>`.
    codes: HashMap<String, KeptCode>,
}

struct KeptCode {
    phone: String,
    code_hash: String,
    salt: String,
    tries: u32,
    expires_at: i64,
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
        self.cafe(limits).takes_orders()
    }

    fn is_registered(&self, claim: &KioskClaim) -> bool {
        (self.kiosks.get(&claim.kiosk_id)).is_some_and(|(_, hash)| *hash == claim.secret_hash)
    }

    fn fits(&self, tally: &Tally) -> bool {
        let now = self.counts.get(&tally.key).copied().unwrap_or(0);
        tally.fits(now.clamp(0, u32::MAX.into()) as u32)
    }

    fn count(&mut self, tally: &Tally, amount: i64) {
        *self.counts.entry(tally.key.clone()).or_insert(0) += amount;
    }
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
    async fn record_outcome(
        &self,
        order_id: &str,
        customer_id: &str,
        outcome: &Outcome,
    ) -> Result<Option<Recorded>, Error> {
        let mut customers = self.customers()?;
        let mut orders = self.orders.lock().unwrap();
        let Some(order) = orders.get_mut(order_id) else {
            return Ok(None);
        };
        if order.order_status != outcome.from() {
            return Ok(Some(Recorded::Unmoved(Box::new(order.clone()))));
        }
        let before = order.clone();
        order.apply(outcome);
        if outcome.status().is_final() {
            customers.in_progress -= 1;
            customers.count(&Tally::active(customer_id, None), -1);
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

    async fn place(
        &self,
        order: &Order,
        placed_by: &PlacedBy,
        registration: Registration,
        limits: &OrderLimits,
    ) -> Result<Result<u32, Refusal>, Error> {
        let mut customers = self.customers()?;
        let mut orders = self.orders.lock().unwrap();
        let customer = &order.customer_id;
        let counted = Tally::of_placing(order, placed_by, limits);
        let mut refused = Vec::new();
        if let PlacedBy::Kiosk(claim) = placed_by
            && !customers.is_registered(claim)
        {
            refused.push(Refusal::UnknownKiosk);
        }
        if orders.contains_key(&order.order_id) {
            refused.push(Refusal::AlreadyPlaced);
        }
        if !customers.takes_orders(limits) {
            refused.push(Refusal::CafeRefused);
        }
        for (refusal, tally) in &counted {
            if !customers.fits(tally) {
                refused.push(*refusal);
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
        for (_, tally) in &counted {
            customers.count(tally, tally.amount.into());
        }
        customers.in_progress += 1;
        if let PlacedBy::Kiosk(claim) = placed_by
            && let Some((kiosk, _)) = customers.kiosks.get_mut(&claim.kiosk_id)
        {
            kiosk.orders_placed += 1;
            kiosk.customer_tokens_issued += u64::from(registration == Registration::New);
        }
        if registration != Registration::None {
            customers.customers.entry(customer.clone()).or_insert(None);
        }
        let day = order.order_date.date_naive();
        (customers.numbers).remove(&day.checked_sub_days(Days::new(1)).unwrap_or(day));
        let number = customers.numbers.entry(day).or_insert(0);
        *number += 1;
        let numbered = Order {
            order_number: Some(*number),
            ..order.clone()
        };
        self.changes.lock().unwrap().push((None, numbered.clone()));
        orders.insert(order.order_id.clone(), numbered);
        Ok(Ok(*number))
    }

    async fn cafe(&self, limits: &OrderLimits) -> Result<Cafe, Error> {
        Ok(self.customers()?.cafe(limits))
    }

    async fn price_list(&self) -> Result<PriceList, Error> {
        Ok(self.customers()?.prices.clone())
    }

    async fn set_price(&self, beverage_name: &str, setting: &PriceSetting) -> Result<PriceList, Error> {
        let mut customers = self.customers()?;
        let set = customers.prices.entry(beverage_name.to_string()).or_default();
        set.price = setting.price.or(set.price);
        set.on_sale = setting.on_sale.or(set.on_sale);
        Ok(customers.prices.clone())
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

    async fn kiosk(&self, kiosk_id: &str) -> Result<Option<Kiosk>, Error> {
        Ok(self.customers()?.kiosks.get(kiosk_id).map(|(kiosk, _)| kiosk.clone()))
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
        asked_by: &Texter,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        kiosk: Option<&KioskClaim>,
        limits: &OrderLimits,
    ) -> Result<Result<(), Refusal>, Error> {
        let mut customers = self.customers()?;
        let counted = Tally::of_code(phone, asked_by, now, limits);
        let mut refused = Vec::new();
        if kiosk.is_some_and(|claim| !customers.is_registered(claim)) {
            refused.push(Refusal::UnknownKiosk);
        }
        for (refusal, tally) in &counted {
            if !customers.fits(tally) {
                refused.push(*refusal);
            }
        }
        if let Some(refusal) = Refusal::most_telling(refused) {
            return Ok(Err(refusal));
        }
        for (_, tally) in &counted {
            customers.count(tally, tally.amount.into());
        }
        let kept = KeptCode {
            phone: phone.into(),
            code_hash: code.hash(phone),
            salt: code.salt.clone(),
            tries: 0,
            expires_at: expires_at.timestamp(),
        };
        customers.codes.insert(handle_key(&code.handle), kept);
        Ok(Ok(()))
    }

    async fn try_sign_in_code(&self, handle: &str, phone: &str, now: DateTime<Utc>) -> Result<Option<LiveCode>, Error> {
        let mut customers = self.customers()?;
        let key = handle_key(handle);
        let Some(kept) = customers.codes.get_mut(&key) else {
            return Ok(None);
        };
        if !(kept.phone == phone && kept.expires_at > now.timestamp() && kept.tries < CODE_TRIES) {
            return Ok(None);
        }
        kept.tries += 1;
        let (code_hash, salt, tries) = (kept.code_hash.clone(), kept.salt.clone(), kept.tries);
        Ok(Some(LiveCode {
            handle_key: key,
            code_hash,
            salt,
            tries,
            customer_id: customers.phones.get(phone).cloned(),
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
        let kept = customers.codes.get(&code.handle_key);
        let same_code = kept.is_some_and(|kept| kept.code_hash == code.code_hash);
        let same_customer = customers.phones.get(phone).is_none_or(|id| *id == customer_id);
        if !(same_code && same_customer) {
            return Ok(Proven::CodeUsed);
        }
        customers.codes.remove(&code.handle_key);
        customers.phones.insert(phone.into(), customer_id.clone());
        customers.customers.insert(customer_id.clone(), Some(phone.into()));
        Ok(Proven::Customer(customer_id))
    }
}
