//! The operator's page in a real browser (`tests/browser/operator.mjs`, headless Chromium): every
//! control of the page is driven on a freshly deployed stack and its effect checked through the
//! API, and the page's cup level and day at a glance agree with the orders the script placed. The
//! alerts the page shows went to the operator's topic too. A screenshot of the page is kept in
//! `target/e2e/screenshots/operator-console.png`.

use cafe_e2e::{LocalCloud, drain, run_browser_script, tap_topic, workspace_root};

#[test]
fn an_operator_runs_the_cafe_from_the_page() {
    let cloud = LocalCloud::start(&[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sqs = runtime.block_on(async { aws_sdk_sqs::Client::new(&cloud.sdk().await) });
    let alerts = runtime.block_on(tap_topic(&cloud, &sqs, "OperatorAlarmTopicArn"));
    let out = run_browser_script(&cloud, &runtime, "operator.mjs");
    assert!(out.contains("[operator] all checks passed"), "{out}");
    // Each sent once, and only those: the script waited for both on the page, which shows an
    // alert once it was sent.
    let mut sent: Vec<String> = (runtime.block_on(drain(&sqs, &alerts)).into_iter())
        .filter_map(|message| message.body)
        .collect();
    sent.sort();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[0].starts_with("The beverage machine is out of service"),
        "{sent:?}"
    );
    assert!(sent[1].starts_with("cup has run out"), "{sent:?}");
    let screenshots = workspace_root().join("target/e2e/screenshots");
    for shot in ["operator-console.png", "operator-new-kiosk.png", "operator-phone.png"] {
        assert!(screenshots.join(shot).exists(), "{shot} was not taken");
    }
}
