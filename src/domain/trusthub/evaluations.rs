//! Evaluations of a bundle (`…_evaluation`, `EL`): what is assigned, judged against a policy's
//! requirements, stored immutably. Create, list, fetch.
//!
//! One result per requirement, in the policy's order (end users, then documents, then
//! supporting profiles), in the shape of the spec's examples: `{friendly_name, object_type,
//! passed, failure_reason, error_code, valid, invalid, requirement_friendly_name,
//! requirement_name}`; `valid` items carry `passed: true` and null reasons, `invalid` items
//! `{friendly_name, object_field, failure_reason, error_code}` (no `passed`, as in the spec).
//!
//! - End user: the first assigned end user of the requirement's type. None → 22214 with every
//!   required field invalid (22215); a required field that is empty or missing → 22215; a value
//!   outside a closed set Twilio documents → 22215 "{Field} should be one of …" *(ours: the
//!   check; Twilio's wording as third parties report it)*.
//! - Document: an assigned supporting document of an accepted type with its fields → 22216 when
//!   none, 22217 for a missing field.
//! - Supporting profile: an assigned Customer Profile whose policy satisfies the listed type
//!   (items sharing a `requirement_name` are alternatives). A Customer Profile needs it
//!   `twilio-approved` (D3); a Trust Product also takes `pending-review`/`in-review` (D2). Twilio
//!   documents no code for these failures: `error_code` is null *(ours)*. A Customer Profile
//!   resting on a primary needs it an ISV's (`business_identity: isv_reseller_or_partner`;
//!   I1's message otherwise).
//! - Optional *(ours, from D2's wording)*: `authorized_representative_2`,
//!   `social_media_profile_urls`, Voice Integrity `notes`, and `stock_exchange`/`stock_ticker`
//!   unless `company_type` is `public`. An absent optional item is in neither list.
//! - `compliant` only when every requirement passed.

use std::collections::HashMap;

use serde_json::{Value, json};
use tracing::instrument;

use super::{
    bundles::{self, APPROVED, Bundle, BundleKind, IN_REVIEW, PENDING_REVIEW},
    end_user_types::{self, field_names},
    end_users::EndUser,
    policies::{self, PRIMARY_PROFILE_TYPE, Policy, ProfileRequirement, Requirements},
    supporting_document_types,
    supporting_documents::SupportingDocument,
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, BundleSid, EndUserSid, EvaluationSid, PolicySid, SupportingDocumentSid},
        time,
    },
    error::Result,
    store::trusthub::{bundles::TrustTx, evaluations::EvaluationRow},
};

pub const COMPLIANT: &str = "compliant";
pub const NONCOMPLIANT: &str = "noncompliant";

/// Twilio's evaluation codes (error pages 22214–22217).
const MISSING_END_USER: u32 = 22214;
const MISSING_END_USER_FIELD: u32 = 22215;
const MISSING_DOCUMENT: u32 = 22216;
const MISSING_DOCUMENT_FIELD: u32 = 22217;

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub sid: EvaluationSid,
    pub bundle_sid: BundleSid,
    pub account_sid: AccountSid,
    pub policy_sid: PolicySid,
    pub status: String,
    pub results: Value,
    pub date_created: i64,
}

read_back!(|row: EvaluationRow| -> Evaluation {
    parsed: sid, bundle_sid, account_sid, policy_sid;
    json: results;
    copied: status, date_created;
});

impl Evaluation {
    pub fn is_compliant(&self) -> bool {
        self.status == COMPLIANT
    }

    /// The `requirement_name`s that did not pass, in order.
    pub fn failing(&self) -> Vec<String> {
        self.results
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["passed"] != Value::Bool(true))
            .filter_map(|r| r["requirement_name"].as_str().map(str::to_owned))
            .collect()
    }
}

