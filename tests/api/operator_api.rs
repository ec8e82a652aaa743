//! `openapi/localtwilio-operator.yaml` describes every operator route: each `/_localtwilio/…`
//! path (but the console's HTML pages) that a file under `src/http/` routes, with each of its
//! methods, is a path of the file with that method, and the file names no route that does not
//! exist.

use std::collections::BTreeSet;
use std::path::Path;

/// `{account}`, `{Sid}`, `{Id}` … all become `{}`: only the shape of a path matters.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// (path shape, method) of every operator route in the source.
fn routed(dir: &Path, out: &mut BTreeSet<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            routed(&path, out);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("\"/_localtwilio/") {
            let literal = &rest[at + 1..];
            let end = literal.find('"').unwrap();
            let route = &literal[..end];
            let after = &literal[end + 1..];
            rest = after;
            // A route: `"…" => methods` (routes!) or `.route("…", methods)`.
            let methods = if let Some(m) = after.strip_prefix(" =>") {
                m
            } else if let Some(m) = after.trim_start().strip_prefix(',') {
                if !text[..text.len() - literal.len() - 1]
                    .trim_end()
                    .ends_with(".route(")
                {
                    continue;
                }
                m
            } else {
                continue;
            };
            if route.starts_with("/_localtwilio/console") {
                continue;
            }
            let statement = methods
                .split(['\n'])
                .take_while(|line| !line.trim_start().starts_with('"'))
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            let statement = statement.split(".route(").next().unwrap_or_default();
            for method in ["get", "post", "delete"] {
                let called = statement.contains(&format!(" {method}("))
                    || statement.contains(&format!(".{method}("))
                    || statement.trim_start().starts_with(&format!("{method}("));
                if called {
                    out.insert((shape(route), method.to_owned()));
                }
            }
        }
    }
}

/// (path shape, method) of every operation in the OpenAPI file (a small reader of its
/// two-space layout: paths at indent 2, methods at indent 4).
fn described(text: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut in_paths = false;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line == "paths:" {
            in_paths = true;
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(path) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            current = Some(shape(&format!("/{path}")));
            continue;
        }
        if let (Some(path), Some(method)) = (
            &current,
            line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')),
        ) && ["get", "post", "delete", "put", "patch"].contains(&method)
        {
            out.insert((path.clone(), method.to_owned()));
        }
    }
    out
}

#[test]
fn every_operator_route_is_in_the_openapi_file_and_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut routes = BTreeSet::new();
    routed(&root.join("src/http"), &mut routes);
    let text = std::fs::read_to_string(root.join("openapi/localtwilio-operator.yaml")).unwrap();
    let operations = described(&text);
    // The reader found what it should (so a broken reader cannot pass vacuously).
    assert!(routes.contains(&("/_localtwilio/InboundMessages".into(), "post".into())));
    assert!(routes.contains(&("/_localtwilio/Accounts/{}/Reset".into(), "post".into())));
    assert!(routes.len() >= 14, "{routes:#?}");
    let missing: Vec<_> = routes.difference(&operations).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI file: {missing:#?}"
    );
    let extra: Vec<_> = operations.difference(&routes).collect();
    assert!(extra.is_empty(), "operations no route serves: {extra:#?}");
}
