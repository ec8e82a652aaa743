//! API 2010-04-01 Messages: `/2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! `…/Messages/{Sid}.json` (`api.v2010.account.message`) and a message's Media
//! (`api.v2010.account.message.media`, list key `media_list`). Dates are RFC 2822, URIs
//! relative, as every 2010 resource.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};

use super::{
    call::{ApiCall, Created, NoForm, created},
    extract::TwilioQuery,
    paging::{Paging, V2010Page, v2010_list},
    urls::{Links, links},
};
use crate::{
    domain::{
        messages::{self, Direction, ListFilter, Media, Message, NewMessageInput, Outcome},
        sid::{AccountSid, JsonSuffixed, MediaSid, MessageSid},
        time::rfc2822,
    },
    error::Result,
    http::routing::routes,
};

routes! {
    "/2010-04-01/Accounts/{AccountSid}/Messages.json" => get(list_messages).post(create_message),
    "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}" =>
        get(fetch_message).post(update_message).delete(delete_message),
    "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media.json" => get(list_media),
    "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}" =>
        get(fetch_media).delete(delete_media),
}

/// A 2010 time in milliseconds, as RFC 2822.
fn date(ms: i64) -> String {
    rfc2822(ms.div_euclid(1000))
}

/// `api.v2010.account.message`. Fields in sorted order (see `http::paging::V1Page`).
#[derive(Serialize)]
pub(crate) struct MessageResource {
    account_sid: AccountSid,
    api_version: &'static str,
    body: String,
    date_created: String,
    date_sent: Option<String>,
    date_updated: String,
    direction: &'static str,
    error_code: Option<i64>,
    error_message: Option<&'static str>,
    from: Option<String>,
    messaging_service_sid: Option<String>,
    num_media: String,
    num_segments: String,
    /// Nothing is billed: `null` *(ours)*.
    price: Option<String>,
    price_unit: &'static str,
    sid: MessageSid,
    status: &'static str,
    subresource_uris: Links,
    to: String,
    uri: String,
}

impl From<Message> for MessageResource {
    fn from(m: Message) -> Self {
        let base = format!("/2010-04-01/Accounts/{}/Messages/{}", m.account_sid, m.sid);
        Self {
            subresource_uris: links(&base, &[("media", "Media.json")]),
            uri: format!("{base}.json"),
            account_sid: m.account_sid,
            api_version: "2010-04-01",
            body: m.body,
            date_created: date(m.date_created),
            date_sent: m.date_sent.map(date),
            date_updated: date(m.date_updated),
            direction: m.direction.as_str(),
            error_code: m.error_code,
            error_message: m.error_message,
            from: m.from,
            messaging_service_sid: m.messaging_service_sid,
            num_media: m.num_media.to_string(),
            num_segments: m.num_segments.to_string(),
            price: None,
            price_unit: "USD",
            sid: m.sid,
            status: m.status,
            to: m.to,
        }
    }
}

/// `CreateMessageRequest`: the parameters this server acts on; the others (`MaxPrice`,
/// `ValidityPeriod`, `ContentSid` …) are accepted and ignored, as unknown parameters are.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateForm {
    to: Option<String>,
    from: Option<String>,
    messaging_service_sid: Option<String>,
    body: Option<String>,
    #[serde(default)]
    media_url: Vec<String>,
    status_callback: Option<String>,
    schedule_type: Option<String>,
    send_at: Option<String>,
}

async fn create_message(call: ApiCall<AccountSid, CreateForm>) -> Result<Created<MessageResource>> {
    let (call, form) = call.split_form();
    let input = NewMessageInput {
        account_sid: call.path.clone(),
        direction: Direction::OutboundApi,
        to: form.to.unwrap_or_default(),
        from: form.from,
        messaging_service_sid: form.messaging_service_sid,
        body: form.body,
        media_urls: form.media_url,
        status_callback: form.status_callback,
        schedule_type: form.schedule_type,
        send_at: form.send_at,
        outcome: Outcome::Delivered,
    };
    let message = messages::create(&call.core, &call.principal, input).await?;
    created(message.into())
}

#[derive(Deserialize)]
struct MessageFilterParams {
    #[serde(rename = "To")]
    to: Option<String>,
    #[serde(rename = "From")]
    from: Option<String>,
    #[serde(rename = "DateSent")]
    date_sent: Option<String>,
    #[serde(rename = "DateSent<")]
    date_sent_before: Option<String>,
    #[serde(rename = "DateSent>")]
    date_sent_after: Option<String>,
}

