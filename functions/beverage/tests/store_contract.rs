//! The beverage stores' contract: each case holds for the in-memory machine (which the saga's
//! in-process tests and the simulation run) and for the DynamoDB store on the template's
//! `BeveragesTable` and `MachineTable`.

use cafe_beverage::domain::{Attempt, Take};
use cafe_beverage::store::fake::MemoryMachine;
use cafe_beverage::store::{BeverageMachine, BeverageStore, MachineSettings, Making};
use cafe_shared::events::OrderSummary;
use cafe_shared::fakes::api::unreachable_cloud;
use cafe_testkit::Tables;
use chrono::Utc;

trait Subject: BeverageMachine + MachineSettings {}
impl<T: BeverageMachine + MachineSettings> Subject for T {}

async fn fake_machine() -> MemoryMachine {
    MemoryMachine::default()
}

async fn dynamodb_machine() -> BeverageStore {
    let tables = Tables::new(&["BeveragesTable", "MachineTable"]);
    let sdk = tables.sdk().await;
    BeverageStore::new(&sdk, tables.name("BeveragesTable"), tables.name("MachineTable"))
}

cafe_testkit::contract!(
    fake: fake_machine,
    dynamodb: dynamodb_machine,
    cases: [
        a_making_records_the_attempt_and_takes_the_ingredients,
        a_redelivered_making_takes_nothing_more,
        racing_deliveries_of_one_order_make_it_once,
        of_two_orders_racing_for_the_last_beans_exactly_one_is_made,
        a_take_that_no_longer_holds_changes_nothing,
        an_ingredient_metered_since_the_reading_changes_nothing,
        a_machine_out_of_service_makes_nothing,
        a_reading_shows_the_switch_and_the_metered_levels,
        an_order_gets_one_attempt_made_or_failed,
    ]
);

fn order() -> OrderSummary {
    OrderSummary {
        order_id: uuid::Uuid::new_v4().to_string(),
        customer_id: "1".into(),
        beverage_name: "latte".into(),
        beverage_qty: 2,
        phone_number: None,
        order_number: None,
        lines: Vec::new(),
    }
}

fn take(ingredient: &str, units: u32, metered: bool) -> Take {
    Take {
        ingredient: ingredient.into(),
        units,
        metered,
    }
}

/// A latte's takes: beans and milk metered, water not.
fn latte() -> Vec<Take> {
    vec![take("beans", 2, true), take("milk", 1, true), take("water", 1, false)]
}

async fn levels(machine: &impl Subject) -> Vec<Option<u32>> {
    let reading = machine.read(&["beans", "milk", "water"]).await.unwrap();
    ["beans", "milk", "water"]
        .map(|name| reading.levels.get(name).copied())
        .into()
}

async fn stock_up(machine: &impl Subject, beans: u32, milk: u32) {
    machine.set_ingredient("beans", beans).await.unwrap();
    machine.set_ingredient("milk", milk).await.unwrap();
}

async fn a_making_records_the_attempt_and_takes_the_ingredients(machine: &impl Subject) {
    stock_up(machine, 10, 5).await;
    let made = Attempt::made(&order(), Utc::now());
    assert_eq!(
        machine.make(&made, &latte()).await.unwrap(),
        Making::Recorded(made.clone())
    );
    assert_eq!(levels(machine).await, [Some(8), Some(4), None]);
    assert_eq!(machine.attempt(made.beverage_id()).await.unwrap(), Some(made));
}

async fn a_redelivered_making_takes_nothing_more(machine: &impl Subject) {
    stock_up(machine, 10, 5).await;
    let order = order();
    let first = Attempt::made(&order, Utc::now());
    machine.make(&first, &latte()).await.unwrap();
    let again = Attempt::made(&order, Utc::now() + chrono::Duration::seconds(5));
    assert_eq!(machine.make(&again, &latte()).await.unwrap(), Making::Recorded(first));
    assert_eq!(levels(machine).await, [Some(8), Some(4), None]);
}

async fn racing_deliveries_of_one_order_make_it_once(machine: &impl Subject) {
    stock_up(machine, 10, 5).await;
    let made = Attempt::made(&order(), Utc::now());
    let takes = latte();
    let (a, b) = tokio::join!(machine.make(&made, &takes), machine.make(&made, &takes));
    assert_eq!(a.unwrap(), Making::Recorded(made.clone()));
    assert_eq!(b.unwrap(), Making::Recorded(made));
    assert_eq!(levels(machine).await, [Some(8), Some(4), None]);
}

async fn of_two_orders_racing_for_the_last_beans_exactly_one_is_made(machine: &impl Subject) {
    stock_up(machine, 2, 5).await;
    let (first, second) = (Attempt::made(&order(), Utc::now()), Attempt::made(&order(), Utc::now()));
    let takes = latte();
    let (a, b) = tokio::join!(machine.make(&first, &takes), machine.make(&second, &takes));
    let outcomes = [a.unwrap(), b.unwrap()];
    let made = outcomes.iter().filter(|o| matches!(o, Making::Recorded(_))).count();
    assert_eq!(made, 1, "exactly one order got the last beans: {outcomes:?}");
    assert!(outcomes.contains(&Making::Changed), "the other is told to read again");
    assert_eq!(levels(machine).await, [Some(0), Some(4), None]);
}

