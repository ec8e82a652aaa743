//! `ApiCall`: what every Twilio handler starts from — the domain core, the authenticated
//! caller, and the scheme+host for v1/v2 URLs (see `urls`) — taken by one extractor, so a
//! handler's signature names only what is its own (path, form, paging). Imports `extract`,
//! `state` and `urls`; only resource files import it.

use axum::{extract::FromRequestParts, http::request::Parts};

use super::{extract::Authed, state::AppState, urls::base_url};
use crate::{
    domain::{Core, auth::Principal},
    error::Error,
};

pub struct ApiCall {
    pub core: Core,
    pub principal: Principal,
    /// Where v1/v2 `url`, `links` and paging URLs point; 2010 resources use relative URIs.
    pub base: String,
}

impl FromRequestParts<AppState> for ApiCall {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let Authed(principal) = Authed::from_request_parts(parts, state).await?;
        Ok(ApiCall {
            core: state.core.clone(),
            principal,
            base: base_url(state.public_url.as_deref(), parts),
        })
    }
}
