//! `ApiCall`: what every Twilio handler starts from — the domain core, the authenticated
//! caller, the scheme+host for v1/v2 URLs (see `urls`), the typed path and, for a write, its
//! form — taken by one extractor, so a handler's signature names only what is its own (path,
//! form, paging); and the answers handlers share (`Created`, `Listed`, `ApiCall::v1_list`).
//! Imports `extract`, `paging`, `state` and `urls`; only resource files import it.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Request},
    http::StatusCode,
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use super::{
    extract::{Authed, TwilioForm, TwilioPath},
    paging::{V1Page, v1_filtered_list},
    state::AppState,
    urls::base_url,
};
use crate::{
    domain::{Core, auth::Principal, paging::Page},
    error::{Error, Result},
};

/// What a create answers: 201 and the new resource.
pub type Created<T> = (StatusCode, Json<T>);

/// What a v1/v2 list answers: a page of wire structs (see `ApiCall::v1_list`).
pub type Listed<T> = V1Page<T>;

/// A create's answer for `resource`.
pub fn created<T>(resource: T) -> Result<Created<T>> {
    Ok((StatusCode::CREATED, Json(resource)))
}

/// The form of a call that takes none: reads and deletes.
pub struct NoForm;

/// A Twilio request as its handler sees it. `P` is the route's typed path parameters (a SID, a
/// tuple, or a struct naming them; a malformed one is 404 20404, see `TwilioPath`); a route
/// without any takes plain `ApiCall`. `F` is a write's form (see `TwilioForm`), read after the
/// path so an unknown resource is 404 before its body is judged; reads take none.
pub struct ApiCall<P = (), F = NoForm> {
    pub core: Core,
    pub principal: Principal,
    /// Where v1/v2 `url`, `links` and paging URLs point; 2010 resources use relative URIs.
    pub base: String,
    pub path: P,
    pub form: F,
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
            form: NoForm,
        })
    }
}

/// A write: the call as above, then its form from the body. `NoForm` is not a form, so a read's
/// `ApiCall` is only ever taken from the request's parts.
impl<P: DeserializeOwned + Send, F: DeserializeOwned> FromRequest<AppState> for ApiCall<P, F> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &AppState) -> Result<Self> {
        let (mut parts, body) = request.into_parts();
        let call = ApiCall::<P>::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let TwilioForm(form) = TwilioForm::from_request(request, state).await?;
        Ok(call.swap_form(form).0)
    }
}

impl<P, F> ApiCall<P, F> {
    /// The call without its form, and the form: for a handler that turns the form into a
    /// domain input and reads the call (its scope, its URLs) afterwards.
    pub fn split_form(self) -> (ApiCall<P>, F) {
        self.swap_form(NoForm)
    }

    /// This call with `form` in place of its own, and its own.
    fn swap_form<G>(self, form: G) -> (ApiCall<P, G>, F) {
        let ApiCall {
            core,
            principal,
            base,
            path,
            form: own,
        } = self;
        let call = ApiCall {
            core,
            principal,
            base,
            path,
            form,
        };
        (call, own)
    }

    /// The v1/v2 list at `path` (the list's own path, after the base) of `page`'s items, each
    /// turned into its wire struct by `wire` from the item and this call's base URL.
    pub fn v1_list<T, W>(
        &self,
        key: &'static str,
        path: &str,
        page: Page<T>,
        wire: impl Fn(T, &str) -> W,
    ) -> Result<Listed<W>> {
        self.v1_filtered_list(key, path, &[], page, wire)
    }

    /// [`ApiCall::v1_list`] of a filtered list: `filters` (name, value) stay in the page URLs.
    pub fn v1_filtered_list<T, W>(
        &self,
        key: &'static str,
        path: &str,
        filters: &[(&str, &str)],
        page: Page<T>,
        wire: impl Fn(T, &str) -> W,
    ) -> Result<Listed<W>> {
        let page = page.map(|item| wire(item, &self.base));
        Ok(v1_filtered_list(key, page, &self.base, path, filters))
    }
}
