//! Fixtures through the real binary: `seed FILE` (the shipped demo data set), re-apply and
//! edits, refused entries with their file position and nothing applied, `export` → `seed`
//! into an empty database answering exactly as the original, `serve --seed`, and the one-line
//! errors of every command.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

use crate::helpers::{Creds, TestApp};

const DEMO_SID: &str = "AC00000000000000000000000000000de0";
const DEMO_TOKEN: &str = "0123456789abcdef0123456789abcdef";
const DEMO_KEY: &str = "SK00000000000000000000000000000de1";
const DEMO_SECRET: &str = "DemoSecretDemoSecretDemoSecret01";

fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.json")
}

fn demo_text() -> String {
    std::fs::read_to_string(demo_path()).unwrap()
}

/// Runs the binary on `db` with `args`.
fn cli(db: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_localtwilio"));
    command
        .args(args)
        .env("LOCALTWILIO_DATABASE", db)
        .env("LOCALTWILIO_LOG", "warn");
    if localtwilio::store::postgres_url(db).is_some() {
        command.env("LOCALTWILIO_SECRET_KEY", crate::helpers::TEST_SECRET_KEY);
    } else {
        command.env_remove("LOCALTWILIO_SECRET_KEY");
    }
    command.output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn seed(db: &Path, file: &Path) -> Output {
    cli(db, &["seed", file.to_str().unwrap()])
}

/// `seed FILE` on a running app's database: the server is stopped first (a running server holds
/// the file's exclusive lock, and seed is refused beside it), then started again on the result.
async fn seed_restarting(app: &mut TestApp, file: &Path) -> Output {
    app.stop().await;
    let output = seed(&app.database(), file);
    app.restart().await;
    output
}

fn assert_ok(output: &Output) {
    assert!(output.status.success(), "{}", stderr(output));
}

/// A refused command: exit code 1 and exactly one line, starting `error: `.
fn assert_one_line_error(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    let text = stderr(output);
    assert_eq!(text.trim_end().lines().count(), 1, "not one line: {text}");
    assert!(text.starts_with("error: "), "{text}");
    text
}

fn demo() -> Creds {
    Creds::new(DEMO_SID, DEMO_TOKEN)
}

/// Reads that show most of what a fixture holds (as the demo account).
const DEMO_READS: &[&str] = &[
    "/2010-04-01/Accounts/AC00000000000000000000000000000de0.json",
    "/2010-04-01/Accounts.json",
    "/2010-04-01/Accounts/AC00000000000000000000000000000de0/Keys.json",
    "/v2/Flows",
    "/v2/Flows/FW00000000000000000000000000000de1",
    "/v2/Flows/FW00000000000000000000000000000de1/Revisions",
    "/v2/Flows/FW00000000000000000000000000000de1/TestUsers",
    "/v1/Services",
    "/v1/Services/IS00000000000000000000000000000de1/Roles",
    "/v1/Services/IS00000000000000000000000000000de1/Users",
    "/v1/Users",
    "/v1/Roles",
    "/v1/Configuration",
    "/v1/EndUsers",
];

async fn reads(app: &TestApp, creds: &Creds, paths: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    for path in paths {
        let (status, body) = app.get(path, creds).await;
        assert_eq!(status, 200, "{path}: {body}");
        // URLs carry the server's own address; compare everything else.
        let text = body.to_string().replace(&app.base, "http://SERVER");
        out.push(serde_json::from_str(&text).unwrap());
    }
    out
}

#[tokio::test]
async fn the_demo_fixture_seeds_what_it_says_and_a_second_apply_changes_nothing() {
    let mut app = TestApp::spawn().await;
    let output = seed_restarting(&mut app, &demo_path()).await;
    assert_ok(&output);
    assert!(
        stderr(&output).contains("0 updated, 0 unchanged"),
        "{}",
        stderr(&output)
    );

    let (_, account) = app.get(DEMO_READS[0], &demo()).await;
    assert_eq!(account["friendly_name"], "Acme Demo");
    assert_eq!(account["auth_token"], DEMO_TOKEN);
    assert_eq!(account["date_created"], "Mon, 05 Jan 2026 09:00:00 +0000");
    let (_, flow) = app
        .get("/v2/Flows/FW00000000000000000000000000000de1", &demo())
        .await;
    assert_eq!(flow["status"], "published");
    assert_eq!(flow["revision"], 1);
    assert_eq!(flow["definition"]["states"][1]["name"], "remind");
    assert_eq!(flow["errors"], serde_json::json!([]));
    let (_, test_users) = app
        .get(
            "/v2/Flows/FW00000000000000000000000000000de1/TestUsers",
            &demo(),
        )
        .await;
    assert_eq!(
        test_users["test_users"],
        serde_json::json!(["+15005550006", "+15005550001", "client:alice"])
    );
    let (_, users) = app
        .get(
            "/v1/Services/IS00000000000000000000000000000de1/Users",
            &demo(),
        )
        .await;
    let identities: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["identity"].as_str().unwrap())
        .collect();
    assert_eq!(identities, ["maria.agent", "tom.agent", "customer-1042"]);
    // A user without role_sid gets the service's default chat role, as through the API.
    assert_eq!(
        users["users"][1]["role_sid"],
        "RL00000000000000000000000000000d12"
    );
    assert_eq!(
        users["users"][2]["attributes"],
        "{\"vip\": true, \"orders\": 12}"
    );
    let (_, alice) = app.get("/v1/Users/alice@acme.example", &demo()).await;
    assert_eq!(alice["sid"], "US00000000000000000000000000000de1");
    let (_, end_users) = app.get("/v1/EndUsers", &demo()).await;
    assert_eq!(end_users["results"].as_array().unwrap().len(), 3);
    // The key's fixed secret authenticates.
    let (status, _) = app
        .get("/v1/Users", &Creds::new(DEMO_KEY, DEMO_SECRET))
        .await;
    assert_eq!(status, 200);
    // The subaccount's token works, and it got a default service of its own.
    let sub = Creds::new(
        "AC00000000000000000000000000000de1",
        "fedcba9876543210fedcba9876543210",
    );
    let (status, body) = app.get("/v1/Configuration", &sub).await;
    assert_eq!(status, 200, "{body}");

    let before = reads(&app, &demo(), DEMO_READS).await;
    let rows = app.count("conversation_users").await + app.count("flow_revisions").await;
    let again = seed_restarting(&mut app, &demo_path()).await;
    assert_ok(&again);
    assert!(
        stderr(&again).contains("0 created, 0 updated"),
        "{}",
        stderr(&again)
    );
    app.restart().await;
    assert_eq!(reads(&app, &demo(), DEMO_READS).await, before);
    assert_eq!(
        app.count("conversation_users").await + app.count("flow_revisions").await,
        rows
    );
}

