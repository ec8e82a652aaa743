//! TrustHub v1: EndUsers and the EndUserTypes catalog (seed page 003, spec
//! `twilio_trusthub_v1.json`, DESIGN.md "TrustHub").
//!
//! - `Type` must be a `machine_name` of the catalog shipped in migration 0003 (which holds
//!   `individual`, `business` and the types Twilio documents for end users); anything else is
//!   400 20001 *(ours: Twilio documents no code)*. `Type` cannot be updated.
//! - `Attributes` is JSON text that must be an object; `{}` when omitted. Keys the type does not
//!   list are kept, not rejected *(ours)*: Twilio publishes field lists only for some types, so
//!   rejecting unknown keys would refuse data Twilio accepts. Values Twilio documents as a closed
//!   set (`business_identity`, `business_industry`) are checked.

use serde_json::Value;
use tracing::instrument;

use super::{
    Core,
    auth::Principal,
    paging::{Page, PageRequest},
    sid::{AccountSid, EndUserSid, EndUserTypeSid},
    time,
};
use crate::{
    error::{Error, Result},
    store::end_users::{EndUserRow, EndUserTypeRow},
};

#[derive(Debug, Clone)]
pub struct EndUser {
    pub sid: EndUserSid,
    pub account_sid: AccountSid,
    pub friendly_name: String,
    pub kind: String,
    pub attributes: Value,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone)]
pub struct EndUserType {
    pub sid: EndUserTypeSid,
    pub machine_name: String,
    pub friendly_name: String,
    pub fields: Value,
}

fn to_end_user(row: EndUserRow) -> Result<EndUser> {
    let bad = || Error::internal(anyhow::anyhow!("malformed end user row {}", row.seq));
    Ok(EndUser {
        sid: EndUserSid::parse(&row.sid).ok_or_else(bad)?,
        account_sid: AccountSid::parse(&row.account_sid).ok_or_else(bad)?,
        attributes: serde_json::from_str(&row.attributes).map_err(|_| bad())?,
        friendly_name: row.friendly_name,
        kind: row.r#type,
        date_created: row.date_created,
        date_updated: row.date_updated,
    })
}

fn to_end_user_type(row: EndUserTypeRow) -> Result<EndUserType> {
    let bad = || Error::internal(anyhow::anyhow!("malformed end user type row {}", row.seq));
    Ok(EndUserType {
        sid: EndUserTypeSid::parse(&row.sid).ok_or_else(bad)?,
        fields: serde_json::from_str(&row.fields).map_err(|_| bad())?,
        machine_name: row.machine_name,
        friendly_name: row.friendly_name,
    })
}

/// Documented closed value sets (../shared/reference/trusthub-end-user-types.md §3, from
/// Twilio's "Create a Secondary Customer Profile" guide).
const CLOSED_SETS: &[(&str, &[&str])] = &[
    (
        "business_identity",
        &["direct_customer", "isv_reseller_or_partner", "unknown"],
    ),
    (
        "business_industry",
        &[
            "AGRICULTURE",
            "AUTOMOTIVE",
            "BANKING",
            "CONSUMER",
            "EDUCATION",
            "ELECTRONICS",
            "ENERGY",
            "ENGINEERING",
            "FAST_MOVING_CONSUMER_GOODS",
            "FINANCIAL",
            "FINTECH",
            "FOOD_AND_BEVERAGE",
            "GOVERNMENT",
            "HEALTHCARE",
            "HOSPITALITY",
            "INSURANCE",
            "JEWELRY",
            "LEGAL",
            "MANUFACTURING",
            "MEDIA",
            "NOT_FOR_PROFIT",
            "OIL_AND_GAS",
            "ONLINE",
            "RAW_MATERIALS",
            "REAL_ESTATE",
            "RELIGION",
            "RETAIL",
            "TECHNOLOGY",
            "TELECOMMUNICATIONS",
            "TRANSPORTATION",
            "TRAVEL",
        ],
    ),
];

/// `Attributes`: JSON text of an object, with documented closed sets respected. Returns the
/// canonical text to store.
pub fn parse_attributes(text: &str) -> Result<String> {
    // Twilio documents no limit for end users; 16 KiB as for Conversations attributes *(ours)*.
    super::check_bytes(Some(text), "Attributes", 16 * 1024)?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::invalid(format!(
            "Invalid parameter Attributes: not valid JSON ({e})"
        ))
    })?;
    let Value::Object(map) = &value else {
        return Err(Error::invalid(
            "Invalid parameter Attributes: must be a JSON object",
        ));
    };
    for (field, allowed) in CLOSED_SETS {
        if let Some(given) = map.get(*field)
            && !given.as_str().is_some_and(|s| allowed.contains(&s))
        {
            return Err(Error::invalid(format!(
                "Invalid parameter Attributes: {field} must be one of {}",
                allowed.join(", ")
            )));
        }
    }
    Ok(value.to_string())
}

