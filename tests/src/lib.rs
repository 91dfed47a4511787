//! The end-to-end harness: a fresh MiniStack on a free port with the stack deployed from
//! template.yaml, shared by the tests of one test binary, and a small client for the cafe's API.

mod api;
mod browser;
mod payments;
mod queues;
pub mod samples;
mod template;

pub use api::*;
pub use browser::*;
pub use payments::*;
pub use queues::*;
pub use template::*;

pub use cafe_testkit::{CloudEndpoint, PaymentProvider, free_port, sdk_config, workspace_root};

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a test waits for the saga to settle.
pub const SAGA_TIMEOUT: Duration = Duration::from_secs(60);

/// A deployed local stack: where it answers and what CloudFormation reported.
#[derive(Debug, Clone)]
pub struct LocalCloud {
    pub endpoint: String,
    /// The CloudFormation stack's name, also a prefix for what a test adds to a shared cloud.
    pub stack: String,
    pub api_url: String,
    pub outputs: Value,
    /// The operator's bearer token, read from its secret.
    pub operator_token: String,
    /// The stack's outputs as `deploy.py` wrote them (what `make up` leaves in .cafe/outputs.json).
    pub outputs_file: PathBuf,
}

const CONSUMERS: [&str; 6] = ["Payment", "Inventory", "Order", "Beverage", "Notify", "Kiosk"];

impl LocalCloud {
    /// The stack of this test binary, started and deployed on first use.
    pub fn shared() -> &'static LocalCloud {
        static CLOUD: OnceLock<LocalCloud> = OnceLock::new();
        CLOUD.get_or_init(|| LocalCloud::start(&[]))
    }

    /// Deploys the stack, with these parameter overrides, to a fresh MiniStack on a free port, or
    /// to the local cloud at `CAFE_ENDPOINT` (e.g. LocalStack) under a stack and bus of its own,
    /// its payment function calling this test binary's payment provider (localstripe). Orders
    /// need no card (`RequirePayment=false`) unless the test asks for the cafe's default.
    pub fn start(parameters: &[(&str, &str)]) -> LocalCloud {
        let cloud = CloudEndpoint::start();
        let root = workspace_root();
        let port = cloud.url.rsplit(':').next().unwrap_or_default().trim_end_matches('/');
        let outputs_file = root.join(format!("target/e2e/outputs-{}-{port}.json", cloud.name));
        let mut deploy = Command::new(root.join(".venv/bin/python"));
        deploy
            .arg(root.join("localstack/deploy.py"))
            .args(["--endpoint", &cloud.url, "--stack-name", &cloud.name, "--outputs"])
            .arg(&outputs_file)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1");
        if cloud.shared {
            // Buses are named: each stack on a shared cloud needs its own.
            deploy.arg("--parameter").arg(format!("EventBusName={}", cloud.name));
        }
        let provider = format!("PaymentProviderUrl={}", PaymentProvider::shared().url);
        let defaults = [provider.as_str(), "RequirePayment=false"];
        let overrides = parameters.iter().map(|(key, value)| format!("{key}={value}"));
        for parameter in defaults.iter().map(|p| p.to_string()).chain(overrides) {
            deploy.arg("--parameter").arg(parameter);
        }
        let deployed = Instant::now();
        let status = deploy.status().expect("python in .venv runs deploy.py");
        assert!(
            status.success(),
            "deploying template.yaml failed; see {}",
            cloud.log_hint()
        );
        eprintln!("[e2e] stack deployed in {:.1} s", deployed.elapsed().as_secs_f64());
        let outputs: Value = serde_json::from_str(&std::fs::read_to_string(&outputs_file).unwrap()).unwrap();
        let mut cloud = LocalCloud {
            endpoint: cloud.url,
            stack: cloud.name,
            api_url: outputs["LocalApiUrl"].as_str().unwrap().to_string(),
            outputs,
            operator_token: String::new(),
            outputs_file,
        };
        cloud.operator_token = cloud.read_operator_token();
        cloud
    }

    pub fn output(&self, key: &str) -> String {
        self.outputs[key]
            .as_str()
            .unwrap_or_else(|| panic!("no stack output {key}"))
            .to_string()
    }

    /// The six consumers' queues.
    pub fn saga_queues(&self) -> Vec<String> {
        CONSUMERS.iter().map(|c| self.output(&format!("{c}QueueUrl"))).collect()
    }

    /// Their dead-letter queues, and the order outbox's.
    pub fn dead_letter_queues(&self) -> Vec<String> {
        CONSUMERS
            .iter()
            .chain(&["OrderOutbox"])
            .map(|c| self.output(&format!("{c}DeadLetterQueueUrl")))
            .collect()
    }

    /// The texts (SMS) sent to a phone number: MiniStack's log of direct-to-phone publishes, else
    /// LocalStack's (same shape, other path).
    pub async fn texts_to(&self, phone: &str) -> Vec<Value> {
        let mut answer = reqwest::get(format!("{}/_ministack/sns/sms-messages", self.endpoint))
            .await
            .unwrap();
        if !answer.status().is_success() {
            answer = reqwest::get(format!("{}/_aws/sns/sms-messages", self.endpoint))
                .await
                .unwrap();
        }
        let body: Value = answer.json().await.unwrap();
        body["sms_messages"][phone].as_array().cloned().unwrap_or_default()
    }

    /// An SDK configuration pointed at this cloud.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        sdk_config(&self.endpoint).await
    }

    fn read_operator_token(&self) -> String {
        let (endpoint, secret) = (self.endpoint.clone(), self.output("OperatorTokenSecretArn"));
        // Its own thread and runtime: a test may call `start` from inside its async runtime.
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(read_secret(&endpoint, &secret))
        })
        .join()
        .unwrap()
    }

    /// The client for the cafe's HTTP API, as the operator (who may see and do everything).
    pub fn api(&self) -> Api {
        self.anonymous_api().with_token(&self.operator_token)
    }

    /// Registers a kiosk (as the operator) and returns the client for the API as that kiosk.
    pub async fn kiosk_api(&self, kiosk_name: &str) -> Api {
        let registered = self.api().post("/kiosks", &json!({"kioskName": kiosk_name})).await;
        assert_eq!(registered.status, 201, "{registered:?}");
        let token = registered.body["kioskToken"].as_str().expect("a new kiosk's token");
        self.anonymous_api().with_token(token)
    }

    /// The client for the cafe's HTTP API, with no credential.
    pub fn anonymous_api(&self) -> Api {
        Api {
            base: self.api_url.clone(),
            http: reqwest::Client::new(),
            token: None,
        }
    }
}

/// The value of a secret on a local cloud.
pub async fn read_secret(endpoint: &str, secret: &str) -> String {
    aws_sdk_secretsmanager::Client::new(&sdk_config(endpoint).await)
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .expect("the secret is readable")
        .secret_string
        .expect("the secret has a value")
}