#[tokio::test]
async fn an_edited_fixture_updates_only_what_changed() {
    let mut app = TestApp::spawn().await;
    assert_ok(&seed_restarting(&mut app, &demo_path()).await);
    let (_, tom_before) = app
        .get(
            "/v1/Services/IS00000000000000000000000000000de1/Users/tom.agent",
            &demo(),
        )
        .await;
    let (_, maria_before) = app
        .get(
            "/v1/Services/IS00000000000000000000000000000de1/Users/maria.agent",
            &demo(),
        )
        .await;

    let edited = demo_text()
        .replace("\"Tom (tier 1)\"", "\"Tom (tier 2)\"")
        .replace(
            "Thanks, see you tomorrow!",
            "Thanks, see you tomorrow at 10!",
        )
        .replace(
            "\"test_users\": [\"+15005550006\", \"+15005550001\", \"client:alice\"]",
            "\"test_users\": [\"+15005550009\"]",
        );
    let file = app.dir.path().join("edited.json");
    std::fs::write(&file, edited).unwrap();
    let output = seed_restarting(&mut app, &file).await;
    assert_ok(&output);
    assert!(
        stderr(&output).contains("0 created, 2 updated"),
        "{}",
        stderr(&output)
    );

    let (_, tom) = app
        .get(
            "/v1/Services/IS00000000000000000000000000000de1/Users/tom.agent",
            &demo(),
        )
        .await;
    assert_eq!(tom["friendly_name"], "Tom (tier 2)");
    assert_eq!(tom["date_created"], tom_before["date_created"]);
    let (_, maria) = app
        .get(
            "/v1/Services/IS00000000000000000000000000000de1/Users/maria.agent",
            &demo(),
        )
        .await;
    assert_eq!(
        maria, maria_before,
        "an entry the edit did not touch stays as it was"
    );
    // A changed flow gets a new revision, as an API update would; the old one stays readable.
    let (_, flow) = app
        .get("/v2/Flows/FW00000000000000000000000000000de1", &demo())
        .await;
    assert_eq!(flow["revision"], 2);
    assert_eq!(
        flow["definition"]["states"][2]["properties"]["body"],
        "Thanks, see you tomorrow at 10!"
    );
    let (status, first) = app
        .get(
            "/v2/Flows/FW00000000000000000000000000000de1/Revisions/1",
            &demo(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        first["definition"]["states"][2]["properties"]["body"],
        "Thanks, see you tomorrow!"
    );
    let (_, test_users) = app
        .get(
            "/v2/Flows/FW00000000000000000000000000000de1/TestUsers",
            &demo(),
        )
        .await;
    assert_eq!(
        test_users["test_users"],
        serde_json::json!(["+15005550009"])
    );
}

/// An argon2id PHC string with these parameters (a valid salt and output, matching no secret).
fn phc(params: &str) -> String {
    format!(
        "$argon2id$v=19${params}$WlpaWlpaWlpaWlpaWlpaWg$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    )
}

/// Each edit breaks one API rule in one entry; the file is refused at that entry's line and
/// column and not a row of it is written.
#[tokio::test]
async fn a_bad_entry_is_reported_at_its_position_and_nothing_is_applied() {
    let mut app = TestApp::spawn().await;
    let long_test_user = format!("\"+15005550006\", \"{}\"", "x".repeat(301));
    let long_identity = format!("\"identity\": \"{}\"", "i".repeat(257));
    type Case<'a> = (&'a str, &'a str, String, &'a str);
    let cases: Vec<Case> = vec![
        // (what, marker, replacement, expected message part)
        (
            "test user of 301 bytes",
            "\"+15005550006\"]",
            format!("{long_test_user}]"),
            "at most 300 bytes",
        ),
        (
            "identity too long",
            "\"identity\": \"tom.agent\"",
            long_identity,
            "Identity too long",
        ),
        (
            "duplicate identity",
            "\"identity\": \"tom.agent\"",
            "\"identity\": \"maria.agent\"".into(),
            "User already exists",
        ),
        (
            "identity shaped like a user SID",
            "\"identity\": \"tom.agent\"",
            "\"identity\": \"US0123456789abcdef0123456789abcdef\"".into(),
            "user SID pattern",
        ),
        (
            "unknown field",
            "\"friendly_name\": \"Tom (tier 1)\"",
            "\"friendly_name\": \"Tom\", \"colour\": \"red\"".into(),
            "unknown field `colour`",
        ),
        (
            "bad SID",
            "US00000000000000000000000000000d12",
            "US0000000000000000000000000000zzzz".into(),
            "32 lowercase hex digits",
        ),
        (
            "unknown end user type",
            "\"type\": \"business\"",
            "\"type\": \"startup\"".into(),
            "not an EndUserType",
        ),
        (
            "role of the wrong type",
            "\"role_sid\": \"RL00000000000000000000000000000d11\"",
            "\"role_sid\": \"RL00000000000000000000000000000d14\"".into(),
            "Invalid parameter RoleSid: must name a service-level role",
        ),
        (
            "permission of another role type",
            "\"permissions\": [\"sendMessage\", \"leaveConversation\", \"editOwnMessage\", \"deleteOwnMessage\"]",
            "\"permissions\": [\"createConversation\"]".into(),
            "is not a conversation permission",
        ),
        (
            "bad date",
            "\"date_created\": \"2026-01-05T09:05:00Z\"",
            "\"date_created\": \"yesterday\"".into(),
            "not a date",
        ),
        (
            "webhook filter of no such event",
            "\"conversation_services\": [",
            "\"conversation_webhooks\": {\"filters\": [\"onNothing\"]}, \"conversation_services\": [".into(),
            "is not a webhook event",
        ),
        (
            "timer below its minimum",
            "\"conversation_services\": [",
            "\"conversation_configuration\": {\"default_closed_timer\": \"PT1M\"}, \"conversation_services\": [".into(),
            "DefaultClosedTimer",
        ),
        // The account and messaging-service rules are the API's, in the API's words.
        (
            "a main account that is not active",
            "\"friendly_name\": \"Acme Demo\",",
            "\"friendly_name\": \"Acme Demo\", \"status\": \"suspended\",".into(),
            "Invalid parameter Status: the main account's status cannot be changed",
        ),
        (
            "a subaccount inside a subaccount",
            "\"friendly_name\": \"Acme Demo — EU branch\",",
            "\"friendly_name\": \"Acme Demo — EU branch\", \"subaccounts\": [{\"sid\": \"AC00000000000000000000000000000de2\"}],".into(),
            "Subaccounts cannot contain subaccounts. Only a root account may contain subaccounts. (21101)",
        ),
        (
            "a service's default chat role of the conversation type",
            "\"default_chat_service_role_sid\": \"RL00000000000000000000000000000de2\"",
            "\"default_chat_service_role_sid\": \"RL00000000000000000000000000000de4\"".into(),
            "Invalid parameter DefaultChatServiceRoleSid: must name a service role",
        ),
        (
            "messaging service SID of the wrong pattern",
            "\"conversation_services\": [",
            "\"conversation_configuration\": {\"default_messaging_service_sid\": \"MG123\"}, \"conversation_services\": [".into(),
            "Invalid parameter DefaultMessagingServiceSid: must match ^MG[0-9a-fA-F]{32}$",
        ),
        // Issue 15 review: an imported hash may cost no more than the server's own (a 4 GiB
        // `m` would make every failed attempt at that key allocate 4 GiB), and must parse.
        (
            "a secret_hash costing 4 GiB",
            "\"secret\": \"DemoSecretDemoSecretDemoSecret01\"",
            format!("\"secret_hash\": \"{}\"", phc("m=4194304,t=2,p=1")),
            "secret_hash costs more than this server's own hashes: m=4194304, t=2, p=1 (at most m=19456, t=2, p=1)",
        ),
        (
            "a secret_hash of 1000 passes",
            "\"secret\": \"DemoSecretDemoSecretDemoSecret01\"",
            format!("\"secret_hash\": \"{}\"", phc("m=19456,t=1000,p=1")),
            "secret_hash costs more than this server's own hashes",
        ),
        (
            "a secret_hash that is no PHC string",
            "\"secret\": \"DemoSecretDemoSecretDemoSecret01\"",
            "\"secret_hash\": \"$argon2id$v=19$m=19456\"".into(),
            "secret_hash is not an argon2 PHC string",
        ),
        (
            "bad JSON",
            "\"test_users\": [\"+15005550006\"]",
            "\"test_users\": [\"+15005550006\",]".into(),
            "",
        ),
    ];
    let accounts_before = app.count("accounts").await;
    for (what, marker, replacement, message) in cases {
        let text = demo_text();
        let offset = text
            .find(marker)
            .unwrap_or_else(|| panic!("{what}: marker"));
        let broken = text.replacen(marker, &replacement, 1);
        let file = app.dir.path().join("broken.json");
        std::fs::write(&file, &broken).unwrap();
        let output = seed_restarting(&mut app, &file).await;
        let line = assert_one_line_error(&output);
        assert!(line.contains(message), "{what}: {line}");
        assert!(line.contains("nothing was applied"), "{what}: {line}");
        // The reported line is the broken entry's (or, for the bad JSON, the marker's) line.
        let reported: usize = line
            .split(&format!("{}:", file.display()))
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{what}: no position in {line}"));
        let marker_line = broken[..offset].matches('\n').count() + 1;
        assert!(
            reported <= marker_line && marker_line - reported <= 4,
            "{what}: reported line {reported}, the change is on line {marker_line}: {line}"
        );
        assert_eq!(
            app.count("accounts").await,
            accounts_before,
            "{what}: applied"
        );
        assert_eq!(app.count("conversation_users").await, 0, "{what}: applied");
    }
}

#[tokio::test]
async fn export_then_seed_into_an_empty_database_answers_the_same() {
    let app = TestApp::spawn().await;
    let main = app.main();
    // Data made through the API: a subaccount, a key, a flow with two revisions and test
    // users, a service with a role and users, end users.
    let sub = app.subaccount(&main, "Branch").await;
    let (status, key) = app
        .post(
            &format!("/2010-04-01/Accounts/{}/Keys.json", main.user),
            &main,
            &[("FriendlyName", "ci")],
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let definition = r#"{"description":"d","initial_state":"Trigger","states":[{"name":"Trigger","type":"trigger","properties":{"n":1.50},"transitions":[]}]}"#;
    let (_, flow) = app
        .post(
            "/v2/Flows",
            &main,
            &[
                ("FriendlyName", "one"),
                ("Status", "draft"),
                ("Definition", definition),
            ],
        )
        .await;
    let flow_sid = flow["sid"].as_str().unwrap().to_owned();
    let (status, _) = app
        .post(
            &format!("/v2/Flows/{flow_sid}"),
            &main,
            &[("Status", "published"), ("CommitMessage", "go")],
        )
        .await;
    assert_eq!(status, 200);
    app.post(
        &format!("/v2/Flows/{flow_sid}/TestUsers"),
        &main,
        &[("TestUsers", "+15005550006"), ("TestUsers", "bob")],
    )
    .await;
    let (_, service) = app
        .post("/v1/Services", &main, &[("FriendlyName", "desk")])
        .await;
    let service_sid = service["sid"].as_str().unwrap().to_owned();
    let (_, role) = app
        .post(
            &format!("/v1/Services/{service_sid}/Roles"),
            &main,
            &[
                ("FriendlyName", "lead"),
                ("Type", "service"),
                ("Permission", "createConversation"),
            ],
        )
        .await;
    let role_sid = role["sid"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/Services/{service_sid}/Users"),
        &main,
        &[
            ("Identity", "ann"),
            ("RoleSid", &role_sid),
            ("Attributes", "{ \"spaced\" : 1.0 }"),
        ],
    )
    .await;
    app.post(
        "/v1/Users",
        &main,
        &[("Identity", "bo"), ("FriendlyName", "Bo")],
    )
    .await;
    app.post("/v1/Users", &sub, &[("Identity", "sub-user")])
        .await;
    app.post(
        "/v1/EndUsers",
        &main,
        &[
            ("FriendlyName", "Ann"),
            ("Type", "individual"),
            ("Attributes", "{\"first_name\":\"Ann\",\"n\":10.250}"),
        ],
    )
    .await;

    // Configuration and webhook targets, account and service level.
    for (path, form) in [
        (
            "/v1/Configuration".to_owned(),
            vec![
                ("DefaultInactiveTimer", "PT5M"),
                (
                    "DefaultMessagingServiceSid",
                    "MG00000000000000000000000000000001",
                ),
            ],
        ),
        (
            "/v1/Configuration/Webhooks".to_owned(),
            vec![
                ("Method", "GET"),
                ("Filters", "onMessageAdded"),
                ("PostWebhookUrl", "https://hooks.example/post"),
                ("Target", "webhook"),
            ],
        ),
        (
            format!("/v1/Services/{service_sid}/Configuration/Webhooks"),
            vec![
                ("Filters", "onParticipantAdded"),
                ("PreWebhookUrl", "https://hooks.example/pre"),
            ],
        ),
        (
            format!("/v1/Services/{service_sid}/Configuration"),
            vec![("ReachabilityEnabled", "true")],
        ),
    ] {
        let (status, body) = app.post(&path, &main, &form).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let paths: Vec<String> = [
        format!("/2010-04-01/Accounts/{}.json", main.user),
        "/2010-04-01/Accounts.json".into(),
        format!("/2010-04-01/Accounts/{}/Keys.json", main.user),
        "/v2/Flows".into(),
        format!("/v2/Flows/{flow_sid}"),
        format!("/v2/Flows/{flow_sid}/Revisions"),
        format!("/v2/Flows/{flow_sid}/Revisions/1"),
        format!("/v2/Flows/{flow_sid}/TestUsers"),
        "/v1/Services".into(),
        format!("/v1/Services/{service_sid}/Roles"),
        format!("/v1/Services/{service_sid}/Users"),
        format!("/v1/Services/{service_sid}/Users/ann"),
        "/v1/Users".into(),
        "/v1/Roles".into(),
        "/v1/Configuration".into(),
        "/v1/Configuration/Webhooks".into(),
        format!("/v1/Services/{service_sid}/Configuration"),
        format!("/v1/Services/{service_sid}/Configuration/Webhooks"),
        "/v1/EndUsers".into(),
    ]
    .into();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let original = reads(&app, &main, &paths).await;
    let original_sub = reads(&app, &sub, &["/v1/Users", "/v1/Services"]).await;

    // Without --secrets: no token, no key hash in the file.
    let plain = app.dir.path().join("plain.json");
    assert_ok(&cli(
        &app.database(),
        &["export", "--output", plain.to_str().unwrap()],
    ));
    let plain_text = std::fs::read_to_string(&plain).unwrap();
    assert!(
        !plain_text.contains(&main.secret) && !plain_text.contains("argon2"),
        "secrets leaked"
    );
    assert!(!plain_text.contains("auth_token") && !plain_text.contains("secret_hash"));
    // Writing over an existing file is refused.
    assert_one_line_error(&cli(
        &app.database(),
        &["export", "--output", plain.to_str().unwrap()],
    ));

    let full = app.dir.path().join("full.json");
    assert_ok(&cli(
        &app.database(),
        &["export", "--secrets", "--output", full.to_str().unwrap()],
    ));
    let copy_dir = tempfile::tempdir().unwrap();
    let copy_db = crate::helpers::config(copy_dir.path()).database;
    assert_ok(&seed(&copy_db, &full));
    let copy = TestApp::spawn_in(copy_dir).await;
    assert_eq!(reads(&copy, &main, &paths).await, original);
    assert_eq!(
        reads(&copy, &sub, &["/v1/Users", "/v1/Services"]).await,
        original_sub
    );
    // The key's secret (carried as its hash) still authenticates.
    let key_creds = Creds::new(
        key["sid"].as_str().unwrap(),
        key["secret"].as_str().unwrap(),
    );
    assert_eq!(copy.get("/v1/Users", &key_creds).await.0, 200);
    // The copy exports to the same file.
    let again = copy.dir.path().join("again.json");
    assert_ok(&cli(
        &copy_db,
        &["export", "--secrets", "--output", again.to_str().unwrap()],
    ));
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        std::fs::read_to_string(&full).unwrap()
    );

    // One subaccount alone comes inside an entry naming only its parent.
    let one = app.dir.path().join("one.json");
    assert_ok(&cli(
        &app.database(),
        &[
            "export",
            "--account",
            &sub.user,
            "--output",
            one.to_str().unwrap(),
        ],
    ));
    let one: Value = serde_json::from_str(&std::fs::read_to_string(&one).unwrap()).unwrap();
    assert_eq!(one["accounts"][0]["sid"], main.user.as_str());
    assert!(one["accounts"][0].get("friendly_name").is_none(), "{one}");
    assert_eq!(
        one["accounts"][0]["subaccounts"][0]["sid"],
        sub.user.as_str()
    );
    assert!(one["accounts"][0]["subaccounts"][0].get("flows").is_none());
}

#[tokio::test]
async fn serve_seed_applies_the_file_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::binary::spawn(&dir.path().join("demo.db"), |c| {
        c.args(["serve", "--seed", demo_path().to_str().unwrap()])
            .env("LOCALTWILIO_LOG", "warn")
            .env_remove("LOCALTWILIO_ACCOUNT_SID")
            .env_remove("LOCALTWILIO_AUTH_TOKEN");
    })
    .ready()
    .await;
    let client = reqwest::Client::new();
    let url = format!(
        "{}/v2/Flows/FW00000000000000000000000000000de2",
        server.base
    );
    let response =
        crate::helpers::send(client.get(&url).basic_auth(DEMO_SID, Some(DEMO_TOKEN))).await;
    let flow = crate::helpers::into_json(response).await.1;
    assert_eq!(flow["friendly_name"], "Support triage (draft)");
    // The demo's two auth tokens and one key secret were hashed on the server's argon2 pool,
    // as every hash is (issue 15 review: seeding hashed outside it).
    let metrics = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|line| line == "localtwilio_argon2_hashes_total 3"),
        "{metrics}"
    );
    let output = server.kill_and_read_output();
    // The fixture's account counts: no extra main account was bootstrapped.
    assert!(!output.contains("Created the main account"), "{output}");
}

