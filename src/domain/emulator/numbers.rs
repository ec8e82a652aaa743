//! `/_localtwilio/Numbers`: the operator attaches one of the account's numbers to a Studio
//! flow, as Twilio's console does under a number's "A message comes in → Studio Flow". An
//! inbound message to that number which no waiting execution and no conversation takes starts
//! an execution of the flow (trigger event `incomingMessage`).
//!
//! Why this and not IncomingPhoneNumbers `SmsUrl` *(ours)*: localtwilio serves no
//! IncomingPhoneNumbers resource, and an `SmsUrl` is a URL of Twilio's Studio webhook host
//! (`https://webhooks.twilio.com/v1/Accounts/{AC}/Flows/{FW}`) that would have to be parsed
//! back into a flow; a number → flow table says the same thing directly, is checked (the flow
//! must be the account's), and goes away with the flow.

use tracing::instrument;

use crate::{
    domain::{Core, auth::Principal, messages, read_back, sid::FlowSid, time},
    error::{Error, Result},
    store::emulator::numbers::NumberRow,
};

/// A number attached to a flow.
#[derive(Debug, Clone)]
pub struct Number {
    pub account_sid: String,
    pub phone_number: String,
    pub flow_sid: FlowSid,
    pub date_created: i64,
    pub date_updated: i64,
}

read_back!(|row: NumberRow| -> Number {
    parsed: flow_sid;
    copied: account_sid, phone_number, date_created, date_updated;
});

/// `PhoneNumber` as stored: normalised as a 2010 Message's address is (so `+1 555-123-0000`
/// and `+15551230000` are one number).
pub fn phone_number(raw: Option<&str>) -> Result<String> {
    let raw = raw.map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Err(Error::missing("PhoneNumber"));
    }
    messages::address(raw)
        .ok_or_else(|| Error::invalid(format!("Invalid parameter PhoneNumber: {raw}")))
}

/// Attaches (or re-attaches) the number to the caller's flow; 404 for another's flow.
#[instrument(skip_all)]
pub async fn attach(
    core: &Core,
    principal: &Principal,
    phone_number: &str,
    flow_sid: &FlowSid,
) -> Result<Number> {
    let row = core
        .store
        .attach_number(
            principal.account_sid.as_str(),
            phone_number,
            flow_sid.as_str(),
            time::now(),
        )
        .await?
        .ok_or(Error::NotFound)?;
    Number::try_from(row)
}

pub async fn list(core: &Core, principal: &Principal) -> Result<Vec<Number>> {
    core.store
        .list_numbers(principal.account_sid.as_str())
        .await?
        .into_iter()
        .map(Number::try_from)
        .collect()
}

pub async fn fetch(core: &Core, principal: &Principal, phone_number: &str) -> Result<Number> {
    core.store
        .fetch_number(principal.account_sid.as_str(), phone_number)
        .await?
        .map(Number::try_from)
        .transpose()?
        .ok_or(Error::NotFound)
}

#[instrument(skip_all)]
pub async fn detach(core: &Core, principal: &Principal, phone_number: &str) -> Result<()> {
    if core
        .store
        .detach_number(principal.account_sid.as_str(), phone_number)
        .await?
    {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}
