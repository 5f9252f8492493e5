//! Running a background pass periodically (the expiry worker, the settlement reconciler).

use std::future::Future;
use std::time::Duration;

use crate::state::AppState;

/// Runs `pass` every `every` until the runtime stops; logs how many items each pass handled.
pub fn spawn<F, Fut>(name: &'static str, state: AppState, every: Duration, pass: F) -> tokio::task::JoinHandle<()>
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = compute_core::Result<usize>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match pass(state.clone()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(worker = name, handled = n, "background pass"),
                Err(e) => tracing::warn!(worker = name, error = %e, "background pass failed"),
            }
        }
    })
}
