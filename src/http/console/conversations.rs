//! Conversations: services; a service's page — its conversations, users (identity, role,
//! attributes) and roles (type, permissions), each list searchable; and a conversation's page —
//! its **transcript** (one bubble per message, by author, with its time, media and read state)
//! beside its participants (chat identities and non-chat bindings), refreshed live.

use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use maud::html;

use super::frame;
use crate::{
    domain::{
        conversations::{
            Scope,
            conversations::{Conversation, ListFilter, list_conversations},
            messages::{Delivery, Message, list_conversation_messages},
            participants::{Participant, list_participants},
            roles::list_roles,
            services::list_services,
            users::list_users,
        },
        sid::ServiceSid,
    },
    error::Error,
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/{account}/conversations" => get(list),
    "/_localtwilio/console/{account}/conversations/{service}" => get(service),
    "/_localtwilio/console/{account}/conversations/{service}/{conversation}" => get(conversation),
}

/// How many messages a transcript shows (the latest ones) *(ours)*.
const TRANSCRIPT_SIZE: u32 = 500;

async fn list(
    State(state): State<AppState>,
    page: frame::Scoped,
    Query(query): Query<frame::SearchQuery>,
) -> Response {
    let services = match list_services(&state.core, &page.principal, frame::first(1000)).await {
        Ok(services) => services.items,
        Err(e) => return frame::failure(e),
    };
    let body = html! {
        (frame::search(&query.q, "Service name or SID"))
        table id="services" {
            thead { tr { th { "Service" } th { "SID" } th { "Created" } } }
            tbody {
                @for s in services.iter().filter(|s| frame::matches(&query.q, &[&s.friendly_name, s.sid.as_str()])) {
                    tr {
                        td { a href=(page.link(&format!("conversations/{}", s.sid))) { (s.friendly_name) } }
                        td { code { (s.sid) } }
                        td { (frame::when(s.date_created)) }
                    }
                }
            }
        }
    };
    page.page("conversations", "Conversations services", body)
}

async fn service(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, service)): Path<(String, String)>,
    Query(query): Query<frame::SearchQuery>,
) -> Response {
    let core = &state.core;
    let Some(sid) = ServiceSid::parse(&service) else {
        return frame::failure(Error::NotFound);
    };
    let (service, users) = match list_users(
        core,
        &page.principal,
        Scope::Service(&sid),
        frame::first(1000),
    )
    .await
    {
        Ok((service, users)) => (service, users.items),
        Err(e) => return frame::failure(e),
    };
    let roles = match list_roles(
        core,
        &page.principal,
        Scope::Service(&sid),
        frame::first(1000),
    )
    .await
    {
        Ok((_, roles)) => roles.items,
        Err(e) => return frame::failure(e),
    };
    let conversations = match list_conversations(
        core,
        &page.principal,
        Scope::Service(&sid),
        &ListFilter::default(),
        frame::first(1000),
    )
    .await
    {
        Ok((_, conversations)) => conversations.items,
        Err(e) => return frame::failure(e),
    };
    let role_name = |role: Option<&crate::domain::sid::RoleSid>| {
        role.and_then(|r| roles.iter().find(|x| &x.sid == r))
            .map(|r| r.friendly_name.clone())
            .unwrap_or_default()
    };
    let body = html! {
        dl class="facts" {
            dt { "SID" } dd { code { (service.sid) } }
            dt { "Default role (users)" } dd { (role_name(service.default_chat_service_role_sid.as_ref())) }
            dt { "Reachability" } dd { @if service.reachability_enabled { "on" } @else { "off" } }
        }
        (frame::search(&query.q, "Name, identity or SID"))
        h2 { "Conversations" }
        @if conversations.is_empty() { (frame::empty("conversations")) }
        @else {
            table id="conversations" {
                thead { tr { th { "Conversation" } th { "Unique name" } th { "State" } th { "Created" } th { "Updated" } } }
                tbody {
                    @for c in conversations.iter().rev().filter(|c| frame::matches(&query.q, &[c.friendly_name.as_deref().unwrap_or(""), c.unique_name.as_deref().unwrap_or(""), c.sid.as_str()])) {
                        tr id=(c.sid) {
                            td { a href=(page.link(&format!("conversations/{}/{}", service.sid, c.sid))) { (title_of(c)) } br; code class="small" { (c.sid) } }
                            td { (c.unique_name.as_deref().unwrap_or("—")) }
                            td { span class=(format!("state {}", c.state)) { (c.state) } }
                            td { (frame::when(c.date_created)) }
                            td { (frame::when(c.date_updated)) }
                        }
                    }
                }
            }
        }
        h2 { "Users" }
        @if users.is_empty() { (frame::empty("users")) }
        @else {
            table id="users" {
                thead { tr { th { "Identity" } th { "Friendly name" } th { "Role" } th { "Attributes" } th { "Created" } } }
                tbody {
                    @for u in users.iter().filter(|u| frame::matches(&query.q, &[&u.identity, u.friendly_name.as_deref().unwrap_or(""), u.sid.as_str()])) {
                        tr id=(u.sid) {
                            td { (u.identity) br; code class="small" { (u.sid) } }
                            td { (u.friendly_name.as_deref().unwrap_or("—")) }
                            td { (role_name(u.role_sid.as_ref())) }
                            td { code class="small" { (u.attributes) } }
                            td { (frame::when(u.date_created)) }
                        }
                    }
                }
            }
        }
        h2 { "Roles" }
        table id="roles" {
            thead { tr { th { "Role" } th { "Type" } th { "Permissions" } } }
            tbody {
                @for r in &roles {
                    tr id=(r.sid) {
                        td { (r.friendly_name) br; code class="small" { (r.sid) } }
                        td { (r.kind) }
                        td { @for p in &r.permissions { span class="chip" { (p) } " " } }
                    }
                }
            }
        }
    };
    page.page(
        "conversations",
        &format!("Service · {}", service.friendly_name),
        body,
    )
}

