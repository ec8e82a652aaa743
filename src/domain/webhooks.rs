//! Webhooks, product-neutral (facts: ../shared/reference/webhook-signature.md): events as
//! declarations, the deliveries an event queues, the URL a delivery requests and the signature
//! it carries. Which targets an event reaches is the product's business (for Conversations:
//! `conversations::events`); sending is `crate::delivery`'s.
//!
//! A post-event is an `Event` (a resource and an action); a product declares each one it fires
//! as a `Declaration` naming its parameters, so a new event (onParticipantAdded,
//! onMessageAdded …) is a declaration, not a new code path.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use super::{Core, auth::Principal, sid::AccountSid, time};
pub use crate::store::webhooks::DeliveryFilter;
use crate::{
    error::{Error, Result},
    store::webhooks::{AttemptRow, DeliveryLogRow, NewDelivery},
};

/// What happened to the resource (the suffix of Twilio's post-event names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Added,
    Updated,
    Removed,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "Added",
            Self::Updated => "Updated",
            Self::Removed => "Removed",
        }
    }
}

/// A post-event: what happened to which resource (`User`, `Participant`, `Message`,
/// `Conversation` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub resource: &'static str,
    pub action: Action,
}

impl Event {
    /// `on` + resource + action (onUserAdded, onMessageUpdated …): the `EventType` sent, and the
    /// `Filters` value that subscribes to it.
    pub fn name(self) -> String {
        format!("on{}{}", self.resource, self.action.as_str())
    }
}

/// What an event is about: it belongs to an account (its `AccountSid`, and whose auth token
/// signs the request).
pub trait Subject {
    fn account_sid(&self) -> &AccountSid;

    /// The common `Source` parameter: `API` for a REST request; Conversations messages that
    /// came in over SMS say `SMS`.
    fn source(&self) -> &'static str {
        "API"
    }
}

/// One parameter of an event: its name and how it is read off the subject; `None` leaves it
/// out *(ours: Twilio sends no value for a null field)*.
pub type Param<T> = (&'static str, fn(&T) -> Option<String>);

/// An event a product fires, with its own parameters in Twilio's documented order (after the
/// common `AccountSid`, `EventType`, `Source`), given as groups sent one after the other, so
/// events of one resource share the groups they have in common (`onUserUpdated` is
/// `onUserAdded`'s with `DateUpdated` between them).
pub struct Declaration<T: 'static> {
    pub event: Event,
    pub params: &'static [&'static [Param<T>]],
}

impl<T: Subject> Declaration<T> {
    /// The parameters sent: the common ones, then the event's own that have a value.
    pub fn params(&self, subject: &T) -> Vec<(String, String)> {
        let common = [
            ("AccountSid", subject.account_sid().to_string()),
            ("EventType", self.event.name()),
            ("Source", subject.source().to_owned()),
        ];
        common
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .chain(
                self.params
                    .iter()
                    .copied()
                    .flatten()
                    .filter_map(|(k, read)| read(subject).map(|v| ((*k).to_owned(), v))),
            )
            .collect()
    }

    /// One queued delivery per target.
    pub fn deliveries(&self, targets: &Targets, subject: &T) -> Result<Vec<NewDelivery>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let params = serde_json::to_string(&self.params(subject)).map_err(Error::internal)?;
        Ok(targets
            .0
            .iter()
            .map(|target| NewDelivery {
                account_sid: subject.account_sid().to_string(),
                event_type: self.event.name(),
                url: target.url.clone(),
                method: target.method.clone(),
                params: params.clone(),
            })
            .collect())
    }
}

/// A status callback: one form POST to the URL the resource names, with the parameters given
/// (callbacks carry their own, not an event's `EventType`/`Source`), signed with the owner's
/// auth token and sent by the delivery worker like any webhook. `kind` is what the attempt log
/// shows as its event.
pub fn status_callback(
    account_sid: &AccountSid,
    kind: &str,
    url: &str,
    params: &[(String, String)],
) -> Result<NewDelivery> {
    Ok(NewDelivery {
        account_sid: account_sid.to_string(),
        event_type: kind.to_owned(),
        url: url.to_owned(),
        method: "POST".to_owned(),
        params: serde_json::to_string(params).map_err(Error::internal)?,
    })
}

/// A post-event URL and its method (`GET`/`POST`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: String,
    pub method: String,
}