/// What a bundle holds, read in its change's transaction.
#[derive(Debug, Default)]
pub struct Assigned {
    pub end_users: Vec<EndUser>,
    pub documents: Vec<SupportingDocument>,
    pub profiles: Vec<HeldProfile>,
}

/// A Customer Profile the bundle holds.
#[derive(Debug)]
pub struct HeldProfile {
    pub bundle: Bundle,
    /// The supporting type its policy satisfies.
    pub supports: Option<String>,
    /// For a primary profile: its business information's `business_identity`.
    pub business_identity: Option<String>,
}

/// I1, D2: a secondary (or starter) profile must rest on an ISV's primary profile.
const ISV_IDENTITY: &str = "isv_reseller_or_partner";

async fn assigned(core: &Core, tx: &mut TrustTx, bundle: &Bundle) -> Result<Assigned> {
    let mut held = Assigned::default();
    for assignment in tx.entity_assignments(bundle.sid.as_str()).await? {
        let sid = assignment.object_sid.as_str();
        // Assigned objects were checked at assignment (an ISV's subaccount may hold its parent's
        // primary profile), so they are read by SID alone.
        if EndUserSid::parse(sid).is_some() {
            if let Some(row) = tx.end_user(None, sid).await? {
                held.end_users.push(EndUser::try_from(row)?);
            }
        } else if SupportingDocumentSid::parse(sid).is_some() {
            if let Some(row) = tx.supporting_document(None, sid).await? {
                held.documents.push(SupportingDocument::try_from(row)?);
            }
        } else if let Some(row) = tx.bundle(sid).await? {
            let supports = core
                .store
                .fetch_policy(&row.policy_sid)
                .await?
                .and_then(|p| p.supports);
            let business_identity = match supports.as_deref() {
                Some(PRIMARY_PROFILE_TYPE) => business_identity(tx, sid).await?,
                _ => None,
            };
            held.profiles.push(HeldProfile {
                bundle: Bundle::try_from(row)?,
                supports,
                business_identity,
            });
        }
    }
    Ok(held)
}

/// The `business_identity` of the business information a profile holds, if any.
async fn business_identity(tx: &mut TrustTx, profile_sid: &str) -> Result<Option<String>> {
    for assignment in tx.entity_assignments(profile_sid).await? {
        if EndUserSid::parse(&assignment.object_sid).is_none() {
            continue;
        }
        if let Some(row) = tx.end_user(None, &assignment.object_sid).await?
            && row.r#type == "customer_profile_business_information"
        {
            let user = EndUser::try_from(row)?;
            return Ok(user.attributes["business_identity"]
                .as_str()
                .map(str::to_owned));
        }
    }
    Ok(None)
}

/// Field names of the types the requirements name: type → [(machine_name, friendly_name)].
pub type FieldNames = HashMap<String, Vec<(String, String)>>;

