//! Studio's tables, one file per resource: `flows` (each row points at its latest revision),
//! `flow_revisions` (every version of a flow's content, never changed once written) and
//! `flow_test_users` (the flow's ordered TestUsers list), `executions` (with the flow's
//! contacts) and `steps`.
//! `flows` imports `revisions`; `test_users` imports `flows`; `executions` imports `steps`; nothing imports back.

pub mod executions;
pub mod flows;
pub mod revisions;
pub mod steps;
pub mod test_users;
