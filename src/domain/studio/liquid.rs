//! Liquid in Studio's widget properties, through the `liquid` crate (cobalt-org), with the gaps
//! between it and Studio closed here rather than in a template engine of our own:
//! - **Unknown variables render empty**, as in Studio (`{{flow.data.missing}}`,
//!   `{{widgets.nope.parsed.x}}`): the crate refuses unknown variables and indexes, so the
//!   context is handed to it as a [`Lax`] tree in which every absent key (at any depth, and
//!   every index past an array's end) is an empty nil value.
//! - **nil is 0 to the math filters** (`plus`, `minus`, …), as in Shopify's Liquid.
//! - **Loops stop after 15 iterations** (Studio FAQ: "Liquid loops max 15 iterations"): every
//!   `{% for %}` tag gets `limit: 15` (a literal limit above 15 is lowered to it).
//! - **`to_json`** (and its alias `json`), which Studio templates use and the crate lacks.
//!
//! Indexing into a string (`{{flow.data.name.first}}`) stays an error of the template, as in
//! the crate: the widget then takes its failure path (see `engine`).

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, LazyLock, Mutex, PoisonError},
};

use hashlink::LruCache;

use liquid_core::{
    Display_filter, Filter, FilterReflection, ParseFilter, Runtime,
    model::{ArrayView, DisplayCow, KStringCow, ObjectView, State, Value, ValueView},
};
use serde_json::Value as Json;

/// Studio FAQ: a Liquid loop runs at most 15 iterations.
pub const MAX_LOOP_ITERATIONS: u32 = 15;

/// A JSON context as Liquid sees it: absent keys and indexes are [`Lax::Missing`].
#[derive(Debug, Clone)]
pub enum Lax {
    /// A string, number, boolean or null.
    Scalar(Value),
    Array(Vec<Lax>),
    Object(BTreeMap<String, Lax>),
    /// What an absent key or index reads as: nil, renders empty, and indexes to itself.
    Missing,
}

static MISSING: Lax = Lax::Missing;

impl Lax {
    pub fn from_json(value: &Json) -> Self {
        match value {
            Json::Null => Lax::Scalar(Value::Nil),
            Json::Bool(b) => Lax::Scalar(Value::scalar(*b)),
            Json::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Lax::Scalar(Value::scalar(i)),
                (None, Some(f)) => Lax::Scalar(Value::scalar(f)),
                (None, None) => Lax::Scalar(Value::scalar(n.to_string())),
            },
            Json::String(s) => Lax::Scalar(Value::scalar(s.clone())),
            Json::Array(items) => Lax::Array(items.iter().map(Lax::from_json).collect()),
            Json::Object(map) => Lax::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Lax::from_json(v)))
                    .collect(),
            ),
        }
    }

    fn rendered(&self) -> String {
        self.to_value().render().to_string()
    }
}

/// A context's [`Lax`] kept in step with the context through one run of a flow: converted once,
/// at the first widget that renders, then given each change the engine makes to the context
/// ([`Mirror::set`], the same path and value as its `set_in`) instead of converting the whole
/// context again for every widget and every set-variables pair.
#[derive(Debug, Default)]
pub struct Mirror(Option<Lax>);

impl Mirror {
    /// The context as Liquid sees it (`context` must be the one the changes were made to).
    pub fn view(&mut self, context: &Json) -> &Lax {
        self.0.get_or_insert_with(|| Lax::from_json(context))
    }

    /// `context.<path…> = value`, creating objects on the way, as the engine's `set_in` does
    /// to the context itself. Nothing to do before the first [`Mirror::view`].
    pub fn set(&mut self, path: &[&str], value: &Json) {
        let kept = self
            .0
            .as_mut()
            .is_some_and(|lax| Self::set_in(lax, path, value));
        if !kept {
            // Not an object where the context has one: convert afresh at the next view.
            self.0 = None;
        }
    }

    fn set_in(mut at: &mut Lax, path: &[&str], value: &Json) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return true;
        };
        for key in parents {
            let Lax::Object(map) = at else {
                return false;
            };
            let entry = map
                .entry((*key).to_owned())
                .or_insert_with(|| Lax::Object(BTreeMap::new()));
            if !matches!(entry, Lax::Object(_)) {
                *entry = Lax::Object(BTreeMap::new());
            }
            at = entry;
        }
        let Lax::Object(map) = at else {
            return false;
        };
        map.insert((*last).to_owned(), Lax::from_json(value));
        true
    }
}

impl ValueView for Lax {
    fn as_debug(&self) -> &dyn fmt::Debug {
        self
    }

