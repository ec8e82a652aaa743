//! TestApp: the real server on 127.0.0.1:0 over a real database, and a reqwest client.
//! `restart()` stops it (graceful shutdown) and opens the same database again.
//!
//! The backend is chosen at run time: SQLite (a file in a temp dir) unless
//! `LOCALTWILIO_TEST_BACKEND=postgres`, then a fresh PostgreSQL database per test, copied from
//! a migrated template, on the server `LOCALTWILIO_TEST_POSTGRES` names (an admin URL; see
//! `scripts/pg-temp.sh`). A test that needs SQLite itself (its file, its lock, its pragmas)
//! starts with `if skip_on_postgres() { return; }`.

use std::path::PathBuf;

use localtwilio::{Config, Server};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use tokio::{sync::oneshot, task::JoinHandle};

pub const MAIN_SID: &str = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90";
pub const MAIN_TOKEN: &str = "0123456789abcdef0123456789abcdef";

pub struct TestApp {
    /// Applied to the configuration at each (re)start.
    pub tune: fn(&mut Config),
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

/// The sealing key every PostgreSQL test server shares (PostgreSQL requires one).
pub const TEST_SECRET_KEY: &str =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

pub fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::defaults().unwrap();
    config.database = match postgres::database_for(dir) {
        Some(url) => {
            config.secret_key = TEST_SECRET_KEY.into();
            url.into()
        }
        None => dir.join("db").join("localtwilio.db"),
    };
    config.account_sid = MAIN_SID.into();
    config.auth_token = MAIN_TOKEN.into();
    config.listen = "127.0.0.1:0".into();
    config
}

impl TestApp {
    /// A server whose configuration `tune` adjusts.
    pub async fn spawn_tuned(tune: fn(&mut Config)) -> Self {
        let mut app = Self::spawn().await;
        app.tune = tune;
        app.restart().await;
        app
    }

    pub async fn spawn() -> Self {
        Self::spawn_in(tempfile::tempdir().unwrap()).await
    }

    /// A server on whatever `dir/db/localtwilio.db` already holds (e.g. a database the CLI
    /// seeded); the main account is bootstrapped only if it holds none.
    pub async fn spawn_in(dir: tempfile::TempDir) -> Self {
        localtwilio::install_tls_provider();
        let mut app = TestApp {
            tune: |_| {},
            base: String::new(),
            client: reqwest::Client::new(),
            dir,
            shutdown: None,
            handle: None,
        };
        app.start().await;
        app
    }

    /// Starts on a copy of a checked-in database (`tests/fixtures/{name}.db` with its
    /// `{name}.secret.key`), as an upgrade would find it.
    pub async fn from_fixture(name: &str) -> Self {
        localtwilio::install_tls_provider();
        let dir = tempfile::tempdir().unwrap();
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        std::fs::create_dir_all(dir.path().join("db")).unwrap();
        std::fs::copy(
            fixtures.join(format!("{name}.db")),
            dir.path().join("db/localtwilio.db"),
        )
        .unwrap();
        std::fs::copy(
            fixtures.join(format!("{name}.secret.key")),
            dir.path().join("db/secret.key"),
        )
        .unwrap();
        Self::spawn_in(dir).await
    }

