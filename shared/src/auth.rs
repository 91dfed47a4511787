//! Who is calling the API. Operators send the operator token (a Secrets Manager secret); a
//! customer sends the token issued with their first order or a proven phone (`c3.`, a PASETO
//! v4.public token naming the customer, its end, and the kiosk it was issued through), signed
//! (Ed25519) by the order function, the only one holding the signing key (derived from the
//! customer token key secret). It publishes the public key, who signed out everywhere and which
//! kiosks were revoked in the token checks table (see [`published`]), which every API function
//! reads to check a token without a lookup per request and without being able to make one.
//! Both arrive as `Authorization: Bearer <token>`. The operator's page does not keep the operator
//! token: it trades it for a short session (`s2.`, a PASETO v4.local token under a key derived
//! from the operator token, so every API function checks it without a lookup and a rotated
//! operator token ends every session).
//! Each order a kiosk places comes with a receipt (`r2.`, signed as customer tokens are, naming
//! the order and the kiosk): a capability for that one order until it expires, which the customer
//! carries to their phone by the QR code the kiosk shows.
//! A registered kiosk sends its own token (`k1.<kiosk id>.<secret>`); only the order function
//! keeps kiosks (the secret's SHA-256, never the secret), so only it can tell a real one, and
//! it does so inside the order's own transaction: every other function refuses a kiosk token.
//! Revoking a kiosk ends what it issued, customer tokens and receipts, everywhere.

mod published;
mod tokens;
pub use tokens::*;

use crate::clock;
use published::{Holder, TokenChecks};

use crate::http::{ApiError, header};
use crate::{Error, config};
use aws_config::SdkConfig;
use ed25519_dalek::{SigningKey, VerifyingKey};
use lambda_http::Request;
use std::future::Future;
use std::time::{Duration, Instant};

/// How long fetched secrets are trusted unless `SECRETS_REFRESH_SECONDS` says otherwise: a
/// replaced operator token, or a customer who signed out everywhere, is refused within this.
const REFRESH_AFTER: Duration = Duration::from_secs(60);

/// A token that matches nothing makes the secrets be read again if they are older than this, so a
/// new token works at once; no more often, so that bad tokens cannot flood Secrets Manager.
const RECHECK_AFTER: Duration = Duration::from_secs(5);

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

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(req: &Request) -> Option<String> {
    let authorization = header(req, "authorization")?;
    Some(authorization.strip_prefix("Bearer ")?.trim().to_string())
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
    /// The customers who signed out everywhere and the revoked kiosks, as published.
    revoked: Revoked,
    /// Only in the order function, which issues them.
    signing_key: Option<SigningKey>,
}

/// The secrets and the published token checks, fetched on first use (not at cold start) and
/// refreshed every minute. Only API functions are given their names, and only the order function
/// the signing key's.
pub struct Credentials {
    client: aws_sdk_secretsmanager::Client,
    operator_secret: Option<String>,
    /// The secret the signing key is derived from (`CUSTOMER_TOKEN_KEY_SECRET`): the issuer's alone.
    signing_secret: Option<String>,
    /// Where the issuer publishes the public key and the revocations (`CUSTOMER_TOKEN_CHECKS_TABLE`).
    checks: TokenChecks,
    refresh_after: Duration,
    cached: tokio::sync::Mutex<Option<(Instant, Keys)>>,
}

