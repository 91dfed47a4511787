//! A deterministic simulation of the whole saga. The six functions' step logic, the
//! same `saga::on_event` and `saga::outbox` the Lambdas run, over the in-memory fakes beside their
//! ports, in a simulated cloud: a bus routed by the template's rules, queues that deliver at least
//! once and in any order, concurrent invocations interleaved at their port calls, the orders
//! table's stream feeding the outbox, timers for the deadlines, and a seeded scheduler that injects
//! failures, lost answers, crashes, outages and poison while customers order and cancel and the
//! operator restocks. A seed replays its run exactly; the invariants are checked once it settles.

pub mod invariants;
pub mod invocations;
pub mod ports;
pub mod rng;
pub mod run;
pub mod template;
pub mod world;

pub use invariants::{Invariant, Violation};
pub use run::{Counts, simulate};

/// A seed's run: what it saw, what it broke, and (when asked) its schedule step by step.
#[derive(Debug)]
pub struct Outcome {
    pub seed: u64,
    pub counts: Counts,
    pub violations: Vec<Violation>,
    pub trace: Vec<String>,
}

/// A deliberately broken variant: each removes one guarantee a store's condition or key, a step,
/// or the plumbing gives, to show the simulation catches its loss by the invariant it guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutant {
    /// The order's update without its condition on the status it moves from.
    OrderMovesFromAnyStatus,
    /// The cup reservation not keyed by order: each delivery of `OrderPlaced` takes cups.
    CupsReservedPerDelivery,
    /// The release not recorded once: each delivery of `OrderCancelled` gives cups back.
    CupsGivenBackPerDelivery,
    /// The machine's attempt not looked up or kept by order: each delivery makes the beverage.
    BeverageMadePerDelivery,
    /// The notification's put without its condition (the record kept by order): each delivery
    /// tells the customer.
    NotifiedPerDelivery,
    /// The outbox's stream moves past a batch the bus refused.
    OutboxSkipsFailedBatch,
    /// A step's transient failure set aside as poison instead of retried.
    TransientFailureSetAside,
    /// The machine starts once the cups are reserved, without the order's lock (no
    /// `MakingRequested` / `OrderMaking` handshake with a customer's cancel).
    MakesWithoutTheOrdersLock,
    /// The kiosk acknowledges an event its read model failed to store (as if best effort).
    ViewDropsEventsOnFailure,
    /// The day's count without its once-only mark: every event after an order ended counts it
    /// again.
    CountedPerDelivery,
    /// The provider's payment recorded without its condition: each delivery of `OrderPlaced`
    /// opens and charges another, and only the last is ever taken or let go.
    PaymentOpenedPerDelivery,
    /// The machine makes a cart as if it were its first line alone: it takes only what that
    /// line's recipe needs.
    CartMadeAsItsFirstLine,
}

impl Mutant {
    pub const ALL: [Mutant; 12] = [
        Self::OrderMovesFromAnyStatus,
        Self::CupsReservedPerDelivery,
        Self::CupsGivenBackPerDelivery,
        Self::BeverageMadePerDelivery,
        Self::NotifiedPerDelivery,
        Self::OutboxSkipsFailedBatch,
        Self::TransientFailureSetAside,
        Self::MakesWithoutTheOrdersLock,
        Self::ViewDropsEventsOnFailure,
        Self::CountedPerDelivery,
        Self::PaymentOpenedPerDelivery,
        Self::CartMadeAsItsFirstLine,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::OrderMovesFromAnyStatus => "order-moves-from-any-status",
            Self::CupsReservedPerDelivery => "cups-reserved-per-delivery",
            Self::CupsGivenBackPerDelivery => "cups-given-back-per-delivery",
            Self::BeverageMadePerDelivery => "beverage-made-per-delivery",
            Self::NotifiedPerDelivery => "notified-per-delivery",
            Self::OutboxSkipsFailedBatch => "outbox-skips-failed-batch",
            Self::TransientFailureSetAside => "transient-failure-set-aside",
            Self::MakesWithoutTheOrdersLock => "makes-without-the-orders-lock",
            Self::ViewDropsEventsOnFailure => "view-drops-events-on-failure",
            Self::CountedPerDelivery => "counted-per-delivery",
            Self::PaymentOpenedPerDelivery => "payment-opened-per-delivery",
            Self::CartMadeAsItsFirstLine => "cart-made-as-its-first-line",
        }
    }

    /// The invariant that must catch it.
    pub fn breaks(self) -> Invariant {
        match self {
            // A cancelled order moved on to completed: its money was let go at its cancellation.
            Self::OrderMovesFromAnyStatus => Invariant::MoneyKeptOnlyWhenCompleted,
            Self::MakesWithoutTheOrdersLock => Invariant::MadeOnlyWhenCompleted,
            Self::CupsReservedPerDelivery
            | Self::CupsGivenBackPerDelivery
            | Self::BeverageMadePerDelivery
            | Self::CartMadeAsItsFirstLine => Invariant::StockAccounted,
            Self::NotifiedPerDelivery => Invariant::ToldOnce,
            Self::OutboxSkipsFailedBatch => Invariant::OrdersEnd,
            Self::TransientFailureSetAside => Invariant::DeadLettersArePoison,
            Self::ViewDropsEventsOnFailure => Invariant::KioskAgrees,
            Self::CountedPerDelivery => Invariant::DayCountsOnce,
            Self::PaymentOpenedPerDelivery => Invariant::NoHoldOutlivesItsOrder,
        }
    }

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}
