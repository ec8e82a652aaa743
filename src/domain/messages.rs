//! 2010 Messages (`api.v2010.account.message`) and their Media: Twilio's rules for a message
//! created through the REST API, and the one function every other product records a message
//! with (`send`: Studio's `send-message` widgets, later Conversations' SMS participants and
//! simulated inbound messages).
//!
//! Nothing leaves the machine: a message is stored and its delivery is simulated. Its statuses
//! follow a short fixed schedule written into the row at creation (`Schedule`): a message with
//! `From` is `queued` at once, one through a Messaging Service is `accepted` and `queued`
//! [`ACCEPTED_MS`] later, a scheduled one is `queued` at its `SendAt`; then `sent`
//! [`SENT_AFTER_MS`] and `delivered` [`DELIVERED_AFTER_MS`] after it was queued *(ours: the
//! times Twilio takes are the network's)*. A read shows the status the clock has reached, so
//! the progression survives restarts and costs no background job; the `StatusCallback`
//! requests of each step are queued in the durable webhook queue, due at the same times, in the
//! same transaction as the message.

use tracing::instrument;

use super::{
    Core,
    accounts::reachable,
    auth::Principal,
    found,
    paging::{Page, PageRequest},
    sid::{AccountSid, MediaSid, MessageSid, matches_pattern},
    stored, stored_opt, time,
    webhooks::absolute_http_url,
};
use crate::{
    error::{Error, Result},
    store::{
        NEWEST_FIRST,
        messages::{Callback, MediaRow, MessageFilter, MessageRow, NewMessage},
        webhooks::NewDelivery,
    },
};

/// How long a message sent through a Messaging Service stays `accepted` *(ours)*.
pub const ACCEPTED_MS: i64 = 200;
/// How long after it was queued a message is `sent` *(ours)*.
pub const SENT_AFTER_MS: i64 = 500;
/// How long after it was queued a message reaches its final status *(ours)*.
pub const DELIVERED_AFTER_MS: i64 = 1000;

/// "The concatenated message body exceeds the 1600 character limit" (error 21617).
pub const MAX_BODY_CHARS: usize = 1600;
/// "You can include up to 10 MediaUrls per message" (Message resource, `MediaUrl`).
pub const MAX_MEDIA: usize = 10;

/// https://www.twilio.com/docs/errors/21602 and the other codes of a refused create.
const BODY_REQUIRED: u32 = 21602;
const FROM_REQUIRED: u32 = 21603;
const TO_REQUIRED: u32 = 21604;
const INVALID_TO: u32 = 21211;
const INVALID_FROM: u32 = 21212;
const SAME_TO_AND_FROM: u32 = 21266;
const INVALID_STATUS_CALLBACK: u32 = 21609;
const BODY_TOO_LONG: u32 = 21617;
const INVALID_MEDIA_URL: u32 = 21620;
const TOO_MANY_MEDIA: u32 = 21623;
const INVALID_MESSAGING_SERVICE: u32 = 21701;
const NOT_CANCELABLE: u32 = 30409;
const INVALID_SCHEDULE_TYPE: u32 = 35111;
const UNSUPPORTED_SEND_AT: u32 = 35114;

/// `message_enum_direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    /// Created through the REST API (and by Studio's `send-message`).
    OutboundApi,
    OutboundCall,
    /// A reply to an inbound message (TwiML `<Message>`).
    OutboundReply,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::OutboundApi => "outbound-api",
            Self::OutboundCall => "outbound-call",
            Self::OutboundReply => "outbound-reply",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [
            Self::Inbound,
            Self::OutboundApi,
            Self::OutboundCall,
            Self::OutboundReply,
        ]
        .into_iter()
        .find(|d| d.as_str() == raw)
    }
}

/// How an outbound message's simulated delivery ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    #[default]
    Delivered,
    /// Never sent: `failed` with this error code (e.g. 30008) where `sent` would have been.
    Failed(u32),
    /// Sent, then `undelivered` with this error code (e.g. 30003).
    Undelivered(u32),
}

/// A message to record. `direction` decides its life: an outbound one is queued, sent and
/// delivered on the schedule; an inbound one is `received` at once.
#[derive(Debug, Clone)]
pub struct NewMessageInput {
    pub account_sid: AccountSid,
    pub direction: Direction,
    pub to: String,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: Option<String>,
    pub media_urls: Vec<String>,
    pub status_callback: Option<String>,
    /// `ScheduleType` and `SendAt` as given (REST creates only).
    pub schedule_type: Option<String>,
    pub send_at: Option<String>,
    pub outcome: Outcome,
}

impl NewMessageInput {
    /// An outbound-api message from `from` to `to` (what Studio's `send-message` records).
    pub fn outbound(account_sid: AccountSid, from: &str, to: &str, body: &str) -> Self {
        Self {
            account_sid,
            direction: Direction::OutboundApi,
            to: to.to_owned(),
            from: Some(from.to_owned()).filter(|f| !f.is_empty()),
            messaging_service_sid: None,
            body: Some(body.to_owned()),
            media_urls: Vec::new(),
            status_callback: None,
            schedule_type: None,
            send_at: None,
            outcome: Outcome::Delivered,
        }
    }
}

