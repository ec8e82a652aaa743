//! How resource files declare their routes: `routes!` writes a file's `routes()` from its
//! path → methods table, so each file's Twilio paths read as a list beside their handlers;
//! `merged` joins a product's files. Imports only `state`.

use axum::Router;

use super::state::AppState;

/// `routes! { "/v2/Flows" => get(list_flows).post(create_flow), … }` defines
/// `pub(super) fn routes() -> Router<AppState>` serving each path with its methods.
///
/// `routes! { both families: "/Roles" => …, "/Roles/{Sid}" => … }` serves each tail on both
/// Conversations path families (see `http::conversations::extract::on_both_families`).
macro_rules! routes {
    (both families: $($tail:literal => $methods:expr),+ $(,)?) => {
        pub(super) fn routes() -> ::axum::Router<$crate::http::state::AppState> {
            $crate::http::conversations::extract::on_both_families(vec![$(($tail, $methods)),+])
        }
    };
    ($($path:literal => $methods:expr),+ $(,)?) => {
        pub(super) fn routes() -> ::axum::Router<$crate::http::state::AppState> {
            ::axum::Router::new()$(.route($path, $methods))+
        }
    };
}
pub(crate) use routes;

/// One router serving every route of `parts`.
pub fn merged(parts: impl IntoIterator<Item = Router<AppState>>) -> Router<AppState> {
    parts.into_iter().fold(Router::new(), Router::merge)
}
