//! What a flow's content must be: the checks shared by create, update (publishing included),
//! `POST /v2/Flows/Validate` and fixtures. Twilio's own validator is not public, so definitions
//! are checked structurally *(ours, DESIGN.md "Studio")*: a draft may be saved with problems
//! (`valid: false`, listed in `errors`); publishing or validating an invalid definition is
//! 400 81022 with the problems in `details`.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::{
    domain::check_chars,
    error::{Error, Result},
};

/// https://twilio.com/docs/api/errors/81022 "Flow definition validation failed".
pub const FLOW_VALIDATION_FAILED: u32 = 81022;

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

/// Twilio documents no limits for a flow's name or commit message *(ours: 256 and 1,024
/// characters)*.
pub(crate) fn check_limits(friendly_name: &str, commit_message: Option<&str>) -> Result<()> {
    check_chars(Some(friendly_name), "FriendlyName", 256)?;
    check_chars(commit_message, "CommitMessage", 1024)
}

fn problem(message: String, path: String) -> Value {
    json!({ "message": message, "property_path": path })
}

/// The structural checks of DESIGN.md: `states` a non-empty array of objects with unique
/// `name`, a `type`, `transitions` (array) and `properties` (object); exactly one `trigger`;
/// `initial_state` names a state; every transition's `next` names a state. Each problem is
/// `{"message", "property_path"}`; none means valid.
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
pub(crate) fn validation_failed(problems: Vec<Value>) -> Error {
    Error::Invalid {
        code: FLOW_VALIDATION_FAILED,
        message: "Flow definition validation failed. Check the error response details for an array of validation failures".into(),
        details: Some(json!({ "errors": problems })),
    }
}

/// `POST /v2/Flows/Validate`: Ok when create would accept this content as published; the
/// same limits as create, then 81022 for a definition with problems.
pub fn validate(
    friendly_name: &str,
    definition: &Value,
    commit_message: Option<&str>,
) -> Result<()> {
    check_limits(friendly_name, commit_message)?;
    let problems = validate_definition(definition);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(validation_failed(problems))
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
}
