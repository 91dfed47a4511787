//! DynamoDB helpers every function's store uses: first-write-wins puts (the idempotency of
//! every saga step rests on them) and reading lists a page at a time.

use crate::Error;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use std::collections::HashMap;
use std::time::Duration;

pub type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Another transaction held an item this write needed (DynamoDB's `TransactionConflict`): on AWS,
/// concurrent writes to one busy item (the cafe's, which every order counts itself in) meet it now
/// and then. Transient: [`retry_conflicts`] writes again.
#[derive(Debug, thiserror::Error)]
#[error("another transaction held an item of this write")]
pub struct TransactionConflict;

/// A single-item write's outcome, with meeting a transaction in progress on its item turned into
/// [`TransactionConflict`] for [`retry_conflicts`]; any other outcome as it is.
pub fn conflict_to_retry<T, E: ProvideErrorMetadata, R>(
    outcome: Result<T, SdkError<E, R>>,
) -> Result<Result<T, SdkError<E, R>>, Error> {
    match outcome {
        Err(SdkError::ServiceError(e)) if e.err().code() == Some("TransactionConflictException") => {
            Err(TransactionConflict.into())
        }
        other => Ok(other),
    }
}

/// Runs a transaction, again while another transaction holds one of its items: which writes
/// failed their condition (see [`failed_conditions`]).
pub async fn transact(
    client: &Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> Result<Vec<usize>, Error> {
    retry_conflicts(|| async {
        let transaction = client.transact_write_items().set_transact_items(Some(items.clone()));
        failed_conditions(transaction.send().await)
    })
    .await
}

/// Runs `write` again while it fails with [`TransactionConflict`], at most 5 times in all, 20 to
/// 160 ms apart; any other outcome is its own.
pub async fn retry_conflicts<T, Write>(mut write: impl FnMut() -> Write) -> Result<T, Error>
where
    Write: std::future::Future<Output = Result<T, Error>>,
{
    let mut pause = std::time::Duration::from_millis(20);
    for _ in 1..5 {
        match write().await {
            Err(e) if e.downcast_ref::<TransactionConflict>().is_some() => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other,
        }
    }
    write().await
}

/// Whether a write failed only because its condition did not hold.
pub fn is_conditional_check_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(e) if e.err().code() == Some("ConditionalCheckFailedException"))
}

/// Whether a conditional write's condition held: `false` when the write failed on its condition
/// alone, any other failure as it is.
pub fn condition_held<T, E, R>(written: Result<T, SdkError<E, R>>) -> Result<bool, Error>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match written {
        Ok(_) => Ok(true),
        Err(e) if is_conditional_check_failed(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Which writes of a transaction failed their condition: `Ok(vec![])` when it committed, the
/// failed items' positions when it was cancelled by conditions, [`TransactionConflict`] when
/// another transaction held one of its items, an error otherwise.
pub fn failed_conditions<R>(
    outcome: Result<R, SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError>>,
) -> Result<Vec<usize>, Error> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match outcome {
        Ok(_) => Ok(Vec::new()),
        Err(SdkError::ServiceError(e)) => match e.into_err() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                let reasons = cancelled.cancellation_reasons();
                if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                    return Err(TransactionConflict.into());
                }
                let failed: Vec<usize> = (cancelled.cancellation_reasons().iter().enumerate())
                    .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                    .map(|(i, _)| i)
                    .collect();
                if failed.is_empty() {
                    Err(format!("transaction cancelled: {:?}", cancelled.cancellation_reasons()).into())
                } else {
                    Ok(failed)
                }
            }
            other => Err(other.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// A one-attribute key (a table's hash key).
pub fn key(attribute: &str, value: impl Into<String>) -> Item {
    HashMap::from([(attribute.to_string(), s(value))])
}

/// The item under `key`, read consistently: every store reads its own writes (idempotency checks,
/// answers right after an order).
pub async fn get_item(client: &Client, table: &str, key: Item) -> Result<Option<Item>, Error> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await?;
    Ok(out.item)
}

/// The items of a table with a one-attribute key (`key_attribute`) under these values, by value;
/// a value with no item is left out. Reads 100 keys to a request (BatchGetItem's limit), and the
/// keys DynamoDB leaves unprocessed (it does under throttling) again, after a pause that doubles.
pub async fn get_many(
    client: &Client,
    table: &str,
    key_attribute: &str,
    values: &[String],
) -> Result<HashMap<String, Item>, Error> {
    let mut found = HashMap::new();
    for chunk in values.chunks(100) {
        let keys = chunk.iter().map(|value| key(key_attribute, value.as_str())).collect();
        // Consistent, as every store reads: an item an index lists is never missed for being new.
        let asked = KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true);
        let mut asked = Some(asked.build()?);
        let mut pause = Duration::from_millis(25);
        while let Some(keys) = asked.take() {
            let out = (client.batch_get_item()).request_items(table, keys).send().await?;
            for item in out.responses.unwrap_or_default().remove(table).unwrap_or_default() {
                if let Some(AttributeValue::S(value)) = item.get(key_attribute) {
                    found.insert(value.clone(), item);
                }
            }
            asked = (out.unprocessed_keys.unwrap_or_default().remove(table)).filter(|left| !left.keys.is_empty());
            if asked.is_some() {
                if pause > LONGEST_PAUSE {
                    return Err(format!("{table} left keys unread; try again").into());
                }
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
    }
    Ok(found)
}

/// The whole items of what a keys-only index found (`key_attribute`: the table's one-attribute
/// key), in the index's order. Such an index is written only when an item's keys change, where one
/// projecting every attribute is rewritten, at the item's size, on every change of the item.
pub async fn items_of(
    client: &Client,
    table: &str,
    key_attribute: &str,
    found: Page<Item>,
) -> Result<Page<Item>, Error> {
    let values: Vec<String> = (found.items.iter())
        .filter_map(|keys| keys.get(key_attribute).and_then(|v| v.as_s().ok()).cloned())
        .collect();
    let mut items = get_many(client, table, key_attribute, &values).await?;
    Ok(Page {
        items: values.iter().filter_map(|value| items.remove(value)).collect(),
        next: found.next,
    })
}

/// How long a read of many keys waits at most between two tries (25 ms doubled up to this: five).
const LONGEST_PAUSE: Duration = Duration::from_millis(400);

/// Writes `item` unless one with the same key exists (`key_attribute` names the hash key):
/// `true` when written now, `false` when it was already there.
pub async fn put_if_absent(client: &Client, table: &str, item: Item, key_attribute: &str) -> Result<bool, Error> {
    let put = client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#key)")
        .expression_attribute_names("#key", key_attribute)
        .send()
        .await;
    condition_held(put)
}

/// Which page of a list to read: at most `limit` items, after the key `start` (none: the first).
#[derive(Debug, PartialEq)]
pub struct PageRequest {
    pub limit: i32,
    pub start: Option<Item>,
}

/// One page of a list: its items, and the key to start the next page from when there is more.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Item>,
}

impl<T> Page<T> {
    /// The same page with each item turned into another type.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next: self.next,
        })
    }
}

