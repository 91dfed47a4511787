//! The tokens' formats, signed and checked with no I/O. Customer tokens and receipts are PASETO
//! v4.public tokens (Ed25519), operator sessions v4.local ones (encrypted and authenticated with a
//! key derived from the operator token): a maintained format, so neither their parsing nor their
//! signatures are ours. Each kind is bound to what it is for (PASETO's implicit assertion), so one
//! kind never passes as another, and carries our prefix so a reader can tell them apart. Kiosk
//! tokens are a random secret the cafe keeps hashed: nothing in them is signed.
//! A token's end is checked against the cafe's clock ([`crate::clock`]), which the simulation
//! moves, not the system's.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use chrono::{DateTime, SecondsFormat};
use ed25519_dalek::{SigningKey, VerifyingKey};
use pasetors::claims::Claims;
use pasetors::keys::{AsymmetricPublicKey, AsymmetricSecretKey, SymmetricKey};
use pasetors::token::UntrustedToken;
use pasetors::version4::{LocalToken, PublicToken, V4};
use pasetors::{Local, Public};
use sha2::Sha256;
use std::collections::BTreeMap;

/// A customer token's prefix, naming its format (`c1.` and `c2.` tokens, home-made, are no
/// longer taken).
pub(super) const CUSTOMER_TOKEN_PREFIX: &str = "c3.";

/// An operator session token's prefix, naming its format.
pub(super) const SESSION_PREFIX: &str = "s2.";

/// A kiosk token's prefix, naming its format.
pub(super) const KIOSK_TOKEN_PREFIX: &str = "k1.";

/// A receipt's prefix, naming its format.
pub(super) const RECEIPT_PREFIX: &str = "r2.";

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

/// What the issuer revoked: each customer who signed out everywhere, and each revoked kiosk, with
/// the moment by which the tokens it ends end (Unix seconds). Tokens that end later were issued
/// after: they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revoked {
    pub customers: BTreeMap<String, i64>,
    pub kiosks: BTreeMap<String, i64>,
}

impl Revoked {
    /// Whether a customer's token issued through `kiosk_id` (if any) that ends at `token_ends`
    /// was revoked: its customer signed out everywhere, or its kiosk was revoked.
    pub fn ends_customer_token(&self, customer_id: &str, kiosk_id: Option<&str>, token_ends: i64) -> bool {
        revoked_by(&self.customers, customer_id, token_ends) || self.ends_kiosks_token(kiosk_id, token_ends)
    }

    /// Whether a token issued through `kiosk_id` (a receipt, a customer token) that ends at
    /// `token_ends` was revoked with its kiosk.
    pub fn ends_kiosks_token(&self, kiosk_id: Option<&str>, token_ends: i64) -> bool {
        kiosk_id.is_some_and(|kiosk_id| revoked_by(&self.kiosks, kiosk_id, token_ends))
    }
}

fn revoked_by(revoked: &BTreeMap<String, i64>, holder: &str, token_ends: i64) -> bool {
    revoked.get(holder).is_some_and(|end| token_ends <= *end)
}

/// What a customer token or a receipt says, once its signature is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The customer (a customer token) or the order (a receipt).
    pub subject: String,
    /// When it ends, in Unix seconds.
    pub ends_at: i64,
    /// The kiosk it was issued through, if any: revoking the kiosk ends it.
    pub kiosk_id: Option<String>,
}

/// What a signed token with an end (a customer token, a receipt) is at a moment.
#[derive(Debug, PartialEq, Eq)]
pub enum Signed {
    /// Signed with this key and not yet at its end.
    Valid(Claim),
    /// Signed with this key, but past its end.
    Expired,
}

/// What each kind of token is for, signed with it.
const CUSTOMER_TOKEN_PURPOSE: &[u8] = b"cafe customer token";
const RECEIPT_PURPOSE: &[u8] = b"cafe receipt";
const SESSION_PURPOSE: &[u8] = b"cafe operator session";

/// The kiosk claim: not one of PASETO's registered claims.
const KIOSK_CLAIM: &str = "kiosk";