    fn render(&self) -> DisplayCow<'_> {
        match self {
            Lax::Scalar(v) => v.render(),
            Lax::Missing => DisplayCow::Borrowed(&""),
            _ => DisplayCow::Owned(Box::new(self.rendered())),
        }
    }

    fn source(&self) -> DisplayCow<'_> {
        match self {
            Lax::Scalar(v) => v.source(),
            Lax::Missing => DisplayCow::Borrowed(&"nil"),
            _ => DisplayCow::Owned(Box::new(self.to_value().source().to_string())),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Lax::Scalar(v) => v.type_name(),
            Lax::Array(_) => "array",
            Lax::Object(_) => "object",
            Lax::Missing => "nil",
        }
    }

    fn query_state(&self, state: State) -> bool {
        match self {
            Lax::Scalar(v) => v.query_state(state),
            Lax::Missing => !matches!(state, State::Truthy),
            _ => self.to_value().query_state(state),
        }
    }

    fn to_kstr(&self) -> KStringCow<'_> {
        match self {
            Lax::Scalar(v) => v.to_kstr(),
            Lax::Missing => KStringCow::from_static(""),
            _ => KStringCow::from_string(self.rendered()),
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Lax::Scalar(v) => v.clone(),
            Lax::Array(items) => Value::Array(items.iter().map(Lax::to_value).collect()),
            Lax::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone().into(), v.to_value()))
                    .collect::<liquid_core::Object>(),
            ),
            Lax::Missing => Value::Nil,
        }
    }

    fn as_scalar(&self) -> Option<liquid_core::model::ScalarCow<'_>> {
        match self {
            Lax::Scalar(v) => v.as_scalar(),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&dyn ArrayView> {
        matches!(self, Lax::Array(_)).then_some(self as &dyn ArrayView)
    }

    fn as_object(&self) -> Option<&dyn ObjectView> {
        matches!(self, Lax::Object(_) | Lax::Missing).then_some(self as &dyn ObjectView)
    }

    fn as_state(&self) -> Option<State> {
        None
    }

    fn is_nil(&self) -> bool {
        match self {
            Lax::Scalar(v) => v.is_nil(),
            Lax::Missing => true,
            _ => false,
        }
    }
}

impl ObjectView for Lax {
    fn as_value(&self) -> &dyn ValueView {
        self
    }

    fn size(&self) -> i64 {
        match self {
            Lax::Object(map) => map.len() as i64,
            _ => 0,
        }
    }

    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        match self {
            Lax::Object(map) => Box::new(map.keys().map(|k| KStringCow::from_ref(k.as_str()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        match self {
            Lax::Object(map) => Box::new(map.values().map(|v| v as &dyn ValueView)),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        match self {
            Lax::Object(map) => Box::new(
                map.iter()
                    .map(|(k, v)| (KStringCow::from_ref(k.as_str()), v as &dyn ValueView)),
            ),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn contains_key(&self, index: &str) -> bool {
        match self {
            Lax::Object(map) => map.contains_key(index),
            _ => false,
        }
    }

    fn get<'s>(&'s self, index: &str) -> Option<&'s dyn ValueView> {
        match self {
            Lax::Object(map) => match map.get(index) {
                Some(value) => Some(value),
                // Liquid answers `size` itself when the object has no such key.
                None if index == "size" => None,
                None => Some(&MISSING),
            },
            _ => Some(&MISSING),
        }
    }
}

impl ArrayView for Lax {
    fn as_value(&self) -> &dyn ValueView {
        self
    }

    fn size(&self) -> i64 {
        match self {
            Lax::Array(items) => items.len() as i64,
            _ => 0,
        }
    }

    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        match self {
            Lax::Array(items) => Box::new(items.iter().map(|v| v as &dyn ValueView)),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn contains_key(&self, index: i64) -> bool {
        self.element(index).is_some()
    }

    fn get(&self, index: i64) -> Option<&dyn ValueView> {
        Some(self.element(index).unwrap_or(&MISSING))
    }
}

impl Lax {
    /// Element `index` (negative counts from the end, as Liquid's own arrays do).
    fn element(&self, index: i64) -> Option<&Lax> {
        let Lax::Array(items) = self else {
            return None;
        };
        let len = items.len() as i64;
        let at = if index < 0 { len + index } else { index };
        usize::try_from(at)
            .ok()
            .and_then(|at| <[Lax]>::get(items, at))
    }
}

/// The globals of a render: every root variable exists (absent ones are [`Lax::Missing`]), so
/// `{{nothing}}` renders empty rather than failing.
#[derive(Debug)]
struct Globals<'a>(&'a Lax);

impl ValueView for Globals<'_> {
    fn as_debug(&self) -> &dyn fmt::Debug {
        self
    }
    fn render(&self) -> DisplayCow<'_> {
        self.0.render()
    }
    fn source(&self) -> DisplayCow<'_> {
        self.0.source()
    }
    fn type_name(&self) -> &'static str {
        "object"
    }
    fn query_state(&self, state: State) -> bool {
        self.0.query_state(state)
    }
    fn to_kstr(&self) -> KStringCow<'_> {
        self.0.to_kstr()
    }
    fn to_value(&self) -> Value {
        self.0.to_value()
    }
    fn as_object(&self) -> Option<&dyn ObjectView> {
        Some(self)
    }
}