    async fn start(&mut self) {
        let mut config = config(self.dir.path());
        (self.tune)(&mut config);
        let server = Server::open(&config).await.unwrap();
        // A restart listens where the server was, as an operator's restart would.
        let address = self
            .base
            .strip_prefix("http://")
            .unwrap_or("127.0.0.1:0")
            .to_owned();
        let address = if address.is_empty() {
            "127.0.0.1:0".to_owned()
        } else {
            address
        };
        let listener = tokio::net::TcpListener::bind(&address).await.unwrap();
        self.base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        self.shutdown = Some(tx);
        self.handle = Some(tokio::spawn(async move {
            server
                .serve(listener, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        }));
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap();
        }
    }

    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("db").join("localtwilio.db")
    }

    pub fn main(&self) -> Creds {
        Creds::new(MAIN_SID, MAIN_TOKEN)
    }

    /// Sends one request; read a JSON body with `into_json`, which checks it against the spec.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        creds: Option<&Creds>,
        form: Option<&[(&str, &str)]>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(c) = creds {
            req = req.basic_auth(&c.user, Some(&c.secret));
        }
        if let Some(form) = form {
            req = req.form(form);
        }
        send(req).await
    }

    pub async fn get(&self, path: &str, creds: &Creds) -> (StatusCode, Value) {
        into_json(self.request(Method::GET, path, Some(creds), None).await).await
    }

    pub async fn post(
        &self,
        path: &str,
        creds: &Creds,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        into_json(
            self.request(Method::POST, path, Some(creds), Some(form))
                .await,
        )
        .await
    }

    /// The status and the raw body (empty on 204); the body is checked against the spec too.
    pub async fn delete(&self, path: &str, creds: &Creds) -> (StatusCode, String) {
        let response = self.request(Method::DELETE, path, Some(creds), None).await;
        let (method, path, status) = answered(&response);
        let text = response.text().await.unwrap();
        checked_body(&method, &path, status, &text);
        (status, text)
    }

    /// Creates a subaccount of `parent`, returning its credentials.
    pub async fn subaccount(&self, parent: &Creds, name: &str) -> Creds {
        let (status, body) = self
            .post(
                "/2010-04-01/Accounts.json",
                parent,
                &[("FriendlyName", name)],
            )
            .await;
        assert_eq!(status, 201, "{body}");
        Creds::new(
            body["sid"].as_str().unwrap(),
            body["auth_token"].as_str().unwrap(),
        )
    }

    /// Counts rows straight from the database (proves what was or was not written).
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("select count(*) from {table}");
        if let Some(url) = postgres::database_for(self.dir.path()) {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut conn)
                .await
                .unwrap();
            return n;
        }
        let url = format!("sqlite://{}?mode=ro", self.db_path().display());
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        n
    }

    /// The database opened beside the server (either backend; nothing migrated), for tests that
    /// read or change rows behind the API's back with `localtwilio::store::Sql`.
    pub async fn store(&self) -> localtwilio::store::Store {
        localtwilio::store::Store::open_existing(&self.config().database, 0)
            .await
            .unwrap()
    }

    /// Runs one statement straight on the database, `$1…` bound to `binds`; the rows changed.
    pub async fn execute(&self, statement: &str, binds: &[&str]) -> u64 {
        let store = self.store().await;
        let mut sql = localtwilio::store::Sql::new(statement);
        for bind in binds {
            sql = sql.bind(*bind);
        }
        let changed = sql.execute(&store).await.unwrap();
        store.close().await;
        changed
    }

    /// `LOCALTWILIO_DATABASE` of this app: its SQLite file or its PostgreSQL URL.
    pub fn database(&self) -> PathBuf {
        self.config().database
    }

    /// The configuration this app's server runs with (its database included).
    pub fn config(&self) -> Config {
        let mut config = config(self.dir.path());
        (self.tune)(&mut config);
        config
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        postgres::drop_database_for(self.dir.path());
    }
}

/// True (and says so) when the suite runs on PostgreSQL: for tests of SQLite itself (its file,
/// lock, pragmas, page cap, fixtures of old files, crash recovery), which then pass as skipped.
pub fn skip_on_postgres() -> bool {
    let on = postgres::enabled();
    if on {
        eprintln!("skipped: this test is about SQLite");
    }
    on
}

/// The PostgreSQL side of the test backend switch.
pub mod postgres {
    use std::{
        path::{Path, PathBuf},
        sync::OnceLock,
    };

    /// Whether `LOCALTWILIO_TEST_BACKEND=postgres`.
    pub fn enabled() -> bool {
        std::env::var("LOCALTWILIO_TEST_BACKEND").is_ok_and(|b| b == "postgres")
    }

    /// The admin URL of the test server (`LOCALTWILIO_TEST_POSTGRES`).
    pub fn admin_url() -> String {
        std::env::var("LOCALTWILIO_TEST_POSTGRES")
            .expect("LOCALTWILIO_TEST_BACKEND=postgres needs LOCALTWILIO_TEST_POSTGRES (scripts/pg-temp.sh)")
    }

    /// `admin_url` with another database name.
    pub fn url_of(database: &str) -> String {
        let admin = admin_url();
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        format!("{base}/{database}")
    }

    fn marker(dir: &Path) -> PathBuf {
        dir.join("postgres-database")
    }

    /// The database of the test whose folder is `dir`: made on first use (a copy of the
    /// migrated template), the same one on every restart. `None` on SQLite.
    pub fn database_for(dir: &Path) -> Option<String> {
        if !enabled() {
            return None;
        }
        if let Ok(name) = std::fs::read_to_string(marker(dir)) {
            return Some(url_of(&name));
        }
        let name = format!("lt_{}", uuid::Uuid::new_v4().simple());
        let template = template();
        let statement = format!("create database {name} template {template}");
        blocking(move || async move { admin(&statement).await });
        std::fs::write(marker(dir), &name).unwrap();
        Some(url_of(&name))
    }

