//! Webhooks: the delivery log (filters by status, event and URL; newest first; live), and one
//! delivery — the request (method, URL, parameters), every attempt (time, status, latency,
//! error, the start of the receiver's answer) and **Replay**, which queues the same request
//! again to the stored URL.

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use maud::html;
use serde::Deserialize;

use super::frame;
use crate::{
    domain::{
        console,
        webhooks::{self, DeliveryFilter},
    },
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/{account}/webhooks" => get(log),
    "/_localtwilio/console/{account}/webhooks/{id}" => get(delivery),
    "/_localtwilio/console/{account}/webhooks/{id}/replay" => post(replay),
}

/// How many deliveries a log page shows.
const LOG_PAGE: i64 = 100;

#[derive(Deserialize, Default)]
struct LogQuery {
    status: Option<String>,
    event: Option<String>,
    url: Option<String>,
    before: Option<i64>,
}

fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

async fn log(
    State(state): State<AppState>,
    page: frame::Scoped,
    Query(query): Query<LogQuery>,
) -> Response {
    let filter = DeliveryFilter {
        status: given(&query.status),
        event_type: given(&query.event),
        url_contains: given(&query.url),
        before_id: query.before,
        params_contain: None,
    };
    let deliveries =
        match webhooks::delivery_log(&state.core, &page.principal, &filter, LOG_PAGE).await {
            Ok(deliveries) => deliveries,
            Err(e) => return frame::failure(e),
        };
    let status = filter.status.clone().unwrap_or_default();
    let body = html! {
        form class="filters" method="get" {
            label { "Status "
                select name="status" {
                    @for s in ["", "pending", "delivered", "failed"] {
                        option value=(s) selected[s == status] { @if s.is_empty() { "any" } @else { (s) } }
                    }
                }
            }
            label { "Event " input name="event" value=(filter.event_type.as_deref().unwrap_or("")) placeholder="onUserAdded"; }
            label { "URL contains " input name="url" value=(filter.url_contains.as_deref().unwrap_or("")); }
            button type="submit" { "Filter" }
        }
        (frame::live(html! {
            @if deliveries.is_empty() { (frame::empty("webhook deliveries")) }
            @else {
                table id="deliveries" {
                    thead { tr { th { "#" } th { "Queued" } th { "Event" } th { "Method" } th { "URL" } th { "Status" } th { "Attempts" } } }
                    tbody {
                        @for d in &deliveries {
                            tr data-status=(d.status) {
                                td { a href=(page.link(&format!("webhooks/{}", d.id))) { (d.id) } }
                                td { (frame::when_ms(d.created_at)) }
                                td { (d.event_type) @if let Some(of) = d.replay_of { " (replay of " (of) ")" } }
                                td { (d.method) }
                                td class="url" { (d.url) }
                                td { span class=(format!("status {}", d.status)) { (d.status) } }
                                td { (d.attempts) }
                            }
                        }
                    }
                }
            }
        }))
        @if deliveries.len() as i64 == LOG_PAGE {
            @if let Some(last) = deliveries.last() {
                p { a href=(format!("?status={}&event={}&url={}&before={}",
                    super::session::percent(&status),
                    super::session::percent(filter.event_type.as_deref().unwrap_or("")),
                    super::session::percent(filter.url_contains.as_deref().unwrap_or("")),
                    last.id)) { "Older →" } }
            }
        }
    };
    page.page("webhooks", "Webhook deliveries", body)
}

async fn delivery(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, id)): Path<(String, i64)>,
) -> Response {
    let (delivery, attempts) = match webhooks::delivery(&state.core, &page.principal, id).await {
        Ok(found) => found,
        Err(e) => return frame::failure(e),
    };
    // The status and the attempts are refreshed live (an attempt of a replay arrives after
    // the page); the actions stay outside the refreshed part.
    let body = html! {
        p { a href=(page.link("webhooks")) { "← the delivery log" } }
        (frame::live(html! {
            dl class="facts" {
                dt { "Event" } dd { (delivery.event_type) }
                dt { "Request" } dd { code { (delivery.method) " " (delivery.url) } }
                dt { "Status" } dd { span class=(format!("status {}", delivery.status)) id="delivery-status" { (delivery.status) } }
                dt { "Queued" } dd { (frame::when_ms(delivery.created_at)) }
                @if delivery.status == "pending" { dt { "Next attempt" } dd { (frame::when_ms(delivery.next_attempt_at)) } }
                @if let Some(of) = delivery.replay_of {
                    dt { "Replays" } dd { a href=(page.link(&format!("webhooks/{of}"))) { "#" (of) } }
                }
            }
            h2 { "Attempts" }
            @if attempts.is_empty() { (frame::empty("attempts")) }
            @else {
                table id="attempts" {
                    thead { tr { th { "When" } th { "Status" } th { "Latency" } th { "Error" } th { "Response (first 4 KiB)" } } }
                    tbody {
                        @for a in &attempts {
                            tr {
                                td { (frame::when(a.attempted_at)) }
                                td { (a.status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".to_owned())) }
                                td { (a.latency_ms) " ms" }
                                td { (a.error.as_deref().unwrap_or("")) }
                                td { pre class="response" { (a.response_body.as_deref().unwrap_or("")) } }
                            }
                        }
                    }
                }
            }
        }))
        (frame::action_button(&page.link(&format!("webhooks/{}/replay", delivery.id)), "Replay", "Send this request again to its stored URL?", "replay"))
        h2 { "Parameters" }
        table id="params" {
            thead { tr { th { "Name" } th { "Value" } } }
            tbody { @for (k, v) in &delivery.params { tr { td { code { (k) } } td { (v) } } } }
        }
    };
    page.page("webhooks", &format!("Delivery #{}", delivery.id), body)
}

async fn replay(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, id)): Path<(String, i64)>,
) -> Response {
    match console::replay(&state.core, &page.viewer, &page.account.sid, id).await {
        Ok(new) => Redirect::to(&page.link(&format!("webhooks/{new}"))).into_response(),
        Err(e) => frame::failure(e),
    }
}
