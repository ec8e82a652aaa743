//! The network edge through raw TCP: an oversized declared body is refused before it is read or
//! invited, hyper's own parse-error answers are Twilio-shaped, and one client address cannot
//! hold every connection.

use std::time::Duration;

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{MAIN_SID, MAIN_TOKEN, TestApp, assert_twilio_error};

/// Watched for an answer that should come at once; the old behaviour answered only after the
/// body timeout or never.
const ANSWER: Duration = Duration::from_secs(10);

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

fn basic() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{MAIN_SID}:{MAIN_TOKEN}"))
}

/// Reads until the server closes the connection (or `ANSWER` passes) and splits the first
/// response into its status, head and JSON body.
async fn read_answer(stream: &mut TcpStream) -> (u16, String, Value) {
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(ANSWER, stream.read_to_end(&mut bytes)).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete answer: {text:?}"));
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let json =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("the body is not JSON: {text:?}"));
    (status, head.to_owned(), json)
}

fn assert_twilio(status: u16, body: &Value, want_status: u16, want_code: u64) {
    assert_twilio_error(
        reqwest::StatusCode::from_u16(status).unwrap(),
        body,
        want_status,
        want_code,
    );
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_with_413_before_it_is_sent() {
    // A short body timeout: refusing only after waiting for the body would answer 408.
    let app = TestApp::spawn_tuned(|c| c.body_read_timeout_secs = 2).await;
    let before = app.count("accounts").await;
    for expect in ["", "Expect: 100-continue\r\n"] {
        let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
        let head = format!(
            "POST /2010-04-01/Accounts.json HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1073741824\r\n\
             {expect}\r\n",
            basic()
        );
        stream.write_all(head.as_bytes()).await.unwrap(); // and never a byte of body
        let (status, head, body) = read_answer(&mut stream).await;
        assert!(
            !head.contains("100 Continue"),
            "the body was invited: {head}"
        );
        assert_twilio(status, &body, 413, 20001);
    }
    assert_eq!(app.count("accounts").await, before);
    // A body within the limit still goes through on the same server.
    let (status, _) = app
        .post(
            "/2010-04-01/Accounts.json",
            &app.main(),
            &[("FriendlyName", "fits")],
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn requests_hyper_cannot_parse_get_twilio_errors() {
    let app = TestApp::spawn().await;
    let long_uri = format!("GET /v1/{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let big_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(500_000)
    );
    let many_headers = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..150)
            .map(|i| format!("X-{i}: a\r\n"))
            .collect::<String>()
    );
    // After a served request on the same connection, too: the answer follows the first one.
    let after_one = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    let cases: [(&str, &str, u16); 5] = [
        ("URI too long", &long_uri, 414),
        ("one huge header", &big_header, 431),
        ("150 headers", &many_headers, 431),
        ("not HTTP", "GARBAGE\r\n\r\n", 400),
        ("after a served request", &after_one, 414),
    ];
    for (name, request, want) in cases {
        let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
        let _ = stream.write_all(request.as_bytes()).await;
        let mut bytes = Vec::new();
        let _ = tokio::time::timeout(ANSWER, stream.read_to_end(&mut bytes)).await;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let last = text
            .rfind("HTTP/1.1 ")
            .unwrap_or_else(|| panic!("{name}: no answer"));
        let (head, body) = text[last..].split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with(&format!("HTTP/1.1 {want} ")),
            "{name}: {head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{name}: {head}"
        );
        let body: Value = serde_json::from_str(body)
            .unwrap_or_else(|_| panic!("{name}: the body is not JSON: {text:?}"));
        assert_twilio(want, &body, want, 20001);
    }
}

/// A connection from `local` (a loopback address of its own) that sends one request.
fn client_from(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(local.parse::<std::net::IpAddr>().unwrap())
        .timeout(ANSWER)
        .build()
        .unwrap()
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    let app = TestApp::spawn_tuned(|c| {
        c.max_connections = 8;
        c.max_connections_per_address = 4;
        // Long enough that idle connections keep their places for the whole test.
        c.header_read_timeout_secs = 60;
    })
    .await;
    // One address opens as many idle connections as the server serves in all.
    let mut held = Vec::new();
    for _ in 0..8 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        held.push(socket.connect(addr(&app).parse().unwrap()).await.unwrap());
    }
    // Those past its cap are answered 429 20429 and closed.
    let mut refused = 0;
    for stream in &mut held[4..] {
        let (status, head, body) = read_answer(stream).await;
        assert_twilio(status, &body, 429, 20429);
        assert!(head.contains("retry-after: 1"), "{head}");
        refused += 1;
    }
    assert_eq!(refused, 4);
    // Another address is served meanwhile.
    let response = client_from("127.0.0.2")
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("another address was kept waiting");
    assert_eq!(response.status(), 200);
    // The capped address gets its places back as its connections close.
    drop(held);
    let response = client_from("127.0.0.1")
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
