//! Starting a function: logging, then the Tokio runtime that drives the Lambda Runtime API loop.

use crate::{Error, logging};
use std::future::Future;

/// Runs a function's main loop on a Tokio runtime, with JSON logging set up first.
pub fn block_on(main_loop: impl Future<Output = Result<(), Error>>) -> Result<(), Error> {
    logging::init_logging();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(main_loop)
}

/// The two Lambda entry points of a function crate: `run_api`, its HTTP API over the state
/// `$api` (`$api::from_env()`) and the crate's `handlers::http`, and `run_saga_events`, its
/// queue over `$saga` and `handlers::saga_events`. Each Lambda builds only its own state, once
/// per cold start, and fails there if the template left out a variable it needs (`saga:` alone:
/// a function with no API). A macro, so
/// that each function's async state machine is compiled once in its own library rather than
/// once per binary.
#[macro_export]
macro_rules! lambda_entry_points {
    (api: $api:ty, saga: $saga:ty) => {
        /// The API Lambda: serves the HTTP API until the runtime stops.
        pub fn run_api() -> Result<(), $crate::Error> {
            $crate::lambda::block_on(async {
                let state = <$api>::from_env().await?;
                // `http` answers every request itself (a failure of ours is its JSON 500), so
                // nothing reaches the runtime as an error: API Gateway would answer that 502.
                $crate::lambda_http::run($crate::lambda_http::service_fn(|req| async {
                    Ok::<_, $crate::Error>(handlers::http(&state, req).await)
                }))
                .await
            })
        }

        $crate::lambda_entry_points!(saga: $saga);
    };
    (saga: $saga:ty) => {
        /// The saga Lambda: handles its queue's events until the runtime stops.
        pub fn run_saga_events() -> Result<(), $crate::Error> {
            $crate::lambda::block_on(async {
                let state = <$saga>::from_env().await?;
                $crate::lambda_runtime::run($crate::lambda_runtime::service_fn(
                    |event: $crate::lambda_runtime::LambdaEvent<_>| async {
                        Ok::<_, $crate::Error>(handlers::saga_events(&state, event.payload).await)
                    },
                ))
                .await
            })
        }
    };
}
