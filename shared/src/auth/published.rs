//! What the order function publishes for every verifier of customer tokens and receipts: one item
//! of the token checks table (`CUSTOMER_TOKEN_CHECKS_TABLE`) holding the public key that checks
//! them (`verifyKey`), the customers who signed out everywhere (`customer#<id>`: their tokens
//! that end by that moment no longer hold) and the revoked kiosks (`kiosk#<id>`: the same for every
//! token issued through that kiosk); an entry goes once its moment has passed. Only the order
//! function may write it (IAM); the other API functions may only read it.

use super::tokens::Revoked;
use crate::Error;
use crate::dynamo::{self, Item, n, s};
use aws_sdk_dynamodb::types::ReturnValue;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::VerifyingKey;

/// The table's one item.
const ITEM: &str = "customer-tokens";
const VERIFY_KEY: &str = "verifyKey";
const REVOKED_CUSTOMER: &str = "customer#";
const REVOKED_KIOSK: &str = "kiosk#";

/// Whose tokens a revocation ends: a customer's own, or every one issued through a kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder<'a> {
    Customer(&'a str),
    Kiosk(&'a str),
}

impl Holder<'_> {
    fn attribute(&self) -> String {
        match self {
            Holder::Customer(id) => format!("{REVOKED_CUSTOMER}{id}"),
            Holder::Kiosk(id) => format!("{REVOKED_KIOSK}{id}"),
        }
    }
}

/// The item as published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// `None` until the order function has published its key.
    pub verify_key: Option<VerifyingKey>,
    pub revoked: Revoked,
}

impl Published {
    fn from_item(item: &Item) -> Self {
        let verify_key = (item.get(VERIFY_KEY))
            .and_then(|key| key.as_s().ok())
            .and_then(|key| B64.decode(key).ok()?.try_into().ok())
            .and_then(|bytes: [u8; 32]| VerifyingKey::from_bytes(&bytes).ok());
        let revoked_by = |prefix: &str| {
            (item.iter())
                .filter_map(|(name, end)| {
                    let id = name.strip_prefix(prefix)?;
                    Some((id.to_string(), end.as_n().ok()?.parse().ok()?))
                })
                .collect()
        };
        Self {
            verify_key,
            revoked: Revoked {
                customers: revoked_by(REVOKED_CUSTOMER),
                kiosks: revoked_by(REVOKED_KIOSK),
            },
        }
    }

    /// Every revocation, by the attribute it is kept under, with its moment.
    fn revocations(&self) -> impl Iterator<Item = (String, i64)> + '_ {
        let customers = (self.revoked.customers.iter()).map(|(id, end)| (Holder::Customer(id).attribute(), *end));
        let kiosks = (self.revoked.kiosks.iter()).map(|(id, end)| (Holder::Kiosk(id).attribute(), *end));
        customers.chain(kiosks)
    }
}

/// The token checks table.
pub(super) struct TokenChecks {
    client: aws_sdk_dynamodb::Client,
    table: Option<String>,
}

impl TokenChecks {
    pub(super) fn new(client: aws_sdk_dynamodb::Client, table: Option<String>) -> Self {
        Self { client, table }
    }

    fn table(&self) -> Result<&str, Error> {
        Ok((self.table.as_deref()).ok_or("CUSTOMER_TOKEN_CHECKS_TABLE is not set")?)
    }

    fn key() -> Item {
        dynamo::key("item", ITEM)
    }

    pub(super) async fn read(&self) -> Result<Published, Error> {
        let item = dynamo::get_item(&self.client, self.table()?, Self::key()).await?;
        Ok(Published::from_item(&item.unwrap_or_default()))
    }

    /// Publishes the issuer's key (a rotated signing secret's new key replaces the old one, which
    /// ends every token it signed).
    pub(super) async fn publish_key(&self, key: &VerifyingKey) -> Result<(), Error> {
        (self.client.update_item())
            .table_name(self.table()?)
            .set_key(Some(Self::key()))
            .update_expression("SET #key = :key")
            .expression_attribute_names("#key", VERIFY_KEY)
            .expression_attribute_values(":key", s(B64.encode(key.as_bytes())))
            .send()
            .await?;
        Ok(())
    }

    /// Revokes the holder's tokens that end by `ends_by`, and forgets the revocations whose
    /// tokens have all ended by `now`: what is published after.
    pub(super) async fn revoke(&self, holder: Holder<'_>, ends_by: i64, now: i64) -> Result<Published, Error> {
        let out = (self.client.update_item())
            .table_name(self.table()?)
            .set_key(Some(Self::key()))
            .update_expression("SET #holder = :end")
            .expression_attribute_names("#holder", holder.attribute())
            .expression_attribute_values(":end", n(ends_by))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        let published = Published::from_item(&out.attributes.unwrap_or_default());
        self.forget_ended(&published, now).await?;
        Ok(published)
    }

