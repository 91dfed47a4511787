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
/// The OpenAPI 3 document of the whole HTTP API.
pub const OPENAPI: &str = include_str!("../static/openapi.json");

pub static KIOSK_PAGE_POLICY: LazyLock<String> = LazyLock::new(|| content_security_policy(KIOSK_PAGE));
pub static OPERATOR_PAGE_POLICY: LazyLock<String> = LazyLock::new(|| content_security_policy(OPERATOR_PAGE));
pub static RECEIPT_PAGE_POLICY: LazyLock<String> = LazyLock::new(|| content_security_policy(RECEIPT_PAGE));

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
    fn every_page_keeps_to_its_policy() {
        for page in [KIOSK_PAGE, OPERATOR_PAGE, RECEIPT_PAGE] {
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
