//! Studio v2: flows, their revisions and their test users (seed page 000, spec
//! `twilio_studio_v2.json`, DESIGN.md "Studio").
//!
//! - Every create, and every update that changes the name, status or definition, adds a
//!   revision; the flow shows its latest. A `CommitMessage` alone changes nothing *(ours)*.
//! - Definitions are checked structurally (we cannot run Twilio's own validator): a draft may be
//!   saved with problems (`valid: false`, listed in `errors`); publishing or validating an invalid
//!   definition is 400 81022 with the problems in `details`.
//! - TestUsers: the POST replaces the whole list atomically; each identity non-empty and at most
//!   300 UTF-8 bytes ("Each Test User identity can be up to 300 bytes", seed page 000);
//!   duplicates collapse to their first occurrence *(ours)*.

use std::collections::HashSet;

use serde_json::{Value, json};
use tracing::instrument;

use super::{
    Core,
    auth::Principal,
    paging::{Page, PageRequest},
    sid::{AccountSid, FlowSid},
    time,
};
use crate::{
    error::{Error, Result},
    store::flows::{FlowRow, FlowUpdate, RevisionContent},
};

/// https://twilio.com/docs/api/errors/81022 "Flow definition validation failed".
pub const FLOW_VALIDATION_FAILED: u32 = 81022;
/// Seed page 000: "Each Test User identity can be up to 300 bytes."
pub const MAX_TEST_USER_BYTES: usize = 300;

#[derive(Debug, Clone)]
pub struct Flow {
    pub sid: FlowSid,
    pub account_sid: AccountSid,
    pub friendly_name: String,
    pub definition: Value,
    pub status: String,
    pub revision: i64,
    pub commit_message: Option<String>,
    pub errors: Vec<Value>,
    pub date_created: i64,
    pub date_updated: Option<i64>,
}

impl Flow {
    pub fn valid(&self) -> bool {
        self.errors.is_empty()
    }
}

fn to_flow(row: FlowRow) -> Result<Flow> {
    let bad =
        |what: &str| Error::internal(anyhow::anyhow!("malformed flow row {}: {what}", row.seq));
    Ok(Flow {
        sid: FlowSid::parse(&row.sid).ok_or_else(|| bad("sid"))?,
        account_sid: AccountSid::parse(&row.account_sid).ok_or_else(|| bad("account"))?,
        definition: serde_json::from_str(&row.definition).map_err(|_| bad("definition"))?,
        errors: serde_json::from_str(&row.errors).map_err(|_| bad("errors"))?,
        friendly_name: row.friendly_name,
        status: row.status,
        revision: row.revision,
        commit_message: row.commit_message,
        date_created: row.date_created,
        date_updated: row.date_updated,
    })
}

/// The spec's `flow_enum_status`.
pub fn parse_status(s: &str) -> Result<&'static str> {
    match s {
        "draft" => Ok("draft"),
        "published" => Ok("published"),
        _ => Err(Error::invalid(format!(
            "Invalid parameter Status: must be draft or published (got '{s}')"
        ))),
    }
}

/// `Definition` arrives as JSON text in one form field and must be a JSON object.
pub fn parse_definition(text: &str) -> Result<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(Error::invalid(
            "Invalid parameter Definition: must be a JSON object",
        )),
        Err(e) => Err(Error::invalid(format!(
            "Invalid parameter Definition: not valid JSON ({e})"
        ))),
    }
}

fn problem(message: String, path: String) -> Value {
    json!({ "message": message, "property_path": path })
}

