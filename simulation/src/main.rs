//! `make sim`: runs seeds of the saga's simulation, or replays one step by step.
//!   cafe-simulation [--seeds N] [--from S]   seeds S..S+N (default 0..1000); the first that breaks
//!                                            an invariant is replayed with its schedule
//!   cafe-simulation --seed S                 replays seed S, printing its schedule
//!   --mutant NAME                            runs a deliberately broken variant (see docs/testing.md)

use cafe_simulation::{Mutant, Outcome, simulate};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let number = |flag: &str, default: u64| value(flag).map_or(default, |v| v.parse().expect("a whole number"));
    let mutant = value("--mutant").map(|name| {
        Mutant::named(name).unwrap_or_else(|| {
            let names: Vec<_> = Mutant::ALL.iter().map(|m| m.name()).collect();
            panic!("no mutant {name}; one of {}", names.join(", "))
        })
    });
    if let Some(seed) = value("--seed") {
        let outcome = simulate(seed.parse().expect("a whole number"), mutant, true);
        outcome.trace.iter().for_each(|line| println!("{line}"));
        return report(&outcome);
    }
    let (from, seeds) = (number("--from", 0), number("--seeds", 1000));
    let started = Instant::now();
    let mut totals = cafe_simulation::Counts::default();
    for seed in from..from + seeds {
        let outcome = simulate(seed, mutant, false);
        if !outcome.violations.is_empty() {
            println!("seed {seed} breaks an invariant; its schedule:");
            simulate(seed, mutant, true)
                .trace
                .iter()
                .for_each(|line| println!("{line}"));
            return report(&outcome);
        }
        let c = outcome.counts;
        totals.orders += c.orders;
        totals.completed += c.completed;
        totals.cancelled += c.cancelled;
        totals.deliveries += c.deliveries;
        totals.redeliveries += c.redeliveries;
        totals.steps += c.steps;
        totals.redriven += c.redriven;
        for (what, n) in c.struck {
            *totals.struck.entry(what).or_default() += n;
        }
        for (reason, n) in c.cancelled_because {
            *totals.cancelled_because.entry(reason).or_default() += n;
        }
    }
    println!(
        "{seeds} seeds ({from}..{}) kept every invariant in {:.1} s: {} orders ({} completed, {} cancelled), {} deliveries ({} redelivered), {} steps",
        from + seeds,
        started.elapsed().as_secs_f64(),
        totals.orders,
        totals.completed,
        totals.cancelled,
        totals.deliveries,
        totals.redeliveries,
        totals.steps
    );
    println!("redriven by the operator: {}", totals.redriven);
    println!("trouble that struck: {:?}", totals.struck);
    println!("cancelled because: {:?}", totals.cancelled_because);
    ExitCode::SUCCESS
}

fn report(outcome: &Outcome) -> ExitCode {
    if outcome.violations.is_empty() {
        println!("seed {} kept every invariant: {:?}", outcome.seed, outcome.counts);
        return ExitCode::SUCCESS;
    }
    println!("seed {} broke:", outcome.seed);
    outcome.violations.iter().for_each(|v| println!("  - {v}"));
    ExitCode::FAILURE
}
