//! Checks a JSON body against a response schema of the official OpenAPI description
//! (`spec/twilio-oai/`, copied unchanged from twilio/twilio-oai): every property present and no
//! other, each of the right type, `nullable` respected, enums, SID patterns and both date formats.

use std::{collections::HashMap, sync::OnceLock};

use serde_json::Value;

fn spec(file: &str) -> &'static Value {
    static SPECS: OnceLock<std::sync::Mutex<HashMap<String, &'static Value>>> = OnceLock::new();
    let specs = SPECS.get_or_init(Default::default);
    let mut specs = specs.lock().unwrap();
    specs.entry(file.to_owned()).or_insert_with(|| {
        let path = format!("{}/spec/twilio-oai/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Box::leak(Box::new(serde_json::from_str(&text).unwrap()))
    })
}

/// Asserts `body` conforms to `components.schemas[schema]` of `file`.
pub fn assert_schema(file: &str, schema: &str, body: &Value) {
    let doc = spec(file);
    let def = &doc["components"]["schemas"][schema];
    assert!(def.is_object(), "no schema {schema} in {file}");
    let mut problems = Vec::new();
    check_object(doc, def, body, schema, &mut problems);
    assert!(
        problems.is_empty(),
        "{schema}: {problems:#?}\nbody: {body:#}"
    );
}

fn resolve<'a>(doc: &'a Value, def: &'a Value) -> &'a Value {
    match def.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => def,
    }
}

fn check_object(doc: &Value, def: &Value, body: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(obj) = body.as_object() else {
        problems.push(format!("{at}: not an object"));
        return;
    };
    let props = def["properties"].as_object().cloned().unwrap_or_default();
    for key in obj.keys() {
        if !props.contains_key(key) {
            problems.push(format!("{at}.{key}: not in the schema"));
        }
    }
    for (key, prop) in &props {
        match obj.get(key) {
            None => problems.push(format!("{at}.{key}: missing")),
            Some(value) => check_value(doc, prop, value, &format!("{at}.{key}"), problems),
        }
    }
}

fn check_value(doc: &Value, def: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let nullable = def["nullable"].as_bool().unwrap_or(false);
    let def = resolve(doc, def);
    if value.is_null() {
        if !nullable {
            problems.push(format!("{at}: null but not nullable"));
        }
        return;
    }
    let ok = match def["type"].as_str() {
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        _ => true, // untyped: any JSON
    };
    if !ok {
        problems.push(format!("{at}: {value} is not of type {}", def["type"]));
        return;
    }
    if let Some(values) = def["enum"].as_array()
        && !values.contains(value)
    {
        problems.push(format!("{at}: {value} not in enum {values:?}"));
    }
    if let (Some(pattern), Some(s)) = (def["pattern"].as_str(), value.as_str())
        && let Some(prefix) = sid_pattern_prefix(pattern)
        && !(s.len() == 34
            && s.starts_with(prefix)
            && s[2..].bytes().all(|b| b.is_ascii_hexdigit()))
    {
        problems.push(format!("{at}: {s} does not match {pattern}"));
    }
    if let Some(s) = value.as_str() {
        match def["format"].as_str() {
            Some("date-time") if !is_iso8601_z(s) => {
                problems.push(format!("{at}: {s} is not %Y-%m-%dT%H:%M:%SZ"))
            }
            Some("date-time-rfc-2822") if !is_rfc2822(s) => {
                problems.push(format!("{at}: {s} is not RFC 2822 +0000"))
            }
            Some("uri") if !(s.starts_with("http://") || s.starts_with("https://")) => {
                problems.push(format!("{at}: {s} is not an absolute URI"))
            }
            _ => {}
        }
    }
    if def["type"] == "object" && def["properties"].is_object() {
        check_object(doc, def, value, at, problems);
    }
    if let (Some(items), Some(array)) = (def.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check_value(doc, items, item, &format!("{at}[{i}]"), problems);
        }
    }
}

/// `^AC[0-9a-fA-F]{32}$` → `AC`.
fn sid_pattern_prefix(pattern: &str) -> Option<&str> {
    let rest = pattern
        .strip_prefix('^')?
        .strip_suffix("[0-9a-fA-F]{32}$")?;
    (rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_uppercase())).then_some(rest)
}

