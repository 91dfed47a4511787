//! The API keeps its OpenAPI contract: schemathesis (pinned in .venv) reads the document the
//! running stack serves at `/openapi.json` and sends generated requests to every operation,
//! checking that none gets a 5xx and every answer's status, content type and body are documented.

use cafe_e2e::{LocalCloud, workspace_root};
use std::process::Command;

#[test]
fn the_running_api_keeps_its_openapi_contract() {
    let schemathesis = workspace_root().join(".venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "schemathesis is not installed in .venv: run localstack/test.sh"
    );
    let cloud = LocalCloud::start(&[]);
    let api = cloud.api();
    let run = Command::new(schemathesis)
        .arg("run")
        .arg(api.url("/openapi.json"))
        .args(["--url", cloud.api_url.trim_end_matches('/')])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--mode", "all", "--max-examples", "15", "--seed", "1"])
        // As the operator, who may call every operation (schemathesis masks it in its output).
        .args(["--header", &format!("Authorization: Bearer {}", cloud.operator_token)])
        .env("NO_COLOR", "1")
        .output()
        .expect("schemathesis runs");
    let out = String::from_utf8_lossy(&run.stdout);
    let summary: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("passed") || l.contains("failed") || l.contains("Operations"))
        .collect();
    println!("[contract] {}", summary.join(" | "));
    assert!(
        run.status.success(),
        "schemathesis found contract violations:\n{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
}
