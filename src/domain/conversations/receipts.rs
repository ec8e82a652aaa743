//! Delivery receipts (`…/Messages/{IM}/Receipts[/{DY}]`): one per non-chat participant a
//! message was sent to as a 2010 Message (written with the message, `messages::post`). A
//! receipt's status is its 2010 Message's as it stands now (`sent` until the message is sent
//! *(ours: the receipt enum has no `queued`)*, then `delivered`, `undelivered` or `failed`),
//! with that message's error code.

use std::collections::HashMap;

use super::{conversations::Conversation, messages, scope::Scope};
use crate::{
    domain::{
        Core,
        auth::Principal,
        paging::{Page, PageRequest},
        sid::{ConversationMessageSid, ReceiptSid},
        time,
    },
    error::{Error, Result},
    store::{conversations::ReceiptRow, messages::MessageRow},
};

/// `…conversation_message_receipt`.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub sid: String,
    pub account_sid: String,
    pub conversation_sid: String,
    pub message_sid: String,
    pub participant_sid: String,
    pub channel_message_sid: String,
    pub status: &'static str,
    pub error_code: Option<i64>,
    pub date_created: i64,
    /// When its status last changed (epoch seconds).
    pub date_updated: i64,
}

fn receipt(row: ReceiptRow, channel: Option<MessageRow>, now_ms: i64) -> Result<Receipt> {
    let (status, error_code, date_updated) = match channel {
        Some(channel) => messages::channel_status(channel, now_ms)?,
        // Its 2010 Message was deleted: it was sent *(ours)*.
        None => ("sent", None, row.date_created),
    };
    Ok(Receipt {
        sid: row.sid,
        account_sid: row.account_sid,
        conversation_sid: row.conversation_sid,
        message_sid: row.message_sid,
        participant_sid: row.participant_sid,
        channel_message_sid: row.channel_message_sid,
        status,
        error_code,
        date_created: row.date_created,
        date_updated: date_updated.max(row.date_created),
    })
}

/// The receipts of `rows` (one message's, so one account's) with the statuses of their 2010
/// Messages, read in one query for the lot.
async fn receipts(core: &Core, rows: Vec<ReceiptRow>) -> Result<Vec<Receipt>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let sids: Vec<String> = rows.iter().map(|r| r.channel_message_sid.clone()).collect();
    // Each receipt names an SMS of its own (one per participant it was sent to).
    let mut channel: HashMap<String, MessageRow> = core
        .store
        .messages_by_sid(&first.account_sid, &sids)
        .await?
        .into_iter()
        .map(|m| (m.sid.clone(), m))
        .collect();
    let now_ms = time::now_ms();
    rows.into_iter()
        .map(|row| {
            let sms = channel.remove(&row.channel_message_sid);
            receipt(row, sms, now_ms)
        })
        .collect()
}

pub async fn list_receipts(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    message: &ConversationMessageSid,
    request: PageRequest,
) -> Result<(Conversation, messages::Message, Page<Receipt>)> {
    let (conversation, message) =
        messages::find_message(core, principal, scope, conversation, message).await?;
    let rows = core
        .store
        .message_receipts(message.sid.as_str(), request.keyset())
        .await?;
    let mut page = Page::from_rows(request, rows, |r| r.seq);
    let items = receipts(core, std::mem::take(&mut page.items)).await?;
    let page = Page {
        items,
        request: page.request,
        next_token: page.next_token,
        previous_token: page.previous_token,
    };
    Ok((conversation, message, page))
}

pub async fn fetch_receipt(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    message: &ConversationMessageSid,
    sid: &ReceiptSid,
) -> Result<(Conversation, messages::Message, Receipt)> {
    let (conversation, message) =
        messages::find_message(core, principal, scope, conversation, message).await?;
    let row = core
        .store
        .message_receipt(message.sid.as_str(), sid.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    let receipt = receipts(core, vec![row])
        .await?
        .pop()
        .ok_or_else(|| Error::internal(anyhow::anyhow!("a receipt went missing")))?;
    Ok((conversation, message, receipt))
}
