//! Crash safety: the real binary under concurrent writes across products is killed with
//! SIGKILL at varying moments, 20 times. After each kill: `PRAGMA integrity_check` is ok, each
//! write of that cycle that was answered 2xx is in the file and reads back intact through the
//! restarted server, each write answered with an error is looked for and is absent, and the
//! flow's TestUsers are exactly one whole list: the last acknowledged one, or the one whose
//! answer the kill cut off. A final pass lists everything through the API and checks every
//! cycle's writes at once.

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};

use crate::helpers::{MAIN_SID, MAIN_TOKEN, checked_body, try_send};

const CYCLES: usize = 20;

struct Binary {
    child: Child,
    base: String,
}

/// A failing assertion must not leave the server running (it holds the test's stderr).
impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(db: &std::path::Path) -> Binary {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_localtwilio"))
        .env("LOCALTWILIO_DATABASE", db)
        .env("LOCALTWILIO_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOCALTWILIO_ACCOUNT_SID", MAIN_SID)
        .env("LOCALTWILIO_AUTH_TOKEN", MAIN_TOKEN)
        .env("LOCALTWILIO_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Binary { child, base };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut child = child;
    let _ = child.kill();
    let _ = child.wait();
    panic!("localtwilio did not start");
}

/// What a write created, by the name the test gave it.
#[derive(Clone, Debug)]
enum Written {
    /// A Conversations user: its identity and the attributes sent.
    User { identity: String, attributes: Value },
    /// A TrustHub end user: its friendly name, and its SID when the answer gave one.
    EndUser { name: String, sid: Option<String> },
}

impl Written {
    fn tag(&self) -> &str {
        match self {
            Written::User { identity, .. } => identity,
            Written::EndUser { name, .. } => name,
        }
    }
}

#[derive(Default)]
struct Ledger {
    /// Writes answered 2xx, this cycle: each must be there, intact.
    acked: Vec<Written>,
    /// Writes answered with an error, this cycle: each must be absent.
    refused: Vec<Written>,
    /// Every cycle's acknowledged and refused writes, for the final pass.
    all_acked: Vec<Written>,
    all_refused: Vec<Written>,
    /// The TestUsers list the file must hold unless the one cut off replaced it: the last one
    /// answered 200, or what the previous cycle found stored (empty at first).
    test_users_stored: Vec<String>,
    /// The valid list sent after it whose answer the kill cut off, if any.
    test_users_unanswered: Option<Vec<String>>,
    /// How many TestUsers replacements were acknowledged and refused in all.
    test_users_counts: (usize, usize),
}

impl Ledger {
    fn end_cycle(&mut self) {
        self.all_acked.append(&mut self.acked);
        self.all_refused.append(&mut self.refused);
    }
}

/// One POST as the main account; `None` when the server died before answering in full.
async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    form: &[(&str, String)],
) -> Option<(u16, Value)> {
    let request = client
        .post(format!("{base}{path}"))
        .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
        .form(form);
    let response = try_send(request).await.ok()?;
    let status = response.status();
    let text = response.text().await.ok()?;
    Some((status.as_u16(), checked_body("POST", path, status, &text)))
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> (u16, Value) {
    let request = client
        .get(format!("{base}{path}"))
        .basic_auth(MAIN_SID, Some(MAIN_TOKEN));
    let (status, body) = crate::helpers::into_json(try_send(request).await.unwrap()).await;
    (status.as_u16(), body)
}

/// One worker's writes until the server is gone: valid users and end users, and both refused
/// on purpose (invalid JSON attributes; an end-user type that does not exist).
async fn write_until_killed(
    client: reqwest::Client,
    base: String,
    ledger: Arc<Mutex<Ledger>>,
    prefix: String,
) {
    for i in 0.. {
        let tag = format!("{prefix}-{i}");
        let (written, outcome) = match i % 5 {
            0 | 1 => {
                let attributes = json!({"i": i, "tag": tag});
                let form = [
                    ("Identity", tag.clone()),
                    ("Attributes", attributes.to_string()),
                ];
                let outcome = post(&client, &base, "/v1/Users", &form).await;
                let written = Written::User {
                    identity: tag,
                    attributes,
                };
                (written, outcome)
            }
            2 => {
                let form = [("FriendlyName", tag.clone()), ("Type", "individual".into())];
                let outcome = post(&client, &base, "/v1/EndUsers", &form).await;
                let sid = outcome
                    .as_ref()
                    .and_then(|(_, body)| body["sid"].as_str().map(str::to_owned));
                (Written::EndUser { name: tag, sid }, outcome)
            }
            3 => {
                let identity = format!("bad-{tag}");
                let form = [
                    ("Identity", identity.clone()),
                    ("Attributes", "{nope".into()),
                ];
                let outcome = post(&client, &base, "/v1/Users", &form).await;
                let written = Written::User {
                    identity,
                    attributes: Value::Null,
                };
                (written, outcome)
            }
            _ => {
                let name = format!("bad-{tag}");
                let form = [
                    ("FriendlyName", name.clone()),
                    ("Type", "no_such_type".into()),
                ];
                let outcome = post(&client, &base, "/v1/EndUsers", &form).await;
                (Written::EndUser { name, sid: None }, outcome)
            }
        };
        let Some((status, _)) = outcome else { break }; // the server is gone
        let mut ledger = ledger.lock().unwrap();
        if (200..300).contains(&status) {
            ledger.acked.push(written);
        } else {
            ledger.refused.push(written);
        }
    }
}

/// TestUsers replacements one after another until the server is gone; every third is refused
/// (an entry over Twilio's 300 bytes).
async fn replace_test_users_until_killed(
    client: reqwest::Client,
    base: String,
    ledger: Arc<Mutex<Ledger>>,
    path: String,
    cycle: usize,
) {
    for i in 0.. {
        let refused_on_purpose = i % 3 == 2;
        let mut list: Vec<String> = (0..5).map(|j| format!("c{cycle}-{i}-{j}")).collect();
        if refused_on_purpose {
            list[4] = "x".repeat(301);
        }
        let form: Vec<(&str, String)> = list.iter().map(|u| ("TestUsers", u.clone())).collect();
        let outcome = post(&client, &base, &path, &form).await;
        let mut ledger = ledger.lock().unwrap();
        match outcome {
            Some((200, _)) => {
                assert!(!refused_on_purpose, "a 301-byte test user was accepted");
                ledger.test_users_stored = list;
                ledger.test_users_counts.0 += 1;
            }
            Some(_) => ledger.test_users_counts.1 += 1,
            None => {
                if !refused_on_purpose {
                    ledger.test_users_unanswered = Some(list);
                }
                break;
            }
        }
    }
}

/// How many rows of `table` have `column = value`, read from the file itself.
async fn rows_named(
    conn: &mut sqlx::SqliteConnection,
    table: &str,
    column: &str,
    value: &str,
) -> i64 {
    let sql = format!("select count(*) from {table} where {column} = $1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_one(conn)
        .await
        .unwrap()
}

/// The file's count of rows named like `written`.
async fn rows_of(conn: &mut sqlx::SqliteConnection, written: &Written) -> i64 {
    match written {
        Written::User { identity, .. } => {
            rows_named(conn, "conversation_users", "identity", identity).await
        }
        Written::EndUser { name, .. } => rows_named(conn, "end_users", "friendly_name", name).await,
    }
}

/// Reads an acknowledged write back through the server and checks it is intact.
async fn assert_reads_back(client: &reqwest::Client, base: &str, written: &Written, cycle: usize) {
    match written {
        Written::User {
            identity,
            attributes,
        } => {
            let (status, body) = get(client, base, &format!("/v1/Users/{identity}")).await;
            assert_eq!(
                status, 200,
                "cycle {cycle}: acknowledged user {identity} is missing"
            );
            assert_user_intact(&body, identity, attributes);
        }
        Written::EndUser { name, sid } => {
            let sid = sid.as_deref().expect("a 201 end user has a SID");
            let (status, body) = get(client, base, &format!("/v1/EndUsers/{sid}")).await;
            assert_eq!(
                status, 200,
                "cycle {cycle}: acknowledged end user {sid} is missing"
            );
            assert_eq!(body["friendly_name"], name.as_str(), "{body}");
            assert_eq!(body["type"], "individual", "{body}");
        }
    }
}

fn assert_user_intact(body: &Value, identity: &str, attributes: &Value) {
    assert_eq!(body["identity"], identity, "{body}");
    let stored: Value = serde_json::from_str(body["attributes"].as_str().unwrap()).unwrap();
    assert_eq!(&stored, attributes, "{identity}: attributes changed");
}

/// Every item of a v1 list, following `next_page_url`.
async fn list_all(client: &reqwest::Client, base: &str, path: &str, key: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(format!("{path}?PageSize=1000"));
    while let Some(page_path) = next {
        let (status, page) = get(client, base, &page_path).await;
        assert_eq!(status, 200, "{page}");
        items.extend(page[key].as_array().unwrap().iter().cloned());
        next = page["meta"]["next_page_url"]
            .as_str()
            .map(|url| url.strip_prefix(base).unwrap_or(url).to_owned());
    }
    items
}

#[tokio::test]
async fn every_acknowledged_write_survives_sigkill_and_the_file_stays_intact() {
    localtwilio::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let file_url = format!("sqlite://{}", db.display());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    let mut server = start(&db).await;
    let definition = r#"{"initial_state":"Trigger","states":[{"name":"Trigger","type":"trigger","properties":{},"transitions":[]}]}"#;
    let (_, flow) = post(
        &client,
        &server.base,
        "/v2/Flows",
        &[
            ("FriendlyName", "crash".into()),
            ("Status", "published".into()),
            ("Definition", definition.into()),
        ],
    )
    .await
    .unwrap();
    let test_users_path = format!("/v2/Flows/{}/TestUsers", flow["sid"].as_str().unwrap());

    for cycle in 0..CYCLES {
        let mut writers = Vec::new();
        for worker in 0..6 {
            writers.push(tokio::spawn(write_until_killed(
                client.clone(),
                server.base.clone(),
                Arc::clone(&ledger),
                format!("c{cycle}-w{worker}"),
            )));
        }
        let test_users = tokio::spawn(replace_test_users_until_killed(
            client.clone(),
            server.base.clone(),
            Arc::clone(&ledger),
            test_users_path.clone(),
            cycle,
        ));
        // Kill at a different moment each cycle (60–400 ms into the load).
        tokio::time::sleep(Duration::from_millis(60 + (cycle as u64 * 37) % 340)).await;
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        test_users.await.unwrap();

        // A snapshot, so no lock is held across the awaits below.
        let (acked, refused, test_users_stored, test_users_unanswered) = {
            let mut ledger = ledger.lock().unwrap();
            (
                ledger.acked.clone(),
                ledger.refused.clone(),
                ledger.test_users_stored.clone(),
                ledger.test_users_unanswered.take(),
            )
        };

        // The file as the kill left it, before any server touches it again.
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&file_url)
            .await
            .unwrap();
        let check: String = sqlx::query_scalar("pragma integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(check, "ok", "cycle {cycle}");
        for written in &acked {
            assert_eq!(
                rows_of(&mut conn, written).await,
                1,
                "cycle {cycle}: acknowledged {written:?} is not in the file once"
            );
        }
        for written in &refused {
            assert_eq!(
                rows_of(&mut conn, written).await,
                0,
                "cycle {cycle}: refused {written:?} is in the file"
            );
        }
        drop(conn);

        server = start(&db).await;
        for written in &acked {
            assert_reads_back(&client, &server.base, written, cycle).await;
        }
        for written in &refused {
            if let Written::User { identity, .. } = written {
                let (status, body) =
                    get(&client, &server.base, &format!("/v1/Users/{identity}")).await;
                assert_eq!(
                    status, 404,
                    "cycle {cycle}: refused user {identity}: {body}"
                );
            }
        }
        let (status, body) = get(&client, &server.base, &test_users_path).await;
        assert_eq!(status, 200, "{body}");
        let stored: Vec<String> = serde_json::from_value(body["test_users"].clone()).unwrap();
        let allowed: Vec<Vec<String>> = std::iter::once(test_users_stored)
            .chain(test_users_unanswered)
            .collect();
        assert!(
            allowed.contains(&stored),
            "cycle {cycle}: TestUsers {stored:?} is neither the last acknowledged list nor the \
             one cut off: {allowed:?}"
        );
        let mut ledger_now = ledger.lock().unwrap();
        ledger_now.test_users_stored = stored;
        ledger_now.end_cycle();
    }

    // The final pass: everything the API lists, against every cycle's ledger.
    let users: HashMap<String, Value> = list_all(&client, &server.base, "/v1/Users", "users")
        .await
        .into_iter()
        .map(|u| (u["identity"].as_str().unwrap().to_owned(), u))
        .collect();
    let end_users: HashMap<String, Value> =
        list_all(&client, &server.base, "/v1/EndUsers", "results")
            .await
            .into_iter()
            .map(|u| (u["friendly_name"].as_str().unwrap().to_owned(), u))
            .collect();
    let ledger = ledger.lock().unwrap();
    for written in &ledger.all_acked {
        match written {
            Written::User {
                identity,
                attributes,
            } => {
                let user = users.get(identity.as_str());
                assert_user_intact(
                    user.expect("acknowledged user listed"),
                    identity,
                    attributes,
                );
            }
            Written::EndUser { name, sid } => {
                let end_user = end_users
                    .get(name.as_str())
                    .expect("acknowledged end user listed");
                assert_eq!(end_user["sid"].as_str(), sid.as_deref(), "{end_user}");
            }
        }
    }
    for written in &ledger.all_refused {
        let listed = match written {
            Written::User { .. } => users.contains_key(written.tag()),
            Written::EndUser { .. } => end_users.contains_key(written.tag()),
        };
        assert!(!listed, "refused {written:?} is listed");
    }

    // The load did what it is meant to: each kind of write both acknowledged and refused.
    let count = |list: &[Written], user: bool| {
        list.iter()
            .filter(|w| matches!(w, Written::User { .. }) == user)
            .count()
    };
    let (users_acked, end_users_acked) = (
        count(&ledger.all_acked, true),
        count(&ledger.all_acked, false),
    );
    let (users_refused, end_users_refused) = (
        count(&ledger.all_refused, true),
        count(&ledger.all_refused, false),
    );
    println!(
        "acknowledged: {users_acked} users, {end_users_acked} end users, {} TestUsers lists; \
         refused: {users_refused} users, {end_users_refused} end users, {} TestUsers lists",
        ledger.test_users_counts.0, ledger.test_users_counts.1
    );
    assert!(
        users_acked + end_users_acked > 100,
        "the load wrote too little to prove anything"
    );
    for n in [
        end_users_acked,
        users_refused,
        end_users_refused,
        ledger.test_users_counts.0,
        ledger.test_users_counts.1,
    ] {
        assert!(n > 0, "a kind of write never happened: {n}");
    }
    drop(server);
}
