//! The two list shapes (API.md §1.7):
//! - v1/v2: `{"<key>": [...], "meta": {page, page_size, first_page_url, previous_page_url, url,
//!   next_page_url, key}}` with absolute URLs;
//! - 2010: flat `{"<key>": [...], end, first_page_uri, next_page_uri, page, page_size,
//!   previous_page_uri, start, uri}` with relative URIs, and no other top-level key (the SDKs find
//!   the items as the only non-paging key).
//!
//! Links repeat the list's filters, then `PageSize`, `Page` and (after the first page) the token.

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize, ser::SerializeMap};

use super::extract::TwilioQuery;
use crate::{
    domain::paging::{Page, PageRequest},
    error::{Error, Result},
};

/// The paging query parameters every list takes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PagingParams {
    page_size: Option<String>,
    page: Option<String>,
    page_token: Option<String>,
}

impl PagingParams {
    /// Validates against the endpoint's spec maximum.
    pub fn request(&self, max: u32) -> Result<PageRequest> {
        PageRequest::parse(
            self.page_size.as_deref(),
            self.page.as_deref(),
            self.page_token.as_deref(),
            max,
        )
    }
}

/// The spec's `PageSize` maximum for every list served but Conversations' (Roles, Users and
/// User Conversations: 50; Services: 100).
pub const SPEC_MAX_PAGE_SIZE: u32 = 1000;

/// A list's paging parameters, checked against the endpoint's spec maximum `MAX` as they are
/// extracted. A handler that must check something else first (the caller's credential, the
/// parent resource) takes `PagingParams` and calls `request` itself.
pub struct Paging<const MAX: u32 = SPEC_MAX_PAGE_SIZE>(pub PageRequest);

impl<S: Send + Sync, const MAX: u32> FromRequestParts<S> for Paging<MAX> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let TwilioQuery(params) =
            TwilioQuery::<PagingParams>::from_request_parts(parts, state).await?;
        params.request(MAX).map(Paging)
    }
}

/// Bytes reserved per item of a page before it is serialized (a Conversations user is ~600,
/// a 2010 message ~1,100): the body is written into one buffer instead of one that starts at
/// 128 bytes and is copied each time it doubles, as `axum::Json`'s is (~8 copies for a
/// 50-item page).
const BYTES_PER_ITEM: usize = 768;

/// `page` as a JSON response, serialized into a buffer sized for its `items`. A page that
/// cannot be serialized (never: every wire struct is plain data) is an internal error.
fn page_response<P: Serialize>(page: &P, items: usize) -> Response {
    let mut body = Vec::with_capacity(512 + items.saturating_mul(BYTES_PER_ITEM));
    match serde_json::to_writer(&mut body, page) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => Error::Internal(e.into()).into_response(),
    }
}

impl<T: Serialize> IntoResponse for V1Page<T> {
    fn into_response(self) -> Response {
        page_response(&self, self.items.len())
    }
}

impl<T: Serialize> IntoResponse for V2010Page<T> {
    fn into_response(self) -> Response {
        page_response(&self, self.items.len())
    }
}

/// Builds `path?filters&PageSize=n&Page=p[&PageToken=t]`.
fn link(path: &str, filters: &[(&str, &str)], size: u32, page: u32, token: Option<&str>) -> String {
    let mut pairs: Vec<(&str, String)> =
        filters.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    pairs.push(("PageSize", size.to_string()));
    pairs.push(("Page", page.to_string()));
    if let Some(token) = token {
        pairs.push(("PageToken", token.to_owned()));
    }
    let query = serde_html_form::to_string(&pairs).unwrap_or_default();
    format!("{path}?{query}")
}

struct Links {
    first: String,
    this: String,
    next: Option<String>,
    previous: Option<String>,
}

fn links<T>(page: &Page<T>, path: &str, filters: &[(&str, &str)]) -> Links {
    let r = &page.request;
    Links {
        first: link(path, filters, r.size, 0, None),
        this: link(path, filters, r.size, r.page, r.token.as_deref()),
        next: page
            .next_token
            .as_deref()
            .map(|t| link(path, filters, r.size, r.page.saturating_add(1), Some(t))),
        previous: page
            .previous_token
            .as_deref()
            .map(|t| link(path, filters, r.size, r.page.saturating_sub(1), Some(t))),
    }
}

