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
