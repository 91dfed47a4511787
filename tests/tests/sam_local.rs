//! The developer's loop through the SAM CLI in Docker (`make invoke`, `make api`), against the
//! test's own local cloud: the API sample invoked with `sam local invoke` on order-api's built
//! bootstrap in a container places its order, which the deployed saga completes; then every file
//! in `events/` invoked the same way on its function changes nothing (the checks
//! `sample_events.rs` makes on the deployed functions); and an order placed through
//! `sam local start-api` completes through the deployed saga.
//! `localstack/sam_local.py` installs and starts Docker and makes the base image if they are missing.

use cafe_e2e::samples::{SAMPLES, SampleOrder, check_every_sample_is_listed};
use cafe_e2e::{Api, LocalCloud, SAGA_TIMEOUT, free_port, workspace_root};
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `localstack/sam_local.py` on this cloud's stack, with these arguments.
fn sam_local(cloud: &LocalCloud, args: &[&str]) -> Command {
    let root = workspace_root();
    let mut command = Command::new(root.join(".venv/bin/python"));
    command
        .arg(root.join("localstack/sam_local.py"))
        .args(["--endpoint", &cloud.endpoint, "--stack-name", &cloud.stack])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1");
    command
}

/// `sam local invoke` of one sample on its function: the function's answer, and the seconds the
/// command took.
fn invoke(cloud: &LocalCloud, order: &SampleOrder, file: &str, binary: &str) -> (Value, f64) {
    // The API sample gets this test's kiosk token: the file given to SAM is a copy.
    let folder = workspace_root().join("target/e2e/sam-local-events");
    std::fs::create_dir_all(&folder).unwrap();
    let event = folder.join(file);
    std::fs::write(&event, order.payload(file)).unwrap();
    let started = Instant::now();
    let Output { status, stdout, stderr } = sam_local(cloud, &["invoke", binary, event.to_str().unwrap()])
        .output()
        .expect("python runs sam_local.py");
    let took = started.elapsed().as_secs_f64();
    let said = String::from_utf8_lossy(&stderr);
    assert!(status.success(), "sam local invoke {binary} {file}:\n{said}");
    // SAM prints the function's answer on stdout, its logs on stderr.
    let answer = serde_json::from_slice(&stdout)
        .unwrap_or_else(|e| panic!("{file}: {e}: {}\n{said}", String::from_utf8_lossy(&stdout)));
    (answer, took)
}

/// `sam local start-api`, stopped (with the containers SAM started) when dropped.
struct LocalApi(Child);

impl Drop for LocalApi {
    fn drop(&mut self) {
        // Its own process group: SAM and the forwarder both get the signal.
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sample_through_sam_local_invoke_and_an_order_through_sam_local_start_api() {
    check_every_sample_is_listed();
    let cloud = LocalCloud::start(&[]);
    let order = SampleOrder::prepare(&cloud).await;
    // The API sample, invoked first, places the order: the deployed saga completes it.
    let (placed, took) = invoke(&cloud, &order, "api-post-order.json", "order-api");
    assert_eq!(placed["statusCode"], 201, "{placed}");
    order.check_first_answer(&serde_json::from_str(placed["body"].as_str().unwrap()).unwrap());
    order.wait_until_completed(&cloud).await;
    println!("[sam-local] api-post-order.json -> order-api placed the order in {took:.1} s; the saga completed it");
    // Then every sample, each a redelivery now, changes nothing.
    let mut timings = Vec::new();
    for (file, binary) in SAMPLES {
        let (answer, took) = invoke(&cloud, &order, file, binary);
        order.check_answer(file, &answer);
        timings.push(took);
        println!("[sam-local] {file} -> {binary}: accepted in {took:.1} s");
    }
    order.check_nothing_changed(&cloud).await;
    timings.sort_by(f64::total_cmp);
    println!(
        "[sam-local] {} samples through sam local invoke: median {:.1} s, slowest {:.1} s each",
        timings.len(),
        timings[timings.len() / 2],
        timings.last().unwrap()
    );

    // The API in containers: an order placed through it completes through the deployed saga.
    let port = free_port();
    let started = Instant::now();
    let _api = LocalApi(
        sam_local(&cloud, &["api", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("python runs sam_local.py"),
    );
    let kiosk = cloud.kiosk_api("sam local kiosk").await;
    let local = Api {
        base: format!("http://127.0.0.1:{port}/"),
        http: reqwest::Client::new(),
        token: kiosk.token.clone(),
    };
    let mut menu = None;
    while menu.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "sam local start-api answers /menu"
        );
        if let Ok(answer) = local.http.get(local.url("/menu")).send().await {
            menu = answer.status().is_success().then_some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let posted = Instant::now();
    let placed = local
        .post(
            "/orders",
            &json!({"customerId": "sam-api-1", "beverageName": "latte", "beverageQty": 2}),
        )
        .await;
    let posted = posted.elapsed();
    assert_eq!(placed.status, 201, "{placed:?}");
    let order_id = placed.body["orderId"].as_str().unwrap();
    // The customer follows it with the token the order gave them.
    let customer = local.with_token(placed.body["customerToken"].as_str().unwrap());
    let warm = Instant::now();
    let seen = customer.get(&format!("/orders/{order_id}")).await;
    let warm = warm.elapsed();
    assert_eq!(seen.status, 200, "{seen:?}");
    let done = cloud.api().final_order(order_id).await;
    assert_eq!(done["orderStatus"], "completed", "{done}");
    cloud
        .api()
        .wait_for(&format!("/kiosk/orders/{order_id}"), SAGA_TIMEOUT, |a| {
            a.body["notification"].is_string()
        })
        .await;
    println!(
        "[sam-local] start-api answered /menu {:.1} s after starting; then, its container warm, POST /orders \
         {:.0} ms and GET /orders/{{id}} {:.0} ms; the order completed through the deployed saga",
        menu.unwrap().as_secs_f64(),
        posted.as_secs_f64() * 1000.0,
        warm.as_secs_f64() * 1000.0
    );
}
