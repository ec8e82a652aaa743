//! The layout rules of the README's "How the code is laid out", checked over `src/`: layers
//! depend one way (`http` → `domain` → `store`; the store imports neither), and no file imports
//! another that imports it back, directly or through others (issue 14: the cycles
//! `domain/conversations.rs` ↔ `domain/webhooks.rs` and `http/state.rs` ↔ `http/metrics.rs` were
//! found this way). A file's imports are its `use` trees and the `crate::…`/`super::…` paths it
//! names outside its `#[cfg(test)] mod tests`; each resolves to the deepest module file it reaches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every module file under `src/` (but `main.rs`, the binary), by module path.
fn module_files(src: &Path) -> BTreeMap<Module, String> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<Module, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, src, out);
                continue;
            }
            let rel = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let Some(stem) = rel.strip_suffix(".rs") else {
                continue;
            };
            let mut module: Module = stem.split('/').map(str::to_owned).collect();
            if module.last().is_some_and(|last| last == "mod") {
                module.pop();
            }
            match module.as_slice() {
                [only] if only == "main" => continue,
                [only] if only == "lib" => module.clear(),
                _ => {}
            }
            out.insert(module, rel);
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The code of a file without comments and without its unit tests.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The leaf paths of a `use` tree such as `crate::{domain::{a, b::C}, store}`.
fn use_paths(tree: &str) -> Vec<Vec<String>> {
    fn parse(chars: &[char], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        let mut word = String::new();
        while *i < chars.len() {
            let c = chars[*i];
            if c.is_alphanumeric() || c == '_' || c == '*' {
                word.push(c);
                *i += 1;
            } else if c == ':' {
                if !word.is_empty() {
                    path.push(std::mem::take(&mut word));
                }
                *i += 1;
            } else if c == '{' {
                *i += 1;
                loop {
                    parse(chars, i, &path, out);
                    match chars.get(*i) {
                        Some(',') => *i += 1,
                        _ => break,
                    }
                }
                *i += 1; // the closing brace
                return;
            } else if c == ',' || c == '}' {
                break;
            } else if c.is_whitespace() {
                // `X as Y`: the alias is not a path.
                let rest: String = chars[*i..].iter().take(4).collect();
                if rest.trim_start().starts_with("as ") {
                    if !word.is_empty() {
                        path.push(std::mem::take(&mut word));
                    }
                    while *i < chars.len() && chars[*i] != ',' && chars[*i] != '}' {
                        *i += 1;
                    }
                    break;
                }
                *i += 1;
            } else {
                *i += 1;
            }
        }
        if !word.is_empty() {
            path.push(word);
        }
        out.push(path);
    }
    let chars: Vec<char> = tree.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        parse(&chars, &mut i, &[], &mut out);
        i += 1;
    }
    out
}

/// Every path a file names: its `use` trees and inline `crate::`/`super::` paths.
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = rest.find(';') {
            paths.extend(use_paths(&rest[..end]));
        }
    }
    for start in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(start) {
            let tail = &rest[at..];
            let path: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
            rest = &rest[at + start.len()..];
        }
    }
    paths
}

/// The module files each file imports.
fn imports(src: &Path) -> (BTreeMap<Module, String>, BTreeMap<Module, BTreeSet<Module>>) {
    let files = module_files(src);
    let mut edges = BTreeMap::new();
    for (module, rel) in &files {
        let text = code(&std::fs::read_to_string(src.join(rel)).unwrap());
        let mut targets = BTreeSet::new();
        for path in named_paths(&text) {
            let (mut base, mut rest): (Module, &[String]) = match path.first().map(String::as_str) {
                Some("crate") => (Vec::new(), &path[1..]),
                Some("super") | Some("self") => (module.clone(), &path[..]),
                _ => continue,
            };
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            let reached = (0..=base.len())
                .rev()
                .map(|n| base[..n].to_vec())
                .find(|prefix| files.contains_key(prefix));
            if let Some(target) = reached.filter(|t| t != module && !t.is_empty()) {
                targets.insert(target);
            }
        }
        edges.insert(module.clone(), targets);
    }
    (files, edges)
}

/// Files on a cycle of imports (strongly connected components of more than one file).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    // Reachability by search from each file: small graphs (≈100 files), no need for Tarjan.
    let reach = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(m) = stack.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<_, _> = edges.keys().map(|m| (m.clone(), reach(m))).collect();
    let mut found: Vec<Vec<Module>> = Vec::new();
    for (module, reached) in &reaches {
        let component: Vec<Module> = reached
            .iter()
            .filter(|other| reaches.get(*other).is_some_and(|r| r.contains(module)))
            .cloned()
            .collect();
        if component.len() > 1 && !found.iter().any(|c| c.contains(module)) {
            found.push(component);
        }
    }
    found
}

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_file_imports_another_that_imports_it_back() {
    let (files, edges) = imports(&src());
    let found: Vec<Vec<&String>> = cycles(&edges)
        .iter()
        .map(|c| c.iter().map(|m| &files[m]).collect())
        .collect();
    assert!(found.is_empty(), "import cycles between files: {found:?}");
}

#[test]
fn layers_depend_one_way_http_domain_store() {
    let (files, edges) = imports(&src());
    let layer = |m: &Module| m.first().cloned().unwrap_or_default();
    let mut wrong = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            let forbidden = match layer(from).as_str() {
                "store" => ["domain", "http"].contains(&layer(to).as_str()),
                "domain" => layer(to) == "http",
                _ => false,
            };
            if forbidden {
                wrong.push(format!("{} → {}", files[from], files[to]));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:#?}");
}

#[test]
fn the_checker_finds_a_cycle_and_resolves_nested_use_trees() {
    assert_eq!(
        use_paths("crate::{domain::{a, b::C as D}, store}"),
        vec![
            vec!["crate", "domain", "a"],
            vec!["crate", "domain", "b", "C"],
            vec!["crate", "store"],
        ]
    );
    let m = |s: &str| -> Module { s.split('/').map(str::to_owned).collect() };
    let edges = BTreeMap::from([
        (m("domain/a"), BTreeSet::from([m("domain/b")])),
        (m("domain/b"), BTreeSet::from([m("domain/c")])),
        (m("domain/c"), BTreeSet::from([m("domain/a")])),
        (m("domain/d"), BTreeSet::from([m("domain/a")])),
    ]);
    let found = cycles(&edges);
    assert_eq!(
        found,
        vec![vec![m("domain/a"), m("domain/b"), m("domain/c")]]
    );
}