/// Where an event goes. Loaded before the write; the write's transaction then queues one
/// delivery per target.
#[derive(Debug, Clone, Default)]
pub struct Targets(pub Vec<Target>);

impl Targets {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// After commit: tell the delivery worker there is work.
    pub fn wake(&self, core: &Core) {
        if !self.is_empty() {
            core.webhook_wake.notify_one();
        }
    }
}

/// The URL a delivery requests, which is exactly the URL it signs (issue 15 F11): the stored
/// target parsed as the HTTP client sends it (lower-case scheme and host, no default port, no
/// fragment — a fragment never leaves the client), with a GET's parameters appended to its
/// query. `None` when the stored URL does not parse.
pub fn request_url(target: &str, query: Option<&str>) -> Option<reqwest::Url> {
    let mut url = reqwest::Url::parse(target).ok()?;
    url.set_fragment(None);
    if let Some(extra) = query.filter(|q| !q.is_empty()) {
        let joined = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{extra}"),
            _ => extra.to_owned(),
        };
        url.set_query(Some(&joined));
    }
    Some(url)
}

/// `raw` normalised (lower-case scheme and host, no default port, `/` for an empty path) when
/// it is an absolute http(s) URL: `http:` or `https:` in any case (RFC 3986 §3.1: schemes are
/// case-insensitive), `//`, a non-empty host, and no whitespace, control character or `\`
/// anywhere (RFC 3986 §2 has no place for them). The WHATWG parser alone is not enough: it
/// silently drops tabs and line breaks, reads `\` as `/` and `http:host` or `http:///host` as
/// `http://host/`, so what was checked would not be what is requested and signed.
pub(crate) fn absolute_http_url(raw: &str) -> Option<String> {
    if raw
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let (scheme, rest) = raw.split_once(':')?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let authority = rest.strip_prefix("//")?;
    if authority.is_empty() || authority.starts_with('/') {
        return None;
    }
    let url = reqwest::Url::parse(raw).ok()?;
    url.host_str().filter(|host| !host.is_empty())?;
    Some(url.into())
}

/// `X-Twilio-Signature`: HMAC-SHA1 keyed with the auth token over the URL followed by each
/// parameter name and value, names sorted, each name's values sorted and de-duplicated, then
/// base64 (twilio-python `RequestValidator.compute_signature`, twilio-node `getExpectedTwilioSignature`).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut data = url.to_owned();
    for name in names {
        let mut values: Vec<&str> = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        values.sort_unstable();
        values.dedup();
        for value in values {
            data.push_str(name);
            data.push_str(value);
        }
    }
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// *(ours)*: no documented limit; long enough for any real endpoint.
const MAX_URL_CHARS: usize = 2048;

/// An absolute http(s) URL, in the normalised form it is stored, requested and signed in
/// (issue 15 F11); an empty value clears the URL *(ours)*.
pub(crate) fn check_url(
    value: Option<String>,
    name: &str,
    current: Option<String>,
) -> Result<Option<String>> {
    match value {
        None => Ok(current),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.len() > MAX_URL_CHARS => Err(Error::invalid(format!(
            "Invalid parameter {name}: must be at most {MAX_URL_CHARS} characters"
        ))),
        Some(v) => absolute_http_url(&v).map(Some).ok_or_else(|| {
            Error::invalid(format!(
                "Invalid parameter {name}: must be an absolute http or https URL"
            ))
        }),
    }
}

/// One delivery attempt, as operators read it (`/_localtwilio/WebhookAttempts`).
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub id: i64,
    pub delivery_id: i64,
    /// Seconds since the epoch.
    pub attempted_at: i64,
    pub url: String,
    pub event_type: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    /// The start of the receiver's answer (at most 4 KiB).
    pub response_body: Option<String>,
}

impl From<AttemptRow> for AttemptRecord {
    fn from(row: AttemptRow) -> Self {
        Self {
            id: row.id,
            delivery_id: row.delivery_id,
            attempted_at: row.attempted_at / 1000,
            url: row.url,
            event_type: row.event_type,
            status_code: row.status_code,
            latency_ms: row.latency_ms,
            error: row.error,
            response_body: row.response_body,
        }
    }
}

/// The calling account's `limit` most recent delivery attempts, newest first.
pub async fn recent_attempts(
    core: &Core,
    principal: &Principal,
    limit: i64,
) -> Result<Vec<AttemptRecord>> {
    let rows = core
        .store
        .recent_attempts(principal.account_sid.as_str(), limit)
        .await?;
    Ok(rows.into_iter().map(AttemptRecord::from).collect())
}