    /// Drops the test's database, if it made one (the server is told to stop first; `force`
    /// ends its last connections).
    pub fn drop_database_for(dir: &Path) {
        if !enabled() {
            return;
        }
        if let Ok(name) = std::fs::read_to_string(marker(dir)) {
            let statement = format!("drop database if exists {name} with (force)");
            blocking(move || async move { admin(&statement).await });
        }
    }

    /// The migrated template every test database copies: made once per test process.
    fn template() -> &'static str {
        static TEMPLATE: OnceLock<String> = OnceLock::new();
        TEMPLATE.get_or_init(|| {
            let name = format!("lt_template_{}", uuid::Uuid::new_v4().simple());
            let create = format!("create database {name}");
            let url = url_of(&name);
            blocking(move || async move {
                admin(&create).await;
                let store = localtwilio::store::Store::open_exclusive(Path::new(&url), 0)
                    .await
                    .unwrap();
                store.close().await;
            });
            name
        })
    }

    async fn admin(statement: &str) {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url())
            .await
            .unwrap();
        // Copies of one template may collide for a moment ("source database is being
        // accessed"); try again briefly.
        for attempt in 0.. {
            match sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(&mut conn)
                .await
            {
                Ok(_) => break,
                Err(e) if attempt < 50 && e.to_string().contains("being accessed") => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{statement}: {e}"),
            }
        }
    }

    /// Runs `work` to completion on a runtime of its own (from sync code, inside a test's
    /// runtime too).
    fn blocking<F, Fut>(work: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(work())
        })
        .join()
        .unwrap();
    }
}

#[derive(Clone, Debug)]
pub struct Creds {
    pub user: String,
    pub secret: String,
}

impl Creds {
    pub fn new(user: &str, secret: &str) -> Self {
        Creds {
            user: user.into(),
            secret: secret.into(),
        }
    }
}

/// The method of the request a response answers, kept on the response by `send` so that
/// `into_json` can find the operation in the spec.
#[derive(Clone)]
struct AnsweredRequest(Method);

/// Sends a request built on any client; the response remembers its method for `into_json`.
pub async fn send(request: reqwest::RequestBuilder) -> Response {
    try_send(request).await.unwrap()
}

/// `send` for callers that expect the connection may fail (a server being killed).
pub async fn try_send(request: reqwest::RequestBuilder) -> reqwest::Result<Response> {
    let (client, request) = request.build_split();
    let request = request?;
    let method = request.method().clone();
    let mut response = client.execute(request).await?;
    response.extensions_mut().insert(AnsweredRequest(method));
    Ok(response)
}

/// The method, path and status of a response that came through `send`.
pub fn answered(response: &Response) -> (String, String, StatusCode) {
    let method = response
        .extensions()
        .get::<AnsweredRequest>()
        .map(|answered| answered.0.to_string())
        .expect("send requests through helpers::send (or TestApp's helpers) so the body is checked against the spec");
    (method, response.url().path().to_owned(), response.status())
}

/// The JSON body (`Null` when empty), after `spec::check_response` has checked it.
pub async fn into_json(response: Response) -> (StatusCode, Value) {
    let (method, path, status) = answered(&response);
    let text = response.text().await.unwrap();
    (status, checked_body(&method, &path, status, &text))
}

/// Parses a body as JSON (`Null` when empty) and checks it against the spec.
pub fn checked_body(method: &str, path: &str, status: StatusCode, text: &str) -> Value {
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text)
            .unwrap_or_else(|_| panic!("{method} {path} answered {status} with no JSON: {text}"))
    };
    crate::spec::check_response(method, path, status.as_u16(), &body);
    body
}

/// Asserts a Twilio error body: exactly the four keys (plus optional `details`), the right
/// status and code, and `more_info` naming the code.
pub fn assert_twilio_error(status: StatusCode, body: &Value, want_status: u16, want_code: u64) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert_eq!(body["code"], want_code, "{body}");
    assert_eq!(body["status"], want_status, "{body}");
    assert_eq!(
        body["more_info"],
        format!("https://www.twilio.com/docs/errors/{want_code}"),
        "{body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in &keys {
        assert!(
            ["code", "message", "more_info", "status", "details"].contains(key),
            "extra key {key} in {body}"
        );
    }
}