/// A v1/v2 list page (`{"<key>": [...], "meta": {...}}`), typed: items are the resource's wire
/// struct. Keys come out in sorted order, exactly as the `serde_json::Value` pages this replaced
/// printed them (serde_json's map is sorted without `preserve_order`), so the bytes are unchanged.
pub struct V1Page<T> {
    key: &'static str,
    items: Vec<T>,
    meta: V1Meta,
}

/// `meta` of a v1/v2 page; fields in sorted order (see `V1Page`).
#[derive(Serialize)]
struct V1Meta {
    first_page_url: String,
    key: &'static str,
    next_page_url: Option<String>,
    page: u32,
    page_size: u32,
    previous_page_url: Option<String>,
    url: String,
}

impl<T: Serialize> Serialize for V1Page<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        if self.key < "meta" {
            map.serialize_entry(self.key, &self.items)?;
            map.serialize_entry("meta", &self.meta)?;
        } else {
            map.serialize_entry("meta", &self.meta)?;
            map.serialize_entry(self.key, &self.items)?;
        }
        map.end()
    }
}

/// A v1/v2 list of `page`'s items (already wire structs: see `Page::map`). `base` is the
/// scheme+host (see `urls`), `path` the list's path; no v1/v2 list takes filters.
pub fn v1_list<T>(key: &'static str, page: Page<T>, base: &str, path: &str) -> V1Page<T> {
    v1_filtered_list(key, page, base, path, &[])
}

/// [`v1_list`] of a filtered list: the filters (name, value) are kept in every page URL, as
/// Twilio's `meta` URLs keep them.
pub fn v1_filtered_list<T>(
    key: &'static str,
    mut page: Page<T>,
    base: &str,
    path: &str,
    filters: &[(&str, &str)],
) -> V1Page<T> {
    let items = std::mem::take(&mut page.items);
    let l = links(&page, &format!("{base}{path}"), filters);
    V1Page {
        key,
        items,
        meta: V1Meta {
            first_page_url: l.first,
            key,
            next_page_url: l.next,
            page: page.request.page,
            page_size: page.request.size,
            previous_page_url: l.previous,
            url: l.this,
        },
    }
}

/// A 2010 list page: flat paging keys plus the item key, in sorted order (see `V1Page`).
pub struct V2010Page<T> {
    key: &'static str,
    items: Vec<T>,
    end: u64,
    first_page_uri: String,
    next_page_uri: Option<String>,
    page: u32,
    page_size: u32,
    previous_page_uri: Option<String>,
    start: u64,
    uri: String,
}

impl<T: Serialize> Serialize for V2010Page<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(9))?;
        let mut items = Some(&self.items);
        // The fixed keys in sorted order; the item key goes in its sorted place among them.
        macro_rules! entry {
            ($name:literal, $value:expr) => {
                if let Some(pending) = items.filter(|_| self.key < $name) {
                    map.serialize_entry(self.key, pending)?;
                    items = None;
                }
                map.serialize_entry($name, $value)?;
            };
        }
        entry!("end", &self.end);
        entry!("first_page_uri", &self.first_page_uri);
        entry!("next_page_uri", &self.next_page_uri);
        entry!("page", &self.page);
        entry!("page_size", &self.page_size);
        entry!("previous_page_uri", &self.previous_page_uri);
        entry!("start", &self.start);
        entry!("uri", &self.uri);
        if let Some(pending) = items {
            map.serialize_entry(self.key, pending)?;
        }
        map.end()
    }
}

/// A 2010 list of `page`'s items (already wire structs: see `Page::map`); `path` ends in `.json`.
pub fn v2010_list<T>(
    key: &'static str,
    mut page: Page<T>,
    path: &str,
    filters: &[(&str, &str)],
) -> V2010Page<T> {
    let items = std::mem::take(&mut page.items);
    let l = links(&page, path, filters);
    let start = u64::from(page.request.page) * u64::from(page.request.size);
    // The spec's examples show `end: 0` for an empty first page.
    let end = start + (items.len() as u64).saturating_sub(1);
    V2010Page {
        key,
        items,
        end,
        first_page_uri: l.first,
        next_page_uri: l.next,
        page: page.request.page,
        page_size: page.request.size,
        previous_page_uri: l.previous,
        start,
        uri: l.this,
    }
}