/// A message as a reader sees it at the moment it was read.
#[derive(Debug, Clone)]
pub struct Message {
    pub sid: MessageSid,
    pub account_sid: AccountSid,
    pub direction: Direction,
    pub from: Option<String>,
    pub to: String,
    pub body: String,
    pub num_segments: i64,
    pub num_media: i64,
    pub messaging_service_sid: Option<String>,
    pub status: &'static str,
    pub error_code: Option<i64>,
    pub error_message: Option<&'static str>,
    /// Unix milliseconds, as every time of a message.
    pub date_created: i64,
    pub date_updated: i64,
    pub date_sent: Option<i64>,
    /// Kept for the callbacks a cancel sends.
    pub status_callback: Option<String>,
}

impl Message {
    /// The message as `row` stands at `now_ms`.
    pub fn at(row: MessageRow, now_ms: i64) -> Result<Self> {
        let progress = progress(&row, now_ms)?;
        let direction = Direction::parse(&row.direction).ok_or_else(|| {
            Error::internal(anyhow::anyhow!(
                "stored Message direction is malformed: {:?}",
                row.direction
            ))
        })?;
        // "For messages sent via a Messaging Service, num_segments is initially 0, since a
        // sender hasn't yet been assigned" (spec, `num_segments`).
        let num_segments = if progress.status == "accepted" || progress.status == "scheduled" {
            0
        } else {
            row.num_segments
        };
        let error_code = row.error_code.filter(|_| progress.failed);
        Ok(Self {
            sid: stored(&row.sid, "Message sid")?,
            account_sid: stored(&row.account_sid, "Message account_sid")?,
            direction,
            from: row.from_address,
            to: row.to_address,
            body: row.body,
            num_segments,
            num_media: row.num_media,
            messaging_service_sid: stored_opt::<super::sid::MessagingServiceSid>(
                row.messaging_service_sid.as_deref(),
                "Message messaging_service_sid",
            )?
            .map(|sid| sid.to_string()),
            status: progress.status,
            error_message: error_code.and_then(error_message),
            error_code,
            date_created: row.date_created,
            date_updated: progress.changed.max(row.date_updated),
            date_sent: progress.sent,
            status_callback: row.status_callback,
        })
    }
}

impl TryFrom<MessageRow> for Message {
    type Error = Error;

    fn try_from(row: MessageRow) -> Result<Self> {
        Message::at(row, time::now_ms())
    }
}

/// Where a message's simulated delivery stands at a moment.
#[derive(Debug, PartialEq)]
struct Progress {
    status: &'static str,
    /// When it reached that status (Unix ms).
    changed: i64,
    sent: Option<i64>,
    failed: bool,
}

/// The statuses a row can name, as the static strings the wire shows.
const STATUSES: &[&str] = &[
    "queued",
    "sending",
    "sent",
    "failed",
    "delivered",
    "undelivered",
    "receiving",
    "received",
    "accepted",
    "scheduled",
    "read",
    "partially_delivered",
    "canceled",
];

/// A stored status as the static string the wire shows; one off the spec's list is a bug in
/// what was written: 500, logged.
fn status_name(raw: &str) -> Result<&'static str> {
    STATUSES.iter().copied().find(|s| *s == raw).ok_or_else(|| {
        Error::internal(anyhow::anyhow!(
            "stored Message status is malformed: {raw:?}"
        ))
    })
}

fn progress(row: &MessageRow, now_ms: i64) -> Result<Progress> {
    if let Some(canceled) = row.canceled_at {
        return Ok(Progress {
            status: "canceled",
            changed: canceled,
            sent: None,
            failed: false,
        });
    }
    let mut current = Progress {
        status: status_name(&row.initial_status)?,
        changed: row.date_created,
        sent: None,
        failed: false,
    };
    let steps = [
        (row.queued_at, "queued"),
        (row.sent_at, "sent"),
        (Some(row.final_at), status_name(&row.final_status)?),
    ];
    for (at, status) in steps {
        if let Some(at) = at.filter(|at| *at <= now_ms) {
            current.status = status;
            current.changed = at;
        }
    }
    current.sent = row.sent_at.filter(|at| *at <= now_ms);
    current.failed = matches!(current.status, "failed" | "undelivered");
    Ok(current)
}

/// The statuses a message has passed through by `now_ms`, oldest first, each with when it was
/// reached (Unix ms): its schedule up to the clock, then `canceled` if it was (the console's
/// status history; the API shows only the current status).
fn history(row: &MessageRow, now_ms: i64) -> Result<Vec<(&'static str, i64)>> {
    let mut passed = vec![(status_name(&row.initial_status)?, row.date_created)];
    let steps = [
        (row.queued_at, "queued"),
        (row.sent_at, "sent"),
        (Some(row.final_at), status_name(&row.final_status)?),
    ];
    for (at, status) in steps {
        let Some(at) = at.filter(|at| *at <= now_ms) else {
            continue;
        };
        if row.canceled_at.is_some_and(|canceled| canceled < at) {
            break;
        }
        if passed.last().map(|(s, _)| *s) != Some(status) {
            passed.push((status, at));
        }
    }
    if let Some(canceled) = row.canceled_at {
        passed.push(("canceled", canceled));
    }
    Ok(passed)
}

