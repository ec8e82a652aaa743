//! Studio v2 (API.md §2.1), one file per resource: `flows`, `validate`, `revisions`,
//! `test_users`, `executions` (with their Context), `steps` (with theirs). URLs are absolute (see `urls`), dates ISO 8601 with `Z`. Each
//! file brings its own routes; only this file imports them (`validate` imports `flows`' form).

mod executions;
mod flows;
mod revisions;
mod steps;
mod test_users;
mod validate;

use axum::Router;

use super::{routing::merged, state::AppState};

pub fn routes() -> Router<AppState> {
    merged([
        flows::routes(),
        validate::routes(),
        revisions::routes(),
        test_users::routes(),
        executions::routes(),
        steps::routes(),
    ])
}
