//! The console in a real browser: Debian's Chromium driven by its chromedriver over the
//! W3C WebDriver protocol (plain JSON over HTTP, spoken with reqwest — no driver crate, nothing
//! downloaded). It signs in, walks every page, opens a flow's canvas and counts its widgets,
//! opens a conversation and reads its messages, opens an execution and counts its highlighted
//! widgets and numbered steps against the steps the API lists, replays a webhook delivery into
//! a local receiver, resets an account, and saves a screenshot of every page (1280×1000; light,
//! and the canvas and the transcript dark too) under `target/console-shots/`.
//!
//! `.ci/run` installs `chromium` and `chromium-driver`; on a machine without them the test says
//! so and passes, except under CI (`CI` set), where it fails.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use base64::Engine;
use serde_json::{Value, json};

use crate::{
    helpers::{Creds, TestApp},
    receiver::Receiver,
};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One WebDriver session.
struct Browser {
    http: reqwest::Client,
    session: String,
    driver: tokio::process::Child,
    shots: PathBuf,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(r) = ready
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        // The flags this closed network needs (research console.md §4).
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": CHROMIUM, "args": args}
            }}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-shots");
        std::fs::create_dir_all(&shots).unwrap();
        Self {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            shots,
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        if answer["value"].get("error").is_some() {
            panic!("WebDriver {path}: {answer}");
        }
        answer["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn find_all(&self, css: &str) -> Vec<String> {
        let found = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[ELEMENT].as_str().unwrap().to_owned())
            .collect()
    }

    /// The first element matching `css`, waiting up to 10 s for it to appear.
    async fn find(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(first) = self.find_all(css).await.into_iter().next() {
                return first;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no element {css}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            None,
        )
        .await
        .as_str()
        .unwrap()
        .to_owned()
    }

    async fn attribute(&self, css: &str, name: &str) -> String {
        let element = self.find(css).await;
        let value = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{element}/attribute/{name}"),
                None,
            )
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Accepts the confirmation the console asks before a destructive action.
    async fn accept_confirmation(&self) {
        let started = Instant::now();
        loop {
            let answer: Value = self
                .http
                .post(format!("{}/alert/accept", self.session))
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if answer["value"].get("error").is_none() {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no confirmation: {answer}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn screenshot(&self, name: &str) {
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), bytes).unwrap();
    }

    async fn quit(mut self) {
        let _ = self.http.delete(&self.session).send().await;
        let _ = self.driver.kill().await;
    }
}

