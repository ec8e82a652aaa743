//! Crash safety: the real binary under concurrent writes across products is killed with
//! SIGKILL at varying moments, 20 times. After each kill: `PRAGMA integrity_check` is ok, every
//! write that was answered 2xx is there, and no write that was answered with an error is.

use std::{
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;

use crate::helpers::{MAIN_SID, MAIN_TOKEN};

const CYCLES: usize = 20;

struct Binary {
    child: Child,
    base: String,
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

#[derive(Default)]
struct Ledger {
    /// (path to fetch, expected field, expected value) of acknowledged writes.
    acked: Vec<(String, String)>,
    /// Paths of writes answered with an error: must not exist.
    refused: Vec<String>,
    /// The last acknowledged TestUsers list per flow.
    test_users: Vec<(String, Vec<String>)>,
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    form: &[(&str, String)],
) -> Option<(u16, Value)> {
    let response = client
        .post(format!("{base}{path}"))
        .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
        .form(form)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.ok()?;
    Some((status, body))
}

#[tokio::test]
async fn every_acknowledged_write_survives_sigkill_and_the_file_stays_intact() {
    localtwilio::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
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
    let flow = flow["sid"].as_str().unwrap().to_owned();

    for cycle in 0..CYCLES {
        let mut writers = Vec::new();
        for worker in 0..6 {
            let (client, base, ledger) = (client.clone(), server.base.clone(), Arc::clone(&ledger));
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let tag = format!("c{cycle}-w{worker}-{i}");
                    let outcome = match i % 4 {
                        0 | 1 => {
                            let form = [
                                ("Identity", tag.clone()),
                                ("Attributes", format!("{{\"i\":{i}}}")),
                            ];
                            post(&client, &base, "/v1/Users", &form)
                                .await
                                .map(|(s, _)| (s, format!("/v1/Users/{tag}")))
                        }
                        2 => post(
                            &client,
                            &base,
                            "/v1/EndUsers",
                            &[("FriendlyName", tag.clone()), ("Type", "individual".into())],
                        )
                        .await
                        .map(|(s, body)| {
                            (
                                s,
                                format!(
                                    "/v1/EndUsers/{}",
                                    body["sid"].as_str().unwrap_or("ITmissing")
                                ),
                            )
                        }),
                        _ => {
                            // Refused on purpose: invalid JSON attributes. Must never be stored.
                            let form = [
                                ("Identity", format!("bad-{tag}")),
                                ("Attributes", "{nope".into()),
                            ];
                            post(&client, &base, "/v1/Users", &form)
                                .await
                                .map(|(s, _)| (s, format!("/v1/Users/bad-{tag}")))
                        }
                    };
                    let Some((status, path)) = outcome else { break }; // the server is gone
                    let mut ledger = ledger.lock().unwrap();
                    if (200..300).contains(&status) {
                        ledger.acked.push((path, tag));
                    } else {
                        ledger.refused.push(path);
                    }
                }
            }));
        }
        // TestUsers replacements alongside.
        let tu = {
            let (client, base, ledger, flow) = (
                client.clone(),
                server.base.clone(),
                Arc::clone(&ledger),
                flow.clone(),
            );
            tokio::spawn(async move {
                for i in 0.. {
                    let list: Vec<String> = (0..5).map(|j| format!("c{cycle}-{i}-{j}")).collect();
                    let form: Vec<(&str, String)> =
                        list.iter().map(|u| ("TestUsers", u.clone())).collect();
                    match post(
                        &client,
                        &base,
                        &format!("/v2/Flows/{flow}/TestUsers"),
                        &form,
                    )
                    .await
                    {
                        Some((200, _)) => {
                            ledger.lock().unwrap().test_users.push((flow.clone(), list))
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            })
        };
        // Kill at a different moment each cycle (60–400 ms into the load).
        tokio::time::sleep(Duration::from_millis(60 + (cycle as u64 * 37) % 340)).await;
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        for w in writers {
            w.await.unwrap();
        }
        tu.await.unwrap();

        let url = format!("sqlite://{}", db.display());
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        let check: String = sqlx::query_scalar("pragma integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(check, "ok", "cycle {cycle}");
        drop(conn);

        server = start(&db).await;
        // A snapshot, so no lock is held across the awaits below.
        let (acked, refused, last_test_users) = {
            let ledger = ledger.lock().unwrap();
            (
                ledger.acked.clone(),
                ledger.refused.clone(),
                ledger.test_users.last().cloned(),
            )
        };
        for (path, tag) in &acked {
            let response = client
                .get(format!("{}{path}", server.base))
                .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                200,
                "cycle {cycle}: acknowledged write {path} is missing"
            );
            let body: Value = response.json().await.unwrap();
            let name = body
                .get("identity")
                .or(body.get("friendly_name"))
                .and_then(Value::as_str);
            assert_eq!(name, Some(tag.as_str()));
        }
        for path in &refused {
            let status = client
                .get(format!("{}{path}", server.base))
                .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 404, "cycle {cycle}: refused write {path} exists");
        }
        if let Some((flow, list)) = &last_test_users {
            let body: Value = client
                .get(format!("{}/v2/Flows/{flow}/TestUsers", server.base))
                .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let stored: Vec<String> = serde_json::from_value(body["test_users"].clone()).unwrap();
            // The last acknowledged list, or a later one whose answer the kill cut off.
            assert!(
                &stored == list || stored.iter().all(|u| u.starts_with(&format!("c{cycle}-"))),
                "cycle {cycle}: {stored:?}"
            );
            assert_eq!(stored.len(), 5, "a complete list, never a mix");
        }
    }
    let ledger = ledger.lock().unwrap();
    assert!(
        ledger.acked.len() > 100,
        "the load wrote too little to prove anything: {}",
        ledger.acked.len()
    );
    assert!(!ledger.refused.is_empty());
    server.child.kill().unwrap();
    let _ = server.child.wait();
}