/// The account's message `sid` with its status history (see `history`).
pub async fn fetch_with_history(
    core: &Core,
    principal: &Principal,
    account_sid: &AccountSid,
    sid: &MessageSid,
) -> Result<(Message, Vec<(&'static str, i64)>)> {
    account(core, principal, account_sid).await?;
    let row = core
        .store
        .fetch_owned::<MessageRow>(account_sid.as_str(), sid.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    let now_ms = time::now_ms();
    let passed = history(&row, now_ms)?;
    Ok((Message::at(row, now_ms)?, passed))
}

/// The `error_message` of the error codes this server sets (Twilio's error titles).
fn error_message(code: i64) -> Option<&'static str> {
    Some(match code {
        30003 => "Unreachable destination handset",
        30004 => "Message blocked",
        30005 => "Unknown destination handset",
        30006 => "Landline or unreachable carrier",
        30007 => "Message filtered",
        30008 => "Unknown error",
        21610 => "Attempt to send to unsubscribed recipient",
        _ => return None,
    })
}

/// A phone number with its formatting (spaces, dashes, dots, parentheses) removed, when `raw`
/// is one: an optional `+` and 3 to 15 digits (E.164 numbers and short codes). Twilio accepts
/// formatted numbers and shows them in E.164; a number without `+` is kept as its digits
/// *(ours: Twilio would add the country code of the sender's number)*.
fn phone_number(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    ((3..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(cleaned)
}

/// Channel prefixes whose address is a phone number (`whatsapp:+1555…`).
const PHONE_CHANNELS: &[&str] = &["whatsapp:", "rcs:", "sms:", "mms:"];
/// Channel prefixes whose address is the channel's own id (a Messenger page-scoped id).
const ID_CHANNELS: &[&str] = &["messenger:", "fbm:"];

/// An address as stored: a phone number normalised, or a channel address whose number is.
pub fn address(raw: &str) -> Option<String> {
    let raw = raw.trim();
    for prefix in PHONE_CHANNELS {
        if let Some(rest) = raw.strip_prefix(prefix) {
            return phone_number(rest).map(|n| format!("{prefix}{n}"));
        }
    }
    for prefix in ID_CHANNELS {
        if let Some(rest) = raw.strip_prefix(prefix) {
            return (!rest.is_empty() && !rest.chars().any(char::is_whitespace))
                .then(|| raw.to_owned());
        }
    }
    phone_number(raw)
}

/// `From` as stored: an address, or an alphanumeric sender ID ("up to 11 characters … upper-
/// and lower-case letters, the digits 0-9, and spaces", at least one letter).
fn sender(raw: &str) -> Option<String> {
    address(raw).or_else(|| {
        let alphanumeric = (1..=11).contains(&raw.chars().count())
            && raw.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, ' ' | '+' | '-' | '_' | '&' | '.')
            })
            && raw.chars().any(|c| c.is_ascii_alphabetic());
        alphanumeric.then(|| raw.to_owned())
    })
}

/// GSM 03.38's basic character set; the extension table's characters count twice.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// The SMS segments a body takes: GSM-7 bodies 160 septets in one segment, 153 each when
/// concatenated; any other character makes it UCS-2, 70 code units in one, 67 each beyond.
/// A media message is one (MMS) segment.
pub fn segments(body: &str, with_media: bool) -> i64 {
    if with_media {
        return 1;
    }
    let septets: Option<usize> = body
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (units, single, each) = match septets {
        Some(n) => (n, 160, 153),
        None => (body.encode_utf16().count(), 70, 67),
    };
    if units <= single {
        1
    } else {
        units.div_ceil(each) as i64
    }
}

/// `SendAt`: the spec's `date-time` (`2021-11-30T20:36:27Z`), which must fall between 15
/// minutes and 35 days from now (error 35114, "Scheduling does not support this timestamp").
fn send_time(raw: &str, now_ms: i64) -> Result<i64> {
    let refused = || {
        Error::invalid_code(
            UNSUPPORTED_SEND_AT,
            format!(
                "SendAt {raw} is not supported: it must be an ISO 8601 UTC time between 15 \
                 minutes and 35 days from now"
            ),
        )
    };
    let at = time::parse_iso8601(raw).ok_or_else(refused)? * 1000;
    let ahead = at - now_ms;
    if (15 * 60_000..=35 * 86_400_000).contains(&ahead) {
        Ok(at)
    } else {
        Err(refused())
    }
}

fn invalid(code: u32, message: String) -> Error {
    Error::invalid_code(code, message)
}

