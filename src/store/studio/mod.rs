//! Studio's tables, one file per resource: `flows` (each row points at its latest revision),
//! `flow_revisions` (every version of a flow's content, never changed once written) and
//! `flow_test_users` (the flow's ordered TestUsers list). Executions are not stored.
//! `flows` imports `revisions`; `test_users` imports `flows`; nothing imports back.

pub mod flows;
pub mod revisions;
pub mod test_users;