impl ObjectView for Globals<'_> {
    fn as_value(&self) -> &dyn ValueView {
        self
    }
    fn size(&self) -> i64 {
        ObjectView::size(self.0)
    }
    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        self.0.keys()
    }
    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        ObjectView::values(self.0)
    }
    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        self.0.iter()
    }
    fn contains_key(&self, _: &str) -> bool {
        true
    }
    fn get<'s>(&'s self, index: &str) -> Option<&'s dyn ValueView> {
        ObjectView::get(self.0, index)
    }
}

/// `to_json` / `json`: the input as JSON text (strings quoted, objects and arrays whole).
#[derive(Clone, ParseFilter, FilterReflection)]
#[filter(
    name = "to_json",
    description = "The input as JSON text.",
    parsed(ToJsonFilter)
)]
struct ToJson;

#[derive(Clone, ParseFilter, FilterReflection)]
#[filter(
    name = "json",
    description = "The input as JSON text (alias of to_json).",
    parsed(ToJsonFilter)
)]
struct JsonAlias;

#[derive(Debug, Default, Display_filter)]
#[name = "to_json"]
struct ToJsonFilter;

impl Filter for ToJsonFilter {
    fn evaluate(&self, input: &dyn ValueView, _: &dyn Runtime) -> liquid_core::Result<Value> {
        Ok(Value::scalar(liquid_to_json(input).to_string()))
    }
}

/// A Liquid value as JSON (whole numbers stay whole).
pub fn liquid_to_json(value: &dyn ValueView) -> Json {
    if let Some(array) = value.as_array() {
        return Json::Array(array.values().map(liquid_to_json).collect());
    }
    if value.is_nil() {
        return Json::Null;
    }
    if let Some(object) = value.as_object() {
        return Json::Object(
            object
                .iter()
                .map(|(k, v)| (k.to_string(), liquid_to_json(v)))
                .collect(),
        );
    }
    let Some(scalar) = value.as_scalar() else {
        return Json::Null;
    };
    match value.type_name() {
        "whole number" => scalar.to_integer().map_or(Json::Null, Json::from),
        "fractional number" => scalar
            .to_float()
            .and_then(serde_json::Number::from_f64)
            .map_or(Json::Null, Json::Number),
        "boolean" => scalar.to_bool().map_or(Json::Null, Json::Bool),
        _ => Json::String(scalar.to_kstr().to_string()),
    }
}

/// A math filter that reads nil as 0, as Shopify's Liquid does (`{{nothing | plus: 1}}` is
/// `1`; the crate refuses nil): Studio counters start that way.
#[derive(Clone)]
struct NilAsZero<P>(P);

impl<P: liquid_core::ParseFilter + Clone + 'static> liquid_core::ParseFilter for NilAsZero<P> {
    fn parse(
        &self,
        arguments: liquid_core::parser::FilterArguments,
    ) -> liquid_core::Result<Box<dyn Filter>> {
        Ok(Box::new(NilAsZeroFilter(self.0.parse(arguments)?)))
    }

    fn reflection(&self) -> &dyn liquid_core::FilterReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct NilAsZeroFilter(Box<dyn Filter>);

impl fmt::Display for NilAsZeroFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Filter for NilAsZeroFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        if input.is_nil() {
            self.0.evaluate(&Value::scalar(0), runtime)
        } else {
            self.0.evaluate(input, runtime)
        }
    }
}

