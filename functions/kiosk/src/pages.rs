//! The pages the kiosk function serves, built into the binary (no files to ship beside them, no
//! third-party fetches), and the content security policy each one is served with.

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The customers' kiosk.
pub const KIOSK_PAGE: &str = include_str!("../static/index.html");
/// The operator's page: stock and the latest orders, behind a short session.
pub const OPERATOR_PAGE: &str = include_str!("../static/operator.html");
/// A customer's receipt, on their own phone: one order, followed by its receipt.
pub const RECEIPT_PAGE: &str = include_str!("../static/receipt.html");
/// The pickup screen, for a screen in the cafe: orders being made and ready, by number.
pub const DISPLAY_PAGE: &str = include_str!("../static/display.html");
/// The OpenAPI 3 document of the whole HTTP API.
pub const OPENAPI: &str = include_str!("../static/openapi.json");

pub static KIOSK_PAGE_POLICY: LazyLock<String> = LazyLock::new(|| content_security_policy(KIOSK_PAGE));
pub static OPERATOR_PAGE_POLICY: LazyLock<String> = LazyLock::new(|| content_security_policy(OPERATOR_PAGE));
pub static RECEIPT_PAGE_POLICY: LazyLock<String> = LazyLock::new(|| content_security_policy(RECEIPT_PAGE));
pub static DISPLAY_PAGE_POLICY: LazyLock<String> = LazyLock::new(|| content_security_policy(DISPLAY_PAGE));

/// The OpenAPI document as this stack runs: the beverages its menu offers, and the phone numbers
/// it texts (the country calling codes it was deployed with), so that what the document allows
/// is what the API takes.
pub fn deployed_openapi(beverage_names: &[&str], text_country_codes: &[String]) -> String {
    let mut document: serde_json::Value = serde_json::from_str(OPENAPI).expect("the OpenAPI document is JSON");
    let schemas = &mut document["components"]["schemas"];
    for schema in ["OrderRequest", "OrderLineRequest"] {
        let beverage = &mut schemas[schema]["properties"]["beverageName"];
        beverage["enum"] = serde_json::json!(beverage_names);
        beverage["description"] = "one of GET /menu".into();
    }
    // E.164: a calling code and the rest, 7 to 15 digits in all.
    let numbers: Vec<String> = text_country_codes
        .iter()
        .map(|code| format!("{code}[0-9]{{{},{}}}", 7 - code.len().min(6), 15 - code.len()))
        .collect();
    for schema in ["OrderRequest", "CodeRequest", "CodeAnswer"] {
        schemas[schema]["properties"]["phoneNumber"]["pattern"] = format!("^\\+({})$", numbers.join("|")).into();
    }
    document.to_string()
}

/// Where a page reads its live connection's address (empty: it looks every few seconds instead).
const LIVE_URL_META: &str = r#"<meta name="live-url" content="">"#;

/// The page with its live connection's address, and its policy letting it connect there.
pub fn with_live_url(html: &str, policy: &str, live_url: Option<&str>) -> (String, String) {
    let Some(url) = live_url else {
        return (html.to_string(), policy.to_string());
    };
    let origin = match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or_default()),
        None => return (html.to_string(), policy.to_string()),
    };
    (
        html.replace(LIVE_URL_META, &format!(r#"<meta name="live-url" content="{url}">"#)),
        policy.replace("connect-src 'self';", &format!("connect-src 'self' {origin};")),
    )
}

/// A policy that runs only the page's own inline script and style (by their hashes, so an injected
/// script never runs), talks only to this API, and lets no other site frame the page.
pub fn content_security_policy(html: &str) -> String {
    let hashes = |tag: &str| {
        inline_blocks(html, tag)
            .into_iter()
            .map(|block| format!(" 'sha256-{}'", B64.encode(Sha256::digest(block.as_bytes()))))
            .collect::<String>()
    };
    format!(
        "default-src 'none'; script-src{}; style-src{}; connect-src 'self'; img-src 'self' data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hashes("script"),
        hashes("style")
    )
}

/// The text inside each `<tag>…</tag>` of the page, exactly as the browser hashes it.
fn inline_blocks<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    html.split(open.as_str())
        .skip(1)
        .filter_map(|rest| rest.split_once(close.as_str()).map(|(block, _)| block))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_each_inline_block_by_its_hash() {
        let policy = content_security_policy("<style>a{}</style><script>go()</script><script>x</script>");
        let hash = |text: &str| B64.encode(Sha256::digest(text.as_bytes()));
        assert!(policy.contains(&format!("script-src 'sha256-{}' 'sha256-{}';", hash("go()"), hash("x"))));
        assert!(policy.contains(&format!("style-src 'sha256-{}';", hash("a{}"))));
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"));
        assert!(!policy.contains("unsafe-inline"));
    }

    #[test]
    fn the_document_offers_the_deployed_menu_and_texts_only_its_countries() {
        let document: serde_json::Value = serde_json::from_str(&deployed_openapi(
            &["espresso", "flat-white"],
            &["1".into(), "44".into()],
        ))
        .unwrap();
        let request = &document["components"]["schemas"]["OrderRequest"]["properties"];
        assert_eq!(
            request["beverageName"]["enum"],
            serde_json::json!(["espresso", "flat-white"])
        );
        let pattern = request["phoneNumber"]["pattern"].as_str().unwrap();
        assert_eq!(pattern, r"^\+(1[0-9]{6,14}|44[0-9]{5,13})$");
        let sign_in = &document["components"]["schemas"]["CodeRequest"]["properties"]["phoneNumber"];
        assert_eq!(sign_in["pattern"], pattern);
    }

    #[test]
    fn a_page_is_told_its_live_address_and_may_connect_only_there() {
        let url = "wss://a1.execute-api.eu-west-1.amazonaws.com/live";
        let (html, policy) = with_live_url(DISPLAY_PAGE, &DISPLAY_PAGE_POLICY, Some(url));
        assert!(html.contains(&format!(r#"<meta name="live-url" content="{url}">"#)));
        assert!(policy.contains("connect-src 'self' wss://a1.execute-api.eu-west-1.amazonaws.com;"));
        for page in [KIOSK_PAGE, RECEIPT_PAGE, DISPLAY_PAGE] {
            assert!(page.contains(LIVE_URL_META), "every live page reads its address");
        }
        let (html, policy) = with_live_url(DISPLAY_PAGE, &DISPLAY_PAGE_POLICY, None);
        assert_eq!(
            (html.as_str(), policy.as_str()),
            (DISPLAY_PAGE, DISPLAY_PAGE_POLICY.as_str())
        );
    }

    #[test]
    fn every_page_keeps_to_its_policy() {
        for page in [KIOSK_PAGE, OPERATOR_PAGE, RECEIPT_PAGE, DISPLAY_PAGE] {
            // Every script and style is an inline block the policy hashes: no script from a file,
            // no inline event handler attribute, no style attribute.
            assert_eq!(inline_blocks(page, "script").len(), 1);
            assert_eq!(inline_blocks(page, "style").len(), 1);
            for forbidden in ["<script src", " onclick=", " onload=", " style=\""] {
                assert!(!page.contains(forbidden), "a page has {forbidden:?}");
            }
        }
    }
}