/// The structural checks of DESIGN.md: `states` a non-empty array of objects with unique
/// `name`, a `type`, `transitions` (array) and `properties` (object); exactly one `trigger`;
/// `initial_state` names a state; every transition's `next` names a state.
pub fn validate_definition(definition: &Value) -> Vec<Value> {
    let mut problems = Vec::new();
    let Some(states) = definition.get("states").and_then(Value::as_array) else {
        problems.push(problem(
            "states must be an array of states".into(),
            "#/states".into(),
        ));
        return problems;
    };
    if states.is_empty() {
        problems.push(problem(
            "states must not be empty".into(),
            "#/states".into(),
        ));
    }
    let mut names = HashSet::new();
    let mut triggers = 0;
    for (i, state) in states.iter().enumerate() {
        let at = format!("#/states/{i}");
        if !state.is_object() {
            problems.push(problem("a state must be an object".into(), at));
            continue;
        }
        match state.get("name").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => {
                if !names.insert(name.to_owned()) {
                    problems.push(problem(
                        format!("state name '{name}' is used more than once"),
                        format!("{at}/name"),
                    ));
                }
            }
            _ => problems.push(problem(
                "a state needs a non-empty name".into(),
                format!("{at}/name"),
            )),
        }
        match state.get("type").and_then(Value::as_str) {
            Some("trigger") => triggers += 1,
            Some(t) if !t.is_empty() => {}
            _ => problems.push(problem("a state needs a type".into(), format!("{at}/type"))),
        }
        if !state.get("transitions").is_some_and(Value::is_array) {
            problems.push(problem(
                "transitions must be an array".into(),
                format!("{at}/transitions"),
            ));
        }
        if !state.get("properties").is_some_and(Value::is_object) {
            problems.push(problem(
                "properties must be an object".into(),
                format!("{at}/properties"),
            ));
        }
    }
    if triggers != 1 {
        problems.push(problem(
            format!("a flow needs exactly one trigger state (found {triggers})"),
            "#/states".into(),
        ));
    }
    match definition.get("initial_state").and_then(Value::as_str) {
        Some(initial) if names.contains(initial) => {}
        Some(initial) => problems.push(problem(
            format!("initial_state '{initial}' names no state"),
            "#/initial_state".into(),
        )),
        None => problems.push(problem(
            "initial_state must name a state".into(),
            "#/initial_state".into(),
        )),
    }
    for (i, state) in states.iter().enumerate() {
        let Some(transitions) = state.get("transitions").and_then(Value::as_array) else {
            continue;
        };
        for (j, transition) in transitions.iter().enumerate() {
            let at = format!("#/states/{i}/transitions/{j}/next");
            match transition.get("next") {
                None | Some(Value::Null) => {}
                Some(Value::String(next)) if next.is_empty() || names.contains(next) => {}
                Some(other) => problems.push(problem(
                    format!("transition next {other} names no state"),
                    at,
                )),
            }
        }
    }
    problems
}

/// 400 81022 with the problems in `details`.
fn validation_failed(problems: Vec<Value>) -> Error {
    Error::Invalid {
        code: FLOW_VALIDATION_FAILED,
        message: "Flow definition validation failed. Check the error response details for an array of validation failures".into(),
        details: Some(json!({ "errors": problems })),
    }
}

/// What create, update and validate receive (already past the required-parameter checks).
pub struct FlowInput {
    pub friendly_name: Option<String>,
    pub status: &'static str,
    pub definition: Option<Value>,
    pub commit_message: Option<String>,
}

/// `POST /v2/Flows/Validate`: Ok when valid, 81022 otherwise.
pub fn validate(definition: &Value) -> Result<()> {
    let problems = validate_definition(definition);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(validation_failed(problems))
    }
}