pub fn is_iso8601_z(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

pub fn is_rfc2822(s: &str) -> bool {
    // "Thu, 30 Jul 2015 20:00:00 +0000"
    let parts: Vec<&str> = s.split(' ').collect();
    parts.len() == 6
        && ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"].contains(&parts[0])
        && parts[1].len() == 2
        && parts[1].bytes().all(|b| b.is_ascii_digit())
        && [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .contains(&parts[2])
        && parts[3].len() == 4
        && parts[4].len() == 8
        && parts[5] == "+0000"
}

/// Asserts a 2010 list page's top-level keys are exactly the paging keys plus `key`.
pub fn assert_2010_page(body: &Value, key: &str) {
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    let mut want = vec![
        key,
        "end",
        "first_page_uri",
        "next_page_uri",
        "page",
        "page_size",
        "previous_page_uri",
        "start",
        "uri",
    ];
    want.sort();
    assert_eq!(keys, want, "{body}");
}

/// Asserts a v1/v2 list: exactly `key` and `meta`, with meta's seven keys.
pub fn assert_v1_page(body: &Value, key: &str) {
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    let mut want = vec![key, "meta"];
    want.sort();
    assert_eq!(keys, want, "{body}");
    let meta = body["meta"].as_object().unwrap();
    let mut meta_keys: Vec<&str> = meta.keys().map(String::as_str).collect();
    meta_keys.sort();
    assert_eq!(
        meta_keys,
        vec![
            "first_page_url",
            "key",
            "next_page_url",
            "page",
            "page_size",
            "previous_page_url",
            "url"
        ]
    );
    assert_eq!(meta["key"], key);
    assert!(meta["page"].is_u64() && meta["page_size"].is_u64());
    for url in ["first_page_url", "url"] {
        assert!(
            meta[url].as_str().unwrap().starts_with("http"),
            "{url}: {body}"
        );
    }
}

/// Which spec file describes `path`.
fn spec_file(path: &str) -> Option<&'static str> {
    if path.starts_with("/2010-04-01/") {
        Some("twilio_api_v2010.json")
    } else if path.starts_with("/v2/") {
        Some("twilio_studio_v2.json")
    } else if path.starts_with("/v1/EndUser") {
        Some("twilio_trusthub_v1.json")
    } else if path.starts_with("/v1/") {
        Some("twilio_conversations_v1.json")
    } else {
        None
    }
}

/// The spec's path template for a concrete (percent-encoded) path: literal segments must be
/// equal, `{Param}` takes any segment (`{Param}.json` one ending in `.json`); the template with
/// the most literal matches wins (`/v2/Flows/Validate` over `/v2/Flows/{Sid}`).
fn template_for<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(&str, usize)> = None;
    for template in doc["paths"].as_object()?.keys() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') {
                match t.strip_suffix(".json") {
                    Some(_) => s.ends_with(".json") && s.len() > 5,
                    None => !s.is_empty(),
                }
            } else {
                literal += 1;
                t == s
            }
        });
        if fits && best.is_none_or(|(_, n)| literal > n) {
            best = Some((template.as_str(), literal));
        }
    }
    best.map(|(t, _)| t)
}

/// Checks any response the tests receive against the official spec: a 2xx body against its
/// operation's response schema (every property present, none extra, types, nullability, enums,
/// SID patterns, date formats); 204 has no body; errors are Twilio-shaped.
pub fn check_response(method: &str, raw_path: &str, status: u16, body: &Value) {
    let path = raw_path.split('?').next().unwrap_or(raw_path);
    if status >= 400 {
        let keys: Vec<&str> = body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for key in ["code", "message", "more_info", "status"] {
            assert!(
                keys.contains(&key),
                "{method} {path}: error body lacks {key}: {body}"
            );
        }
        assert!(
            keys.iter()
                .all(|k| ["code", "message", "more_info", "status", "details"].contains(k)),
            "{method} {path}: {body}"
        );
        assert_eq!(body["status"], status, "{method} {path}: {body}");
        return;
    }
    let Some(file) = spec_file(path) else { return };
    let doc = spec(file);
    let template = template_for(doc, path).unwrap_or_else(|| {
        panic!("{method} {path} answered {status} but the spec has no such path")
    });
    let operation = &doc["paths"][template][method.to_ascii_lowercase()];
    assert!(
        operation.is_object(),
        "{method} {template}: no such operation in {file}"
    );
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {template}: the spec has no {status} response"
    );
    if status == 204 {
        assert!(body.is_null(), "{method} {path}: 204 with a body: {body}");
        return;
    }
    let schema = &response["content"]["application/json"]["schema"];
    let mut problems = Vec::new();
    check_value(
        doc,
        schema,
        body,
        &format!("{method} {template}"),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}\nbody: {body:#}");
}

#[test]
fn templates_prefer_literal_segments() {
    let doc = spec("twilio_studio_v2.json");
    assert_eq!(
        template_for(doc, "/v2/Flows/Validate"),
        Some("/v2/Flows/Validate")
    );
    assert_eq!(
        template_for(doc, "/v2/Flows/FWx/TestUsers"),
        Some("/v2/Flows/{Sid}/TestUsers")
    );
    let api = spec("twilio_api_v2010.json");
    assert_eq!(
        template_for(api, "/2010-04-01/Accounts/ACx.json"),
        Some("/2010-04-01/Accounts/{Sid}.json")
    );
    assert_eq!(
        template_for(api, "/2010-04-01/Accounts/ACx/Keys.json"),
        Some("/2010-04-01/Accounts/{AccountSid}/Keys.json")
    );
}

fn sample_key() -> Value {
    serde_json::json!({"sid": "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "friendly_name": null,
        "date_created": "Mon, 13 Jun 2016 22:50:08 +0000", "date_updated": "Mon, 13 Jun 2016 22:50:08 +0000"})
}

#[test]
fn the_automatic_check_accepts_a_conforming_body() {
    check_response(
        "GET",
        "/2010-04-01/Accounts/ACx/Keys/SKx.json",
        200,
        &sample_key(),
    );
}

#[test]
#[should_panic(expected = "not in the schema")]
fn the_automatic_check_rejects_an_extra_property() {
    let mut body = sample_key();
    body["secret"] = Value::from("leaked");
    check_response("GET", "/2010-04-01/Accounts/ACx/Keys/SKx.json", 200, &body);
}

#[test]
#[should_panic(expected = "missing")]
fn the_automatic_check_rejects_a_missing_property() {
    let mut body = sample_key();
    body.as_object_mut().unwrap().remove("date_updated");
    check_response("GET", "/2010-04-01/Accounts/ACx/Keys/SKx.json", 200, &body);
}

#[test]
#[should_panic(expected = "is not RFC 2822")]
fn the_automatic_check_rejects_a_wrong_date_format() {
    let mut body = sample_key();
    body["date_created"] = Value::from("2016-06-13T22:50:08Z");
    check_response("GET", "/2010-04-01/Accounts/ACx/Keys/SKx.json", 200, &body);
}
