//! A Studio flow drawn as the Console's canvas: server-rendered SVG, each widget at its stored
//! `states[].properties.offset {x, y}` (research console.md §2: that is where Twilio's editor
//! keeps positions; they may be negative, so the view box is computed from the extremes), a
//! layered layout for widgets without one (rank = distance from `initial_state`), one output
//! port per transition and each transition an edge labelled with its event.
//!
//! An execution is drawn on the same canvas: give `flow_canvas` the steps it took and the
//! visited widgets and taken edges are highlighted, each widget numbered with the steps that
//! left it.

use std::collections::{BTreeMap, HashMap, VecDeque};

use maud::{Markup, html};
use serde_json::Value;

/// A widget box *(ours: Twilio stores no size)*: 240 wide, a 48-high header and 16 per port.
pub const WIDGET_WIDTH: i64 = 240;
pub const HEADER_HEIGHT: i64 = 48;
pub const PORT_HEIGHT: i64 = 16;
/// Space around the drawing inside the view box.
const MARGIN: i64 = 40;
/// Gaps of the fallback layout.
const COLUMN_GAP: i64 = 80;
const ROW_GAP: i64 = 100;

/// One step an execution took: from a widget, by an event, to a widget (or `Ended`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub from: String,
    pub event: String,
    pub to: String,
}

/// A transition of a widget: its event and the widget it leads to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub event: String,
    pub next: Option<String>,
}

/// A widget placed on the canvas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub name: String,
    pub kind: String,
    pub x: i64,
    pub y: i64,
    pub ports: Vec<Port>,
    /// Whether the position came from the stored offset (or from the fallback layout).
    pub from_offset: bool,
}

impl Placed {
    pub fn height(&self) -> i64 {
        HEADER_HEIGHT + PORT_HEIGHT * self.ports.len() as i64
    }

    /// Where the edge of port `i` starts: the box's right side, mid-row.
    pub fn port_anchor(&self, i: usize) -> (i64, i64) {
        (
            self.x + WIDGET_WIDTH,
            self.y + HEADER_HEIGHT + PORT_HEIGHT * i as i64 + PORT_HEIGHT / 2,
        )
    }

    /// Where edges arrive: the middle of the top side.
    pub fn entry_anchor(&self) -> (i64, i64) {
        (self.x + WIDGET_WIDTH / 2, self.y)
    }
}

fn offset(state: &Value) -> Option<(i64, i64)> {
    let offset = state.get("properties")?.get("offset")?;
    let coordinate = |v: &Value| v.as_i64().or_else(|| v.as_f64().map(|f| f.round() as i64));
    Some((coordinate(offset.get("x")?)?, coordinate(offset.get("y")?)?))
}

