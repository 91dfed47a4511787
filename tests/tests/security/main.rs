//! Security, end to end on its own local cloud (at most 5 orders per customer and 10 per kiosk a
//! minute, operator sessions of 12 s): only the operator token (or a session opened with it, until it
//! ends) restocks, registers kiosks or sees everyone's data; only a registered kiosk (or the
//! operator, or a customer with their token) places orders, within its own limit, until revoked,
//! and revoking it ends the tokens and receipts it issued; a customer's token, issued with their first order at a kiosk, reaches only that customer's
//! orders; look-alike ids and other bad input get clear 4xx answers and change nothing; one
//! customer takes at most 10 beverages an order, 12 cups an hour and 3 orders in progress; a
//! number gets at most 3 codes an hour, a receipt or customer 3 texts and a kiosk 30;
//! pages and answers carry protective headers; a cancelled customer is not told the stock level;
//! and no token shows up in an answer or in the functions' logs.

use base64::Engine;
use cafe_e2e::{Answer, Api, LocalCloud, workspace_root};
use serde_json::{Value, json};
use std::sync::OnceLock;
use tokio::sync::Mutex;

mod abuse;
mod customers;
mod kiosks;
mod operator;
mod sign_in;

const ORDERS_PER_MINUTE: u32 = 5;
const KIOSK_ORDERS_PER_MINUTE: u32 = 10;
const RECEIPT_SECONDS: i64 = 30;
const CUSTOMER_TOKEN_SECONDS: i64 = 45;
const SESSION_SECONDS: i64 = 12;
const TEXTS_PER_HOUR: usize = 3;
const SECRETS_REFRESH_SECONDS: u64 = 3;
const BEVERAGES_PER_ORDER: u32 = 10;
const CUPS_PER_CUSTOMER_PER_HOUR: u32 = 12;
const ORDERS_IN_PROGRESS_PER_CUSTOMER: u32 = 3;
const CODES_PER_NUMBER_PER_HOUR: u32 = 3;
const TEXTS_PER_CALLER_PER_HOUR: u32 = 3;
const TEXTS_PER_KIOSK_PER_HOUR: u32 = 30;

fn cloud() -> &'static LocalCloud {
    static CLOUD: OnceLock<LocalCloud> = OnceLock::new();
    CLOUD.get_or_init(|| {
        LocalCloud::start(&[
            ("MaxOrdersPerCustomerPerMinute", &ORDERS_PER_MINUTE.to_string()),
            ("MaxOrdersPerKioskPerMinute", &KIOSK_ORDERS_PER_MINUTE.to_string()),
            ("ReceiptSeconds", &RECEIPT_SECONDS.to_string()),
            ("CustomerTokenSeconds", &CUSTOMER_TOKEN_SECONDS.to_string()),
            ("OperatorSessionSeconds", &SESSION_SECONDS.to_string()),
            ("MaxTextsPerNumberPerHour", &TEXTS_PER_HOUR.to_string()),
            ("SecretsRefreshSeconds", &SECRETS_REFRESH_SECONDS.to_string()),
            ("MaxBeveragesPerOrder", &BEVERAGES_PER_ORDER.to_string()),
            ("MaxCupsPerCustomerPerHour", &CUPS_PER_CUSTOMER_PER_HOUR.to_string()),
            (
                "MaxOrdersInProgressPerCustomer",
                &ORDERS_IN_PROGRESS_PER_CUSTOMER.to_string(),
            ),
            ("MaxCodesPerNumberPerHour", &CODES_PER_NUMBER_PER_HOUR.to_string()),
            ("MaxTextsPerCallerPerHour", &TEXTS_PER_CALLER_PER_HOUR.to_string()),
            ("MaxTextsPerKioskPerHour", &TEXTS_PER_KIOSK_PER_HOUR.to_string()),
        ])
    })
}

/// Every token handed out during the run, for the log check at the end.
static TOKENS_SEEN: Mutex<Vec<String>> = Mutex::const_new(Vec::new());

/// The tests share one stack; the log check runs once the others are done.
static TURNS: Mutex<()> = Mutex::const_new(());

/// This test's turn on the shared stack, started where the clock's hour (and so its day) does not
/// turn within the next 3 minutes: the hourly limits it counts against, and the day's order
/// numbers, each stay in one window for the whole test.
async fn turn_within_one_hour() -> tokio::sync::MutexGuard<'static, ()> {
    let turn = TURNS.lock().await;
    let left = 3600 - chrono::Utc::now().timestamp() % 3600;
    if left < 180 {
        tokio::time::sleep(std::time::Duration::from_secs(left as u64 + 1)).await;
    }
    turn
}

/// A kiosk the operator registered for one test (each has its own orders a minute).
async fn kiosk(name: &str) -> Api {
    let kiosk = cloud().kiosk_api(name).await;
    TOKENS_SEEN.lock().await.push(kiosk.token.clone().unwrap());
    kiosk
}

async fn first_order(kiosk: &Api, customer: &str) -> (Value, String) {
    let placed = kiosk
        .post(
            "/orders",
            &json!({"customerId": customer, "beverageName": "latte", "beverageQty": 1}),
        )
        .await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let token = placed.body["customerToken"]
        .as_str()
        .unwrap_or_else(|| panic!("a first order carries the customer's token: {placed:?}"))
        .to_string();
    TOKENS_SEEN.lock().await.push(token.clone());
    (placed.body, token)
}

