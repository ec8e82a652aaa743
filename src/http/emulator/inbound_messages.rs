//! `POST /_localtwilio/InboundMessages`: the contact's phone sends a message to one of the
//! account's numbers (see `domain::emulator::inbound_messages`). The answer is the inbound
//! 2010 Message it recorded, and `routed_to`: where it went.

use axum::routing::post;
use serde::{Deserialize, Serialize};

use crate::{
    domain::emulator::inbound_messages::{self, InboundInput, Routed},
    error::Result,
    http::{
        call::{ApiCall, Created, created},
        messages::MessageResource,
        routing::routes,
    },
};

routes! {
    "/_localtwilio/InboundMessages" => post(receive),
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InboundForm {
    from: Option<String>,
    to: Option<String>,
    body: Option<String>,
    #[serde(default)]
    media_url: Vec<String>,
}

/// Where the message went; fields in alphabetical order, absent ones null.
#[derive(Serialize)]
struct RoutedResource {
    conversation_sid: Option<String>,
    execution_sid: Option<String>,
    flow_sid: Option<String>,
    /// `execution-resumed`, `conversation`, `execution-started` or `recorded`.
    kind: &'static str,
    message_sid: Option<String>,
}

impl From<Routed> for RoutedResource {
    fn from(routed: Routed) -> Self {
        let kind = routed.kind();
        let mut out = Self {
            conversation_sid: None,
            execution_sid: None,
            flow_sid: None,
            kind,
            message_sid: None,
        };
        match routed {
            Routed::Execution {
                flow_sid,
                execution_sid,
                ..
            } => {
                out.flow_sid = Some(flow_sid);
                out.execution_sid = Some(execution_sid);
            }
            Routed::Conversation {
                conversation_sid,
                message_sid,
            } => {
                out.conversation_sid = Some(conversation_sid);
                out.message_sid = Some(message_sid);
            }
            Routed::Recorded => {}
        }
        out
    }
}

/// The 2010 Message's fields, then `routed_to`.
#[derive(Serialize)]
struct ReceivedResource {
    #[serde(flatten)]
    message: MessageResource,
    routed_to: RoutedResource,
}

async fn receive(call: ApiCall<(), InboundForm>) -> Result<Created<ReceivedResource>> {
    let form = call.form;
    let received = inbound_messages::receive(
        &call.core,
        &call.principal,
        InboundInput {
            from: form.from,
            to: form.to,
            body: form.body,
            media_urls: form.media_url,
        },
    )
    .await?;
    created(ReceivedResource {
        message: received.message.into(),
        routed_to: received.routed.into(),
    })
}
