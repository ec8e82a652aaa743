//! The console's stylesheet and script, compiled into the binary and served with a long cache
//! lifetime under a URL that names their content's hash (a new build's files get new URLs).

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};

use crate::http::routing::routes;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

routes! {
    "/_localtwilio/console/assets/{name}" => get(asset),
}

fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..6])
}

static CSS_NAME: LazyLock<String> = LazyLock::new(|| format!("console-{}.css", short_hash(CSS)));
static JS_NAME: LazyLock<String> = LazyLock::new(|| format!("console-{}.js", short_hash(JS)));

/// The stylesheet's URL.
pub fn css_url() -> String {
    format!("{}/assets/{}", super::BASE, *CSS_NAME)
}

/// The script's URL.
pub fn js_url() -> String {
    format!("{}/assets/{}", super::BASE, *JS_NAME)
}

async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = if name == *CSS_NAME {
        (CSS, "text/css; charset=utf-8")
    } else if name == *JS_NAME {
        (JS, "text/javascript; charset=utf-8")
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}
