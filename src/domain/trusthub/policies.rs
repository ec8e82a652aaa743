//! The Policies catalog (`trusthub.v1.policies`): read-only data shipped in migration
//! `0011_trusthub_bundles.sql` under Twilio's own RN SIDs (see the README for which
//! requirements are Twilio's and which ours). Besides what is served, each policy says which
//! bundles may use it, which supporting-profile `type` a bundle under it satisfies *(ours)*, and
//! whether the API may create such a bundle (Primary Customer Profiles are Console-only).

use serde::Deserialize;
use serde_json::Value;

use crate::{
    domain::{
        Core, found_value,
        paging::{Page, PageRequest},
        read_back,
        sid::PolicySid,
    },
    error::{Error, Result},
    store::trusthub::policies::PolicyRow,
};

/// The supporting-profile type the Primary Customer Profile policy satisfies (its `supports`).
pub const PRIMARY_PROFILE_TYPE: &str = "primary_customer_profile_type_business";

#[derive(Debug, Clone)]
pub struct Policy {
    pub sid: PolicySid,
    pub friendly_name: String,
    pub requirements: Value,
    pub bundle_kind: String,
    pub supports: Option<String>,
    pub api_creatable: bool,
}

read_back!(|row: PolicyRow| -> Policy {
    parsed: sid;
    json: requirements;
    copied: friendly_name, bundle_kind, supports, api_creatable;
});

/// The `requirements` object, typed for evaluation.
#[derive(Debug, Clone, Deserialize)]
pub struct Requirements {
    #[serde(default)]
    pub end_user: Vec<EndUserRequirement>,
    #[serde(default)]
    pub supporting_document: Vec<Vec<DocumentRequirement>>,
    #[serde(default)]
    pub supporting_customer_profiles: Vec<ProfileRequirement>,
    #[serde(default)]
    pub supporting_trust_products: Vec<ProfileRequirement>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EndUserRequirement {
    pub r#type: String,
    pub name: String,
    pub requirement_name: String,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocumentRequirement {
    pub name: String,
    pub description: String,
    pub requirement_name: String,
    pub accepted_documents: Vec<AcceptedDocument>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AcceptedDocument {
    pub r#type: String,
    pub name: String,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProfileRequirement {
    pub r#type: String,
    pub name: String,
    pub requirement_name: String,
}

impl Policy {
    pub fn typed_requirements(&self) -> Result<Requirements> {
        serde_json::from_value(self.requirements.clone()).map_err(|e| {
            Error::internal(anyhow::anyhow!(
                "policy {} requirements do not parse: {e}",
                self.sid
            ))
        })
    }

    /// Whether bundles of `kind` (`customer_profile`, `trust_product`) may use it.
    pub fn is_for(&self, kind: &str) -> bool {
        self.bundle_kind == kind
    }
}

pub async fn fetch(core: &Core, sid: &PolicySid) -> Result<Policy> {
    found_value(core.store.fetch_policy(sid.as_str()).await?)
}

/// A `PolicySid` parameter: the catalog's, else 400 20001 *(ours)*.
pub async fn require(core: &Core, sid: &str, param: &str) -> Result<Policy> {
    let unknown = || {
        Error::invalid(format!(
            "Invalid parameter {param}: '{sid}' is not a Policy (see GET /v1/Policies)"
        ))
    };
    let sid = PolicySid::parse(sid).ok_or_else(unknown)?;
    match core.store.fetch_policy(sid.as_str()).await? {
        Some(row) => Policy::try_from(row),
        None => Err(unknown()),
    }
}

pub async fn list(core: &Core, request: PageRequest) -> Result<Page<Policy>> {
    let rows = core.store.list_policies(request.keyset()).await?;
    Page::from_rows(request, rows, |r| r.seq).try_map(Policy::try_from)
}
