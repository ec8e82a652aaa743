//! The console in a real browser: Debian's Chromium driven by its chromedriver over the
//! W3C WebDriver protocol (plain JSON over HTTP, spoken with reqwest — no driver crate, nothing
//! downloaded). It signs in, walks every page, opens a flow's canvas and counts its widgets,
//! replays a webhook delivery into a local receiver, resets an account, and saves a screenshot
//! of every page (1280×1000; light, and the canvas dark too) under `target/console-shots/`.
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
                             {"event": "incomingCall", "next": "menu"}]},
            {"name": "greet", "type": "send-message", "properties": {"offset": {"x": -220, "y": 220}, "body": "Hi!"},
             "transitions": [{"event": "sent", "next": "ask"}, {"event": "failed"}]},
            {"name": "menu", "type": "gather-input-on-call", "properties": {"offset": {"x": 300, "y": 220}},
             "transitions": [{"event": "keypress", "next": "route"}, {"event": "speech"}, {"event": "timeout", "next": "menu"}]},
            {"name": "ask", "type": "send-and-wait-for-reply", "properties": {"offset": {"x": -220, "y": 480}},
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
        6,
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

    browser.goto(&format!("{account}/conversations")).await;
    browser.click("#services a").await;
    assert!(browser.text("#users").await.contains("alice"));
    browser.screenshot("06-conversations-service").await;

    browser.goto(&format!("{account}/trusthub")).await;
    assert!(browser.text("#end-users").await.contains("Acme Inc."));
    browser.screenshot("07-trusthub").await;

    browser.goto(&format!("{account}/webhooks")).await;
    browser.find("#deliveries").await;
    browser.screenshot("08-webhooks").await;
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
    browser.screenshot("09-webhook-replayed").await;

    browser.goto(&format!("{account}/accounts")).await;
    browser.click("#reset").await;
    browser.accept_confirmation().await;
    browser.find(".flash").await;
    assert!(browser.text(".flash").await.contains("reset"));
    browser.screenshot("10-account-reset").await;
    let (_, flows) = app.get("/v2/Flows", &main).await;
    assert_eq!(flows["flows"].as_array().unwrap().len(), 0);
    browser.quit().await;
}