/// Checks a message to record and builds its row, media and callbacks (Twilio's checks in
/// the order its API applies them). For a caller that writes the message inside its own
/// transaction (`store::messages::write_message`); `send` does both.
pub fn prepare(input: NewMessageInput, now_ms: i64) -> Result<NewMessage> {
    let to = input.to.trim();
    if to.is_empty() {
        return Err(invalid(
            TO_REQUIRED,
            "A 'To' phone number is required.".into(),
        ));
    }
    let from = input
        .from
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    let service = input
        .messaging_service_sid
        .as_deref()
        .filter(|s| !s.is_empty());
    let inbound = input.direction == Direction::Inbound;
    if from.is_none() && (service.is_none() || inbound) {
        return Err(invalid(
            FROM_REQUIRED,
            "A 'From' phone number is required.".into(),
        ));
    }
    let body = input.body.unwrap_or_default();
    let media_urls: Vec<String> = input
        .media_urls
        .into_iter()
        .filter(|u| !u.is_empty())
        .collect();
    if body.is_empty() && media_urls.is_empty() {
        return Err(invalid(BODY_REQUIRED, "Message body is required.".into()));
    }
    let to = address(to)
        .ok_or_else(|| invalid(INVALID_TO, format!("Invalid 'To' Phone Number: {to}")))?;
    let from = from
        .map(|f| {
            sender(f).ok_or_else(|| {
                invalid(
                    INVALID_FROM,
                    format!(
                        "The 'From' number {f} is not a valid phone number, shortcode, or \
                         alphanumeric sender ID."
                    ),
                )
            })
        })
        .transpose()?;
    if from.as_deref() == Some(to.as_str()) {
        return Err(invalid(
            SAME_TO_AND_FROM,
            format!("'To' and 'From' number cannot be the same: {to}"),
        ));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(invalid(
            BODY_TOO_LONG,
            "The concatenated message body exceeds the 1600 character limit.".into(),
        ));
    }
    if media_urls.len() > MAX_MEDIA {
        return Err(invalid(
            TOO_MANY_MEDIA,
            format!("Too many media URLs: a message takes at most {MAX_MEDIA}."),
        ));
    }
    let media_urls = media_urls
        .iter()
        .map(|u| {
            absolute_http_url(u)
                .ok_or_else(|| invalid(INVALID_MEDIA_URL, format!("Invalid media URL(s): {u}")))
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(sid) = service
        && !matches_pattern(sid, "MG")
    {
        return Err(invalid(
            INVALID_MESSAGING_SERVICE,
            format!("The Messaging Service Sid {sid} is invalid."),
        ));
    }
    let status_callback = input
        .status_callback
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| {
            absolute_http_url(u).ok_or_else(|| {
                invalid(
                    INVALID_STATUS_CALLBACK,
                    format!("The StatusCallback URL {u} is not a valid URL."),
                )
            })
        })
        .transpose()?;
    let schedule_type = input.schedule_type.as_deref().filter(|s| !s.is_empty());
    if let Some(kind) = schedule_type
        && kind != "fixed"
    {
        return Err(invalid(
            INVALID_SCHEDULE_TYPE,
            format!("ScheduleType {kind} is invalid: the only type is fixed."),
        ));
    }
    // "If you only pass a From number … and do not pass a Messaging Service SID, the
    // scheduling parameters will be dropped … and the message will be sent immediately"
    // (Message Scheduling FAQs); `SendAt` without `ScheduleType=fixed` is likewise ignored.
    let send_at = match (schedule_type, input.send_at.as_deref(), service) {
        (Some(_), Some(raw), Some(_)) if !inbound => Some(send_time(raw, now_ms)?),
        (Some(_), None, Some(_)) if !inbound => {
            return Err(invalid(
                UNSUPPORTED_SEND_AT,
                "SendAt is required to schedule a message.".into(),
            ));
        }
        _ => None,
    };

    let with_media = !media_urls.is_empty();
    let sid = MessageSid::new(with_media);
    let schedule = Schedule::new(
        input.direction,
        service.is_some(),
        send_at,
        input.outcome,
        now_ms,
    );
    let row = MessageRow {
        seq: 0,
        sid: sid.to_string(),
        account_sid: input.account_sid.to_string(),
        direction: input.direction.as_str().to_owned(),
        from_address: from,
        to_address: to,
        num_segments: segments(&body, with_media),
        body,
        num_media: media_urls.len() as i64,
        messaging_service_sid: service.map(str::to_owned),
        status_callback,
        initial_status: schedule.initial.to_owned(),
        queued_at: schedule.queued_at,
        sent_at: schedule.sent_at,
        final_status: schedule.final_status.to_owned(),
        final_at: schedule.final_at,
        canceled_at: None,
        error_code: schedule.error_code,
        date_created: now_ms,
        date_updated: now_ms,
    };
    let media = media_urls
        .into_iter()
        .map(|url| MediaRow {
            seq: 0,
            sid: MediaSid::new().to_string(),
            message_sid: row.sid.clone(),
            account_sid: row.account_sid.clone(),
            content_type: content_type(&url).to_owned(),
            url,
            date_created: now_ms,
        })
        .collect();
    let callbacks = schedule
        .steps()
        .filter_map(|(at, status)| status_callback_at(Reported::from(&row), status, at))
        .collect();
    Ok(NewMessage {
        row,
        media,
        callbacks,
    })
}

/// When a new message reaches each status.
struct Schedule {
    initial: &'static str,
    queued_at: Option<i64>,
    sent_at: Option<i64>,
    final_status: &'static str,
    final_at: i64,
    error_code: Option<i64>,
}

impl Schedule {
    fn new(
        direction: Direction,
        via_service: bool,
        send_at: Option<i64>,
        outcome: Outcome,
        now_ms: i64,
    ) -> Self {
        if direction == Direction::Inbound {
            return Self {
                initial: "received",
                queued_at: None,
                sent_at: Some(now_ms),
                final_status: "received",
                final_at: now_ms,
                error_code: None,
            };
        }
        let (initial, queued) = match (send_at, via_service) {
            (Some(at), _) => ("scheduled", at),
            (None, true) => ("accepted", now_ms + ACCEPTED_MS),
            (None, false) => ("queued", now_ms),
        };
        let (sent_at, final_status, error_code) = match outcome {
            Outcome::Delivered => (Some(queued + SENT_AFTER_MS), "delivered", None),
            Outcome::Failed(code) => (None, "failed", Some(i64::from(code))),
            Outcome::Undelivered(code) => (
                Some(queued + SENT_AFTER_MS),
                "undelivered",
                Some(i64::from(code)),
            ),
        };
        let final_at = if sent_at.is_some() {
            queued + DELIVERED_AFTER_MS
        } else {
            queued + SENT_AFTER_MS
        };
        Self {
            initial,
            queued_at: Some(queued),
            sent_at,
            final_status,
            final_at,
            error_code,
        }
    }

    /// The status callbacks' steps: `queued`, `sent`, then the final status, each at its
    /// time. An inbound message has none.
    fn steps(&self) -> impl Iterator<Item = (i64, &'static str)> {
        let outbound = self.initial != "received";
        [
            self.queued_at.map(|at| (at, "queued")),
            self.sent_at.map(|at| (at, "sent")),
            Some((self.final_at, self.final_status)),
        ]
        .into_iter()
        .flatten()
        .filter(move |_| outbound)
    }
}

/// The content type a media URL's extension names *(ours: the URL is never fetched, so its
/// `Content-Type` is not known)*.
fn content_type(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let extension = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "pdf" => "application/pdf",
        "vcf" => "text/vcard",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// What a status callback reports on: the message's addresses and SIDs.
struct Reported<'a> {
    account_sid: &'a str,
    sid: &'a str,
    from: Option<&'a str>,
    to: &'a str,
    service: Option<&'a str>,
    url: Option<&'a str>,
    error_code: Option<i64>,
}

impl<'a> From<&'a MessageRow> for Reported<'a> {
    fn from(row: &'a MessageRow) -> Self {
        Self {
            account_sid: &row.account_sid,
            sid: &row.sid,
            from: row.from_address.as_deref(),
            to: &row.to_address,
            service: row.messaging_service_sid.as_deref(),
            url: row.status_callback.as_deref(),
            error_code: row.error_code,
        }
    }
}

