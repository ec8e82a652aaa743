//! Studio entries: a flow with its revision history and its test users.

use serde_json::Value;

use super::{
    entry::{Applier, At, Entry, Step, dates, missing, refuse},
    format::SeedFlow,
};
use crate::{
    domain::studio,
    store::seed::{FlowRecord, RevisionRecord},
};

impl Applier<'_> {
    pub async fn flow(&mut self, entry: &Entry<SeedFlow>, account: &str) -> Step {
        let (at, what, sid, existing) = self.open(entry, account).await?;
        let (f, what) = (&entry.value, &what);
        let stored = match &existing {
            Some(_) => self.tx.revisions(sid).await?,
            None => Vec::new(),
        };
        let latest = existing
            .as_ref()
            .and_then(|e| stored.iter().find(|r| r.revision == e.revision));
        let friendly_name = match (&f.friendly_name, latest) {
            (Some(name), _) => name.clone(),
            (None, Some(r)) => r.content.friendly_name.clone(),
            (None, None) => return missing(at, what, "friendly_name"),
        };
        let status = match (&f.status, latest) {
            (Some(s), _) => studio::validate::parse_status(s).at(at, what)?,
            (None, Some(r)) => studio::validate::parse_status(&r.content.status).at(at, what)?,
            (None, None) => "draft",
        };
        let definition = match (&f.definition, latest) {
            (Some(d @ Value::Object(_)), _) => d.clone(),
            (Some(_), _) => return refuse(at, what, "definition must be a JSON object"),
            (None, Some(r)) => {
                studio::validate::parse_definition(&r.content.definition).at(at, what)?
            }
            (None, None) => return missing(at, what, "definition"),
        };
        let commit_message = f
            .commit_message
            .clone()
            .or_else(|| latest.and_then(|r| r.content.commit_message.clone()));
        let content =
            studio::revisions::content(friendly_name, status, &definition, commit_message)
                .at(at, what)?;
        let given = dates(at, what, &f.date_created, &f.date_updated)?;
        let created = given
            .created
            .or(existing.as_ref().map(|e| e.date_created))
            .unwrap_or(self.now);
        let revision_row = |revision: i64, date: i64| RevisionRecord {
            flow_sid: sid.to_owned(),
            revision,
            content: content.clone(),
            date_created: date,
        };
        let pinned = f.revision.is_some() || !f.previous_revisions.is_empty();
        let (record, revisions) = if pinned {
            // The file states the whole history.
            let mut revisions = Vec::with_capacity(f.previous_revisions.len() + 1);
            for previous in &f.previous_revisions {
                let (pat, p) = (previous.at, &previous.value);
                let pwhat = &format!("{what} revision {}", p.revision);
                let content = studio::revisions::content(
                    p.friendly_name.clone(),
                    studio::validate::parse_status(&p.status).at(pat, pwhat)?,
                    &p.definition,
                    p.commit_message.clone(),
                )
                .at(pat, pwhat)?;
                if !p.definition.is_object() {
                    return refuse(pat, pwhat, "definition must be a JSON object");
                }
                if revisions
                    .last()
                    .is_some_and(|r: &RevisionRecord| r.revision >= p.revision)
                    || p.revision < 1
                {
                    return refuse(pat, pwhat, "revisions must be numbered 1, 2, … in order");
                }
                let pdates = dates(pat, pwhat, &p.date_created, &None)?;
                revisions.push(RevisionRecord {
                    flow_sid: sid.to_owned(),
                    revision: p.revision,
                    content,
                    date_created: pdates.created.unwrap_or(created),
                });
            }
            let number = f
                .revision
                .unwrap_or_else(|| revisions.last().map_or(1, |r| r.revision + 1));
            if revisions.last().is_some_and(|r| r.revision >= number) || number < 1 {
                return refuse(at, what, "revision must come after every previous revision");
            }
            let updated = given
                .updated
                .or(existing.as_ref().and_then(|e| e.date_updated));
            // The latest revision is dated when the flow last changed, as the API dates it.
            revisions.push(revision_row(number, updated.unwrap_or(created)));
            let record = FlowRecord {
                seq: existing.as_ref().map_or(0, |e| e.seq),
                sid: sid.to_owned(),
                account_sid: account.to_owned(),
                revision: number,
                date_created: created,
                date_updated: updated,
            };
            (record, revisions)
        } else {
            match (&existing, latest) {
                (Some(e), Some(r)) => {
                    // `errors` follows from the definition, so whole contents compare.
                    let same = r.content == content;
                    let mut revisions = stored.clone();
                    let mut record = e.clone();
                    record.date_created = created;
                    if let Some(updated) = given.updated {
                        record.date_updated = Some(updated);
                    }
                    if !same {
                        // As an API update: a new revision, dated now.
                        let date = given.updated.unwrap_or(self.now);
                        record.revision = e.revision + 1;
                        record.date_updated = Some(date);
                        revisions.push(revision_row(record.revision, date));
                    }
                    (record, revisions)
                }
                _ => {
                    let record = FlowRecord {
                        seq: 0,
                        sid: sid.to_owned(),
                        account_sid: account.to_owned(),
                        revision: 1,
                        date_created: created,
                        date_updated: given.updated,
                    };
                    let date = given.updated.unwrap_or(created);
                    (record, vec![revision_row(1, date)])
                }
            }
        };
        if existing.as_ref() == Some(&record) && stored == revisions {
            self.out.unchanged += 1;
        } else {
            if existing.is_some() {
                self.out.updated += 1;
            } else {
                self.out.created += 1;
            }
            self.tx.put(&record).await?;
            self.tx.replace_revisions(sid, &revisions).await?;
        }
        if let Some(entries) = &f.test_users {
            let what = &format!("{what} test_users");
            // Each identity alone first, so a refusal points at the identity itself.
            for entry in entries {
                studio::test_users::normalize(vec![entry.value.clone()]).at(entry.at, what)?;
            }
            let identities = entries.iter().map(|e| e.value.clone()).collect();
            let identities = studio::test_users::normalize(identities).at(at, what)?;
            if self.tx.test_users(sid).await? != identities {
                self.tx.replace_test_users(sid, &identities).await?;
            }
        }
        Ok(())
    }
}
