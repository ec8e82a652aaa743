//! The two list shapes (API.md §1.7):
//! - v1/v2: `{"<key>": [...], "meta": {page, page_size, first_page_url, previous_page_url, url,
//!   next_page_url, key}}` with absolute URLs;
//! - 2010: flat `{"<key>": [...], end, first_page_uri, next_page_uri, page, page_size,
//!   previous_page_uri, start, uri}` with relative URIs, and no other top-level key (the SDKs find
//!   the items as the only non-paging key).
//!
//! Links repeat the list's filters, then `PageSize`, `Page` and (after the first page) the token.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{
    domain::paging::{Page, PageRequest},
    error::Result,
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

/// A v1/v2 list. `base` is the scheme+host (see `urls`), `path` the list's path.
pub fn v1_page(
    key: &str,
    items: Vec<Value>,
    page: &Page<impl Sized>,
    base: &str,
    path: &str,
    filters: &[(&str, &str)],
) -> Value {
    let l = links(page, &format!("{base}{path}"), filters);
    json!({
        key: items,
        "meta": {
            "page": page.request.page,
            "page_size": page.request.size,
            "first_page_url": l.first,
            "previous_page_url": l.previous,
            "url": l.this,
            "next_page_url": l.next,
            "key": key,
        }
    })
}

/// A 2010 list; `path` ends in `.json`.
pub fn v2010_page(
    key: &str,
    items: Vec<Value>,
    page: &Page<impl Sized>,
    path: &str,
    filters: &[(&str, &str)],
) -> Value {
    let l = links(page, path, filters);
    let start = u64::from(page.request.page) * u64::from(page.request.size);
    // The spec's examples show `end: 0` for an empty first page.
    let end = start + (items.len() as u64).saturating_sub(1);
    let mut body = Map::new();
    body.insert(key.to_owned(), Value::Array(items));
    body.insert("end".into(), json!(end));
    body.insert("first_page_uri".into(), json!(l.first));
    body.insert("next_page_uri".into(), json!(l.next));
    body.insert("page".into(), json!(page.request.page));
    body.insert("page_size".into(), json!(page.request.size));
    body.insert("previous_page_uri".into(), json!(l.previous));
    body.insert("start".into(), json!(start));
    body.insert("uri".into(), json!(l.this));
    Value::Object(body)
}
