//! `/_localtwilio/Numbers[/{PhoneNumber}]`: numbers attached to Studio flows (see
//! `domain::emulator::numbers`).

use axum::{
    Json,
    http::StatusCode,
    routing::{delete, get},
};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        emulator::numbers::{self, Number},
        sid::FlowSid,
        time::iso8601,
    },
    error::{Error, Result},
    http::{
        call::{ApiCall, Created, created},
        routing::routes,
    },
};

routes! {
    "/_localtwilio/Numbers" => get(list_numbers).post(attach_number),
    "/_localtwilio/Numbers/{PhoneNumber}" => delete(detach_number).get(fetch_number),
}

/// A number attached to a flow; fields in alphabetical order.
#[derive(Serialize)]
struct NumberResource {
    account_sid: String,
    date_created: String,
    date_updated: String,
    flow_sid: FlowSid,
    phone_number: String,
    url: String,
}

impl NumberResource {
    fn new(n: Number, base: &str) -> Self {
        Self {
            url: format!(
                "{base}/_localtwilio/Numbers/{}",
                n.phone_number.replace('+', "%2B")
            ),
            account_sid: n.account_sid,
            date_created: iso8601(n.date_created),
            date_updated: iso8601(n.date_updated),
            flow_sid: n.flow_sid,
            phone_number: n.phone_number,
        }
    }
}

#[derive(Serialize)]
struct NumbersResource {
    numbers: Vec<NumberResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttachForm {
    phone_number: Option<String>,
    flow_sid: Option<String>,
}

async fn attach_number(call: ApiCall<(), AttachForm>) -> Result<Created<NumberResource>> {
    let phone_number = numbers::phone_number(call.form.phone_number.as_deref())?;
    let raw = call.form.flow_sid.unwrap_or_default();
    if raw.is_empty() {
        return Err(Error::missing("FlowSid"));
    }
    let flow_sid = FlowSid::parse(&raw).ok_or_else(|| {
        Error::invalid("Invalid parameter FlowSid: must match ^FW[0-9a-fA-F]{32}$")
    })?;
    let number = numbers::attach(&call.core, &call.principal, &phone_number, &flow_sid).await?;
    created(NumberResource::new(number, &call.base))
}

async fn list_numbers(call: ApiCall) -> Result<Json<NumbersResource>> {
    let list = numbers::list(&call.core, &call.principal).await?;
    Ok(Json(NumbersResource {
        numbers: list
            .into_iter()
            .map(|n| NumberResource::new(n, &call.base))
            .collect(),
    }))
}

#[derive(Deserialize)]
struct NumberPath {
    #[serde(rename = "PhoneNumber")]
    phone_number: String,
}

fn path_number(path: &NumberPath) -> Result<String> {
    numbers::phone_number(Some(&path.phone_number)).map_err(|_| Error::NotFound)
}

async fn fetch_number(call: ApiCall<NumberPath>) -> Result<Json<NumberResource>> {
    let number = numbers::fetch(&call.core, &call.principal, &path_number(&call.path)?).await?;
    Ok(Json(NumberResource::new(number, &call.base)))
}

async fn detach_number(call: ApiCall<NumberPath>) -> Result<StatusCode> {
    numbers::detach(&call.core, &call.principal, &path_number(&call.path)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
