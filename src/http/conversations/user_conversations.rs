//! `GET …/Users/{Sid}/Conversations` on both path families. Conversations are not modelled
//! yet: the user's list is a correct empty page, so `links.user_conversations` resolves
//! *(ours)*. The user must exist.

use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;

use super::extract::{Family, InstancePath, MAX_PAGE, on_both_families};
use crate::{
    domain::{conversations::users, paging::Page},
    error::Result,
    http::{
        extract::{Authed, TwilioPath, TwilioQuery},
        paging::{PagingParams, V1Page, v1_page},
        state::AppState,
        urls::BaseUrl,
    },
};

pub fn routes() -> Router<AppState> {
    on_both_families(
        "/Users/{Sid}/Conversations",
        get(list_user_conversations),
        None,
    )
}

/// `conversations.v1.user.user_conversation`: none can exist yet, so the page's item type has
/// no values.
#[derive(Serialize)]
enum UserConversationResource {}

async fn list_user_conversations(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioPath(path): TwilioPath<InstancePath<String>>,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<UserConversationResource>>> {
    let user = users::fetch_user(&state.core, &principal, path.scope(), &path.sid).await?;
    let page: Page<UserConversationResource> =
        Page::from_rows(paging.request(MAX_PAGE)?, Vec::new(), |_| 0);
    let list_path = format!(
        "{}/Users/{}/Conversations",
        path.family_path(&user.service_sid),
        user.sid
    );
    Ok(Json(v1_page(
        "conversations",
        Vec::new(),
        &page,
        &base,
        &list_path,
        &[],
    )))
}
