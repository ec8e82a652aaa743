//! Extractors. Each rejection is a `crate::Error`, so clients only ever see Twilio errors.
//!
//! - `Authed`: the caller, put in the request by `http::auth::authenticate`.
//! - `TwilioForm<T>`: a form body decoded with `serde_html_form`, which (unlike axum's `Form`
//!   and `serde_urlencoded`) fills `Vec` fields from repeated keys (`TestUsers=a&TestUsers=b`).
//! - `TwilioQuery<T>`: the same for the query string.
//! - `TwilioPath<T>`: typed path parameters (SIDs, `JsonSuffixed` 2010 segments); any failure
//!   is 404 20404.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::{domain::auth::Principal, error::Error};

/// The body size limit and read timeout in force, put in each request by the router.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize, pub std::time::Duration);

pub struct Authed(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = Error;

    /// Takes the principal out of the request rather than copying it: each handler reads the
    /// caller once (directly or through `ApiCall`), and the request log has already recorded
    /// the account SID by then.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        parts
            .extensions
            .remove::<Principal>()
            .map(Authed)
            .ok_or(Error::Unauthenticated)
    }
}

pub struct TwilioForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for TwilioForm<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("").to_owned());
        let (limit, timeout) = request
            .extensions()
            .get::<BodyLimit>()
            .map_or((usize::MAX, std::time::Duration::from_secs(30)), |l| {
                (l.0, l.1)
            });
        let read = tokio::time::timeout(timeout, Bytes::from_request(request, state))
            .await
            .map_err(|_| Error::RequestTimeout)?;
        let body = read.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge { limit }
            } else {
                Error::invalid("The request body could not be read")
            }
        })?;
        let is_form = content_type.as_deref().is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
        // An empty body needs no type (`curl -X POST`); anything else must be a form, as every
        // write in the spec takes only application/x-www-form-urlencoded.
        if !body.is_empty() && !is_form {
            return Err(Error::invalid(
                "Invalid request: the body must be application/x-www-form-urlencoded",
            ));
        }
        decode(&body).map(TwilioForm)
    }
}

pub struct TwilioQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for TwilioQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        decode(parts.uri.query().unwrap_or("").as_bytes()).map(TwilioQuery)
    }
}

/// Decodes `application/x-www-form-urlencoded` bytes strictly: a `%` not followed by two hex
/// digits, invalid UTF-8 after decoding, or a NUL is refused (form_urlencoded would quietly
/// substitute or pass them), as is a scalar parameter given twice *(ours)*. Unknown parameters
/// are ignored, as Twilio appears to do (API.md §1.3).
pub fn decode<T: DeserializeOwned>(raw: &[u8]) -> Result<T, Error> {
    check_encoding(raw)?;
    serde_html_form::from_bytes(raw).map_err(|e| {
        let detail = e.to_string();
        if detail.contains("unsupported value") {
            Error::invalid("Invalid parameter: a single-valued parameter was given more than once")
        } else {
            Error::invalid(format!("Invalid parameters: {detail}"))
        }
    })
}

fn check_encoding(raw: &[u8]) -> Result<(), Error> {
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' => {
                let hex = raw
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| Error::invalid("Invalid percent-encoding in the request"))?;
                decoded.push(byte);
                i += 3;
            }
            b => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    if decoded.contains(&0) {
        return Err(Error::invalid(
            "Invalid parameter: NUL bytes are not allowed",
        ));
    }
    if std::str::from_utf8(&decoded).is_err() {
        return Err(Error::invalid("Invalid parameter: values must be UTF-8"));
    }
    Ok(())
}

/// Typed path parameters: `TwilioPath<FlowSid>`, `TwilioPath<(ServiceSid, UserKey)>` or a
/// struct naming the route's parameters. SID types deserialize through their spec pattern and
/// 2010 segments through `JsonSuffixed`, so a malformed SID, a missing `.json` or a segment
/// that does not percent-decode is 404 20404 here, in one place: no resource can exist there.
pub struct TwilioPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for TwilioPath<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| TwilioPath(value))
            .map_err(|_| Error::NotFound)
    }
}

pub use crate::domain::required;

/// A `true`/`false` parameter or header (the spec's boolean enum); absent is `None`, anything
/// else 400 20001 naming `what` (`"parameter ReachabilityEnabled"`).
pub fn true_or_false(value: Option<&str>, what: &str) -> Result<Option<bool>, Error> {
    match value {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(Error::invalid(format!(
            "Invalid {what}: must be true or false"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct Form {
        #[serde(default)]
        test_users: Vec<String>,
        friendly_name: Option<String>,
    }

    #[test]
    fn repeated_keys_fill_a_vec_and_plus_and_utf8_decode() {
        let form: Form =
            decode(b"TestUsers=a+b&TestUsers=%2B1415&TestUsers=%F0%9F%98%80&FriendlyName=x%25y")
                .unwrap();
        assert_eq!(form.test_users, vec!["a b", "+1415", "\u{1F600}"]);
        assert_eq!(form.friendly_name.as_deref(), Some("x%y"));
    }

    #[test]
    fn bad_encodings_and_repeated_scalars_are_20001() {
        for raw in [
            &b"FriendlyName=%zz"[..],
            b"FriendlyName=%F0%9F",
            b"FriendlyName=a%00b",
            b"FriendlyName=a&FriendlyName=b",
            b"FriendlyName=%4",
        ] {
            let err = decode::<Form>(raw).unwrap_err();
            assert_eq!(err.code(), 20001, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        let form: Form = decode(b"Nope=1&FriendlyName=ok").unwrap();
        assert_eq!(form.friendly_name.as_deref(), Some("ok"));
    }
}
