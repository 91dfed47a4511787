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
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Ok(value),
        _ => Err(format!("environment variable {name} is not set").into()),
    }
}

/// A number the template may set, `default` when it does not; one that does not read as a
/// number is an error that names the variable, never a silent default.
pub fn number_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, Error> {
    number_in(name, std::env::var(name).ok(), default)
}

fn number_in<T: std::str::FromStr>(name: &str, value: Option<String>, default: T) -> Result<T, Error> {
    match value {
        Some(value) if !value.trim().is_empty() => {
            (value.trim().parse()).map_err(|_| format!("environment variable {name} is not a number: {value:?}").into())
        }
        _ => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_that_does_not_read_is_an_error_that_names_it() {
        assert_eq!(number_in("SECONDS", Some(" 12 ".into()), 5_u32).unwrap(), 12);
        assert_eq!(number_in("SECONDS", None, 5_u32).unwrap(), 5);
        assert_eq!(number_in("SECONDS", Some(String::new()), 5_u32).unwrap(), 5);
        let refused = number_in("SECONDS", Some("12s".into()), 5_u32).unwrap_err().to_string();
        assert!(refused.contains("SECONDS") && refused.contains("12s"), "{refused}");
        let unset = required_env("CAFE_NEVER_SET").unwrap_err().to_string();
        assert!(unset.contains("CAFE_NEVER_SET"), "{unset}");
    }
}
