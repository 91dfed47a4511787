//! Who is calling the API. Operators send the operator token (a Secrets Manager secret); a
//! customer sends the token issued with their first order: their id and its end signed (Ed25519)
//! by the order function, the only one holding the signing key (derived from the customer token
//! key secret). It publishes the public key in another secret, which every API function reads to
//! check a token without a lookup and without being able to make one.
//! Both arrive as `Authorization: Bearer <token>`. The operator's page does not keep the operator
//! token: it trades it for a short session (`s1.…`, signed with the operator token, so every API
//! function checks it without a lookup and a rotated operator token ends every session).
//! Each order a kiosk places comes with a receipt (`r1.<order id>.<expires at>.<signature>`,
//! signed the same way): a capability for that one order until it expires, which
//! the customer carries to their phone by the QR code the kiosk shows.
//! A registered kiosk sends its own token (`k1.<kiosk id>.<secret>`); only the order function
//! keeps kiosks (the secret's SHA-256, never the secret), so only it can tell a real one, and
//! it does so inside the order's own transaction: every other function refuses a kiosk token.

use crate::Error;
use crate::http::{ApiError, header};
use aws_config::SdkConfig;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use lambda_http::Request;
use sha2::Sha256;
use std::time::{Duration, Instant};

/// How long fetched secrets are trusted: a replaced token stops working within this.
const REFRESH_AFTER: Duration = Duration::from_secs(60);

/// A token that matches nothing makes the secrets be read again if they are older than this, so a
/// new token works at once; no more often, so that bad tokens cannot flood Secrets Manager.
const RECHECK_AFTER: Duration = Duration::from_secs(5);

/// A customer token's prefix, naming its format (`c1.` tokens had no end and are no longer taken).
const CUSTOMER_TOKEN_PREFIX: &str = "c2.";

/// An operator session token's prefix, naming its format.
const SESSION_PREFIX: &str = "s1.";

/// A kiosk token's prefix, naming its format.
const KIOSK_TOKEN_PREFIX: &str = "k1.";

/// A receipt's prefix, naming its format.
const RECEIPT_PREFIX: &str = "r1.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Operator,
    Customer(String),
    /// A kiosk token, not yet checked against the registered kiosks (see [`KioskClaim`]).
    Kiosk(KioskClaim),
    /// A receipt that has not expired: it shows this one order.
    Receipt {
        order_id: String,
    },
    Anonymous,
}

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

/// A kiosk reaches nothing but placing orders.
fn kiosk_refused() -> ApiError {
    ApiError::forbidden("a kiosk's token only places orders")
}

/// A receipt reaches nothing but its own order.
fn receipt_refused() -> ApiError {
    ApiError::forbidden("a receipt shows only its own order")
}

impl Caller {
    /// Operator endpoints: none else.
    pub fn require_operator(&self) -> Result<(), ApiError> {
        match self {
            Caller::Operator => Ok(()),
            Caller::Customer(_) => Err(ApiError::forbidden("this needs the operator token")),
            Caller::Kiosk(_) => Err(kiosk_refused()),
            Caller::Receipt { .. } => Err(receipt_refused()),
            Caller::Anonymous => Err(ApiError::unauthorized("this needs the operator token")),
        }
    }

    /// A customer's own data: that customer, or an operator.
    pub fn require_customer(&self, customer_id: &str) -> Result<(), ApiError> {
        match self {
            Caller::Operator => Ok(()),
            Caller::Customer(own) if own == customer_id => Ok(()),
            Caller::Customer(_) => Err(ApiError::forbidden("a customer sees only their own orders")),
            Caller::Kiosk(_) => Err(kiosk_refused()),
            Caller::Receipt { .. } => Err(receipt_refused()),
            Caller::Anonymous => Err(ApiError::unauthorized(
                "this needs the customer's token (issued with their first order)",
            )),
        }
    }

