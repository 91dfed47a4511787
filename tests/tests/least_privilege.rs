//! Least privilege, read from the template as CloudFormation runs it on AWS (the SAM transform
//! applied by `localstack/sam_transform.py` with the AWS profile's parameters): each function has a role of
//! its own, with no managed policy, no `*` action, and resources naming only its own table, queue
//! or stream (and a saga step's own dead-letter queue; the kiosk's API reads how many wait in
//! each; its saga step alerts the operator), its log group, the bus, the topic and (API functions) the operator token and the
//! customer token checks (the public key, who signed out);
//! only the order function, which signs customer tokens, names the signing secret, and only the
//! payment function the payment provider's key. The
//! only `*` resources are those AWS offers no narrower resource for, each named below; a role
//! that may text a phone number (SNS `Publish` on `*`) is denied publishing to any topic but its own.

use cafe_e2e::aws_template;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What each function may name besides its own log group (`<Function>Logs`).
const GRANTS: [(&str, &[&str]); 13] = [
    (
        "OrderApi",
        &[
            "OrdersTable",
            "CustomersTable",
            "OperatorTokenSecret",
            "CustomerTokenKeySecret",
            "CustomerTokenChecksTable",
        ],
    ),
    // The customers table only for the cafe's own item (a condition on its key): an order that
    // ends gives its place in the cafe back.
    (
        "OrderEvents",
        &["OrdersTable", "CustomersTable", "OrderQueue", "OrderDeadLetterQueue"],
    ),
    (
        "OrderOutbox",
        &["OrdersTable", "CafeBus", "OrderOutboxDeadLetterQueue", "OrderQueue"],
    ),
    // The payment function alone reads the payment provider's secret key.
    (
        "PaymentEvents",
        &[
            "PaymentsTable",
            "PaymentQueue",
            "PaymentDeadLetterQueue",
            "CafeBus",
            "PaymentProviderSecret",
        ],
    ),
    (
        "InventoryApi",
        &["InventoryTable", "OperatorTokenSecret", "CustomerTokenChecksTable"],
    ),
    (
        "InventoryEvents",
        &[
            "InventoryTable",
            "InventoryQueue",
            "InventoryDeadLetterQueue",
            "CafeBus",
        ],
    ),
    (
        "BeverageApi",
        &[
            "BeveragesTable",
            "MachineTable",
            "OperatorTokenSecret",
            "CustomerTokenChecksTable",
        ],
    ),
    (
        "BeverageEvents",
        &[
            "BeveragesTable",
            "MachineTable",
            "BeverageQueue",
            "BeverageDeadLetterQueue",
            "CafeBus",
        ],
    ),
    (
        "NotifyApi",
        &["NotificationsTable", "OperatorTokenSecret", "CustomerTokenChecksTable"],
    ),
    (
        "NotifyEvents",
        &[
            "NotificationsTable",
            "NotifyQueue",
            "NotifyDeadLetterQueue",
            "CafeBus",
            "NotificationTopic",
        ],
    ),
    (
        "KioskApi",
        &[
            "KioskTable",
            "OperatorTokenSecret",
            "CustomerTokenChecksTable",
            // How many messages wait in each (GetQueueAttributes only), for the operator's page.
            "InventoryDeadLetterQueue",
            "OrderDeadLetterQueue",
            "BeverageDeadLetterQueue",
            "NotifyDeadLetterQueue",
            "KioskDeadLetterQueue",
            "PaymentDeadLetterQueue",
            "OrderOutboxDeadLetterQueue",
            "BusDeadLetterQueue",
        ],
    ),
    // The kiosk's saga step and live function reach the live connections: the table of who
    // watches what, and the WebSocket API's `@connections` of its stage; the saga step reads who
    // signed out everywhere, whose pages it closes, and alerts the operator on the alarms' topic
    // (under that topic's own key).
    (
        "KioskEvents",
        &[
            "KioskTable",
            "KioskQueue",
            "KioskDeadLetterQueue",
            "LiveConnectionsTable",
            "LiveApi",
            "LiveStage",
            "CustomerTokenChecksTable",
            "OperatorAlarmTopic",
            "AlarmTopicKey",
        ],
    ),
    (
        "KioskLive",
        &[
            "KioskTable",
            "LiveConnectionsTable",
            "LiveApi",
            "LiveStage",
            "OperatorTokenSecret",
            "CustomerTokenChecksTable",
        ],
    ),
];

/// `*` resources AWS gives no narrower form for: X-Ray takes no resource at all, and a text
/// message to a phone number (notify's order outcomes, the order function's sign-in codes) has
/// no ARN.
fn star_allowed(function: &str, action: &str) -> bool {
    matches!(action, "xray:PutTraceSegments" | "xray:PutTelemetryRecords")
        || (matches!(function, "NotifyEvents" | "OrderApi") && action == "sns:Publish")
}

