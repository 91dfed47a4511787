//! The benchmark command (`make bench`, `localstack/bench.py`) in its `--quick` mode against a
//! freshly deployed stack: it runs every part and writes a complete report. Only the report's
//! shape is checked here, never a timing (timings are the benchmark's to print, not a test's).

use cafe_e2e::{LocalCloud, workspace_root};
use serde_json::Value;
use std::collections::BTreeSet;

const TOP_LEVEL: [&str; 14] = [
    "schema",
    "started_at",
    "duration_s",
    "quick",
    "config",
    "end_to_end",
    "floor",
    "requests_per_completed_order",
    "ratio",
    "emulator",
    "functions",
    "aws_calls",
    "cost",
    "files",
];

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn the_quick_benchmark_writes_a_complete_report() {
    let root = workspace_root();
    let cloud = LocalCloud::start(&[]);
    let out = root.join("target/e2e/bench-quick");
    let _ = std::fs::remove_dir_all(&out);
    let run = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("localstack/bench.py"))
        .arg("--quick")
        .arg("--outputs")
        .arg(&cloud.outputs_file)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("python in .venv runs bench.py");
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "bench.py --quick failed:\n{said}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(said.contains("end-to-end:"), "progress is shown while it runs:\n{said}");
    for printed in [
        "| saga, end to end |",
        "| minimal design, 4 customers |",
        "| saga ÷ floor |",
        "Cost of 1 million orders",
    ] {
        assert!(
            said.contains(printed),
            "it ends by printing the floor, the ratios and the cost ({printed}):\n{said}"
        );
    }

    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap()).unwrap();
    let expected: BTreeSet<String> = TOP_LEVEL.iter().map(|k| k.to_string()).collect();
    assert_eq!(keys(&report), expected);
    assert_eq!(report["schema"], "cafe-bench/3");
    assert_eq!(report["quick"], true);

    let e2e = &report["end_to_end"];
    assert_eq!(e2e["failed"], 0, "every order reached its outcome");
    assert_eq!(
        e2e["completed"].as_u64().unwrap() + e2e["cancelled"].as_u64().unwrap(),
        e2e["orders"].as_u64().unwrap()
    );
    for outcome in ["all", "completed", "cancelled"] {
        let stats = &e2e["latency_ms"][outcome];
        for key in ["count", "min", "p50", "p90", "p99", "max", "mean"] {
            assert!(stats.get(key).is_some(), "latency_ms.{outcome}.{key}");
        }
    }
    assert!(e2e["orders_per_s"].is_number());
    // The one floor: a minimal design's calls (the saga's own are counted on the real run).
    let floors: Vec<&String> = report["floor"].as_object().unwrap().keys().collect();
    assert_eq!(floors, ["minimal"]);
    let runs = &report["floor"]["minimal"];
    assert!(runs["alone"]["latency_ms"]["all"]["p50"].is_number());
    assert_eq!(runs["concurrent"]["orders"], e2e["orders"]);
    let clients = runs["concurrent"]["client_processes"].as_array().unwrap();
    assert!(clients.len() > 1, "the floor is driven from several processes");
    assert!(clients.iter().all(|p| p["cores"].is_number()), "{clients:?}");
    for figure in [
        "orders_per_s",
        "cloud_cpu_per_order",
        "calls_per_completed_order",
        "p50",
        "p99",
    ] {
        assert!(report["ratio"]["minimal"][figure].is_number(), "ratio minimal.{figure}");
    }
    // Against the minimal design, requests are also counted as it would make them on AWS.
    let requests = &report["requests_per_completed_order"];
    assert!(
        requests["minimal"].as_f64().unwrap() > 10.0,
        "its 10 calls and the platform's: {requests}"
    );
    assert!(report["ratio"]["minimal"]["aws_requests_per_completed_order"].is_number());
    let minimal = &report["floor"]["minimal"]["per_order"]["completed"];
    assert_eq!(minimal["total_calls"], 10.0, "the minimal design's 10 calls");

    let functions = report["functions"].as_array().unwrap();
    let binaries: BTreeSet<&str> = functions.iter().map(|f| f["binary"].as_str().unwrap()).collect();
    assert_eq!(binaries.len(), 12, "{binaries:?}");
    for function in functions {
        assert_eq!(function["warm_errors"], 0, "{function}");
        assert!(function["init_ms"]["p50"].is_number(), "{function}");
        assert!(function["warm_ms"]["p99"].is_number(), "{function}");
        assert!(function["peak_rss_kib"].as_u64().unwrap() > 0, "{function}");
        assert!(function["bootstrap_bytes"].as_u64().unwrap() > 0, "{function}");
    }

    for service in ["dynamodb", "eventbridge", "sns", "sqs", "lambda", "apigateway"] {
        assert!(
            report["aws_calls"]["per_order"]["mix"].get(service).is_some(),
            "{service}"
        );
    }
    let total = report["cost"]["per_million_orders_usd"]["mix"]["total"]
        .as_f64()
        .unwrap();
    assert!(total > 0.0);
    assert!(report["cost"]["prices"]["lambda_per_million_requests"].is_number());
    let minimal = report["cost"]["minimal_design"]["per_million_orders_usd"]["mix"]["total"]
        .as_f64()
        .unwrap();
    assert!(
        minimal > 0.0 && minimal < total,
        "the minimal design costs less: {minimal} vs {total}"
    );

    let markdown = std::fs::read_to_string(out.join("bench.md")).unwrap();
    for heading in [
        "## End to end",
        "## The floor: what the local cloud itself allows",
        "## Functions",
        "## AWS calls per order",
        "## Cost of 1 million orders",
    ] {
        assert!(markdown.contains(heading), "{heading} is in the Markdown report");
    }
    let svg = std::fs::read_to_string(out.join("bench-latency.svg")).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "an SVG plot");
    assert!(svg.contains("<polyline"), "with the latency curves");
    println!("[bench] quick report complete: {}", out.display());
}