impl<'a> From<&'a Message> for Reported<'a> {
    fn from(message: &'a Message) -> Self {
        Self {
            account_sid: message.account_sid.as_str(),
            sid: message.sid.as_str(),
            from: message.from.as_deref(),
            to: &message.to,
            service: message.messaging_service_sid.as_deref(),
            url: message.status_callback.as_deref(),
            error_code: message.error_code,
        }
    }
}

/// The request Twilio sends to a message's `StatusCallback` when it reaches `status` at `at`:
/// POST, with `MessageSid`, `MessageStatus`, their legacy twins `SmsSid`/`SmsStatus`,
/// `AccountSid`, `From`, `To`, `ApiVersion`, `MessagingServiceSid` when there is one,
/// `ErrorCode` when it failed (Message resource, "Twilio's request to the StatusCallback
/// URL"). `None` without a callback URL.
fn status_callback_at(message: Reported<'_>, status: &'static str, at: i64) -> Option<Callback> {
    let url = message.url?.to_owned();
    let mut params: Vec<(String, String)> = Vec::with_capacity(10);
    let mut put = |name: &str, value: &str| params.push((name.to_owned(), value.to_owned()));
    put("AccountSid", message.account_sid);
    put("ApiVersion", "2010-04-01");
    if let Some(from) = message.from {
        put("From", from);
    }
    put("MessageSid", message.sid);
    put("MessageStatus", status);
    if let Some(service) = message.service {
        put("MessagingServiceSid", service);
    }
    put("SmsSid", message.sid);
    put("SmsStatus", status);
    put("To", message.to);
    if let Some(code) = message
        .error_code
        .filter(|_| matches!(status, "failed" | "undelivered"))
    {
        put("ErrorCode", &code.to_string());
    }
    let params = serde_json::to_string(&params).ok()?;
    Some((
        at,
        NewDelivery {
            account_sid: message.account_sid.to_owned(),
            event_type: format!("MessageStatus:{status}"),
            url,
            method: "POST".to_owned(),
            params,
        },
    ))
}

