//! No secret reaches a log: the real binary runs at the most verbose log level through a session
//! that creates and uses tokens, key secrets and Authorization headers (right and wrong), and
//! its whole output is searched for them. The sealing key file is private to its owner.

use base64::Engine;
use serde_json::Value;

use crate::helpers::{MAIN_SID, MAIN_TOKEN, TestApp, into_json, send, skip_on_postgres};

#[tokio::test]
async fn no_token_secret_or_authorization_header_appears_in_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::binary::spawn(&dir.path().join("s.db"), |c| {
        c.env("LOCALTWILIO_LOG", "trace");
    })
    .ready()
    .await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let post = |path: &str, user: &str, secret: &str, form: Vec<(&'static str, String)>| {
        let request = client
            .post(format!("{base}{path}"))
            .basic_auth(user, Some(secret))
            .form(&form);
        async { into_json(send(request).await).await.1 }
    };
    let sub: Value = post(
        "/2010-04-01/Accounts.json",
        MAIN_SID,
        MAIN_TOKEN,
        vec![("FriendlyName", "logs".into())],
    )
    .await;
    let sub_token = sub["auth_token"].as_str().unwrap().to_owned();
    let key: Value = post(
        &format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json"),
        MAIN_SID,
        MAIN_TOKEN,
        vec![],
    )
    .await;
    let (key_sid, key_secret) = (
        key["sid"].as_str().unwrap().to_owned(),
        key["secret"].as_str().unwrap().to_owned(),
    );
    let wrong = "feedfacefeedfacefeedfacefeedface";
    for (user, secret) in [
        (MAIN_SID, MAIN_TOKEN),
        (key_sid.as_str(), key_secret.as_str()),
        (sub["sid"].as_str().unwrap(), sub_token.as_str()),
        (MAIN_SID, wrong),
    ] {
        post(
            "/v1/Users",
            user,
            secret,
            vec![("Identity", format!("id-{}", &secret[..6]))],
        )
        .await;
        let list = client
            .get(format!("{base}/2010-04-01/Accounts.json"))
            .basic_auth(user, Some(secret));
        into_json(send(list).await).await;
    }
    // stdout and stderr both: the binary's whole output.
    let logs = server.kill_and_read_output();
    assert!(
        logs.len() > 1000,
        "the run logged too little to prove anything: {} bytes",
        logs.len()
    );
    let basic =
        |u: &str, s: &str| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{s}"));
    for secret in [
        MAIN_TOKEN.to_owned(),
        sub_token.clone(),
        key_secret.clone(),
        wrong.to_owned(),
        basic(MAIN_SID, MAIN_TOKEN),
        basic(&key_sid, &key_secret),
        basic(MAIN_SID, wrong),
    ] {
        assert!(
            !logs.contains(&secret),
            "a secret reached the log: {secret}"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_sealing_key_file_is_created_with_mode_0600() {
    if skip_on_postgres() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let mode = std::fs::metadata(app.dir.path().join("db").join("secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
