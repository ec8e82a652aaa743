//! The console (issue 22) through the real server: sign-in and scoping (another account's
//! pages are 404), escaping, the refusal of cross-site writes, the canvas drawn at the stored
//! offsets, sessions tied to the credential, and the operator actions (reset, snapshot,
//! restore, replay) both as console forms and as `/_localtwilio/…` calls. The one registry of
//! account data (`ACCOUNT_DATA`) must name every table of the database.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::{
    helpers::{Creds, TestApp, into_json, send, skip_on_postgres},
    receiver::Receiver,
};

const CONSOLE: &str = "/_localtwilio/console";
const OPERATOR_TOKEN: &str = "operator-token-for-the-console-tests";

/// A browser-like client: no redirects followed (the cookie comes with a 303).
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in with `user`/`secret`; the session cookie (`name=value`).
async fn sign_in(app: &TestApp, user: &str, secret: &str) -> String {
    let response = client()
        .post(format!("{}{CONSOLE}/login", app.base))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("username", user), ("secret", secret), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/_localtwilio/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    cookie.split(';').next().unwrap().to_owned()
}

/// GETs a console page with the session; (status, body).
async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let response = client()
        .get(format!("{}{CONSOLE}{path}", app.base))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = response.status();
    if status == StatusCode::OK {
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    }
    (status, response.text().await.unwrap())
}

/// POSTs a console form as a same-site browser would.
async fn act(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(format!("{}{CONSOLE}{path}", app.base))
        .header(header::COOKIE, cookie)
        .header("Sec-Fetch-Site", "same-origin")
        .form(form)
        .send()
        .await
        .unwrap()
}

fn tune_operator(config: &mut localtwilio::Config) {
    config.console_token = OPERATOR_TOKEN.into();
}

fn definition_with_offsets() -> String {
    json!({
        "description": "canvas",
        "flags": {"allow_concurrent_calls": true},
        "initial_state": "Trigger",
        "states": [
            {"name": "Trigger", "type": "trigger",
             "properties": {"offset": {"x": 250, "y": -10}},
             "transitions": [{"event": "incomingMessage", "next": "reply"}]},
            {"name": "reply", "type": "send-message",
             "properties": {"offset": {"x": 290, "y": 250}, "body": "hi"},
             "transitions": [{"event": "sent"}, {"event": "failed"}]}
        ]
    })
    .to_string()
}

