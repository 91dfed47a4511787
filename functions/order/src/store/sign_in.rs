//! Phone sign-in, kept in the customers table: `phone#<number>` holds the customer id the number
//! signs in as and the code last texted to it (its salted hash, its end, the tries made);
//! `customer#<id>` holds the number a customer proved, which their orders' texts must go to.
//! Signing out everywhere: `revocations` holds, per customer (`customer#<id>`), the moment by
//! which their tokens revoked then end, and counts its changes (`version`).

use super::OrderStore;
use crate::domain::OrderLimits;
use crate::domain::sign_in::{CODE_TRIES, LiveCode, SignInCode};
use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem, Update};
use cafe_shared::Error;
use cafe_shared::auth::KioskClaim;
use cafe_shared::dynamo::{self, n, s};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

const REVOCATIONS: &str = "revocations";

/// What keeping a new code found.
pub enum CodeKept {
    /// Kept: it may be texted.
    Kept,
    /// Asked by a kiosk token that names no registered kiosk.
    UnknownKiosk,
    /// The number has been texted as often this hour as allowed.
    TooManyTexts,
}

/// What proving a number with a matching code found.
pub enum Proven {
    /// The number is proven: the customer id it signs in as.
    Customer(String),
    /// The code was used meanwhile (by a concurrent answer): it proves nothing twice.
    CodeUsed,
}

/// The customers whose tokens were revoked, as a version of the list.
pub struct Revocations {
    pub version: u64,
    /// Customer id: their tokens ending by this moment (Unix seconds) no longer hold.
    pub revoked: BTreeMap<String, i64>,
}

impl Revocations {
    fn from_item(item: &dynamo::Item) -> Self {
        let number = |v: &aws_sdk_dynamodb::types::AttributeValue| v.as_n().ok().and_then(|n| n.parse::<i64>().ok());
        Self {
            version: item.get("version").and_then(number).unwrap_or(0) as u64,
            revoked: (item.iter())
                .filter_map(|(name, end)| Some((name.strip_prefix("customer#")?.to_string(), number(end)?)))
                .collect(),
        }
    }
}

fn phone_key(phone: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    s(format!("phone#{phone}"))
}

