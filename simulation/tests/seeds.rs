//! The simulation as CI runs it: a thousand seeds keep every invariant, a seed replays exactly,
//! and every deliberately broken variant of the code is caught within those seeds.

use cafe_simulation::{Mutant, simulate};

const SEEDS: u64 = 1000;

#[test]
fn a_thousand_seeds_keep_every_invariant() {
    let started = std::time::Instant::now();
    let mut orders = 0;
    let mut redeliveries = 0;
    let mut crashes = 0;
    for seed in 0..SEEDS {
        let outcome = simulate(seed, None, false);
        assert!(
            outcome.violations.is_empty(),
            "seed {seed} broke {:#?}; replay it with `make sim SEED={seed}`",
            outcome.violations
        );
        orders += outcome.counts.orders;
        redeliveries += outcome.counts.redeliveries;
        crashes += outcome.counts.crashes;
    }
    println!(
        "{SEEDS} seeds kept every invariant in {:.1} s: {orders} orders, {redeliveries} redeliveries, {crashes} crashed invocations",
        started.elapsed().as_secs_f64()
    );
    assert!(
        orders > SEEDS as usize && redeliveries > 0 && crashes > 0,
        "the seeds exercise the saga"
    );
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
fn every_broken_variant_is_caught_within_the_seeds() {
    for mutant in Mutant::ALL {
        let caught = (0..SEEDS).find_map(|seed| {
            let outcome = simulate(seed, Some(mutant), false);
            outcome.violations.first().map(|violation| (seed, violation.clone()))
        });
        let Some((seed, violation)) = caught else {
            panic!("{} was not caught in {SEEDS} seeds", mutant.name())
        };
        println!("{:<30} caught by seed {seed:>4}: {violation}", mutant.name());
    }
}