/// A statement that denies publishing to every topic; for notify, every topic but the one tagged
/// as the customers' (its own, which its role names).
fn denies_other_topics(function: &str, statement: &Value) -> bool {
    let every_topic = statement["Resource"]["Fn::Sub"] == "arn:${AWS::Partition}:sns:*:*:*";
    let exception = &statement["Condition"];
    let allowed_exception = match function {
        "NotifyEvents" => {
            *exception
                == serde_json::json!({"StringNotEquals": {"aws:ResourceTag/cafe:topic": "customer-notifications"}})
        }
        _ => exception.is_null(),
    };
    statement["Action"] == "sns:Publish" && every_topic && allowed_exception
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// The logical ids a resource expression names, and the literal text around them.
fn named_resources(resource: &Value) -> (BTreeSet<String>, String) {
    let mut names = BTreeSet::new();
    let mut literal = String::new();
    if let Some(name) = resource.get("Ref").and_then(Value::as_str) {
        names.insert(name.to_string());
    } else if let Some(att) = resource.get("Fn::GetAtt").and_then(Value::as_array) {
        names.insert(att[0].as_str().unwrap().to_string());
    } else if let Some(text) = resource.get("Fn::Sub").and_then(Value::as_str) {
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            literal.push_str(&rest[..start]);
            let end = rest[start..].find('}').unwrap() + start;
            let name = rest[start + 2..end].split('.').next().unwrap();
            names.insert(name.to_string());
            rest = &rest[end + 1..];
        }
        literal.push_str(rest);
    } else {
        literal = resource.to_string();
    }
    (names, literal)
}

#[test]
fn each_function_may_touch_only_its_own_resources() {
    let template = aws_template();
    let resources = template["Resources"].as_object().unwrap();
    let functions: BTreeMap<&String, &Value> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Lambda::Function")
        .collect();
    assert_eq!(functions.len(), GRANTS.len(), "{:?}", functions.keys());
    let mut roles_seen = BTreeSet::new();
    let mut statements = 0;
    let mut put_events = 0;

    for (function, grants) in GRANTS {
        let logical = format!("{function}Function");
        let properties = &functions.get(&logical).unwrap_or_else(|| panic!("no {logical}"))["Properties"];
        let role_name = properties["Role"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap_or_else(|| panic!("{logical} names its own role: {}", properties["Role"]));
        assert!(roles_seen.insert(role_name.to_string()), "{role_name} is shared");
        let role = &resources[role_name];
        assert_eq!(role["Type"], "AWS::IAM::Role");
        assert!(
            role["Properties"].get("ManagedPolicyArns").is_none(),
            "{role_name} has managed policies (their resources are `*`)"
        );
        let mut allowed: BTreeSet<String> = grants.iter().map(|g| g.to_string()).collect();
        allowed.insert(format!("{function}Logs"));
        let mut named = BTreeSet::new();
        let mut texts = false;
        let mut topics_denied = false;

        for policy in role["Properties"]["Policies"].as_array().unwrap() {
            for statement in as_list(&policy["PolicyDocument"]["Statement"]) {
                statements += 1;
                if statement["Effect"] == "Deny" {
                    assert!(
                        denies_other_topics(function, &statement),
                        "{role_name}: an unexpected Deny {statement}"
                    );
                    topics_denied = true;
                    continue;
                }
                assert_eq!(statement["Effect"], "Allow");
                let actions = as_list(&statement["Action"]);
                for action in &actions {
                    let action = action.as_str().unwrap();
                    assert!(!action.contains('*'), "{role_name}: wildcard action {action}");
                    if action == "events:PutEvents" {
                        // A step publishes only as itself, never as another step.
                        let service = function
                            .trim_end_matches("Events")
                            .trim_end_matches("Outbox")
                            .to_lowercase();
                        assert_eq!(
                            statement["Condition"]["StringEquals"]["events:source"],
                            format!("cafe.{service}"),
                            "{role_name}: PutEvents is not limited to its own source"
                        );
                        put_events += 1;
                    }
                }
                for resource in as_list(&statement["Resource"]) {
                    if resource == "*" {
                        texts |= actions.iter().any(|a| a == "sns:Publish");
                        for action in &actions {
                            assert!(
                                star_allowed(function, action.as_str().unwrap()),
                                "{role_name}: {action} on `*`"
                            );
                        }
                        continue;
                    }
                    let (names, literal) = named_resources(&resource);
                    // A table, its indexes or its stream; or sending to the connections of the
                    // WebSocket API's own stage (`POST @connections`, what PostToConnection is),
                    // and for the kiosk's saga step closing them (`DELETE`, DeleteConnection: the
                    // pages of a customer who signed out everywhere).
                    let closes = function == "KioskEvents" && literal == "arn::execute-api::://DELETE/@connections/*";
                    assert!(
                        ["", "/index/*", "/stream/*", "arn::execute-api::://POST/@connections/*"]
                            .contains(&literal.as_str())
                            || closes,
                        "{role_name}: resource {resource} is wider than a named resource"
                    );
                    assert!(!names.is_empty(), "{role_name}: {resource} names nothing");
                    // The partition, region and account only place the ARN in this account.
                    named.extend(names.into_iter().filter(|name| !name.starts_with("AWS::")));
                }
            }
        }
        assert_eq!(
            texts, topics_denied,
            "{role_name}: who may text a phone number (sns:Publish on `*`) is denied every other topic"
        );
        let foreign: Vec<_> = named.difference(&allowed).collect();
        assert!(foreign.is_empty(), "{logical} may touch {foreign:?}");
        let unused: Vec<_> = allowed.difference(&named).collect();
        assert!(unused.is_empty(), "{logical} lacks access to {unused:?}");
    }

    // Nothing else grants the function roles more: no policy resources attached to them.
    for (name, resource) in resources {
        let kind = resource["Type"].as_str().unwrap();
        assert!(
            !matches!(kind, "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy"),
            "{name} ({kind}) may add to a function's role"
        );
    }
    assert_eq!(put_events, 5, "the outbox and four saga steps publish");
    eprintln!(
        "[iam] {} functions, {} roles, {statements} statements: only own resources; {put_events} \
         PutEvents grants, each for its own source",
        functions.len(),
        roles_seen.len()
    );
}