#[tokio::test]
async fn every_command_fails_in_one_actionable_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let missing = assert_one_line_error(&cli(&db, &["seed", "/nonexistent/fixture.json"]));
    assert!(
        missing.contains("cannot read fixture /nonexistent/fixture.json"),
        "{missing}"
    );
    // A malformed `--account` is a usage mistake, exit 2 (tests/api/cli.rs); an unknown one is this.
    let unknown = assert_one_line_error(&cli(
        &db,
        &["export", "--account", "AC0123456789abcdef0123456789abcdef"],
    ));
    assert!(unknown.contains("no account"), "{unknown}");
    std::fs::write(dir.path().join("taken.db"), "x").unwrap();
    let taken = assert_one_line_error(&cli(
        &db,
        &["backup", dir.path().join("taken.db").to_str().unwrap()],
    ));
    assert!(taken.contains("already exists"), "{taken}");
    let unopenable = assert_one_line_error(&cli(Path::new("/proc/no-such-dir/x.db"), &["export"]));
    assert!(
        unopenable.contains("cannot open the database"),
        "{unopenable}"
    );
    // Usage mistakes: exit code 2 and the usage text.
    let usage = cli(&db, &["seed"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        stderr(&usage).contains("<FILE|--generate>"),
        "{}",
        stderr(&usage)
    );
    let usage = cli(&db, &["export", "--bogus"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[tokio::test]
async fn a_new_service_naming_no_default_roles_gets_the_standard_four() {
    let mut app = TestApp::spawn().await;
    let with_sales = demo_text().replacen(
        "\"conversation_services\": [",
        "\"conversation_services\": [{\"sid\": \"IS00000000000000000000000000000de9\", \"friendly_name\": \"Sales\"},",
        1,
    );
    let file = app.dir.path().join("sales.json");
    std::fs::write(&file, with_sales).unwrap();
    assert_ok(&seed_restarting(&mut app, &file).await);
    let (status, roles) = app
        .get(
            "/v1/Services/IS00000000000000000000000000000de9/Roles",
            &demo(),
        )
        .await;
    assert_eq!(status, 200, "{roles}");
    let names: Vec<&str> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["friendly_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "service admin",
            "service user",
            "channel admin",
            "channel user"
        ]
    );
    assert!(
        roles["roles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["account_sid"] == DEMO_SID)
    );
    let (_, configuration) = app
        .get(
            "/v1/Services/IS00000000000000000000000000000de9/Configuration",
            &demo(),
        )
        .await;
    assert_eq!(
        configuration["default_chat_service_role_sid"],
        roles["roles"][1]["sid"]
    );
    // Applying it again adds no second set of roles.
    assert_ok(&seed_restarting(&mut app, &file).await);
    let (_, again) = app
        .get(
            "/v1/Services/IS00000000000000000000000000000de9/Roles",
            &demo(),
        )
        .await;
    assert_eq!(again, roles);
}

#[tokio::test]
async fn conversations_participants_messages_and_scoped_webhooks_export_and_seed_back_the_same() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let (status, c) = app
        .post(
            "/v1/Conversations",
            &main,
            &[
                ("FriendlyName", "Kept"),
                ("UniqueName", "kept"),
                ("Attributes", "{\"n\": 1.50}"),
                ("State", "active"),
                ("Timers.Inactive", "PT5M"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let ch = c["sid"].as_str().unwrap().to_owned();
    let participants = format!("/v1/Conversations/{ch}/Participants");
    app.post(&participants, &main, &[("Identity", "kay")]).await;
    app.post(
        &participants,
        &main,
        &[
            ("MessagingBinding.Address", "+15558675310"),
            ("MessagingBinding.ProxyAddress", "+15017122661"),
        ],
    )
    .await;
    app.post(
        &format!("{participants}/kay"),
        &main,
        &[("LastReadMessageIndex", "0")],
    )
    .await;
    let messages = format!("/v1/Conversations/{ch}/Messages");
    for form in [
        vec![("Body", "one"), ("Author", "kay")],
        vec![("MediaSid", "ME0123456789abcdef0123456789abcdef")],
        vec![("Body", "three")],
    ] {
        let (status, body) = app.post(&messages, &main, &form).await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, second) = app.get(&format!("{messages}?PageSize=3"), &main).await;
    let deleted = second["messages"][1]["sid"].as_str().unwrap().to_owned();
    app.delete(&format!("{messages}/{deleted}"), &main).await;
    let (status, hook) = app
        .post(
            &format!("/v1/Conversations/{ch}/Webhooks"),
            &main,
            &[
                ("Target", "trigger"),
                ("Configuration.Url", "https://example.com/t"),
                ("Configuration.Triggers", "help"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let paths = [
        "/v1/Conversations".to_owned(),
        format!("/v1/Conversations/{ch}"),
        participants.clone(),
        messages.clone(),
        format!("/v1/Conversations/{ch}/Webhooks"),
        "/v1/Users/kay/Conversations".to_owned(),
        "/v1/Users".to_owned(),
    ];
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    // The SMS a message was sent as (2010 Messages) and its receipts are runtime data, which
    // an export does not carry: `delivery` is compared without them.
    let without_delivery = |mut answers: Vec<Value>| {
        for answer in &mut answers {
            if let Some(list) = answer.get_mut("messages").and_then(Value::as_array_mut) {
                for message in list {
                    message["delivery"] = Value::Null;
                }
            }
        }
        answers
    };
    let original = without_delivery(reads(&app, &main, &paths).await);

    let full = app.dir.path().join("conversations.json");
    assert_ok(&cli(
        &app.database(),
        &["export", "--output", full.to_str().unwrap()],
    ));
    let text = std::fs::read_to_string(&full).unwrap();
    assert!(
        text.contains("\"participants\"") && text.contains("\"messages\""),
        "{text}"
    );
    let copy_dir = tempfile::tempdir().unwrap();
    let copy_db = crate::helpers::config(copy_dir.path()).database;
    // The export has no credentials: the copy's account gets a new token, printed once.
    let seeded = seed(&copy_db, &full);
    assert_ok(&seeded);
    let prefix = format!("{}: generated secret ", main.user);
    let token = String::from_utf8_lossy(&seeded.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned));
    let mut copy = TestApp::spawn_in(copy_dir).await;
    let creds = match token {
        Some(t) => Creds::new(&main.user, t.trim()),
        None => main.clone(),
    };
    assert_eq!(
        without_delivery(reads(&copy, &creds, &paths).await),
        original
    );
    copy.stop().await;
    // A second apply changes nothing.
    let again = seed(&copy_db, &full);
    assert_ok(&again);
    assert!(
        stderr(&again).contains("0 created, 0 updated"),
        "{}",
        stderr(&again)
    );
    copy.restart().await;
    // The index counter came along: the next message is 3, not a reused 1.
    let (status, next) = copy.post(&messages, &creds, &[("Body", "four")]).await;
    assert_eq!(status, 201, "{next}");
    assert_eq!(next["index"], 3);
    drop(copy);

    // A refused participant (a service role) stops the file.
    let bad = app.dir.path().join("bad.json");
    let service_role = {
        let (_, sc) = app.get("/v1/Configuration", &main).await;
        let is = sc["default_chat_service_sid"].as_str().unwrap().to_owned();
        let (_, config) = app
            .get(&format!("/v1/Services/{is}/Configuration"), &main)
            .await;
        config["default_chat_service_role_sid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The first participant's role becomes a service role.
    let at = text.find("\"participants\"").unwrap();
    let role_at = at + text[at..].find("\"role_sid\": \"").unwrap() + "\"role_sid\": \"".len();
    let edited = format!(
        "{}{service_role}{}",
        &text[..role_at],
        &text[role_at + service_role.len()..]
    );
    assert_ne!(edited, text, "the participant entry was found");
    std::fs::write(&bad, edited).unwrap();
    let copy_dir = tempfile::tempdir().unwrap();
    let refused = seed(&crate::helpers::config(copy_dir.path()).database, &bad);
    let line = assert_one_line_error(&refused);
    assert!(line.contains("conversation role"), "{line}");
}
