//! Every file in `events/` is a valid event that its function accepts: each is invoked, as it is,
//! on its function deployed on the local cloud (what `sam local invoke -e events/<file>` does in
//! Docker: `sam_local.rs`). The samples describe customer 2's order of one iced tea, placed with
//! the `Idempotency-Key` `kiosk-7-0001`, so on a stack where that order ran they are redeliveries
//! and must change nothing. The API sample's `authorization` header holds a placeholder where a
//! registered kiosk's token goes (a token is a secret, never committed): the test puts its kiosk's there.

use cafe_e2e::LocalCloud;
use cafe_e2e::samples::{SAMPLES, SampleOrder, check_every_sample_is_listed};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn every_sample_event_is_accepted_by_its_function_and_changes_nothing_twice() {
    check_every_sample_is_listed();
    let cloud = LocalCloud::start(&[]);
    let order = SampleOrder::prepare(&cloud).await;
    order.place_through_the_api().await;
    order.wait_until_completed(&cloud).await;
    let lambda = aws_sdk_lambda::Client::new(&cloud.sdk().await);
    for (file, binary) in SAMPLES {
        // The template names each function <stack>-<binary>.
        let out = (lambda.invoke().function_name(format!("{}-{binary}", cloud.stack)))
            .payload(aws_sdk_lambda::primitives::Blob::new(order.payload(file).into_bytes()))
            .send()
            .await
            .unwrap();
        let answer: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
        assert!(out.function_error().is_none(), "{file} -> {binary}: {answer}");
        order.check_answer(file, &answer);
        println!("[samples] {file} -> {binary}: accepted");
    }
    order.check_nothing_changed(&cloud).await;
}