    /// Reads by id: a customer or an operator (which records they see is `may_see`'s).
    pub fn require_identified(&self) -> Result<(), ApiError> {
        match self {
            Caller::Anonymous => Err(ApiError::unauthorized(
                "this needs the customer's token or the operator's",
            )),
            Caller::Kiosk(_) => Err(kiosk_refused()),
            Caller::Operator | Caller::Customer(_) | Caller::Receipt { .. } => Ok(()),
        }
    }

    /// Whether a record of this customer may be shown; one that may not is answered as unknown.
    pub fn may_see(&self, customer_id: &str) -> bool {
        self.require_customer(customer_id).is_ok()
    }

    /// Whether this order (of this customer) may be shown: by its customer, the operator, or its
    /// own receipt.
    pub fn may_see_order(&self, order_id: &str, customer_id: &str) -> bool {
        match self {
            Caller::Receipt { order_id: own } => own == order_id,
            _ => self.may_see(customer_id),
        }
    }
}

#[derive(Clone)]
struct Keys {
    operator_token: String,
    /// What customer tokens and receipts are checked with; `None` until the order function has
    /// published it.
    verify_key: Option<VerifyingKey>,
    /// Only in the order function, which issues them.
    signing_key: Option<SigningKey>,
}

/// The secrets, fetched on first use (not at cold start) and refreshed every minute. Only API
/// functions are given the secrets' names, and only the order function the signing key's.
pub struct Credentials {
    client: aws_sdk_secretsmanager::Client,
    operator_secret: Option<String>,
    /// The secret the signing key is derived from (`CUSTOMER_TOKEN_KEY_SECRET`): the issuer's alone.
    signing_secret: Option<String>,
    /// Where the issuer publishes the public key (`CUSTOMER_TOKEN_VERIFY_KEY_SECRET`).
    verify_key_secret: Option<String>,
    cached: tokio::sync::Mutex<Option<(Instant, Keys)>>,
}

/// How long a verifier trusts having found no published key: the order function publishes it
/// before it issues its first token, so this is only a stack's first moments.
const UNPUBLISHED_RECHECK: Duration = Duration::from_secs(1);

