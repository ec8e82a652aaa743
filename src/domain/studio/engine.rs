//! The Studio engine: runs a flow revision's widgets for one execution, building the context
//! as Twilio does and recording one Step per widget run (`name` = the event the widget emitted,
//! `transitioned_from` = the widget, `transitioned_to` = the next widget or `"Ended"`).
//!
//! The context (reference/studio-executions.md §4, from a recorded real one):
//! `trigger.request.{to,from,parameters}`, `contact.channel.address` (= `To`),
//! `flow.{sid (the execution's FN SID, as Twilio has it), flow_sid, channel.address (= From),
//! data (= Parameters), variables}`, `widgets.<name>.…` (each widget's output).
//!
//! Every string property is rendered with Liquid (see `liquid`) just before its widget runs.
//! Studio's limits (FAQ): an execution ends after 1,000 steps, or when the same widget runs 10
//! times in a row; the reason is put in the last step's context under `emulator`.
//!
//! Widgets (README "Studio engine"): `trigger`, `set-variables`, `split-based-on`,
//! `run-subflow`, `send-message`, `send-and-wait-for-reply` (parks the execution until its
//! timeout) run; `make-http-request` and `run-function` make real calls only to hosts on the
//! configured allow-list; every other type takes its failure-like transition if wired, else
//! ends the execution, the reason in its step's context.

use std::{collections::HashMap, time::Duration};

use serde_json::{Map, Value, json};

use super::{
    conditions,
    liquid::{Lax, Mirror, render},
    outbound::{Outbound, prepare_message},
    validate::validate_definition,
};
use crate::{
    domain::{
        Core,
        sid::{AccountSid, ExecutionSid, FlowSid, StepSid},
        stored_json,
    },
    error::Result,
    store::{
        messages::NewMessage,
        studio::{revisions::RevisionAt, steps::StepRow},
    },
};

/// Studio FAQ: "an Execution ends after 1,000 Steps".
pub const MAX_STEPS: u64 = 1000;
/// Studio FAQ: an execution stops when "the same widget runs 10 times in a row".
pub const MAX_REPEATS: u64 = 10;
/// How deep subflows may nest *(ours: Twilio documents no limit; a flow that runs itself as
/// its own subflow must stop somewhere)*.
pub const MAX_SUBFLOW_DEPTH: u32 = 10;
/// Studio: HTTP Request and Run Function time out after 10 seconds.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// The send-and-wait-for-reply default timeout, in seconds (its `timeout` property's default).
pub const DEFAULT_WAIT_SECS: i64 = 3600;
/// The largest response body an HTTP widget keeps *(ours)*.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// The events a widget Studio cannot run here may take instead, in order of preference: the
/// first one wired to a next widget is followed.
const FAILURE_EVENTS: &[&str] = &[
    "failed",
    "fail",
    "deliveryFailure",
    "failedToEnqueue",
    "callFailure",
    "providerError",
    "hangup",
    "noAnswer",
    "busy",
    "timeout",
    "noAudio",
];

/// What the engine needs besides the store: the HTTP widgets' client and allow-list, and the
/// timeout worker's wake-up.
pub struct StudioRuntime {
    pub http: reqwest::Client,
    /// Hosts (`host` or `host:port`, lower case) HTTP widgets may call; empty: none.
    pub allowed_hosts: Vec<String>,
    /// Woken when an execution starts waiting, so the timeout worker looks again.
    pub wake: tokio::sync::Notify,
    /// Posts what a flow said into its conversation (set at start by `emulator`, which knows
    /// Conversations: Studio does not import it back).
    pub conversation_poster: std::sync::OnceLock<ConversationPoster>,
}

/// Posts `bodies` into conversation `conversation_sid` of the account, as the flow's messages.
pub type ConversationPoster = fn(Core, AccountSid, String, Vec<String>);