/// Records a message (validated as `prepare` does) and queues its status callbacks: the one
/// call other products make. 400 with Twilio's code for a refused message.
#[instrument(skip_all)]
pub async fn send(core: &Core, input: NewMessageInput) -> Result<Message> {
    let now_ms = time::now_ms();
    let message = prepare(input, now_ms)?;
    let has_callbacks = !message.callbacks.is_empty();
    let row = core.store.insert_message(message, now_ms).await?;
    if has_callbacks {
        core.webhook_wake.notify_one();
    }
    Message::at(row, now_ms)
}

/// The account a 2010 path names, if the caller may reach it (its own, or a subaccount of
/// its main account); the caller's own account needs no read.
async fn account(core: &Core, principal: &Principal, account: &AccountSid) -> Result<()> {
    if &principal.account_sid != account {
        reachable(core, principal, account).await?;
    }
    Ok(())
}

/// `POST …/Messages.json`: a message created through the REST API (`outbound-api`).
#[instrument(skip_all)]
pub async fn create(core: &Core, principal: &Principal, input: NewMessageInput) -> Result<Message> {
    account(core, principal, &input.account_sid).await?;
    send(core, input).await
}

pub async fn fetch(
    core: &Core,
    principal: &Principal,
    account_sid: &AccountSid,
    sid: &MessageSid,
) -> Result<Message> {
    account(core, principal, account_sid).await?;
    super::fetch_owned::<MessageRow, _>(core, account_sid, sid).await
}

/// `DateSent`, `DateSent<` and `DateSent>` as given.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub to: Option<String>,
    pub from: Option<String>,
    pub date_sent: Option<String>,
    pub date_sent_before: Option<String>,
    pub date_sent_after: Option<String>,
}

/// A `DateSent` value: a day (`2008-01-02`) or the spec's `date-time` (`2008-01-02T00:00:00Z`,
/// what the official libraries send). `(start, is_a_day)` in Unix ms.
fn date_sent(raw: &str, name: &str) -> Result<(i64, bool)> {
    let day = raw.len() == 10 && raw.as_bytes().get(4) == Some(&b'-');
    let parsed = if day {
        time::parse_iso8601(&format!("{raw}T00:00:00Z"))
    } else {
        time::parse_iso8601(raw)
    };
    parsed.map(|s| (s * 1000, day)).ok_or_else(|| {
        Error::invalid(format!(
            "Invalid parameter {name}: must be a date (YYYY-MM-DD) or a date-time \
             (YYYY-MM-DDTHH:MM:SSZ)"
        ))
    })
}

const DAY_MS: i64 = 86_400_000;

impl ListFilter {
    /// The store's filter. `DateSent=D` is the messages sent on day D (UTC) or, for a
    /// date-time, in that second; `DateSent>=X` those sent at or after X (a day: from its
    /// start); `DateSent<=X` those sent at or before X (a day: to its end) *(ours: Twilio
    /// says "on or before" / "on or after" a date)*.
    fn resolve(&self) -> Result<MessageFilter> {
        let clean = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let mut filter = MessageFilter {
            to: clean(&self.to).map(|to| address(&to).unwrap_or(to)),
            from: clean(&self.from).map(|from| sender(&from).unwrap_or(from)),
            ..MessageFilter::default()
        };
        let mut narrow_from = |at: i64| {
            filter.sent_from = Some(filter.sent_from.map_or(at, |f| f.max(at)));
        };
        let mut bounds_before = Vec::new();
        if let Some(raw) = clean(&self.date_sent) {
            let (start, day) = date_sent(&raw, "DateSent")?;
            narrow_from(start);
            bounds_before.push(start + if day { DAY_MS } else { 1000 });
        }
        if let Some(raw) = clean(&self.date_sent_after) {
            narrow_from(date_sent(&raw, "DateSent>")?.0);
        }
        if let Some(raw) = clean(&self.date_sent_before) {
            let (start, day) = date_sent(&raw, "DateSent<")?;
            bounds_before.push(start + if day { DAY_MS } else { 1000 });
        }
        filter.sent_before = bounds_before.into_iter().min();
        Ok(filter)
    }
}

/// One page of the account's messages that pass `filter`, newest first (as Twilio lists them).
pub async fn list(
    core: &Core,
    principal: &Principal,
    account_sid: &AccountSid,
    filter: &ListFilter,
    request: PageRequest,
) -> Result<Page<Message>> {
    account(core, principal, account_sid).await?;
    let filter = filter.resolve()?;
    let now_ms = time::now_ms();
    let rows = core
        .store
        .list_messages(account_sid.as_str(), &filter, now_ms, request.keyset())
        .await?;
    Page::from_rows(request, rows, |row| NEWEST_FIRST - row.seq)
        .try_map(|row| Message::at(row, now_ms))
}

