//! How many messages wait in each of the saga's dead-letter queues, for the operator's page: what
//! no step could handle stays there until someone looks and redrives it.

use cafe_shared::{Error, config};
use serde::Serialize;

/// One dead-letter queue and the messages waiting in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetters {
    /// The queue's short name, as `localstack/dlq.py redrive <queue>` takes it.
    pub queue: String,
    /// Messages waiting (SQS's approximate count: visible and in flight).
    pub waiting: u64,
}

/// The saga's dead-letter queues (`DEAD_LETTER_QUEUES`: `name=url` pairs, comma-separated).
pub struct DeadLetterQueues {
    sqs: aws_sdk_sqs::Client,
    queues: Vec<(String, String)>,
}

impl DeadLetterQueues {
    pub fn from_env(sdk: &aws_config::SdkConfig) -> Result<Self, Error> {
        Self::new(sdk, &config::required_env("DEAD_LETTER_QUEUES")?)
    }

    /// The queues given as `name=url` pairs.
    pub fn new(sdk: &aws_config::SdkConfig, queues: &str) -> Result<Self, Error> {
        Ok(Self {
            sqs: aws_sdk_sqs::Client::new(sdk),
            queues: named_queues(queues)?,
        })
    }

    /// Each queue's waiting messages, in the order the queues were given.
    pub async fn waiting(&self) -> Result<Vec<DeadLetters>, Error> {
        let counts = self.queues.iter().map(|(queue, url)| async move {
            let attributes = self
                .sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await?;
            let waiting = (attributes.attributes().into_iter().flatten())
                .filter_map(|(_, count)| count.parse::<u64>().ok())
                .sum();
            Ok::<_, Error>(DeadLetters {
                queue: queue.clone(),
                waiting,
            })
        });
        futures::future::try_join_all(counts).await
    }
}

/// `name=url` pairs, comma-separated; a pair without its `=` is a deployment error.
fn named_queues(list: &str) -> Result<Vec<(String, String)>, Error> {
    (list.split(','))
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, url)) if !name.is_empty() && !url.is_empty() => Ok((name.to_string(), url.to_string())),
            _ => Err(format!("DEAD_LETTER_QUEUES: {pair:?} is not name=url").into()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queues_are_name_url_pairs() {
        let queues = named_queues("inventory=http://q/inv, bus=http://q/bus").unwrap();
        assert_eq!(
            queues,
            [
                ("inventory".to_string(), "http://q/inv".to_string()),
                ("bus".to_string(), "http://q/bus".to_string())
            ]
        );
        assert!(named_queues("inventory").is_err());
        assert!(named_queues("=http://q/inv").is_err());
    }
}
