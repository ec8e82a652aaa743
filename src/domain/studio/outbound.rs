//! The messages flows send (`send-message`, `send-and-wait-for-reply`): the one place the
//! engine hands a message to the Messages resource (`domain::messages::prepare`, written with
//! the run's steps; a test asks
//! `GET …/Messages.json?To=…` what a flow sent, as it would ask Twilio), and what the widget
//! sees of it (`widgets.<name>.outbound`, the Message in PascalCase, as in a real execution
//! context). Nothing leaves the machine.

use serde_json::{Value, json};

use crate::{
    domain::{
        messages::{self, Message, NewMessageInput},
        sid::AccountSid,
        time,
    },
    error::{Error, Result},
    store::messages::NewMessage,
};

/// What a widget sends.
pub struct Outbound<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub media_urls: Vec<String>,
}

/// Checks `message` as the Messages resource would (`messages::prepare`) and returns the row
/// to write with the execution's run (in the same transaction as its steps) and the widget's
/// `outbound` object; `Ok(Err(reason))` when the Messages resource refuses it (a bad `To`,
/// say: the widget then fails, as a failed send does on Twilio).
pub fn prepare_message(
    account_sid: &AccountSid,
    message: Outbound<'_>,
    now_ms: i64,
) -> Result<Result<(NewMessage, Value), String>> {
    let mut input =
        NewMessageInput::outbound(account_sid.clone(), message.from, message.to, message.body);
    // "For SMS, this can also be a Messaging Service SID" (spec, `From` of an Execution).
    if message.from.starts_with("MG") {
        input.messaging_service_sid = Some(message.from.to_owned());
        input.from = None;
    }
    input.media_urls = message.media_urls;
    let prepared = match messages::prepare(input, now_ms) {
        Ok(prepared) => prepared,
        Err(Error::Invalid { code, message, .. }) => return Ok(Err(format!("{code}: {message}"))),
        Err(other) => return Err(other),
    };
    let sent = Message::at(prepared.row.clone(), now_ms)?;
    let outbound = json!({
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
    });
    Ok(Ok((prepared, outbound)))
}
