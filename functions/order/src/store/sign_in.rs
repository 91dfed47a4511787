//! Phone sign-in, kept in the customers table: `phone#<number>` holds the customer id the number
//! signs in as and the code last texted to it (its salted hash, its end, the tries made);
//! `customer#<id>` holds the number a customer proved, which their orders' texts must go to.

use super::{OrderStore, SignIns};
use crate::domain::OrderLimits;
use crate::domain::sign_in::{CODE_TRIES, LiveCode, SignInCode};
use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem, Update};
use cafe_shared::Error;
use cafe_shared::auth::KioskClaim;
use cafe_shared::dynamo::{self, n, s};
use chrono::{DateTime, Utc};

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

fn phone_key(phone: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    s(format!("phone#{phone}"))
}

impl SignIns for OrderStore {
    async fn keep_sign_in_code(
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

    async fn try_sign_in_code(&self, phone: &str, now: DateTime<Utc>) -> Result<Option<LiveCode>, Error> {
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

    async fn prove_phone(
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
}
