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
        let number = |name: &str| -> i64 { parameter_default(name).parse().expect("a number parameter") };
        Self {
            menu: Menu::from_json(&parameter_default("Menu")).expect("the template's menu reads"),
            routes: routes(),
            max_receives: number("MaxReceiveCount") as u32,
            visibility_ms: number("QueueVisibilitySeconds") * 1000,
            deadline_ms: number("OrderDeadlineSeconds") * 1000,
        }
    }
}

/// A parameter's `Default`, a folded (`>-`) block joined as YAML joins it.
fn parameter_default(name: &str) -> String {
    let mut lines = TEMPLATE
        .lines()
        .skip_while(|line| *line != format!("  {name}:"))
        .skip(1);
    let default = (lines.by_ref())
        .map(str::trim)
        .find_map(|line| line.strip_prefix("Default:"))
        .unwrap_or_else(|| panic!("parameter {name} has a default"))
        .trim();
    if default != ">-" {
        return default.trim_matches('"').to_string();
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
        assert_eq!(deployment.routes.len(), 7, "{:?}", deployment.routes);
        let consumers = |source: &str, detail_type: &str| -> Vec<Function> {
            (deployment.routes.iter())
                .filter(|route| route.matches(source, detail_type))
                .map(|route| route.to)
                .collect()
        };
        use Function::*;
        assert_eq!(consumers("cafe.order", "OrderPlaced"), [Inventory, Kiosk]);
        assert_eq!(consumers("cafe.order", "OrderCancelled"), [Inventory, Notify, Kiosk]);
        assert_eq!(consumers("cafe.inventory", "CupStockDecreased"), [Beverage, Kiosk]);
        assert_eq!(consumers("cafe.beverage", "MakingRequested"), [Order, Kiosk]);
        assert_eq!(consumers("cafe.notify", "CustomerNotified"), [Kiosk]);
        assert!(deployment.max_receives >= 2 && deployment.visibility_ms > 0 && deployment.deadline_ms > 0);
    }
}
