//! TrustHub entries: end users (their types from the catalog and their closed attribute sets),
//! supporting documents, and Customer Profiles and Trust Products with their assignments.

use serde_json::Value;

use super::{
    entry::{Applier, At, Entry, Step, dates, file_or_stored, missing, refuse},
    format::{
        SeedBundle, SeedChannelEndpointAssignment, SeedEndUser, SeedEntityAssignment,
        SeedSupportingDocument,
    },
};
use crate::{
    domain::{
        time,
        trusthub::{self, bundles, bundles::BundleKind},
        webhooks::check_url,
    },
    store::{
        seed::AccountRecord,
        trusthub::{
            bundles::BundleRow, channel_endpoint_assignments::ChannelEndpointAssignmentRow,
            end_users::EndUserRow, entity_assignments::EntityAssignmentRow,
            supporting_documents::SupportingDocumentRow,
        },
    },
};

impl Applier<'_> {
    pub async fn end_user(&mut self, entry: &Entry<SeedEndUser>, account: &str) -> Step {
        let (at, what, sid, existing) = self.open(entry, account).await?;
        let (f, what) = (&entry.value, &what);
        let stored = existing
            .as_ref()
            .map(|e| (&e.friendly_name, &e.r#type, &e.attributes));
        let given = (&f.friendly_name, &f.r#type, &f.attributes);
        let (friendly_name, kind, attributes) = typed(at, what, "an end user's", given, stored)?;
        trusthub::end_user_types::require_known_type(self.core, &kind)
            .await
            .at(at, what)?;
        self.settle(at, what, f, existing.as_ref(), |stamps| EndUserRow {
            seq: stamps.seq,
            sid: sid.to_owned(),
            account_sid: account.to_owned(),
            friendly_name: friendly_name.clone(),
            r#type: kind.clone(),
            attributes: attributes.clone(),
            date_created: stamps.created,
            date_updated: stamps.updated,
        })
        .await?;
        Ok(())
    }
}

impl Applier<'_> {
    pub async fn supporting_document(
        &mut self,
        entry: &Entry<SeedSupportingDocument>,
        account: &str,
    ) -> Step {
        let (at, what, sid, existing) = self.open(entry, account).await?;
        let (f, what) = (&entry.value, &what);
        let stored = existing
            .as_ref()
            .map(|e| (&e.friendly_name, &e.r#type, &e.attributes));
        let given = (&f.friendly_name, &f.r#type, &f.attributes);
        let (friendly_name, kind, attributes) =
            typed(at, what, "a supporting document's", given, stored)?;
        trusthub::supporting_document_types::require_known_type(self.core, &kind)
            .await
            .at(at, what)?;
        let status = match (&f.status, &existing) {
            (Some(s), _) if DOCUMENT_STATUSES.contains(&s.as_str()) => s.clone(),
            (Some(s), _) => {
                return refuse(
                    at,
                    what,
                    format!(
                        "status '{s}' is not one of {}",
                        DOCUMENT_STATUSES.join(", ")
                    ),
                );
            }
            (None, Some(e)) => e.status.clone(),
            (None, None) => trusthub::supporting_documents::DRAFT.to_owned(),
        };
        self.settle(at, what, f, existing.as_ref(), |stamps| {
            SupportingDocumentRow {
                seq: stamps.seq,
                sid: sid.to_owned(),
                account_sid: account.to_owned(),
                friendly_name: friendly_name.clone(),
                r#type: kind.clone(),
                attributes: attributes.clone(),
                status: status.clone(),
                date_created: stamps.created,
                date_updated: stamps.updated,
            }
        })
        .await?;
        Ok(())
    }

    /// A Customer Profile or Trust Product with its assignments. Any policy of the catalog for
    /// its kind (the Console-only primary profile included: this is how an approved ISV primary
    /// profile gets into a staging database) and any status; no review is scheduled and no
    /// callback is sent (an operator call decides a bundle seeded under review).
    pub async fn bundle(
        &mut self,
        entry: &Entry<SeedBundle>,
        account: &str,
        kind: BundleKind,
    ) -> Step {
        let (at, what, sid, existing) = self.open(entry, account).await?;
        let (f, what) = (&entry.value, &what);
        if existing.as_ref().is_some_and(|e| e.kind != kind.as_str()) {
            return refuse(at, what, format!("is not a {}", kind.noun()));
        }
        let friendly_name = file_or_stored(
            at,
            what,
            "friendly_name",
            &f.friendly_name,
            existing.as_ref().map(|e| &e.friendly_name),
        )?;
        trusthub::end_users::check_friendly_name(Some(&friendly_name)).at(at, what)?;
        let email = file_or_stored(
            at,
            what,
            "email",
            &f.email,
            existing.as_ref().map(|e| &e.email),
        )?;
        let policy_sid = file_or_stored(
            at,
            what,
            "policy_sid",
            &f.policy_sid,
            existing.as_ref().map(|e| &e.policy_sid),
        )?;
        let policy = trusthub::policies::require(self.core, &policy_sid, "policy_sid")
            .await
            .at(at, what)?;
        if !policy.is_for(kind.as_str()) {
            return refuse(
                at,
                what,
                format!("policy {policy_sid} is not a {} policy", kind.noun()),
            );
        }
        let status = match (&f.status, &existing) {
            (Some(s), _) if bundles::STATUSES.contains(&s.as_str()) => s.clone(),
            (Some(s), _) => {
                return refuse(
                    at,
                    what,
                    format!(
                        "status '{s}' is not one of {}",
                        bundles::STATUSES.join(", ")
                    ),
                );
            }
            (None, Some(e)) => e.status.clone(),
            (None, None) => bundles::DRAFT.to_owned(),
        };
        let status_callback = match &f.status_callback {
            Some(url) => check_url(Some(url.clone()), "status_callback", None).at(at, what)?,
            None => existing.as_ref().and_then(|e| e.status_callback.clone()),
        };
        let valid_until = match &f.valid_until {
            Some(text) => match time::parse_iso8601(text) {
                Some(ts) => Some(ts),
                None => {
                    return refuse(
                        at,
                        &format!("{what}: valid_until"),
                        format!("'{text}' is not a date like 2026-01-31T09:30:00Z"),
                    );
                }
            },
            None => existing.as_ref().and_then(|e| e.valid_until),
        };
        let errors = match &f.errors {
            Some(Value::Null) => None,
            Some(value @ Value::Array(_)) => Some(value.to_string()),
            Some(_) => return refuse(at, what, "errors must be an array like [{\"code\": 18601}]"),
            None => existing.as_ref().and_then(|e| e.errors.clone()),
        };
        // A status the file changes stops any review the stored bundle had scheduled.
        let review_due_at = existing
            .as_ref()
            .filter(|e| e.status == status)
            .and_then(|e| e.review_due_at);
        self.settle(at, what, f, existing.as_ref(), |stamps| BundleRow {
            seq: stamps.seq,
            sid: sid.to_owned(),
            account_sid: account.to_owned(),
            kind: kind.as_str().to_owned(),
            policy_sid: policy.sid.to_string(),
            friendly_name: friendly_name.clone(),
            email: email.clone(),
            status_callback: status_callback.clone(),
            status: status.clone(),
            valid_until,
            errors: errors.clone(),
            date_created: stamps.created,
            date_updated: stamps.updated,
            review_due_at,
        })
        .await?;
        for assignment in &f.entity_assignments {
            self.entity_assignment(assignment, sid, account).await?;
        }
        for assignment in &f.channel_endpoint_assignments {
            self.channel_endpoint_assignment(assignment, sid, account)
                .await?;
        }
        Ok(())
    }

    /// The object must be an end user, supporting document or Customer Profile of the account,
    /// or its parent account's Customer Profile (an ISV's primary).
    async fn entity_assignment(
        &mut self,
        entry: &Entry<SeedEntityAssignment>,
        bundle: &str,
        account: &str,
    ) -> Step {
        let (at, what, sid, existing) = self.open(entry, bundle).await?;
        let (f, what) = (&entry.value, &what);
        let object_sid = match (&f.object_sid, &existing) {
            (Some(o), Some(e)) if *o != e.object_sid => {
                return refuse(at, what, "an assignment's object_sid cannot change");
            }
            (Some(o), _) => o.clone(),
            (None, Some(e)) => e.object_sid.clone(),
            (None, None) => return missing(at, what, "object_sid"),
        };
        let owner = match object_sid.get(..2) {
            Some("IT") => self
                .tx
                .get::<EndUserRow>(&object_sid)
                .await?
                .map(|r| r.account_sid),
            Some("RD") => self
                .tx
                .get::<SupportingDocumentRow>(&object_sid)
                .await?
                .map(|r| r.account_sid),
            Some("BU") => self
                .tx
                .get::<BundleRow>(&object_sid)
                .await?
                .filter(|r| r.kind == BundleKind::CustomerProfile.as_str() && r.sid != bundle)
                .map(|r| r.account_sid),
            _ => None,
        };
        let parent = self
            .tx
            .get::<AccountRecord>(account)
            .await?
            .map(|a| a.owner_account_sid);
        let allowed = owner
            .as_deref()
            .is_some_and(|o| o == account || Some(o) == parent.as_deref());
        if !allowed {
            return refuse(
                at,
                what,
                format!(
                    "object_sid {object_sid} is not an end user, supporting document or customer profile of this account (or of its parent)"
                ),
            );
        }
        let created = dates(at, what, &f.date_created, &None)?.created;
        let desired = EntityAssignmentRow {
            seq: existing.as_ref().map_or(0, |e| e.seq),
            sid: sid.to_owned(),
            bundle_sid: bundle.to_owned(),
            account_sid: account.to_owned(),
            object_sid,
            date_created: created
                .or(existing.as_ref().map(|e| e.date_created))
                .unwrap_or(self.now),
        };
        if self.must_write(existing.as_ref(), &desired) {
            self.tx.put(&desired).await?;
        }
        Ok(())
    }

    async fn channel_endpoint_assignment(
        &mut self,
        entry: &Entry<SeedChannelEndpointAssignment>,
        bundle: &str,
        account: &str,
    ) -> Step {
        let (at, what, sid, existing) = self.open(entry, bundle).await?;
        let (f, what) = (&entry.value, &what);
        let endpoint_type = file_or_stored(
            at,
            what,
            "channel_endpoint_type",
            &f.channel_endpoint_type,
            existing.as_ref().map(|e| &e.channel_endpoint_type),
        )?;
        let endpoint_sid = file_or_stored(
            at,
            what,
            "channel_endpoint_sid",
            &f.channel_endpoint_sid,
            existing.as_ref().map(|e| &e.channel_endpoint_sid),
        )?;
        if !trusthub::channel_endpoint_assignments::is_endpoint_sid(&endpoint_sid) {
            return refuse(
                at,
                what,
                "channel_endpoint_sid must be two letters and 32 hex digits",
            );
        }
        let created = dates(at, what, &f.date_created, &None)?.created;
        let desired = ChannelEndpointAssignmentRow {
            seq: existing.as_ref().map_or(0, |e| e.seq),
            sid: sid.to_owned(),
            bundle_sid: bundle.to_owned(),
            account_sid: account.to_owned(),
            channel_endpoint_type: endpoint_type,
            channel_endpoint_sid: endpoint_sid,
            date_created: created
                .or(existing.as_ref().map(|e| e.date_created))
                .unwrap_or(self.now),
        };
        if self.must_write(existing.as_ref(), &desired) {
            self.tx.put(&desired).await?;
        }
        Ok(())
    }
}

/// The supporting-document statuses (spec enum `supporting_document_enum_status`).
const DOCUMENT_STATUSES: &[&str] = &[
    "DRAFT",
    "PENDING_REVIEW",
    "REJECTED",
    "APPROVED",
    "EXPIRED",
    "PROVISIONALLY_APPROVED",
];

/// The name, type and attributes of a typed object (an end user, a supporting document): what
/// the file gives, else what is stored; the name checked, the type fixed once created
/// (`whose` names the object in the refusal), attributes an object (or its JSON text), `{}`
/// for a new object without any.
fn typed(
    at: usize,
    what: &str,
    whose: &str,
    (name, kind, attributes): (&Option<String>, &Option<String>, &Option<Value>),
    stored: Option<(&String, &String, &String)>,
) -> Step<(String, String, String)> {
    let friendly_name = file_or_stored(at, what, "friendly_name", name, stored.map(|s| s.0))?;
    trusthub::end_users::check_friendly_name(Some(&friendly_name)).at(at, what)?;
    let kind = match (kind, stored) {
        (Some(t), Some((_, stored, _))) if t != stored => {
            return refuse(at, what, format!("{whose} type cannot change"));
        }
        (Some(t), _) => t.clone(),
        (None, Some((_, stored, _))) => stored.clone(),
        (None, None) => return missing(at, what, "type"),
    };
    let attributes = match (attributes, stored) {
        (Some(Value::String(text)), _) => {
            trusthub::end_users::parse_attributes(text).at(at, what)?
        }
        (Some(value), _) => {
            trusthub::end_users::parse_attributes(&value.to_string()).at(at, what)?
        }
        (None, Some((_, _, stored))) => stored.clone(),
        (None, None) => "{}".to_owned(),
    };
    Ok((friendly_name, kind, attributes))
}
