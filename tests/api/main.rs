//! Integration tests: the real server over HTTP on a real SQLite file.

mod accounts;
mod auth;
mod auth_memory;
mod backup;
mod conversations;
mod corpus;
mod crash;
mod errors;
mod fixtures;
mod generate;
mod helpers;
mod keys;
mod limits;
mod metrics;
mod paging;
mod receiver;
mod restart;
mod secrets;
mod spec;
mod storage;
mod studio;
mod test_users;
mod trusthub;
mod upgrade;
mod webhooks;