static PARSER: LazyLock<Result<liquid::Parser, String>> = LazyLock::new(|| {
    use liquid_lib::stdlib::{
        Abs, AtLeast, AtMost, Ceil, DividedBy, Floor, Minus, Modulo, Plus, Round, Times,
    };
    liquid::ParserBuilder::with_stdlib()
        .filter(NilAsZero(Abs))
        .filter(NilAsZero(AtLeast))
        .filter(NilAsZero(AtMost))
        .filter(NilAsZero(Ceil))
        .filter(NilAsZero(DividedBy))
        .filter(NilAsZero(Floor))
        .filter(NilAsZero(Minus))
        .filter(NilAsZero(Modulo))
        .filter(NilAsZero(Plus))
        .filter(NilAsZero(Round))
        .filter(NilAsZero(Times))
        .filter(ToJson)
        .filter(JsonAlias)
        .build()
        .map_err(|e| e.to_string())
});

/// Renders `template` against `context`; the error says what is wrong with the template.
pub fn render(template: &str, context: &Lax) -> Result<String, String> {
    if !template.contains("{{") && !template.contains("{%") {
        return Ok(template.to_owned());
    }
    parsed(template)?
        .render(&Globals(context))
        .map_err(|e| format!("Liquid error: {e}"))
}

/// How many parsed templates [`TEMPLATES`] keeps (least recently used out first), and the
/// longest it keeps (longer ones are parsed at each render): at most 4 MiB of template text.
/// A flow's widgets hold a few short templates each, so this covers hundreds of busy flows.
const MAX_CACHED_TEMPLATES: usize = 1024;
const MAX_CACHED_TEMPLATE_LEN: usize = 4096;

/// Parsed templates by their text: parsing is a pure function of the text (the parser's
/// filters are fixed), so an entry can never be stale, whatever revision or draft it came
/// from. Parsing costs far more than rendering, and every execution renders the same few.
static TEMPLATES: LazyLock<Mutex<LruCache<String, Arc<liquid::Template>>>> =
    LazyLock::new(|| Mutex::new(LruCache::new(MAX_CACHED_TEMPLATES)));

/// `template` parsed (with its loops limited), from [`TEMPLATES`] when it was parsed before.
/// A template that does not parse is not kept: it fails again at its next render.
fn parsed(template: &str) -> Result<Arc<liquid::Template>, String> {
    // A poisoned lock only means another render panicked; the map itself is intact.
    let lock = || TEMPLATES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(hit) = lock().get(template) {
        return Ok(Arc::clone(hit));
    }
    let parser = PARSER.as_ref().map_err(Clone::clone)?;
    let parsed = Arc::new(
        parser
            .parse(&limit_loops(template))
            .map_err(|e| format!("Liquid error: {e}"))?,
    );
    if template.len() <= MAX_CACHED_TEMPLATE_LEN {
        lock().insert(template.to_owned(), Arc::clone(&parsed));
    }
    Ok(parsed)
}

