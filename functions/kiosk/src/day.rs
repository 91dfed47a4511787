//! The day at a glance on the operator's page, with no I/O: each order is counted once, when it
//! ends, in the hour it ended in (completed, or cancelled for a cause), and the page reads the
//! last 24 of those hours, so a busy day costs no more to show than a quiet one. The same
//! hours keep the alerts raised for the operator: cups or an ingredient that the levels an event
//! reports show running out within the hour at the current rate, a stock item short of cups, the
//! machine out of service, each at most once an hour.

use crate::domain::KioskOrder;
use cafe_shared::events::{CafeEvent, lines_of};
use cafe_shared::menu::Menu;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many hours the page shows.
pub const HOURS_SHOWN: i64 = 24;

/// The cause the page gives every order cancelled for want of cups, whatever its count was.
pub const OUT_OF_CUPS: &str = "out of cups";

/// How an order ended, as its hour counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Made: how many of each beverage, and how long it took from order to ready, to the second.
    Completed {
        made: Vec<(String, u32)>,
        ready_seconds: i64,
    },
    /// Cancelled, and why (see [`cause_of`]).
    Cancelled { cause: String },
}

/// An order that ended, and the hour (its start) it ended in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub hour: DateTime<Utc>,
    pub outcome: Outcome,
}

/// The steps that cancel an order; the first of them is when it ended.
const CANCELLING: [&str; 3] = ["CupOutOfStock", "BeverageFailed", "OrderCancelled"];

/// What to count of an order's view: nothing until it has ended and its placing is known (the
/// time to ready runs from it), nor once it was counted. The hour and cause come from the steps
/// themselves, so whichever event completes the picture counts the same.
pub fn ended(view: &KioskOrder) -> Option<Ended> {
    if view.counted {
        return None;
    }
    let at = |event: &str| view.timeline.iter().find(|s| s.event == event).map(|s| s.at);
    at("OrderPlaced")?;
    match view.order_status.as_str() {
        "completed" => {
            let ready = at("OrderCompleted")?;
            let taken = (ready - view.order_date).num_milliseconds().max(0);
            Some(Ended {
                hour: hour_of(ready),
                outcome: Outcome::Completed {
                    made: (lines_of(&view.lines, &view.beverage_name, view.beverage_qty).into_iter())
                        .map(|line| (line.beverage_name, line.beverage_qty))
                        .collect(),
                    ready_seconds: (taken + 500) / 1000,
                },
            })
        }
        "cancelled" => {
            let cancelled = (view.timeline.iter())
                .filter(|s| CANCELLING.contains(&s.event.as_str()))
                .map(|s| s.at)
                .min()?;
            Some(Ended {
                hour: hour_of(cancelled),
                outcome: Outcome::Cancelled { cause: cause_of(view) },
            })
        }
        _ => None,
    }
}

/// Why an order was cancelled, as the chart groups it: its reason, but one cause for every
/// shortage of cups (their reasons name how many were asked).
pub fn cause_of(view: &KioskOrder) -> String {
    if view.timeline.iter().any(|s| s.event == "CupOutOfStock") {
        return OUT_OF_CUPS.to_string();
    }
    view.reason.clone().unwrap_or_else(|| "no reason given".to_string())
}

/// The start of the hour `at` falls in.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).expect("an hour divides any time")
}

/// The hours the page shows at `now`, oldest first, the current one last.
pub fn hours_up_to(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let current = hour_of(now);
    (0..HOURS_SHOWN)
        .rev()
        .map(|back| current - Duration::hours(back))
        .collect()
}

/// What ended in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HourCounts {
    /// The hour's start.
    pub hour: DateTime<Utc>,
    pub completed: u32,
    /// Orders cancelled, by cause.
    pub cancelled: BTreeMap<String, u32>,
    /// Beverages made, by name.
    pub made: BTreeMap<String, u32>,
    /// Each completed order's time from order to ready, in seconds.
    #[serde(skip)]
    pub ready_seconds: Vec<i64>,
    /// The alerts raised in the hour, by subject (a stock item, an ingredient, [`MACHINE`]).
    #[serde(skip)]
    pub alerts: BTreeMap<String, String>,
}

impl HourCounts {
    pub fn empty(hour: DateTime<Utc>) -> Self {
        Self {
            hour,
            ..Self::default()
        }
    }
}

/// How long orders took from order to ready.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadyTimes {
    pub orders: usize,
    pub median_seconds: f64,
    pub slowest_seconds: i64,
}

