//! Fault injection for the crash-recovery end-to-end test: when `GATEWAY_CRASH_AT` (not
//! under the `COMPUTE_GATEWAY_` configuration prefix, which refuses unknown keys)
//! names a point of the paid flow (`after-record`, `after-broadcast`, `during-provider`), the
//! process stops there — it logs `crash point reached: <name>` and waits for the test to
//! `kill -9` it — so the test can check that a restart finishes or credits every payment. Unset
//! in production: then a point is a no-op.

use std::sync::LazyLock;

static CRASH_AT: LazyLock<Option<String>> = LazyLock::new(|| std::env::var("GATEWAY_CRASH_AT").ok());

/// Stops the process at `name` when the environment asks for it (never returns then).
pub fn point(name: &str) {
    if CRASH_AT.as_deref() == Some(name) {
        tracing::error!(point = name, "crash point reached: {name}");
        eprintln!("crash point reached: {name}");
        loop {
            std::thread::park();
        }
    }
}