/// Every `{% for … %}` tag with `limit: 15` added, or its literal limit lowered to 15.
fn limit_loops(template: &str) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find("{%") {
        out.push_str(&rest[..open]);
        let tag_and_after = &rest[open..];
        let Some(close) = tag_and_after.find("%}") else {
            out.push_str(tag_and_after);
            return out;
        };
        let tag = &tag_and_after[..close + 2];
        out.push_str(&limited_tag(tag));
        rest = &tag_and_after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// One tag (`{%…%}`), limited if it is a `for`.
fn limited_tag(tag: &str) -> String {
    let inner = tag[2..tag.len() - 2].trim_start_matches('-').trim_start();
    let is_for = inner
        .strip_prefix("for")
        .is_some_and(|after| after.starts_with(char::is_whitespace));
    if !is_for {
        return tag.to_owned();
    }
    let (body, close) = match tag.strip_suffix("-%}") {
        Some(body) => (body, "-%}"),
        None => (&tag[..tag.len() - 2], "%}"),
    };
    match body.find("limit:") {
        None => format!("{} limit: {MAX_LOOP_ITERATIONS} {close}", body.trim_end()),
        Some(at) => {
            let after = &body[at + "limit:".len()..];
            let digits: String = after
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            match digits.parse::<u32>() {
                Ok(n) if n > MAX_LOOP_ITERATIONS => {
                    let skipped = after.len() - after.trim_start().len() + digits.len();
                    format!(
                        "{}limit: {MAX_LOOP_ITERATIONS}{}{close}",
                        &body[..at],
                        &after[skipped..]
                    )
                }
                _ => tag.to_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_mirror_given_the_contexts_changes_reads_as_the_context_converted_afresh() {
        let mut context = json!({"flow": {"variables": {}}, "widgets": {}, "trigger": "x"});
        let mut mirror = Mirror::default();
        mirror.set(&["widgets", "early"], &json!(1)); // before the first view: nothing to do
        context["widgets"]["early"] = json!(1);
        mirror.view(&context);
        let changes = [
            (
                vec!["widgets", "send"],
                json!({"outbound": {"Body": "hi", "Sid": "SM1"}}),
            ),
            (vec!["flow", "variables", "greeting"], json!("Hello")),
            (vec!["widgets", "send"], json!({"outbound": null})),
            // Through a value that is no object: replaced by one, as `set_in` does.
            (vec!["trigger", "message", "Body"], json!("reply")),
            (vec!["contact", "channel", "address"], json!("+1555")),
        ];
        for (path, value) in changes {
            mirror.set(&path, &value);
            let mut at: &mut Json = &mut context;
            for key in &path[..path.len() - 1] {
                let object = at.as_object_mut().unwrap();
                if !object.get(*key).is_some_and(Json::is_object) {
                    object.insert((*key).to_owned(), json!({}));
                }
                at = object.get_mut(*key).unwrap();
            }
            at.as_object_mut()
                .unwrap()
                .insert(String::from(path[path.len() - 1]), value);
            assert_eq!(
                mirror.view(&context).to_value(),
                Lax::from_json(&context).to_value(),
                "after {path:?}"
            );
        }
    }

    fn ctx() -> Lax {
        Lax::from_json(&json!({
            "flow": {"data": {"name": "Ann", "n": 3, "items": [1, 2, 3]}},
            "widgets": {"http": {"parsed": {"list": (0..20).collect::<Vec<_>>()}}}
        }))
    }

    #[test]
    fn unknown_variables_render_empty_at_any_depth() {
        let c = ctx();
        assert_eq!(render("[{{nothing}}]", &c).unwrap(), "[]");
        assert_eq!(render("[{{flow.data.missing}}]", &c).unwrap(), "[]");
        assert_eq!(render("[{{widgets.nope.parsed.x.y}}]", &c).unwrap(), "[]");
        assert_eq!(render("[{{flow.data.items[7]}}]", &c).unwrap(), "[]");
        assert_eq!(
            render("{{flow.data.missing | default: 'x'}}", &c).unwrap(),
            "x"
        );
        assert_eq!(render("{{flow.data.missing | plus: 1}}", &c).unwrap(), "1");
        assert_eq!(
            render("[{{flow.data.missing | upcase}}]", &c).unwrap(),
            "[]"
        );
        assert_eq!(
            render("[{{flow.data.missing | append: 'x'}}]", &c).unwrap(),
            "[x]"
        );
        assert_eq!(
            render("{% if flow.data.missing %}y{% else %}n{% endif %}", &c).unwrap(),
            "n"
        );
    }

    #[test]
    fn known_values_numbers_and_filters() {
        let c = ctx();
        assert_eq!(render("Hi {{flow.data.name}}", &c).unwrap(), "Hi Ann");
        assert_eq!(render("{{flow.data.n | plus: 2}}", &c).unwrap(), "5");
        assert_eq!(render("{{flow.data.items.size}}", &c).unwrap(), "3");
        assert_eq!(render("{{flow.data.size}}", &c).unwrap(), "3");
        assert_eq!(render("{{flow.data.items.first}}", &c).unwrap(), "1");
        assert_eq!(
            render("{{flow.data | to_json}}", &c).unwrap(),
            r#"{"items":[1,2,3],"n":3,"name":"Ann"}"#
        );
        assert_eq!(render("{{flow.data.name | json}}", &c).unwrap(), r#""Ann""#);
        assert_eq!(render("no template", &c).unwrap(), "no template");
        assert!(render("{{ broken", &c).is_err());
    }

    #[test]
    fn loops_stop_after_15_iterations() {
        let c = ctx();
        let out = render(
            "{% for i in widgets.http.parsed.list %}{{i}},{% endfor %}",
            &c,
        )
        .unwrap();
        assert_eq!(out.split(',').filter(|s| !s.is_empty()).count(), 15);
        let out = render(
            "{%- for i in widgets.http.parsed.list limit: 40 -%}x{%- endfor -%}",
            &c,
        )
        .unwrap();
        assert_eq!(out, "x".repeat(15));
        let out = render(
            "{% for i in widgets.http.parsed.list limit:2 %}x{% endfor %}",
            &c,
        )
        .unwrap();
        assert_eq!(out, "xx");
        let out = render("{% for i in (1..100) %}x{% endfor %}", &c).unwrap();
        assert_eq!(out, "x".repeat(15));
    }
}
