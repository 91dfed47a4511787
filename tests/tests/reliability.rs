//! Nothing lost, nothing twice: oversell under concurrency, a consumer that is down, and a
//! poison message, against the real functions on their own fresh local cloud. Each test prints
//! its figures (run with `--nocapture` to see them).

use cafe_e2e::{Api, LocalCloud, SAGA_TIMEOUT, drain, queued, switch_step, wait_until_drained};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The shortest visibility and two receives, so a failing message reaches its DLQ within 120 s; room
/// for the rush of orders at once, past a real cafe's capacity.
fn cloud() -> &'static LocalCloud {
    static CLOUD: OnceLock<LocalCloud> = OnceLock::new();
    CLOUD.get_or_init(|| {
        LocalCloud::start(&[
            ("QueueVisibilitySeconds", "60"),
            ("MaxReceiveCount", "2"),
            ("MaxOrdersInProgress", "1000"),
        ])
    })
}

/// The tests share the cup stock and check that queues drain, so they take turns.
static TURNS: Mutex<()> = Mutex::const_new(());

#[tokio::test(flavor = "multi_thread")]
async fn no_oversell_under_concurrent_orders_and_one_notification_each() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let api = cloud.api();
    let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
    const CUSTOMERS: usize = 20;
    const ORDERS_EACH: usize = 10;
    const CUPS_IN_STOCK: u32 = 100;
    api.set_stock("cup", CUPS_IN_STOCK).await;

    // 200 orders of 1..=3 beverages, 20 customers ordering at once.
    let started = Instant::now();
    let mut customers = tokio::task::JoinSet::new();
    for c in 0..CUSTOMERS {
        let api = api.clone();
        customers.spawn(async move {
            let mut placed = Vec::new();
            for i in 0..ORDERS_EACH {
                let qty = 1 + (c * 7 + i * 3) % 3;
                let order = json!({"customerId": format!("rush-{c}"), "beverageName": "americano", "beverageQty": qty});
                placed.push(api.place(order).await);
            }
            placed
        });
    }
    let placed: Vec<Value> = customers.join_all().await.into_iter().flatten().collect();
    assert_eq!(placed.len(), CUSTOMERS * ORDERS_EACH);
    let accepted_in = started.elapsed();

    let mut finals = Vec::new();
    for order in &placed {
        finals.push(api.final_order(order["orderId"].as_str().unwrap()).await);
    }
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    let settled_in = started.elapsed();

    let completed: Vec<&Value> = finals.iter().filter(|o| o["orderStatus"] == "completed").collect();
    let cancelled = finals.iter().filter(|o| o["orderStatus"] == "cancelled").count();
    assert_eq!(
        completed.len() + cancelled,
        placed.len(),
        "every order is completed or cancelled"
    );
    let cups_used: u64 = completed.iter().map(|o| o["beverageQty"].as_u64().unwrap()).sum();
    let cups_left = api.get("/inventories/cup").await.body["qty"].as_u64().unwrap();
    assert_eq!(
        cups_used + cups_left,
        u64::from(CUPS_IN_STOCK),
        "cups used = the completed orders' beverages"
    );
    assert!(
        cups_left < 3,
        "orders were refused while {cups_left} cups could still serve one"
    );

    let mut notified = HashSet::new();
    for c in 0..CUSTOMERS {
        for n in api.notified(&format!("rush-{c}"), ORDERS_EACH).await {
            assert!(
                notified.insert(n["orderId"].as_str().unwrap().to_string()),
                "a second notification: {n}"
            );
        }
    }
    let order_ids: HashSet<String> = placed
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(notified, order_ids, "exactly one notification per order");
    for dlq in cloud.dead_letter_queues() {
        assert_eq!(drain(&sqs, &dlq).await.len(), 0, "nothing dead-lettered in {dlq}");
    }
    println!(
        "[reliability] oversell: {} orders from {CUSTOMERS} customers accepted in {:.1} s, all final in {:.1} s; \
         {} completed using {cups_used} of {CUPS_IN_STOCK} cups, {cancelled} cancelled, {cups_left} cups left, \
         {} notifications",
        placed.len(),
        accepted_in.as_secs_f64(),
        settled_in.as_secs_f64(),
        completed.len(),
        notified.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_wait_while_a_consumer_is_down_and_all_finish_when_it_is_back() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let api = cloud.api();
    let sdk = cloud.sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    api.set_stock("cup", 1000).await;

    // Turn the beverage step off: its event source mapping stops polling its queue.
    let beverage_queue = cloud.output("BeverageQueueUrl");
    switch_step(cloud, "BeverageQueueUrl", false).await;

    let mut waiting = Vec::new();
    for i in 0..5 {
        let order = json!({"customerId": "patient", "beverageName": "latte", "beverageQty": 1 + i % 2});
        waiting.push(api.place(order).await["orderId"].as_str().unwrap().to_string());
    }
    // The cups get reserved, then the orders wait for a beverage that nobody makes.
    let started = Instant::now();
    while queued(&sqs, &beverage_queue).await < 5 {
        assert!(
            started.elapsed() < SAGA_TIMEOUT,
            "the reservations never reached the beverage queue"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for order_id in &waiting {
        let order = api.get(&format!("/orders/{order_id}")).await;
        assert_eq!(order.body["orderStatus"], "pending", "{order:?}");
    }
    assert_eq!(
        queued(&sqs, &beverage_queue).await,
        5,
        "the events wait in the consumer's queue"
    );

    // Back on: every waiting order finishes, none lost.
    switch_step(cloud, "BeverageQueueUrl", true).await;
    let back = Instant::now();
    for order_id in &waiting {
        assert_eq!(api.final_order(order_id).await["orderStatus"], "completed");
    }
    let recovered_in = back.elapsed();
    wait_until_drained(&sqs, &cloud.saga_queues(), SAGA_TIMEOUT).await;
    assert_eq!(api.notified("patient", 5).await.len(), 5);
    println!(
        "[reliability] consumer down: {} orders waited pending with {} events queued; all completed {:.1} s after \
         the beverage step came back",
        waiting.len(),
        waiting.len(),
        recovered_in.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poison_message_is_dead_lettered_without_holding_back_its_batch() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let api = cloud.api();
    let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
    let kiosk_queue = cloud.output("KioskQueueUrl");
    let kiosk_dlq = cloud.output("KioskDeadLetterQueueUrl");

    // One batch: a body that is no cafe event, and a good event beside it.
    let good = json!({
        "version": "0", "id": "poison-neighbour", "detail-type": "OrderPlaced", "source": "cafe.order",
        "account": "000000000000", "time": "2026-11-25T01:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"orderId": "beside-the-poison", "customerId": "poison-test", "beverageName": "latte",
                   "beverageQty": 1, "stockName": "cup", "orderDate": "2026-11-25T01:00:00Z"}
    });
    let entry = |id: &str, body: String| {
        aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(body)
            .build()
            .unwrap()
    };
    let sent = Instant::now();
    sqs.send_message_batch()
        .queue_url(&kiosk_queue)
        .entries(entry("poison", "{\"this is\": \"not an event\"".to_string()))
        .entries(entry("good", good.to_string()))
        .send()
        .await
        .unwrap();

    let view = api
        .wait_for("/kiosk/orders/beside-the-poison", SAGA_TIMEOUT, |a| a.status == 200)
        .await;
    let good_in = sent.elapsed();
    assert_eq!(view.body["orderStatus"], "pending");
    assert!(
        // A retry comes after the 60 s visibility timeout: well under it means none, even when busy.
        good_in < Duration::from_secs(45),
        "the good message waited for the poison's retries: {good_in:?}"
    );

    // The step knows it can never read it: it goes to the DLQ at once, not after MaxReceiveCount
    // (2) receives of 60 s visibility each, and only it.
    let dead = wait_for_dead_letters(&sqs, &kiosk_dlq).await;
    let dead_lettered_in = sent.elapsed();
    assert_eq!(dead, 1);
    assert!(
        dead_lettered_in < Duration::from_secs(45),
        "the poison was retried before it was dead-lettered: {dead_lettered_in:?}"
    );

    // dlq.py (docs/operations.md) lists it with its reason and redrives it to its queue.
    let listed = dlq(cloud, &["list", "kiosk"]);
    assert!(
        listed.contains("kiosk: 1 dead-lettered") && listed.contains("(message is not a cafe event"),
        "{listed}"
    );
    let redriven = dlq(cloud, &["redrive", "kiosk"]);
    assert!(redriven.contains("1 messages redriven"), "{redriven}");
    // Still poison: it fails again and returns to the DLQ; take it out for the other tests.
    let started = Instant::now();
    while drain(&sqs, &kiosk_dlq).await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the redriven poison never came back to the DLQ"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "[reliability] poison: its good neighbour was applied in {:.1} s; the poison was dead-lettered at once, \
         in {:.1} s (no retry), listed with its reason and redriven by localstack/dlq.py",
        good_in.as_secs_f64(),
        dead_lettered_in.as_secs_f64()
    );
}

/// Waits until a dead-letter queue holds something; how many.
async fn wait_for_dead_letters(sqs: &aws_sdk_sqs::Client, dlq: &str) -> u64 {
    let started = Instant::now();
    loop {
        let n = queued(sqs, dlq).await;
        if n > 0 {
            return n;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing reached the dead-letter queue {dlq}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `localstack/dlq.py` (docs/operations.md) against this cloud's stack; what it printed.
fn dlq(cloud: &LocalCloud, args: &[&str]) -> String {
    let script = cafe_e2e::workspace_root().join("localstack/dlq.py");
    let stack = ["--endpoint", &cloud.endpoint, "--stack-name", &cloud.stack];
    venv_python(&[&[script.to_str().unwrap()], args, &stack].concat())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_the_outbox_can_never_announce_is_set_aside_and_the_orders_behind_it_go_on() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let api = cloud.api();
    let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
    let outbox_dlq = cloud.output("OrderOutboxDeadLetterQueueUrl");
    api.set_stock("cup", 1000).await;

    // A good order, then a change of the orders table that is no order the outbox can read (an
    // unknown status, as a bad deploy or a hand edit might write), then more good orders.
    let first = place_lattes(&api, "stream-before", 1).await;
    put_order_item(cloud, "poison-change", "brewing");
    let started = Instant::now();
    let behind = place_lattes(&api, "stream-behind", 3).await;
    for placed in first.iter().chain(&behind) {
        let order_id = placed["orderId"].as_str().unwrap();
        assert_eq!(
            api.final_order(order_id).await["orderStatus"],
            "completed",
            "{order_id}"
        );
    }
    let completed_in = started.elapsed();
    assert!(
        // A blocked shard would hold them until the test gives up.
        completed_in < Duration::from_secs(45),
        "the orders behind the poison waited: {completed_in:?}"
    );

    // The poison is in the outbox's dead-letter queue, once (the stream moved past it).
    let dead = wait_for_dead_letters(&sqs, &outbox_dlq).await;
    let dead_lettered_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!((dead, queued(&sqs, &outbox_dlq).await), (1, 1), "dead-lettered once");
    let listed = dlq(cloud, &["list", "outbox"]);
    assert!(
        listed.contains("outbox: 1 dead-lettered")
            && listed.contains("INSERT of order poison-change")
            && listed.contains("(the new image is not an order"),
        "{listed}"
    );

    // Replayed, both as the function set it aside and as AWS's on-failure destination would
    // (the batch's stream position), it is read from the stream again and, still no order,
    // comes back to the queue once for each.
    let set_aside: Value = serde_json::from_str(drain(&sqs, &outbox_dlq).await[0].body().unwrap()).unwrap();
    let stream_arn = set_aside["eventSourceARN"].as_str().unwrap();
    let sequence_number = set_aside["dynamodb"]["SequenceNumber"].as_str().unwrap();
    let on_failure = json!({"version": "1.0", "DDBStreamBatchInfo": {
        "shardId": only_shard_of(cloud, stream_arn), "startSequenceNumber": sequence_number,
        "endSequenceNumber": sequence_number, "batchSize": 1, "streamArn": stream_arn}});
    for body in [set_aside.to_string(), on_failure.to_string()] {
        sqs.send_message()
            .queue_url(&outbox_dlq)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let replayed = dlq(cloud, &["redrive", "outbox"]);
    assert!(replayed.contains("2 messages redriven"), "{replayed}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let back = drain(&sqs, &outbox_dlq).await;
    assert_eq!(back.len(), 2, "each replay dead-lettered once more");
    for message in &back {
        let record: Value = serde_json::from_str(message.body().unwrap()).unwrap();
        assert_eq!(record["dynamodb"]["Keys"]["orderId"]["S"], "poison-change");
        assert_eq!(record["dynamodb"]["SequenceNumber"], sequence_number);
    }
    println!(
        "[reliability] outbox poison: the 4 orders around a change it can never announce completed in {:.1} s; \
         the change was dead-lettered once in {:.1} s, listed with its order and reason, and replayed from the \
         queue and from its stream position by localstack/dlq.py",
        completed_in.as_secs_f64(),
        dead_lettered_in.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_placed_while_the_bus_refuses_the_outbox_are_announced_once_it_accepts_again() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let api = cloud.api();
    let sqs = aws_sdk_sqs::Client::new(&cloud.sdk().await);
    let lambda = aws_sdk_lambda::Client::new(&cloud.sdk().await);
    api.set_stock("cup", 1000).await;

    // A deploy of the outbox that names a bus EventBridge refuses (one in another region, so each
    // PutEvents entry fails with ResourceNotFoundException): transient, as far as the outbox can
    // tell, so it must keep the changes rather than set them aside.
    let outbox = cloud.output("OrderOutboxFunctionName");
    let live = lambda
        .get_alias()
        .function_name(&outbox)
        .name("live")
        .send()
        .await
        .unwrap();
    let good_version = live.function_version().unwrap().to_string();
    let config = lambda
        .get_function_configuration()
        .function_name(&outbox)
        .send()
        .await
        .unwrap();
    let mut variables = config.environment().unwrap().variables().unwrap().clone();
    variables.insert(
        "EVENT_BUS_NAME".into(),
        "arn:aws:events:eu-west-3:000000000000:event-bus/elsewhere".into(),
    );
    let environment = aws_sdk_lambda::types::Environment::builder()
        .set_variables(Some(variables))
        .build();
    lambda
        .update_function_configuration()
        .function_name(&outbox)
        .environment(environment)
        .send()
        .await
        .unwrap();
    let refused_version = lambda.publish_version().function_name(&outbox).send().await.unwrap();
    let point_live_at = |version: String| {
        lambda
            .update_alias()
            .function_name(&outbox)
            .name("live")
            .function_version(version)
            .send()
    };
    point_live_at(refused_version.version().unwrap().to_string())
        .await
        .unwrap();

    let orders: Vec<Value> = place_lattes(&api, "refused", 3).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    for order in &orders {
        let order_id = order["orderId"].as_str().unwrap();
        assert_eq!(
            api.get(&format!("/orders/{order_id}")).await.body["orderStatus"],
            "pending"
        );
        assert_eq!(
            api.get(&format!("/kiosk/orders/{order_id}")).await.status,
            404,
            "nothing announced"
        );
    }
    assert_eq!(
        queued(&sqs, &cloud.output("OrderOutboxDeadLetterQueueUrl")).await,
        0,
        "a refusal that may pass is not poison"
    );

    // The bus is reachable again (the earlier version is live): every order is announced and completes.
    point_live_at(good_version).await.unwrap();
    let back = Instant::now();
    for order in &orders {
        let order_id = order["orderId"].as_str().unwrap();
        assert_eq!(api.final_order(order_id).await["orderStatus"], "completed");
    }
    let recovered_in = back.elapsed();
    // Each is notified once, after its order completed (notify runs on OrderCompleted).
    for order in &orders {
        let customer = order["customerId"].as_str().unwrap();
        let path = format!("/notifications?customerId={customer}");
        let notified = api.wait_for(&path, SAGA_TIMEOUT, |a| a.body != json!([])).await;
        assert_eq!(
            notified.body.as_array().unwrap().len(),
            1,
            "{customer}: one notification"
        );
    }
    println!(
        "[reliability] bus refused: 3 orders stored while every PutEvents of the outbox was refused (4 s) stayed \
         pending, none dead-lettered; all completed {:.1} s after the bus accepted again",
        recovered_in.as_secs_f64()
    );
}

/// Places `n` orders of one latte, each for its own customer `<prefix>-<i>`.
async fn place_lattes(api: &Api, prefix: &str, n: usize) -> Vec<Value> {
    let mut placed = Vec::new();
    for i in 0..n {
        placed.push(
            api.place(json!({"customerId": format!("{prefix}-{i}"), "beverageName": "latte", "beverageQty": 1}))
                .await,
        );
    }
    placed
}

/// Writes an item straight into the orders table (as a hand edit or a bad deploy would).
fn put_order_item(cloud: &LocalCloud, order_id: &str, status: &str) {
    python(
        cloud,
        "import boto3, sys; boto3.client('dynamodb', endpoint_url=sys.argv[1]).put_item(TableName=sys.argv[2], \
         Item={'orderId': {'S': sys.argv[3]}, 'customerId': {'S': 'stream-poison'}, 'orderStatus': {'S': sys.argv[4]}, \
         'orderDate': {'S': '2026-11-25T01:00:00Z'}})",
        &[&cloud.output("OrdersTableName"), order_id, status],
    );
}

/// The one shard of a DynamoDB stream (the local cloud keeps one per table).
fn only_shard_of(cloud: &LocalCloud, stream_arn: &str) -> String {
    python(
        cloud,
        "import boto3, sys; print(boto3.client('dynamodbstreams', endpoint_url=sys.argv[1]).describe_stream(\
         StreamArn=sys.argv[2])['StreamDescription']['Shards'][0]['ShardId'])",
        &[stream_arn],
    )
    .trim()
    .to_string()
}

/// Runs a line of boto3 against this cloud; what it printed.
fn python(cloud: &LocalCloud, code: &str, args: &[&str]) -> String {
    venv_python(&[&["-c", code, &cloud.endpoint], args].concat())
}

/// The project's Python (its .venv has boto3) with these arguments and the local cloud's
/// credentials; what it printed.
fn venv_python(args: &[&str]) -> String {
    let out = std::process::Command::new(cafe_e2e::workspace_root().join(".venv/bin/python"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_order_is_announced_even_if_the_outbox_is_down_when_it_is_placed() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let api = cloud.api();
    let lambda = aws_sdk_lambda::Client::new(&cloud.sdk().await);
    api.set_stock("cup", 1000).await;

    // The outbox is down: its mapping stops reading the orders table's stream. (Throttling it, as
    // on AWS, does not reach the published version its alias runs on MiniStack 1.5.33.)
    let outbox = cloud.output("OrderOutboxFunctionName");
    let mappings = lambda.list_event_source_mappings().send().await.unwrap();
    let mapping = mappings
        .event_source_mappings()
        .iter()
        .find(|m| m.function_arn().is_some_and(|arn| arn.contains(&format!(":{outbox}"))))
        .and_then(|m| m.uuid())
        .unwrap_or_else(|| panic!("no stream mapping of {outbox}"))
        .to_string();
    let set_outbox = |enabled: bool| {
        lambda
            .update_event_source_mapping()
            .uuid(&mapping)
            .enabled(enabled)
            .send()
    };
    set_outbox(false).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let order = api
        .place(json!({"customerId": "outbox", "beverageName": "cappuccino", "beverageQty": 2}))
        .await;
    let order_id = order["orderId"].as_str().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        api.get(&format!("/orders/{order_id}")).await.body["orderStatus"],
        "pending"
    );
    assert_eq!(
        api.get(&format!("/kiosk/orders/{order_id}")).await.status,
        404,
        "no event went out yet"
    );

    // The outbox is back: the stored order is announced from the stream and the saga runs to the end.
    set_outbox(true).await.unwrap();
    let back = Instant::now();
    assert_eq!(api.final_order(order_id).await["orderStatus"], "completed");
    let recovered_in = back.elapsed();
    let notified = api
        .wait_for("/notifications?customerId=outbox", SAGA_TIMEOUT, |a| {
            a.body != json!([])
        })
        .await;
    assert_eq!(notified.body.as_array().unwrap().len(), 1);
    println!(
        "[reliability] outbox: an order stored while the outbox was down (3 s) was announced and completed {:.1} s \
         after it was back",
        recovered_in.as_secs_f64()
    );
}