async fn create_flow(app: &TestApp, creds: &Creds, name: &str) -> String {
    let definition = definition_with_offsets();
    let (status, flow) = app
        .post(
            "/v2/Flows",
            creds,
            &[
                ("FriendlyName", name),
                ("Status", "draft"),
                ("Definition", &definition),
            ],
        )
        .await;
    assert_eq!(status, 201, "{flow}");
    flow["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_account_sees_itself_and_its_subaccounts_and_nothing_else() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let a = app.subaccount(&main, "Sub A").await;
    let b = app.subaccount(&main, "Sub B").await;
    let flow_b = create_flow(&app, &b, "B's flow").await;

    let a_cookie = sign_in(&app, &a.user, &a.secret).await;
    let (status, overview) = page(&app, &a_cookie, &format!("/{}/overview", a.user)).await;
    assert_eq!(status, 200);
    assert!(overview.contains("Sub A"));
    assert!(!overview.contains(&b.user), "a sibling in the picker");
    // A sibling's and the parent's pages, and the sibling's flow through A's own scope: 404.
    for path in [
        format!("/{}/overview", b.user),
        format!("/{}/studio", b.user),
        format!("/{}/studio/{flow_b}", b.user),
        format!("/{}/studio/{flow_b}", a.user),
        format!("/{}/accounts", main.user),
        "/ACffffffffffffffffffffffffffffffff/overview".to_owned(),
        "/not-a-sid/overview".to_owned(),
    ] {
        let (status, _) = page(&app, &a_cookie, &path).await;
        assert_eq!(status, 404, "{path}");
    }
    // The operator action of another account is 404 too, and changes nothing.
    let response = act(&app, &a_cookie, &format!("/{}/reset", b.user), &[]).await;
    assert_eq!(response.status(), 404);
    assert_eq!(app.count("flows").await, 1);

    // The main account sees both subaccounts and B's flow.
    let main_cookie = sign_in(&app, &main.user, &main.secret).await;
    let (_, overview) = page(&app, &main_cookie, &format!("/{}/overview", main.user)).await;
    assert!(overview.contains(&a.user) && overview.contains(&b.user));
    let (status, flow) = page(&app, &main_cookie, &format!("/{}/studio/{flow_b}", b.user)).await;
    assert_eq!(status, 200);
    assert!(flow.contains("B&#39;s flow") || flow.contains("B's flow"));

    // No page shows a token.
    for path in [
        "overview",
        "accounts",
        "studio",
        "conversations",
        "messages",
        "webhooks",
        "trusthub",
    ] {
        let (status, body) = page(&app, &main_cookie, &format!("/{}/{path}", main.user)).await;
        assert_eq!(status, 200, "{path}");
        for token in [&main.secret, &a.secret, &b.secret] {
            assert!(!body.contains(token.as_str()), "{path} shows a token");
        }
    }
}

#[tokio::test]
async fn without_a_session_pages_redirect_to_sign_in_and_a_wrong_token_is_refused() {
    let app = TestApp::spawn().await;
    let response = client()
        .get(format!(
            "{}{CONSOLE}/{}/overview",
            app.base,
            app.main().user
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .contains("/login?next=")
    );
    let response = client()
        .post(format!("{}{CONSOLE}/login", app.base))
        .form(&[("username", app.main().user.as_str()), ("secret", "0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    assert!(
        response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .contains("failed=1")
    );
    // A forged cookie is no session.
    let (status, _) = page(
        &app,
        "localtwilio_console=c.AC.9999999999.00.00",
        "/accounts",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn stored_markup_renders_as_text() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let evil = "<script>alert(1)</script>";
    let (status, user) = app
        .post(
            "/v1/Users",
            &main,
            &[
                ("Identity", evil),
                ("FriendlyName", "<img src=x onerror=alert(2)>"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let (status, end_user) = app
        .post(
            "/v1/EndUsers",
            &main,
            &[("FriendlyName", evil), ("Type", "individual")],
        )
        .await;
    assert_eq!(status, 201, "{end_user}");
    let cookie = sign_in(&app, &main.user, &main.secret).await;
    let (_, config) = app.get("/v1/Configuration", &main).await;
    let service = config["default_chat_service_sid"].as_str().unwrap();
    for path in [
        format!("/{}/conversations/{service}", main.user),
        format!("/{}/trusthub", main.user),
        format!(
            "/{}/trusthub/{}",
            main.user,
            end_user["sid"].as_str().unwrap()
        ),
    ] {
        let (status, body) = page(&app, &cookie, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!body.contains("<script>alert"), "{path}: {body}");
        assert!(!body.contains("<img src=x"), "{path}");
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
        // The page's only script is the console's own file.
        assert_eq!(body.matches("<script").count(), 1, "{path}");
    }
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let app = TestApp::spawn().await;
    let main = app.main();
    create_flow(&app, &main, "kept").await;
    let cookie = sign_in(&app, &main.user, &main.secret).await;
    let reset = format!("{}{CONSOLE}/{}/reset", app.base, main.user);
    let host = app.base.trim_start_matches("http://").to_owned();
    let refused = [
        vec![("Sec-Fetch-Site", "cross-site".to_owned())],
        vec![("Sec-Fetch-Site", "same-site".to_owned())],
        vec![("Origin", "http://evil.example".to_owned())],
        vec![("Origin", "null".to_owned())],
    ];
    for headers in refused {
        let mut request = client().post(&reset).header(header::COOKIE, &cookie);
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let response = send(request).await;
        let (status, body) = into_json(response).await;
        assert_eq!(status, 403, "{headers:?}");
        assert_eq!(body["code"], 20403);
    }
    // The operator API refuses them too, even with valid credentials.
    let response = send(
        client()
            .post(format!(
                "{}/_localtwilio/Accounts/{}/Reset",
                app.base, main.user
            ))
            .basic_auth(&main.user, Some(&main.secret))
            .header("Sec-Fetch-Site", "cross-site"),
    )
    .await;
    assert_eq!(response.status(), 403);
    assert_eq!(app.count("flows").await, 1, "nothing was reset");
    // Same origin (by Origin alone, as an older browser sends) goes through.
    let response = client()
        .post(&reset)
        .header(header::COOKIE, &cookie)
        .header("Origin", format!("http://{host}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("flows").await, 0);
}

#[tokio::test]
async fn the_canvas_draws_widgets_at_their_offsets_with_labelled_edges() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let flow = create_flow(&app, &main, "Canvas").await;
    let cookie = sign_in(&app, &main.user, &main.secret).await;
    let (status, body) = page(&app, &cookie, &format!("/{}/studio/{flow}", main.user)).await;
    assert_eq!(status, 200);
    // Trigger: one port (48 + 16); reply: two ports (48 + 32).
    assert!(
        body.contains(r#"<rect x="250" y="-10" width="240" height="64""#),
        "{body}"
    );
    assert!(body.contains(r#"<rect x="290" y="250" width="240" height="80""#));
    assert!(body.contains(r#"data-from="Trigger" data-event="incomingMessage" data-to="reply""#));
    assert!(body.contains(r#"class="edge-label""#) && body.contains(">incomingMessage</text>"));
    // The view box holds the negative y.
    assert!(body.contains(r#"viewBox="210 -50 "#), "{body}");
    // The revision's own page draws it too.
    let (status, body) = page(
        &app,
        &cookie,
        &format!("/{}/studio/{flow}/revisions/1", main.user),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"<rect x="250" y="-10""#));
}

#[tokio::test]
async fn a_session_ends_when_its_key_is_deleted() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let (status, key) = app
        .post(
            &format!("/2010-04-01/Accounts/{}/Keys.json", main.user),
            &main,
            &[("FriendlyName", "console")],
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let (sid, secret) = (
        key["sid"].as_str().unwrap(),
        key["secret"].as_str().unwrap(),
    );
    let cookie = sign_in(&app, sid, secret).await;
    let (status, accounts) = page(&app, &cookie, &format!("/{}/accounts", main.user)).await;
    assert_eq!(status, 200);
    assert!(
        accounts.contains(sid) && !accounts.contains(secret),
        "the key listed, never its secret"
    );
    let (status, _) = app
        .delete(
            &format!("/2010-04-01/Accounts/{}/Keys/{sid}.json", main.user),
            &main,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = page(&app, &cookie, &format!("/{}/accounts", main.user)).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the session went with the key"
    );
}

#[tokio::test]
async fn reset_snapshot_and_restore_through_the_api() {
    let app = TestApp::spawn_tuned(tune_operator).await;
    let main = app.main();
    let sub = app.subaccount(&main, "Sub").await;
    let golden_flow = create_flow(&app, &sub, "golden").await;
    let (status, _) = app.post("/v1/Users", &sub, &[("Identity", "alice")]).await;
    assert_eq!(status, 201);
    let api = |path: String| format!("{}/_localtwilio/Accounts/{}{path}", app.base, sub.user);

    // Snapshot with the account's own credentials.
    let (status, snapshot) = into_json(
        send(
            client()
                .post(api("/Snapshots".into()))
                .basic_auth(&sub.user, Some(&sub.secret))
                .form(&[("Name", "golden")]),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{snapshot}");
    assert_eq!(snapshot["name"], "golden");
    let id = snapshot["id"].as_i64().unwrap();
    let body = send(
        client()
            .get(api(format!("/Snapshots/{id}")))
            .basic_auth(&sub.user, Some(&sub.secret)),
    )
    .await;
    let text = body.text().await.unwrap();
    assert!(
        text.contains("golden") && !text.contains(&sub.secret),
        "no credential in a snapshot"
    );

    // Change things, then reset with the operator's token.
    create_flow(&app, &sub, "scratch").await;
    let wrong = send(
        client()
            .post(api("/Reset".into()))
            .bearer_auth("not-the-token"),
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let reset = send(
        client()
            .post(api("/Reset".into()))
            .bearer_auth(OPERATOR_TOKEN),
    )
    .await;
    assert_eq!(reset.status(), 204);
    let (_, flows) = app.get("/v2/Flows", &sub).await;
    assert_eq!(flows["flows"].as_array().unwrap().len(), 0);
    // Credentials stay; the account has a fresh default service, as a new one does.
    let (status, config) = app.get("/v1/Configuration", &sub).await;
    assert_eq!(status, 200, "{config}");
    let (_, users) = app.get("/v1/Users", &sub).await;
    assert_eq!(users["users"].as_array().unwrap().len(), 0);
    // The main account's data was not touched.
    let (_, main_config) = app.get("/v1/Configuration", &main).await;
    assert!(main_config["default_chat_service_sid"].is_string());

    // Restore: exactly the golden state, SIDs and order included.
    let restored = send(
        client()
            .post(api(format!("/Snapshots/{id}/Restore")))
            .basic_auth(&sub.user, Some(&sub.secret)),
    )
    .await;
    assert_eq!(restored.status(), 204);
    let (_, flows) = app.get("/v2/Flows", &sub).await;
    let flows = flows["flows"].as_array().unwrap().clone();
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0]["sid"], golden_flow.as_str());
    let (status, user) = app.get("/v1/Users/alice", &sub).await;
    assert_eq!(status, 200, "{user}");
    let (_, revisions) = app
        .get(&format!("/v2/Flows/{golden_flow}/Revisions"), &sub)
        .await;
    assert_eq!(revisions["revisions"].as_array().unwrap().len(), 1);

    // Another account's snapshot is not found; the main account reaches its subaccount's.
    let other = app.subaccount(&main, "Other").await;
    let foreign = send(
        client()
            .post(api(format!("/Snapshots/{id}/Restore")))
            .basic_auth(&other.user, Some(&other.secret)),
    )
    .await;
    assert_eq!(foreign.status(), 404);
    let (status, list) = into_json(
        send(
            client()
                .get(api("/Snapshots".into()))
                .basic_auth(&main.user, Some(&main.secret)),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["snapshots"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_delivery_is_shown_with_its_attempts_and_replayed_to_its_stored_url() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let receiver = Receiver::start("127.0.0.1:0").await;
    let url = receiver.url("/hook");
    let (status, _) = app
        .post(
            "/v1/Configuration/Webhooks",
            &main,
            &[
                ("PostWebhookUrl", url.as_str()),
                ("Method", "POST"),
                ("Filters", "onUserAdded"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let response = send(
        app.client
            .post(format!("{}/v1/Users", app.base))
            .basic_auth(&main.user, Some(&main.secret))
            .header("X-Twilio-Webhook-Enabled", "true")
            .form(&[("Identity", "hooked")]),
    )
    .await;
    assert_eq!(response.status(), 201);
    receiver.wait_for(1, Duration::from_secs(10)).await;

    let cookie = sign_in(&app, &main.user, &main.secret).await;
    // The log lists it once its attempt is recorded, filterable by status, event and URL.
    let mut log = String::new();
    for _ in 0..100 {
        (_, log) = page(
            &app,
            &cookie,
            &format!(
                "/{}/webhooks?status=delivered&event=onUserAdded&url=%2Fhook",
                main.user
            ),
        )
        .await;
        if log.contains("status delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(log.contains("onUserAdded") && log.contains(&url), "{log}");
    let (_, none) = page(
        &app,
        &cookie,
        &format!("/{}/webhooks?status=failed", main.user),
    )
    .await;
    assert!(!none.contains(r#"id="deliveries""#), "{none}");
    let (_, none) = page(&app, &cookie, &format!("/{}/webhooks?url=%25", main.user)).await;
    assert!(
        !none.contains(r#"id="deliveries""#),
        "a % in the filter is matched literally"
    );
    let id = log
        .split("/webhooks/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let (status, detail) = page(&app, &cookie, &format!("/{}/webhooks/{id}", main.user)).await;
    assert_eq!(status, 200);
    assert!(
        detail.contains("Identity") && detail.contains("hooked"),
        "the parameters"
    );
    assert!(detail.contains(">200<"), "the attempt's status: {detail}");

    // Replay from the console: a new delivery of the same request.
    let response = act(
        &app,
        &cookie,
        &format!("/{}/webhooks/{id}/replay", main.user),
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got[0].body, got[1].body, "the same parameters");
    assert_eq!(got[1].uri.path(), "/hook");
    // And through the API, with the account's credentials; an unknown delivery is 404.
    let (status, replay) = into_json(
        send(
            client()
                .post(format!(
                    "{}/_localtwilio/Accounts/{}/WebhookDeliveries/{id}/Replay",
                    app.base, main.user
                ))
                .basic_auth(&main.user, Some(&main.secret)),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{replay}");
    receiver.wait_for(3, Duration::from_secs(10)).await;
    let response = send(
        client()
            .post(format!(
                "{}/_localtwilio/Accounts/{}/WebhookDeliveries/999999/Replay",
                app.base, main.user
            ))
            .basic_auth(&main.user, Some(&main.secret)),
    )
    .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_console_can_be_switched_off() {
    let app = TestApp::spawn_tuned(|c| c.console = "off".into()).await;
    let response = send(
        app.client
            .request(Method::GET, format!("{}{CONSOLE}/login", app.base))
            .basic_auth(&app.main().user, Some(&app.main().secret)),
    )
    .await;
    assert_eq!(response.status(), 404);
}

/// Every table of the database is account data (in `ACCOUNT_DATA`, so reset and snapshots
/// cover it) or one of the few that are not: a new table must choose.
#[tokio::test]
async fn every_table_is_in_the_account_data_registry_or_named_here() {
    const NOT_ACCOUNT_DATA: &[&str] = &[
        "_sqlx_migrations",
        "sqlite_sequence",
        // credentials, kept by reset
        "accounts",
        "api_keys",
        // a catalog shared by every account
        "end_user_types",
        "supporting_document_types",
        "trust_policies",
        // the snapshots themselves
        "console_snapshots",
        // the server's own state shared between instances
        "shared_state",
    ];
    // The tables are the same on both backends (`both_backends_have_the_same_migrations`).
    if skip_on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let url = format!("sqlite://{}?mode=ro", app.db_path().display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("select name from sqlite_master where type = 'table'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let registered: Vec<&str> = localtwilio::store::account_data::ACCOUNT_DATA
        .iter()
        .map(|t| t.name)
        .collect();
    for table in &tables {
        assert!(
            registered.contains(&table.as_str()) || NOT_ACCOUNT_DATA.contains(&table.as_str()),
            "table {table} is in neither ACCOUNT_DATA (src/store/account_data.rs) nor NOT_ACCOUNT_DATA"
        );
    }
    for table in registered {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} is registered but does not exist"
        );
    }
}

#[tokio::test]
async fn the_operator_signs_in_with_the_token_and_sees_every_account() {
    let app = TestApp::spawn_tuned(tune_operator).await;
    let main = app.main();
    let sub = app.subaccount(&main, "Operator can see me").await;
    let cookie = sign_in(&app, "", OPERATOR_TOKEN).await;
    let (status, accounts) = page(&app, &cookie, "/accounts").await;
    assert_eq!(status, 200);
    assert!(accounts.contains(&main.user) && accounts.contains(&sub.user));
    let (status, _) = page(&app, &cookie, &format!("/{}/overview", sub.user)).await;
    assert_eq!(status, 200);
    // A wrong operator token is refused like a wrong account token.
    let response = client()
        .post(format!("{}{CONSOLE}/login", app.base))
        .form(&[("username", "operator"), ("secret", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    // Without a configured token there is no operator at all.
    let plain = TestApp::spawn().await;
    let response = client()
        .post(format!("{}{CONSOLE}/login", plain.base))
        .form(&[("username", ""), ("secret", "")])
        .send()
        .await
        .unwrap();
    assert!(response.headers().get(header::SET_COOKIE).is_none());
}

/// What the round-2 pages show, made through the API by `creds`: a conversation with a chat
/// and an SMS participant and messages, a flow run once, a 2010 message and a Customer
/// Profile with an assigned end user and an evaluation.
struct Made {
    service: String,
    conversation: String,
    flow: String,
    execution: String,
    message: String,
    bundle: String,
}

/// Trigger (REST) → `hello` (send-message) → Ended, at stored offsets.
fn executed_flow() -> String {
    json!({
        "description": "console execution",
        "flags": {"allow_concurrent_calls": true},
        "initial_state": "Trigger",
        "states": [
            {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
             "transitions": [{"event": "incomingMessage"}, {"event": "incomingRequest", "next": "hello"}]},
            {"name": "hello", "type": "send-message",
             "properties": {"offset": {"x": 40, "y": 260}, "body": "Hi <b>there</b>"},
             "transitions": [{"event": "sent"}, {"event": "failed"}]},
            {"name": "unused", "type": "send-message",
             "properties": {"offset": {"x": 400, "y": 260}, "body": "never"},
             "transitions": [{"event": "sent"}, {"event": "failed"}]}
        ]
    })
    .to_string()
}

async fn make(app: &TestApp, creds: &Creds, body: &str, attributes: &str) -> Made {
    let (status, conversation) = app
        .post(
            "/v1/Conversations",
            creds,
            &[("FriendlyName", "Support chat")],
        )
        .await;
    assert_eq!(status, 201, "{conversation}");
    let ch = conversation["sid"].as_str().unwrap().to_owned();
    let service = conversation["chat_service_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let participants = format!("/v1/Conversations/{ch}/Participants");
    let (status, alice) = app
        .post(
            &participants,
            creds,
            &[("Identity", "alice"), ("Attributes", attributes)],
        )
        .await;
    assert_eq!(status, 201, "{alice}");
    let (status, sms) = app
        .post(
            &participants,
            creds,
            &[
                ("MessagingBinding.Address", "+15558675310"),
                ("MessagingBinding.ProxyAddress", "+15017122661"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{sms}");
    let messages = format!("/v1/Conversations/{ch}/Messages");
    for (author, text) in [
        ("alice", body),
        ("+15558675310", "Thanks!"),
        ("alice", "Bye"),
    ] {
        let (status, m) = app
            .post(&messages, creds, &[("Author", author), ("Body", text)])
            .await;
        assert_eq!(status, 201, "{m}");
    }
    // Alice has read up to the reply (index 1).
    let (status, read) = app
        .post(
            &format!("{participants}/{}", alice["sid"].as_str().unwrap()),
            creds,
            &[("LastReadMessageIndex", "1")],
        )
        .await;
    assert_eq!(status, 200, "{read}");

    let definition = executed_flow();
    let (status, flow) = app
        .post(
            "/v2/Flows",
            creds,
            &[
                ("FriendlyName", "Greeter"),
                ("Status", "published"),
                ("Definition", &definition),
            ],
        )
        .await;
    assert_eq!(status, 201, "{flow}");
    let fw = flow["sid"].as_str().unwrap().to_owned();
    let (status, execution) = app
        .post(
            &format!("/v2/Flows/{fw}/Executions"),
            creds,
            &[("To", "+15551230001"), ("From", "+15557650000")],
        )
        .await;
    assert_eq!(status, 201, "{execution}");

    let (status, message) = app
        .post(
            &format!("/2010-04-01/Accounts/{}/Messages.json", creds.user),
            creds,
            &[
                ("To", "+15551230002"),
                ("From", "+15557650000"),
                ("Body", body),
                ("StatusCallback", "http://127.0.0.1:9/status"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{message}");

    let (status, end_user) = app
        .post(
            "/v1/EndUsers",
            creds,
            &[
                ("FriendlyName", "Rep"),
                ("Type", "authorized_representative_1"),
                ("Attributes", r#"{"first_name": "A"}"#),
            ],
        )
        .await;
    assert_eq!(status, 201, "{end_user}");
    let policy = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
    let (status, bundle) = app
        .post(
            "/v1/CustomerProfiles",
            creds,
            &[
                ("FriendlyName", "Bakery profile"),
                ("Email", "compliance@bakery.example"),
                ("PolicySid", policy),
            ],
        )
        .await;
    assert_eq!(status, 201, "{bundle}");
    let bu = bundle["sid"].as_str().unwrap().to_owned();
    let (status, assigned) = app
        .post(
            &format!("/v1/CustomerProfiles/{bu}/EntityAssignments"),
            creds,
            &[("ObjectSid", end_user["sid"].as_str().unwrap())],
        )
        .await;
    assert_eq!(status, 201, "{assigned}");
    let (status, evaluation) = app
        .post(
            &format!("/v1/CustomerProfiles/{bu}/Evaluations"),
            creds,
            &[("PolicySid", policy)],
        )
        .await;
    assert_eq!(status, 201, "{evaluation}");
    Made {
        service,
        conversation: ch,
        flow: fw,
        execution: execution["sid"].as_str().unwrap().to_owned(),
        message: message["sid"].as_str().unwrap().to_owned(),
        bundle: bu,
    }
}

impl Made {
    /// Every round-2 page of these resources, under `/{account}/`.
    fn pages(&self) -> Vec<String> {
        vec![
            format!("conversations/{}", self.service),
            format!("conversations/{}/{}", self.service, self.conversation),
            format!("studio/{}/executions", self.flow),
            format!("studio/{}/executions/{}", self.flow, self.execution),
            format!("messages/{}", self.message),
            format!("trusthub/{}", self.bundle),
        ]
    }
}

#[tokio::test]
async fn the_new_pages_show_their_data_and_are_404_to_another_account() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let a = app.subaccount(&main, "Sub A").await;
    let b = app.subaccount(&main, "Sub B").await;
    let made = make(&app, &a, "Hello", "{}").await;

    let a_cookie = sign_in(&app, &a.user, &a.secret).await;
    for (path, shows) in made.pages().iter().zip([
        "Support chat",
        "Thanks!",
        made.execution.as_str(),
        "hello",
        "Hello",
        "Bakery profile",
    ]) {
        let (status, body) = page(&app, &a_cookie, &format!("/{}/{path}", a.user)).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(shows), "{path} does not show {shows}");
    }
    for list in ["messages", "trusthub", "studio"] {
        let (status, _) = page(&app, &a_cookie, &format!("/{}/{list}", a.user)).await;
        assert_eq!(status, 200, "{list}");
    }
    let (_, overview) = page(&app, &a_cookie, &format!("/{}/overview", a.user)).await;
    assert!(
        overview.contains(r#"data-table="conversation_messages">3<"#),
        "{overview}"
    );
    assert!(overview.contains(r#"data-table="messages">"#));
    assert!(overview.contains(r#"data-table="trust_bundles">1<"#));
    assert!(overview.contains(&format!(r#"href="{CONSOLE}/{}/messages""#, a.user)));
    assert!(overview.contains(&format!(
        r#"href="{CONSOLE}/{}/messages/{}""#,
        a.user, made.message
    )));

    // B, a sibling: every one of A's resources is 404 — under B's own account and under A's.
    let b_cookie = sign_in(&app, &b.user, &b.secret).await;
    for path in made.pages() {
        for account in [&b.user, &a.user] {
            let (status, _) = page(&app, &b_cookie, &format!("/{account}/{path}")).await;
            assert_eq!(status, 404, "{account}/{path}");
        }
    }
    // Malformed SIDs are 404 too, never 400 or 500.
    for path in [
        "conversations/ISnot/CHnot",
        "studio/FWnot/executions/FNnot",
        "messages/SMnot",
        "trusthub/BUnot",
    ] {
        let (status, _) = page(&app, &b_cookie, &format!("/{}/{path}", b.user)).await;
        assert_eq!(status, 404, "{path}");
    }
    // The parent sees its subaccount's pages.
    let main_cookie = sign_in(&app, &main.user, &main.secret).await;
    let (status, _) = page(
        &app,
        &main_cookie,
        &format!("/{}/{}", a.user, made.pages()[1]),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_transcript_and_a_message_render_markup_as_text() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let evil = "<script>alert('body')</script>";
    let made = make(
        &app,
        &main,
        evil,
        r#"{"note": "<script>alert('attr')</script>"}"#,
    )
    .await;
    let cookie = sign_in(&app, &main.user, &main.secret).await;

    let (status, transcript) = page(
        &app,
        &cookie,
        &format!(
            "/{}/conversations/{}/{}",
            main.user, made.service, made.conversation
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!transcript.contains("<script>alert"), "{transcript}");
    assert!(transcript.contains("&lt;script&gt;alert"));
    // Three bubbles: alice's two on the left (she spoke first), the SMS reply on the right.
    assert_eq!(
        transcript
            .matches(r#"class="bubble left author-0""#)
            .count(),
        2
    );
    assert_eq!(
        transcript
            .matches(r#"class="bubble right author-1""#)
            .count(),
        1
    );
    // Alice read up to #1: the SMS reply (index 1) is read by her, her own messages by nobody.
    assert_eq!(
        transcript.matches(r#"data-read="1""#).count(),
        1,
        "{transcript}"
    );
    assert!(transcript.contains("✓ read by alice"));
    // Alice's two messages went out as one SMS each to the SMS participant (their Receipts'
    // summary); the SMS participant's own reply is not sent back to it.
    assert_eq!(
        transcript.matches(r#"data-sms="1""#).count(),
        2,
        "{transcript}"
    );
    assert!(transcript.contains("SMS to 1 · sent all"), "{transcript}");
    // Both participants, the SMS one with its binding.
    assert!(transcript.contains("+15558675310 ↔ +15017122661"));
    assert!(transcript.contains(">sms<") && transcript.contains(">chat<"));

    let (status, message) = page(
        &app,
        &cookie,
        &format!("/{}/messages/{}", main.user, made.message),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!message.contains("<script>alert"), "{message}");
    assert!(message.contains("&lt;script&gt;alert"));
    assert!(message.contains(r#"id="direction">outbound-api<"#));
    // Its status callbacks, queued with it, each linked to its delivery in the webhook log.
    assert!(message.contains(r#"<table id="callbacks">"#), "{message}");
    assert!(message.contains("MessageStatus:delivered"));
    assert!(message.contains(&format!("{CONSOLE}/{}/webhooks/", main.user)));
    assert!(
        message.contains(r#"<ol class="history" id="history"><li><span class="status queued">"#)
    );
    let (_, list) = page(&app, &cookie, &format!("/{}/messages", main.user)).await;
    assert!(!list.contains("<script>alert") && !list.contains("<b>there"));
    assert!(list.contains("Hi &lt;b&gt;there&lt;/b&gt;"));
    // Studio's, the API's, and the two SMS alice's conversation messages went out as to the
    // SMS participant.
    assert_eq!(
        list.matches(r#"data-direction="outbound-api""#).count(),
        4,
        "{list}"
    );
    // `alert` is in the API message's body and in alice's first conversation message, sent on
    // as SMS.
    let (_, searched) = page(&app, &cookie, &format!("/{}/messages?q=alert", main.user)).await;
    assert_eq!(searched.matches("data-direction=").count(), 2, "{searched}");
    let (_, inbound) = page(
        &app,
        &cookie,
        &format!("/{}/messages?direction=inbound", main.user),
    )
    .await;
    assert_eq!(inbound.matches("data-direction=").count(), 0);
}

#[tokio::test]
async fn an_execution_is_drawn_with_its_steps_numbered_on_the_widgets_they_left() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let made = make(&app, &main, "hi", "{}").await;
    let (_, steps) = app
        .get(
            &format!(
                "/v2/Flows/{}/Executions/{}/Steps",
                made.flow, made.execution
            ),
            &main,
        )
        .await;
    let steps = steps["steps"].as_array().unwrap().clone();
    // Trigger —incomingRequest→ hello —sent→ Ended.
    assert_eq!(steps.len(), 2, "{steps:?}");
    let cookie = sign_in(&app, &main.user, &main.secret).await;
    let (status, body) = page(
        &app,
        &cookie,
        &format!(
            "/{}/studio/{}/executions/{}",
            main.user, made.flow, made.execution
        ),
    )
    .await;
    assert_eq!(status, 200);
    // Every step is numbered once on the canvas, on the widget it left, and listed once.
    assert!(
        body.contains(r#"data-widget="Trigger" data-steps="1""#),
        "{body}"
    );
    assert!(body.contains(r#"data-widget="hello" data-steps="1""#));
    assert!(body.contains(r#"data-widget="unused" data-steps="0""#));
    assert_eq!(body.matches(r#"<g class="badge">"#).count(), steps.len());
    assert_eq!(body.matches(r#"class="step-number""#).count(), steps.len());
    // Highlighted: the two visited widgets of three, and the one edge taken.
    assert!(body.contains(r#"data-widgets="3" data-highlighted="2""#));
    assert_eq!(body.matches(r#"class="widget visited""#).count(), 2);
    assert_eq!(body.matches(r#"class="edge taken""#).count(), 1);
    assert!(body.contains(
        r#"class="edge taken" data-from="Trigger" data-event="incomingRequest" data-to="hello""#
    ));
    // Badge geometry: on the top-right corner of the widget at its stored offset (40, 260).
    assert!(body.contains(r#"<circle cx="280" cy="260" r="12"></circle><text x="280" y="264" text-anchor="middle">2</text>"#), "{body}");
    // The widget's label is escaped, the execution context is beside the canvas.
    assert!(body.contains("Execution context") && body.contains("step context"));
    assert!(
        !body.contains("waiting-at"),
        "an ended execution waits nowhere"
    );
    // The flow page lists the execution and links to it.
    let (_, flow) = page(
        &app,
        &cookie,
        &format!("/{}/studio/{}", main.user, made.flow),
    )
    .await;
    assert!(flow.contains(&format!("executions/{}", made.execution)));
}

#[tokio::test]
async fn a_bundle_shows_its_assignments_evaluations_and_history() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let made = make(&app, &main, "hi", "{}").await;
    let cookie = sign_in(&app, &main.user, &main.secret).await;
    let (status, body) = page(
        &app,
        &cookie,
        &format!("/{}/trusthub/{}", main.user, made.bundle),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("Customer Profile · Bakery profile"), "{body}");
    assert_eq!(body.matches("<table id=\"items\">").count(), 1);
    assert!(body.contains(&format!("{CONSOLE}/{}/trusthub/IT", main.user)));
    // The evaluation (noncompliant: one end user is not a complete profile) is open.
    assert!(body.contains(r#"<details class="evaluation" open>"#));
    assert!(body.contains(r#"<span class="status draft">draft</span>"#));
    let (_, list) = page(&app, &cookie, &format!("/{}/trusthub?q=bakery", main.user)).await;
    assert!(list.contains(&made.bundle));
    let (_, none) = page(
        &app,
        &cookie,
        &format!("/{}/trusthub?q=nothing-like-it", main.user),
    )
    .await;
    assert!(!none.contains(&made.bundle));
}
