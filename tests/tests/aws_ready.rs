//! The template as AWS receives it (the SAM transform applied with the AWS profile's parameters),
//! held to the rules AWS applies and the local cloud does not, and linted by cfn-lint. No cloud.

use cafe_e2e::{aws_template, parameter, workspace_root};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn of_type<'a>(template: &'a Value, kind: &str) -> BTreeMap<&'a str, &'a Value> {
    (template["Resources"].as_object().unwrap().iter())
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, resource)| (name.as_str(), resource))
        .collect()
}

/// The logical id a `Ref` or `Fn::GetAtt` names.
fn named(value: &Value) -> &str {
    (value.get("Ref").and_then(Value::as_str))
        .or_else(|| value["Fn::GetAtt"][0].as_str())
        .unwrap_or_else(|| panic!("not a Ref or GetAtt: {value}"))
}

/// Every logical id a `Fn::Sub` string names (`${Name}` and `${Name.Attribute}`).
fn subbed(value: &Value) -> Vec<String> {
    let text = match &value["Fn::Sub"] {
        Value::String(text) => text.as_str(),
        Value::Array(parts) => parts[0].as_str().unwrap(),
        other => panic!("not a Fn::Sub: {other}"),
    };
    (text.split("${").skip(1))
        .map(|rest| rest.split(['}', '.']).next().unwrap().to_string())
        .collect()
}

#[test]
fn each_api_has_one_stage_with_access_logs_and_tracing() {
    let template = aws_template();
    for (name, deployment) in of_type(&template, "AWS::ApiGateway::Deployment") {
        assert!(
            deployment["Properties"].get("StageName").is_none(),
            "{name} would create a stage of its own, without the declared stage's settings"
        );
    }
    let rest_stages = of_type(&template, "AWS::ApiGateway::Stage");
    let rest_apis = of_type(&template, "AWS::ApiGateway::RestApi");
    assert_eq!(
        rest_stages.len(),
        rest_apis.len(),
        "one stage per REST API: {rest_stages:?}"
    );
    for (name, stage) in rest_stages {
        let properties = &stage["Properties"];
        assert_eq!(properties["TracingEnabled"], true, "{name} traces (X-Ray)");
        assert_access_logged(name, &properties["AccessLogSetting"]);
    }
    let ws_stages = of_type(&template, "AWS::ApiGatewayV2::Stage");
    assert_eq!(ws_stages.len(), of_type(&template, "AWS::ApiGatewayV2::Api").len());
    for (name, stage) in ws_stages {
        assert_access_logged(name, &stage["Properties"]["AccessLogSettings"]);
    }
}

fn assert_access_logged(stage: &str, setting: &Value) {
    let format = setting["Format"]
        .as_str()
        .unwrap_or_else(|| panic!("{stage} writes access logs"));
    assert!(
        format.contains("$context.requestId"),
        "{stage}: AWS wants the request id in every line"
    );
    let destination = &setting["DestinationArn"];
    let names = subbed(destination);
    assert!(
        names.iter().any(|name| name.ends_with("AccessLogs")),
        "{stage} logs to a log group of the stack: {destination}"
    );
    assert!(
        !destination.to_string().ends_with(":*\"}"),
        "{stage}: API Gateway refuses a log group ARN ending in :*"
    );
}

#[test]
fn every_route_and_mapping_invokes_the_live_alias() {
    let template = aws_template();
    let aliases: BTreeSet<&str> = of_type(&template, "AWS::Lambda::Alias").into_keys().collect();
    assert_eq!(aliases.len(), of_type(&template, "AWS::Lambda::Function").len());
    let is_alias = |name: &str| aliases.contains(name);

    let mappings = of_type(&template, "AWS::Lambda::EventSourceMapping");
    assert!(!mappings.is_empty());
    for (name, mapping) in mappings {
        let function = named(&mapping["Properties"]["FunctionName"]);
        assert!(is_alias(function), "{name} invokes {function}, not an alias");
    }
    let permissions = of_type(&template, "AWS::Lambda::Permission");
    for (name, permission) in permissions {
        let function = named(&permission["Properties"]["FunctionName"]);
        assert!(is_alias(function), "{name} lets {function} be invoked, not an alias");
    }
    for (name, integration) in of_type(&template, "AWS::ApiGatewayV2::Integration") {
        let invoked = subbed(&integration["Properties"]["IntegrationUri"]);
        assert!(invoked.iter().any(|n| is_alias(n)), "{name} invokes {invoked:?}");
    }
    let (_, api) = of_type(&template, "AWS::ApiGateway::RestApi").pop_first().unwrap();
    let mut routes = 0;
    for (path, methods) in api["Properties"]["Body"]["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            let invoked = subbed(&operation["x-amazon-apigateway-integration"]["uri"]);
            assert!(
                invoked.iter().any(|n| is_alias(n)),
                "{method} {path} invokes {invoked:?}"
            );
            routes += 1;
        }
    }
    assert!(routes >= 30, "the REST API's routes were read ({routes})");
}