async fn field_names_for(core: &Core, requirements: &Requirements) -> Result<FieldNames> {
    let mut names = FieldNames::new();
    for r in &requirements.end_user {
        if let Ok(kind) = end_user_types::fetch(core, &r.r#type).await {
            names.insert(r.r#type.clone(), field_names(&kind));
        }
    }
    for accepted in requirements
        .supporting_document
        .iter()
        .flatten()
        .flat_map(|d| &d.accepted_documents)
    {
        if let Ok(kind) = supporting_document_types::fetch(core, &accepted.r#type).await {
            names.insert(accepted.r#type.clone(), field_names(&kind));
        }
    }
    Ok(names)
}

/// Evaluates `bundle` against `policy` and stores the evaluation, in `tx`.
pub(crate) async fn evaluate_and_record(
    core: &Core,
    tx: &mut TrustTx,
    bundle: &Bundle,
    policy: &Policy,
) -> Result<Evaluation> {
    let requirements = policy.typed_requirements()?;
    let names = field_names_for(core, &requirements).await?;
    let held = assigned(core, tx, bundle).await?;
    let results = judge(&requirements, &held, bundle.kind, &names);
    let compliant = results.iter().all(|r| r["passed"] == Value::Bool(true));
    let row = tx
        .insert_evaluation(&EvaluationRow {
            seq: 0,
            sid: EvaluationSid::new().to_string(),
            bundle_sid: bundle.sid.to_string(),
            account_sid: bundle.account_sid.to_string(),
            policy_sid: policy.sid.to_string(),
            status: if compliant { COMPLIANT } else { NONCOMPLIANT }.to_owned(),
            results: Value::Array(results).to_string(),
            date_created: time::now(),
        })
        .await?;
    Evaluation::try_from(row)
}

#[instrument(skip_all)]
pub async fn create(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    policy_sid: &str,
) -> Result<Evaluation> {
    let policy = policies::require(core, policy_sid, "PolicySid").await?;
    let mut tx = core.store.trust_tx().await?;
    let bundle = bundles::fetch_in(&mut tx, principal, kind, bundle_sid).await?;
    let evaluation = evaluate_and_record(core, &mut tx, &bundle, &policy).await?;
    tx.commit().await?;
    Ok(evaluation)
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    request: PageRequest,
) -> Result<Page<Evaluation>> {
    bundles::list_held::<EvaluationRow, _>(core, principal, kind, bundle_sid, request).await
}

pub async fn fetch(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    sid: &EvaluationSid,
) -> Result<Evaluation> {
    bundles::fetch_held::<EvaluationRow, _>(core, principal, kind, bundle_sid, sid).await
}

/// Closed value sets Twilio documents for end-user fields (D3; D2 for `company_type`); a list
/// field holds comma-separated values.
const FIELD_VALUES: &[(&str, &[&str])] = &[
    (
        "job_position",
        &[
            "Director",
            "GM",
            "VP",
            "CEO",
            "CFO",
            "General Counsel",
            "Other",
        ],
    ),
    (
        "business_regions_of_operation",
        &[
            "AFRICA",
            "ASIA",
            "EUROPE",
            "LATIN_AMERICA",
            "USA_AND_CANADA",
            "AUSTRALIA",
        ],
    ),
    (
        "company_type",
        &["private", "public", "non-profit", "government"],
    ),
];

fn present(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// Whether a field may be absent *(ours, see the module comment)*.
fn optional_field(field: &str, attributes: &Value) -> bool {
    match field {
        "social_media_profile_urls" | "notes" => true,
        "stock_exchange" | "stock_ticker" => attributes["company_type"] != "public",
        _ => false,
    }
}

fn optional_requirement(requirement_name: &str) -> bool {
    requirement_name == "authorized_representative_2"
}

/// A field's friendly name from the type catalog, else its machine name in words.
fn friendly(names: &FieldNames, kind: &str, field: &str) -> String {
    names
        .get(kind)
        .and_then(|fields| fields.iter().find(|(m, _)| m == field))
        .map(|(_, f)| f.clone())
        .unwrap_or_else(|| words(field))
}

/// `primary_customer_profile` → "Primary Customer Profile".
fn words(name: &str) -> String {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn valid_item(field: &str, friendly_name: &str) -> Value {
    json!({"object_field": field, "friendly_name": friendly_name, "passed": true,
           "error_code": null, "failure_reason": null})
}

fn invalid_item(field: &str, friendly_name: &str, reason: &str, code: Option<u32>) -> Value {
    json!({"object_field": field, "friendly_name": friendly_name,
           "failure_reason": reason, "error_code": code})
}

#[allow(clippy::too_many_arguments)]
fn result(
    friendly_name: &str,
    object_type: &str,
    failure: Option<(String, Option<u32>)>,
    valid: Vec<Value>,
    invalid: Vec<Value>,
    requirement_friendly_name: &str,
    requirement_name: &str,
) -> Value {
    let (failure_reason, error_code) = match failure {
        Some((reason, code)) => (Some(reason), code),
        None => (None, None),
    };
    json!({
        "friendly_name": friendly_name,
        "object_type": object_type,
        "passed": failure_reason.is_none(),
        "failure_reason": failure_reason,
        "error_code": error_code,
        "valid": valid,
        "invalid": invalid,
        "requirement_friendly_name": requirement_friendly_name,
        "requirement_name": requirement_name,
    })
}

/// Checks `fields` of `attributes`: (valid, invalid) items.
fn check_fields(
    fields: &[String],
    attributes: &Value,
    kind: &str,
    names: &FieldNames,
    on: &str,
    code: u32,
) -> (Vec<Value>, Vec<Value>) {
    let (mut valid, mut invalid) = (Vec::new(), Vec::new());
    for field in fields {
        let name = friendly(names, kind, field);
        let value = attributes.get(field.as_str());
        if !present(value) {
            if !optional_field(field, attributes) {
                let reason =
                    format!("The {name} is missing. Please enter in a {name} on the {on}.");
                invalid.push(invalid_item(field, &name, &reason, Some(code)));
            }
            continue;
        }
        let closed = FIELD_VALUES.iter().find(|(f, _)| f == field);
        if let Some((_, allowed)) = closed {
            let text = value.and_then(Value::as_str).unwrap_or_default();
            if !text.split(',').all(|v| allowed.contains(&v.trim())) {
                let reason = format!("{name} should be one of {}", allowed.join(" "));
                invalid.push(invalid_item(field, &name, &reason, Some(code)));
                continue;
            }
        }
        valid.push(valid_item(field, &name));
    }
    (valid, invalid)
}

/// The first invalid item's reason, as the requirement's.
fn first_failure(invalid: &[Value], code: u32) -> Option<(String, Option<u32>)> {
    invalid.first().map(|item| {
        (
            item["failure_reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            Some(code),
        )
    })
}

/// One result per requirement, in order (see the module comment).
pub fn judge(
    requirements: &Requirements,
    held: &Assigned,
    holder: BundleKind,
    names: &FieldNames,
) -> Vec<Value> {
    let mut results = Vec::new();
    for r in &requirements.end_user {
        let label = words(&r.r#type);
        let on = &r.name;
        let Some(user) = held.end_users.iter().find(|u| u.kind == r.r#type) else {
            if optional_requirement(&r.requirement_name) {
                results.push(result(
                    &r.name,
                    &r.r#type,
                    None,
                    vec![],
                    vec![],
                    &label,
                    &r.requirement_name,
                ));
                continue;
            }
            let (_, invalid) = check_fields(
                &r.fields,
                &Value::Null,
                &r.r#type,
                names,
                on,
                MISSING_END_USER_FIELD,
            );
            let reason = format!(
                "A {} End-User is missing. Please add one to the bundle.",
                r.name
            );
            results.push(result(
                &r.name,
                &r.r#type,
                Some((reason, Some(MISSING_END_USER))),
                vec![],
                invalid,
                &label,
                &r.requirement_name,
            ));
            continue;
        };
        let (valid, invalid) = check_fields(
            &r.fields,
            &user.attributes,
            &r.r#type,
            names,
            on,
            MISSING_END_USER_FIELD,
        );
        let failure = first_failure(&invalid, MISSING_END_USER_FIELD);
        results.push(result(
            &r.name,
            &r.r#type,
            failure,
            valid,
            invalid,
            &label,
            &r.requirement_name,
        ));
    }
    for r in requirements.supporting_document.iter().flatten() {
        let found = r.accepted_documents.iter().find_map(|accepted| {
            held.documents
                .iter()
                .find(|d| d.kind == accepted.r#type)
                .map(|d| (accepted, d))
        });
        match found {
            Some((accepted, document)) => {
                let (valid, invalid) = check_fields(
                    &accepted.fields,
                    &document.attributes,
                    &accepted.r#type,
                    names,
                    &accepted.name,
                    MISSING_DOCUMENT_FIELD,
                );
                let failure = first_failure(&invalid, MISSING_DOCUMENT_FIELD);
                results.push(result(
                    &accepted.name,
                    &accepted.r#type,
                    failure,
                    valid,
                    invalid,
                    &r.name,
                    &r.requirement_name,
                ));
            }
            None => {
                let Some(first) = r.accepted_documents.first() else {
                    continue;
                };
                let (_, invalid) = check_fields(
                    &first.fields,
                    &Value::Null,
                    &first.r#type,
                    names,
                    &first.name,
                    MISSING_DOCUMENT_FIELD,
                );
                let reason = format!("A {} is missing. Please add one to the bundle.", r.name);
                results.push(result(
                    &first.name,
                    &first.r#type,
                    Some((reason, Some(MISSING_DOCUMENT))),
                    vec![],
                    invalid,
                    &r.name,
                    &r.requirement_name,
                ));
            }
        }
    }
    let profiles = requirements
        .supporting_customer_profiles
        .iter()
        .chain(&requirements.supporting_trust_products);
    let mut groups: Vec<(&str, Vec<&ProfileRequirement>)> = Vec::new();
    for item in profiles {
        match groups
            .iter_mut()
            .find(|(name, _)| *name == item.requirement_name)
        {
            Some((_, items)) => items.push(item),
            None => groups.push((&item.requirement_name, vec![item])),
        }
    }
    for (requirement_name, items) in groups {
        results.push(judge_profile(requirement_name, &items, held, holder));
    }
    results
}

/// The statuses a supporting profile must have: D3 (a secondary needs its primary approved);
/// D2 (a Trust Product need not wait for its profile's approval).
fn acceptable(holder: BundleKind) -> &'static [&'static str] {
    match holder {
        BundleKind::CustomerProfile => &[APPROVED],
        BundleKind::TrustProduct => &[PENDING_REVIEW, IN_REVIEW, APPROVED],
    }
}

fn judge_profile(
    requirement_name: &str,
    items: &[&ProfileRequirement],
    held: &Assigned,
    holder: BundleKind,
) -> Value {
    const STATUS_FIELD: &str = "Supporting Bundle Status";
    let label = words(requirement_name);
    let candidates: Vec<(&ProfileRequirement, &HeldProfile)> = items
        .iter()
        .flat_map(|item| {
            held.profiles
                .iter()
                .filter(|p| p.supports.as_deref() == Some(item.r#type.as_str()))
                .map(move |p| (*item, p))
        })
        .collect();
    let need = acceptable(holder);
    if let Some((item, profile)) = candidates
        .iter()
        .find(|(_, p)| need.contains(&p.bundle.status.as_str()))
    {
        // A Customer Profile resting on a primary needs an ISV's: Twilio refuses a secondary
        // profile for a `direct_customer` ("… can only be created through Twilio console", I1).
        if holder == BundleKind::CustomerProfile
            && item.r#type == PRIMARY_PROFILE_TYPE
            && profile.business_identity.as_deref() != Some(ISV_IDENTITY)
        {
            let reason = "Secondary Customer Profile for direct_customer can only be created through Twilio console.";
            return result(
                &item.name,
                &item.r#type,
                Some((reason.to_owned(), None)),
                vec![],
                vec![invalid_item(
                    "business_identity",
                    "Business Identity",
                    reason,
                    None,
                )],
                &label,
                requirement_name,
            );
        }
        return result(
            &item.name,
            &item.r#type,
            None,
            vec![valid_item("bundle_sid", STATUS_FIELD)],
            vec![],
            &label,
            requirement_name,
        );
    }
    if let Some((item, profile)) = candidates.first() {
        let reason = format!(
            "The {} is {}; it must be {}",
            item.name,
            profile.bundle.status,
            need.join(" or ")
        );
        return result(
            &item.name,
            &item.r#type,
            Some((reason.clone(), None)),
            vec![],
            vec![invalid_item("bundle_status", STATUS_FIELD, &reason, None)],
            &label,
            requirement_name,
        );
    }
    let (name, kind) = items
        .first()
        .map(|i| (i.name.as_str(), i.r#type.as_str()))
        .unwrap_or_default();
    let mut reason = requirement_name.replace('_', " ");
    if let Some(first) = reason.get(..1) {
        reason = first.to_uppercase() + &reason[1..];
    }
    let reason = format!("{reason} bundle is null");
    result(
        name,
        kind,
        Some((reason.clone(), None)),
        vec![],
        vec![invalid_item("bundle_sid", STATUS_FIELD, &reason, None)],
        &label,
        requirement_name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a2p_requirements() -> Requirements {
        serde_json::from_value(json!({
            "end_user": [{"type": "us_a2p_messaging_profile_information", "name": "A2P",
                          "requirement_name": "us_a2p_messaging_profile_information",
                          "fields": ["company_type", "stock_exchange", "stock_ticker"]}],
            "supporting_document": [[]],
            "supporting_customer_profiles": [],
            "supporting_trust_products": []
        }))
        .unwrap()
    }

    fn holding(attributes: Value) -> Assigned {
        Assigned {
            end_users: vec![EndUser {
                sid: EndUserSid::new(),
                account_sid: AccountSid::new(),
                friendly_name: "a2p".into(),
                kind: "us_a2p_messaging_profile_information".into(),
                attributes,
                date_created: 0,
                date_updated: 0,
            }],
            ..Assigned::default()
        }
    }

    fn invalid_fields(results: &[Value]) -> Vec<String> {
        results[0]["invalid"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["object_field"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn stock_fields_are_required_only_for_public_companies() {
        let names = FieldNames::new();
        let kind = BundleKind::TrustProduct;
        let private = judge(
            &a2p_requirements(),
            &holding(json!({"company_type": "private"})),
            kind,
            &names,
        );
        assert_eq!(private.len(), 1, "an empty document group yields no result");
        assert_eq!(private[0]["passed"], true, "{private:?}");
        let public = judge(
            &a2p_requirements(),
            &holding(json!({"company_type": "public"})),
            kind,
            &names,
        );
        assert_eq!(invalid_fields(&public), ["stock_exchange", "stock_ticker"]);
        assert_eq!(public[0]["error_code"], 22215);
        let odd = judge(
            &a2p_requirements(),
            &holding(json!({"company_type": "pirate"})),
            kind,
            &names,
        );
        assert_eq!(invalid_fields(&odd), ["company_type"]);
        assert!(
            odd[0]["failure_reason"]
                .as_str()
                .unwrap()
                .contains("should be one of private public"),
            "{odd:?}"
        );
    }

    #[test]
    fn a_missing_end_user_lists_every_required_field_and_an_absent_optional_one_passes() {
        let names = FieldNames::new();
        let none = judge(
            &a2p_requirements(),
            &Assigned::default(),
            BundleKind::TrustProduct,
            &names,
        );
        assert_eq!(none[0]["error_code"], 22214);
        // Without a company type the stock fields are optional, so only it is listed.
        assert_eq!(invalid_fields(&none), ["company_type"]);
        let rep2: Requirements = serde_json::from_value(json!({"end_user": [{
            "type": "authorized_representative_2", "name": "Authorized Representative 2",
            "requirement_name": "authorized_representative_2", "fields": ["first_name"]}]}))
        .unwrap();
        let optional = judge(
            &rep2,
            &Assigned::default(),
            BundleKind::CustomerProfile,
            &names,
        );
        assert_eq!(optional[0]["passed"], true);
        assert_eq!(
            (optional[0]["valid"].clone(), optional[0]["invalid"].clone()),
            (json!([]), json!([]))
        );
    }
}