/// How fast a stock item or an ingredient is going: what completed orders took of it over the
/// current and the previous hour, and that as a rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub name: String,
    pub used: u32,
    pub per_hour: f64,
}

/// An alert raised for the operator, sent to the operator's topic and shown on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// The hour it was raised in (it is raised at most once an hour).
    pub hour: DateTime<Utc>,
    pub subject: String,
    pub message: String,
}

/// The subject of the machine's alert.
pub const MACHINE: &str = "machine";

/// What the operator is told when an order fails on a machine out of service.
pub const MACHINE_ALERT: &str =
    "The beverage machine is out of service: every order is cancelled until it is put back in service.";

/// How soon a running-out item is worth an alert.
const ALERT_WITHIN_MINUTES: f64 = 60.0;

/// The levels an event reports: the cups left after a reservation, the ingredients after making.
pub fn levels_in(event: &CafeEvent) -> BTreeMap<String, u32> {
    match event {
        CafeEvent::CupStockDecreased(reserved) => (reserved.cups_left)
            .map(|left| BTreeMap::from([(reserved.stock_name.clone(), left)]))
            .unwrap_or_default(),
        CafeEvent::BeverageMade(made) => made.ingredients_left.clone(),
        _ => BTreeMap::new(),
    }
}

/// The alerts these levels call for at these rates: each item that runs out within the hour.
pub fn running_out(levels: &BTreeMap<String, u32>, usage: &[Usage]) -> Vec<(String, String)> {
    usage
        .iter()
        .filter_map(|going| {
            let left = *levels.get(&going.name)?;
            let minutes = f64::from(left) * 60.0 / going.per_hour;
            (going.per_hour > 0.0 && minutes < ALERT_WITHIN_MINUTES).then(|| {
                let (name, rate) = (&going.name, going.per_hour);
                let message = match left {
                    0 => format!("{name} has run out (it goes at {rate:.1} an hour): restock it."),
                    _ => format!(
                        "{name} runs out in about {} min at the current rate ({left} left, {rate:.1} an hour): restock it.",
                        minutes.floor()
                    ),
                };
                (name.clone(), message)
            })
        })
        .collect()
}

/// The operator page's day: the last 24 hours, by hour and in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayAtAGlance {
    pub now: DateTime<Utc>,
    /// Oldest first; an hour nothing ended in shows zeros.
    pub hours: Vec<HourCounts>,
    pub completed: u32,
    pub cancelled: BTreeMap<String, u32>,
    /// None before the first completed order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_to_ready: Option<ReadyTimes>,
    /// Over how many minutes the rates are taken (the previous hour and the current one so far).
    pub rate_minutes: i64,
    /// Cups (each beverage's stock item) and ingredients (its recipe), by name.
    pub usage: Vec<Usage>,
    /// The alerts of the 24 hours, newest first.
    pub alerts: Vec<Alert>,
}

/// The day made of these hours' counts (`hours_up_to(now)`, as read), with each item's rate of
/// use by the menu's recipes.
pub fn day_at_a_glance(hours: Vec<HourCounts>, menu: &Menu, now: DateTime<Utc>) -> DayAtAGlance {
    let mut cancelled = BTreeMap::new();
    let mut ready: Vec<i64> = Vec::new();
    let mut alerts = Vec::new();
    for hour in &hours {
        for (cause, count) in &hour.cancelled {
            *cancelled.entry(cause.clone()).or_insert(0) += count;
        }
        ready.extend(&hour.ready_seconds);
        alerts.extend((hour.alerts.iter()).map(|(subject, message)| Alert {
            hour: hour.hour,
            subject: subject.clone(),
            message: message.clone(),
        }));
    }
    alerts.reverse();
    let (rate_minutes, usage) = usage(&hours, menu, now);
    DayAtAGlance {
        now,
        completed: hours.iter().map(|h| h.completed).sum(),
        cancelled,
        order_to_ready: ready_times(ready),
        rate_minutes,
        usage,
        alerts,
        hours,
    }
}

