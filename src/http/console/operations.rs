//! The operator actions as API calls (not Twilio endpoints), for scripts and CI:
//!
//! - `POST /_localtwilio/Accounts/{AccountSid}/Reset`: the account's data deleted (204);
//! - `POST /_localtwilio/Accounts/{AccountSid}/Snapshots` (`Name` optional): a snapshot (201);
//! - `GET  /_localtwilio/Accounts/{AccountSid}/Snapshots`: the account's snapshots;
//! - `GET  /_localtwilio/Accounts/{AccountSid}/Snapshots/{Id}`: one snapshot's rows (JSON);
//! - `POST /_localtwilio/Accounts/{AccountSid}/Snapshots/{Id}/Restore` (204);
//! - `POST /_localtwilio/Accounts/{AccountSid}/WebhookDeliveries/{Id}/Replay` (201).
//!
//! Authenticated with the account's own credentials (HTTP basic, as every API call; a main
//! account reaches its subaccounts) or with `Authorization: Bearer $LOCALTWILIO_CONSOLE_TOKEN`
//! (the operator: every account). Writes from another site are refused like the console's.

use axum::{
    Json,
    extract::{FromRequestParts, Path, State},
    http::{StatusCode, request::Parts},
    middleware::from_fn,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        console::{self, Snapshot, Viewer},
        sid::AccountSid,
        time::iso8601,
    },
    error::{Error, Result},
    http::{extract::TwilioForm, state::AppState},
};

/// The operator API's routes, behind the cross-site refusal.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/_localtwilio/Accounts/{account}/Reset", post(reset))
        .route(
            "/_localtwilio/Accounts/{account}/Snapshots",
            get(list_snapshots).post(take_snapshot),
        )
        .route(
            "/_localtwilio/Accounts/{account}/Snapshots/{id}",
            get(snapshot_body),
        )
        .route(
            "/_localtwilio/Accounts/{account}/Snapshots/{id}/Restore",
            post(restore),
        )
        .route(
            "/_localtwilio/Accounts/{account}/WebhookDeliveries/{id}/Replay",
            post(replay),
        )
        .layer(from_fn(super::session::refuse_cross_site))
}

/// Who calls: the operator (a verified bearer token, see `http::auth`) or an account.
pub struct Caller(pub Viewer);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        if let Some(viewer) = parts.extensions.get::<Viewer>() {
            return Ok(Self(viewer.clone()));
        }
        match parts.extensions.get::<crate::domain::auth::Principal>() {
            Some(principal) => Ok(Self(Viewer::Account(principal.clone()))),
            None => Err(Error::Unauthenticated),
        }
    }
}

fn account(text: &str) -> Result<AccountSid> {
    AccountSid::parse(text).ok_or(Error::NotFound)
}

/// A snapshot; fields in alphabetical order.
#[derive(Serialize)]
struct SnapshotResource {
    account_sid: String,
    date_created: String,
    id: i64,
    name: String,
    rows: i64,
}

impl SnapshotResource {
    fn new(account: &AccountSid, s: Snapshot) -> Self {
        Self {
            account_sid: account.to_string(),
            date_created: iso8601(s.date_created),
            id: s.id,
            name: s.name,
            rows: s.rows,
        }
    }
}

#[derive(Serialize)]
struct SnapshotsResource {
    snapshots: Vec<SnapshotResource>,
}

async fn reset(
    State(state): State<AppState>,
    Caller(viewer): Caller,
    Path(sid): Path<String>,
) -> Result<StatusCode> {
    console::reset(&state.core, &viewer, &account(&sid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnapshotForm {
    name: Option<String>,
}

async fn take_snapshot(
    State(state): State<AppState>,
    Caller(viewer): Caller,
    Path(sid): Path<String>,
    TwilioForm(form): TwilioForm<SnapshotForm>,
) -> Result<(StatusCode, Json<SnapshotResource>)> {
    let sid = account(&sid)?;
    let snapshot = console::take_snapshot(&state.core, &viewer, &sid, form.name.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(SnapshotResource::new(&sid, snapshot)),
    ))
}

async fn list_snapshots(
    State(state): State<AppState>,
    Caller(viewer): Caller,
    Path(sid): Path<String>,
) -> Result<Json<SnapshotsResource>> {
    let sid = account(&sid)?;
    let list = console::snapshots(&state.core, &viewer, &sid).await?;
    Ok(Json(SnapshotsResource {
        snapshots: list
            .into_iter()
            .map(|s| SnapshotResource::new(&sid, s))
            .collect(),
    }))
}

fn id(text: &str) -> Result<i64> {
    text.parse().map_err(|_| Error::NotFound)
}

async fn snapshot_body(
    State(state): State<AppState>,
    Caller(viewer): Caller,
    Path((sid, snapshot)): Path<(String, String)>,
) -> Result<Response> {
    let body =
        console::snapshot_body(&state.core, &viewer, &account(&sid)?, id(&snapshot)?).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

async fn restore(
    State(state): State<AppState>,
    Caller(viewer): Caller,
    Path((sid, snapshot)): Path<(String, String)>,
) -> Result<StatusCode> {
    console::restore(&state.core, &viewer, &account(&sid)?, id(&snapshot)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A replay's new delivery.
#[derive(Serialize)]
struct ReplayResource {
    delivery_id: i64,
    replay_of: i64,
}

async fn replay(
    State(state): State<AppState>,
    Caller(viewer): Caller,
    Path((sid, delivery)): Path<(String, String)>,
) -> Result<(StatusCode, Json<ReplayResource>)> {
    let of = id(&delivery)?;
    let new = console::replay(&state.core, &viewer, &account(&sid)?, of).await?;
    Ok((
        StatusCode::CREATED,
        Json(ReplayResource {
            delivery_id: new,
            replay_of: of,
        }),
    ))
}
