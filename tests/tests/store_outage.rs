//! Every function's table gone (as when a store is down or its name is misconfigured): every API
//! path that needs a store answers the JSON 500 `internal_error`, with no detail of ours in it
//! (no table, no SDK error), and what needs no store (the pages, the OpenAPI document) still
//! answers. The menu needs one: its prices are the operator's, kept in the customers table.

use cafe_e2e::{Api, LocalCloud};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn with_the_stores_gone_every_api_path_answers_a_json_500_without_detail() {
    let cloud = LocalCloud::start(&[]);
    let api = cloud.api();
    let dynamodb = aws_sdk_dynamodb::Client::new(&cloud.sdk().await);
    let tables: Vec<String> = (dynamodb.list_tables().send().await.unwrap().table_names().iter())
        .filter(|name| name.starts_with(&format!("{}-", cloud.stack)))
        .cloned()
        .collect();
    assert_eq!(
        tables.len(),
        10,
        "a table per function, the customers, the machine, the token checks and the live connections: {tables:?}"
    );
    for table in &tables {
        // As an operator would have to: the cafe's tables refuse deletion until told otherwise.
        (dynamodb
            .update_table()
            .table_name(table)
            .deletion_protection_enabled(false))
        .send()
        .await
        .unwrap();
        dynamodb.delete_table().table_name(table).send().await.unwrap();
    }

    let o = "0be4463a-e630-5884-9f64-224913e1da1d";
    let calls: [(&str, String, Option<Value>); 29] = [
        (
            "POST",
            "/orders".into(),
            Some(json!({"customerId": "1", "beverageName": "americano", "beverageQty": 1})),
        ),
        ("GET", "/orders".into(), None),
        ("GET", "/orders?customerId=1".into(), None),
        ("GET", format!("/orders/{o}"), None),
        ("POST", format!("/orders/{o}/cancel"), None),
        ("POST", "/kiosks".into(), Some(json!({"kioskName": "front door"}))),
        ("GET", "/kiosks".into(), None),
        ("DELETE", "/kiosks/kiosk-1".into(), None),
        ("POST", "/sign-in".into(), Some(json!({"phoneNumber": "+821012345678"}))),
        (
            "POST",
            "/sign-in/verify".into(),
            Some(json!({"phoneNumber": "+821012345678", "code": "123456", "handle": "0".repeat(32)})),
        ),
        ("DELETE", "/customers/1/tokens".into(), None),
        ("GET", "/cafe".into(), None),
        ("PUT", "/cafe".into(), Some(json!({"open": false}))),
        ("GET", "/menu".into(), None),
        ("PUT", "/menu/latte".into(), Some(json!({"price": 3000}))),
        (
            "POST",
            "/inventories".into(),
            Some(json!({"stockName": "cup", "qty": 1})),
        ),
        ("GET", "/inventories".into(), None),
        ("GET", "/inventories/cup".into(), None),
        ("PUT", "/inventories/cup".into(), Some(json!({"qty": 1}))),
        ("GET", format!("/beverages?orderId={o}"), None),
        ("GET", format!("/beverages/{o}"), None),
        ("GET", "/ingredients".into(), None),
        ("GET", "/ingredients/milk".into(), None),
        ("PUT", "/ingredients/milk".into(), Some(json!({"qty": 1}))),
        ("GET", "/machine".into(), None),
        ("PUT", "/machine".into(), Some(json!({"inService": true}))),
        ("GET", "/notifications?customerId=1".into(), None),
        ("GET", format!("/kiosk/orders/{o}"), None),
        ("GET", "/kiosk/customers/1/orders".into(), None),
    ];
    for (method, path, body) in &calls {
        let answer = call(&api, method, path, body.as_ref()).await;
        assert_eq!(answer.status, 500, "{method} {path}: {answer:?}");
        assert_eq!(
            answer.body,
            json!({"error": {"code": "internal_error", "message": "the cafe could not complete the request; try again"}}),
            "{method} {path}: no detail of ours"
        );
    }
    println!(
        "[e2e] with the {} tables gone, {} API calls each answered the JSON 500 with no detail",
        tables.len(),
        calls.len()
    );
    for page in ["/", "/openapi.json"] {
        assert_eq!(call(&api, "GET", page, None).await.status, 200, "{page} needs no store");
    }
}

async fn call(api: &Api, method: &str, path: &str, body: Option<&Value>) -> cafe_e2e::Answer {
    let request = api.http.request(method.parse().unwrap(), api.url(path));
    api.send(match body {
        Some(body) => request.json(body),
        None => request,
    })
    .await
}
