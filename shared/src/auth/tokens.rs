//! The tokens' formats, signed and checked with no I/O: customer tokens and receipts (Ed25519),
//! operator sessions (HMAC with the operator token), kiosk tokens (a random secret the cafe keeps
//! hashed), and whether a customer's token was revoked.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

/// A customer token's prefix, naming its format (`c1.` tokens had no end and are no longer taken).
pub(super) const CUSTOMER_TOKEN_PREFIX: &str = "c2.";

/// An operator session token's prefix, naming its format.
pub(super) const SESSION_PREFIX: &str = "s1.";

/// A kiosk token's prefix, naming its format.
pub(super) const KIOSK_TOKEN_PREFIX: &str = "k1.";

/// A receipt's prefix, naming its format.
pub(super) const RECEIPT_PREFIX: &str = "r1.";

/// What a kiosk token claims: the kiosk, and the hash its secret must have. Whether such a kiosk
/// is registered (and not revoked) is checked where the kiosk acts, by the order function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskClaim {
    pub kiosk_id: String,
    pub secret_hash: String,
}

/// A newly registered kiosk's credentials: its token, given once to the operator, and the hash
/// of its secret, the only part the cafe keeps.
pub struct NewKiosk {
    pub kiosk_id: String,
    pub token: String,
    pub secret_hash: String,
}

