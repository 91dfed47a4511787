//! What the simulation takes from template.yaml, so it runs the saga as deployed: the menu, the
//! bus's rules, the queues' redrive and visibility timeout, and the time an order may take.

use crate::world::Function;
use cafe_shared::menu::Menu;

const TEMPLATE: &str = include_str!("../../template.yaml");

/// The deployment as the template's defaults set it up.
pub struct Deployment {
    pub menu: Menu,
    pub routes: Vec<Route>,
    /// Receives of a message before its queue dead-letters it (`MaxReceiveCount`).
    pub max_receives: u32,
    pub visibility_ms: i64,
    pub deadline_ms: i64,
    /// Messages a batch holds at most, and batches of a queue at once (its event source
    /// mapping's `BatchSize` and `ScalingConfig.MaximumConcurrency`).
    pub batch_size: usize,
    pub concurrent_batches: usize,
}

/// One of the bus's rules: events from `source` (any `cafe.*` when none) of these detail-types
/// (any when none) go to `to`'s queue.
#[derive(Debug, PartialEq)]
pub struct Route {
    pub source: Option<String>,
    pub detail_types: Option<Vec<String>>,
    pub to: Function,
}

impl Route {
    pub fn matches(&self, source: &str, detail_type: &str) -> bool {
        self.source.as_ref().is_none_or(|s| s == source)
            && (self.detail_types.as_ref()).is_none_or(|types| types.iter().any(|t| t == detail_type))
    }
}

impl Deployment {
    pub fn from_template() -> Self {
        let number = |name: &str| -> i64 { parameter_field(name, "Default").parse().expect("a number parameter") };
        Self {
            menu: Menu::from_json(&parameter_field("Menu", "Default")).expect("the template's menu reads"),
            routes: routes(),
            max_receives: number("MaxReceiveCount") as u32,
            visibility_ms: number("QueueVisibilitySeconds") * 1000,
            deadline_ms: number("OrderDeadlineSeconds") * 1000,
            batch_size: setting("BatchSize:"),
            concurrent_batches: setting("MaximumConcurrency:"),
        }
    }
}

/// The first number after `name` in the template (the saga queues' mappings all say the same).
fn setting(name: &str) -> usize {
    let (_, after) = TEMPLATE
        .split_once(name)
        .unwrap_or_else(|| panic!("the template sets {name}"));
    let digits: String = after.trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("a number")
}

/// A parameter's `field` (`Default`, `MinValue`), a folded (`>-`) block joined as YAML joins it.
fn parameter_field(name: &str, field: &str) -> String {
    let mut lines = (TEMPLATE.lines())
        .skip_while(|line| *line != format!("  {name}:"))
        .skip(1)
        .take_while(|line| line.starts_with("    "));
    let prefix = format!("{field}:");
    let value = (lines.by_ref())
        .map(str::trim)
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("parameter {name} has {field}"))
        .trim();
    if value != ">-" {
        return value.trim_matches('"').to_string();
    }
    let folded: Vec<&str> = lines
        .map(str::trim)
        .take_while(|line| !line.starts_with("Description:"))
        .collect();
    folded.join(" ")
}

/// The `AWS::Events::Rule` resources: each pattern line (`{ source: [...], detail-type: [...] }`
/// or `source: [{ prefix: cafe. }]`) routes to the rule's target.
fn routes() -> Vec<Route> {
    let mut routes = Vec::new();
    let mut patterns: Vec<(Option<String>, Option<Vec<String>>)> = Vec::new();
    for line in TEMPLATE.lines().map(str::trim) {
        if line.contains("source: [{ prefix: cafe. }]") {
            patterns.push((None, None));
        } else if line.contains("{ source: [") {
            let source = list_after(line, "source: [").into_iter().next();
            patterns.push((source, Some(list_after(line, "detail-type: ["))));
        } else if let Some(target) = line.strip_prefix("Targets: [{ Id: ") {
            let to = Function::named(target.split(',').next().unwrap_or_default().trim())
                .unwrap_or_else(|| panic!("a rule's target is a function's queue: {line}"));
            for (source, detail_types) in patterns.drain(..) {
                routes.push(Route {
                    source,
                    detail_types,
                    to,
                });
            }
        }
    }
    routes
}

fn list_after(line: &str, start: &str) -> Vec<String> {
    let Some((_, rest)) = line.split_once(start) else {
        return Vec::new();
    };
    let list = rest.split(']').next().unwrap_or_default();
    list.split(',').map(|item| item.trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployment_reads_as_the_template_sets_it_up() {
        let deployment = Deployment::from_template();
        assert!(
            deployment
                .menu
                .find("latte")
                .is_some_and(|latte| latte.recipe["milk"] == 1)
        );
        assert_eq!(deployment.routes.len(), 10, "{:?}", deployment.routes);
        let consumers = |source: &str, detail_type: &str| -> Vec<Function> {
            (deployment.routes.iter())
                .filter(|route| route.matches(source, detail_type))
                .map(|route| route.to)
                .collect()
        };
        use Function::*;
        assert_eq!(consumers("cafe.order", "OrderPlaced"), [Payment, Kiosk]);
        assert_eq!(consumers("cafe.payment", "PaymentAuthorized"), [Inventory, Kiosk]);
        assert_eq!(consumers("cafe.payment", "PaymentDeclined"), [Order, Kiosk]);
        assert_eq!(consumers("cafe.order", "OrderMaking"), [Payment, Beverage, Kiosk]);
        assert_eq!(
            consumers("cafe.order", "OrderCancelled"),
            [Payment, Inventory, Notify, Kiosk]
        );
        assert_eq!(consumers("cafe.inventory", "CupStockDecreased"), [Beverage, Kiosk]);
        assert_eq!(consumers("cafe.beverage", "MakingRequested"), [Order, Kiosk]);
        assert_eq!(consumers("cafe.notify", "CustomerNotified"), [Kiosk]);
        assert!(deployment.max_receives >= 2 && deployment.visibility_ms > 0 && deployment.deadline_ms > 0);
        assert_eq!((deployment.batch_size, deployment.concurrent_batches), (10, 5));
    }

    #[test]
    fn a_notification_claim_outlives_its_sender_and_runs_out_before_the_retry() {
        let claim = cafe_notify::saga::SENDING_CLAIM.num_seconds();
        let globals = TEMPLATE.split_once("Globals:").expect("the template has Globals").1;
        let timeout = globals.split_once("Timeout:").expect("a function timeout").1;
        let timeout: i64 = timeout.lines().next().unwrap().trim().parse().unwrap();
        let least_visibility: i64 = parameter_field("QueueVisibilitySeconds", "MinValue").parse().unwrap();
        // A claim may start as late as a timeout after its message was received.
        assert!(
            timeout <= claim && timeout + claim <= least_visibility,
            "timeout {timeout} s, claim {claim} s, visibility at least {least_visibility} s"
        );
    }
}