/// Twilio documents no limit for end-user names *(ours: 256, as for other names)*.
pub(crate) fn check_friendly_name(name: Option<&str>) -> Result<()> {
    super::check_chars(name, "FriendlyName", 256)
}

/// `Type` must be a `machine_name` of the catalog (the catalog is read-only: migration data).
pub(crate) async fn require_known_type(core: &Core, kind: &str) -> Result<()> {
    let known = core
        .store
        .fetch_end_user_type(kind)
        .await?
        .is_some_and(|t| t.machine_name == kind);
    if known {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "Invalid parameter Type: '{kind}' is not an EndUserType machine_name (see GET /v1/EndUserTypes)"
        )))
    }
}

#[instrument(skip_all)]
pub async fn create(
    core: &Core,
    principal: &Principal,
    friendly_name: &str,
    kind: &str,
    attributes: Option<&str>,
) -> Result<EndUser> {
    check_friendly_name(Some(friendly_name))?;
    require_known_type(core, kind).await?;
    let attributes = match attributes {
        Some(text) => parse_attributes(text)?,
        None => "{}".to_owned(),
    };
    let row = core
        .store
        .insert_end_user(
            EndUserSid::new().as_str(),
            principal.account_sid.as_str(),
            friendly_name,
            kind,
            &attributes,
            time::now(),
        )
        .await?;
    to_end_user(row)
}

pub async fn fetch(core: &Core, principal: &Principal, sid: &EndUserSid) -> Result<EndUser> {
    let row = core
        .store
        .fetch_end_user(principal.account_sid.as_str(), sid.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    to_end_user(row)
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    request: PageRequest,
) -> Result<Page<EndUser>> {
    let rows = core
        .store
        .list_end_users(principal.account_sid.as_str(), request.keyset())
        .await?;
    Page::from_rows(request, rows, |r| r.seq).try_map(to_end_user)
}

#[instrument(skip_all)]
pub async fn update(
    core: &Core,
    principal: &Principal,
    sid: &EndUserSid,
    friendly_name: Option<&str>,
    attributes: Option<&str>,
) -> Result<EndUser> {
    check_friendly_name(friendly_name)?;
    let attributes = attributes.map(parse_attributes).transpose()?;
    let row = core
        .store
        .update_end_user(
            principal.account_sid.as_str(),
            sid.as_str(),
            friendly_name,
            attributes.as_deref(),
            time::now(),
        )
        .await?
        .ok_or(Error::NotFound)?;
    to_end_user(row)
}

#[instrument(skip_all)]
pub async fn delete(core: &Core, principal: &Principal, sid: &EndUserSid) -> Result<()> {
    if core
        .store
        .delete_end_user(principal.account_sid.as_str(), sid.as_str())
        .await?
    {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// By `OY` SID, or by `machine_name` (the form Twilio's Policy requirements link to:
/// `/EndUserTypes/<machine_name>`).
pub async fn fetch_type(core: &Core, sid_or_name: &str) -> Result<EndUserType> {
    let row = core
        .store
        .fetch_end_user_type(sid_or_name)
        .await?
        .ok_or(Error::NotFound)?;
    to_end_user_type(row)
}

pub async fn list_types(core: &Core, request: PageRequest) -> Result<Page<EndUserType>> {
    let rows = core.store.list_end_user_types(request.keyset()).await?;
    Page::from_rows(request, rows, |r| r.seq).try_map(to_end_user_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_must_be_an_object_and_keep_numbers_exactly() {
        assert!(parse_attributes("[1]").is_err());
        assert!(parse_attributes("\"x\"").is_err());
        assert!(parse_attributes("{bad").is_err());
        let text =
            parse_attributes(r#"{"n": 12345678901234567890123, "f": 1.10, "u": "é"}"#).unwrap();
        assert!(
            text.contains("12345678901234567890123") && text.contains("1.10"),
            "{text}"
        );
    }

    #[test]
    fn documented_closed_sets_are_checked() {
        assert!(parse_attributes(r#"{"business_identity": "direct_customer"}"#).is_ok());
        assert!(parse_attributes(r#"{"business_identity": "someone"}"#).is_err());
        assert!(parse_attributes(r#"{"business_industry": 7}"#).is_err());
    }
}
