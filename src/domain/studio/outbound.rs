//! The messages flows send (`send-message`, `send-and-wait-for-reply`): the one place the
//! engine hands a message to the Messages resource, and what the widget sees of it
//! (`widgets.<name>.outbound`, a 2010 Message in PascalCase, as in a real execution context).

use serde_json::{Value, json};

use crate::{
    domain::{Core, sid::AccountSid, time},
    error::Result,
};

/// What a widget sends.
pub struct Outbound<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub media_urls: Vec<String>,
}

/// Records `message` as an outbound-api Message of the account and returns it as the
/// widget's `outbound` object. Nothing leaves the machine.
pub async fn record_message(
    _core: &Core,
    account_sid: &AccountSid,
    message: Outbound<'_>,
) -> Result<Value> {
    // Until the Messages resource lands (issue 18, branch `msgs`), the message is described
    // but not stored.
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    let service = message
        .from
        .starts_with("MG")
        .then(|| message.from.to_owned());
    Ok(json!({
        "AccountSid": account_sid,
        "Body": message.body,
        "DateCreated": time::rfc2822(time::now()),
        "Direction": "outbound-api",
        "From": message.from,
        "MessagingServiceSid": service,
        "NumMedia": message.media_urls.len().to_string(),
        "NumSegments": "1",
        "Sid": sid,
        "Status": "accepted",
        "To": message.to,
    }))
}
