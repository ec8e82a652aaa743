//! Conversations: services, and a service's page — its users (identity, role, attributes) and
//! roles (type, permissions), each list searchable. Conversations, participants and messages
//! join this page as their data lands.

use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use maud::html;

use super::frame;
use crate::{
    domain::{
        conversations::{Scope, roles::list_roles, services::list_services, users::list_users},
        sid::ServiceSid,
    },
    error::Error,
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/{account}/conversations" => get(list),
    "/_localtwilio/console/{account}/conversations/{service}" => get(service),
}

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
        (frame::search(&query.q, "Identity, name or SID"))
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