impl OrderStore {
    /// Keeps a new code for `phone` (its hash and salt) (the latest texted replaces any earlier one), in one
    /// transaction with the number's count of texts this hour and, asked from a kiosk, that the
    /// kiosk is registered.
    pub async fn keep_sign_in_code(
        &self,
        phone: &str,
        code: &SignInCode,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        kiosk: Option<&KioskClaim>,
        limits: &OrderLimits,
    ) -> Result<CodeKept, Error> {
        let mut writes = Vec::new();
        if let Some(claim) = kiosk {
            writes.push((CodeKept::UnknownKiosk, self.kiosk_registered(claim)?));
        }
        writes.push((CodeKept::TooManyTexts, self.count_text(phone, now, limits)?));
        let code = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", phone_key(phone))
            .update_expression("SET codeHash = :hash, codeSalt = :salt, codeExpiresAt = :end, codeTries = :none")
            .expression_attribute_values(":hash", s(code.hash(phone)))
            .expression_attribute_values(":salt", s(&code.salt))
            .expression_attribute_values(":end", n(expires_at.timestamp()))
            .expression_attribute_values(":none", n(0))
            .build()?;
        writes.push((CodeKept::Kept, TransactWriteItem::builder().update(code).build()));
        let transaction = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes.iter().map(|(_, write)| write.clone()).collect()));
        let failed = dynamo::failed_conditions(transaction.send().await)?;
        Ok(match failed.first() {
            None => CodeKept::Kept,
            Some(&i) => match writes.swap_remove(i).0 {
                CodeKept::UnknownKiosk => CodeKept::UnknownKiosk,
                _ => CodeKept::TooManyTexts,
            },
        })
    }

    /// Counts one try at the code kept for `phone` and gives it back to be compared, if there
    /// is one that has not ended and has tries left; `None` otherwise.
    pub async fn try_sign_in_code(&self, phone: &str, now: DateTime<Utc>) -> Result<Option<LiveCode>, Error> {
        let counted = self
            .client
            .update_item()
            .table_name(&self.customers_table)
            .key("customerKey", phone_key(phone))
            .update_expression("ADD codeTries :one")
            .condition_expression("attribute_exists(codeHash) AND codeExpiresAt > :now AND codeTries < :tries")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":tries", n(CODE_TRIES))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let item = match counted {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(e) if dynamo::is_conditional_check_failed(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let tries = item
            .get("codeTries")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok());
        Ok(Some(LiveCode {
            code_hash: text("codeHash").ok_or("a kept code has no hash")?,
            salt: text("codeSalt").ok_or("a kept code has no salt")?,
            tries: tries.ok_or("a kept code has no tries")?,
            customer_id: text("customerId"),
        }))
    }

    /// The number is proven by `code`: in one transaction the code is used up, the number keeps
    /// its customer id (`code.customer_id`, or `new_customer_id` at its first proof) and that
    /// customer gets the number as the one their orders may text.
    pub async fn prove_phone(
        &self,
        phone: &str,
        code: &LiveCode,
        new_customer_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Proven, Error> {
        let customer_id = code.customer_id.as_deref().unwrap_or(new_customer_id);
        let use_code = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", phone_key(phone))
            .update_expression(
                "REMOVE codeHash, codeSalt, codeExpiresAt, codeTries SET customerId = :id, provenAt = :now",
            )
            .condition_expression("codeHash = :hash AND (attribute_not_exists(customerId) OR customerId = :id)")
            .expression_attribute_values(":hash", s(&code.code_hash))
            .expression_attribute_values(":id", s(customer_id))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build()?;
        let give_number = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(format!("customer#{customer_id}")))
            .update_expression("SET phoneNumber = :phone, provenAt = :now")
            .expression_attribute_values(":phone", s(phone))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build()?;
        let transaction = self.client.transact_write_items().set_transact_items(Some(vec![
            TransactWriteItem::builder().update(use_code).build(),
            TransactWriteItem::builder().update(give_number).build(),
        ]));
        Ok(match dynamo::failed_conditions(transaction.send().await)?.is_empty() {
            true => Proven::Customer(customer_id.to_string()),
            false => Proven::CodeUsed,
        })
    }

    /// Revokes `customer_id`'s tokens that end by `ends_by` (a later revocation of theirs only
    /// moves that later): the list as it is after.
    pub async fn revoke_tokens(&self, customer_id: &str, ends_by: i64, now: i64) -> Result<Revocations, Error> {
        let out = self
            .client
            .update_item()
            .table_name(&self.customers_table)
            .key("customerKey", s(REVOCATIONS))
            .update_expression("SET #customer = :end ADD version :one")
            .expression_attribute_names("#customer", format!("customer#{customer_id}"))
            .expression_attribute_values(":end", n(ends_by))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        let revocations = Revocations::from_item(&out.attributes.unwrap_or_default());
        self.forget_ended_revocations(&revocations, now).await?;
        Ok(revocations)
    }

    /// The list as it is now.
    pub async fn revocations(&self) -> Result<Revocations, Error> {
        let item = dynamo::get_item(
            &self.client,
            &self.customers_table,
            dynamo::key("customerKey", REVOCATIONS),
        )
        .await?;
        Ok(Revocations::from_item(&item.unwrap_or_default()))
    }

    /// Removes the revocations whose tokens have all ended, unless one was revoked again meanwhile
    /// (then a later revocation removes it), so the list stays as short as the revoked tokens live.
    async fn forget_ended_revocations(&self, revocations: &Revocations, now: i64) -> Result<(), Error> {
        // A few at a time keeps the expression small; the next revocation takes the rest.
        let ended: Vec<_> = (revocations.revoked.iter())
            .filter(|(_, end)| **end <= now)
            .take(50)
            .collect();
        if ended.is_empty() {
            return Ok(());
        }
        let mut forget = self
            .client
            .update_item()
            .table_name(&self.customers_table)
            .key("customerKey", s(REVOCATIONS));
        let mut names = Vec::new();
        let mut unchanged = Vec::new();
        for (i, (customer_id, end)) in ended.iter().enumerate() {
            forget = forget
                .expression_attribute_names(format!("#c{i}"), format!("customer#{customer_id}"))
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
