//! Configuration: the AWS SDK set-up and the environment variables the template sets.
//! The endpoint is the only thing that differs between AWS and the local cloud, and the SDK
//! takes it from `AWS_ENDPOINT_URL` by itself.

use crate::Error;
use aws_config::{BehaviorVersion, SdkConfig};

/// The shared SDK configuration, loaded once per cold start. A function that `sam local` runs in
/// a container is told the local cloud's endpoint as `LOCAL_ENDPOINT_URL` instead: SAM sets only
/// variables the template declares, and the template declares this one empty, which the SDK
/// would warn about as `AWS_ENDPOINT_URL` on AWS.
pub async fn aws_sdk_config() -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest());
    match std::env::var("LOCAL_ENDPOINT_URL") {
        Ok(endpoint) if !endpoint.is_empty() => loader.endpoint_url(endpoint).load().await,
        _ => loader.load().await,
    }
}

/// The country calling codes the cafe texts (`TEXT_COUNTRY_CODES`, e.g. `82,1`), without `+`.
pub fn text_country_codes() -> Vec<String> {
    std::env::var("TEXT_COUNTRY_CODES")
        .unwrap_or_else(|_| "82".into())
        .split(',')
        .map(|code| code.trim().trim_start_matches('+').to_string())
        .filter(|code| !code.is_empty())
        .collect()
}

/// An environment variable the template must set.
pub fn required_env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set").into())
}
