//! The kiosk page and the operator's page in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/kiosk.mjs`), clicks through the seed's scenarios on a freshly
//! deployed stack (as a kiosk the operator registered, from an unregistered screen to a revoked
//! one), and checks that the operator's page keeps nothing after sign-out or when idle.
//! Screenshots of each final state are kept in `target/e2e/screenshots/`.

use cafe_e2e::{LocalCloud, workspace_root};
use std::process::Command;

#[test]
fn the_seed_scenarios_clicked_through_on_the_kiosk_page() {
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
    let cloud = LocalCloud::start(&[]);
    let kiosk = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(cloud.kiosk_api("browser test"));
    let screenshots = root.join("target/e2e/screenshots");
    let run = Command::new("node")
        .arg(browser_tests.join("kiosk.mjs"))
        .arg(&cloud.api_url)
        .arg(&screenshots)
        .env("CHROMIUM", &chromium)
        .env("CAFE_OPERATOR_TOKEN", &cloud.operator_token)
        .env("CAFE_KIOSK_TOKEN", kiosk.token.as_deref().unwrap())
        .env(
            "CAFE_SMS_LOG",
            format!("{}/_ministack/sns/sms-messages", cloud.endpoint),
        )
        .output()
        .expect("node runs");
    let out = String::from_utf8_lossy(&run.stdout);
    println!("{out}");
    assert!(
        run.status.success(),
        "the kiosk page failed a check:\n{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.contains("[kiosk] all checks passed"));
    for shot in [
        "customer-1-cancelled.png",
        "customer-2-completed.png",
        "operator.png",
        "operator-signed-out.png",
        "phone.png",
        "customer-5-texted.png",
    ] {
        assert!(screenshots.join(shot).exists(), "{shot} was not taken");
    }
}