#[test]
fn the_cafes_data_outlives_the_stack() {
    let template = aws_template();
    let retained =
        |resource: &Value| resource["DeletionPolicy"] == "Retain" && resource["UpdateReplacePolicy"] == "Retain";
    let tables = of_type(&template, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 10);
    for (name, table) in tables {
        // Which page watches what goes with the WebSocket API it names.
        if name == "LiveConnectionsTable" {
            continue;
        }
        assert!(retained(table), "{name} is retained when the stack goes or replaces it");
        assert_eq!(
            table["Properties"]["DeletionProtectionEnabled"], true,
            "{name} refuses DeleteTable"
        );
        let recovery = &table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"];
        assert_eq!(*recovery, true, "{name} can be restored to a point in time");
    }
    let queues = of_type(&template, "AWS::SQS::Queue");
    let dead_letter_queues: Vec<_> = queues
        .iter()
        .filter(|(name, _)| name.ends_with("DeadLetterQueue"))
        .collect();
    assert_eq!(dead_letter_queues.len(), 8);
    for (name, queue) in dead_letter_queues {
        assert!(
            retained(queue),
            "{name}, which holds what no step could handle, is retained"
        );
    }
}

#[test]
fn every_queue_and_topic_is_encrypted_at_rest() {
    let template = aws_template();
    for (name, queue) in of_type(&template, "AWS::SQS::Queue") {
        // SQS's own keys: EventBridge cannot send to a queue under AWS's managed KMS key.
        assert_eq!(
            queue["Properties"]["SqsManagedSseEnabled"], true,
            "{name} is encrypted (SSE-SQS)"
        );
    }
    let alarm_topics: BTreeSet<&str> = (of_type(&template, "AWS::CloudWatch::Alarm").values())
        .flat_map(|alarm| alarm["Properties"]["AlarmActions"].as_array().unwrap())
        .map(named)
        .collect();
    assert_eq!(alarm_topics.len(), 1);
    for (name, topic) in of_type(&template, "AWS::SNS::Topic") {
        let key = &topic["Properties"]["KmsMasterKeyId"];
        assert!(!key.is_null(), "{name} is encrypted");
        if !alarm_topics.contains(name) {
            continue;
        }
        // CloudWatch publishes only under a key whose policy lets it: not AWS's managed one.
        let policy = &template["Resources"][named(key)]["Properties"]["KeyPolicy"]["Statement"];
        let lets_cloudwatch = (policy.as_array().unwrap().iter()).any(|statement| {
            statement["Principal"]["Service"] == "cloudwatch.amazonaws.com"
                && statement["Action"].as_array().is_some_and(|actions| {
                    actions.contains(&"kms:Decrypt".into()) && actions.contains(&"kms:GenerateDataKey*".into())
                })
        });
        assert!(lets_cloudwatch, "{name}'s key lets CloudWatch's alarms publish");
    }
}

#[test]
fn no_event_is_dropped_by_the_bus_and_every_one_can_be_replayed() {
    let template = aws_template();
    let (bus, _) = of_type(&template, "AWS::Events::EventBus").pop_first().unwrap();
    let rules = of_type(&template, "AWS::Events::Rule");
    assert_eq!(rules.len(), 6);
    let mut dead_letter_queues = BTreeSet::new();
    for (name, rule) in &rules {
        for target in rule["Properties"]["Targets"].as_array().unwrap() {
            let queue = named(&target["DeadLetterConfig"]["Arn"]);
            assert_eq!(
                template["Resources"][queue]["Type"], "AWS::SQS::Queue",
                "{name}'s dead letters"
            );
            dead_letter_queues.insert(queue.to_string());
            let retry = &target["RetryPolicy"];
            assert!(retry["MaximumRetryAttempts"].as_u64().unwrap() > 0, "{name} retries");
            assert!(
                retry["MaximumEventAgeInSeconds"].as_u64().unwrap() >= 3600,
                "{name} retries for long"
            );
        }
    }
    // EventBridge sends to a dead-letter queue only if its policy lets each rule do so.
    let policies = of_type(&template, "AWS::SQS::QueuePolicy");
    for queue in dead_letter_queues {
        let policy = (policies.values())
            .find(|policy| (policy["Properties"]["Queues"].as_array().unwrap().iter()).any(|q| named(q) == queue))
            .unwrap_or_else(|| panic!("{queue} has a queue policy"));
        let statement = &policy["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Principal"]["Service"], "events.amazonaws.com");
        assert_eq!(statement["Action"], "sqs:SendMessage");
        let sources: BTreeSet<&str> = (statement["Condition"]["ArnEquals"]["aws:SourceArn"].as_array().unwrap())
            .iter()
            .map(named)
            .collect();
        assert_eq!(
            sources,
            rules.keys().copied().collect::<BTreeSet<_>>(),
            "{queue} takes every rule's dead letters"
        );
    }
    let archives = of_type(&template, "AWS::Events::Archive");
    let (name, archive) = archives.first_key_value().expect("the bus has an archive");
    assert_eq!(
        named(&archive["Properties"]["SourceArn"]),
        bus,
        "{name} keeps the bus's events"
    );
    if let Some(condition) = archive.get("Condition") {
        assert_eq!(condition, "KeepEventArchive");
        assert_eq!(
            parameter(&template, "ArchiveEvents"),
            "true",
            "the AWS profile keeps the archive"
        );
    }
}

