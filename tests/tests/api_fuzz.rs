//! A property test over every endpoint: random and mutated input (wrong types, huge and unicode
//! strings, negative and giant numbers, injection-like ids, bytes that are not UTF-8) never gets
//! a 5xx, every refusal is a 4xx with an error body, and only accepted requests change state.
//! The generator is seeded (`FUZZ_SEED`, printed), so a failure can be replayed.

use cafe_e2e::{Answer, Api, LocalCloud};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// xorshift64*: small, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NASTY_TEXT: &[&str] = &[
    "",
    " ",
    "' OR '1'='1",
    "\"; DROP TABLE orders; --",
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/x}",
    "../../etc/passwd",
    "%00",
    "\u{0}",
    "Robert'); --",
    "☕️🍵 카페 ✓",
    "\u{202e}reversed",
    "americano",
    "cup",
    "#",
    "STOCK",
    "RESERVATION#x",
];

fn random_text(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => "x".repeat(1 + rng.below(3000)),
        1 => "é".repeat(1 + rng.below(200)),
        2 => (0..rng.below(40))
            .map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'))
            .collect(),
        _ => rng.pick(NASTY_TEXT).to_string(),
    }
}

fn random_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 1 { 8 } else { 10 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(*rng.pick(&[0i64, -1, 1, 50, 51, i64::MAX, i64::MIN, 1_000_001])),
        3 => json!(*rng.pick(&[1.5f64, -0.0, 1e300, f64::MIN_POSITIVE])),
        4 => json!(u64::MAX),
        5 | 6 => json!(random_text(rng)),
        7 => json!(rng.next().to_string()),
        8 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                map.insert(random_text(rng), random_value(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

/// A valid body with some fields dropped, retyped or added.
fn mutate(rng: &mut Rng, valid: &Value) -> Value {
    let mut body = valid.as_object().unwrap().clone();
    let keys: Vec<String> = body.keys().cloned().collect();
    for key in keys {
        match rng.below(4) {
            0 => {
                body.remove(&key);
            }
            1 => {
                body.insert(key, random_value(rng, 0));
            }
            _ => {}
        }
    }
    if rng.below(4) == 0 {
        body.insert(random_text(rng), random_value(rng, 0));
    }
    Value::Object(body)
}

fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Everything a request could have changed: the orders, their statuses, the stock, the
/// ingredient levels and the machine's switch (levels keyed `stock:<name>` and `ingredient:<name>`).
async fn state(api: &Api) -> (Vec<Value>, BTreeMap<String, Value>, Value) {
    let orders = api.get("/orders").await.body;
    let orders = (orders.as_array().unwrap().iter())
        .map(|o| json!([o["orderId"], o["orderStatus"]]))
        .collect();
    let mut levels = BTreeMap::new();
    for (list, name, kind) in [
        ("inventories", "stockName", "stock"),
        ("ingredients", "ingredientName", "ingredient"),
    ] {
        for item in api.get(&format!("/{list}")).await.body.as_array().unwrap() {
            levels.insert(format!("{kind}:{}", item[name].as_str().unwrap()), item["qty"].clone());
        }
    }
    (orders, levels, api.get("/machine").await.body["inService"].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn random_input_on_every_endpoint_gets_4xx_and_changes_nothing() {
    let cloud = LocalCloud::start(&[]);
    let api = cloud.api();
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_CAFE);
    let requests: usize = std::env::var("FUZZ_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut rng = Rng(seed);
    assert_eq!(
        api.post("/inventories", &json!({"stockName": "cup", "qty": 0}))
            .await
            .status,
        201
    );
    let (orders_before, levels_before, machine_before) = state(&api).await;

    let valid_order =
        json!({"customerId": "fuzz", "beverageName": "americano", "beverageQty": 2, "phoneNumber": "+821012345678"});
    let valid_stock = json!({"stockName": "lid", "qty": 10});
    let mut accepted_orders = 0;
    let mut level_writes: BTreeMap<String, Value> = BTreeMap::new();
    let mut machine_writes = Vec::new();
    let mut cancels = 0;
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();

    for _ in 0..requests {
        let id = encode(&random_text(&mut rng));
        let raw: Option<Vec<u8>> = match rng.below(10) {
            0 => Some((0..rng.below(64)).map(|_| rng.next() as u8).collect()),
            1 => Some(b"{\"customerId\": \"1\", \"beverageQty\": 1".to_vec()),
            _ => None,
        };
        let (method, path, body) = match rng.below(15) {
            0..=2 => (Method::POST, "/orders".to_string(), mutate(&mut rng, &valid_order)),
            3 => (Method::POST, "/orders".to_string(), random_value(&mut rng, 0)),
            4 => (Method::POST, "/inventories".to_string(), mutate(&mut rng, &valid_stock)),
            5 => (
                Method::PUT,
                format!("/inventories/{id}"),
                mutate(&mut rng, &json!({"qty": 5})),
            ),
            6 => (
                Method::PUT,
                "/inventories/lid".to_string(),
                mutate(&mut rng, &json!({"qty": 5})),
            ),
            7 => (Method::GET, format!("/orders/{id}"), Value::Null),
            8 => (Method::GET, format!("/orders?customerId={id}"), Value::Null),
            9 => (
                Method::GET,
                format!("/{}/{id}", rng.pick(&["inventories", "beverages", "kiosk/orders"])),
                Value::Null,
            ),
            10 => (
                Method::GET,
                format!("/{}={id}", rng.pick(&["beverages?orderId", "notifications?customerId"])),
                Value::Null,
            ),
            11 => (Method::GET, format!("/kiosk/customers/{id}/orders"), Value::Null),
            12 => (
                Method::PUT,
                format!("/ingredients/{id}"),
                mutate(&mut rng, &json!({"qty": 5})),
            ),
            13 => (
                Method::PUT,
                "/machine".to_string(),
                mutate(&mut rng, &json!({"inService": true})),
            ),
            _ => (Method::POST, format!("/orders/{id}/cancel"), random_value(&mut rng, 0)),
        };
        let answer: Answer = match (&method, raw) {
            (&Method::GET, _) => api.get(&path).await,
            (_, Some(bytes)) => api.send_raw(method.clone(), &path, bytes).await,
            (_, None) => api.send_raw(method.clone(), &path, body.to_string()).await,
        };
        *statuses.entry(answer.status).or_default() += 1;
        assert!(
            answer.status < 500,
            "seed {seed}: {method} {path} {body} got {answer:?}"
        );
        let gateway_refusal = answer.status == 403 && answer.body["message"].is_string();
        if answer.status >= 400 && !gateway_refusal {
            assert!(
                answer.body["error"]["code"].is_string(),
                "seed {seed}: {method} {path}: {answer:?}"
            );
            assert!(answer.body["error"]["message"].is_string());
        }
        match (method.as_str(), answer.status) {
            ("POST", 201) if path == "/orders" => accepted_orders += 1,
            ("POST", 200) => cancels += 1,
            ("PUT", 200) if path == "/machine" => machine_writes.push(answer.body["inService"].clone()),
            ("POST", 201) | ("PUT", 200) => {
                let (kind, name) = match answer.body.get("stockName") {
                    Some(name) => ("stock", name),
                    None => ("ingredient", &answer.body["ingredientName"]),
                };
                level_writes.insert(format!("{kind}:{}", name.as_str().unwrap()), answer.body["qty"].clone());
            }
            _ => {}
        }
    }

    let (orders_after, levels_after, machine_after) = state(&api).await;
    assert_eq!(
        orders_after.len(),
        orders_before.len() + accepted_orders,
        "only accepted orders were stored"
    );
    assert_eq!(cancels, 0, "no random id names an order");
    for before in &orders_before {
        assert!(orders_after.contains(before), "{before} changed");
    }
    let mut expected_levels = levels_before.clone();
    expected_levels.extend(level_writes.clone());
    assert_eq!(
        levels_after, expected_levels,
        "only accepted writes changed the stock and the ingredients"
    );
    let expected_machine = machine_writes.last().cloned().unwrap_or(machine_before);
    assert_eq!(
        machine_after, expected_machine,
        "only an accepted switch moved the machine"
    );
    println!(
        "[fuzz] seed {seed}: {requests} requests, answers by status {statuses:?}; {accepted_orders} orders, {} \
         stock and ingredient writes and {} machine switches accepted, no 5xx, nothing else changed",
        level_writes.len(),
        machine_writes.len()
    );
}
