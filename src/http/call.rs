//! `ApiCall`: what every Twilio handler starts from — the domain core, the authenticated
//! caller, and the scheme+host for v1/v2 URLs (see `urls`) — taken by one extractor, so a
//! handler's signature names only what is its own (path, form, paging); and the answers
//! handlers share (`Created`, `ApiCall::v1_list`). Imports `extract`, `paging`, `state` and
//! `urls`; only resource files import it.

use axum::{Json, extract::FromRequestParts, http::StatusCode, http::request::Parts};
use serde::de::DeserializeOwned;

use super::{
    extract::{Authed, TwilioPath},
    paging::{V1Page, v1_list},
    state::AppState,
    urls::base_url,
};
use crate::{
    domain::{Core, auth::Principal, paging::Page},
    error::{Error, Result},
};

/// What a create answers: 201 and the new resource.
pub type Created<T> = (StatusCode, Json<T>);

/// A create's answer for `resource`.
pub fn created<T>(resource: T) -> Result<Created<T>> {
    Ok((StatusCode::CREATED, Json(resource)))
}

/// A Twilio request as its handler sees it. `P` is the route's typed path parameters (a SID, a
/// tuple, or a struct naming them; a malformed one is 404 20404, see `TwilioPath`); a route
/// without any takes plain `ApiCall`.
pub struct ApiCall<P = ()> {
    pub core: Core,
    pub principal: Principal,
    /// Where v1/v2 `url`, `links` and paging URLs point; 2010 resources use relative URIs.
    pub base: String,
    pub path: P,
}

impl<P: DeserializeOwned + Send> FromRequestParts<AppState> for ApiCall<P> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let Authed(principal) = Authed::from_request_parts(parts, state).await?;
        let TwilioPath(path) = TwilioPath::from_request_parts(parts, state).await?;
        Ok(ApiCall {
            core: state.core.clone(),
            principal,
            base: base_url(state.public_url.as_deref(), parts),
            path,
        })
    }
}

impl<P> ApiCall<P> {
    /// The v1/v2 list at `path` (the list's own path, after the base) of `page`'s items, each
    /// turned into its wire struct by `wire` from the item and this call's base URL.
    pub fn v1_list<T, W>(
        &self,
        key: &'static str,
        path: &str,
        page: Page<T>,
        wire: impl Fn(T, &str) -> W,
    ) -> Result<Json<V1Page<W>>> {
        let page = page.map(|item| wire(item, &self.base));
        Ok(Json(v1_list(key, page, &self.base, path)))
    }
}
