//! The EndUserTypes catalog (`trusthub.v1.end_user_type`): read-only data shipped in migration
//! `0003_trusthub.sql` (which holds `individual`, `business` and the types Twilio documents for
//! end users), with fixed `OY` SIDs identical on every installation *(ours)*. An end user's
//! `Type` must be one of its `machine_name`s; anything else is 400 20001 *(ours: Twilio
//! documents no code)*.

use serde_json::Value;

use crate::{
    domain::{
        Core, found_value,
        paging::{Page, PageRequest},
        read_back,
        sid::EndUserTypeSid,
    },
    error::{Error, Result},
    store::trusthub::end_user_types::EndUserTypeRow,
};

#[derive(Debug, Clone)]
pub struct EndUserType {
    pub sid: EndUserTypeSid,
    pub machine_name: String,
    pub friendly_name: String,
    pub fields: Value,
}

read_back!(|row: EndUserTypeRow| -> EndUserType {
    parsed: sid;
    json: fields;
    copied: machine_name, friendly_name;
});

/// `Type` must be a `machine_name` of the catalog (the catalog is read-only: migration data).
pub(crate) async fn require_known_type(core: &Core, kind: &str) -> Result<()> {
    if found_before(kind) {
        return Ok(());
    }
    let known = core
        .store
        .fetch_end_user_type(kind)
        .await?
        .is_some_and(|t| t.machine_name == kind);
    if known {
        remember(kind);
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "Invalid parameter Type: '{kind}' is not an EndUserType machine_name (see GET /v1/EndUserTypes)"
        )))
    }
}

/// Machine names the catalog was found to hold, in this process. The catalog is migration data
/// (fixed rows, additive migrations only: every database this binary opens holds at least
/// them), so a name found once stays valid, and an end-user create of a known type skips the
/// catalog query (one read on the pool per create before the write). Unknown names are asked
/// of the database each time. A handful of names at most: the catalog's own.
static FOUND: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

fn found_before(kind: &str) -> bool {
    FOUND
        .read()
        .is_ok_and(|found| found.iter().any(|name| name == kind))
}

fn remember(kind: &str) {
    if let Ok(mut found) = FOUND.write()
        && !found.iter().any(|name| name == kind)
    {
        found.push(kind.to_owned());
    }
}

/// The catalog's fields as `machine_name` → `friendly_name` (what evaluations name fields by).
pub(crate) fn field_names(kind: &EndUserType) -> Vec<(String, String)> {
    kind.fields
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| {
                    Some((
                        f.get("machine_name")?.as_str()?.to_owned(),
                        f.get("friendly_name")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// By `OY` SID, or by `machine_name` (the form Twilio's Policy requirements link to:
/// `/EndUserTypes/<machine_name>`).
pub async fn fetch(core: &Core, sid_or_name: &str) -> Result<EndUserType> {
    found_value(core.store.fetch_end_user_type(sid_or_name).await?)
}

pub async fn list(core: &Core, request: PageRequest) -> Result<Page<EndUserType>> {
    let rows = core.store.list_end_user_types(request.keyset()).await?;
    Page::from_rows(request, rows, |r| r.seq).try_map(EndUserType::try_from)
}