/// A conversation's title: its friendly name, else its unique name, else its SID.
fn title_of(c: &Conversation) -> String {
    c.friendly_name
        .clone()
        .or_else(|| c.unique_name.clone())
        .unwrap_or_else(|| c.sid.to_string())
}

/// Who a participant is: its identity (chat), else its binding's address (SMS, WhatsApp…).
fn who(p: &Participant) -> String {
    p.identity
        .clone()
        .or_else(|| p.binding.as_ref().and_then(|b| b.address.clone()))
        .unwrap_or_else(|| p.sid.to_string())
}

/// The side and colour of an author's bubbles: the conversation's first author on the left,
/// everyone else on the right, each author one of six colours in order of first appearance
/// *(ours: a transcript reads like a chat between the first speaker and the rest)*.
fn author_styles(messages: &[Message]) -> Vec<(String, String)> {
    let mut authors: Vec<&str> = Vec::new();
    for m in messages {
        if !authors.contains(&m.author.as_str()) {
            authors.push(&m.author);
        }
    }
    messages
        .iter()
        .map(|m| {
            let n = authors.iter().position(|a| *a == m.author).unwrap_or(0);
            let side = if n == 0 { "left" } else { "right" };
            (format!("bubble {side} author-{}", n % 6), side.to_owned())
        })
        .collect()
}

/// The delivery state of `message`: who else has read it (a participant's
/// `last_read_message_index` at or past its index — Twilio's read horizon). The chat channel
/// keeps no per-message receipts (every receipt list is empty here), so "read" is the state
/// shown, "sent" until someone reads it.
fn read_by<'a>(message: &Message, participants: &'a [Participant]) -> Vec<&'a Participant> {
    participants
        .iter()
        .filter(|p| {
            message.participant_sid.as_ref() != Some(&p.sid)
                && p.last_read_message_index
                    .is_some_and(|i| i >= message.index)
        })
        .collect()
}

/// What became of the SMS a message was sent as (its `delivery` summary, built from its
/// Receipts): "SMS to 2 · sent all · delivered some"; statuses none of them reached are left
/// out.
fn sms_delivery(d: &Delivery) -> String {
    let mut text = format!("SMS to {}", d.total);
    for (status, share) in [
        ("sent", d.sent),
        ("delivered", d.delivered),
        ("read", d.read),
        ("failed", d.failed),
        ("undelivered", d.undelivered),
    ] {
        if share != "none" {
            text.push_str(&format!(" · {status} {share}"));
        }
    }
    text
}

