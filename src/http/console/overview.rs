//! Overview of one account: its rows per product (every table of account data, from the one
//! registry `store::account_data::ACCOUNT_DATA`, each product's card linked to its page), the
//! server's health, the newest messages and recent webhook activity. Refreshed live.

use axum::{extract::State, response::Response, routing::get};
use maud::html;

use super::frame;
use crate::{
    domain::{
        console,
        webhooks::{self, DeliveryFilter},
    },
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/{account}/overview" => get(overview),
}

/// How many of the newest messages the overview shows.
const RECENT_MESSAGES: u32 = 5;

async fn overview(State(state): State<AppState>, page: frame::Scoped) -> Response {
    let core = &state.core;
    let counts = match console::counts(core, &page.viewer, &page.account.sid).await {
        Ok(counts) => counts,
        Err(e) => return frame::failure(e),
    };
    let recent =
        match webhooks::delivery_log(core, &page.principal, &DeliveryFilter::default(), 10).await {
            Ok(recent) => recent,
            Err(e) => return frame::failure(e),
        };
    let messages = match crate::domain::messages::list(
        core,
        &page.principal,
        &page.account.sid,
        &crate::domain::messages::ListFilter::default(),
        frame::first(RECENT_MESSAGES),
    )
    .await
    {
        Ok(messages) => messages.items,
        Err(e) => return frame::failure(e),
    };
    let healthy = core.store.health().takes_writes().await;
    let mut products: Vec<(&str, Vec<(&str, i64)>)> = Vec::new();
    for (table, n) in &counts {
        match products.iter_mut().find(|(p, _)| *p == table.product) {
            Some((_, tables)) => tables.push((table.name, *n)),
            None => products.push((table.product, vec![(table.name, *n)])),
        }
    }
    let body = frame::live(html! {
        section class="cards" {
            @for (product, tables) in &products {
                div class="card" data-product=(product) {
                    h2 {
                        @match frame::NAV.iter().find(|(name, _)| name == product) {
                            Some((_, path)) => { a href=(page.link(path)) { (product) } }
                            None => { (product) }
                        }
                    }
                    dl {
                        @for (name, n) in tables {
                            dt { (name.replace('_', " ")) } dd data-table=(name) { (n) }
                        }
                    }
                }
            }
            div class="card" {
                h2 { "Health" }
                p class=(if healthy { "ok" } else { "bad" }) id="health" {
                    @if healthy { "Database takes writes" } @else { "Storage fault: writes are failing" }
                }
                p { "Account " code { (page.account.sid) } " · " (page.account.status) " · " (page.account.kind) }
            }
        }
        h2 { "Recent messages" }
        @if messages.is_empty() { (frame::empty("messages")) }
        @else {
            table id="recent-messages" {
                thead { tr { th { "When" } th { "Direction" } th { "From" } th { "To" } th { "Status" } } }
                tbody {
                    @for m in &messages {
                        tr {
                            td { a href=(page.link(&format!("messages/{}", m.sid))) { (frame::when_ms(m.date_created)) } }
                            td { (m.direction.as_str()) }
                            td { (m.from.as_deref().unwrap_or("—")) }
                            td { (m.to) }
                            td { span class=(format!("status {}", m.status)) { (m.status) } }
                        }
                    }
                }
            }
        }
        h2 { "Recent webhook deliveries" }
        @if recent.is_empty() { (frame::empty("webhook deliveries")) }
        @else {
            table {
                thead { tr { th { "When" } th { "Event" } th { "URL" } th { "Status" } } }
                tbody {
                    @for d in &recent {
                        tr {
                            td { (frame::when_ms(d.created_at)) }
                            td { a href=(page.link(&format!("webhooks/{}", d.id))) { (d.event_type) } }
                            td class="url" { (d.url) }
                            td { span class=(format!("status {}", d.status)) { (d.status) } }
                        }
                    }
                }
            }
        }
    });
    page.page(
        "overview",
        &format!("Overview · {}", page.account.friendly_name),
        body,
    )
}
