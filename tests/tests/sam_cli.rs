//! The SAM CLI on this project, as a SAM user would run it: the template lints clean, `sam build`
//! builds every function through cargo-lambda, and `sam deploy --config-env local` (samconfig.toml)
//! deploys a stack to the local cloud that takes an order through to its outcome.

use cafe_e2e::{Api, CloudEndpoint, profile_parameters, read_secret, workspace_root};
use serde_json::{Value, json};
use std::process::{Command, Output};

fn sam(args: &[&str], endpoint: Option<&str>) -> Output {
    let root = workspace_root();
    let sam = root.join(".venv-sam/bin/sam");
    assert!(
        sam.exists(),
        "the SAM CLI is not installed: run localstack/test.sh, which installs it"
    );
    // cargo-lambda, which `sam build` runs, is in the project's .venv.
    let path = format!(
        "{}:{}",
        root.join(".venv/bin").display(),
        std::env::var("PATH").unwrap()
    );
    let mut command = Command::new(sam);
    // Not the CARGO_* variables `cargo test` set for this test: the cargo that `sam build` runs
    // would see them and rebuild the whole workspace.
    for (key, _) in std::env::vars() {
        if key.starts_with("CARGO_") && key != "CARGO_HOME" {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .current_dir(&root)
        .env("PATH", path)
        // The dev profile, compiled by cargo itself rather than through Zig: what `cargo test`
        // built is reused instead of building the workspace a second time. (For AWS, `sam build`
        // keeps its defaults: release, linked by Zig against the glibc Lambda has.)
        .env("SAM_BUILD_MODE", "debug")
        .env("CARGO_LAMBDA_COMPILER", "cargo")
        .env("SAM_CLI_TELEMETRY", "0")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1");
    if let Some(endpoint) = endpoint {
        command.env("AWS_ENDPOINT_URL", endpoint);
    }
    let out = command.output().expect("sam runs");
    assert!(
        out.status.success(),
        "sam {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn template_passes_sam_validate_lint() {
    let out = sam(&["validate", "--lint", "--region", "us-east-1"], None);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("is a valid SAM Template"), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sam_build_and_sam_deploy_to_the_local_cloud_serve_an_order() {
    let root = workspace_root();
    let build_dir = root.join("target/sam-build");
    let _ = std::fs::remove_dir_all(&build_dir);
    sam(&["build", "--build-dir", build_dir.to_str().unwrap()], None);

    // Every function of the template got its own bootstrap from cargo-lambda.
    let template = std::fs::read_to_string(root.join("template.yaml")).unwrap();
    let functions: Vec<&str> = template
        .lines()
        .zip(template.lines().skip(1))
        .filter(|(_, next)| next.trim() == "Type: AWS::Serverless::Function")
        .map(|(line, _)| line.trim().trim_end_matches(':'))
        .collect();
    assert_eq!(functions.len(), 13, "{functions:?}");
    for function in &functions {
        let bootstrap = build_dir.join(function).join("bootstrap");
        let meta = std::fs::metadata(&bootstrap).unwrap_or_else(|_| panic!("{} is missing", bootstrap.display()));
        assert!(meta.len() > 1 << 20, "{} is {} bytes", bootstrap.display(), meta.len());
    }

    // `sam deploy` with the local profile of samconfig.toml; its artifact bucket first.
    let cloud = CloudEndpoint::start();
    let bucket = reqwest::Client::new()
        .put(format!("{}/cafe-artifacts", cloud.url))
        .send()
        .await
        .unwrap();
    assert!(
        bucket.status().is_success(),
        "creating the artifact bucket: {}",
        bucket.status()
    );
    let stack = format!("{}-sam", cloud.name);
    let template = build_dir.join("template.yaml");
    let config = root.join("samconfig.toml");
    let mut deploy = vec![
        "deploy",
        "--template-file",
        template.to_str().unwrap(),
        // Beside the built template sam would look for a samconfig.toml in target/sam-build.
        "--config-file",
        config.to_str().unwrap(),
        "--config-env",
        "local",
        "--stack-name",
        &stack,
        "--no-progressbar",
    ];
    // Given on the command line, overrides replace the profile's: those go along.
    let local: Vec<String> = (profile_parameters("local").iter())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let own_bus = format!("{} EventBusName={stack}", local.join(" "));
    if cloud.shared {
        deploy.extend(["--parameter-overrides", &own_bus]);
    }
    sam(&deploy, Some(&cloud.url));
    let out = sam(
        &["list", "stack-outputs", "--stack-name", &stack, "--output", "json"],
        Some(&cloud.url),
    );
    let outputs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let output = |key: &str| {
        outputs
            .iter()
            .find(|o| o["OutputKey"] == key)
            .and_then(|o| o["OutputValue"].as_str())
            .unwrap_or_else(|| panic!("no output {key} in {outputs:?}"))
            .to_string()
    };
    let api = Api {
        base: format!(
            "{}/_aws/execute-api/{}/{}/",
            cloud.url,
            output("ApiId"),
            output("StageName")
        ),
        http: reqwest::Client::new(),
        token: Some(read_secret(&cloud.url, &output("OperatorTokenSecretArn")).await),
    };

    let stocked = api.post("/inventories", &json!({"stockName": "cup", "qty": 3})).await;
    assert_eq!(stocked.status, 201, "{:?}", stocked.body);
    let order = api
        .place(json!({"customerId": "sam-1", "beverageName": "latte", "beverageQty": 2}))
        .await;
    let order = api.final_order(order["orderId"].as_str().unwrap()).await;
    assert_eq!(order["orderStatus"], "completed", "{order}");
    // The notification follows the completed order (notify runs on OrderCompleted).
    let notified = api
        .wait_for("/notifications?customerId=sam-1", cafe_e2e::SAGA_TIMEOUT, |a| {
            a.body != json!([])
        })
        .await;
    assert_eq!(notified.body.as_array().unwrap().len(), 1, "{:?}", notified.body);
    eprintln!(
        "[sam] built {} functions, deployed stack {stack}, order completed",
        functions.len()
    );
}