fn rfc3339(unix_seconds: i64) -> String {
    DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The claims of a token issued at `now` that ends at `expires_at`, with `more`, written in one
/// order (sorted names), so that the same claims signed again give the same token.
fn timed_claims(now: i64, expires_at: i64, more: &[(&str, &str)]) -> String {
    let mut claims = serde_json::Map::new();
    for (name, moment) in [("iat", now), ("nbf", now), ("exp", expires_at)] {
        claims.insert(name.into(), rfc3339(moment).into());
    }
    for (name, value) in more {
        claims.insert((*name).into(), (*value).into());
    }
    serde_json::Value::Object(claims).to_string()
}

/// When verified claims end, in Unix seconds (PASETO writes moments in RFC 3339).
fn claimed_end(claims: &Claims) -> Option<i64> {
    let end = claims.get_claim("exp")?.as_str()?;
    Some(DateTime::parse_from_rfc3339(end).ok()?.timestamp())
}

fn claim_of(claims: &Claims) -> Option<Claim> {
    Some(Claim {
        subject: claims.get_claim("sub")?.as_str()?.to_string(),
        ends_at: claimed_end(claims)?,
        kiosk_id: match claims.get_claim(KIOSK_CLAIM) {
            Some(kiosk_id) => Some(kiosk_id.as_str()?.to_string()),
            None => None,
        },
    })
}

/// Signs `claim`, issued at `issued_at`: the same claim issued at the same moment gives the same
/// token (Ed25519 signatures are deterministic), so a retried order gets its receipt again.
fn sign_claim(key: &SigningKey, prefix: &str, purpose: &[u8], claim: &Claim, issued_at: i64) -> String {
    let mut more = vec![("sub", claim.subject.as_str())];
    if let Some(kiosk_id) = &claim.kiosk_id {
        more.push((KIOSK_CLAIM, kiosk_id));
    }
    let payload = timed_claims(issued_at, claim.ends_at, &more);
    let secret = AsymmetricSecretKey::<V4>::from(&key.to_keypair_bytes()).expect("an Ed25519 key pair");
    let token = PublicToken::sign(&secret, payload.as_bytes(), None, Some(purpose)).expect("a payload to sign");
    format!("{prefix}{token}")
}

/// `None` when the token is not one for `purpose` signed with the key this one verifies.
fn verify_claim(key: &VerifyingKey, prefix: &str, purpose: &[u8], token: &str, now: i64) -> Option<Signed> {
    let untrusted = UntrustedToken::<Public, V4>::try_from(token.strip_prefix(prefix)?).ok()?;
    let public = AsymmetricPublicKey::<V4>::from(key.as_bytes()).ok()?;
    let trusted = PublicToken::verify(&public, &untrusted, None, Some(purpose)).ok()?;
    let claim = claim_of(&Claims::from_string(trusted.payload()).ok()?)?;
    Some(match now < claim.ends_at {
        true => Signed::Valid(claim),
        false => Signed::Expired,
    })
}

/// A customer's token (`c3.v4.public.…`), issued at `issued_at`.
pub fn sign_customer_token(key: &SigningKey, claim: &Claim, issued_at: i64) -> String {
    sign_claim(key, CUSTOMER_TOKEN_PREFIX, CUSTOMER_TOKEN_PURPOSE, claim, issued_at)
}

/// What a customer token claims (the customer is its subject), if it is one signed with the key
/// `key` verifies.
pub fn verify_customer_token(key: &VerifyingKey, token: &str, now: i64) -> Option<Signed> {
    verify_claim(key, CUSTOMER_TOKEN_PREFIX, CUSTOMER_TOKEN_PURPOSE, token, now)
}

/// An order's receipt (`r2.v4.public.…`, the order is its subject), issued at `issued_at`.
pub fn sign_receipt(key: &SigningKey, claim: &Claim, issued_at: i64) -> String {
    sign_claim(key, RECEIPT_PREFIX, RECEIPT_PURPOSE, claim, issued_at)
}

/// What a receipt claims, if it is one signed with the key `key` verifies.
pub fn verify_receipt(key: &VerifyingKey, token: &str, now: i64) -> Option<Signed> {
    verify_claim(key, RECEIPT_PREFIX, RECEIPT_PURPOSE, token, now)
}

/// What a customer token claims, read without checking it: for a token already checked (by
/// [`verify_customer_token`]), to keep what it said.
pub fn customer_token_claim(token: &str) -> Option<Claim> {
    let untrusted = UntrustedToken::<Public, V4>::try_from(token.strip_prefix(CUSTOMER_TOKEN_PREFIX)?).ok()?;
    claim_of(&Claims::from_bytes(untrusted.untrusted_payload()).ok()?)
}

/// The sessions' key: derived from the operator token, so a rotated one ends every session.
fn session_key(operator_token: &str) -> SymmetricKey<V4> {
    use sha2::Digest;
    let key = Sha256::digest(format!("cafe operator session\n{operator_token}").as_bytes());
    SymmetricKey::<V4>::from(&key).expect("a 32-byte key")
}

/// An operator session (`s2.v4.local.…`), issued at `now` and ending at `expires_at`.
pub fn sign_operator_session(operator_token: &str, now: i64, expires_at: i64) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let payload = timed_claims(now, expires_at, &[("jti", &id)]);
    let token = LocalToken::encrypt(
        &session_key(operator_token),
        payload.as_bytes(),
        None,
        Some(SESSION_PURPOSE),
    )
    .expect("the system's random source works");
    format!("{SESSION_PREFIX}{token}")
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
    let end = token.strip_prefix(SESSION_PREFIX).and_then(|token| {
        let untrusted = UntrustedToken::<Local, V4>::try_from(token).ok()?;
        let trusted =
            LocalToken::decrypt(&session_key(operator_token), &untrusted, None, Some(SESSION_PURPOSE)).ok()?;
        claimed_end(&Claims::from_string(trusted.payload()).ok()?)
    });
    match end {
        None => Session::Invalid,
        Some(end) if now >= end => Session::Expired,
        Some(_) => Session::Valid,
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

    fn claim(subject: &str, ends_at: i64, kiosk_id: Option<&str>) -> Claim {
        Claim {
            subject: subject.into(),
            ends_at,
            kiosk_id: kiosk_id.map(Into::into),
        }
    }

    /// The token with `from` written as `to` in its claims (the JSON before a PASETO public
    /// token's 64-byte signature) and its signature kept: what a forger can make of it.
    fn forged(token: &str, prefix: &str, from: &str, to: &str) -> String {
        let message = B64
            .decode(token.strip_prefix(prefix).unwrap().strip_prefix("v4.public.").unwrap())
            .unwrap();
        let (claims, signature) = message.split_at(message.len() - 64);
        let claims = String::from_utf8(claims.to_vec()).unwrap();
        assert!(claims.contains(from), "{claims}");
        let mut message = claims.replacen(from, to, 1).into_bytes();
        message.extend_from_slice(signature);
        format!("{prefix}v4.public.{}", B64.encode(message))
    }

    #[test]
    fn a_customer_token_says_who_until_its_end_and_only_with_the_right_key() {
        let (signing, verify) = keys("key-1");
        let alice = claim("customer 7", 1_000, Some("kiosk-1"));
        let token = sign_customer_token(&signing, &alice, 10);
        assert!(token.starts_with("c3.v4.public."), "{token}");
        assert_eq!(
            verify_customer_token(&verify, &token, 999),
            Some(Signed::Valid(alice.clone()))
        );
        assert_eq!(verify_customer_token(&verify, &token, 1_000), Some(Signed::Expired));
        assert_eq!(customer_token_claim(&token), Some(alice.clone()));
        assert_eq!(
            verify_customer_token(&keys("key-2").1, &token, 999),
            None,
            "rotated key"
        );
        let signed_in = sign_customer_token(&signing, &claim("bob", 1_000, None), 10);
        assert_eq!(
            verify_customer_token(&verify, &signed_in, 999),
            Some(Signed::Valid(claim("bob", 1_000, None))),
            "a token issued with no kiosk names none"
        );
    }

    #[test]
    fn a_token_whose_claims_were_edited_or_respelled_is_refused() {
        let (signing, verify) = keys("key");
        let token = sign_customer_token(&signing, &claim("1", 1_000, Some("kiosk-1")), 10);
        let valid = Some(Signed::Valid(claim("1", 1_000, Some("kiosk-1"))));
        let unchanged = forged(&token, "c3.", r#""sub":"1""#, r#""sub":"1""#);
        assert_eq!(unchanged, token, "the forger's tool changes only what it is told to");
        for (from, to) in [
            (r#""sub":"1""#, r#""sub":"2""#),
            (r#""exp":"1970-01-01T00:16:40Z""#, r#""exp":"1970-01-01T02:30:00Z""#),
            (
                r#""exp":"1970-01-01T00:16:40Z""#,
                r#""exp":"1970-01-01T00:16:40+00:00""#,
            ),
            (r#""exp":"1970-01-01T00:16:40Z""#, r#""exp":"1970-01-01T00:16:40.0Z""#),
            (r#""kiosk":"kiosk-1""#, r#""kiosk":"kiosk-2""#),
        ] {
            let forged = forged(&token, "c3.", from, to);
            assert_eq!(verify_customer_token(&verify, &forged, 999), None, "{to}");
        }
        assert_eq!(verify_customer_token(&verify, &token, 999), valid);
        for junk in [
            "c3.",
            "c3.v4.public.",
            "c3.v4.public.e30",
            "c3.v4.local.abc",
            "c2.MQ.1000.sig",
            "",
        ] {
            assert_eq!(verify_customer_token(&verify, junk, 999), None, "{junk}");
        }
        assert_eq!(
            verify_receipt(&verify, &token.replacen("c3.", "r2.", 1), 999),
            None,
            "a customer token does not pass as a receipt"
        );
    }

    #[test]
    fn the_same_secret_gives_the_same_key() {
        let (_, verify) = keys("key-1");
        assert_eq!(signing_key_from("key-1").verifying_key(), verify);
        assert_ne!(signing_key_from("key-2").verifying_key(), verify);
    }

    #[test]
    fn an_operator_session_holds_until_its_end_and_only_for_its_operator_token() {
        let session = sign_operator_session("operator-1", 10, 1_000);
        assert!(session.starts_with("s2.v4.local."), "{session}");
        assert_eq!(verify_operator_session("operator-1", &session, 999), Session::Valid);
        assert_eq!(verify_operator_session("operator-1", &session, 1_000), Session::Expired);
        assert_eq!(
            verify_operator_session("operator-2", &session, 999),
            Session::Invalid,
            "rotated"
        );
        assert_ne!(
            session,
            sign_operator_session("operator-1", 10, 1_000),
            "each one apart"
        );
        let mut edited = session.clone().into_bytes();
        let middle = edited.len() / 2;
        edited[middle] = if edited[middle] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(edited).unwrap();
        assert_eq!(verify_operator_session("operator-1", &edited, 999), Session::Invalid);
        for junk in ["s2.", "s2.v4.local.", "s1.1000.n.sig", "c3.abc", ""] {
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
        let order = claim("o-1", 1_000, Some("kiosk-1"));
        let receipt = sign_receipt(&signing, &order, 10);
        assert!(receipt.starts_with("r2.v4.public."), "{receipt}");
        assert_eq!(
            sign_receipt(&signing, &order, 10),
            receipt,
            "signed again, the same receipt"
        );
        assert_eq!(verify_receipt(&verify, &receipt, 999), Some(Signed::Valid(order)));
        assert_eq!(verify_receipt(&verify, &receipt, 1_000), Some(Signed::Expired));
        assert_eq!(verify_receipt(&keys("other key").1, &receipt, 999), None);
        let other_order = forged(&receipt, "r2.", r#""sub":"o-1""#, r#""sub":"o-2""#);
        assert_eq!(verify_receipt(&verify, &other_order, 999), None, "an edited order");
        assert_eq!(
            verify_customer_token(&verify, &receipt.replacen("r2.", "c3.", 1), 999),
            None,
            "a receipt does not pass as a customer token"
        );
        for junk in ["r2.", "r2.v4.public.e30", "r1.o-1.1000.sig", ""] {
            assert_eq!(verify_receipt(&verify, junk, 999), None, "{junk}");
        }
    }

    #[test]
    fn a_revocation_ends_the_tokens_that_end_by_its_moment_and_no_later_ones() {
        let revoked = Revoked {
            customers: BTreeMap::from([("alice".to_string(), 1_000)]),
            kiosks: BTreeMap::from([("kiosk-1".to_string(), 2_000)]),
        };
        assert!(
            revoked.ends_customer_token("alice", None, 1_000),
            "a token issued before the sign-out"
        );
        assert!(
            !revoked.ends_customer_token("alice", None, 1_001),
            "a token issued after it"
        );
        assert!(
            !revoked.ends_customer_token("bob", Some("kiosk-2"), 1_000),
            "another customer and kiosk"
        );
        assert!(
            revoked.ends_customer_token("bob", Some("kiosk-1"), 2_000),
            "issued through a revoked kiosk"
        );
        assert!(
            revoked.ends_kiosks_token(Some("kiosk-1"), 1_500),
            "a receipt of that kiosk"
        );
        assert!(
            !revoked.ends_kiosks_token(Some("kiosk-1"), 2_001),
            "past the kiosk's revocation"
        );
        assert!(!revoked.ends_kiosks_token(None, 1_000), "issued through no kiosk");
    }
}
