//! The end-to-end harness: a fresh MiniStack on a free port with the stack deployed from
//! template.yaml, shared by the tests of one test binary, and a small client for the cafe's API.

pub mod samples;

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

/// An answer of the cafe's API: status, JSON body, and where a list's next page starts.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The `Next-Token` header of a list with more pages.
    pub next_token: Option<String>,
}

impl Answer {
    /// The `code` of a `{"error":{...}}` answer.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    /// Sent as `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl Api {
    /// The same API, calling with this bearer token.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let next_token = response
            .headers()
            .get("next-token")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            body,
            next_token,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.put(self.url(path)).json(body)).await
    }

    /// Sends a raw body, for malformed and oversized input.
    pub async fn send_raw(&self, method: reqwest::Method, path: &str, body: impl Into<reqwest::Body>) -> Answer {
        self.send(
            self.http
                .request(method, self.url(path))
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    /// Sets a stock level as the operator's page does, creating the stock item if needed.
    pub async fn set_stock(&self, stock_name: &str, qty: u32) {
        let created = self
            .post("/inventories", &json!({"stockName": stock_name, "qty": qty}))
            .await;
        if created.status == 409 {
            let path = format!("/inventories/{stock_name}");
            assert_eq!(self.put(&path, &json!({"qty": qty})).await.status, 200);
        } else {
            assert_eq!(created.status, 201, "{created:?}");
        }
    }

    /// Places an order, which must be accepted as pending.
    pub async fn place(&self, order: Value) -> Value {
        let placed = self.post("/orders", &order).await;
        assert_eq!(placed.status, 201, "{placed:?}");
        assert_eq!(placed.body["orderStatus"], "pending");
        placed.body
    }

    /// The order once it is cancelled or completed.
    pub async fn final_order(&self, order_id: &str) -> Value {
        let is_final =
            |a: &Answer| a.status == 200 && matches!(a.body["orderStatus"].as_str(), Some("cancelled" | "completed"));
        self.wait_for(&format!("/orders/{order_id}"), SAGA_TIMEOUT, is_final)
            .await
            .body
    }

    pub async fn notifications_of(&self, customer_id: &str) -> Vec<Value> {
        let answer = self.get(&format!("/notifications?customerId={customer_id}")).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body.as_array().unwrap().clone()
    }

    /// Polls `GET path` until `done` holds for the answer, or fails after `timeout`.
    pub async fn wait_for(&self, path: &str, timeout: Duration, done: impl Fn(&Answer) -> bool) -> Answer {
        let started = Instant::now();
        loop {
            let answer = self.get(path).await;
            if done(&answer) {
                return answer;
            }
            assert!(
                started.elapsed() < timeout,
                "GET {path} did not reach the expected state in {timeout:?}; last: {answer:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A new queue of the test's own: its URL and ARN.
pub async fn new_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = queue_arn(sqs, &url).await;
    (url, arn)
}

/// A queue that receives a copy of every event on the bus, to replay them later.
pub async fn tap_bus(cloud: &LocalCloud, sqs: &aws_sdk_sqs::Client) -> String {
    let events = aws_sdk_eventbridge::Client::new(&cloud.sdk().await);
    let (url, arn) = new_queue(sqs, &format!("{}-bus-tap", cloud.stack)).await;
    let bus = cloud.output("EventBusName");
    let rule = format!("{}-bus-tap", cloud.stack);
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(&bus)
        .event_pattern(r#"{"source":[{"prefix":"cafe."}]}"#)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("tap")
                .arn(arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    url
}

/// Sends each of these bus messages (bodies as a tap received them) to every saga queue, as an
/// at-least-once bus may: each consumer ignores what is not for it, and what is must change
/// nothing the second time. Returns the messages sent.
pub async fn redeliver_to_every_consumer(cloud: &LocalCloud, sqs: &aws_sdk_sqs::Client, bodies: &[String]) -> usize {
    let mut sent = 0;
    for queue in cloud.saga_queues() {
        sent += send_in_batches(sqs, &queue, bodies).await;
    }
    sent
}

/// Sends these message bodies to a queue in batches of 10, as a consumer receives them; returns
/// how many were sent.
pub async fn send_in_batches(sqs: &aws_sdk_sqs::Client, queue_url: &str, bodies: &[String]) -> usize {
    for batch in bodies.chunks(10) {
        let entries = batch.iter().enumerate().map(|(i, body)| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(body)
                .build()
                .unwrap()
        });
        let out = (sqs.send_message_batch().queue_url(queue_url))
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .unwrap();
        assert!(out.failed.is_empty(), "{:?}", out.failed);
    }
    bodies.len()
}

/// Turns a saga step off or on: its queue's event source mapping stops or starts polling (the
/// queue keeps what arrives meanwhile), as when the step is down and comes back.
pub async fn switch_step(cloud: &LocalCloud, queue_output: &str, enabled: bool) {
    let sdk = cloud.sdk().await;
    let (sqs, lambda) = (aws_sdk_sqs::Client::new(&sdk), aws_sdk_lambda::Client::new(&sdk));
    let queue = queue_arn(&sqs, &cloud.output(queue_output)).await;
    let mappings = (lambda.list_event_source_mappings().event_source_arn(queue))
        .send()
        .await
        .unwrap();
    let mapping = mappings.event_source_mappings()[0].uuid().unwrap();
    (lambda.update_event_source_mapping().uuid(mapping).enabled(enabled))
        .send()
        .await
        .unwrap();
    // The poller sees the change on its next round.
    tokio::time::sleep(Duration::from_secs(2)).await;
}

/// A queue's ARN (to subscribe it to a topic or a rule).
pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    use aws_sdk_sqs::types::QueueAttributeName::QueueArn;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueArn)
        .send()
        .await
        .unwrap();
    attrs.attributes.unwrap()[&QueueArn].clone()
}

/// How many messages a queue holds, visible or in flight.
pub async fn queued(sqs: &aws_sdk_sqs::Client, url: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName::{ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible};
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(ApproximateNumberOfMessages)
        .attribute_names(ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    attrs
        .attributes
        .unwrap_or_default()
        .values()
        .map(|v| v.parse::<u64>().unwrap())
        .sum()
}

/// Waits until none of these queues holds a message, visible or in flight: every event
/// delivered so far has been handled.
pub async fn wait_until_drained(sqs: &aws_sdk_sqs::Client, queue_urls: &[String], timeout: Duration) {
    let started = Instant::now();
    loop {
        let mut pending = 0;
        for url in queue_urls {
            pending += queued(sqs, url).await;
        }
        if pending == 0 {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "{pending} messages still queued after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every message now in a queue (bodies, with their message attributes), removing them.
pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            return all;
        }
        for m in &messages {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle.clone().unwrap())
                .send()
                .await
                .unwrap();
        }
        all.extend(messages);
    }
}

/// Runs a browser script of `tests/browser` (headless Chromium through playwright-core) against
/// the cloud's kiosk URL, as a kiosk the operator registered, with screenshots kept in
/// `target/e2e/screenshots/`: its output, once it passed. The script asks for what only the
/// cloud's operator can do (turn the beverage step off and on) one `[cloud] ...` line at a time,
/// and waits for `done`.
pub fn run_browser_script(cloud: &LocalCloud, runtime: &tokio::runtime::Runtime, script: &str) -> String {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let root = workspace_root();
    let browser_tests = root.join("tests/browser");
    assert!(
        browser_tests.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: localstack/test.sh installs it (npm ci in tests/browser)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no Chromium at {chromium}: localstack/test.sh installs Debian's chromium (or set CHROMIUM)"
    );
    let kiosk = runtime.block_on(cloud.kiosk_api(&format!("browser {}", script.trim_end_matches(".mjs"))));
    let mut run = Command::new("node")
        .arg(browser_tests.join(script))
        .arg(&cloud.api_url)
        .arg(root.join("target/e2e/screenshots"))
        .env("CHROMIUM", &chromium)
        .env("CAFE_OPERATOR_TOKEN", &cloud.operator_token)
        .env("CAFE_KIOSK_TOKEN", kiosk.token.as_deref().unwrap())
        .env(
            "CAFE_SMS_LOG",
            format!("{}/_ministack/sns/sms-messages", cloud.endpoint),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    let errors = run.stderr.take().unwrap();
    let errors = std::thread::spawn(move || std::io::read_to_string(errors).unwrap_or_default());
    let mut replies = run.stdin.take().unwrap();
    let mut out = String::new();
    for line in BufReader::new(run.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        println!("{line}");
        out.push_str(&line);
        out.push('\n');
        let Some(request) = line.strip_prefix("[cloud] ") else {
            continue;
        };
        match request {
            "beverage step off" => runtime.block_on(switch_step(cloud, "BeverageQueueUrl", false)),
            "beverage step on" => runtime.block_on(switch_step(cloud, "BeverageQueueUrl", true)),
            other => panic!("the page's script asked for {other:?}"),
        }
        writeln!(replies, "done").unwrap();
    }
    let status = run.wait().unwrap();
    assert!(
        status.success(),
        "{script} failed a check:\n{out}\n{}",
        errors.join().unwrap()
    );
    out
}
