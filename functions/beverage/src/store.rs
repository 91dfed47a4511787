//! The beverage function's tables (DynamoDB): the beverages table, one attempt per order keyed by
//! `beverageId`; and the machine table, keyed by `part` and `name`: the ingredient levels
//! (`part` = `ingredient`) and the machine's switch (`part` = `machine`, `name` = `state`).

use crate::domain::{Attempt, Ingredient, MachineReading, MachineState, Take};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, KeysAndAttributes, Put, TransactWriteItem, Update};
use cafe_shared::Error;
use cafe_shared::clock;
use cafe_shared::dynamo::SortOrder::Ascending;
use cafe_shared::dynamo::{self, Item, Page, PageRequest, n, s};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::future::Future;

/// The saga step's port: one attempt per order, and the machine it is made on.
pub trait BeverageMachine: Sync {
    /// The attempt on record for an order's beverage id, if any.
    fn attempt(&self, beverage_id: &str) -> impl Future<Output = Result<Option<Attempt>, Error>> + Send;

    /// Whether the machine is in service, and the levels of those of `ingredients` it meters.
    fn read(&self, ingredients: &[&str]) -> impl Future<Output = Result<MachineReading, Error>> + Send;

    /// Records the beverages made and takes the ingredients, all or nothing: only if the order
    /// has no attempt yet, the machine is still in service and every take still holds.
    fn make(&self, made: &Attempt, takes: &[Take]) -> impl Future<Output = Result<Making, Error>> + Send;

    /// Records a failed attempt unless the order has one; returns the one on record.
    fn record_failure(&self, failed: &Attempt) -> impl Future<Output = Result<Attempt, Error>> + Send;
}

/// The operator's port: the machine's switch and ingredient levels.
pub trait MachineSettings: Sync {
    /// Sets an ingredient's level (a refill), metering it from now on if it was not.
    fn set_ingredient(&self, name: &str, qty: u32) -> impl Future<Output = Result<Ingredient, Error>> + Send;

    /// Takes the machine out of service, or puts it back.
    fn switch_machine(&self, in_service: bool) -> impl Future<Output = Result<MachineState, Error>> + Send;
}

/// How a making went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Making {
    /// The attempt on record: this one, or one a concurrent delivery recorded first.
    Recorded(Attempt),
    /// The machine or a level changed since it was read: read again and decide again.
    Changed,
}

const INGREDIENT: &str = "ingredient";
const MACHINE: (&str, &str) = ("machine", "state");
/// The page key of the ingredient list, for `nextToken`.
pub const INGREDIENT_PAGE_KEY: [&str; 2] = ["part", "name"];
/// The making goes ahead only on a machine in service (never switched counts as in service).
const IN_SERVICE: &str = "attribute_not_exists(inService) OR inService = :yes";

fn machine_key(part: &str, name: &str) -> Item {
    HashMap::from([("part".to_string(), s(part)), ("name".to_string(), s(name))])
}

fn number(item: &Item, name: &str) -> Result<u32, Error> {
    Ok(item
        .get(name)
        .and_then(|v| v.as_n().ok())
        .ok_or(format!("machine item without {name}"))?
        .parse()?)
}

fn date(item: &Item, name: &str) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(item
        .get(name)
        .and_then(|v| v.as_s().ok())
        .map(|d| d.parse())
        .transpose()?)
}

fn ingredient(item: &Item) -> Result<Ingredient, Error> {
    Ok(Ingredient {
        ingredient_name: item
            .get("name")
            .and_then(|v| v.as_s().ok())
            .ok_or("ingredient without name")?
            .clone(),
        qty: number(item, "qty")?,
        updated_at: date(item, "updatedAt")?.ok_or("ingredient without updatedAt")?,
    })
}

fn machine_state(item: Option<&Item>) -> Result<MachineState, Error> {
    let Some(item) = item else {
        return Ok(MachineState::default());
    };
    Ok(MachineState {
        in_service: *item.get("inService").and_then(|v| v.as_bool().ok()).unwrap_or(&true),
        updated_at: date(item, "updatedAt")?,
    })
}

#[derive(Clone)]
pub struct BeverageStore {
    client: Client,
    beverages: String,
    machine: String,
}

impl BeverageStore {
    pub fn new(sdk: &SdkConfig, beverages: String, machine: String) -> Self {
        Self {
            client: Client::new(sdk),
            beverages,
            machine,
        }
    }

    /// A page of the attempts (beverages made and failed), newest first within the page.
    pub async fn list(&self, page: PageRequest) -> Result<Page<Attempt>, Error> {
        let found = dynamo::scan_page(&self.client, &self.beverages, page).await?;
        let mut attempts = found.try_map(serde_dynamo::from_item::<_, Attempt>)?;
        attempts.items.sort_by_key(|attempt| {
            std::cmp::Reverse(match attempt {
                Attempt::Made(made) => made.made_at,
                Attempt::Failed(failed) => failed.failed_at,
            })
        });
        Ok(attempts)
    }