/// `POST …/Messages/{Sid}.json`: `Body=""` redacts the text ("To redact the text content of a
/// Message, this parameter's value must be an empty string"); any other body is refused, 400
/// 20001 *(ours: a sent message cannot be rewritten)*. `Status=canceled` cancels a scheduled
/// message that has not been queued yet; any other message is 400 30409 "This message cannot
/// be canceled". Both given: the cancel, then the redaction.
#[instrument(skip_all)]
pub async fn update(
    core: &Core,
    principal: &Principal,
    account_sid: &AccountSid,
    sid: &MessageSid,
    body: Option<&str>,
    status: Option<&str>,
) -> Result<Message> {
    let current = fetch(core, principal, account_sid, sid).await?;
    if body.is_some_and(|b| !b.is_empty()) {
        return Err(Error::invalid(
            "Invalid parameter Body: a message's body can only be redacted (set to an empty string)",
        ));
    }
    let now_ms = time::now_ms();
    let mut updated = current;
    match status {
        None => {}
        Some("canceled") => {
            let callback = status_callback_at(Reported::from(&updated), "canceled", now_ms);
            let row = core
                .store
                .cancel_message(
                    account_sid.as_str(),
                    sid.as_str(),
                    callback.into_iter().collect(),
                    now_ms,
                )
                .await?
                .ok_or_else(|| {
                    Error::invalid_code(NOT_CANCELABLE, "This message cannot be canceled")
                })?;
            core.webhook_wake.notify_one();
            updated = Message::at(row, now_ms)?;
        }
        Some(other) => {
            return Err(Error::invalid(format!(
                "Invalid parameter Status: {other} is not one of canceled"
            )));
        }
    }
    if body.is_some() {
        let row = core
            .store
            .redact_message(account_sid.as_str(), sid.as_str(), now_ms)
            .await?
            .ok_or(Error::NotFound)?;
        updated = Message::at(row, now_ms)?;
    }
    Ok(updated)
}

/// Deletes the message (its media with it, and its status callbacks not yet sent).
#[instrument(skip_all)]
pub async fn delete(
    core: &Core,
    principal: &Principal,
    account_sid: &AccountSid,
    sid: &MessageSid,
) -> Result<()> {
    account(core, principal, account_sid).await?;
    found(
        core.store
            .delete_message(account_sid.as_str(), sid.as_str())
            .await?,
    )
}

/// One media item of a message (`api.v2010.account.message.media`).
#[derive(Debug, Clone)]
pub struct Media {
    pub sid: MediaSid,
    pub account_sid: AccountSid,
    pub parent_sid: MessageSid,
    pub content_type: String,
    pub url: String,
    /// Unix ms.
    pub date_created: i64,
}

impl TryFrom<MediaRow> for Media {
    type Error = Error;

    fn try_from(row: MediaRow) -> Result<Self> {
        Ok(Self {
            sid: stored(&row.sid, "Media sid")?,
            account_sid: stored(&row.account_sid, "Media account_sid")?,
            parent_sid: stored(&row.message_sid, "Media message_sid")?,
            content_type: row.content_type,
            url: row.url,
            date_created: row.date_created,
        })
    }
}

/// The message's media, in the order given; 404 when the account has no such message.
pub async fn list_media(
    core: &Core,
    principal: &Principal,
    account_sid: &AccountSid,
    message: &MessageSid,
    request: PageRequest,
) -> Result<Page<Media>> {
    fetch(core, principal, account_sid, message).await?;
    let rows = core
        .store
        .list_media(account_sid.as_str(), message.as_str(), request.keyset())
        .await?;
    Page::from_rows(request, rows, |row| row.seq).try_map(Media::try_from)
}

pub async fn fetch_media(
    core: &Core,
    principal: &Principal,
    account_sid: &AccountSid,
    message: &MessageSid,
    sid: &MediaSid,
) -> Result<Media> {
    account(core, principal, account_sid).await?;
    super::found_value(
        core.store
            .fetch_media(account_sid.as_str(), message.as_str(), sid.as_str())
            .await?,
    )
}