impl StudioRuntime {
    /// `allowed_hosts`: comma-separated. The process's rustls provider must be installed
    /// (`install_tls_provider`) first: the client needs it.
    pub fn new(allowed_hosts: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // A redirect could leave the allow-list.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        Ok(Self {
            http,
            allowed_hosts: allowed_hosts
                .split(',')
                .map(|h| h.trim().to_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            wake: tokio::sync::Notify::new(),
            conversation_poster: std::sync::OnceLock::new(),
        })
    }

    fn allows(&self, url: &reqwest::Url) -> bool {
        let Some(host) = url.host_str().map(str::to_lowercase) else {
            return false;
        };
        let with_port = url.port_or_known_default().map(|p| format!("{host}:{p}"));
        self.allowed_hosts
            .iter()
            .any(|allowed| *allowed == host || Some(allowed) == with_port.as_ref())
    }
}

/// The engine's bookkeeping, kept with the execution between runs (`engine` column).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Bookkeeping {
    /// Steps recorded so far.
    pub steps: u64,
    /// The widget run last, and how many times in a row.
    pub last_widget: String,
    pub repeats: u64,
    /// While a subflow waits: the subflows the wait is in, innermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subflows: Vec<Frame>,
}

/// A subflow waiting inside its parent: which run-subflow widget started it (and its step),
/// the revision it runs and its own context.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Frame {
    pub widget: String,
    pub step_sid: String,
    pub flow_sid: String,
    pub revision: i64,
    pub context: Value,
}

/// Where a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    /// The flow reached its end.
    Ended,
    /// A limit stopped it (the reason is in the last step's context).
    Stopped,
    /// A send-and-wait-for-reply waits for a reply until `wake_at` (epoch seconds).
    Waiting { widget: String, wake_at: i64 },
}

/// Where a run starts.
pub enum Start<'a> {
    /// At a widget (`None`: the end), as a transition leads there.
    At(Option<String>),
    /// At the trigger, with its event (`incomingRequest`, `incomingParent`).
    Trigger(&'a str),
    /// At a waiting widget, with the event that ended its wait and what that adds to its
    /// output (`inbound` for a reply).
    Resume {
        widget: &'a str,
        event: &'a str,
        adds: Option<(String, Value)>,
    },
}

/// A flow definition, its states by name.
pub struct Definition<'a> {
    initial: &'a str,
    states: HashMap<&'a str, &'a Value>,
}

impl<'a> Definition<'a> {
    /// `None` when the definition is not one Validate accepts (the engine never runs those).
    pub fn new(definition: &'a Value) -> Option<Self> {
        if !validate_definition(definition).is_empty() {
            return None;
        }
        Self::of_validated(definition)
    }

    /// A definition that `validate_definition` already accepted (`revisions::runnable` keeps
    /// those parsed), without checking it again.
    pub fn of_validated(definition: &'a Value) -> Option<Self> {
        let states = definition["states"]
            .as_array()?
            .iter()
            .filter_map(|s| Some((s["name"].as_str()?, s)))
            .collect();
        Some(Self {
            initial: definition["initial_state"].as_str()?,
            states,
        })
    }
}

/// The widget `event` leads to from `state`; `None` ends the flow (no such transition, or
/// one without `next`: twilio/ai "A transition without next ends the branch").
fn next_of(state: &Value, event: &str) -> Option<String> {
    state["transitions"].as_array()?.iter().find_map(|t| {
        (t["event"].as_str() == Some(event))
            .then(|| {
                t["next"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
            })
            .flatten()
    })
}

/// What one widget run produced.
struct Outcome {
    event: String,
    /// The next widget (`None`: the end).
    next: Option<String>,
    /// `widgets.<name>`, when the widget writes it.
    output: Option<Value>,
    /// The step's context.
    step: Value,
    /// Set when the widget waits: until when.
    wait_until: Option<i64>,
}

impl Outcome {
    fn to(state: &Value, event: &str, output: Option<Value>) -> Self {
        let step = output.clone().unwrap_or_else(|| json!({}));
        Self {
            event: event.to_owned(),
            next: next_of(state, event),
            output,
            step,
            wait_until: None,
        }
    }
}

/// A step about to be written.
pub struct NewStep {
    pub sid: StepSid,
    pub parent_step_sid: Option<StepSid>,
    pub name: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub context: Value,
}

impl NewStep {
    pub fn into_row(self, execution_sid: &ExecutionSid, now: i64) -> StepRow {
        StepRow {
            seq: 0,
            sid: self.sid.to_string(),
            execution_sid: execution_sid.to_string(),
            parent_step_sid: self.parent_step_sid.map(|s| s.to_string()),
            name: self.name,
            r#type: self.kind,
            transitioned_from: self.from,
            transitioned_to: self.to,
            context: self.context.to_string(),
            date_created: now,
        }
    }
}

/// One run of an execution (from its trigger, or from a wait).
pub struct Run<'a> {
    core: &'a Core,
    account_sid: &'a AccountSid,
    execution_sid: &'a ExecutionSid,
    pub book: Bookkeeping,
    pub steps: Vec<NewStep>,
    /// The messages the run sent, written with its steps.
    pub messages: Vec<NewMessage>,
    /// What send-message and send-and-wait-for-reply said in a conversation (an execution its
    /// `studio` webhook started: `conversation` is set): posted there after the run is saved.
    pub conversation_posts: Vec<String>,
    conversation: Option<String>,
    /// Now for the wait's timeout, epoch seconds (the caller moves it onto the account's
    /// clock, `emulator::clock`, when the run waits).
    timer_now: i64,
    now_ms: i64,
}

