//! The scheme+host put in v1/v2 `url`, `links` and paging URLs: `LOCALTWILIO_PUBLIC_URL` when set,
//! else the request's own `Host` over http, so `curl` users can follow `next_page_url` *(ours,
//! DESIGN.md "Routing and URLs")*. 2010 resources use relative URIs and need none of this.
//! Also `links`: a resource's subresource URLs, for every product.

use std::collections::BTreeMap;

use axum::http::{header, request::Parts};

/// A resource's `links` (2010: `subresource_uris`), by key. A sorted map prints its keys in the
/// order serde_json prints a `Value` object's, so the bytes are those of the bodies it replaced.
pub type Links = BTreeMap<&'static str, String>;

/// `{url}/{segment}` for each `(key, segment)` of `subresources`.
pub fn links(url: &str, subresources: &[(&'static str, &str)]) -> Links {
    subresources
        .iter()
        .map(|(key, segment)| {
            // Concatenated rather than `format!`ed: one per item of every list page.
            let mut link = String::with_capacity(url.len() + 1 + segment.len());
            link.push_str(url);
            link.push('/');
            link.push_str(segment);
            (*key, link)
        })
        .collect()
}

/// The base for a request: `public_url` when configured, else `http://` + its `Host`.
pub fn base_url(public_url: Option<&str>, parts: &Parts) -> String {
    if let Some(url) = public_url {
        return url.to_owned();
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    format!("http://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(host: Option<&str>) -> Parts {
        let mut builder = Request::builder().uri("/v2/Flows");
        if let Some(host) = host {
            builder = builder.header("host", host);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn public_url_wins_over_the_request_host() {
        assert_eq!(
            base_url(Some("https://tw.example"), &parts(Some("127.0.0.1:1"))),
            "https://tw.example"
        );
        assert_eq!(
            base_url(None, &parts(Some("127.0.0.1:8080"))),
            "http://127.0.0.1:8080"
        );
        assert_eq!(base_url(None, &parts(Some("bad host"))), "http://localhost");
        assert_eq!(base_url(None, &parts(None)), "http://localhost");
    }
}
