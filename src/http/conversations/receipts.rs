//! Message delivery receipts on both path families:
//! `…/Conversations/{ConversationSid}/Messages/{Sid}/Receipts[/{ReceiptSid}]`: one per non-chat
//! participant the message was sent to as an SMS (see `domain::conversations::receipts`).

use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::extract::Family;
use crate::{
    domain::{
        conversations::receipts::{self, Receipt},
        sid::{ConversationMessageSid, ReceiptSid, ServiceSid},
        time::iso8601,
    },
    error::{Error, Result},
    http::{
        call::{ApiCall, Listed},
        paging::Paging,
        routing::routes,
    },
};

routes! {
    both families:
    "/Conversations/{ConversationSid}/Messages/{Sid}/Receipts" => get(list_receipts),
    "/Conversations/{ConversationSid}/Messages/{Sid}/Receipts/{ReceiptSid}" => get(fetch_receipt),
}

/// Spec maximum `PageSize` of Receipts.
const MAX_RECEIPTS_PAGE: u32 = 50;

#[derive(Debug, Deserialize)]
struct ReceiptsPath {
    #[serde(rename = "ServiceSid", default)]
    service: Option<ServiceSid>,
    #[serde(rename = "ConversationSid")]
    conversation: String,
    #[serde(rename = "Sid")]
    message: ConversationMessageSid,
    #[serde(rename = "ReceiptSid", default)]
    receipt: Option<ReceiptSid>,
}

impl Family for ReceiptsPath {
    fn service(&self) -> Option<&ServiceSid> {
        self.service.as_ref()
    }
}

/// `…conversation_message_receipt` / `…service_conversation_message_receipt` (which alone
/// has `chat_service_sid`); fields in alphabetical order.
#[derive(Serialize)]
struct ReceiptResource {
    account_sid: String,
    channel_message_sid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_service_sid: Option<ServiceSid>,
    conversation_sid: String,
    date_created: String,
    date_updated: String,
    /// Not nullable in the spec; its examples show `0` for no error.
    error_code: i64,
    message_sid: String,
    participant_sid: String,
    sid: String,
    status: &'static str,
    url: String,
}

impl ReceiptResource {
    fn new(family_url: &str, service: Option<ServiceSid>, r: Receipt) -> Self {
        Self {
            url: format!(
                "{family_url}/Conversations/{}/Messages/{}/Receipts/{}",
                r.conversation_sid, r.message_sid, r.sid
            ),
            account_sid: r.account_sid,
            channel_message_sid: r.channel_message_sid,
            chat_service_sid: service,
            conversation_sid: r.conversation_sid,
            date_created: iso8601(r.date_created),
            date_updated: iso8601(r.date_updated),
            error_code: r.error_code.unwrap_or(0),
            message_sid: r.message_sid,
            participant_sid: r.participant_sid,
            sid: r.sid,
            status: r.status,
        }
    }
}

async fn list_receipts(
    call: ApiCall<ReceiptsPath>,
    Paging(request): Paging<MAX_RECEIPTS_PAGE>,
) -> Result<Listed<ReceiptResource>> {
    let (conversation, message, page) = receipts::list_receipts(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.message,
        request,
    )
    .await?;
    let tail = format!(
        "/Conversations/{}/Messages/{}/Receipts",
        conversation.sid, message.sid
    );
    let service = call.family_service(&conversation.service_sid);
    call.family_list(
        "delivery_receipts",
        &conversation.service_sid,
        &tail,
        page,
        |family_url, r| ReceiptResource::new(family_url, service.clone(), r),
    )
}

async fn fetch_receipt(call: ApiCall<ReceiptsPath>) -> Result<axum::Json<ReceiptResource>> {
    let Some(sid) = call.path.receipt.clone() else {
        return Err(Error::NotFound);
    };
    let (conversation, _, receipt) = receipts::fetch_receipt(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.message,
        &sid,
    )
    .await?;
    Ok(axum::Json(ReceiptResource::new(
        &call.family_url(&conversation.service_sid),
        call.family_service(&conversation.service_sid),
        receipt,
    )))
}