pub async fn delete_media(
    core: &Core,
    principal: &Principal,
    account_sid: &AccountSid,
    message: &MessageSid,
    sid: &MediaSid,
) -> Result<()> {
    account(core, principal, account_sid).await?;
    found(
        core.store
            .delete_media(account_sid.as_str(), message.as_str(), sid.as_str())
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(to: &str, from: Option<&str>, body: Option<&str>) -> NewMessageInput {
        NewMessageInput {
            from: from.map(str::to_owned),
            body: body.map(str::to_owned),
            ..NewMessageInput::outbound(AccountSid::new(), "", to, "")
        }
    }

    fn code(result: Result<NewMessage>) -> u32 {
        result.map(|_| 0).unwrap_or_else(|e| e.code())
    }

    #[test]
    fn refusals_carry_twilios_codes_in_twilios_order() {
        assert_eq!(code(prepare(input("", None, None), 0)), 21604);
        assert_eq!(code(prepare(input("+15551230000", None, None), 0)), 21603);
        assert_eq!(
            code(prepare(
                input("+15551230000", Some("+15551239999"), None),
                0
            )),
            21602
        );
        assert_eq!(
            code(prepare(
                input("call me", Some("+15551239999"), Some("hi")),
                0
            )),
            21211
        );
        assert_eq!(
            code(prepare(
                input("+15551230000", Some("not a sender!"), Some("hi")),
                0
            )),
            21212
        );
        assert_eq!(
            code(prepare(
                input("+15551230000", Some("+1 555 123 0000"), Some("hi")),
                0
            )),
            21266
        );
        let long = "a".repeat(1601);
        assert_eq!(
            code(prepare(
                input("+15551230000", Some("+15551239999"), Some(&long)),
                0
            )),
            21617
        );
        assert_eq!(
            code(prepare(
                input("+15551230000", Some("Acme"), Some(&"é".repeat(1600))),
                0
            )),
            0
        );
    }

    #[test]
    fn addresses_are_normalised_and_channels_kept() {
        assert_eq!(
            address("+1 (555) 123-0000").as_deref(),
            Some("+15551230000")
        );
        assert_eq!(
            address("whatsapp:+15551230000").as_deref(),
            Some("whatsapp:+15551230000")
        );
        assert_eq!(
            address("messenger:1234567").as_deref(),
            Some("messenger:1234567")
        );
        assert_eq!(address("12345").as_deref(), Some("12345"));
        assert_eq!(address("+1555abc"), None);
        assert_eq!(sender("Acme Inc").as_deref(), Some("Acme Inc"));
        assert_eq!(sender("TwelveCharsX1"), None);
        assert_eq!(sender("12345678901234567"), None);
    }

    #[test]
    fn segments_follow_gsm7_and_ucs2_limits() {
        assert_eq!(segments(&"a".repeat(160), false), 1);
        assert_eq!(segments(&"a".repeat(161), false), 2);
        assert_eq!(segments(&"a".repeat(306), false), 2);
        assert_eq!(segments(&"[".repeat(80), false), 1);
        assert_eq!(segments(&"[".repeat(81), false), 2);
        assert_eq!(segments(&"é".repeat(160), false), 1);
        assert_eq!(segments(&"ç".repeat(70), false), 1);
        assert_eq!(segments(&"ç".repeat(71), false), 2);
        assert_eq!(segments("👍", false), 1);
        assert_eq!(segments("", true), 1);
    }

    #[test]
    fn the_status_follows_the_schedule_written_at_creation() {
        let message = prepare(
            input("+15551230000", Some("+15551239999"), Some("hi")),
            1_000,
        )
        .unwrap();
        let row = message.row;
        let at = |t| progress(&row, t).unwrap();
        assert_eq!(at(1_000).status, "queued");
        assert_eq!(at(1_000).sent, None);
        assert_eq!(at(1_000 + SENT_AFTER_MS).status, "sent");
        assert_eq!(at(1_000 + SENT_AFTER_MS).sent, Some(1_000 + SENT_AFTER_MS));
        assert_eq!(at(1_000 + DELIVERED_AFTER_MS).status, "delivered");
        assert!(
            message.callbacks.is_empty(),
            "no StatusCallback, no callbacks"
        );

        let mut via_service = input("+15551230000", None, Some("hi"));
        via_service.messaging_service_sid = Some(format!("MG{}", "a".repeat(32)));
        via_service.status_callback = Some("http://127.0.0.1:9/cb".into());
        let message = prepare(via_service, 0).unwrap();
        assert_eq!(progress(&message.row, 0).unwrap().status, "accepted");
        let steps: Vec<(i64, String)> = message
            .callbacks
            .iter()
            .map(|(at, d)| (*at, d.event_type.clone()))
            .collect();
        assert_eq!(
            steps,
            vec![
                (ACCEPTED_MS, "MessageStatus:queued".to_owned()),
                (ACCEPTED_MS + SENT_AFTER_MS, "MessageStatus:sent".to_owned()),
                (
                    ACCEPTED_MS + DELIVERED_AFTER_MS,
                    "MessageStatus:delivered".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_failed_outcome_is_never_sent_and_carries_its_code() {
        let mut failing = input("+15551230000", Some("+15551239999"), Some("hi"));
        failing.outcome = Outcome::Failed(30008);
        let row = prepare(failing, 0).unwrap().row;
        let end = progress(&row, DELIVERED_AFTER_MS).unwrap();
        assert_eq!((end.status, end.sent, end.failed), ("failed", None, true));
    }

    #[test]
    fn send_at_must_be_15_minutes_to_35_days_ahead() {
        let now = 1_700_000_000_000;
        let iso = |ms: i64| time::iso8601(ms / 1000);
        assert!(send_time(&iso(now + 16 * 60_000), now).is_ok());
        assert_eq!(
            send_time(&iso(now + 60_000), now).unwrap_err().code(),
            35114
        );
        assert_eq!(
            send_time(&iso(now + 36 * DAY_MS), now).unwrap_err().code(),
            35114
        );
        assert_eq!(send_time("tomorrow", now).unwrap_err().code(), 35114);
    }
}