/// How fast each item goes at `now`, by what the completed orders of the previous hour and the
/// current one took (the hours given may be more): over how many minutes, and each item's use.
pub fn usage(hours: &[HourCounts], menu: &Menu, now: DateTime<Utc>) -> (i64, Vec<Usage>) {
    let rate_since = hour_of(now) - Duration::hours(1);
    let mut used: BTreeMap<String, u32> = BTreeMap::new();
    for hour in hours.iter().filter(|h| h.hour >= rate_since) {
        for (beverage, qty) in &hour.made {
            let Some(item) = menu.find(beverage) else { continue };
            *used.entry(item.stock_name.clone()).or_insert(0) += qty;
            for (ingredient, per_cup) in &item.recipe {
                *used.entry(ingredient.clone()).or_insert(0) += per_cup * qty;
            }
        }
    }
    let rate_minutes = (now - rate_since).num_minutes().max(1);
    let usage = (used.into_iter())
        .map(|(name, used)| Usage {
            per_hour: f64::from(used) * 60.0 / rate_minutes as f64,
            name,
            used,
        })
        .collect();
    (rate_minutes, usage)
}

fn ready_times(mut seconds: Vec<i64>) -> Option<ReadyTimes> {
    seconds.sort_unstable();
    let (orders, middle) = (seconds.len(), seconds.len() / 2);
    let median = match orders {
        0 => return None,
        n if n % 2 == 1 => seconds[middle] as f64,
        _ => (seconds[middle - 1] + seconds[middle]) as f64 / 2.0,
    };
    Some(ReadyTimes {
        orders,
        median_seconds: median,
        slowest_seconds: *seconds.last()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TimelineStep;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn view(status: &str, steps: &[(&str, &str)]) -> KioskOrder {
        KioskOrder {
            order_id: "o-1".into(),
            customer_id: "1".into(),
            beverage_name: "latte".into(),
            beverage_qty: 2,
            order_date: at("2026-12-07T09:59:58.600Z"),
            order_number: Some(1),
            order_status: status.into(),
            reason: None,
            notification: None,
            watched: false,
            counted: false,
            timeline: (steps.iter())
                .map(|(event, time)| TimelineStep {
                    event: event.to_string(),
                    at: at(time),
                    summary: String::new(),
                })
                .collect(),
            lines: Vec::new(),
            total: None,
            currency: None,
        }
    }

    #[test]
    fn a_completed_order_counts_in_the_hour_it_was_ready_with_its_time_to_ready() {
        let done = view(
            "completed",
            &[
                ("OrderPlaced", "2026-12-07T09:59:58Z"),
                ("OrderCompleted", "2026-12-07T10:00:02Z"),
            ],
        );
        assert_eq!(
            ended(&done),
            Some(Ended {
                hour: at("2026-12-07T10:00:00Z"),
                outcome: Outcome::Completed {
                    made: vec![("latte".into(), 2)],
                    ready_seconds: 3,
                },
            })
        );
        assert_eq!(ended(&KioskOrder { counted: true, ..done }), None, "counted once");
    }

    #[test]
    fn an_order_counts_only_once_it_ended_and_its_placing_is_known() {
        let pending = view("pending", &[("OrderPlaced", "2026-12-07T09:59:58Z")]);
        assert_eq!(ended(&pending), None);
        let unplaced = view("completed", &[("OrderCompleted", "2026-12-07T10:00:02Z")]);
        assert_eq!(ended(&unplaced), None, "the order date is not known yet");
    }

    #[test]
    fn a_cancellation_counts_when_its_first_step_came_for_its_cause() {
        let mut short = view(
            "cancelled",
            &[
                ("OrderPlaced", "2026-12-07T09:59:58Z"),
                ("OrderCancelled", "2026-12-07T10:00:01Z"),
                ("CupOutOfStock", "2026-12-07T09:59:59Z"),
            ],
        );
        short.reason = Some("not enough cups for 2 beverages".into());
        assert_eq!(
            ended(&short),
            Some(Ended {
                hour: at("2026-12-07T09:00:00Z"),
                outcome: Outcome::Cancelled {
                    cause: OUT_OF_CUPS.into()
                },
            })
        );
        let mut withdrawn = view(
            "cancelled",
            &[
                ("OrderPlaced", "2026-12-07T09:59:58Z"),
                ("OrderCancelled", "2026-12-07T10:00:01Z"),
            ],
        );
        withdrawn.reason = Some("cancelled at your request".into());
        assert_eq!(cause_of(&withdrawn), "cancelled at your request");
    }

    fn hour(start: &str, made: &[(&str, u32)], ready: &[i64]) -> HourCounts {
        HourCounts {
            hour: at(start),
            completed: ready.len() as u32,
            cancelled: BTreeMap::from([(OUT_OF_CUPS.to_string(), 1)]),
            made: made.iter().map(|(name, qty)| (name.to_string(), *qty)).collect(),
            ready_seconds: ready.to_vec(),
            ..HourCounts::default()
        }
    }

    #[test]
    fn the_day_adds_up_its_hours_and_takes_rates_over_the_last_hour_and_this_one() {
        let menu = Menu::from_json(
            r#"[{"beverageName":"latte","displayName":"Latte","stockName":"cup","recipe":{"beans":1,"milk":2}},
                {"beverageName":"americano","displayName":"Americano","stockName":"cup","recipe":{"beans":1}}]"#,
        )
        .unwrap();
        let now = at("2026-12-07T10:30:00Z");
        let hours = vec![
            hour("2026-12-07T08:00:00Z", &[("latte", 5)], &[9, 1]),
            hour("2026-12-07T09:00:00Z", &[("latte", 2)], &[4]),
            hour("2026-12-07T10:00:00Z", &[("americano", 1)], &[2, 7]),
        ];
        let day = day_at_a_glance(hours, &menu, now);
        assert_eq!(day.completed, 5);
        assert_eq!(day.cancelled, BTreeMap::from([(OUT_OF_CUPS.to_string(), 3)]));
        assert_eq!(
            day.order_to_ready,
            Some(ReadyTimes {
                orders: 5,
                median_seconds: 4.0,
                slowest_seconds: 9
            })
        );
        assert_eq!(day.rate_minutes, 90);
        let used: Vec<_> = day
            .usage
            .iter()
            .map(|u| (u.name.as_str(), u.used, u.per_hour))
            .collect();
        assert_eq!(
            used,
            [("beans", 3, 2.0), ("cup", 3, 2.0), ("milk", 4, 4.0 * 60.0 / 90.0)]
        );
    }

    #[test]
    fn an_item_running_out_within_the_hour_at_its_rate_is_an_alert() {
        let going = |name: &str, per_hour: f64| Usage {
            name: name.into(),
            used: 0,
            per_hour,
        };
        let levels = BTreeMap::from([
            ("cup".to_string(), 3),
            ("beans".to_string(), 40),
            ("milk".to_string(), 0),
        ]);
        let usage = [
            going("cup", 6.0),
            going("beans", 6.0),
            going("milk", 0.0),
            going("sugar", 60.0),
        ];
        let alerts = running_out(&levels, &usage);
        assert_eq!(
            alerts,
            [(
                "cup".to_string(),
                "cup runs out in about 30 min at the current rate (3 left, 6.0 an hour): restock it.".to_string()
            )],
            "beans last 6.7 hours; milk goes at no rate; sugar reports no level"
        );
        let out = running_out(&BTreeMap::from([("cup".to_string(), 0)]), &usage);
        assert_eq!(out[0].1, "cup has run out (it goes at 6.0 an hour): restock it.");
    }

    #[test]
    fn the_levels_an_event_reports_are_the_cups_after_a_reservation_and_the_ingredients_after_making() {
        let order = cafe_shared::events::OrderSummary {
            order_id: "o-1".into(),
            customer_id: "1".into(),
            beverage_name: "latte".into(),
            beverage_qty: 1,
            phone_number: None,
            order_number: None,
            lines: Vec::new(),
        };
        let reserved = CafeEvent::CupStockDecreased(cafe_shared::events::CupStockDecreased {
            order: order.clone(),
            stock_name: "cup".into(),
            cups_reserved: 1,
            cups_left: Some(4),
        });
        assert_eq!(levels_in(&reserved), BTreeMap::from([("cup".to_string(), 4)]));
        let made = CafeEvent::BeverageMade(cafe_shared::events::BeverageMade {
            order,
            beverage_id: "b-1".into(),
            made_at: at("2026-12-07T10:00:00Z"),
            ingredients_left: BTreeMap::from([("beans".to_string(), 9)]),
        });
        assert_eq!(levels_in(&made), BTreeMap::from([("beans".to_string(), 9)]));
    }

    #[test]
    fn the_median_of_an_even_count_is_between_the_middle_two() {
        assert_eq!(ready_times(vec![5, 1, 2, 8]).unwrap().median_seconds, 3.5);
        assert_eq!(ready_times(Vec::new()), None);
    }

    #[test]
    fn the_page_shows_the_24_hours_up_to_the_current_one() {
        let hours = hours_up_to(at("2026-12-07T10:30:00Z"));
        assert_eq!(hours.len(), 24);
        assert_eq!(hours[0], at("2026-12-06T11:00:00Z"));
        assert_eq!(hours[23], at("2026-12-07T10:00:00Z"));
    }
}