async fn seed(app: &TestApp, main: &Creds, hook: &str) -> String {
    let definition = json!({
        "description": "A support line",
        "flags": {"allow_concurrent_calls": true},
        "initial_state": "Trigger",
        "states": [
            {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
             "transitions": [{"event": "incomingMessage", "next": "greet"},
                             {"event": "incomingCall", "next": "menu"},
                             {"event": "incomingRequest", "next": "greet"}]},
            {"name": "greet", "type": "send-message", "properties": {"offset": {"x": -220, "y": 220}, "body": "Hi! Thanks for contacting Owl Bakery."},
             "transitions": [{"event": "sent", "next": "ask"}, {"event": "failed"}]},
            {"name": "menu", "type": "gather-input-on-call", "properties": {"offset": {"x": 300, "y": 220}},
             "transitions": [{"event": "keypress", "next": "route"}, {"event": "speech"}, {"event": "timeout", "next": "menu"}]},
            {"name": "ask", "type": "send-and-wait-for-reply", "properties": {"offset": {"x": -220, "y": 480}, "body": "What can we do for you?"},
             "transitions": [{"event": "incomingMessage", "next": "route"}, {"event": "timeout"}, {"event": "deliveryFailure"}]},
            {"name": "route", "type": "split-based-on", "properties": {},
             "transitions": [{"event": "noMatch"}]}
        ]
    })
    .to_string();
    let (status, flow) = app
        .post(
            "/v2/Flows",
            main,
            &[
                ("FriendlyName", "Support line"),
                ("Status", "published"),
                ("Definition", &definition),
            ],
        )
        .await;
    assert_eq!(status, 201, "{flow}");
    let (status, _) = app
        .post(
            &format!("/v2/Flows/{}/TestUsers", flow["sid"].as_str().unwrap()),
            main,
            &[("TestUsers", "+15550001111")],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .post(
            "/v1/Configuration/Webhooks",
            main,
            &[
                ("PostWebhookUrl", hook),
                ("Method", "POST"),
                ("Filters", "onUserAdded"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    for identity in ["alice", "bob"] {
        let response = crate::helpers::send(
            app.client
                .post(format!("{}/v1/Users", app.base))
                .basic_auth(&main.user, Some(&main.secret))
                .header("X-Twilio-Webhook-Enabled", "true")
                .form(&[
                    ("Identity", identity),
                    ("FriendlyName", &identity.to_uppercase()),
                ]),
        )
        .await;
        assert_eq!(response.status(), 201);
    }
    let (status, _) = app
        .post(
            "/v1/EndUsers",
            main,
            &[
                ("FriendlyName", "Acme Inc."),
                ("Type", "business"),
                ("Attributes", r#"{"business_name": "Acme"}"#),
            ],
        )
        .await;
    assert_eq!(status, 201);
    app.subaccount(main, "Staging").await;
    flow["sid"].as_str().unwrap().to_owned()
}

/// A customer's SMS conversation with an agent (the transcript), the execution of the flow it
/// started, and a Customer Profile with its end user and an evaluation: the data of the
/// round-2 pages. Returns the conversation's path under the account and the number of steps
/// the execution took (as the API lists them).
async fn seed_activity(app: &TestApp, main: &Creds, flow: &str) -> (String, usize) {
    let (status, execution) = app
        .post(
            &format!("/v2/Flows/{flow}/Executions"),
            main,
            &[("To", "+15558675310"), ("From", "+15017122661")],
        )
        .await;
    assert_eq!(status, 201, "{execution}");
    let (status, conversation) = app
        .post(
            "/v1/Conversations",
            main,
            &[
                ("FriendlyName", "Order #1042"),
                ("UniqueName", "order-1042"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{conversation}");
    let ch = conversation["sid"].as_str().unwrap();
    let service = conversation["chat_service_sid"].as_str().unwrap();
    let participants = format!("/v1/Conversations/{ch}/Participants");
    let (status, _) = app
        .post(
            &participants,
            main,
            &[
                ("MessagingBinding.Address", "+15558675310"),
                ("MessagingBinding.ProxyAddress", "+15017122661"),
                ("Attributes", r#"{"customer": "<b>Dana</b>"}"#),
            ],
        )
        .await;
    assert_eq!(status, 201);
    let (status, agent) = app
        .post(&participants, main, &[("Identity", "alice")])
        .await;
    assert_eq!(status, 201);
    for (author, body) in [
        ("+15558675310", "Hi, my order #1042 hasn't arrived yet."),
        ("alice", "Sorry about that! Let me check with the courier."),
        (
            "alice",
            "It's out for delivery and should reach you by 5 pm.",
        ),
        ("+15558675310", "Great, thanks <3"),
    ] {
        let (status, m) = app
            .post(
                &format!("/v1/Conversations/{ch}/Messages"),
                main,
                &[("Author", author), ("Body", body)],
            )
            .await;
        assert_eq!(status, 201, "{m}");
    }
    let (status, _) = app
        .post(
            &format!("{participants}/{}", agent["sid"].as_str().unwrap()),
            main,
            &[("LastReadMessageIndex", "3")],
        )
        .await;
    assert_eq!(status, 200);
    let (status, profile) = app
        .post(
            "/v1/CustomerProfiles",
            main,
            &[
                ("FriendlyName", "Owl Bakery profile"),
                ("Email", "compliance@owl.example"),
                ("PolicySid", "RNdfbf3fae0e1107f8aded0e7cead80bf5"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{profile}");
    let bu = profile["sid"].as_str().unwrap();
    let (_, end_users) = app.get("/v1/EndUsers", main).await;
    let it = end_users["results"][0]["sid"].as_str().unwrap().to_owned();
    let (status, _) = app
        .post(
            &format!("/v1/CustomerProfiles/{bu}/EntityAssignments"),
            main,
            &[("ObjectSid", &it)],
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .post(
            &format!("/v1/CustomerProfiles/{bu}/Evaluations"),
            main,
            &[("PolicySid", "RNdfbf3fae0e1107f8aded0e7cead80bf5")],
        )
        .await;
    assert_eq!(status, 201);
    let (_, steps) = app
        .get(
            &format!(
                "/v2/Flows/{flow}/Executions/{}/Steps",
                execution["sid"].as_str().unwrap()
            ),
            main,
        )
        .await;
    (
        format!("conversations/{service}/{ch}"),
        steps["steps"].as_array().unwrap().len(),
    )
}

#[tokio::test]
async fn a_person_signs_in_reads_every_page_replays_a_webhook_and_resets_the_account() {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{CHROMEDRIVER} is missing: .ci/run installs chromium and chromium-driver"
        );
        eprintln!(
            "skipped: {CHROMEDRIVER} is not installed (apt-get install chromium chromium-driver)"
        );
        return;
    }
    let app = TestApp::spawn().await;
    let main = app.main();
    let receiver = Receiver::start("127.0.0.1:0").await;
    let flow = seed(&app, &main, &receiver.url("/hook")).await;
    receiver.wait_for(2, Duration::from_secs(10)).await;
    let (conversation, steps) = seed_activity(&app, &main, &flow).await;

    let browser = Browser::start().await;
    let console = format!("{}/_localtwilio/console", app.base);
    let account = format!("{console}/{}", main.user);

    browser.goto(&format!("{console}/")).await;
    browser.type_into("#username", &main.user).await;
    browser.type_into("#secret", &main.secret).await;
    browser.screenshot("01-sign-in").await;
    browser.click("#sign-in").await;
    browser.find(".cards").await;
    assert!(browser.text("h1").await.starts_with("Overview"));
    assert_eq!(browser.text(r#"dd[data-table="flows"]"#).await, "1");
    browser.screenshot("02-overview").await;

    browser.goto(&format!("{account}/accounts")).await;
    assert!(browser.text("#subaccounts").await.contains("Staging"));
    browser.screenshot("03-accounts").await;

    browser.goto(&format!("{account}/studio")).await;
    browser.click("#flows a").await;
    browser.find("svg.canvas").await;
    assert_eq!(
        browser.find_all("svg.canvas g.widget").await.len(),
        5,
        "every widget drawn"
    );
    assert_eq!(
        browser.find_all("svg.canvas g.edge").await.len(),
        7,
        "every transition with a next"
    );
    assert!(browser.text("#test-users").await.contains("+15550001111"));
    // The labels are drawn (visible text, not only in the DOM).
    assert_eq!(
        browser
            .text(r#"g.widget[data-widget="greet"] .widget-name"#)
            .await,
        "greet"
    );
    assert_eq!(
        browser
            .text(r#"g.edge[data-from="Trigger"][data-to="menu"] .edge-label"#)
            .await,
        "incomingCall"
    );
    browser.screenshot("04-flow-canvas").await;
    browser.click("#theme").await;
    assert_eq!(browser.attribute("html", "data-theme").await, "dark");
    browser.screenshot("05-flow-canvas-dark").await;
    browser.click("#theme").await;
    browser
        .goto(&format!("{account}/studio/{flow}/revisions/1"))
        .await;
    browser.find("svg.canvas").await;

    // An execution on the flow's canvas: from the flow's page to the execution, its path
    // highlighted — one highlighted widget per widget its steps left or reached, one number
    // per step the API lists.
    browser.goto(&format!("{account}/studio/{flow}")).await;
    browser.click("#executions a").await;
    browser.find("#steps").await;
    assert_eq!(browser.text("#execution-status").await, "active");
    assert_eq!(browser.text("#waiting-at").await, "ask");
    assert_eq!(
        browser.find_all("svg.canvas g.widget.visited").await.len(),
        steps + 1
    );
    assert_eq!(browser.find_all("svg.canvas g.badge").await.len(), steps);
    assert_eq!(
        browser.find_all("svg.canvas g.edge.taken").await.len(),
        steps
    );
    assert_eq!(browser.find_all("#steps .step-number").await.len(), steps);
    assert_eq!(
        browser
            .text(r#"g.widget[data-widget="greet"] .badge text"#)
            .await,
        "2"
    );
    browser.screenshot("06-execution").await;
    browser.click("#theme").await;
    browser.screenshot("07-execution-dark").await;
    browser.click("#theme").await;
    browser
        .goto(&format!("{account}/studio/{flow}/executions"))
        .await;
    browser.find("#executions").await;
    browser.screenshot("08-executions").await;

    // A conversation: from the service's list to its transcript, every message a bubble.
    browser.goto(&format!("{account}/conversations")).await;
    browser.click("#services a").await;
    assert!(browser.text("#users").await.contains("alice"));
    browser.screenshot("09-conversations-service").await;
    browser.click("#conversations a").await;
    browser.find("#transcript").await;
    assert_eq!(browser.find_all("#transcript li.bubble").await.len(), 4);
    assert!(
        browser
            .text("#transcript")
            .await
            .contains("Great, thanks <3")
    );
    assert!(browser.text("#participants").await.contains("+15558675310"));
    assert!(browser.current_url().await.ends_with(&conversation));
    browser.screenshot("10-conversation").await;
    browser.click("#theme").await;
    browser.screenshot("11-conversation-dark").await;
    browser.click("#theme").await;

    // Messages: what the flow sent, then one message's page.
    browser.goto(&format!("{account}/messages")).await;
    assert!(browser.text("#messages").await.contains("Owl Bakery"));
    browser.screenshot("12-messages").await;
    browser.click("#messages a").await;
    browser.find("#history").await;
    assert_eq!(browser.text("#direction").await, "outbound-api");
    browser.screenshot("13-message").await;

    browser.goto(&format!("{account}/trusthub")).await;
    assert!(browser.text("#end-users").await.contains("Acme Inc."));
    browser.screenshot("14-trusthub").await;
    browser.click("#bundles a").await;
    browser.find("#items").await;
    browser.screenshot("15-bundle").await;

    browser.goto(&format!("{account}/webhooks")).await;
    browser.find("#deliveries").await;
    browser.screenshot("16-webhooks").await;
    browser.click("#deliveries a").await;
    browser.find("#params").await;
    browser.click("#replay").await;
    browser.accept_confirmation().await;
    receiver.wait_for(3, Duration::from_secs(10)).await;
    // The replay's own page: it names the delivery it repeats; its attempt appears live.
    browser.find("#delivery-status").await;
    let started = Instant::now();
    while !browser.text("#live").await.contains("delivered") {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the replay's attempt never showed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.screenshot("17-webhook-replayed").await;

    browser.goto(&format!("{account}/accounts")).await;
    browser.click("#reset").await;
    browser.accept_confirmation().await;
    browser.find(".flash").await;
    assert!(browser.text(".flash").await.contains("reset"));
    browser.screenshot("18-account-reset").await;
    let (_, flows) = app.get("/v2/Flows", &main).await;
    assert_eq!(flows["flows"].as_array().unwrap().len(), 0);
    browser.quit().await;
}