    /// A page of the metered ingredients, A to Z.
    pub async fn ingredients(&self, page: PageRequest) -> Result<Page<Ingredient>, Error> {
        let part = ("part", INGREDIENT);
        let found = dynamo::query_page(&self.client, &self.machine, None, part, Ascending, page).await?;
        found.try_map(|item| ingredient(&item))
    }

    pub async fn ingredient(&self, name: &str) -> Result<Option<Ingredient>, Error> {
        let item = dynamo::get_item(&self.client, &self.machine, machine_key(INGREDIENT, name)).await?;
        item.as_ref().map(ingredient).transpose()
    }

    pub async fn machine_state(&self) -> Result<MachineState, Error> {
        let item = dynamo::get_item(&self.client, &self.machine, machine_key(MACHINE.0, MACHINE.1)).await?;
        machine_state(item.as_ref())
    }

    /// The write that makes one take: a metered ingredient goes down, never below zero; an
    /// unmetered one must still be unmetered.
    fn take(&self, take: &Take, now: &AttributeValue) -> Result<TransactWriteItem, Error> {
        let key = machine_key(INGREDIENT, &take.ingredient);
        Ok(match take.metered {
            true => TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.machine)
                        .set_key(Some(key))
                        .update_expression("SET qty = qty - :units, updatedAt = :now")
                        .condition_expression("qty >= :units")
                        .expression_attribute_values(":units", n(take.units))
                        .expression_attribute_values(":now", now.clone())
                        .build()?,
                )
                .build(),
            false => TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(&self.machine)
                        .set_key(Some(key))
                        .condition_expression("attribute_not_exists(qty)")
                        .build()?,
                )
                .build(),
        })
    }
}

impl MachineSettings for BeverageStore {
    async fn set_ingredient(&self, name: &str, qty: u32) -> Result<Ingredient, Error> {
        let level = Ingredient {
            ingredient_name: name.to_string(),
            qty,
            updated_at: clock::now(),
        };
        let mut row = machine_key(INGREDIENT, name);
        row.insert("qty".into(), n(qty));
        row.insert("updatedAt".into(), s(level.updated_at.to_rfc3339()));
        (self.client.put_item().table_name(&self.machine).set_item(Some(row)))
            .send()
            .await?;
        Ok(level)
    }

    async fn switch_machine(&self, in_service: bool) -> Result<MachineState, Error> {
        let state = MachineState {
            in_service,
            updated_at: Some(clock::now()),
        };
        let mut row = machine_key(MACHINE.0, MACHINE.1);
        row.insert("inService".into(), AttributeValue::Bool(in_service));
        row.insert("updatedAt".into(), s(clock::now().to_rfc3339()));
        (self.client.put_item().table_name(&self.machine).set_item(Some(row)))
            .send()
            .await?;
        Ok(state)
    }
}

impl BeverageMachine for BeverageStore {
    async fn attempt(&self, beverage_id: &str) -> Result<Option<Attempt>, Error> {
        let item = dynamo::get_item(&self.client, &self.beverages, dynamo::key("beverageId", beverage_id)).await?;
        Ok(item.map(serde_dynamo::from_item).transpose()?)
    }

    /// One consistent batch read of the switch and the recipe's ingredients.
    async fn read(&self, ingredients: &[&str]) -> Result<MachineReading, Error> {
        let mut keys = KeysAndAttributes::builder().consistent_read(true);
        keys = keys.keys(machine_key(MACHINE.0, MACHINE.1));
        for name in ingredients {
            keys = keys.keys(machine_key(INGREDIENT, name));
        }
        let out = (self.client.batch_get_item())
            .request_items(&self.machine, keys.build()?)
            .send()
            .await?;
        if out.unprocessed_keys.as_ref().is_some_and(|left| !left.is_empty()) {
            return Err("the machine table did not answer every key; try again".into());
        }
        let items = out
            .responses
            .unwrap_or_default()
            .remove(&self.machine)
            .unwrap_or_default();
        let part_of = |item: &Item| item.get("part").and_then(|v| v.as_s().ok()).cloned();
        let mut reading = MachineReading::default();
        for item in &items {
            match part_of(item).as_deref() {
                Some(INGREDIENT) => {
                    let level = ingredient(item)?;
                    reading.levels.insert(level.ingredient_name, level.qty);
                }
                _ => reading.state = machine_state(Some(item))?,
            }
        }
        Ok(reading)
    }