impl Credentials {
    pub fn from_env(sdk: &SdkConfig) -> Self {
        Self {
            client: aws_sdk_secretsmanager::Client::new(sdk),
            operator_secret: std::env::var("OPERATOR_TOKEN_SECRET").ok(),
            signing_secret: std::env::var("CUSTOMER_TOKEN_KEY_SECRET").ok(),
            verify_key_secret: std::env::var("CUSTOMER_TOKEN_VERIFY_KEY_SECRET").ok(),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    async fn keys(&self, max_age: Duration) -> Result<Keys, Error> {
        let mut cached = self.cached.lock().await;
        if let Some((fetched, keys)) = cached.as_ref() {
            let max_age = match keys.verify_key {
                Some(_) => max_age,
                None => max_age.min(UNPUBLISHED_RECHECK),
            };
            if fetched.elapsed() < max_age {
                return Ok(keys.clone());
            }
        }
        let operator_token = self.secret(&self.operator_secret).await?;
        let keys = match &self.signing_secret {
            Some(_) => {
                let signing_key = signing_key_from(&self.secret(&self.signing_secret).await?);
                self.publish(&signing_key.verifying_key()).await?;
                Keys {
                    operator_token,
                    verify_key: Some(signing_key.verifying_key()),
                    signing_key: Some(signing_key),
                }
            }
            None => Keys {
                operator_token,
                verify_key: parse_verify_key(&self.secret(&self.verify_key_secret).await?),
                signing_key: None,
            },
        };
        *cached = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// Makes the verify-key secret hold this key (the issuer's), before any token signed with it
    /// goes out; a rotated signing secret publishes its new key here within a minute.
    async fn publish(&self, key: &VerifyingKey) -> Result<(), Error> {
        let encoded = B64.encode(key.as_bytes());
        if self.secret(&self.verify_key_secret).await? != encoded {
            let id = self.verify_key_secret.as_deref().expect("read just above");
            self.client
                .put_secret_value()
                .secret_id(id)
                .secret_string(encoded)
                .send()
                .await?;
        }
        Ok(())
    }

    async fn secret(&self, id: &Option<String>) -> Result<String, Error> {
        let id = id
            .as_deref()
            .ok_or("OPERATOR_TOKEN_SECRET and CUSTOMER_TOKEN_VERIFY_KEY_SECRET are not set")?;
        let out = self.client.get_secret_value().secret_id(id).send().await?;
        out.secret_string
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("secret {id} has no value").into())
    }

    /// Who sent the request. A token that is neither the operator's nor a valid customer token
    /// is refused (401), never treated as no token.
    pub async fn caller(&self, req: &Request) -> Result<Caller, ApiError> {
        let Some(authorization) = header(req, "authorization") else {
            return Ok(Caller::Anonymous);
        };
        let token = authorization
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))?
            .trim();
        if token.starts_with(KIOSK_TOKEN_PREFIX) {
            return parse_kiosk_token(token)
                .map(Caller::Kiosk)
                .ok_or_else(|| ApiError::unauthorized("the kiosk token is not valid"));
        }
        let now = chrono::Utc::now().timestamp();
        for max_age in [REFRESH_AFTER, RECHECK_AFTER] {
            let keys = self.keys(max_age).await?;
            if same_bytes(token.as_bytes(), keys.operator_token.as_bytes()) {
                return Ok(Caller::Operator);
            }
            match verify_operator_session(&keys.operator_token, token, now) {
                Session::Valid => return Ok(Caller::Operator),
                Session::Expired => {
                    return Err(ApiError::unauthorized(
                        "the operator session has expired: sign in again",
                    ));
                }
                Session::Invalid => {}
            }
            let Some(verify_key) = &keys.verify_key else {
                continue;
            };
            match verify_customer_token(verify_key, token, now) {
                Some(Signed::Valid(customer_id)) => return Ok(Caller::Customer(customer_id)),
                Some(Signed::Expired) => {
                    return Err(ApiError::unauthorized(
                        "this customer token has expired: it comes anew with a first order",
                    ));
                }
                None => {}
            }
            match verify_receipt(verify_key, token, now) {
                Some(Signed::Valid(order_id)) => return Ok(Caller::Receipt { order_id }),
                Some(Signed::Expired) => {
                    return Err(ApiError::unauthorized(
                        "this receipt has expired: ask the cafe's staff about the order",
                    ));
                }
                None => {}
            }
        }
        Err(ApiError::unauthorized(
            "the token is not valid (it may have been rotated)",
        ))
    }

    /// A session for the operator's page, traded for the operator token itself (never for a
    /// session, so a session cannot be stretched past its end): `(token, expires at)`.
    pub async fn operator_session(&self, req: &Request, lifetime: Duration) -> Result<(String, i64), ApiError> {
        self.require_operator(req).await?;
        let presented = header(req, "authorization").unwrap_or_default();
        if presented
            .trim_start_matches("Bearer ")
            .trim()
            .starts_with(SESSION_PREFIX)
        {
            return Err(ApiError::forbidden(
                "a session is opened with the operator token, not with a session",
            ));
        }
        let expires_at = chrono::Utc::now().timestamp() + lifetime.as_secs() as i64;
        let operator_token = self.keys(REFRESH_AFTER).await?.operator_token;
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        Ok((sign_operator_session(&operator_token, expires_at, &nonce), expires_at))
    }

    /// For endpoints only operators use.
    pub async fn require_operator(&self, req: &Request) -> Result<(), ApiError> {
        self.caller(req).await?.require_operator()
    }

