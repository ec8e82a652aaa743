//! EndUsers (`trusthub.v1.end_user`): create, fetch, list, update, delete.
//!
//! - `Type` must be a `machine_name` of the EndUserTypes catalog (see `end_user_types`);
//!   `Type` cannot be updated.
//! - `Attributes` is JSON text that must be an object; `{}` when omitted. Keys the type does not
//!   list are kept, not rejected *(ours)*: Twilio publishes field lists only for some types, so
//!   rejecting unknown keys would refuse data Twilio accepts. Values Twilio documents as a closed
//!   set (`business_identity`, `business_industry`) are checked.

use serde_json::Value;
use tracing::instrument;

use super::end_user_types::require_known_type;
use crate::{
    domain::{
        Core,
        auth::Principal,
        check_bytes, check_chars, fetch_owned, found_value, list_owned,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, EndUserSid},
        time,
    },
    error::{Error, Result},
    store::{
        query::Owned,
        trusthub::{end_users::EndUserRow, entity_assignments::Unassigned},
    },
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

read_back!(|row: EndUserRow| -> EndUser {
    parsed: sid, account_sid;
    json: attributes;
    computed: kind = row.r#type;
    copied: friendly_name, date_created, date_updated;
});

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
    check_bytes(Some(text), "Attributes", 16 * 1024)?;
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
    check_chars(name, "FriendlyName", 256)
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
    EndUser::try_from(row)
}

pub async fn fetch(core: &Core, principal: &Principal, sid: &EndUserSid) -> Result<EndUser> {
    fetch_owned::<EndUserRow, _>(core, &principal.account_sid, sid).await
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    request: PageRequest,
) -> Result<Page<EndUser>> {
    list_owned::<EndUserRow, _>(core, &principal.account_sid, request).await
}

#[instrument(skip_all)]
pub async fn update(
    core: &Core,
    principal: &Principal,
    sid: &EndUserSid,
    friendly_name: Option<&str>,
    attributes: Option<&str>,
) -> Result<EndUser> {
    update_named::<EndUserRow, _>(core, principal, sid, friendly_name, attributes).await
}

/// Renames and/or re-attributes the caller's object with a name and attributes (an end user, a
/// supporting document), each checked as at creation; 404 when the caller has none.
pub(crate) async fn update_named<R: Owned, T: TryFrom<R, Error = Error>>(
    core: &Core,
    principal: &Principal,
    sid: impl AsRef<str>,
    friendly_name: Option<&str>,
    attributes: Option<&str>,
) -> Result<T> {
    check_friendly_name(friendly_name)?;
    let attributes = attributes.map(parse_attributes).transpose()?;
    let row = core
        .store
        .update_named::<R>(
            principal.account_sid.as_str(),
            sid.as_ref(),
            friendly_name,
            attributes.as_deref(),
            time::now(),
        )
        .await?;
    found_value(row)
}

/// An end user assigned to a bundle cannot be deleted: 400 21644 (Twilio's Regulatory code
/// "End-User cannot be deleted due to an active assignment to a Bundle", reused *(ours)*).
#[instrument(skip_all)]
pub async fn delete(core: &Core, principal: &Principal, sid: &EndUserSid) -> Result<()> {
    let outcome = core
        .store
        .delete_unassigned::<EndUserRow>(principal.account_sid.as_str(), sid.as_str())
        .await?;
    unassigned(outcome, "End-User")
}

/// The answer to deleting an assignable object (an end user, a supporting document).
pub(crate) fn unassigned(outcome: Unassigned, what: &str) -> Result<()> {
    match outcome {
        Unassigned::Deleted => Ok(()),
        Unassigned::Missing => Err(Error::NotFound),
        Unassigned::Assigned => Err(Error::invalid_code(
            OBJECT_ASSIGNED,
            format!("{what} cannot be deleted due to an active assignment to a Bundle"),
        )),
    }
}

/// Twilio's 21644 (error page: "End-User cannot be deleted due to an active assignment").
pub const OBJECT_ASSIGNED: u32 = 21644;

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
