//! A real HTTP receiver for webhook tests: records every request; can answer with a chosen
//! status or hold requests until released.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
};
use base64::Engine;
use sha1::{Digest, Sha1};
use tokio::sync::{Notify, oneshot};

#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: String,
    /// When it arrived (to order it against other events; never to measure).
    pub at: std::time::Instant,
}

impl Received {
    /// Form parameters from the body (POST) or the query string (GET), in order.
    pub fn params(&self) -> Vec<(String, String)> {
        let raw = if self.method == Method::GET {
            self.uri.query().unwrap_or("").to_owned()
        } else {
            self.body.clone()
        };
        serde_html_form::from_str::<Vec<(String, String)>>(&raw).unwrap()
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn signature(&self) -> String {
        self.headers["x-twilio-signature"]
            .to_str()
            .unwrap()
            .to_owned()
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    arrived: Notify,
    hold: Mutex<bool>,
    release: Notify,
    status: Mutex<u16>,
    /// (how many more requests, the status they get) before `status` applies again.
    first: Mutex<(usize, u16)>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    shared.received.lock().unwrap().push(Received {
        method,
        uri,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: std::time::Instant::now(),
    });
    shared.arrived.notify_waiters();
    loop {
        let released = shared.release.notified();
        if !*shared.hold.lock().unwrap() {
            break;
        }
        released.await;
    }
    let mut first = shared.first.lock().unwrap();
    let status = if first.0 > 0 {
        first.0 -= 1;
        first.1
    } else {
        *shared.status.lock().unwrap()
    };
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    /// Listens on `addr` (127.0.0.1:0 for any port).
    pub async fn start(addr: &str) -> Self {
        let shared = Arc::new(Shared {
            status: Mutex::new(200),
            ..Default::default()
        });
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .fallback(record)
            .with_state(Arc::clone(&shared));
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Receiver {
            addr,
            shared,
            stop: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn answer_with(&self, status: u16) {
        *self.shared.status.lock().unwrap() = status;
    }

    /// The next `n` requests get `status`, later ones the usual answer.
    pub fn answer_first_with(&self, n: usize, status: u16) {
        *self.shared.first.lock().unwrap() = (n, status);
    }

    /// Requests wait until `release`.
    pub fn hold(&self) {
        *self.shared.hold.lock().unwrap() = true;
    }

    pub fn release(&self) {
        *self.shared.hold.lock().unwrap() = false;
        self.shared.release.notify_waiters();
    }

    /// Waits until at least `n` requests arrived (panics after `limit`).
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let arrived = self.shared.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "expected {n} webhook requests, got {}: {got:?}",
                    self.received().len()
                );
            }
        }
    }

    pub async fn stop(mut self) {
        self.release();
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A webhook target that accepts connections, reads what is sent and never answers, recording
/// when each connection brought its first bytes and when the server gave up on it.
pub struct BlackHole {
    pub addr: SocketAddr,
    events: Arc<Mutex<Vec<HoleEvent>>>,
    arrived: Arc<Notify>,
}

#[derive(Debug, Clone, Copy)]
pub struct HoleEvent {
    pub request_at: std::time::Instant,
    pub closed_at: Option<std::time::Instant>,
}

impl BlackHole {
    pub async fn start() -> Self {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let events: Arc<Mutex<Vec<HoleEvent>>> = Arc::default();
        let arrived = Arc::new(Notify::new());
        let (log, notify) = (Arc::clone(&events), Arc::clone(&arrived));
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (log, notify) = (Arc::clone(&log), Arc::clone(&notify));
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    if !matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {
                        return;
                    }
                    let index = {
                        let mut log = log.lock().unwrap();
                        log.push(HoleEvent {
                            request_at: std::time::Instant::now(),
                            closed_at: None,
                        });
                        log.len() - 1
                    };
                    notify.notify_waiters();
                    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                    log.lock().unwrap()[index].closed_at = Some(std::time::Instant::now());
                });
            }
        });
        BlackHole {
            addr,
            events,
            arrived,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn events(&self) -> Vec<HoleEvent> {
        self.events.lock().unwrap().clone()
    }

    /// Waits until `n` requests are being held (panics after `limit`).
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<HoleEvent> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let arrived = self.arrived.notified();
            let got = self.events();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("expected {n} held requests, got {}", got.len());
            }
        }
    }
}

/// HMAC-SHA1 written out from RFC 2104 (not the server's hmac crate), then Twilio's string:
/// URL + sorted names, each with its sorted unique values.
pub fn expected_signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut names: Vec<&String> = params.iter().map(|(k, _)| k).collect();
    names.sort();
    names.dedup();
    let mut data = url.to_owned();
    for name in names {
        let mut values: Vec<&String> = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect();
        values.sort();
        values.dedup();
        for v in values {
            data.push_str(name);
            data.push_str(v);
        }
    }
    let mut key = token.as_bytes().to_vec();
    if key.len() > 64 {
        key = Sha1::digest(&key).to_vec();
    }
    key.resize(64, 0);
    let inner: Vec<u8> = key.iter().map(|b| b ^ 0x36).chain(data.bytes()).collect();
    let inner_hash = Sha1::digest(&inner);
    let outer: Vec<u8> = key
        .iter()
        .map(|b| b ^ 0x5c)
        .chain(inner_hash.iter().copied())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(Sha1::digest(&outer))
}

#[test]
fn the_independent_signer_agrees_with_the_official_vector() {
    let params: Vec<(String, String)> = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(
        expected_signature(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &params
        ),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
}