/// Which way a page of an index runs along its sort key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Dates: newest first.
    Descending,
    /// Names: A to Z.
    Ascending,
}

/// One page of an index (`None`: the table itself): the items whose `partition` attribute is
/// `value`, in `order` of the sort key.
pub async fn query_page(
    client: &Client,
    table: &str,
    index: Option<&str>,
    (partition, value): (&str, &str),
    order: SortOrder,
    page: PageRequest,
) -> Result<Page<Item>, Error> {
    let out = client
        .query()
        .table_name(table)
        .set_index_name(index.map(String::from))
        .key_condition_expression("#p = :v")
        .expression_attribute_names("#p", partition)
        .expression_attribute_values(":v", s(value))
        .scan_index_forward(order == SortOrder::Ascending)
        .limit(page.limit)
        .set_exclusive_start_key(page.start)
        .send()
        .await?;
    Ok(Page {
        items: out.items.unwrap_or_default(),
        next: out.last_evaluated_key.filter(|key| !key.is_empty()),
    })
}

/// One page of a whole table, in no particular order.
pub async fn scan_page(client: &Client, table: &str, page: PageRequest) -> Result<Page<Item>, Error> {
    let out = client
        .scan()
        .table_name(table)
        .limit(page.limit)
        .set_exclusive_start_key(page.start)
        .send()
        .await?;
    Ok(Page {
        items: out.items.unwrap_or_default(),
        next: out.last_evaluated_key.filter(|key| !key.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_conflicting_transaction_is_written_again_and_anything_else_is_not() {
        let tries = AtomicU32::new(0);
        let written = retry_conflicts(|| async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(TransactionConflict.into()),
                _ => Ok("written"),
            }
        })
        .await;
        assert_eq!((written.unwrap(), tries.load(Ordering::SeqCst)), ("written", 3));

        let tries = AtomicU32::new(0);
        let refused: Result<(), Error> = retry_conflicts(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err("the table is gone".into())
        })
        .await;
        assert_eq!((refused.is_err(), tries.load(Ordering::SeqCst)), (true, 1));

        let tries = AtomicU32::new(0);
        let busy: Result<(), Error> = retry_conflicts(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(TransactionConflict.into())
        })
        .await;
        assert!(busy.unwrap_err().downcast_ref::<TransactionConflict>().is_some());
        assert_eq!(tries.load(Ordering::SeqCst), 5, "at most 5 tries");
    }
}
