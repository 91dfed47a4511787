//! The end-to-end harness: a fresh MiniStack on a free port with the stack deployed from
//! template.yaml, shared by the tests of one test binary, and a small client for the cafe's API.

mod api;
mod browser;
mod queues;
pub mod samples;
mod template;

pub use api::*;
pub use browser::*;
pub use queues::*;
pub use template::*;

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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

/// Where a test's stack goes: a MiniStack of its own, or the user's cloud at `CAFE_ENDPOINT`.
pub struct CloudEndpoint {
    pub url: String,
    /// The stack name to deploy under (unique on a shared cloud).
    pub name: String,
    /// True when the cloud is the user's, shared with other test binaries.
    pub shared: bool,
    log: Option<PathBuf>,
}

impl CloudEndpoint {
    pub fn start() -> CloudEndpoint {
        match std::env::var("CAFE_ENDPOINT") {
            Ok(url) if !url.is_empty() => {
                let port = url
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.trim_end_matches('/').parse().ok());
                assert!(
                    port.is_some_and(|port| get_status(port, "/_localstack/health") == Some(200)),
                    "nothing answers at CAFE_ENDPOINT={url}/_localstack/health"
                );
                static STACKS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = STACKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let name = format!("cafe-e2e-{}-{n}", std::process::id());
                CloudEndpoint {
                    url: url.trim_end_matches('/').to_string(),
                    name,
                    shared: true,
                    log: None,
                }
            }
            _ => Self::start_ministack(),
        }
    }

    fn start_ministack() -> CloudEndpoint {
        let root = workspace_root();
        let venv = root.join(".venv/bin");
        assert!(
            venv.join("ministack").exists(),
            "MiniStack is not installed in .venv: run localstack/test.sh, which installs it"
        );
        let port = free_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let logs = root.join("target/e2e");
        std::fs::create_dir_all(&logs).unwrap();
        let log = logs.join(format!("ministack-{port}.log"));
        // MiniStack unpacks every function's code under its temp dir (169 MB a stack) and never
        // removes it: each cloud gets its own, and those of clouds no longer running go.
        let temp = logs.join(format!("tmp-{port}"));
        remove_temp_dirs_of_stopped_clouds(&logs);
        std::fs::create_dir_all(&temp).unwrap();
        spawn_tied_to_this_process(
            Command::new(venv.join("ministack"))
                .env("TMPDIR", &temp)
                .env("BIND_HOST", "127.0.0.1")
                .env("GATEWAY_PORT", port.to_string())
                .env("AWS_ENDPOINT_URL", &endpoint)
                .env("RUST_LOG", "info")
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(std::fs::File::options().append(true).open(&log).unwrap()),
        );
        let started = Instant::now();
        while get_status(port, "/_localstack/health") != Some(200) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "MiniStack did not start; see {}",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!(
            "[e2e] MiniStack up at {endpoint} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        CloudEndpoint {
            url: endpoint,
            name: "cafe".into(),
            shared: false,
            log: Some(log),
        }
    }

    pub fn log_hint(&self) -> String {
        match &self.log {
            Some(log) => log.display().to_string(),
            None => format!("the logs of the cloud at {}", self.url),
        }
    }
}

const CONSUMERS: [&str; 5] = ["Inventory", "Order", "Beverage", "Notify", "Kiosk"];

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A port nothing listens on, on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A plain HTTP GET on loopback, for polling health before any async runtime is around.
fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// The `tmp-<port>` dirs under `logs` whose cloud no longer answers.
fn remove_temp_dirs_of_stopped_clouds(logs: &Path) {
    for entry in std::fs::read_dir(logs).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(port) = name.strip_prefix("tmp-").and_then(|p| p.parse::<u16>().ok()) else {
            continue;
        };
        if get_status(port, "/_localstack/health").is_none() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl LocalCloud {
    /// The stack of this test binary, started and deployed on first use.
    pub fn shared() -> &'static LocalCloud {
        static CLOUD: OnceLock<LocalCloud> = OnceLock::new();
        CLOUD.get_or_init(|| LocalCloud::start(&[]))
    }

    /// Deploys the stack, with these parameter overrides, to a fresh MiniStack on a free port, or
    /// to the local cloud at `CAFE_ENDPOINT` (e.g. LocalStack) under a stack and bus of its own.
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
        for (key, value) in parameters {
            deploy.arg("--parameter").arg(format!("{key}={value}"));
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

    /// The five consumers' queues.
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

/// An SDK configuration pointed at a local cloud.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "e2e"))
        .load()
        .await
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

/// Starts the command from a thread that lives as long as the process, with the kernel told
/// to stop the child when that thread ends: the local cloud never outlives the tests.
#[allow(unsafe_code)] // `pre_exec` is unsafe: the closure only makes one async-signal-safe call.
fn spawn_tied_to_this_process(command: &mut Command) {
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let mut command = std::mem::replace(command, Command::new("true"));
    std::thread::spawn(move || {
        let child = command.spawn();
        let spawned = child.is_ok();
        tx.send(child.map(|_| ()).map_err(|e| e.to_string())).unwrap();
        if spawned {
            loop {
                std::thread::park();
            }
        }
    });
    rx.recv().unwrap().expect("MiniStack starts");
}