async fn list_messages(
    call: ApiCall<AccountSid>,
    Paging(request): Paging,
    TwilioQuery(params): TwilioQuery<MessageFilterParams>,
) -> Result<V2010Page<MessageResource>> {
    let filter = ListFilter {
        to: params.to,
        from: params.from,
        date_sent: params.date_sent,
        date_sent_before: params.date_sent_before,
        date_sent_after: params.date_sent_after,
    };
    let page = messages::list(&call.core, &call.principal, &call.path, &filter, request).await?;
    // The page links repeat the filters as given (the spec's example: `To=…&From=…&DateSent>=…`).
    let given = [
        ("To", &filter.to),
        ("From", &filter.from),
        ("DateSent", &filter.date_sent),
        ("DateSent<", &filter.date_sent_before),
        ("DateSent>", &filter.date_sent_after),
    ];
    let filters: Vec<(&str, &str)> = given
        .iter()
        .filter_map(|(name, value)| Some((*name, value.as_deref().filter(|v| !v.is_empty())?)))
        .collect();
    let list_path = format!("/2010-04-01/Accounts/{}/Messages.json", call.path);
    Ok(v2010_list(
        "messages",
        page.map(MessageResource::from),
        &list_path,
        &filters,
    ))
}

/// `/Accounts/{AccountSid}/Messages/{Sid}.json`.
type MessageCall<F = NoForm> = ApiCall<(AccountSid, JsonSuffixed<MessageSid>), F>;

async fn fetch_message(call: MessageCall) -> Result<Json<MessageResource>> {
    let (account, JsonSuffixed(sid)) = &call.path;
    let message = messages::fetch(&call.core, &call.principal, account, sid).await?;
    Ok(Json(message.into()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateForm {
    body: Option<String>,
    status: Option<String>,
}

async fn update_message(call: MessageCall<UpdateForm>) -> Result<Json<MessageResource>> {
    let (account, JsonSuffixed(sid)) = &call.path;
    let message = messages::update(
        &call.core,
        &call.principal,
        account,
        sid,
        call.form.body.as_deref(),
        call.form.status.as_deref().filter(|s| !s.is_empty()),
    )
    .await?;
    Ok(Json(message.into()))
}

async fn delete_message(call: MessageCall) -> Result<StatusCode> {
    let (account, JsonSuffixed(sid)) = &call.path;
    messages::delete(&call.core, &call.principal, account, sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `api.v2010.account.message.media`. Fields in sorted order.
#[derive(Serialize)]
struct MediaResource {
    account_sid: AccountSid,
    content_type: String,
    date_created: String,
    date_updated: String,
    parent_sid: MessageSid,
    sid: MediaSid,
    uri: String,
}

impl From<Media> for MediaResource {
    fn from(m: Media) -> Self {
        Self {
            uri: format!(
                "/2010-04-01/Accounts/{}/Messages/{}/Media/{}.json",
                m.account_sid, m.parent_sid, m.sid
            ),
            account_sid: m.account_sid,
            content_type: m.content_type,
            date_created: date(m.date_created),
            date_updated: date(m.date_created),
            parent_sid: m.parent_sid,
            sid: m.sid,
        }
    }
}

async fn list_media(
    call: ApiCall<(AccountSid, MessageSid)>,
    Paging(request): Paging,
) -> Result<V2010Page<MediaResource>> {
    let (account, message) = &call.path;
    let page = messages::list_media(&call.core, &call.principal, account, message, request).await?;
    let list_path = format!("/2010-04-01/Accounts/{account}/Messages/{message}/Media.json");
    Ok(v2010_list(
        "media_list",
        page.map(MediaResource::from),
        &list_path,
        &[],
    ))
}

/// `/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}.json`.
type MediaCall = ApiCall<(AccountSid, MessageSid, JsonSuffixed<MediaSid>)>;

async fn fetch_media(call: MediaCall) -> Result<Json<MediaResource>> {
    let (account, message, JsonSuffixed(sid)) = &call.path;
    let media = messages::fetch_media(&call.core, &call.principal, account, message, sid).await?;
    Ok(Json(media.into()))
}

async fn delete_media(call: MediaCall) -> Result<StatusCode> {
    let (account, message, JsonSuffixed(sid)) = &call.path;
    messages::delete_media(&call.core, &call.principal, account, message, sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