    async fn make(&self, made: &Attempt, takes: &[Take]) -> Result<Making, Error> {
        let record = Put::builder()
            .table_name(&self.beverages)
            .set_item(Some(serde_dynamo::to_item(made)?))
            .condition_expression("attribute_not_exists(beverageId)")
            .build()?;
        let in_service = ConditionCheck::builder()
            .table_name(&self.machine)
            .set_key(Some(machine_key(MACHINE.0, MACHINE.1)))
            .condition_expression(IN_SERVICE)
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .build()?;
        let now = s(clock::now().to_rfc3339());
        let mut transaction = (self.client.transact_write_items())
            .transact_items(TransactWriteItem::builder().put(record).build())
            .transact_items(TransactWriteItem::builder().condition_check(in_service).build());
        for take in takes {
            transaction = transaction.transact_items(self.take(take, &now)?);
        }
        let failed = dynamo::failed_conditions(transaction.send().await)?;
        if failed.is_empty() {
            return Ok(Making::Recorded(made.clone()));
        }
        if failed.contains(&0) {
            let on_record = self.attempt(made.beverage_id()).await?;
            return Ok(Making::Recorded(
                on_record.ok_or("attempt vanished after a conflicting write")?,
            ));
        }
        Ok(Making::Changed)
    }

    async fn record_failure(&self, failed: &Attempt) -> Result<Attempt, Error> {
        let item = serde_dynamo::to_item(failed)?;
        if dynamo::put_if_absent(&self.client, &self.beverages, item, "beverageId").await? {
            return Ok(failed.clone());
        }
        (self.attempt(failed.beverage_id()).await?).ok_or_else(|| "attempt vanished after a conflicting write".into())
    }
}

/// The machine in memory, for in-process tests of the saga step.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[derive(Default)]
    pub struct MemoryMachine {
        pub attempts: Mutex<HashMap<String, Attempt>>,
        /// The metered ingredients' levels.
        pub levels: Mutex<HashMap<String, u32>>,
        pub out_of_order: AtomicBool,
        /// While down, every call fails (as a throttled or unreachable table does).
        pub down: Outage,
    }

    impl MemoryMachine {
        fn reachable(&self) -> Result<(), Error> {
            self.down.check("the beverage tables are unreachable")
        }

        pub fn level(&self, name: &str) -> Option<u32> {
            self.levels.lock().unwrap().get(name).copied()
        }
    }

    impl MachineSettings for MemoryMachine {
        async fn set_ingredient(&self, name: &str, qty: u32) -> Result<Ingredient, Error> {
            self.reachable()?;
            self.levels.lock().unwrap().insert(name.into(), qty);
            Ok(Ingredient {
                ingredient_name: name.into(),
                qty,
                updated_at: clock::now(),
            })
        }

        async fn switch_machine(&self, in_service: bool) -> Result<MachineState, Error> {
            self.reachable()?;
            self.out_of_order.store(!in_service, Ordering::SeqCst);
            Ok(MachineState {
                in_service,
                updated_at: Some(clock::now()),
            })
        }
    }

    impl BeverageMachine for MemoryMachine {
        async fn attempt(&self, beverage_id: &str) -> Result<Option<Attempt>, Error> {
            self.reachable()?;
            Ok(self.attempts.lock().unwrap().get(beverage_id).cloned())
        }

        async fn read(&self, ingredients: &[&str]) -> Result<MachineReading, Error> {
            self.reachable()?;
            let levels = self.levels.lock().unwrap();
            Ok(MachineReading {
                state: MachineState {
                    in_service: !self.out_of_order.load(Ordering::SeqCst),
                    updated_at: None,
                },
                levels: (ingredients.iter())
                    .filter_map(|name| levels.get(*name).map(|qty| (name.to_string(), *qty)))
                    .collect(),
            })
        }

        async fn make(&self, made: &Attempt, takes: &[Take]) -> Result<Making, Error> {
            self.reachable()?;
            // One lock over all, as the store's transaction is one.
            let mut attempts = self.attempts.lock().unwrap();
            if let Some(on_record) = attempts.get(made.beverage_id()) {
                return Ok(Making::Recorded(on_record.clone()));
            }
            let mut levels = self.levels.lock().unwrap();
            let holds = |take: &Take| match (take.metered, levels.get(&take.ingredient)) {
                (true, Some(level)) => *level >= take.units,
                (false, None) => true,
                _ => false,
            };
            if self.out_of_order.load(Ordering::SeqCst) || !takes.iter().all(holds) {
                return Ok(Making::Changed);
            }
            for take in takes.iter().filter(|take| take.metered) {
                *levels.get_mut(&take.ingredient).unwrap() -= take.units;
            }
            attempts.insert(made.beverage_id().to_string(), made.clone());
            Ok(Making::Recorded(made.clone()))
        }

        async fn record_failure(&self, failed: &Attempt) -> Result<Attempt, Error> {
            self.reachable()?;
            let mut attempts = self.attempts.lock().unwrap();
            Ok(attempts
                .entry(failed.beverage_id().to_string())
                .or_insert_with(|| failed.clone())
                .clone())
        }
    }
}
