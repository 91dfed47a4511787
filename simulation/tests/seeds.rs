//! The simulation as CI runs it: a thousand seeds keep every invariant while every kind of
//! trouble strikes, a seed replays exactly, and every deliberately broken variant is caught, by
//! the invariant it breaks, within those seeds.

use cafe_simulation::{Mutant, simulate};
use std::collections::BTreeMap;

const SEEDS: u64 = 1000;

#[test]
fn a_thousand_seeds_keep_every_invariant() {
    let started = std::time::Instant::now();
    let (mut orders, mut redeliveries, mut redriven) = (0, 0, 0);
    let mut struck = BTreeMap::new();
    for seed in 0..SEEDS {
        let outcome = simulate(seed, None, false);
        assert!(
            outcome.violations.is_empty(),
            "seed {seed} broke {:#?}; replay it with `make sim SEED={seed}`",
            outcome.violations
        );
        orders += outcome.counts.orders;
        redeliveries += outcome.counts.redeliveries;
        redriven += outcome.counts.redriven;
        for (what, n) in outcome.counts.struck {
            *struck.entry(what).or_default() += n;
        }
    }
    println!(
        "{SEEDS} seeds kept every invariant in {:.1} s: {orders} orders, {redeliveries} redeliveries, \
         {redriven} messages redriven; trouble: {struck:?}",
        started.elapsed().as_secs_f64()
    );
    assert!(orders > SEEDS as usize && redeliveries > 0 && redriven > 0);
    let kinds = [
        "call failed",
        "call to a function that is down",
        "answer lost after the work",
        "outage",
        "poison",
        "invocation killed",
        "stream batch read again",
        "message delivered again",
        "notification claimed by another delivery",
    ];
    for kind in kinds {
        assert!(
            struck.get(kind).is_some_and(|n: &u64| *n > 0),
            "no seed saw {kind}: {struck:?}"
        );
    }
}

#[test]
fn a_seed_replays_its_run_exactly_and_another_seed_runs_another() {
    let run = |seed| simulate(seed, None, true).trace;
    let first = run(7);
    assert!(first.len() > 50, "{first:?}");
    assert_eq!(first, run(7));
    assert_ne!(first, run(8));
}

#[test]
fn every_broken_variant_is_caught_by_the_invariant_it_breaks_within_the_seeds() {
    for mutant in Mutant::ALL {
        let caught = (0..SEEDS).find_map(|seed| {
            let outcome = simulate(seed, Some(mutant), false);
            let violation = outcome.violations.into_iter().find(|v| v.invariant == mutant.breaks());
            violation.map(|violation| (seed, violation))
        });
        let Some((seed, violation)) = caught else {
            panic!(
                "{} was not caught by {:?} in {SEEDS} seeds",
                mutant.name(),
                mutant.breaks()
            )
        };
        println!("| `{}` | {seed} | {violation} |", mutant.name());
    }
}
