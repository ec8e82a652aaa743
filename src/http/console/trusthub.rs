//! TrustHub: bundles (Customer Profiles and Trust Products) and end users, searched by name,
//! type, status or SID; a bundle's page — its item assignments (end users, supporting
//! documents, profiles, each linked when it has a page), channel endpoint assignments,
//! evaluations (each requirement's result) and status history; an end user's attributes.

use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use maud::html;

use super::frame;
use crate::{
    domain::{
        sid::{BundleSid, EndUserSid},
        trusthub::{
            bundles::{self, Bundle, BundleKind, DRAFT},
            channel_endpoint_assignments, end_users, entity_assignments, evaluations,
        },
        webhooks::{self, DeliveryFilter},
    },
    error::Error,
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/{account}/trusthub" => get(list),
    "/_localtwilio/console/{account}/trusthub/{sid}" => get(item),
}

/// Both kinds of bundle, in the list's order.
const KINDS: [BundleKind; 2] = [BundleKind::CustomerProfile, BundleKind::TrustProduct];
/// How many rows a list or a bundle's part reads.
const LIST_SIZE: u32 = 1000;

async fn list(
    State(state): State<AppState>,
    page: frame::Scoped,
    Query(query): Query<frame::SearchQuery>,
) -> Response {
    let users = match end_users::list(&state.core, &page.principal, frame::first(1000)).await {
        Ok(users) => users.items,
        Err(e) => return frame::failure(e),
    };
    let mut all: Vec<Bundle> = Vec::new();
    for kind in KINDS {
        match bundles::list(
            &state.core,
            &page.principal,
            kind,
            &bundles::ListFilter::default(),
            frame::first(LIST_SIZE),
        )
        .await
        {
            Ok(found) => all.extend(found.items),
            Err(e) => return frame::failure(e),
        }
    }
    all.sort_by_key(|b| std::cmp::Reverse(b.date_created));
    let body = html! {
        (frame::search(&query.q, "Name, type, status or SID"))
        h2 { "Bundles" }
        @if all.is_empty() { (frame::empty("bundles")) }
        @else {
            table id="bundles" {
                thead { tr { th { "Bundle" } th { "Kind" } th { "Status" } th { "Policy" } th { "Created" } } }
                tbody {
                    @for b in all.iter().filter(|b| frame::matches(&query.q, &[&b.friendly_name, b.kind.noun(), &b.status, b.sid.as_str()])) {
                        tr data-status=(b.status) {
                            td { a href=(page.link(&format!("trusthub/{}", b.sid))) { (b.friendly_name) } br; code class="small" { (b.sid) } }
                            td { (b.kind.noun()) }
                            td { span class=(format!("status {}", b.status)) { (b.status) } }
                            td { code class="small" { (b.policy_sid) } }
                            td { (frame::when(b.date_created)) }
                        }
                    }
                }
            }
        }
        h2 { "End users" }
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
    page.page("trusthub", "TrustHub", body)
}

/// `/trusthub/{sid}`: a bundle (`BU…`) or an end user (`IT…`).
async fn item(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, sid)): Path<(String, String)>,
) -> Response {
    if let Some(bundle) = BundleSid::parse(&sid) {
        return bundle_page(&state, &page, &bundle).await;
    }
    let Some(sid) = EndUserSid::parse(&sid) else {
        return frame::failure(Error::NotFound);
    };
    let user = match end_users::fetch(&state.core, &page.principal, &sid).await {
        Ok(user) => user,
        Err(e) => return frame::failure(e),
    };
    let body = html! {
        p { a href=(page.link("trusthub")) { "← TrustHub" } }
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

/// A bundle's page; another account's bundle is the 404 page.
async fn bundle_page(state: &AppState, page: &frame::Scoped, sid: &BundleSid) -> Response {
    match bundle_view(state, page, sid).await {
        Ok(response) => response,
        Err(e) => frame::failure(e),
    }
}

async fn bundle_view(
    state: &AppState,
    page: &frame::Scoped,
    sid: &BundleSid,
) -> Result<Response, Error> {
    let core = &state.core;
    let principal = &page.principal;
    // The SID does not say its kind: a Customer Profile, else a Trust Product.
    let bundle = match bundles::fetch(core, principal, BundleKind::CustomerProfile, sid).await {
        Err(Error::NotFound) => {
            bundles::fetch(core, principal, BundleKind::TrustProduct, sid).await?
        }
        other => other?,
    };
    let kind = bundle.kind;
    let items = entity_assignments::list(core, principal, kind, sid, None, frame::first(LIST_SIZE))
        .await?
        .items;
    let endpoints = channel_endpoint_assignments::list(
        core,
        principal,
        kind,
        sid,
        &[],
        frame::first(LIST_SIZE),
    )
    .await?
    .items;
    let mut evaluations = evaluations::list(core, principal, kind, sid, frame::first(LIST_SIZE))
        .await?
        .items;
    evaluations.sort_by_key(|e| std::cmp::Reverse(e.date_created));
    let callbacks = webhooks::delivery_log(
        core,
        principal,
        &DeliveryFilter {
            params_contain: Some(sid.to_string()),
            ..DeliveryFilter::default()
        },
        i64::from(LIST_SIZE),
    )
    .await?;
    let history = status_history(&bundle, &evaluations, &callbacks);
    let item_link = |object: &str| {
        (object.starts_with("IT") || object.starts_with("BU"))
            .then(|| page.link(&format!("trusthub/{object}")))
    };
    let body = html! {
        p { a href=(page.link("trusthub")) { "← TrustHub" } }
        (frame::live(html! {
            dl class="facts" {
                dt { "SID" } dd { code { (bundle.sid) } }
                dt { "Kind" } dd { (kind.noun()) }
                dt { "Status" } dd { span id="bundle-status" class=(format!("status {}", bundle.status)) { (bundle.status) } }
                dt { "Policy" } dd { code { (bundle.policy_sid) } }
                dt { "Email" } dd { (bundle.email) }
                @if let Some(until) = bundle.valid_until { dt { "Valid until" } dd { (frame::when(until)) } }
                @if let Some(errors) = &bundle.errors { dt { "Errors" } dd class="bad" { code { (errors) } } }
                dt { "Status callback" } dd { (bundle.status_callback.as_deref().unwrap_or("—")) }
                dt { "Created" } dd { (frame::when(bundle.date_created)) }
                dt { "Updated" } dd { (frame::when(bundle.date_updated)) }
            }
            h2 { "Status history" }
            ol class="history" id="history" {
                @for (at, status, source) in &history {
                    li { span class=(format!("status {status}")) { (status) } " " (frame::when(*at)) " " span class="hint" { (source) } }
                }
            }
            h2 { "Item assignments" }
            @if items.is_empty() { (frame::empty("item assignments")) }
            @else {
                table id="items" {
                    thead { tr { th { "Object" } th { "Assignment" } th { "Assigned" } } }
                    tbody {
                        @for a in &items {
                            tr {
                                td { @match item_link(&a.object_sid) {
                                    Some(href) => { a href=(href) { code { (a.object_sid) } } }
                                    None => { code { (a.object_sid) } }
                                } }
                                td { code class="small" { (a.sid) } }
                                td { (frame::when(a.date_created)) }
                            }
                        }
                    }
                }
            }
            @if !endpoints.is_empty() {
                h2 { "Channel endpoint assignments" }
                table id="endpoints" {
                    thead { tr { th { "Endpoint" } th { "Type" } th { "Assignment" } th { "Assigned" } } }
                    tbody {
                        @for e in &endpoints {
                            tr {
                                td { code { (e.channel_endpoint_sid) } }
                                td { (e.channel_endpoint_type) }
                                td { code class="small" { (e.sid) } }
                                td { (frame::when(e.date_created)) }
                            }
                        }
                    }
                }
            }
            h2 { "Evaluations" }
            @if evaluations.is_empty() { (frame::empty("evaluations")) }
            @else {
                @for e in &evaluations {
                    details class="evaluation" open[e.status != "compliant"] {
                        summary {
                            span class=(format!("status {}", e.status)) { (e.status) } " "
                            (frame::when(e.date_created)) " " code class="small" { (e.sid) }
                        }
                        (frame::json_block(&e.results))
                    }
                }
            }
        }))
    };
    Ok(page.page(
        "trusthub",
        &format!("{} · {}", kind.noun(), bundle.friendly_name),
        body,
    ))
}

/// What the record tells of a bundle's statuses, oldest first: `draft` at its creation, each
/// evaluation (a compliant one is a submission: `pending-review`), each status callback queued
/// (the server's transitions, with the `Status` they carried), and the status it has now.
/// Twilio keeps no status history of a bundle; this is the console's reconstruction *(ours)*.
fn status_history(
    bundle: &Bundle,
    evaluations: &[evaluations::Evaluation],
    callbacks: &[webhooks::DeliveryRecord],
) -> Vec<(i64, String, &'static str)> {
    let mut history = vec![(bundle.date_created, DRAFT.to_owned(), "created")];
    for e in evaluations {
        let status = if e.status == "compliant" {
            bundles::PENDING_REVIEW
        } else {
            "evaluated noncompliant"
        };
        history.push((e.date_created, status.to_owned(), "evaluation"));
    }
    for d in callbacks {
        if let Some((_, status)) = d.params.iter().find(|(k, _)| k == "Status") {
            history.push((
                d.created_at.div_euclid(1000),
                status.clone(),
                "status callback",
            ));
        }
    }
    history.sort_by_key(|(at, _, _)| *at);
    if history.last().map(|(_, s, _)| s.as_str()) != Some(bundle.status.as_str()) {
        history.push((bundle.date_updated, bundle.status.clone(), "now"));
    }
    history
}