    /// Removes the revocations whose tokens have all ended, unless one was revoked again meanwhile
    /// (then a later revocation removes it), so the item stays as small as the revoked tokens live.
    async fn forget_ended(&self, published: &Published, now: i64) -> Result<(), Error> {
        // A few at a time keeps the expression small; the next revocation takes the rest.
        let ended: Vec<_> = (published.revocations())
            .filter(|(_, end)| *end <= now)
            .take(50)
            .collect();
        if ended.is_empty() {
            return Ok(());
        }
        let mut forget = (self.client.update_item())
            .table_name(self.table()?)
            .set_key(Some(Self::key()));
        let mut names = Vec::new();
        let mut unchanged = Vec::new();
        for (i, (attribute, end)) in ended.iter().enumerate() {
            forget = forget
                .expression_attribute_names(format!("#c{i}"), attribute)
                .expression_attribute_values(format!(":e{i}"), n(end));
            names.push(format!("#c{i}"));
            unchanged.push(format!("#c{i} = :e{i}"));
        }
        let forgotten = forget
            .update_expression(format!("REMOVE {}", names.join(", ")))
            .condition_expression(unchanged.join(" AND "))
            .send()
            .await;
        match forgotten {
            Err(e) if !dynamo::is_conditional_check_failed(&e) => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tokens::signing_key_from;
    use std::collections::BTreeMap;

    /// On the template's table, on a local cloud (`make check` skips these).
    mod dynamodb {
        use super::*;

        /// The checks on a new `CustomerTokenChecksTable` of the template, on a local cloud.
        async fn checks() -> TokenChecks {
            let tables = cafe_testkit::Tables::new(&["CustomerTokenChecksTable"]);
            let client = aws_sdk_dynamodb::Client::new(&tables.sdk().await);
            TokenChecks::new(client, Some(tables.name("CustomerTokenChecksTable")))
        }

        #[tokio::test]
        async fn a_published_key_and_the_sign_outs_read_back_as_published() {
            let checks = checks().await;
            assert_eq!(
                checks.read().await.unwrap(),
                Published::default(),
                "nothing published yet"
            );
            let (first, rotated) = (
                signing_key_from("key-1").verifying_key(),
                signing_key_from("key-2").verifying_key(),
            );
            checks.publish_key(&first).await.unwrap();
            checks.publish_key(&rotated).await.unwrap();
            checks.revoke(Holder::Customer("alice"), 1_000, 500).await.unwrap();
            let after = checks.revoke(Holder::Kiosk("kiosk-1"), 1_200, 500).await.unwrap();
            assert_eq!(after.verify_key, Some(rotated), "a rotated key replaces the first");
            assert_eq!(after.revoked.customers, BTreeMap::from([("alice".to_string(), 1_000)]));
            assert_eq!(after.revoked.kiosks, BTreeMap::from([("kiosk-1".to_string(), 1_200)]));
            assert_eq!(checks.read().await.unwrap(), after);
        }

        #[tokio::test]
        async fn a_sign_out_is_forgotten_once_its_tokens_have_all_ended() {
            let checks = checks().await;
            checks.revoke(Holder::Customer("alice"), 1_000, 500).await.unwrap();
            checks.revoke(Holder::Kiosk("kiosk-1"), 1_000, 500).await.unwrap();
            checks.revoke(Holder::Kiosk("kiosk-2"), 2_000, 500).await.unwrap();
            checks.revoke(Holder::Customer("bob"), 2_000, 1_500).await.unwrap();
            let published = checks.read().await.unwrap();
            assert_eq!(
                published.revoked.customers,
                BTreeMap::from([("bob".to_string(), 2_000)]),
                "alice's tokens ended at 1,000"
            );
            assert_eq!(
                published.revoked.kiosks,
                BTreeMap::from([("kiosk-2".to_string(), 2_000)]),
                "kiosk-1's tokens ended at 1,000"
            );
        }

        #[tokio::test]
        async fn a_sign_out_renewed_meanwhile_is_not_forgotten() {
            let checks = checks().await;
            let stale = checks.revoke(Holder::Customer("alice"), 1_000, 500).await.unwrap();
            // Alice signs out again (a new token since) before the old sign-out is forgotten.
            checks.revoke(Holder::Customer("alice"), 3_000, 600).await.unwrap();
            checks.forget_ended(&stale, 1_500).await.unwrap();
            let revoked = checks.read().await.unwrap().revoked.customers;
            assert_eq!(revoked, BTreeMap::from([("alice".to_string(), 3_000)]));
        }
    }

    #[test]
    fn the_published_item_reads_back_as_the_key_and_the_revocations() {
        let key = signing_key_from("key-1").verifying_key();
        let item = Item::from([
            ("item".to_string(), s(ITEM)),
            (VERIFY_KEY.to_string(), s(B64.encode(key.as_bytes()))),
            ("customer#alice".to_string(), n(1_000)),
            ("customer#bob".to_string(), n(2_000)),
            ("kiosk#kiosk-1".to_string(), n(3_000)),
        ]);
        let published = Published::from_item(&item);
        assert_eq!(published.verify_key, Some(key));
        assert_eq!(
            published.revoked.customers,
            BTreeMap::from([("alice".to_string(), 1_000), ("bob".to_string(), 2_000)])
        );
        assert_eq!(
            published.revoked.kiosks,
            BTreeMap::from([("kiosk-1".to_string(), 3_000)])
        );
        assert_eq!(
            Published::from_item(&Item::new()),
            Published::default(),
            "nothing published yet"
        );
        let junk = Item::from([(VERIFY_KEY.to_string(), s("not a key"))]);
        assert_eq!(Published::from_item(&junk).verify_key, None);
    }
}
