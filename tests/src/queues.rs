//! The saga's queues and bus as a test drives them: its own queues, a tap on the bus, redelivering
//! events, switching a step off, waiting for queues to drain.

use super::*;

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

/// A queue subscribed to the topic of this stack output (raw delivery: each message's text as
/// it was published), to see what SNS published.
pub async fn tap_topic(cloud: &LocalCloud, sqs: &aws_sdk_sqs::Client, topic_output: &str) -> String {
    let sns = aws_sdk_sns::Client::new(&cloud.sdk().await);
    let (url, arn) = new_queue(sqs, &format!("{}-{topic_output}-tap", cloud.stack)).await;
    sns.subscribe()
        .topic_arn(cloud.output(topic_output))
        .protocol("sqs")
        .endpoint(arn)
        .attributes("RawMessageDelivery", "true")
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
