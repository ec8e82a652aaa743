//! TrustHub: end users (search by name, type or SID) and one end user's attributes. Bundles
//! join this page once they exist.

use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use maud::html;

use super::frame;
use crate::{
    domain::{sid::EndUserSid, trusthub::end_users},
    error::Error,
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/{account}/trusthub" => get(list),
    "/_localtwilio/console/{account}/trusthub/{end_user}" => get(end_user),
}

async fn list(
    State(state): State<AppState>,
    page: frame::Scoped,
    Query(query): Query<frame::SearchQuery>,
) -> Response {
    let users = match end_users::list(&state.core, &page.principal, frame::first(1000)).await {
        Ok(users) => users.items,
        Err(e) => return frame::failure(e),
    };
    let body = html! {
        (frame::search(&query.q, "Name, type or SID"))
        @if users.is_empty() { (frame::empty("end users")) }
        @else {
            table id="end-users" {
                thead { tr { th { "End user" } th { "Type" } th { "SID" } th { "Created" } } }
                tbody {
                    @for u in users.iter().filter(|u| frame::matches(&query.q, &[&u.friendly_name, &u.kind, u.sid.as_str()])) {
                        tr {
                            td { a href=(page.link(&format!("trusthub/{}", u.sid))) { (u.friendly_name) } }
                            td { (u.kind) } td { code { (u.sid) } } td { (frame::when(u.date_created)) }
                        }
                    }
                }
            }
        }
    };
    page.page("trusthub", "TrustHub end users", body)
}

async fn end_user(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, end_user)): Path<(String, String)>,
) -> Response {
    let Some(sid) = EndUserSid::parse(&end_user) else {
        return frame::failure(Error::NotFound);
    };
    let user = match end_users::fetch(&state.core, &page.principal, &sid).await {
        Ok(user) => user,
        Err(e) => return frame::failure(e),
    };
    let body = html! {
        p { a href=(page.link("trusthub")) { "← end users" } }
        dl class="facts" {
            dt { "SID" } dd { code { (user.sid) } }
            dt { "Type" } dd { (user.kind) }
            dt { "Created" } dd { (frame::when(user.date_created)) }
            dt { "Updated" } dd { (frame::when(user.date_updated)) }
        }
        h2 { "Attributes" }
        (frame::json_block(&user.attributes))
    };
    page.page(
        "trusthub",
        &format!("End user · {}", user.friendly_name),
        body,
    )
}