/// A signed token's kind (`c3.`, `r2.`), its claims as anyone can read them (a PASETO
/// v4.public token's message is its claims' JSON then a 64-byte signature), and the signature.
fn opened(token: &str) -> (&str, Value, Vec<u8>) {
    let (kind, rest) = token.split_at(3);
    let message = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(rest.strip_prefix("v4.public.").expect("a PASETO v4.public token"))
        .unwrap();
    let (claims, signature) = message.split_at(message.len() - 64);
    (kind, serde_json::from_slice(claims).unwrap(), signature.to_vec())
}

/// The token with `from` written as `to` in its claims' JSON and its signature kept: what a
/// forger can make of it. (`from` written as itself gives the token back.)
fn forged(token: &str, from: &str, to: &str) -> String {
    let (kind, rest) = token.split_at(3);
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let message = engine.decode(rest.strip_prefix("v4.public.").unwrap()).unwrap();
    let (claims, signature) = message.split_at(message.len() - 64);
    let claims = String::from_utf8(claims.to_vec()).unwrap();
    assert!(claims.contains(from), "{claims}");
    let mut message = claims.replacen(from, to, 1).into_bytes();
    message.extend_from_slice(signature);
    format!("{kind}v4.public.{}", engine.encode(message))
}

/// Asserts that what was issued between `asked` and `answered` ends `lifetime` seconds after it
/// was issued (to the second), and says how long it had left when it was answered.
fn lasts(asked: i64, answered: i64, ends: i64, lifetime: i64) -> i64 {
    assert!(
        (asked + lifetime..=answered + lifetime).contains(&ends),
        "ends at {ends}: issued between {asked} and {answered} for {lifetime} s"
    );
    ends - answered
}

fn refused(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.error_code(), code, "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_and_answers_carry_protective_headers() {
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let http = reqwest::Client::new();
    let url = |path: &str| cloud.anonymous_api().url(path);
    for page in ["/", "/operator", "/receipt"] {
        let answer = http.get(url(page)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{page}");
        let header = |name: &str| answer.headers()[name].to_str().unwrap().to_string();
        let policy = header("content-security-policy");
        for rule in [
            "default-src 'none'",
            "script-src 'sha256-",
            "frame-ancestors 'none'",
            "connect-src 'self'",
        ] {
            assert!(policy.contains(rule), "{page}: {rule} missing from {policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{page}: {policy}");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
    }
    // Answers (accepted or refused) are never kept by a shared browser or sniffed as another type.
    for (path, status) in [("/menu", 200), ("/orders", 401), ("/kiosk/orders/nope", 401)] {
        let answer = http.get(url(path)).send().await.unwrap();
        assert_eq!(answer.status(), status, "{path}");
        assert_eq!(answer.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(answer.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    println!("[security] headers: 3 pages with a hash-only CSP and no framing; 3 answers not stored, not sniffed");
}

/// Runs after the others (test names are ordered): every token handed out, and the operator's,
/// must appear in no function's log, though the refusals were logged.
#[tokio::test(flavor = "multi_thread")]
async fn zz_no_token_appears_in_the_functions_logs() {
    // Wait for the other tests of this binary to have taken their turns.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let _turn = TURNS.lock().await;
    let cloud = cloud();
    let kiosk = kiosk("logs").await;
    // This test's own traffic, so it stands alone: a first order and a refused call.
    let (_, token) = first_order(&kiosk, "frank").await;
    refused(&kiosk.with_token(&token).get("/orders").await, 403, "forbidden");
    refused(&kiosk.with_token("x").get("/orders").await, 401, "unauthorized");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    let logs = aws_sdk_cloudwatchlogs::Client::new(&cloud.sdk().await);
    let mut lines = Vec::new();
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{}-", cloud.stack))
        .send()
        .await
        .unwrap();
    for group in groups.log_groups() {
        let name = group.log_group_name().unwrap();
        let mut next = None;
        loop {
            let page = logs
                .filter_log_events()
                .log_group_name(name)
                .set_next_token(next)
                .send()
                .await
                .unwrap();
            lines.extend(page.events().iter().filter_map(|e| e.message().map(String::from)));
            next = page.next_token().map(String::from);
            if next.is_none() {
                break;
            }
        }
    }
    let refusals = lines.iter().filter(|l| l.contains("request refused")).count();
    assert!(refusals >= 2, "the refusals were logged ({} lines read)", lines.len());
    let mut tokens = TOKENS_SEEN.lock().await.clone();
    tokens.push(cloud.operator_token.clone());
    tokens.push(token);
    for token in &tokens {
        // The signature part is what makes a customer token secret.
        let secret_part = token.rsplit('.').next().unwrap();
        let leaks: Vec<_> = lines.iter().filter(|l| l.contains(secret_part)).collect();
        assert!(leaks.is_empty(), "a token is in the logs: {leaks:?}");
    }
    println!(
        "[security] {} log lines of {} functions read ({refusals} refusals logged): none holds any of {} tokens",
        lines.len(),
        groups.log_groups().len(),
        tokens.len()
    );
}
