//! The messages flows send (`send-message`, `send-and-wait-for-reply`): the one place the
//! engine hands a message to the Messages resource (`domain::messages::send`, so a test asks
//! `GET …/Messages.json?To=…` what a flow sent, as it would ask Twilio), and what the widget
//! sees of it (`widgets.<name>.outbound`, the Message in PascalCase, as in a real execution
//! context). Nothing leaves the machine.

use serde_json::{Value, json};

use crate::{
    domain::{
        Core,
        messages::{self, NewMessageInput},
        sid::AccountSid,
        time,
    },
    error::{Error, Result},
};

/// What a widget sends.
pub struct Outbound<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub media_urls: Vec<String>,
}

/// Records `message` as an outbound-api Message of the account and returns it as the
/// widget's `outbound` object; `Ok(Err(reason))` when the Messages resource refuses it (a bad
/// `To`, say: the widget then fails, as a failed send does on Twilio).
pub async fn record_message(
    core: &Core,
    account_sid: &AccountSid,
    message: Outbound<'_>,
) -> Result<Result<Value, String>> {
    let mut input =
        NewMessageInput::outbound(account_sid.clone(), message.from, message.to, message.body);
    // "For SMS, this can also be a Messaging Service SID" (spec, `From` of an Execution).
    if message.from.starts_with("MG") {
        input.messaging_service_sid = Some(message.from.to_owned());
        input.from = None;
    }
    input.media_urls = message.media_urls;
    let sent = match messages::send(core, input).await {
        Ok(sent) => sent,
        Err(Error::Invalid { code, message, .. }) => return Ok(Err(format!("{code}: {message}"))),
        Err(other) => return Err(other),
    };
    Ok(Ok(json!({
        "AccountSid": sent.account_sid,
        "Body": sent.body,
        "DateCreated": time::rfc2822(sent.date_created / 1000),
        "Direction": sent.direction.as_str(),
        "ErrorCode": sent.error_code,
        "From": sent.from,
        "MessagingServiceSid": sent.messaging_service_sid,
        "NumMedia": sent.num_media.to_string(),
        "NumSegments": sent.num_segments.to_string(),
        "Sid": sent.sid,
        "Status": sent.status,
        "To": sent.to,
    })))
}
