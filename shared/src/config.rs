//! Configuration: the AWS SDK set-up and the environment variables the template sets.
//! The endpoint is the only thing that differs between AWS and the local cloud, and the SDK
//! takes it from `AWS_ENDPOINT_URL` by itself.

use crate::Error;
use aws_config::{BehaviorVersion, SdkConfig};

/// The shared SDK configuration, loaded once per cold start.
pub async fn aws_sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// An environment variable the template must set.
pub fn required_env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set").into())
}
