//! Phone sign-in, kept in the customers table: `code#<handle key>` holds a code texted (its
//! number, salted hash, end and tries made) under the key of the handle it is tried through;
//! `phone#<number>` holds the customer id the number signs in as; `customer#<id>` holds the
//! number a customer proved, which their orders' texts must go to.

use super::{OrderStore, SignIns};
use crate::domain::sign_in::{CODE_TRIES, LiveCode, SignInCode, handle_key};
use crate::domain::{OrderLimits, Refusal, Tally, Texter};
use aws_sdk_dynamodb::types::{Delete, Put, ReturnValue, TransactWriteItem, Update};
use cafe_shared::Error;
use cafe_shared::auth::KioskClaim;
use cafe_shared::dynamo::{self, n, s};
use chrono::{DateTime, Utc};

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

fn code_key(handle_key: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    s(format!("code#{handle_key}"))
}

impl SignIns for OrderStore {
    async fn keep_sign_in_code(
        &self,
        phone: &str,
        code: &SignInCode,
        asked_by: &Texter,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        kiosk: Option<&KioskClaim>,
        limits: &OrderLimits,
    ) -> Result<Result<(), Refusal>, Error> {
        let mut writes = Vec::new();
        if let Some(claim) = kiosk {
            writes.push((Refusal::UnknownKiosk, self.kiosk_registered(claim)?));
        }
        for (refusal, tally) in Tally::of_code(phone, asked_by, now, limits) {
            writes.push((refusal, self.count(tally)?));
        }
        // Handles are random: one already kept is a fault, not a retry to absorb.
        let kept = Put::builder()
            .table_name(&self.customers_table)
            .item("customerKey", code_key(&handle_key(&code.handle)))
            .item("phoneNumber", s(phone))
            .item("codeHash", s(code.hash(phone)))
            .item("codeSalt", s(&code.salt))
            .item("codeExpiresAt", n(expires_at.timestamp()))
            .item("codeTries", n(0))
            // Gone (DynamoDB TTL) a day after it ends: a code leaves nothing behind.
            .item("expiresAt", n(expires_at.timestamp() + 24 * 3600))
            .condition_expression("attribute_not_exists(customerKey)")
            .build()?;
        writes.push((Refusal::AlreadyPlaced, TransactWriteItem::builder().put(kept).build()));
        let items = writes.iter().map(|(_, write)| write.clone()).collect();
        let refused = dynamo::transact(&self.client, items)
            .await?
            .into_iter()
            .map(|i| writes[i].0);
        match Refusal::most_telling(refused) {
            None => Ok(Ok(())),
            Some(Refusal::AlreadyPlaced) => Err("a new sign-in handle is taken".into()),
            Some(refusal) => Ok(Err(refusal)),
        }
    }

    async fn try_sign_in_code(&self, handle: &str, phone: &str, now: DateTime<Utc>) -> Result<Option<LiveCode>, Error> {
        let key = handle_key(handle);
        let counted = self
            .client
            .update_item()
            .table_name(&self.customers_table)
            .key("customerKey", code_key(&key))
            .update_expression("ADD codeTries :one")
            .condition_expression("phoneNumber = :phone AND codeExpiresAt > :now AND codeTries < :tries")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":phone", s(phone))
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
        let number = dynamo::get_item(
            &self.client,
            &self.customers_table,
            dynamo::key("customerKey", format!("phone#{phone}")),
        )
        .await?;
        let customer_id = number.and_then(|item| item.get("customerId").and_then(|v| v.as_s().ok()).cloned());
        Ok(Some(LiveCode {
            handle_key: key,
            code_hash: text("codeHash").ok_or("a kept code has no hash")?,
            salt: text("codeSalt").ok_or("a kept code has no salt")?,
            tries: tries.ok_or("a kept code has no tries")?,
            customer_id,
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
        let use_code = Delete::builder()
            .table_name(&self.customers_table)
            .key("customerKey", code_key(&code.handle_key))
            .condition_expression("codeHash = :hash")
            .expression_attribute_values(":hash", s(&code.code_hash))
            .build()?;
        let keep_customer = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", phone_key(phone))
            .update_expression("SET customerId = :id, provenAt = :now")
            .condition_expression("attribute_not_exists(customerId) OR customerId = :id")
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
        let writes = vec![
            TransactWriteItem::builder().delete(use_code).build(),
            TransactWriteItem::builder().update(keep_customer).build(),
            TransactWriteItem::builder().update(give_number).build(),
        ];
        Ok(match dynamo::transact(&self.client, writes).await?.is_empty() {
            true => Proven::Customer(customer_id.to_string()),
            false => Proven::CodeUsed,
        })
    }
}
