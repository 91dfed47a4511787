//! The operator's alerts topic (SNS, the topic the CloudWatch alarms go to): what the saga step
//! tells the operator at once, by mail or pager, beside the operator's page.

use crate::day::Alert;
use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use cafe_shared::{Error, config};
use std::future::Future;

/// The saga step's port: telling the operator.
pub trait OperatorAlerts: Sync {
    fn send(&self, alert: &Alert) -> impl Future<Output = Result<(), Error>> + Send;
}

pub struct AlertTopic {
    client: Client,
    topic_arn: String,
}

impl AlertTopic {
    /// The topic `OPERATOR_ALERT_TOPIC_ARN` names.
    pub fn from_env(sdk: &SdkConfig) -> Result<Self, Error> {
        Ok(Self {
            client: Client::new(sdk),
            topic_arn: config::required_env("OPERATOR_ALERT_TOPIC_ARN")?,
        })
    }
}

impl OperatorAlerts for AlertTopic {
    async fn send(&self, alert: &Alert) -> Result<(), Error> {
        (self.client.publish())
            .topic_arn(&self.topic_arn)
            .subject(subject_line(&alert.subject))
            .message(&alert.message)
            .send()
            .await?;
        Ok(())
    }
}

/// The mail's subject: SNS takes at most 100 printable ASCII characters there (an ingredient's
/// name may be any text; the message carries it whole).
fn subject_line(subject: &str) -> String {
    let printable = subject.chars().filter(|c| c.is_ascii_graphic() || *c == ' ');
    format!("Cafe alert: {}", printable.collect::<String>())
        .chars()
        .take(100)
        .collect()
}

/// A topic that keeps what it is sent, for in-process tests and the simulation.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct SentAlerts {
        pub sent: Mutex<Vec<Alert>>,
        /// While down, every send fails (as SNS throttling does).
        pub down: Outage,
    }

    impl OperatorAlerts for SentAlerts {
        async fn send(&self, alert: &Alert) -> Result<(), Error> {
            self.down.check("SNS is throttling")?;
            self.sent.lock().unwrap().push(alert.clone());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_subject_line_is_printable_ascii_of_at_most_100_characters() {
        assert_eq!(super::subject_line("cup"), "Cafe alert: cup");
        assert_eq!(super::subject_line("우유 milk\n"), "Cafe alert:  milk");
        assert_eq!(super::subject_line(&"x".repeat(200)).len(), 100);
    }
}