/// One queued or finished delivery, as the console's log shows it.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub id: i64,
    pub event_type: String,
    pub url: String,
    pub method: String,
    /// The parameters sent, in order.
    pub params: Vec<(String, String)>,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// Unix ms.
    pub next_attempt_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// The delivery this one replays.
    pub replay_of: Option<i64>,
}

impl TryFrom<DeliveryLogRow> for DeliveryRecord {
    type Error = Error;
    fn try_from(row: DeliveryLogRow) -> Result<Self> {
        Ok(Self {
            params: serde_json::from_str(&row.params).map_err(Error::internal)?,
            id: row.id,
            event_type: row.event_type,
            url: row.url,
            method: row.method,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            created_at: row.created_at,
            replay_of: row.replay_of,
        })
    }
}

/// The account's deliveries that pass `filter`, newest first, at most `limit`.
pub async fn delivery_log(
    core: &Core,
    principal: &Principal,
    filter: &DeliveryFilter,
    limit: i64,
) -> Result<Vec<DeliveryRecord>> {
    let rows = core
        .store
        .delivery_log(principal.account_sid.as_str(), filter, limit)
        .await?;
    rows.into_iter().map(DeliveryRecord::try_from).collect()
}

/// One of the account's deliveries with its attempts (oldest first); another account's is 404.
pub async fn delivery(
    core: &Core,
    principal: &Principal,
    id: i64,
) -> Result<(DeliveryRecord, Vec<AttemptRecord>)> {
    let account = principal.account_sid.as_str();
    let row = core
        .store
        .delivery(account, id)
        .await?
        .ok_or(Error::NotFound)?;
    let attempts = core.store.delivery_attempts(account, id).await?;
    Ok((
        DeliveryRecord::try_from(row)?,
        attempts.into_iter().map(AttemptRecord::from).collect(),
    ))
}

/// Sends one of the account's deliveries again, as a new delivery to the *stored* URL (never a
/// URL given with the request: no one can point a replay elsewhere); its id.
pub async fn replay(core: &Core, principal: &Principal, id: i64) -> Result<i64> {
    let replayed = core
        .store
        .replay_delivery(principal.account_sid.as_str(), id, time::now_ms())
        .await?
        .ok_or(Error::NotFound)?;
    core.webhook_wake.notify_one();
    Ok(replayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn base_params() -> Vec<(String, String)> {
        p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    /// The official libraries' test vectors (../shared/reference/webhook-signature.md §4).
    #[test]
    fn signatures_match_the_official_test_vectors() {
        assert_eq!(
            signature("12345", URL, &base_params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        let dup = p(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            signature("12345", URL, &dup),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
        let arr = p(&[
            ("MessagingBinding.Address", "+1415xxxxxxx"),
            ("MessagingBinding.Address", "+1325xxxxxxx"),
        ]);
        assert_eq!(
            signature("12345", URL, &arr),
            "83O6e2vORAoJHUNzJjDWN1jz+BA="
        );
        assert_eq!(
            signature(
                "12345",
                "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                &base_params()
            ),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        );
        let with_hash = format!(
            "{URL}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        );
        assert_eq!(
            signature("12345", &with_hash, &[]),
            "a9nBmqA0ju/hNViExpshrM61xv4="
        );
    }

    #[test]
    fn the_requested_url_is_the_stored_one_normalised_without_its_fragment() {
        let url = |target, query| request_url(target, query).map(|u| u.to_string());
        assert_eq!(
            url("HTTP://Hooks.Example.com:80/a?b=1#frag", None).as_deref(),
            Some("http://hooks.example.com/a?b=1")
        );
        assert_eq!(
            url("https://h.example/a?b=1", Some("X=2")).as_deref(),
            Some("https://h.example/a?b=1&X=2")
        );
        assert_eq!(
            url("https://h.example/a", Some("X=2&Y=%2B1")).as_deref(),
            Some("https://h.example/a?X=2&Y=%2B1")
        );
        assert_eq!(url("not a url", None), None);
    }

    #[test]
    fn event_names_are_on_resource_action() {
        let event = Event {
            resource: "Participant",
            action: Action::Removed,
        };
        assert_eq!(event.name(), "onParticipantRemoved");
    }
}
