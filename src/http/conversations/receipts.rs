//! Message delivery receipts on both path families:
//! `…/Conversations/{ConversationSid}/Messages/{Sid}/Receipts[/{ReceiptSid}]`. Receipts record
//! deliveries to non-chat participants, and none is emulated yet (issue 19): the list is an
//! empty page and a fetch is 404, once the message itself is found.

use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::extract::Family;
use crate::{
    domain::{
        conversations::messages,
        paging::Page,
        sid::{ConversationMessageSid, ReceiptSid, ServiceSid},
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

/// `…conversation_message_receipt`: none exists yet, so the page's item type has no values.
#[derive(Serialize)]
enum ReceiptResource {}

async fn list_receipts(
    call: ApiCall<ReceiptsPath>,
    Paging(request): Paging<MAX_RECEIPTS_PAGE>,
) -> Result<Listed<ReceiptResource>> {
    let (conversation, message) = messages::fetch_message(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.message,
    )
    .await?;
    let page: Page<ReceiptResource> = Page::from_rows(request, Vec::new(), |_| 0);
    let tail = format!(
        "/Conversations/{}/Messages/{}/Receipts",
        conversation.sid, message.sid
    );
    call.family_list(
        "delivery_receipts",
        &conversation.service_sid,
        &tail,
        page,
        |_, none| none,
    )
}

async fn fetch_receipt(call: ApiCall<ReceiptsPath>) -> Result<axum::Json<ReceiptResource>> {
    messages::fetch_message(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.message,
    )
    .await?;
    let _ = &call.path.receipt;
    Err(Error::NotFound)
}
