//! tracing setup. Handlers and domain fns never log request bodies, headers or secrets: the one
//! request span (http::trace) records method, matched route, account SID, status and latency.
//!
//! Logs go to stderr: stdout carries data (`export`, the `--generate` manifest, credentials shown
//! once). Colour only on a terminal, so a log file or collector gets plain `key=value` text.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