pub(crate) fn content(
    friendly_name: String,
    status: &str,
    definition: &Value,
    commit_message: Option<String>,
) -> Result<RevisionContent> {
    // Twilio documents no limits here *(ours)*.
    super::check_chars(Some(&friendly_name), "FriendlyName", 256)?;
    super::check_chars(commit_message.as_deref(), "CommitMessage", 1024)?;
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

#[instrument(skip_all)]
pub async fn create(core: &Core, principal: &Principal, input: FlowInput) -> Result<Flow> {
    let (Some(name), Some(definition)) = (input.friendly_name, input.definition.as_ref()) else {
        return Err(Error::internal(anyhow::anyhow!(
            "create without required fields"
        )));
    };
    let content = content(name, input.status, definition, input.commit_message)?;
    let row = core
        .store
        .create_flow(
            FlowSid::new().as_str(),
            principal.account_sid.as_str(),
            content,
            time::now(),
        )
        .await?;
    to_flow(row)
}

pub async fn fetch(core: &Core, principal: &Principal, sid: &FlowSid) -> Result<Flow> {
    let row = core
        .store
        .fetch_flow(principal.account_sid.as_str(), sid.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    to_flow(row)
}

pub async fn list(core: &Core, principal: &Principal, request: PageRequest) -> Result<Page<Flow>> {
    let rows = core
        .store
        .list_flows(principal.account_sid.as_str(), request.keyset())
        .await?;
    Page::from_rows(request, rows, |r| r.seq).try_map(to_flow)
}

#[instrument(skip_all)]
pub async fn update(
    core: &Core,
    principal: &Principal,
    sid: &FlowSid,
    input: FlowInput,
) -> Result<Flow> {
    let mut refused = None;
    let outcome = core
        .store
        .update_flow(
            principal.account_sid.as_str(),
            sid.as_str(),
            time::now(),
            |current| {
                let current_definition: Value =
                    serde_json::from_str(&current.definition).unwrap_or(Value::Null);
                let name = input
                    .friendly_name
                    .clone()
                    .unwrap_or_else(|| current.friendly_name.clone());
                let definition = input
                    .definition
                    .clone()
                    .unwrap_or(current_definition.clone());
                let unchanged = name == current.friendly_name
                    && input.status == current.status
                    && definition == current_definition;
                if unchanged {
                    return None;
                }
                match content(
                    name,
                    input.status,
                    &definition,
                    input.commit_message.clone(),
                ) {
                    Ok(content) => Some(content),
                    Err(e) => {
                        refused = Some(e);
                        None
                    }
                }
            },
        )
        .await?;
    if let Some(error) = refused {
        return Err(error);
    }
    match outcome {
        FlowUpdate::Updated(row) | FlowUpdate::Unchanged(row) => to_flow(row),
        FlowUpdate::NotFound => Err(Error::NotFound),
    }
}

#[instrument(skip_all)]
pub async fn delete(core: &Core, principal: &Principal, sid: &FlowSid) -> Result<()> {
    if core
        .store
        .delete_flow(principal.account_sid.as_str(), sid.as_str())
        .await?
    {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Fails with 404 unless the flow is the caller's.
pub async fn require_flow(core: &Core, principal: &Principal, sid: &FlowSid) -> Result<()> {
    if core
        .store
        .flow_exists(principal.account_sid.as_str(), sid.as_str())
        .await?
    {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

pub async fn list_revisions(
    core: &Core,
    principal: &Principal,
    sid: &FlowSid,
    request: PageRequest,
) -> Result<Page<Flow>> {
    require_flow(core, principal, sid).await?;
    let rows = core
        .store
        .list_revisions(
            principal.account_sid.as_str(),
            sid.as_str(),
            request.keyset(),
        )
        .await?;
    Page::from_rows(request, rows, |r| r.revision).try_map(to_flow)
}

/// `{Revision}` is a number, `LatestRevision` or `LatestPublished` (spec parameter text).
pub async fn fetch_revision(
    core: &Core,
    principal: &Principal,
    sid: &FlowSid,
    revision: &str,
) -> Result<Flow> {
    let account = principal.account_sid.as_str();
    let number = match revision {
        "LatestPublished" => None,
        "LatestRevision" => Some(
            core.store
                .fetch_flow(account, sid.as_str())
                .await?
                .ok_or(Error::NotFound)?
                .revision,
        ),
        n => Some(
            n.parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or(Error::NotFound)?,
        ),
    };
    let row = core
        .store
        .fetch_revision(account, sid.as_str(), number)
        .await?
        .ok_or(Error::NotFound)?;
    to_flow(row)
}

/// Checks a posted TestUsers list and returns what will be stored.
pub fn normalize_test_users(identities: Vec<String>) -> Result<Vec<String>> {
    if identities.is_empty() {
        return Err(Error::missing("TestUsers"));
    }
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(identities.len());
    for identity in identities {
        if identity.is_empty() {
            return Err(Error::invalid(
                "Invalid parameter TestUsers: an identity must not be empty",
            ));
        }
        if identity.len() > MAX_TEST_USER_BYTES {
            return Err(Error::invalid(format!(
                "Invalid parameter TestUsers: each identity must be at most {MAX_TEST_USER_BYTES} bytes (one is {})",
                identity.len()
            )));
        }
        if seen.insert(identity.clone()) {
            kept.push(identity);
        }
    }
    Ok(kept)
}

pub async fn test_users(core: &Core, principal: &Principal, sid: &FlowSid) -> Result<Vec<String>> {
    core.store
        .test_users(principal.account_sid.as_str(), sid.as_str())
        .await?
        .ok_or(Error::NotFound)
}

#[instrument(skip_all)]
pub async fn replace_test_users(
    core: &Core,
    principal: &Principal,
    sid: &FlowSid,
    identities: Vec<String>,
) -> Result<Vec<String>> {
    // The write itself answers "no such flow"; only a refused list looks the flow up, so that
    // an unknown flow is 404 before the list is judged (DESIGN.md's order of checks).
    let identities = match normalize_test_users(identities) {
        Ok(identities) => identities,
        Err(refused) => {
            require_flow(core, principal, sid).await?;
            return Err(refused);
        }
    };
    if core
        .store
        .replace_test_users(principal.account_sid.as_str(), sid.as_str(), &identities)
        .await?
    {
        Ok(identities)
    } else {
        Err(Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_definition() -> Value {
        json!({
            "description": "A New Flow",
            "initial_state": "Trigger",
            "states": [
                {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingMessage", "next": "say"}]},
                {"name": "say", "type": "send-message", "properties": {"body": "hi"}, "transitions": [{"event": "sent"}]}
            ]
        })
    }

    #[test]
    fn a_well_formed_definition_has_no_problems() {
        assert_eq!(
            validate_definition(&valid_definition()),
            Vec::<Value>::new()
        );
    }

    #[test]
    fn each_structural_rule_is_reported() {
        let mut d = valid_definition();
        d["states"][1]["name"] = json!("Trigger");
        d["states"][0]["transitions"][0]["next"] = json!("nowhere");
        d["initial_state"] = json!("missing");
        let problems = validate_definition(&d);
        let text = Value::Array(problems).to_string();
        assert!(text.contains("used more than once"), "{text}");
        assert!(text.contains("names no state"), "{text}");
        assert!(text.contains("initial_state"), "{text}");
        assert!(!validate_definition(&json!({"initial_state": "Trigger"})).is_empty());
    }

    #[test]
    fn test_user_identities_are_limited_to_300_bytes_not_characters() {
        assert!(normalize_test_users(vec!["a".repeat(300)]).is_ok());
        assert!(normalize_test_users(vec!["a".repeat(301)]).is_err());
        assert!(normalize_test_users(vec!["\u{4e2d}".repeat(100)]).is_ok()); // 300 bytes
        assert!(normalize_test_users(vec!["\u{4e2d}".repeat(101)]).is_err());
        assert!(normalize_test_users(vec![format!("{}\u{1F600}", "a".repeat(297))]).is_err()); // 301
        assert_eq!(normalize_test_users(vec![]).unwrap_err().code(), 20001);
    }

    #[test]
    fn duplicates_collapse_to_the_first_occurrence() {
        let kept = normalize_test_users(vec!["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(kept, vec!["b", "a"]);
    }
}