/// Whether a customer's token was revoked since it was issued (they signed out everywhere, or
/// the kiosk it came through was revoked): for a function that keeps serving what a customer's
/// token opened after the request that proved it (a live page).
pub trait SignOutList: Sync {
    /// Whether the customer's token issued through `kiosk_id` that ends at `token_ends` was revoked.
    fn has_signed_out(
        &self,
        customer_id: &str,
        kiosk_id: Option<&str>,
        token_ends: i64,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// The sign-outs the order function publishes in the token checks, read again at most every
/// `SECRETS_REFRESH_SECONDS`: a function that checks no request reads only these.
pub struct SignOuts {
    checks: TokenChecks,
    refresh_after: Duration,
    cached: tokio::sync::Mutex<Option<(Instant, Revoked)>>,
}

impl SignOuts {
    pub fn from_env(sdk: &SdkConfig) -> Result<Self, Error> {
        Ok(Self {
            checks: TokenChecks::new(
                aws_sdk_dynamodb::Client::new(sdk),
                Some(config::required_env("CUSTOMER_TOKEN_CHECKS_TABLE")?),
            ),
            refresh_after: Duration::from_secs(config::number_or("SECRETS_REFRESH_SECONDS", REFRESH_AFTER.as_secs())?),
            cached: tokio::sync::Mutex::new(None),
        })
    }
}

impl SignOutList for SignOuts {
    async fn has_signed_out(&self, customer_id: &str, kiosk_id: Option<&str>, token_ends: i64) -> Result<bool, Error> {
        let mut cached = self.cached.lock().await;
        let fresh = cached
            .as_ref()
            .is_some_and(|(read, _)| read.elapsed() < self.refresh_after);
        if !fresh {
            *cached = Some((Instant::now(), self.checks.read().await?.revoked));
        }
        let revoked = cached.as_ref().map(|(_, revoked)| revoked).expect("read just now");
        Ok(revoked.ends_customer_token(customer_id, kiosk_id, token_ends))
    }
}

/// How long a verifier trusts having found no published key: the order function publishes it
/// before it issues its first token, so this is only a stack's first moments.
const UNPUBLISHED_RECHECK: Duration = Duration::from_secs(1);

impl Credentials {
    /// The credentials of an API function: the operator's token and the customer token checks
    /// it must have, and the signing key when it issues customer tokens (the order function).
    pub fn from_env(sdk: &SdkConfig) -> Result<Self, Error> {
        Ok(Self {
            client: aws_sdk_secretsmanager::Client::new(sdk),
            operator_secret: Some(config::required_env("OPERATOR_TOKEN_SECRET")?),
            signing_secret: std::env::var("CUSTOMER_TOKEN_KEY_SECRET")
                .ok()
                .filter(|s| !s.is_empty()),
            checks: TokenChecks::new(
                aws_sdk_dynamodb::Client::new(sdk),
                Some(config::required_env("CUSTOMER_TOKEN_CHECKS_TABLE")?),
            ),
            refresh_after: Duration::from_secs(config::number_or("SECRETS_REFRESH_SECONDS", REFRESH_AFTER.as_secs())?),
            cached: tokio::sync::Mutex::new(None),
        })
    }

    /// Credentials that hold the operator token and a signing key already and never read the
    /// secrets: in-process tests of the API, with the cloud out of reach.
    #[cfg(any(test, feature = "fakes"))]
    pub fn known(sdk: &SdkConfig, operator_token: &str) -> Self {
        let signing_key = signing_key_from("the tests' key");
        let keys = Keys {
            operator_token: operator_token.into(),
            verify_key: Some(signing_key.verifying_key()),
            revoked: Revoked::default(),
            signing_key: Some(signing_key),
        };
        Self {
            client: aws_sdk_secretsmanager::Client::new(sdk),
            operator_secret: None,
            signing_secret: None,
            checks: TokenChecks::new(aws_sdk_dynamodb::Client::new(sdk), None),
            refresh_after: Duration::MAX,
            cached: tokio::sync::Mutex::new(Some((Instant::now(), keys))),
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
        let published = self.checks.read().await?;
        let keys = match &self.signing_secret {
            Some(_) => {
                let signing_key = signing_key_from(&self.secret(&self.signing_secret).await?);
                // Published before any token signed with it goes out; a rotated signing secret's
                // new key within a minute.
                if published.verify_key != Some(signing_key.verifying_key()) {
                    self.checks.publish_key(&signing_key.verifying_key()).await?;
                }
                Keys {
                    operator_token,
                    verify_key: Some(signing_key.verifying_key()),
                    revoked: published.revoked,
                    signing_key: Some(signing_key),
                }
            }
            None => Keys {
                operator_token,
                verify_key: published.verify_key,
                revoked: published.revoked,
                signing_key: None,
            },
        };
        *cached = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// Signs the customer out everywhere: each of their tokens that ends by `ends_by` no longer
    /// holds, here at once, in every other function when it next reads the token checks (within
    /// `SECRETS_REFRESH_SECONDS`). Only the order function, which issues tokens, may.
    pub async fn revoke_customer_tokens(&self, customer_id: &str, ends_by: i64, now: i64) -> Result<(), Error> {
        self.revoke(Holder::Customer(customer_id), ends_by, now).await
    }

    /// Ends every token issued through the kiosk (customer tokens and receipts) that ends by
    /// `ends_by`, as [`Self::revoke_customer_tokens`] does a customer's.
    pub async fn revoke_kiosk_tokens(&self, kiosk_id: &str, ends_by: i64, now: i64) -> Result<(), Error> {
        self.revoke(Holder::Kiosk(kiosk_id), ends_by, now).await
    }

    async fn revoke(&self, holder: Holder<'_>, ends_by: i64, now: i64) -> Result<(), Error> {
        self.signing_key().await?;
        self.checks.revoke(holder, ends_by, now).await?;
        Ok(())
    }

    async fn secret(&self, id: &Option<String>) -> Result<String, Error> {
        let id = id.as_deref().ok_or("OPERATOR_TOKEN_SECRET is not set")?;
        let out = self.client.get_secret_value().secret_id(id).send().await?;
        out.secret_string
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("secret {id} has no value").into())
    }

    /// Who sent the request. A token that is neither the operator's nor a valid customer token
    /// is refused (401), never treated as no token.
    pub async fn caller(&self, req: &Request) -> Result<Caller, ApiError> {
        if header(req, "authorization").is_none() {
            return Ok(Caller::Anonymous);
        }
        let token =
            bearer_token(req).ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))?;
        self.caller_with_token(&token).await
    }

    /// Who holds `token`, sent another way than the Authorization header (a browser's WebSocket
    /// sends no headers: the live updates' `watch` message carries it).
    pub async fn caller_with_token(&self, token: &str) -> Result<Caller, ApiError> {
        if token.starts_with(KIOSK_TOKEN_PREFIX) {
            return parse_kiosk_token(token)
                .map(Caller::Kiosk)
                .ok_or_else(|| ApiError::unauthorized("the kiosk token is not valid"));
        }
        let now = clock::now().timestamp();
        for max_age in [self.refresh_after, RECHECK_AFTER] {
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
            if let Some(signed) = verify_signed(verify_key, token, now) {
                let signed = signed?;
                // The issuer refuses a revoked token at once in each of its instances, not only in
                // the one that published the revocation: it reads them for every token it would
                // let in (one read; the other functions wait for their refresh).
                return match self.signing_secret.is_some() {
                    true => signed.unless_revoked(&self.checks.read().await?.revoked),
                    false => signed.unless_revoked(&keys.revoked),
                };
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
        if bearer_token(req).is_some_and(|token| token.starts_with(SESSION_PREFIX)) {
            return Err(ApiError::forbidden(
                "a session is opened with the operator token, not with a session",
            ));
        }
        let now = clock::now().timestamp();
        let expires_at = now + lifetime.as_secs() as i64;
        let operator_token = self.keys(self.refresh_after).await?.operator_token;
        Ok((sign_operator_session(&operator_token, now, expires_at), expires_at))
    }

    /// For endpoints only operators use.
    pub async fn require_operator(&self, req: &Request) -> Result<(), ApiError> {
        self.caller(req).await?.require_operator()
    }

    /// The signing key, in the function that issues tokens (the order function) only.
    async fn signing_key(&self) -> Result<SigningKey, Error> {
        self.keys(self.refresh_after)
            .await?
            .signing_key
            .ok_or_else(|| "only the order function signs tokens (CUSTOMER_TOKEN_KEY_SECRET is not set)".into())
    }

    /// The receipt of an order placed at a kiosk at `placed_at`, good until `expires_at` (Unix
    /// seconds): the same order's receipt is the same token each time it is asked for.
    pub async fn receipt(
        &self,
        order_id: &str,
        kiosk_id: &str,
        placed_at: i64,
        expires_at: i64,
    ) -> Result<String, Error> {
        let claim = Claim {
            subject: order_id.into(),
            ends_at: expires_at,
            kiosk_id: Some(kiosk_id.into()),
        };
        Ok(sign_receipt(&self.signing_key().await?, &claim, placed_at))
    }

    /// The token a customer uses from their first order on (at `kiosk_id`) or from proving their
    /// phone (no kiosk), good until `expires_at`.
    pub async fn customer_token(
        &self,
        customer_id: &str,
        kiosk_id: Option<&str>,
        expires_at: i64,
    ) -> Result<String, Error> {
        let claim = Claim {
            subject: customer_id.into(),
            ends_at: expires_at,
            kiosk_id: kiosk_id.map(Into::into),
        };
        Ok(sign_customer_token(
            &self.signing_key().await?,
            &claim,
            clock::now().timestamp(),
        ))
    }
}

/// A customer token or a receipt whose signature and end were checked, not yet its revocation.
enum SignedToken {
    Customer(Claim),
    Receipt(Claim),
}

/// What `token` is, if it is a customer token or a receipt signed with the key `key` checks;
/// refused once it has ended.
fn verify_signed(key: &VerifyingKey, token: &str, now: i64) -> Option<Result<SignedToken, ApiError>> {
    if let Some(signed) = verify_customer_token(key, token, now) {
        return Some(match signed {
            Signed::Valid(claim) => Ok(SignedToken::Customer(claim)),
            Signed::Expired => Err(ApiError::unauthorized(
                "this customer token has expired: it comes anew with a first order",
            )),
        });
    }
    verify_receipt(key, token, now).map(|signed| match signed {
        Signed::Valid(claim) => Ok(SignedToken::Receipt(claim)),
        Signed::Expired => Err(ApiError::unauthorized(
            "this receipt has expired: ask the cafe's staff about the order",
        )),
    })
}

impl SignedToken {
    /// The caller it names, refused when it was revoked (its customer signed out everywhere, or
    /// the kiosk that issued it was revoked).
    fn unless_revoked(self, revoked: &Revoked) -> Result<Caller, ApiError> {
        match self {
            SignedToken::Customer(claim) if revoked.ends_kiosks_token(claim.kiosk_id.as_deref(), claim.ends_at) => Err(
                ApiError::unauthorized("the kiosk that issued this customer token was revoked: sign in again"),
            ),
            SignedToken::Customer(claim) if revoked.ends_customer_token(&claim.subject, None, claim.ends_at) => Err(
                ApiError::unauthorized("this customer token was revoked (signed out everywhere): sign in again"),
            ),
            SignedToken::Customer(claim) => Ok(Caller::Customer(claim.subject)),
            SignedToken::Receipt(claim) if revoked.ends_kiosks_token(claim.kiosk_id.as_deref(), claim.ends_at) => Err(
                ApiError::unauthorized("the kiosk that issued this receipt was revoked: ask the cafe's staff"),
            ),
            SignedToken::Receipt(claim) => Ok(Caller::Receipt {
                order_id: claim.subject,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn claim(subject: &str, ends_at: i64, kiosk_id: Option<&str>) -> Claim {
        Claim {
            subject: subject.into(),
            ends_at,
            kiosk_id: kiosk_id.map(Into::into),
        }
    }

    #[test]
    fn a_revoked_customer_token_is_refused_and_a_later_one_holds() {
        let signing = signing_key_from("key");
        let key = signing.verifying_key();
        let revoked = Revoked {
            customers: BTreeMap::from([("alice".to_string(), 1_000)]),
            kiosks: BTreeMap::from([("kiosk-stolen".to_string(), 1_000)]),
        };
        let caller = |token: &str| verify_signed(&key, token, 10).unwrap()?.unless_revoked(&revoked);
        let before = sign_customer_token(&signing, &claim("alice", 1_000, None), 5);
        let refused = caller(&before).unwrap_err();
        assert!(refused.message.contains("signed out"), "{}", refused.message);
        let after = sign_customer_token(&signing, &claim("alice", 1_001, None), 5);
        assert_eq!(caller(&after).unwrap(), Caller::Customer("alice".into()));
        let bob = sign_customer_token(&signing, &claim("bob", 1_000, Some("kiosk-1")), 5);
        assert_eq!(caller(&bob).unwrap(), Caller::Customer("bob".into()));
        let receipt = sign_receipt(&signing, &claim("o-1", 1_000, Some("kiosk-1")), 5);
        assert_eq!(caller(&receipt).unwrap(), Caller::Receipt { order_id: "o-1".into() });
        assert!(verify_signed(&key, "c3.junk", 10).is_none());
        // What a revoked kiosk issued, a customer's token or a receipt, holds no more.
        for issued in [
            sign_customer_token(&signing, &claim("carol", 1_000, Some("kiosk-stolen")), 5),
            sign_receipt(&signing, &claim("o-2", 1_000, Some("kiosk-stolen")), 5),
        ] {
            let refused = caller(&issued).unwrap_err();
            assert_eq!(refused.status, 401);
            assert!(refused.message.contains("kiosk"), "{}", refused.message);
        }
    }

    #[test]
    fn a_receipt_reaches_its_own_order_alone() {
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