    /// The signing key, in the function that issues tokens (the order function) only.
    async fn signing_key(&self) -> Result<SigningKey, Error> {
        self.keys(REFRESH_AFTER)
            .await?
            .signing_key
            .ok_or_else(|| "only the order function signs tokens (CUSTOMER_TOKEN_KEY_SECRET is not set)".into())
    }

    /// The receipt of an order, good until `expires_at` (Unix seconds).
    pub async fn receipt(&self, order_id: &str, expires_at: i64) -> Result<String, Error> {
        Ok(sign_receipt(&self.signing_key().await?, order_id, expires_at))
    }

    /// The token a customer uses from their first order on, good until `expires_at`.
    pub async fn customer_token(&self, customer_id: &str, expires_at: i64) -> Result<String, Error> {
        Ok(sign_customer_token(&self.signing_key().await?, customer_id, expires_at))
    }
}

/// The Ed25519 key derived from the signing secret (its SHA-256 is the key's seed).
fn signing_key_from(secret: &str) -> SigningKey {
    use sha2::Digest;
    SigningKey::from_bytes(&Sha256::digest(secret.as_bytes()).into())
}

/// A published verify key; anything else (the secret's first value) is none yet.
fn parse_verify_key(published: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = B64.decode(published).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
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
    let expires_at: i64 = parts.next()?.parse().ok()?;
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
        let expires_at: i64 = parts.next()?.parse().ok()?;
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
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
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
        assert_eq!(
            verify_receipt(&verify, &token.replacen("c2.", "r1.", 1), 999),
            None,
            "not a receipt"
        );
    }

    #[test]
    fn the_published_key_checks_tokens_but_cannot_make_them() {
        let (signing, verify) = keys("key-1");
        let published = B64.encode(verify.as_bytes());
        assert_eq!(parse_verify_key(&published), Some(verify));
        assert!(!published.contains(&B64.encode(signing.to_bytes())));
        assert_eq!(parse_verify_key("not yet published"), None);
        assert_eq!(
            signing_key_from("key-1").verifying_key(),
            verify,
            "the same secret, the same key"
        );
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
        let other_order = receipt.replacen(&B64.encode("o-1"), &B64.encode("o-2"), 1);
        assert_eq!(verify_receipt(&verify, &other_order, 999), None, "an edited order");
        for junk in ["r1.", "r1.o-1.1000", "r1.o-1.x.sig", "c1.abc.def", ""] {
            assert_eq!(verify_receipt(&verify, junk, 999), None, "{junk}");
        }
        let caller = Caller::Receipt { order_id: "o-1".into() };
        assert!(caller.may_see_order("o-1", "alice"));
        assert!(!caller.may_see_order("o-2", "alice"));
        assert!(!caller.may_see("alice"));
        assert!(caller.require_identified().is_ok());
        assert_eq!(caller.require_operator().unwrap_err().status, 403);
        assert_eq!(caller.require_customer("alice").unwrap_err().status, 403);
    }

    #[test]
    fn callers_reach_only_what_is_theirs() {
        let alice = Caller::Customer("alice".into());
        assert!(alice.require_customer("alice").is_ok());
        assert_eq!(alice.require_customer("bob").unwrap_err().status, 403);
        assert_eq!(alice.require_operator().unwrap_err().status, 403);
        assert_eq!(Caller::Anonymous.require_customer("alice").unwrap_err().status, 401);
        assert_eq!(Caller::Anonymous.require_operator().unwrap_err().status, 401);
        assert!(Caller::Operator.require_customer("alice").is_ok());
        assert!(Caller::Operator.require_operator().is_ok());
        let kiosk = Caller::Kiosk(KioskClaim {
            kiosk_id: "kiosk-1".into(),
            secret_hash: "h".into(),
        });
        assert_eq!(kiosk.require_operator().unwrap_err().status, 403);
        assert_eq!(kiosk.require_customer("alice").unwrap_err().status, 403);
        assert_eq!(kiosk.require_identified().unwrap_err().status, 403);
    }
}