async fn conversation(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, service, conversation)): Path<(String, String, String)>,
) -> Response {
    let core = &state.core;
    let Some(service_sid) = ServiceSid::parse(&service) else {
        return frame::failure(Error::NotFound);
    };
    let scope = || Scope::Service(&service_sid);
    // The latest messages, newest first from the store, shown oldest first.
    let (found, mut messages) = match list_conversation_messages(
        core,
        &page.principal,
        scope(),
        &conversation,
        false,
        frame::first(TRANSCRIPT_SIZE),
    )
    .await
    {
        Ok((found, messages)) => (found, messages.items),
        Err(e) => return frame::failure(e),
    };
    messages.reverse();
    let participants = match list_participants(
        core,
        &page.principal,
        scope(),
        found.sid.as_str(),
        frame::first(1000),
    )
    .await
    {
        Ok((_, participants)) => participants.items,
        Err(e) => return frame::failure(e),
    };
    let styles = author_styles(&messages);
    let body = html! {
        p { a href=(page.link(&format!("conversations/{service_sid}"))) { "← the service" } }
        div class="chat-layout" {
            section class="transcript-pane" {
                (frame::live(html! {
                    dl class="facts" {
                        dt { "SID" } dd { code { (found.sid) } }
                        dt { "State" } dd { span id="conversation-state" class=(format!("state {}", found.state)) { (found.state) } }
                        dt { "Messages" } dd id="message-count" { (messages.len()) }
                    }
                    @if messages.is_empty() { (frame::empty("messages")) }
                    @else {
                        ol class="transcript" id="transcript" {
                            @for (m, (class, _)) in messages.iter().zip(&styles) {
                                @let readers = read_by(m, &participants);
                                li class=(class) id=(m.sid) data-index=(m.index) {
                                    div class="meta" {
                                        span class="author" { (m.author) }
                                        " · " time { (frame::when(m.date_created)) }
                                        " · #" (m.index)
                                    }
                                    @if let Some(text) = &m.body { p class="body" { (text) } }
                                    @if let Some(media) = m.media.as_ref().and_then(|v| v.as_array()) {
                                        ul class="media" {
                                            @for item in media {
                                                li { "📎 "
                                                    (item.get("filename").and_then(|v| v.as_str()).unwrap_or("media"))
                                                    " (" (item.get("content_type").and_then(|v| v.as_str()).unwrap_or("")) ")"
                                                }
                                            }
                                        }
                                    }
                                    div class="delivery" data-read=(readers.len()) {
                                        @if readers.is_empty() { "sent" }
                                        @else {
                                            "✓ read by "
                                            @for (i, p) in readers.iter().enumerate() { @if i > 0 { ", " } (who(p)) }
                                        }
                                    }
                                    @if let Some(d) = &m.delivery {
                                        div class="delivery sms" data-sms=(d.total) { (sms_delivery(d)) }
                                    }
                                    @if m.attributes != "{}" {
                                        details { summary { "attributes" } code class="small" { (m.attributes) } }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
            aside class="participants-pane" {
                h2 { "Participants" }
                @if participants.is_empty() { (frame::empty("participants")) }
                @else {
                    ul class="participants" id="participants" {
                        @for p in &participants {
                            li id=(p.sid) {
                                strong { (who(p)) }
                                @match &p.binding {
                                    Some(b) => {
                                        " " span class="chip" { (b.kind) }
                                        div class="small" {
                                            (b.address.as_deref().unwrap_or("")) " ↔ "
                                            (b.proxy_address.as_deref().or(b.projected_address.as_deref()).unwrap_or(""))
                                        }
                                    }
                                    None => { " " span class="chip" { "chat" } }
                                }
                                div class="small" {
                                    "read up to #" (p.last_read_message_index.map(|i| i.to_string()).unwrap_or_else(|| "—".to_owned()))
                                    " · " (p.notification_level)
                                }
                                code class="small" { (p.sid) }
                                @if p.attributes != "{}" {
                                    details { summary { "attributes" } code class="small" { (p.attributes) } }
                                }
                            }
                        }
                    }
                }
                h2 { "Attributes" }
                code class="small" { (found.attributes) }
            }
        }
    };
    page.page(
        "conversations",
        &format!("Conversation · {}", title_of(&found)),
        body,
    )
}
