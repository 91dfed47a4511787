//! A local cloud for tests: a fresh MiniStack on a free port (or the user's cloud at
//! `CAFE_ENDPOINT`), and template.yaml's own tables made in it for the stores' contract tests.

mod tables;

pub use tables::Tables;

/// A store port's contract: each case (an `async fn(&Subject)`) run twice, as
/// `fake::<case>` against the in-memory fake and as `dynamodb::<case>` against the DynamoDB
/// store on new tables of the template; `fake` and `dynamodb` are `async fn() -> Subject`
/// that make a fresh one. A case holds for both or the store and its fake disagree.
#[macro_export]
macro_rules! contract {
    (fake: $fake:ident, dynamodb: $real:ident, cases: [$($case:ident),+ $(,)?]) => {
        mod fake {
            $(#[tokio::test]
            async fn $case() {
                super::$case(&super::$fake().await).await
            })+
        }
        mod dynamodb {
            $(#[tokio::test]
            async fn $case() {
                super::$case(&super::$real().await).await
            })+
        }
    };
}

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
        let mut ministack = Command::new(venv.join("ministack"));
        ministack
            .env("TMPDIR", &temp)
            .env("BIND_HOST", "127.0.0.1")
            .env("GATEWAY_PORT", port.to_string())
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("RUST_LOG", "info");
        let ready = Ready {
            what: "MiniStack",
            port,
            path: "/_localstack/health",
            status: 200,
            within: Duration::from_secs(60),
        };
        let took = ready.start(&mut ministack, &log);
        eprintln!("[e2e] MiniStack up at {endpoint} in {:.1} s", took.as_secs_f64());
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

/// The payment provider for a test: localstripe (`localstack/payments.py`) on a free port,
/// stopped with the tests.
pub struct PaymentProvider {
    pub url: String,
}

impl PaymentProvider {
    /// The one of this test binary, started on first use.
    pub fn shared() -> &'static PaymentProvider {
        static PROVIDER: std::sync::OnceLock<PaymentProvider> = std::sync::OnceLock::new();
        PROVIDER.get_or_init(PaymentProvider::start)
    }

    fn start() -> PaymentProvider {
        let root = workspace_root();
        let port = free_port();
        let logs = root.join("target/e2e");
        std::fs::create_dir_all(&logs).unwrap();
        let log = logs.join(format!("payments-{port}.log"));
        let mut provider = Command::new(root.join(".venv/bin/python"));
        provider
            .arg(root.join("localstack/payments.py"))
            .args(["--port", &port.to_string()]);
        // It answers 401 to a call without a key once it is up.
        let ready = Ready {
            what: "the payment provider",
            port,
            path: "/v1/payment_intents",
            status: 401,
            within: Duration::from_secs(30),
        };
        ready.start(&mut provider, &log);
        PaymentProvider {
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

/// When a local server a test starts is up: `path` on `port` answers `status`, within `within`.
struct Ready {
    what: &'static str,
    port: u16,
    path: &'static str,
    status: u16,
    within: Duration,
}

impl Ready {
    /// Starts `command` (tied to this process, its output to `log`) and waits until it is up:
    /// how long that took.
    fn start(&self, command: &mut Command, log: &Path) -> Duration {
        spawn_tied_to_this_process(
            command
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(log).unwrap())
                .stderr(std::fs::File::options().append(true).open(log).unwrap()),
        );
        let started = Instant::now();
        while get_status(self.port, self.path) != Some(self.status) {
            assert!(
                started.elapsed() < self.within,
                "{} did not start; see {}",
                self.what,
                log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        started.elapsed()
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A port nothing listens on, on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The status of a plain HTTP GET on loopback, for polling health before any async runtime is around.
pub fn get_status(port: u16, path: &str) -> Option<u16> {
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

/// An SDK configuration pointed at a local cloud.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
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
    rx.recv().unwrap().expect("the process starts");
}