async fn a_take_that_no_longer_holds_changes_nothing(machine: &impl Subject) {
    stock_up(machine, 1, 5).await;
    let made = Attempt::made(&order(), Utc::now());
    assert_eq!(machine.make(&made, &latte()).await.unwrap(), Making::Changed);
    assert_eq!(
        levels(machine).await,
        [Some(1), Some(5), None],
        "no ingredient was taken"
    );
    assert_eq!(
        machine.attempt(made.beverage_id()).await.unwrap(),
        None,
        "no attempt recorded"
    );
}

async fn an_ingredient_metered_since_the_reading_changes_nothing(machine: &impl Subject) {
    stock_up(machine, 10, 5).await;
    // The recipe was planned with water unmetered; the operator set its level meanwhile.
    machine.set_ingredient("water", 0).await.unwrap();
    let made = Attempt::made(&order(), Utc::now());
    assert_eq!(machine.make(&made, &latte()).await.unwrap(), Making::Changed);
    assert_eq!(levels(machine).await, [Some(10), Some(5), Some(0)]);
    assert_eq!(machine.attempt(made.beverage_id()).await.unwrap(), None);
}

async fn a_machine_out_of_service_makes_nothing(machine: &impl Subject) {
    stock_up(machine, 10, 5).await;
    assert!(!machine.switch_machine(false).await.unwrap().in_service);
    let made = Attempt::made(&order(), Utc::now());
    assert_eq!(machine.make(&made, &latte()).await.unwrap(), Making::Changed);
    assert_eq!(levels(machine).await, [Some(10), Some(5), None]);
    machine.switch_machine(true).await.unwrap();
    assert_eq!(machine.make(&made, &latte()).await.unwrap(), Making::Recorded(made));
}

async fn a_reading_shows_the_switch_and_the_metered_levels(machine: &impl Subject) {
    let never_switched = machine.read(&["beans"]).await.unwrap();
    assert!(
        never_switched.state.in_service,
        "a machine never switched is in service"
    );
    assert!(never_switched.levels.is_empty(), "nothing is metered yet");
    machine.set_ingredient("beans", 7).await.unwrap();
    machine.switch_machine(false).await.unwrap();
    let reading = machine.read(&["beans", "milk"]).await.unwrap();
    assert!(!reading.state.in_service);
    assert_eq!(reading.levels, [("beans".to_string(), 7)].into());
}

async fn an_order_gets_one_attempt_made_or_failed(machine: &impl Subject) {
    let order = order();
    let failed = Attempt::failed(&order, "the beverage machine is out of order".into(), Utc::now());
    assert_eq!(machine.record_failure(&failed).await.unwrap(), failed);
    let again = Attempt::failed(&order, "beans ran out".into(), Utc::now());
    assert_eq!(
        machine.record_failure(&again).await.unwrap(),
        failed,
        "the first failure stays"
    );
    stock_up(machine, 10, 5).await;
    let made = Attempt::made(&order, Utc::now());
    assert_eq!(
        machine.make(&made, &latte()).await.unwrap(),
        Making::Recorded(failed.clone())
    );
    assert_eq!(
        levels(machine).await,
        [Some(10), Some(5), None],
        "a failed order is never made"
    );

    let made_first = order_made(machine).await;
    let late_failure = Attempt::failed(&made_first.0, "too late".into(), Utc::now());
    assert_eq!(machine.record_failure(&late_failure).await.unwrap(), made_first.1);
}

/// A new order made: its summary and its attempt.
async fn order_made(machine: &impl Subject) -> (OrderSummary, Attempt) {
    let order = order();
    let made = Attempt::made(&order, Utc::now());
    assert_eq!(
        machine.make(&made, &latte()).await.unwrap(),
        Making::Recorded(made.clone())
    );
    (order, made)
}

/// With the tables out of reach, every call is an error, never a default answer.
mod unreachable {
    use super::*;

    async fn fake_down() -> MemoryMachine {
        let machine = MemoryMachine::default();
        machine.down.set(true);
        machine
    }

    async fn dynamodb_down() -> BeverageStore {
        BeverageStore::new(&unreachable_cloud().await, "beverages".into(), "machine".into())
    }

    cafe_testkit::contract!(fake: fake_down, dynamodb: dynamodb_down, cases: [every_call_fails]);

    async fn every_call_fails(machine: &impl Subject) {
        let made = Attempt::made(&order(), Utc::now());
        assert!(machine.attempt(made.beverage_id()).await.is_err());
        assert!(machine.read(&["beans"]).await.is_err());
        assert!(machine.make(&made, &latte()).await.is_err());
        assert!(machine.record_failure(&made).await.is_err());
        assert!(machine.set_ingredient("beans", 1).await.is_err());
        assert!(machine.switch_machine(false).await.is_err());
    }
}
