//! The operator's page in a real browser (`tests/browser/operator.mjs`, headless Chromium): every
//! control of the page is driven on a freshly deployed stack and its effect checked through the
//! API, and the page's cup level agrees with the orders the script placed. A screenshot of the
//! page is kept in `target/e2e/screenshots/operator-console.png`.

use cafe_e2e::{LocalCloud, run_browser_script, workspace_root};

#[test]
fn an_operator_runs_the_cafe_from_the_page() {
    let cloud = LocalCloud::start(&[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let out = run_browser_script(&cloud, &runtime, "operator.mjs");
    assert!(out.contains("[operator] all checks passed"), "{out}");
    let screenshots = workspace_root().join("target/e2e/screenshots");
    for shot in ["operator-console.png", "operator-new-kiosk.png"] {
        assert!(screenshots.join(shot).exists(), "{shot} was not taken");
    }
}
