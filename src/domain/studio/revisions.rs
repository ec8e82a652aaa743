//! Revisions (`studio.v2.flow.flow_revision`): every create, and every update that changes the
//! name, status or definition, writes one; `revision` counts up from 1 and old revisions keep
//! their content. A flow shows its latest revision's content.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use hashlink::LruCache;
use serde_json::Value;

use super::{
    scope::require_flow,
    validate::{check_limits, validate_definition, validation_failed},
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        found_value,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, FlowSid},
        stored, stored_json,
    },
    error::Result,
    store::studio::revisions::{RevisionAt, RevisionContent, RevisionRow},
};

/// What one revision holds.
#[derive(Debug, Clone)]
pub struct Content {
    pub friendly_name: String,
    pub status: String,
    pub definition: Value,
    pub commit_message: Option<String>,
    /// The structural problems found when it was written (`{"message", "property_path"}`).
    pub errors: Vec<Value>,
}

impl Content {
    pub fn valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// What `content` wrote, with the definition it was made from (already parsed: only the
    /// problems, `[]` for a valid definition, are read back from their text).
    pub(crate) fn written(stored: RevisionContent, definition: Value) -> Result<Self> {
        Ok(Self {
            errors: stored_json(&stored.errors, "Revision errors")?,
            friendly_name: stored.friendly_name,
            status: stored.status,
            definition,
            commit_message: stored.commit_message,
        })
    }
}

// What `content` wrote, read back.
read_back!(|row: RevisionContent| -> Content {
    json: definition, errors;
    copied: friendly_name, status, commit_message;
});

/// One revision of a flow.
#[derive(Debug, Clone)]
pub struct Revision {
    pub flow_sid: FlowSid,
    pub account_sid: AccountSid,
    pub revision: i64,
    pub content: Content,
    /// When this revision was written (a revision is never updated).
    pub date_created: i64,
}

read_back!(|row: RevisionRow| -> Revision {
    parsed: account_sid;
    computed: flow_sid = stored(&row.sid, "Revision flow_sid")?,
        content = Content::try_from(row.content)?;
    copied: revision, date_created;
});

/// At most this much definition text stays parsed in [`RUNNABLE`] (least recently run out
/// first); a longer definition is parsed at each run.
const MAX_RUNNABLE_BYTES: usize = 16 << 20;

/// Definitions that validate, parsed, by their stored text. A revision's content is written
/// once and never changed, and the key is the text itself, so a new revision or a changed
/// draft can never be served an older parse; executions of a busy flow skip the JSON parse and
/// the structural checks (`validate_definition`) that its revision already passed.
static RUNNABLE: LazyLock<Mutex<Runnable>> = LazyLock::new(|| {
    Mutex::new(Runnable {
        parsed: LruCache::new_unbounded(),
        bytes: 0,
    })
});

struct Runnable {
    parsed: LruCache<String, Arc<Value>>,
    /// The text length of the entries.
    bytes: usize,
}

/// A stored definition the engine may run, parsed; `None` when it does not validate (the
/// engine never runs those: a draft may be saved with problems).
pub(super) fn runnable(text: &str) -> Result<Option<Arc<Value>>> {
    // A poisoned lock only means another thread panicked holding it; the map is intact.
    let lock = || RUNNABLE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(hit) = lock().parsed.get(text) {
        return Ok(Some(Arc::clone(hit)));
    }
    let definition: Value = stored_json(text, "Revision definition")?;
    if !validate_definition(&definition).is_empty() {
        return Ok(None);
    }
    let definition = Arc::new(definition);
    if text.len() <= MAX_RUNNABLE_BYTES {
        let mut cache = lock();
        if cache
            .parsed
            .insert(text.to_owned(), Arc::clone(&definition))
            .is_none()
        {
            cache.bytes += text.len();
        }
        while cache.bytes > MAX_RUNNABLE_BYTES {
            let Some((evicted, _)) = cache.parsed.remove_lru() else {
                break;
            };
            cache.bytes -= evicted.len();
        }
    }
    Ok(Some(definition))
}

/// `{Revision}` in a path: a number from 1, `LatestRevision` or `LatestPublished` (the spec's
/// parameter text). Anything else names no revision: it fails to deserialize, so `TwilioPath`
/// answers 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevisionSelector(RevisionAt);

impl std::str::FromStr for RevisionSelector {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "LatestPublished" => Ok(Self(RevisionAt::LatestPublished)),
            "LatestRevision" => Ok(Self(RevisionAt::Latest)),
            n => match n.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(Self(RevisionAt::Number(n))),
                _ => Err(()),
            },
        }
    }
}

impl<'de> serde::Deserialize<'de> for RevisionSelector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        raw.parse()
            .map_err(|()| serde::de::Error::custom("not a revision number"))
    }
}

/// Checks a revision's content and returns what to store: the limits, then the structure;
/// problems are kept with a draft and refuse a published revision (81022).
pub(crate) fn content(
    friendly_name: String,
    status: &str,
    definition: &Value,
    commit_message: Option<String>,
) -> Result<RevisionContent> {
    check_limits(&friendly_name, commit_message.as_deref())?;
    let problems = validate_definition(definition);
    if status == "published" && !problems.is_empty() {
        return Err(validation_failed(problems));
    }
    Ok(RevisionContent {
        friendly_name,
        status: status.to_owned(),
        definition: definition.to_string(),
        commit_message,
        errors: Value::Array(problems).to_string(),
    })
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    sid: &FlowSid,
    request: PageRequest,
) -> Result<Page<Revision>> {
    require_flow(core, principal, sid).await?;
    let rows = core
        .store
        .list_revisions(
            principal.account_sid.as_str(),
            sid.as_str(),
            request.keyset(),
        )
        .await?;
    Page::from_rows(request, rows, |r| r.revision).try_map(Revision::try_from)
}

pub async fn fetch(
    core: &Core,
    principal: &Principal,
    sid: &FlowSid,
    RevisionSelector(at): RevisionSelector,
) -> Result<Revision> {
    found_value(
        core.store
            .fetch_revision(principal.account_sid.as_str(), sid.as_str(), at)
            .await?,
    )
}