#[test]
fn every_alarm_reaches_a_subscribed_operator() {
    let template = aws_template();
    let subscriptions = of_type(&template, "AWS::SNS::Subscription");
    let subscribed: BTreeSet<&str> = (subscriptions.values())
        .filter(|subscription| subscription.get("Condition").is_none())
        .map(|subscription| named(&subscription["Properties"]["TopicArn"]))
        .collect();
    let alarms = of_type(&template, "AWS::CloudWatch::Alarm");
    assert!(alarms.len() >= 20);
    for (name, alarm) in alarms {
        let actions = alarm["Properties"]["AlarmActions"].as_array().unwrap();
        assert!(!actions.is_empty(), "{name} notifies someone");
        for action in actions {
            assert!(
                subscribed.contains(named(action)),
                "{name} notifies a topic nobody is subscribed to"
            );
        }
    }
    // And no stack goes up without someone to subscribe.
    let rule = &template["Rules"]["AlarmsReachSomeone"]["Assertions"][0]["Assert"];
    assert_eq!(
        *rule,
        serde_json::json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]})
    );
}

#[test]
fn no_function_writes_a_secret_at_run_time() {
    let template = aws_template();
    for (name, role) in of_type(&template, "AWS::IAM::Role") {
        for policy in role["Properties"]["Policies"].as_array().into_iter().flatten() {
            for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
                let actions = match &statement["Action"] {
                    Value::Array(actions) => actions.clone(),
                    action => vec![action.clone()],
                };
                for action in actions {
                    let action = action.as_str().unwrap();
                    let secrets_write =
                        action.starts_with("secretsmanager:") && action != "secretsmanager:GetSecretValue";
                    assert!(
                        !(statement["Effect"] == "Allow" && secrets_write),
                        "{name} may {action}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_queue_gives_its_function_six_timeouts_and_five_receives() {
    let template = aws_template();
    let least_visibility = template["Parameters"]["QueueVisibilitySeconds"]["MinValue"]
        .as_u64()
        .unwrap();
    let aliases = of_type(&template, "AWS::Lambda::Alias");
    let mut checked = 0;
    for (name, mapping) in of_type(&template, "AWS::Lambda::EventSourceMapping") {
        let source = &mapping["Properties"]["EventSourceArn"];
        let source = named(source);
        if template["Resources"][source]["Type"] != "AWS::SQS::Queue" {
            continue;
        }
        // The parameter's least value, or a queue's own (the payment step's, whose function waits
        // longer on the payment provider).
        let visibility = &template["Resources"][source]["Properties"]["VisibilityTimeout"];
        let least_visibility = match visibility.as_u64() {
            Some(own) => own,
            None => {
                assert_eq!(named(visibility), "QueueVisibilitySeconds", "{source}");
                least_visibility
            }
        };
        let alias = named(&mapping["Properties"]["FunctionName"]);
        let function = named(&aliases[alias]["Properties"]["FunctionName"]);
        let timeout = template["Resources"][function]["Properties"]["Timeout"]
            .as_u64()
            .unwrap();
        assert!(
            least_visibility >= 6 * timeout,
            "{name}: {source} may hide a message {least_visibility} s, {function} runs up to {timeout} s"
        );
        checked += 1;
    }
    assert_eq!(checked, 6, "the six saga steps' queues");
    // A throttled invocation spends a receive too: AWS asks for at least 5 before dead-lettering.
    let receives: u32 = parameter(&template, "MaxReceiveCount").parse().unwrap();
    assert!(receives >= 5, "a message is dead-lettered after {receives} receives");
}

/// What cfn-lint may say of the transformed template, each for its reason.
fn expected_finding(line: &str) -> bool {
    // A convention for describing a template to assistants, not a rule of AWS.
    line.contains(":I4010:")
        // SAM writes the partition of the region it transforms in (`arn:aws:` here) into the API's
        // routes and invoke permissions, which it makes anew in each region.
        || (line.contains(":I3042:") && (line.contains("Permission") || line.contains("Resource CafeApi ")))
        // SAM resolves the DeploymentPreference switch while transforming, so nothing refers to it after.
        || (line.contains(":W2001:") && line.contains("Parameter CanaryDeployments not used"))
}

#[test]
fn cfn_lint_finds_nothing_in_the_template_aws_receives() {
    let template = aws_template();
    let path = std::env::temp_dir().join(format!("cafe-transformed-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_vec_pretty(&template).unwrap()).unwrap();
    let root = workspace_root();
    let out = std::process::Command::new(root.join(".venv-sam/bin/cfn-lint"))
        .args(["--format", "parseable", "--include-checks", "I", "--"])
        .arg(&path)
        .output()
        .expect("cfn-lint in .venv-sam (localstack/test.sh installs the SAM CLI with it)");
    std::fs::remove_file(&path).ok();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let findings: Vec<&str> = report.lines().filter(|line| !expected_finding(line)).collect();
    assert!(findings.is_empty(), "cfn-lint:\n{}", findings.join("\n"));
}
