//! TrustHub v1 (API.md §2.3), one file per resource: `end_users` (list key `results`) and
//! `end_user_types`. Each file brings its own routes; only this file imports them.

mod end_user_types;
mod end_users;

use axum::Router;

use super::{routing::merged, state::AppState};

pub fn routes() -> Router<AppState> {
    merged([end_users::routes(), end_user_types::routes()])
}