/// The initial context of an execution of `flow_sid`.
pub fn initial_context(
    execution_sid: &ExecutionSid,
    flow_sid: &FlowSid,
    to: &str,
    from: &str,
    parameters: &Map<String, Value>,
) -> Value {
    json!({
        "trigger": {"request": {"to": to, "from": from, "parameters": parameters}},
        "contact": {"channel": {"address": to}},
        "flow": {
            "sid": execution_sid,
            "flow_sid": flow_sid,
            "channel": {"address": from},
            "data": parameters,
            "variables": {},
        },
        "widgets": {},
    })
}

/// Sets `context.<a>.<b>` (creating objects on the way).
fn set_in(context: &mut Value, path: &[&str], value: Value) {
    let mut at = context;
    for key in &path[..path.len().saturating_sub(1)] {
        if !at.get(*key).is_some_and(Value::is_object) {
            at[*key] = json!({});
        }
        at = &mut at[*key];
    }
    if let Some(last) = path.last() {
        at[*last] = value;
    }
}

/// A property as text (`None` when absent or not a string).
fn text<'v>(properties: &'v Value, key: &str) -> Option<&'v str> {
    properties.get(key).and_then(Value::as_str)
}

/// Renders every string in `value` (recursively) against `context`.
fn render_all(value: &Value, context: &Lax) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(render(s, context)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_all(v, context))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_all(v, context)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// `[{key, value}]` (set-variables' `variables`, HTTP `parameters`) as pairs of text.
fn pairs(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|p| {
                    let key = p["key"].as_str()?.to_owned();
                    let value = match &p["value"] {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    Some((key, value))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `true`, `"true"`: Studio's definitions carry booleans either way.
fn flag(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl<'a> Run<'a> {
    pub fn new(
        core: &'a Core,
        account_sid: &'a AccountSid,
        execution_sid: &'a ExecutionSid,
        book: Bookkeeping,
        now_ms: i64,
        timer_now: i64,
    ) -> Self {
        Self {
            core,
            account_sid,
            execution_sid,
            book,
            steps: Vec::new(),
            messages: Vec::new(),
            conversation_posts: Vec::new(),
            conversation: None,
            timer_now,
            now_ms,
        }
    }

    /// The run is of an execution a conversation's `studio` webhook started: its messages go
    /// into that conversation.
    pub fn in_conversation(mut self, conversation_sid: Option<String>) -> Self {
        self.conversation = conversation_sid;
        self
    }

    /// Records a step, counting it toward the limits.
    fn record(&mut self, step: NewStep) {
        if self.book.last_widget == step.from {
            self.book.repeats += 1;
        } else {
            self.book.last_widget.clone_from(&step.from);
            self.book.repeats = 1;
        }
        self.book.steps += 1;
        self.steps.push(step);
    }

    /// Ends the run on a limit, saying why in the last step's context.
    fn stop(&mut self, reason: String) -> Halt {
        if let Some(last) = self.steps.last_mut() {
            if !last.context.is_object() {
                last.context = json!({});
            }
            last.context["emulator"] = json!({ "execution_ended": reason });
        }
        Halt::Stopped
    }

    /// Runs `definition` from `start` on `context` until it ends, stops or waits. Steps of a
    /// subflow carry `parent` (the run-subflow widget's step SID).
    pub async fn go(
        &mut self,
        definition: &Definition<'_>,
        context: &mut Value,
        start: Start<'_>,
        parent: Option<&StepSid>,
        depth: u32,
    ) -> Result<Halt> {
        let mut current = match start {
            Start::At(next) => next,
            Start::Trigger(event) => {
                let Some(trigger) = definition.states.get(definition.initial) else {
                    return Ok(Halt::Ended);
                };
                let next = next_of(trigger, event);
                self.record(NewStep {
                    sid: StepSid::new(),
                    parent_step_sid: parent.cloned(),
                    name: event.to_owned(),
                    kind: "trigger".into(),
                    from: definition.initial.to_owned(),
                    to: next.clone().unwrap_or_else(|| "Ended".into()),
                    context: json!({}),
                });
                next
            }
            Start::Resume {
                widget,
                event,
                adds,
            } => {
                let Some(state) = definition.states.get(widget) else {
                    return Ok(Halt::Ended);
                };
                if let Some((key, value)) = adds {
                    set_in(context, &["widgets", widget, &key], value);
                }
                let next = next_of(state, event);
                self.record(NewStep {
                    sid: StepSid::new(),
                    parent_step_sid: parent.cloned(),
                    name: event.to_owned(),
                    kind: state["type"].as_str().unwrap_or_default().to_owned(),
                    from: widget.to_owned(),
                    to: next.clone().unwrap_or_else(|| "Ended".into()),
                    context: context["widgets"][widget].clone(),
                });
                next
            }
        };
        // The context as Liquid sees it, kept in step with `context` by every change below.
        let mut mirror = Mirror::default();
        while let Some(name) = current {
            if self.book.steps >= MAX_STEPS {
                return Ok(self.stop(format!(
                    "Studio's limit of {MAX_STEPS} steps per execution was reached before \
                     widget {name} ran"
                )));
            }
            if self.book.last_widget == name && self.book.repeats >= MAX_REPEATS {
                return Ok(self.stop(format!(
                    "widget {name} ran {MAX_REPEATS} times in a row, Studio's limit"
                )));
            }
            let Some(state) = definition.states.get(name.as_str()).copied() else {
                return Ok(Halt::Ended);
            };
            let step_sid = StepSid::new();
            let outcome = self
                .widget(state, context, &mut mirror, &step_sid, depth)
                .await?;
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(halt) => return Ok(halt),
            };
            if let Some(output) = outcome.output {
                mirror.set(&["widgets", &name], &output);
                set_in(context, &["widgets", &name], output);
            }
            if let Some(wake_at) = outcome.wait_until {
                return Ok(Halt::Waiting {
                    widget: name,
                    wake_at,
                });
            }
            self.record(NewStep {
                sid: step_sid,
                parent_step_sid: parent.cloned(),
                name: outcome.event,
                kind: state["type"].as_str().unwrap_or_default().to_owned(),
                from: name,
                to: outcome.next.clone().unwrap_or_else(|| "Ended".into()),
                context: outcome.step,
            });
            current = outcome.next;
        }
        Ok(Halt::Ended)
    }

    /// Runs one widget. `Err(halt)`: the whole execution stops (a limit inside a subflow).
    async fn widget(
        &mut self,
        state: &Value,
        context: &mut Value,
        mirror: &mut Mirror,
        step_sid: &StepSid,
        depth: u32,
    ) -> Result<Result<Outcome, Halt>> {
        let kind = state["type"].as_str().unwrap_or_default();
        if kind == "set-variables" {
            return Ok(Ok(set_variables(state, context, mirror)));
        }
        let lax = mirror.view(context);
        let properties = match render_all(&state["properties"], lax) {
            Ok(p) => p,
            Err(reason) => return Ok(Ok(unsupported(state, reason))),
        };
        Ok(Ok(match kind {
            "split-based-on" => split(state, &properties, lax),
            "send-message" => self.send(state, &properties, context, false)?,
            "send-and-wait-for-reply" => self.send(state, &properties, context, true)?,
            "make-http-request" => self.http(state, &properties, "failed", false).await,
            "run-function" | "run-function-v2" => self.http(state, &properties, "fail", true).await,
            "run-subflow" => {
                match self
                    .subflow(state, &properties, context, step_sid, depth)
                    .await?
                {
                    Ok(outcome) => outcome,
                    Err(halt) => return Ok(Err(halt)),
                }
            }
            "trigger" => unsupported(
                state,
                "a transition back to the trigger is not emulated".into(),
            ),
            other => unsupported(
                state,
                format!("widget type {other} is not emulated by localtwilio"),
            ),
        }))
    }

    fn send(
        &mut self,
        state: &Value,
        properties: &Value,
        context: &Value,
        waits: bool,
    ) -> Result<Outcome> {
        let failure = if waits { "deliveryFailure" } else { "failed" };
        let to = text(properties, "to")
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned)
            .or_else(|| {
                context["contact"]["channel"]["address"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let from = text(properties, "from")
            .filter(|f| !f.trim().is_empty())
            .or_else(|| text(properties, "service").filter(|s| !s.trim().is_empty()))
            .map(str::to_owned)
            .or_else(|| {
                context["flow"]["channel"]["address"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let body = text(properties, "body").unwrap_or_default();
        let media_urls: Vec<String> = match &properties["media_url"] {
            Value::String(s) if !s.trim().is_empty() => vec![s.trim().to_owned()],
            Value::Array(items) => items
                .iter()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        if to.trim().is_empty()
            || from.trim().is_empty()
            || (body.is_empty() && media_urls.is_empty())
        {
            let mut outcome = Outcome::to(state, failure, None);
            outcome.step = json!({"emulator": "the message has no To, From or Body/MediaUrl"});
            return Ok(outcome);
        }
        if let Some(conversation) = &self.conversation {
            // Studio's Conversations integration: the flow's messages are posted into the
            // conversation (author `system`, *ours*); "sending media is not supported".
            self.conversation_posts.push(body.to_owned());
            let output = json!({ "outbound": {"Body": body, "ConversationSid": conversation} });
            return Ok(self.sent_or_wait(state, properties, output, waits));
        }
        let message = Outbound {
            from: from.trim(),
            to: to.trim(),
            body,
            media_urls,
        };
        let outbound = match prepare_message(self.account_sid, message, self.now_ms)? {
            Ok((prepared, outbound)) => {
                self.messages.push(prepared);
                outbound
            }
            Err(reason) => {
                let mut outcome = Outcome::to(state, failure, None);
                outcome.step = json!({ "emulator": format!("the message was refused: {reason}") });
                return Ok(outcome);
            }
        };
        let output = json!({ "outbound": outbound });
        Ok(self.sent_or_wait(state, properties, output, waits))
    }

    /// A sent message's outcome: `sent`, or the wait for a reply until its `timeout`.
    fn sent_or_wait(
        &self,
        state: &Value,
        properties: &Value,
        output: Value,
        waits: bool,
    ) -> Outcome {
        if !waits {
            return Outcome::to(state, "sent", Some(output));
        }
        // The schema wants `timeout` as a string ("3600"); a number is taken too.
        let secs = match &properties["timeout"] {
            Value::String(s) => s.trim().parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
        .filter(|s| *s >= 0)
        .unwrap_or(DEFAULT_WAIT_SECS);
        Outcome {
            event: String::new(),
            next: None,
            step: output.clone(),
            output: Some(output),
            wait_until: Some(self.timer_now.saturating_add(secs)),
        }
    }

    /// make-http-request and run-function: a real request, only to an allowed host.
    async fn http(
        &self,
        state: &Value,
        properties: &Value,
        failure: &str,
        is_function: bool,
    ) -> Outcome {
        let fail = |reason: String| {
            let mut outcome = Outcome::to(state, failure, None);
            outcome.step = json!({ "emulator": reason });
            outcome
        };
        let raw_url = text(properties, "url").unwrap_or_default().trim();
        let Ok(url) = reqwest::Url::parse(raw_url) else {
            return fail(format!("the url {raw_url:?} is not an absolute URL"));
        };
        if !self.core.studio.allows(&url) {
            return fail(format!(
                "outbound HTTP to {} is off: add the host to LOCALTWILIO_STUDIO_HTTP_ALLOWED_HOSTS",
                url.host_str().unwrap_or_default()
            ));
        }
        let method = match text(properties, "method") {
            Some(m) if m.eq_ignore_ascii_case("GET") => reqwest::Method::GET,
            Some(m) if m.eq_ignore_ascii_case("POST") => reqwest::Method::POST,
            None if is_function => reqwest::Method::POST,
            None => reqwest::Method::GET,
            Some(other) => return fail(format!("method {other} is not GET or POST")),
        };
        let parameters = pairs(&properties["parameters"]);
        let content_type = text(properties, "content_type")
            .unwrap_or("application/x-www-form-urlencoded")
            .to_owned();
        let mut url = url;
        let is_get = method == reqwest::Method::GET;
        if is_get && !parameters.is_empty() {
            url.query_pairs_mut().extend_pairs(&parameters);
        }
        let mut request = self.core.studio.http.request(method, url);
        if is_get {
            // The parameters went into the query.
        } else if content_type.starts_with("application/json") {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(text(properties, "body").unwrap_or_default().to_owned());
        } else {
            let form = serde_html_form::to_string(&parameters).unwrap_or_default();
            request = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(match text(properties, "body") {
                    Some(body) if parameters.is_empty() => body.to_owned(),
                    _ => form,
                });
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return fail("the request timed out after 10 s".into()),
            Err(e) => return fail(format!("the request failed: {e}")),
        };
        let status = response.status();
        let response_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let headers: Map<String, Value> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), Value::String(v.to_str().ok()?.to_owned()))))
            .collect();
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return fail(format!("the response could not be read: {e}")),
        };
        let body =
            String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_RESPONSE_BYTES)]).into_owned();
        let mut output = json!({
            "body": body,
            "content_type": response_type,
            "status_code": status.as_u16(),
        });
        // make-http-request: `parsed` only for a JSON response; run-function parses any JSON.
        let parses = is_function || response_type.starts_with("application/json");
        if let Some(parsed) = parses
            .then(|| serde_json::from_str::<Value>(&body).ok())
            .flatten()
        {
            output["parsed"] = parsed;
        }
        if is_function {
            output["headers"] = Value::Object(headers);
        }
        let event = if status.is_success() {
            "success"
        } else {
            failure
        };
        Outcome::to(state, event, Some(output))
    }

    /// run-subflow: the subflow runs in-process, from its trigger's `incomingParent`.
    async fn subflow(
        &mut self,
        state: &Value,
        properties: &Value,
        context: &Value,
        step_sid: &StepSid,
        depth: u32,
    ) -> Result<Result<Outcome, Halt>> {
        let fail = |reason: String| {
            let mut outcome = Outcome::to(state, "failed", None);
            outcome.step = json!({ "emulator": reason });
            Ok(Ok(outcome))
        };
        if depth >= MAX_SUBFLOW_DEPTH {
            return fail(format!("subflows nest deeper than {MAX_SUBFLOW_DEPTH}"));
        }
        let raw_sid = text(properties, "flow_sid").unwrap_or_default().trim();
        let Some(flow_sid) = FlowSid::parse(raw_sid) else {
            return fail(format!("flow_sid {raw_sid:?} is not a flow SID"));
        };
        let at = match &properties["flow_revision"] {
            Value::Number(n) => n.as_i64().map(RevisionAt::Number),
            Value::String(s) => match s.trim() {
                "" | "LatestPublished" => Some(RevisionAt::LatestPublished),
                "LatestDraft" | "LatestRevision" => Some(RevisionAt::Latest),
                n => n.parse().ok().map(RevisionAt::Number),
            },
            Value::Null => Some(RevisionAt::LatestPublished),
            _ => None,
        };
        let Some(at) = at else {
            return fail("flow_revision is not LatestPublished, LatestDraft or a number".into());
        };
        let Some(revision) = self
            .core
            .store
            .fetch_revision(self.account_sid.as_str(), flow_sid.as_str(), at)
            .await?
        else {
            return fail(format!(
                "the account has no such revision of flow {flow_sid}"
            ));
        };
        let child_definition: Value =
            stored_json(&revision.content.definition, "Revision definition")?;
        let Some(child) = Definition::new(&child_definition) else {
            return fail(format!(
                "revision {} of flow {flow_sid} does not validate",
                revision.revision
            ));
        };
        let parameters: Map<String, Value> = pairs(&properties["parameters"])
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let mut child_context = initial_context(
            self.execution_sid,
            &flow_sid,
            context["contact"]["channel"]["address"]
                .as_str()
                .unwrap_or_default(),
            context["flow"]["channel"]["address"]
                .as_str()
                .unwrap_or_default(),
            &parameters,
        );
        child_context["trigger"] = json!({"parent": {
            "parameters": parameters,
            "execution_sid": self.execution_sid,
            "flow_sid": context["flow"]["flow_sid"],
            "step_sid": step_sid,
        }});
        let halt = Box::pin(self.go(
            &child,
            &mut child_context,
            Start::Trigger("incomingParent"),
            Some(step_sid),
            depth + 1,
        ))
        .await?;
        match halt {
            Halt::Ended => {
                let variables = child_context["flow"]["variables"].clone();
                Ok(Ok(Outcome::to(state, "completed", Some(variables))))
            }
            Halt::Stopped => Ok(Err(Halt::Stopped)),
            // The parent waits with its subflow (its run-subflow step is recorded when the
            // subflow completes); `resume` goes back into the subflow.
            Halt::Waiting { widget, wake_at } => {
                self.book.subflows.push(Frame {
                    widget: state["name"].as_str().unwrap_or_default().to_owned(),
                    step_sid: step_sid.to_string(),
                    flow_sid: flow_sid.to_string(),
                    revision: revision.revision,
                    context: child_context,
                });
                Ok(Err(Halt::Waiting { widget, wake_at }))
            }
        }
    }

    /// Resumes the execution at its waiting `widget` with `event`: in the innermost waiting
    /// subflow when there is one (`book.subflows`), each subflow that then completes handing
    /// its variables to its parent's run-subflow widget (`completed`), which goes on.
    pub async fn resume(
        &mut self,
        top: &Definition<'_>,
        context: &mut Value,
        widget: &str,
        event: &str,
        adds: Option<(String, Value)>,
    ) -> Result<Halt> {
        let frames = std::mem::take(&mut self.book.subflows);
        if frames.is_empty() {
            let start = Start::Resume {
                widget,
                event,
                adds,
            };
            return self.go(top, context, start, None, 0).await;
        }
        let mut definitions = Vec::with_capacity(frames.len());
        for frame in &frames {
            let Some(revision) = self
                .core
                .store
                .fetch_revision(
                    self.account_sid.as_str(),
                    &frame.flow_sid,
                    RevisionAt::Number(frame.revision),
                )
                .await?
            else {
                return Ok(Halt::Ended);
            };
            definitions.push(stored_json::<Value>(
                &revision.content.definition,
                "Revision definition",
            )?);
        }
        let mut frames = frames;
        let n = frames.len();
        let parent_sid = |frames: &[Frame], i: usize| {
            frames.get(i + 1).and_then(|f| StepSid::parse(&f.step_sid))
        };
        let Some(child) = Definition::new(&definitions[0]) else {
            return Ok(Halt::Ended);
        };
        let own = StepSid::parse(&frames[0].step_sid);
        let mut child_context = frames[0].context.clone();
        let start = Start::Resume {
            widget,
            event,
            adds,
        };
        let mut halt = self
            .go(&child, &mut child_context, start, own.as_ref(), n as u32)
            .await?;
        frames[0].context = child_context;
        for i in 0..n {
            match halt {
                Halt::Stopped => return Ok(Halt::Stopped),
                Halt::Waiting { .. } => {
                    // Frames the run entered since are innermost; then the ones still open.
                    self.book.subflows.extend(frames.drain(i..));
                    return Ok(halt);
                }
                Halt::Ended => {}
            }
            let frame = frames[i].clone();
            let variables = frame.context["flow"]["variables"].clone();
            let owned;
            let parent_definition = match definitions.get(i + 1) {
                Some(d) => {
                    let Some(d) = Definition::new(d) else {
                        return Ok(Halt::Ended);
                    };
                    owned = d;
                    &owned
                }
                None => top,
            };
            let Some(state) = parent_definition.states.get(frame.widget.as_str()).copied() else {
                return Ok(Halt::Ended);
            };
            let mut parent_context = match frames.get(i + 1) {
                Some(f) => f.context.clone(),
                None => std::mem::take(context),
            };
            set_in(
                &mut parent_context,
                &["widgets", &frame.widget],
                variables.clone(),
            );
            let next = next_of(state, "completed");
            let parent = parent_sid(&frames, i);
            self.record(NewStep {
                sid: StepSid::parse(&frame.step_sid).unwrap_or_default(),
                parent_step_sid: parent.clone(),
                name: "completed".into(),
                kind: "run-subflow".into(),
                from: frame.widget.clone(),
                to: next.clone().unwrap_or_else(|| "Ended".into()),
                context: variables,
            });
            let depth = (n - i - 1) as u32;
            halt = self
                .go(
                    parent_definition,
                    &mut parent_context,
                    Start::At(next),
                    parent.as_ref(),
                    depth,
                )
                .await?;
            match frames.get_mut(i + 1) {
                Some(f) => f.context = parent_context,
                None => *context = parent_context,
            }
        }
        Ok(halt)
    }
}

/// set-variables: each `{key, value}` rendered in order (a later value sees the earlier ones
/// in `flow.variables`), kept as text unless `parse_as_json` (text that is no JSON stays text).
fn set_variables(state: &Value, context: &mut Value, mirror: &mut Mirror) -> Outcome {
    let parse = flag(&state["properties"]["parse_as_json"]);
    let mut output = Map::new();
    for (key, template) in pairs(&state["properties"]["variables"]) {
        let lax = mirror.view(context);
        let key = match render(&key, lax) {
            Ok(k) => k,
            Err(reason) => return unsupported(state, reason),
        };
        let rendered = match render(&template, lax) {
            Ok(v) => v,
            Err(reason) => return unsupported(state, reason),
        };
        let value = if parse {
            serde_json::from_str(&rendered).unwrap_or(Value::String(rendered))
        } else {
            Value::String(rendered)
        };
        mirror.set(&["flow", "variables", &key], &value);
        set_in(context, &["flow", "variables", &key], value.clone());
        output.insert(key, value);
    }
    Outcome::to(state, "next", Some(Value::Object(output)))
}

/// split-based-on: the `match` transitions in order, each matching when all its conditions
/// hold *(ours: Studio does not say how several conditions combine)*; else `noMatch`. The
/// tested value is the rendered `input`, or a condition's first argument when there is none.
fn split(state: &Value, properties: &Value, lax: &Lax) -> Outcome {
    let input = text(properties, "input").unwrap_or_default().to_owned();
    let transitions = state["transitions"].as_array().cloned().unwrap_or_default();
    for transition in transitions.iter().filter(|t| t["event"] == "match") {
        let Some(conditions) = transition["conditions"]
            .as_array()
            .filter(|c| !c.is_empty())
        else {
            continue;
        };
        let all = conditions.iter().all(|condition| {
            let condition = render_all(condition, lax).unwrap_or(Value::Null);
            let tested = if input.is_empty() {
                condition["arguments"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            } else {
                input.clone()
            };
            let value = match &condition["value"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            conditions::holds(
                condition["type"].as_str().unwrap_or_default(),
                &tested,
                &value,
            )
        });
        if all {
            return Outcome {
                event: "match".into(),
                next: transition["next"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                output: Some(json!({})),
                step: json!({}),
                wait_until: None,
            };
        }
    }
    Outcome::to(state, "noMatch", Some(json!({})))
}

/// A widget that cannot run here: its first wired failure-like transition, else the end of
/// the execution; `reason` goes in the step's context.
fn unsupported(state: &Value, reason: String) -> Outcome {
    let events: Vec<&str> = state["transitions"]
        .as_array()
        .map(|ts| ts.iter().filter_map(|t| t["event"].as_str()).collect())
        .unwrap_or_default();
    let wired = FAILURE_EVENTS
        .iter()
        .find(|event| next_of(state, event).is_some());
    let event = wired
        .or_else(|| FAILURE_EVENTS.iter().find(|e| events.contains(e)))
        .copied()
        .unwrap_or("failed");
    Outcome {
        event: event.to_owned(),
        next: wired.and_then(|e| next_of(state, e)),
        output: None,
        step: json!({ "emulator": reason }),
        wait_until: None,
    }
}
