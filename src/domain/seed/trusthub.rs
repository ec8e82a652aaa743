//! TrustHub entries: end users, their types from the catalog and their closed attribute sets.

use serde_json::Value;

use super::{
    entry::{Applier, At, Entry, Step, file_or_stored, missing, refuse},
    format::SeedEndUser,
};
use crate::{domain::trusthub, store::trusthub::end_users::EndUserRow};

impl Applier<'_> {
    pub async fn end_user(&mut self, entry: &Entry<SeedEndUser>, account: &str) -> Step {
        let (at, what, sid, existing) = self.open(entry, account).await?;
        let (f, what) = (&entry.value, &what);
        let stored_name = existing.as_ref().map(|e| &e.friendly_name);
        let friendly_name =
            file_or_stored(at, what, "friendly_name", &f.friendly_name, stored_name)?;
        trusthub::end_users::check_friendly_name(Some(&friendly_name)).at(at, what)?;
        let kind = match (&f.r#type, &existing) {
            (Some(t), Some(e)) if *t != e.r#type => {
                return refuse(at, what, "an end user's type cannot change");
            }
            (Some(t), _) => t.clone(),
            (None, Some(e)) => e.r#type.clone(),
            (None, None) => return missing(at, what, "type"),
        };
        trusthub::end_user_types::require_known_type(self.core, &kind)
            .await
            .at(at, what)?;
        let attributes = match (&f.attributes, &existing) {
            (Some(Value::String(text)), _) => {
                trusthub::end_users::parse_attributes(text).at(at, what)?
            }
            (Some(value), _) => {
                trusthub::end_users::parse_attributes(&value.to_string()).at(at, what)?
            }
            (None, Some(e)) => e.attributes.clone(),
            (None, None) => "{}".to_owned(),
        };
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
