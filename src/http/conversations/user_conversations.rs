//! `GET …/Users/{Sid}/Conversations` on both path families. Conversations are not modelled
//! yet: the user's list is a correct empty page, so `links.user_conversations` resolves
//! *(ours)*. The user must exist.

use axum::routing::get;
use serde::Serialize;

use super::extract::{InstancePath, MAX_PAGE};
use crate::{
    domain::{conversations::users, paging::Page},
    error::Result,
    http::{
        call::{ApiCall, Listed},
        extract::TwilioQuery,
        paging::PagingParams,
        routing::routes,
    },
};

routes! {
    both families:
    "/Users/{Sid}/Conversations" => get(list_user_conversations),
}

/// `conversations.v1.user.user_conversation`: none can exist yet, so the page's item type has
/// no values.
#[derive(Serialize)]
enum UserConversationResource {}

async fn list_user_conversations(
    call: ApiCall<InstancePath<String>>,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Listed<UserConversationResource>> {
    let user = users::fetch_user(&call.core, &call.principal, call.scope(), &call.path.sid).await?;
    let page: Page<UserConversationResource> =
        Page::from_rows(paging.request(MAX_PAGE)?, Vec::new(), |_| 0);
    let tail = format!("/Users/{}/Conversations", user.sid);
    call.family_list(
        "conversations",
        &user.service_sid,
        &tail,
        page,
        |_, none| none,
    )
}
