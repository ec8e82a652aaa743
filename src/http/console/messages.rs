//! Messages (2010), Mailpit-style: what the account's flows, conversations and API clients
//! sent and what it received (`direction`), newest first, searched by number, body or SID and
//! filtered by direction, refreshed live; and one message — its body, media, the statuses it
//! has passed through (its simulated delivery schedule, `domain::messages`) and the status
//! callbacks it queued (all at creation, each due when its status is reached), each a link to
//! its delivery in the webhook log.

use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use maud::html;
use serde::Deserialize;

use super::frame;
use crate::{
    domain::{
        messages::{self, ListFilter},
        sid::MessageSid,
        webhooks::{self, DeliveryFilter},
    },
    error::Error,
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/{account}/messages" => get(list),
    "/_localtwilio/console/{account}/messages/{message}" => get(message),
}

/// How many messages the list shows (the newest) *(ours)*.
const LIST_SIZE: u32 = 500;
/// How many callback deliveries a message page lists.
const CALLBACKS: i64 = 100;
/// How much of a body the list shows.
const SNIPPET_CHARS: usize = 80;

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    /// `inbound`, `outbound` (any outbound direction) or empty.
    #[serde(default)]
    direction: String,
}

fn snippet(body: &str) -> String {
    let mut chars = body.chars();
    let head: String = chars.by_ref().take(SNIPPET_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

async fn list(
    State(state): State<AppState>,
    page: frame::Scoped,
    Query(query): Query<ListQuery>,
) -> Response {
    let found = match messages::list(
        &state.core,
        &page.principal,
        &page.account.sid,
        &ListFilter::default(),
        frame::first(LIST_SIZE),
    )
    .await
    {
        Ok(found) => found.items,
        Err(e) => return frame::failure(e),
    };
    let shown = found.iter().filter(|m| {
        let direction = m.direction.as_str();
        let wanted = match query.direction.as_str() {
            "inbound" => direction == "inbound",
            "outbound" => direction != "inbound",
            _ => true,
        };
        wanted
            && frame::matches(
                &query.q,
                &[
                    m.from.as_deref().unwrap_or(""),
                    &m.to,
                    &m.body,
                    m.sid.as_str(),
                ],
            )
    });
    let body = html! {
        (frame::search_with(&query.q, "Number, text or SID",
            ("direction", "Direction", &["", "inbound", "outbound"], &query.direction)))
        (frame::live(html! {
            @if found.is_empty() { (frame::empty("messages")) }
            @else {
                table id="messages" class="mailbox" {
                    thead { tr { th { "" } th { "From" } th { "To" } th { "Message" } th { "Status" } th { "Created" } } }
                    tbody {
                        @for m in shown {
                            tr data-direction=(m.direction.as_str()) {
                                td { span class=(format!("direction {}", m.direction.as_str())) title=(m.direction.as_str()) {
                                    @if m.direction.as_str() == "inbound" { "⬇ in" } @else { "⬆ out" }
                                } }
                                td { (m.from.as_deref().or(m.messaging_service_sid.as_deref()).unwrap_or("—")) }
                                td { (m.to) }
                                td { a href=(page.link(&format!("messages/{}", m.sid))) { (snippet(&m.body)) @if m.body.is_empty() { em { "(no text)" } } }
                                     @if m.num_media > 0 { " " span class="chip" { "📎 " (m.num_media) } } }
                                td { span class=(format!("status {}", m.status)) { (m.status) } }
                                td { (frame::when_ms(m.date_created)) }
                            }
                        }
                    }
                }
            }
        }))
    };
    page.page("messages", "Messages", body)
}

async fn message(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, message)): Path<(String, String)>,
) -> Response {
    let core = &state.core;
    let Some(sid) = MessageSid::parse(&message) else {
        return frame::failure(Error::NotFound);
    };
    let (found, history) =
        match messages::fetch_with_history(core, &page.principal, &page.account.sid, &sid).await {
            Ok(found) => found,
            Err(e) => return frame::failure(e),
        };
    let media = match messages::list_media(
        core,
        &page.principal,
        &page.account.sid,
        &sid,
        frame::first(100),
    )
    .await
    {
        Ok(media) => media.items,
        Err(e) => return frame::failure(e),
    };
    let filter = DeliveryFilter {
        params_contain: Some(sid.to_string()),
        ..DeliveryFilter::default()
    };
    let mut callbacks =
        match webhooks::delivery_log(core, &page.principal, &filter, CALLBACKS).await {
            Ok(callbacks) => callbacks,
            Err(e) => return frame::failure(e),
        };
    callbacks.reverse();
    let body = html! {
        p { a href=(page.link("messages")) { "← messages" } }
        (frame::live(html! {
            dl class="facts" {
                dt { "SID" } dd { code { (found.sid) } }
                dt { "Direction" } dd { span class=(format!("direction {}", found.direction.as_str())) id="direction" { (found.direction.as_str()) } }
                dt { "From" } dd { (found.from.as_deref().unwrap_or("—")) }
                dt { "To" } dd { (found.to) }
                @if let Some(service) = &found.messaging_service_sid { dt { "Messaging service" } dd { code { (service) } } }
                dt { "Status" } dd { span id="message-status" class=(format!("status {}", found.status)) { (found.status) } }
                @if let Some(code) = found.error_code {
                    dt { "Error" } dd class="bad" { (code) " " (found.error_message.unwrap_or("")) }
                }
                dt { "Segments" } dd { (found.num_segments) }
                dt { "Created" } dd { (frame::when_ms(found.date_created)) }
                @if let Some(sent) = found.date_sent { dt { "Sent" } dd { (frame::when_ms(sent)) } }
            }
            h2 { "Body" }
            pre class="message-body" id="body" { (found.body) }
            @if !media.is_empty() {
                h2 { "Media" }
                ul id="media" {
                    @for m in &media {
                        li { a href=(m.url) rel="noreferrer" { (m.url) } " " span class="chip" { (m.content_type) } " " code class="small" { (m.sid) } }
                    }
                }
            }
            h2 { "Status history" }
            ol class="history" id="history" {
                @for (status, at) in &history {
                    li { span class=(format!("status {status}")) { (status) } " " (frame::when_ms(*at)) }
                }
            }
            h2 { "Status callbacks" }
            @if callbacks.is_empty() {
                p class="empty" { @if found.status_callback.is_some() { "None queued yet." } @else { "No StatusCallback was given." } }
            } @else {
                table id="callbacks" {
                    thead { tr { th { "#" } th { "Event" } th { "URL" } th { "Status" } th { "Due" } th { "Attempts" } } }
                    tbody {
                        @for d in &callbacks {
                            tr {
                                td { a href=(page.link(&format!("webhooks/{}", d.id))) { (d.id) } }
                                td { (d.event_type) }
                                td class="url" { (d.url) }
                                td { span class=(format!("status {}", d.status)) { (d.status) } }
                                td { (frame::when_ms(d.next_attempt_at)) }
                                td { (d.attempts) }
                            }
                        }
                    }
                }
            }
        }))
    };
    page.page("messages", &format!("Message · {}", found.sid), body)
}