impl NewKiosk {
    /// A kiosk id and a secret of 244 random bits (two v4 UUIDs' random bits).
    pub fn generate() -> Self {
        let kiosk_id = format!("kiosk-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let mut secret = [0u8; 32];
        secret[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        secret[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let secret = B64.encode(secret);
        Self {
            token: format!("{KIOSK_TOKEN_PREFIX}{kiosk_id}.{secret}"),
            secret_hash: sha256_hex(&secret),
            kiosk_id,
        }
    }
}

/// A SHA-256, in hex: what is stored of a kiosk secret (random, so a plain hash is enough:
/// nothing to guess from it) and of a sign-in code (salted).
pub fn sha256_hex(secret: &str) -> String {
    use sha2::Digest;
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The kiosk a token names and the hash its secret has, if it is shaped as a kiosk token.
pub fn parse_kiosk_token(token: &str) -> Option<KioskClaim> {
    let (kiosk_id, secret) = token.strip_prefix(KIOSK_TOKEN_PREFIX)?.split_once('.')?;
    let well_formed = !kiosk_id.is_empty()
        && kiosk_id.len() <= 64
        && kiosk_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && B64.decode(secret).is_ok_and(|bytes| bytes.len() == 32);
    well_formed.then(|| KioskClaim {
        kiosk_id: kiosk_id.to_string(),
        secret_hash: sha256_hex(secret),
    })
}

/// The Ed25519 key derived from the signing secret (its SHA-256 is the key's seed).
pub(super) fn signing_key_from(secret: &str) -> SigningKey {
    use sha2::Digest;
    SigningKey::from_bytes(&Sha256::digest(secret.as_bytes()).into())
}

/// Whether a customer token of `customer_id` that ends at `expires_at` was revoked.
pub fn is_revoked(revoked: &BTreeMap<String, i64>, customer_id: &str, expires_at: i64) -> bool {
    revoked.get(customer_id).is_some_and(|end| expires_at <= *end)
}

/// When a signed token (`<prefix><subject>.<end>.<signature>`) ends, as it says (check it first).
pub fn token_end(token: &str) -> Option<i64> {
    unix_seconds(token.split('.').nth(2)?)
}

/// A moment written as the tokens write it: Unix seconds in plain digits, with no sign and no
/// leading zero, so that one signed claim has one spelling.
fn unix_seconds(text: &str) -> Option<i64> {
    let canonical = !text.is_empty()
        && text.len() <= 12
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// What a signed token with an end (a customer token, a receipt) is at a moment.
#[derive(Debug, PartialEq, Eq)]
pub enum Signed {
    /// Signed with this key and not yet at its end: what it names (a customer, an order).
    Valid(String),
    /// Signed with this key, but past its end.
    Expired,
}

/// What is signed for a token of `kind` (what the token is for, so one kind never passes as
/// another) naming `subject` until `expires_at`.
fn claim(kind: &str, subject: &str, expires_at: i64) -> Vec<u8> {
    format!("cafe {kind}\n{expires_at}\n{subject}").into_bytes()
}

/// `<prefix><subject, base64url>.<expires at, Unix seconds>.<Ed25519 signature, base64url>`.
fn sign_claim(key: &SigningKey, prefix: &str, kind: &str, subject: &str, expires_at: i64) -> String {
    let signature = key.sign(&claim(kind, subject, expires_at));
    format!(
        "{prefix}{}.{expires_at}.{}",
        B64.encode(subject),
        B64.encode(signature.to_bytes())
    )
}

/// `None` when the token is not one of `kind` signed with the key this one verifies.
fn verify_claim(key: &VerifyingKey, prefix: &str, kind: &str, token: &str, now: i64) -> Option<Signed> {
    let mut parts = token.strip_prefix(prefix)?.splitn(3, '.');
    let subject = String::from_utf8(B64.decode(parts.next()?).ok()?).ok()?;
    let expires_at = unix_seconds(parts.next()?)?;
    let signature = Signature::from_slice(&B64.decode(parts.next()?).ok()?).ok()?;
    key.verify_strict(&claim(kind, &subject, expires_at), &signature).ok()?;
    Some(if now < expires_at {
        Signed::Valid(subject)
    } else {
        Signed::Expired
    })
}

/// A customer's token: `c2.<customer id>.<expires at>.<signature>`.
pub fn sign_customer_token(key: &SigningKey, customer_id: &str, expires_at: i64) -> String {
    sign_claim(key, CUSTOMER_TOKEN_PREFIX, "customer", customer_id, expires_at)
}

/// The customer a token names, if it is one signed with the key `key` verifies.
pub fn verify_customer_token(key: &VerifyingKey, token: &str, now: i64) -> Option<Signed> {
    verify_claim(key, CUSTOMER_TOKEN_PREFIX, "customer", token, now)
}

/// An order's receipt: `r1.<order id>.<expires at>.<signature>`.
pub fn sign_receipt(key: &SigningKey, order_id: &str, expires_at: i64) -> String {
    sign_claim(key, RECEIPT_PREFIX, "receipt", order_id, expires_at)
}

/// The order a receipt shows, if it is one signed with the key `key` verifies.
pub fn verify_receipt(key: &VerifyingKey, token: &str, now: i64) -> Option<Signed> {
    verify_claim(key, RECEIPT_PREFIX, "receipt", token, now)
}

fn session_mac(operator_token: &str, expires_at: i64, nonce: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(operator_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("cafe operator session\n{expires_at}.{nonce}").as_bytes());
    mac
}

/// `s1.<expires at, Unix seconds>.<nonce>.<signature>`, signed with the operator token.
pub fn sign_operator_session(operator_token: &str, expires_at: i64, nonce: &str) -> String {
    let signature = session_mac(operator_token, expires_at, nonce).finalize().into_bytes();
    format!("{SESSION_PREFIX}{expires_at}.{nonce}.{}", B64.encode(signature))
}

/// What an operator session token is at `now`.
#[derive(Debug, PartialEq, Eq)]
pub enum Session {
    Valid,
    /// Signed with the operator token, but past its end.
    Expired,
    /// Not a session signed with this operator token.
    Invalid,
}

pub fn verify_operator_session(operator_token: &str, token: &str, now: i64) -> Session {
    let parsed = token.strip_prefix(SESSION_PREFIX).and_then(|rest| {
        let mut parts = rest.splitn(3, '.');
        let expires_at = unix_seconds(parts.next()?)?;
        let nonce = parts.next()?;
        let signature = B64.decode(parts.next()?).ok()?;
        Some((expires_at, nonce, signature))
    });
    let Some((expires_at, nonce, signature)) = parsed else {
        return Session::Invalid;
    };
    if session_mac(operator_token, expires_at, nonce)
        .verify_slice(&signature)
        .is_err()
    {
        Session::Invalid
    } else if now >= expires_at {
        Session::Expired
    } else {
        Session::Valid
    }
}

/// Equal, in a time that does not tell how much of a guess was right.
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> (SigningKey, VerifyingKey) {
        let signing = signing_key_from(secret);
        let verify = signing.verifying_key();
        (signing, verify)
    }

    #[test]
    fn a_customer_token_names_its_customer_until_its_end_and_only_with_the_right_key() {
        let (signing, verify) = keys("key-1");
        let token = sign_customer_token(&signing, "customer 7", 1_000);
        assert_eq!(
            verify_customer_token(&verify, &token, 999),
            Some(Signed::Valid("customer 7".into()))
        );
        assert_eq!(verify_customer_token(&verify, &token, 1_000), Some(Signed::Expired));
        assert_eq!(
            verify_customer_token(&keys("key-2").1, &token, 999),
            None,
            "rotated key"
        );
        let stretched = token.replacen(".1000.", ".9000.", 1);
        assert_eq!(verify_customer_token(&verify, &stretched, 999), None, "an edited end");
        for respelled in [".01000.", ".+1000.", ". 1000.", ".1000 ."] {
            let token = token.replacen(".1000.", respelled, 1);
            assert_eq!(verify_customer_token(&verify, &token, 999), None, "{respelled}");
            assert_eq!(token_end(&token), None, "{respelled}");
        }
        assert_eq!(
            verify_receipt(&verify, &token.replacen("c2.", "r1.", 1), 999),
            None,
            "not a receipt"
        );
    }

    #[test]
    fn the_same_secret_gives_the_same_key() {
        let (_, verify) = keys("key-1");
        assert_eq!(signing_key_from("key-1").verifying_key(), verify);
        assert_ne!(signing_key_from("key-2").verifying_key(), verify);
    }

    #[test]
    fn a_token_edited_to_name_another_customer_is_refused() {
        let (signing, verify) = keys("key");
        let token = sign_customer_token(&signing, "1", 1_000);
        let (_, rest) = token.strip_prefix("c2.").unwrap().split_once('.').unwrap();
        let forged = format!("c2.{}.{rest}", B64.encode("2"));
        assert_eq!(verify_customer_token(&verify, &forged, 999), None);
        for junk in ["c2.garbage", "c2.MQ.x.sig", "c2.MQ.1000", "c1.MQ.sig", ""] {
            assert_eq!(verify_customer_token(&verify, junk, 999), None, "{junk}");
        }
    }

    #[test]
    fn an_operator_session_holds_until_its_end_and_only_for_its_operator_token() {
        let session = sign_operator_session("operator-1", 1_000, "n");
        assert_eq!(verify_operator_session("operator-1", &session, 999), Session::Valid);
        assert_eq!(verify_operator_session("operator-1", &session, 1_000), Session::Expired);
        assert_eq!(
            verify_operator_session("operator-2", &session, 999),
            Session::Invalid,
            "rotated"
        );
        let stretched = session.replacen("1000", "9000", 1);
        assert_eq!(verify_operator_session("operator-1", &stretched, 999), Session::Invalid);
        for respelled in ["01000", "+1000"] {
            let session = session.replacen("1000", respelled, 1);
            assert_eq!(verify_operator_session("operator-1", &session, 999), Session::Invalid);
        }
        for junk in ["s1.", "s1.x.n.sig", "s1.1000.n", "c1.abc.def", ""] {
            assert_eq!(
                verify_operator_session("operator-1", junk, 999),
                Session::Invalid,
                "{junk}"
            );
        }
    }

    #[test]
    fn a_kiosk_token_claims_its_kiosk_and_the_hash_of_its_secret_only() {
        let kiosk = NewKiosk::generate();
        let claim = parse_kiosk_token(&kiosk.token).unwrap();
        assert_eq!(claim.kiosk_id, kiosk.kiosk_id);
        assert_eq!(claim.secret_hash, kiosk.secret_hash);
        assert_eq!(kiosk.secret_hash.len(), 64);
        let secret = kiosk.token.rsplit_once('.').unwrap().1;
        assert!(!kiosk.secret_hash.contains(secret));
        let other = NewKiosk::generate();
        assert_ne!(other.kiosk_id, kiosk.kiosk_id);
        assert_ne!(other.secret_hash, kiosk.secret_hash);
        // Another kiosk's secret under this kiosk's id claims a hash this kiosk does not have.
        let swapped = format!("k1.{}.{}", kiosk.kiosk_id, other.token.rsplit_once('.').unwrap().1);
        assert_ne!(parse_kiosk_token(&swapped).unwrap().secret_hash, kiosk.secret_hash);
        for junk in [
            "k1.",
            "k1.kiosk-1",
            "k1.kiosk-1.short",
            "k1..c2VjcmV0",
            "k1.a b.x",
            "c1.abc.def",
        ] {
            assert_eq!(parse_kiosk_token(junk), None, "{junk}");
        }
    }

    #[test]
    fn a_receipt_shows_its_order_until_it_expires_and_only_with_the_right_key() {
        let (signing, verify) = keys("key");
        let receipt = sign_receipt(&signing, "o-1", 1_000);
        assert_eq!(
            verify_receipt(&verify, &receipt, 999),
            Some(Signed::Valid("o-1".into()))
        );
        assert_eq!(verify_receipt(&verify, &receipt, 1_000), Some(Signed::Expired));
        assert_eq!(verify_receipt(&keys("other key").1, &receipt, 999), None);
        let stretched = receipt.replacen(".1000.", ".9000.", 1);
        assert_eq!(verify_receipt(&verify, &stretched, 999), None, "an edited expiry");
        let respelled = receipt.replacen(".1000.", ".+1000.", 1);
        assert_eq!(verify_receipt(&verify, &respelled, 999), None, "a respelled expiry");
        let other_order = receipt.replacen(&B64.encode("o-1"), &B64.encode("o-2"), 1);
        assert_eq!(verify_receipt(&verify, &other_order, 999), None, "an edited order");
        for junk in ["r1.", "r1.o-1.1000", "r1.o-1.x.sig", "c1.abc.def", ""] {
            assert_eq!(verify_receipt(&verify, junk, 999), None, "{junk}");
        }
    }

    #[test]
    fn a_revocation_ends_the_tokens_that_end_by_its_moment_and_no_later_ones() {
        let (signing, _) = keys("key");
        let revoked = BTreeMap::from([("alice".to_string(), 1_000)]);
        let token = sign_customer_token(&signing, "alice", 1_000);
        assert_eq!(token_end(&token), Some(1_000));
        assert!(
            is_revoked(&revoked, "alice", 1_000),
            "a token issued before the revocation"
        );
        assert!(!is_revoked(&revoked, "alice", 1_001), "a token issued after it");
        assert!(!is_revoked(&revoked, "bob", 1_000), "another customer");
    }
}