/// Every state of `definition` placed: at its offset, or — for those without — by the layered
/// fallback, below everything that has one.
pub fn layout(definition: &Value) -> Vec<Placed> {
    let states = definition
        .get("states")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut placed: Vec<Placed> = states
        .iter()
        .filter_map(|state| {
            let name = state.get("name")?.as_str()?.to_owned();
            let ports = state
                .get("transitions")
                .and_then(Value::as_array)
                .map(|ts| {
                    ts.iter()
                        .map(|t| Port {
                            event: t
                                .get("event")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_owned(),
                            next: t
                                .get("next")
                                .and_then(Value::as_str)
                                .filter(|n| !n.is_empty())
                                .map(str::to_owned),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let (x, y, from_offset) = match offset(state) {
                Some((x, y)) => (x, y, true),
                None => (0, 0, false),
            };
            Some(Placed {
                name,
                kind: state
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                x,
                y,
                ports,
                from_offset,
            })
        })
        .collect();
    fallback(
        &mut placed,
        definition.get("initial_state").and_then(Value::as_str),
    );
    placed
}

/// The layered layout for widgets without an offset: rank = breadth-first distance from the
/// initial state (unreachable ones after the deepest rank), in definition order within a rank;
/// drawn below the widgets that have offsets.
fn fallback(placed: &mut [Placed], initial: Option<&str>) {
    if placed.iter().all(|p| p.from_offset) {
        return;
    }
    let index: HashMap<&str, usize> = placed
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let mut rank: Vec<Option<usize>> = vec![None; placed.len()];
    let start = initial
        .and_then(|name| index.get(name).copied())
        .or_else(|| (!placed.is_empty()).then_some(0));
    let mut queue = VecDeque::new();
    if let Some(start) = start {
        rank[start] = Some(0);
        queue.push_back(start);
    }
    while let Some(i) = queue.pop_front() {
        let depth = rank[i].unwrap_or(0);
        for port in &placed[i].ports {
            if let Some(&j) = port.next.as_deref().and_then(|n| index.get(n))
                && rank[j].is_none()
            {
                rank[j] = Some(depth + 1);
                queue.push_back(j);
            }
        }
    }
    let deepest = rank.iter().flatten().max().copied().unwrap_or(0);
    let top = placed
        .iter()
        .filter(|p| p.from_offset)
        .map(|p| p.y + p.height() + ROW_GAP)
        .max()
        .unwrap_or(0);
    let left = placed
        .iter()
        .filter(|p| p.from_offset)
        .map(|p| p.x)
        .min()
        .unwrap_or(0);
    let tallest = placed
        .iter()
        .map(Placed::height)
        .max()
        .unwrap_or(HEADER_HEIGHT);
    let mut rows: BTreeMap<usize, i64> = BTreeMap::new();
    for (i, p) in placed.iter_mut().enumerate() {
        if p.from_offset {
            continue;
        }
        let r = rank[i].unwrap_or(deepest + 1);
        let column = rows.entry(r).or_insert(0);
        p.x = left + *column * (WIDGET_WIDTH + COLUMN_GAP);
        p.y = top + r as i64 * (tallest + ROW_GAP);
        *column += 1;
    }
}

/// The view box `(min_x, min_y, width, height)` holding every widget, with a margin.
pub fn view_box(placed: &[Placed]) -> (i64, i64, i64, i64) {
    if placed.is_empty() {
        return (0, 0, WIDGET_WIDTH + 2 * MARGIN, HEADER_HEIGHT + 2 * MARGIN);
    }
    let min_x = placed.iter().map(|p| p.x).min().unwrap_or(0) - MARGIN;
    let min_y = placed.iter().map(|p| p.y).min().unwrap_or(0) - MARGIN;
    // Room on the right for the edge labels.
    let max_x = placed.iter().map(|p| p.x + WIDGET_WIDTH).max().unwrap_or(0) + MARGIN * 3;
    let max_y = placed.iter().map(|p| p.y + p.height()).max().unwrap_or(0) + MARGIN;
    (min_x, min_y, max_x - min_x, max_y - min_y)
}

/// How far an edge's curve reaches out of its port and into its target.
const REACH: i64 = 60;

/// The SVG path of an edge from a port to a widget's entry: a cubic curve out to the right and
/// down into the top.
fn edge_path(from: (i64, i64), to: (i64, i64)) -> String {
    format!(
        "M{} {} C{} {} {} {} {} {}",
        from.0,
        from.1,
        from.0 + REACH,
        from.1,
        to.0,
        to.1 - REACH,
        to.0,
        to.1
    )
}

/// Where an edge's label goes: the curve's middle (the cubic at t = ½).
pub fn edge_middle(from: (i64, i64), to: (i64, i64)) -> (i64, i64) {
    (
        (from.0 + 3 * (from.0 + REACH) + 3 * to.0 + to.0) / 8,
        (from.1 + 3 * from.1 + 3 * (to.1 - REACH) + to.1) / 8,
    )
}

/// The flow's canvas; `path` (an execution's steps, in order) highlights the visited widgets
/// (numbered by the steps that left them) and the edges taken.
pub fn flow_canvas(definition: &Value, path: &[Step]) -> Markup {
    let placed = layout(definition);
    let by_name: HashMap<&str, &Placed> = placed.iter().map(|p| (p.name.as_str(), p)).collect();
    let (vx, vy, vw, vh) = view_box(&placed);
    let mut numbers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, step) in path.iter().enumerate() {
        numbers.entry(step.from.as_str()).or_default().push(i + 1);
    }
    let reached_end = path.iter().map(|s| s.to.as_str());
    let visited: Vec<&str> = path
        .iter()
        .map(|s| s.from.as_str())
        .chain(reached_end)
        .collect();
    let taken = |from: &str, event: &str| path.iter().any(|s| s.from == from && s.event == event);
    html! {
        svg class="canvas" xmlns="http://www.w3.org/2000/svg" role="img"
            aria-label="Flow canvas"
            viewBox=(format!("{vx} {vy} {vw} {vh}"))
            width=(vw) height=(vh)
            data-widgets=(placed.len()) data-highlighted=(placed.iter().filter(|p| visited.contains(&p.name.as_str())).count()) {
            defs {
                marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse" {
                    path d="M0 0 L10 5 L0 10 z" class="arrow-head" {}
                }
            }
            @for p in &placed {
                @for (i, port) in p.ports.iter().enumerate() {
                    @if let Some(target) = port.next.as_deref().and_then(|n| by_name.get(n)) {
                        @let from = p.port_anchor(i);
                        @let is_taken = taken(&p.name, &port.event);
                        g class=(if is_taken { "edge taken" } else { "edge" })
                            data-from=(p.name) data-event=(port.event) data-to=(target.name) {
                            title { (p.name) " — " (port.event) " → " (target.name) }
                            path d=(edge_path(from, target.entry_anchor())) marker-end="url(#arrow)" {}
                            @let (mx, my) = edge_middle(from, target.entry_anchor());
                            text class="edge-label" x=(mx) y=(my - 4) text-anchor="middle" { (port.event) }
                        }
                    }
                }
            }
            @for p in &placed {
                @let steps = numbers.get(p.name.as_str());
                @let is_visited = visited.contains(&p.name.as_str());
                g class=(if is_visited { "widget visited" } else { "widget" })
                    data-widget=(p.name) data-steps=(steps.map(|s| s.len()).unwrap_or(0)) {
                    rect x=(p.x) y=(p.y) width=(WIDGET_WIDTH) height=(p.height()) rx="6" {}
                    text class="widget-name" x=(p.x + 10) y=(p.y + 20) { (p.name) }
                    text class="widget-type" x=(p.x + 10) y=(p.y + 38) { (p.kind) }
                    @for (i, port) in p.ports.iter().enumerate() {
                        @let (px, py) = p.port_anchor(i);
                        circle class="port" cx=(px) cy=(py) r="4" {}
                        text class="port-label" x=(px - 8) y=(py + 4) text-anchor="end" { (port.event) }
                    }
                    @if let Some(steps) = steps {
                        @let label = steps.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
                        g class="badge" {
                            circle cx=(p.x + WIDGET_WIDTH) cy=(p.y) r="12" {}
                            text x=(p.x + WIDGET_WIDTH) y=(p.y + 4) text-anchor="middle" { (label) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flow() -> Value {
        json!({
            "initial_state": "Trigger",
            "states": [
                {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 250, "y": -10}},
                 "transitions": [{"event": "incomingMessage", "next": "reply"}, {"event": "incomingCall"}]},
                {"name": "reply", "type": "send-message", "properties": {"offset": {"x": -40, "y": 300}},
                 "transitions": [{"event": "sent", "next": "log"}, {"event": "failed", "next": "log"}]},
                {"name": "log", "type": "run-function", "properties": {}, "transitions": []}
            ]
        })
    }

    #[test]
    fn widgets_sit_at_their_offsets_and_the_view_box_holds_negative_ones() {
        let placed = layout(&flow());
        assert_eq!(
            (placed[0].x, placed[0].y, placed[0].from_offset),
            (250, -10, true)
        );
        assert_eq!((placed[1].x, placed[1].y), (-40, 300));
        assert_eq!(placed[0].height(), HEADER_HEIGHT + 2 * PORT_HEIGHT);
        let (x, y, w, h) = view_box(&placed);
        assert_eq!((x, y), (-40 - MARGIN, -10 - MARGIN));
        assert!(x + w >= 250 + WIDGET_WIDTH && y + h >= placed[2].y + placed[2].height());
    }

    #[test]
    fn widgets_without_offsets_are_layered_below_the_placed_ones() {
        let placed = layout(&flow());
        let log = &placed[2];
        assert!(!log.from_offset);
        assert!(log.y >= 300 + placed[1].height() + ROW_GAP, "{log:?}");
        // All missing: rank by distance from the initial state.
        let bare = json!({"initial_state": "a", "states": [
            {"name": "c", "type": "x", "transitions": []},
            {"name": "a", "type": "trigger", "transitions": [{"event": "go", "next": "b"}]},
            {"name": "b", "type": "x", "transitions": [{"event": "go", "next": "c"}]}
        ]});
        let placed = layout(&bare);
        let y = |n: &str| placed.iter().find(|p| p.name == n).unwrap().y;
        assert!(y("a") < y("b") && y("b") < y("c"));
    }

    #[test]
    fn the_svg_draws_each_widget_labels_each_edge_and_highlights_a_path() {
        let path = [Step {
            from: "Trigger".into(),
            event: "incomingMessage".into(),
            to: "reply".into(),
        }];
        let svg = flow_canvas(&flow(), &path).into_string();
        assert!(
            svg.contains(r#"<rect x="250" y="-10" width="240" height="80""#),
            "{svg}"
        );
        assert!(svg.contains(r#"<rect x="-40" y="300""#));
        // Three edges (the call port has no next), each labelled.
        assert_eq!(svg.matches(r#"<g class="edge"#).count(), 3);
        assert!(svg.contains(
            r#"class="edge taken" data-from="Trigger" data-event="incomingMessage" data-to="reply""#
        ));
        assert_eq!(svg.matches(r#"class="widget visited""#).count(), 2);
        assert!(svg.contains(r#"data-highlighted="2""#));
        // Explicit end tags: in HTML, an SVG `<rect>` without one swallows what follows.
        for element in ["rect", "circle", "path"] {
            assert_eq!(
                svg.matches(&format!("<{element} ")).count(),
                svg.matches(&format!("</{element}>")).count(),
                "{element}"
            );
        }
    }

    #[test]
    fn a_widget_run_twice_carries_both_step_numbers_and_the_end_is_not_a_widget() {
        let step = |from: &str, event: &str, to: &str| Step {
            from: from.into(),
            event: event.into(),
            to: to.into(),
        };
        let path = [
            step("Trigger", "incomingMessage", "reply"),
            step("reply", "failed", "log"),
            step("log", "x", "reply"),
            step("reply", "sent", "Ended"),
        ];
        let svg = flow_canvas(&flow(), &path).into_string();
        assert!(
            svg.contains(r#"data-widget="reply" data-steps="2""#),
            "{svg}"
        );
        assert!(svg.contains(r#"text-anchor="middle">2,4</text>"#));
        assert_eq!(svg.matches(r#"<g class="badge">"#).count(), 3);
        // Trigger, reply and log; "Ended" is no widget.
        assert!(svg.contains(r#"data-highlighted="3""#));
        assert_eq!(svg.matches(r#"class="edge taken""#).count(), 3);
    }

    #[test]
    fn names_are_escaped_in_the_svg() {
        let evil = json!({"initial_state": "<script>", "states": [
            {"name": "<script>alert(1)</script>", "type": "trigger", "transitions": []}]});
        let svg = flow_canvas(&evil, &[]).into_string();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}
