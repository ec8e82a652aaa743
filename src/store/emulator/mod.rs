//! The operator API's own tables (issue 19): numbers attached to flows, account clocks.

pub mod clock;
pub mod numbers;
