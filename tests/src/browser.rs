//! The pages' browser tests (tests/browser), run against a local cloud.

use super::*;

/// Runs a browser script of `tests/browser` (headless Chromium through playwright-core) against
/// the cloud's kiosk URL, as a kiosk the operator registered, with screenshots kept in
/// `target/e2e/screenshots/`: its output, once it passed. The script asks for what only the
/// cloud's operator can do (turn the beverage step off and on, put a message in a dead-letter
/// queue or empty it) one `[cloud] ...` line at a time, and waits for `done`.
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
            "a message in the inventory dead-letter queue" => runtime.block_on(async {
                let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
                let url = cloud.output("InventoryDeadLetterQueueUrl");
                sqs.send_message()
                    .queue_url(url)
                    .message_body("{}")
                    .send()
                    .await
                    .unwrap();
            }),
            "the inventory dead-letter queue emptied" => runtime.block_on(async {
                let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
                drain(&sqs, &cloud.output("InventoryDeadLetterQueueUrl")).await;
            }),
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
