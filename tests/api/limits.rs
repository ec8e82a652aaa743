//! Connection-level limits: slow or stalled clients are cut off, and connections beyond the cap
//! wait instead of piling up.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{MAIN_SID, MAIN_TOKEN, TestApp};

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = TestApp::spawn_tuned(|c| c.header_read_timeout_secs = 1).await;
    let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap(); // no final CRLF
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the stalled connection was still open after 10 s"
    );
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
}

#[tokio::test]
async fn a_client_that_never_finishes_its_body_gets_408() {
    let app = TestApp::spawn_tuned(|c| c.body_read_timeout_secs = 1).await;
    let before = app.count("accounts").await;
    let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
    let auth = base64_basic();
    let head = format!(
        "POST /2010-04-01/Accounts.json HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nFriendlyName=sl"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("no answer")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":20001"), "{text}");
    assert_eq!(app.count("accounts").await, before);
}

fn base64_basic() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{MAIN_SID}:{MAIN_TOKEN}"))
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let app = TestApp::spawn_tuned(|c| c.max_connections = 2).await;
    // Two connections hold both places (connected, idle).
    let first = TcpStream::connect(addr(&app)).await.unwrap();
    let second = TcpStream::connect(addr(&app)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let waiting = client.get(format!("{}/healthz", app.base)).send().await;
    assert!(
        waiting.is_err(),
        "a third connection was served beyond the cap"
    );
    drop(first);
    drop(second);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let served = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
}
