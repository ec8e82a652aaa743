//! Checks every response the API tests receive against the official OpenAPI description
//! (`spec/twilio-oai/`, copied unchanged from twilio/twilio-oai). `check_response` is called by
//! `helpers::into_json` (and so by `TestApp::get`/`post`/`delete`) for every body: the request's
//! method and path find the operation, the status finds its response schema, and the body must
//! have every property and no other, each of the right type, `nullable` respected, enums,
//! patterns (SIDs), lengths and the date and URI formats. Error bodies must be Twilio's
//! `{code, message, more_info, status}`. Operator endpoints are exempt by name
//! (`OPERATOR_ENDPOINTS`); the server's known deviations are listed in `KNOWN_DEVIATIONS`.

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
};

use regex::Regex;
use serde_json::Value;

/// The spec files, one per product we serve.
const SPEC_FILES: [&str; 4] = [
    "twilio_api_v2010.json",
    "twilio_conversations_v1.json",
    "twilio_studio_v2.json",
    "twilio_trusthub_v1.json",
];

/// Our own endpoints, which no Twilio spec describes: their bodies are not checked.
const OPERATOR_ENDPOINTS: [&str; 3] = ["/healthz", "/metrics", "/_localtwilio/"];

/// Where the server is known to differ from the spec. Each entry silences exactly one field of
/// one operation (`field` as the problem names it, array indices written `[]`); the lead removes
/// the entry when the server is fixed, and the check then holds for that field too.
struct KnownDeviation {
    /// `METHOD template`, as in the spec's `paths`.
    operation: &'static str,
    field: &'static str,
}

const KNOWN_DEVIATIONS: &[KnownDeviation] = &[];

fn is_operator_endpoint(path: &str) -> bool {
    OPERATOR_ENDPOINTS
        .iter()
        .any(|e| path == e.trim_end_matches('/') || (e.ends_with('/') && path.starts_with(e)))
}

fn spec(file: &str) -> &'static Value {
    static SPECS: OnceLock<Mutex<HashMap<String, &'static Value>>> = OnceLock::new();
    let mut specs = SPECS.get_or_init(Default::default).lock().unwrap();
    specs.entry(file.to_owned()).or_insert_with(|| {
        let path = format!("{}/spec/twilio-oai/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Box::leak(Box::new(serde_json::from_str(&text).unwrap()))
    })
}

/// The spec's `pattern`s compiled once each.
fn pattern(source: &str) -> &'static Regex {
    static PATTERNS: OnceLock<Mutex<HashMap<String, &'static Regex>>> = OnceLock::new();
    let mut patterns = PATTERNS.get_or_init(Default::default).lock().unwrap();
    patterns.entry(source.to_owned()).or_insert_with(|| {
        let regex = Regex::new(source).unwrap_or_else(|e| panic!("spec pattern {source}: {e}"));
        Box::leak(Box::new(regex))
    })
}

/// One way a body does not fit: `field` is where (`accounts[2].status`), `what` how.
#[derive(Debug)]
struct Problem {
    field: String,
    what: String,
}

/// What the value checks need to know besides the schema.
struct Context<'a> {
    doc: &'a Value,
    /// The 2010 API's `uri`, `*_uri` and `subresource_uris` values are relative
    /// (`/2010-04-01/Accounts.json?…`) in the spec's own examples and in Twilio's real answers,
    /// although the spec marks them `format: uri`.
    relative_uris: bool,
    problems: Vec<Problem>,
}

impl Context<'_> {
    fn problem(&mut self, field: &str, what: String) {
        self.problems.push(Problem {
            field: field.to_owned(),
            what,
        });
    }
}

/// Asserts `body` conforms to `components.schemas[schema]` of `file`.
pub fn assert_schema(file: &str, schema: &str, body: &Value) {
    let doc = spec(file);
    let def = &doc["components"]["schemas"][schema];
    assert!(def.is_object(), "no schema {schema} in {file}");
    let mut cx = Context {
        doc,
        relative_uris: file == "twilio_api_v2010.json",
        problems: Vec::new(),
    };
    check_object(&mut cx, def, body, "");
    assert!(
        cx.problems.is_empty(),
        "{schema}: {}\nbody: {body:#}",
        describe(&cx.problems)
    );
}

fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  {}: {}", p.field_or_root(), p.what))
        .collect()
}

impl Problem {
    fn field_or_root(&self) -> &str {
        if self.field.is_empty() {
            "(body)"
        } else {
            &self.field
        }
    }
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

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

fn check_object(cx: &mut Context, def: &Value, body: &Value, at: &str) {
    let Some(obj) = body.as_object() else {
        cx.problem(at, format!("{body} is not an object"));
        return;
    };
    let props = def["properties"].as_object().cloned().unwrap_or_default();
    for key in obj.keys() {
        if !props.contains_key(key) {
            cx.problem(&join(at, key), "not in the schema".into());
        }
    }
    for (key, prop) in &props {
        match obj.get(key) {
            None => cx.problem(&join(at, key), "missing".into()),
            Some(value) => check_value(cx, prop, value, &join(at, key)),
        }
    }
}

/// The last key of a field path: `accounts[0].uri` → `uri`.
fn last_key(at: &str) -> &str {
    at.rsplit('.').next().unwrap_or(at)
}

fn check_value(cx: &mut Context, def: &Value, value: &Value, at: &str) {
    let doc = cx.doc;
    let nullable = def["nullable"].as_bool().unwrap_or(false);
    let def = resolve(doc, def);
    if value.is_null() {
        if !nullable && !def["nullable"].as_bool().unwrap_or(false) {
            cx.problem(at, "null but not nullable".into());
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
        cx.problem(at, format!("{value} is not of type {}", def["type"]));
        return;
    }
    if let Some(values) = def["enum"].as_array()
        && !values.contains(value)
    {
        cx.problem(at, format!("{value} not in enum {values:?}"));
    }
    if let Some(s) = value.as_str() {
        check_string(cx, def, s, at);
    }
    if def["format"] == "uri-map"
        && let Some(map) = value.as_object()
    {
        let relative = cx.relative_uris && last_key(at) == "subresource_uris";
        for (key, uri) in map {
            match uri.as_str() {
                Some(uri) if is_uri(uri, relative) => {}
                _ => cx.problem(&join(at, key), format!("{uri} is not a URI")),
            }
        }
    }
    if def["properties"].is_object() {
        check_object(cx, def, value, at);
    }
    if let (Some(items), Some(array)) = (def.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check_value(cx, items, item, &format!("{at}[{i}]"));
        }
    }
}

fn check_string(cx: &mut Context, def: &Value, s: &str, at: &str) {
    if let Some(source) = def["pattern"].as_str()
        && !pattern(source).is_match(s)
    {
        cx.problem(at, format!("{s:?} does not match {source}"));
    }
    let chars = s.chars().count() as u64;
    if let Some(min) = def["minLength"].as_u64()
        && chars < min
    {
        cx.problem(at, format!("{s:?} is shorter than {min}"));
    }
    if let Some(max) = def["maxLength"].as_u64()
        && chars > max
    {
        cx.problem(at, format!("{s:?} is longer than {max}"));
    }
    match def["format"].as_str() {
        Some("date-time") if !is_iso8601_z(s) => {
            cx.problem(at, format!("{s:?} is not %Y-%m-%dT%H:%M:%SZ"))
        }
        Some("date-time-rfc-2822") if !is_rfc2822(s) => {
            cx.problem(at, format!("{s:?} is not RFC 2822 +0000"))
        }
        Some("uri") => {
            let key = last_key(at);
            let relative = cx.relative_uris && (key == "uri" || key.ends_with("_uri"));
            if !is_uri(s, relative) {
                let want = if relative {
                    "a /2010-04-01/ path or an absolute URI"
                } else {
                    "an absolute URI"
                };
                cx.problem(at, format!("{s:?} is not {want}"));
            }
        }
        _ => {}
    }
}

/// An absolute http(s) URL, or where Twilio answers relative 2010 references, one of those.
fn is_uri(s: &str, relative_allowed: bool) -> bool {
    let absolute = ["http://", "https://"]
        .iter()
        .any(|scheme| s.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty()));
    absolute || (relative_allowed && s.starts_with("/2010-04-01/"))
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

/// Whether a spec path template fits a concrete (percent-encoded) path, and with how many
/// literal segments: literal segments must be equal, `{Param}` takes any non-empty segment and
/// `{Param}.json` one ending in `.json`.
fn literal_matches(template: &str, path: &str) -> Option<usize> {
    let parts: Vec<&str> = template.split('/').collect();
    let segments: Vec<&str> = path.split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut literal = 0;
    for (t, s) in parts.iter().zip(&segments) {
        let fits = if t.starts_with('{') {
            match t.strip_suffix(".json") {
                Some(_) => s.ends_with(".json") && s.len() > 5,
                None => !s.is_empty(),
            }
        } else {
            literal += 1;
            t == s
        };
        if !fits {
            return None;
        }
    }
    Some(literal)
}

/// The spec file and path template of a concrete path, over all four files; the template with
/// the most literal segments wins (`/v2/Flows/Validate` over `/v2/Flows/{Sid}`).
fn template_for(path: &str) -> Option<(&'static str, &'static str)> {
    let mut best: Option<(&str, &str, usize)> = None;
    for file in SPEC_FILES {
        let Some(paths) = spec(file)["paths"].as_object() else {
            continue;
        };
        for template in paths.keys() {
            if let Some(literal) = literal_matches(template, path)
                && best.is_none_or(|(_, _, n)| literal > n)
            {
                best = Some((file, template.as_str(), literal));
            }
        }
    }
    best.map(|(file, template, _)| (file, template))
}

/// Checks a Twilio error body: exactly `code`, `message`, `more_info`, `status` (and Twilio's
/// optional `details`), with `status` the HTTP status and `more_info` the code's docs page.
fn check_error(status: u16, body: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, what: String| {
        problems.push(Problem {
            field: field.into(),
            what,
        })
    };
    let Some(obj) = body.as_object() else {
        problem("", "an error without a JSON object body".into());
        return problems;
    };
    for key in obj.keys() {
        if !["code", "message", "more_info", "status", "details"].contains(&key.as_str()) {
            problem(key, "not in a Twilio error".into());
        }
    }
    match body["code"].as_u64() {
        Some(code) => {
            let docs = format!("https://www.twilio.com/docs/errors/{code}");
            if body["more_info"] != docs.as_str() {
                problem("more_info", format!("{} is not {docs}", body["more_info"]));
            }
        }
        None => problem("code", format!("{} is not an integer code", body["code"])),
    }
    if body["message"].as_str().is_none_or(str::is_empty) {
        problem("message", format!("{} is not a message", body["message"]));
    }
    if body["status"] != status {
        problem("status", format!("{} is not {status}", body["status"]));
    }
    problems
}

/// Checks one response the tests received against the official spec (see the module comment).
/// `body` is `Null` for an empty body. Panics naming the method, path, operation and each field
/// that does not fit.
pub fn check_response(method: &str, raw_path: &str, status: u16, body: &Value) {
    let path = raw_path.split('?').next().unwrap_or(raw_path);
    if is_operator_endpoint(path) {
        return;
    }
    let (operation, problems) = operation_problems(method, path, status, body);
    let problems: Vec<Problem> = problems
        .into_iter()
        .filter(|p| !is_known_deviation(&operation, p))
        .collect();
    assert!(
        problems.is_empty(),
        "{method} {path} answered {status}, which does not fit {operation}:{}\nbody: {body:#}",
        describe(&problems)
    );
}

fn is_known_deviation(operation: &str, problem: &Problem) -> bool {
    let field = without_indices(&problem.field);
    KNOWN_DEVIATIONS
        .iter()
        .any(|d| d.operation == operation && d.field == field)
}

/// `accounts[12].status` → `accounts[].status`.
fn without_indices(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// The operation (`METHOD template`, or a description when there is none) and what in the
/// response does not fit it.
fn operation_problems(
    method: &str,
    path: &str,
    status: u16,
    body: &Value,
) -> (String, Vec<Problem>) {
    if status >= 400 {
        return ("a Twilio error".into(), check_error(status, body));
    }
    let no_operation = |what: String| {
        (
            "the spec".to_owned(),
            vec![Problem {
                field: String::new(),
                what,
            }],
        )
    };
    let Some((file, template)) = template_for(path) else {
        return no_operation("no spec file has this path".into());
    };
    let doc = spec(file);
    let operation = format!("{method} {template}");
    let definition = &doc["paths"][template][method.to_ascii_lowercase()];
    if !definition.is_object() {
        return no_operation(format!("{file} has no {operation}"));
    }
    let response = &definition["responses"][status.to_string()];
    if !response.is_object() {
        let problem = Problem {
            field: String::new(),
            what: format!("the spec has no {status} response"),
        };
        return (operation, vec![problem]);
    }
    let schema = &response["content"]["application/json"]["schema"];
    if !schema.is_object() {
        let problems = if body.is_null() {
            Vec::new()
        } else {
            vec![Problem {
                field: String::new(),
                what: format!("the spec's {status} has no body"),
            }]
        };
        return (operation, problems);
    }
    let mut cx = Context {
        doc,
        relative_uris: file == "twilio_api_v2010.json",
        problems: Vec::new(),
    };
    check_value(&mut cx, schema, body, "");
    (operation, cx.problems)
}

#[test]
fn templates_prefer_literal_segments() {
    assert_eq!(
        template_for("/v2/Flows/Validate"),
        Some(("twilio_studio_v2.json", "/v2/Flows/Validate"))
    );
    assert_eq!(
        template_for("/v2/Flows/FWx/TestUsers"),
        Some(("twilio_studio_v2.json", "/v2/Flows/{Sid}/TestUsers"))
    );
    assert_eq!(
        template_for("/2010-04-01/Accounts/ACx.json"),
        Some(("twilio_api_v2010.json", "/2010-04-01/Accounts/{Sid}.json"))
    );
    assert_eq!(
        template_for("/2010-04-01/Accounts/ACx/Keys.json"),
        Some((
            "twilio_api_v2010.json",
            "/2010-04-01/Accounts/{AccountSid}/Keys.json"
        ))
    );
    assert_eq!(
        template_for("/v1/EndUsers/ITx"),
        Some(("twilio_trusthub_v1.json", "/v1/EndUsers/{Sid}"))
    );
    assert_eq!(
        template_for("/v1/Users/USx"),
        Some(("twilio_conversations_v1.json", "/v1/Users/{Sid}"))
    );
    assert_eq!(template_for("/no/such/route"), None);
}

const KEY: &str = "/2010-04-01/Accounts/ACx/Keys/SKx.json";

fn sample_key() -> Value {
    serde_json::json!({"sid": "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "friendly_name": null,
        "date_created": "Mon, 13 Jun 2016 22:50:08 +0000", "date_updated": "Mon, 13 Jun 2016 22:50:08 +0000"})
}

/// The spec's own example of an Accounts list page (relative `*_uri` values and
/// `subresource_uris`).
fn spec_example_account_page() -> Value {
    spec("twilio_api_v2010.json")["paths"]["/2010-04-01/Accounts.json"]["get"]["responses"]
        ["200"]["content"]["application/json"]["examples"]["readFull"]["value"]
        .clone()
}

#[test]
fn the_automatic_check_accepts_a_conforming_body() {
    check_response("GET", KEY, 200, &sample_key());
}

#[test]
fn the_automatic_check_accepts_relative_2010_uris() {
    let page = spec_example_account_page();
    assert!(
        page["first_page_uri"]
            .as_str()
            .unwrap()
            .starts_with("/2010")
    );
    check_response("GET", "/2010-04-01/Accounts.json", 200, &page);
}

#[test]
#[should_panic(expected = "first_page_uri: \"Accounts.json\" is not a /2010-04-01/ path")]
fn the_automatic_check_rejects_a_2010_uri_that_is_no_path() {
    let mut page = spec_example_account_page();
    page["first_page_uri"] = Value::from("Accounts.json");
    check_response("GET", "/2010-04-01/Accounts.json", 200, &page);
}

#[test]
#[should_panic(expected = "meta.url: \"/v2/Flows\" is not an absolute URI")]
fn the_automatic_check_rejects_a_relative_v2_url() {
    let page = serde_json::json!({"flows": [], "meta": {"first_page_url": "https://x/v2/Flows",
        "key": "flows", "next_page_url": null, "page": 0, "page_size": 50,
        "previous_page_url": null, "url": "/v2/Flows"}});
    check_response("GET", "/v2/Flows", 200, &page);
}

#[test]
#[should_panic(expected = "GET /2010-04-01/Accounts/ACx/Keys/SKx.json answered 200")]
fn the_automatic_check_rejects_an_extra_property() {
    let mut body = sample_key();
    body["secret"] = Value::from("leaked");
    check_response("GET", KEY, 200, &body);
}

#[test]
#[should_panic(expected = "date_updated: missing")]
fn the_automatic_check_rejects_a_missing_property() {
    let mut body = sample_key();
    body.as_object_mut().unwrap().remove("date_updated");
    check_response("GET", KEY, 200, &body);
}

#[test]
#[should_panic(expected = "is not RFC 2822")]
fn the_automatic_check_rejects_a_wrong_date_format() {
    let mut body = sample_key();
    body["date_created"] = Value::from("2016-06-13T22:50:08Z");
    check_response("GET", KEY, 200, &body);
}

#[test]
#[should_panic(expected = "sid: \"SKnothex\" does not match ^SK[0-9a-fA-F]{32}$")]
fn the_automatic_check_rejects_a_malformed_sid() {
    let mut body = sample_key();
    body["sid"] = Value::from("SKnothex");
    check_response("GET", KEY, 200, &body);
}

#[test]
#[should_panic(expected = "the spec has no 201 response")]
fn the_automatic_check_rejects_an_undocumented_status() {
    check_response("GET", KEY, 201, &sample_key());
}

#[test]
#[should_panic(expected = "no spec file has this path")]
fn the_automatic_check_rejects_a_success_outside_the_spec() {
    check_response("GET", "/v1/NoSuchThing", 200, &serde_json::json!({}));
}

#[test]
#[should_panic(expected = "the spec's 204 has no body")]
fn the_automatic_check_rejects_a_body_on_204() {
    check_response("DELETE", KEY, 204, &sample_key());
}

#[test]
#[should_panic(expected = "more_info")]
fn the_automatic_check_rejects_an_error_that_is_not_twilio_shaped() {
    let body = serde_json::json!({"code": 20404, "message": "Not found", "status": 404});
    check_response("GET", KEY, 404, &body);
}

#[test]
fn the_automatic_check_accepts_a_twilio_error_and_skips_operator_endpoints() {
    let body = serde_json::json!({"code": 20404, "message": "The requested resource was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404});
    check_response("GET", "/no/such/route", 404, &body);
    check_response(
        "GET",
        "/healthz",
        503,
        &serde_json::json!({"status": "unhealthy"}),
    );
    check_response(
        "GET",
        "/_localtwilio/WebhookAttempts",
        200,
        &serde_json::json!([]),
    );
}

#[test]
fn deviations_match_fields_without_indices() {
    assert_eq!(
        without_indices("revisions[12].errors[0]"),
        "revisions[].errors[]"
    );
}
