//! localtwilio: a self-hosted, persistent, Twilio-compatible API server.
//!
//! Layers (dependencies point one way): `http` (axum handlers, extractors, routing, error
//! rendering) → `domain` (Twilio's rules, no HTTP types) → `store` (sqlx over SQLite or PostgreSQL, all SQL).
//! `error`, `config` and `telemetry` are leaves anyone may import.

// Denied everywhere but `store::direct`, the one module that calls SQLite's C API itself (the
// group-commit writer's statements, issue 21).
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod config;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod generate;
pub mod http;
pub mod progress;
pub mod store;
pub mod telemetry;

use std::{future::Future, path::Path, sync::Arc};

use tokio::net::TcpListener;

pub use config::Config;
use domain::{Core, accounts::Bootstrap, auth::Authenticator, secrets::ServerKey};
use store::Store;

/// Installs the process-wide rustls crypto provider (ring) that outbound HTTPS (webhook
/// delivery, Studio's HTTP widgets) uses. Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Connection-level limits.
struct Limits {
    max_connections: usize,
    max_connections_per_address: usize,
    header_read_timeout_secs: u64,
}

/// An opened server: database migrated, main account present, not yet listening.
pub struct Server {
    state: http::AppState,
    limits: Limits,
    delivery_limits: delivery::Limits,
    /// What start-up did about the main account (main.rs prints it).
    pub bootstrap: Bootstrap,
}

/// Opens the database (migrated) and the server key, without creating any account: what
/// `seed FILE` and `seed --generate` work on, and what `Server::start` builds on. Takes the
/// database's exclusive lock (`Store::open_exclusive`): a second server (or a seed while a
/// server runs) is refused in one line; `close` releases it.
pub async fn open_core(config: &Config) -> anyhow::Result<Core> {
    let store = Store::open_exclusive(&config.database, config.max_database_pages)
        .await
        .map_err(|e| cannot_open(e, config))?;
    core_on(store, config).await
}

/// `open_core` without the exclusive lock, for commands that only read and may run beside a
/// server (`export`).
pub async fn open_core_alongside(config: &Config) -> anyhow::Result<Core> {
    let store = Store::open_existing(&config.database, config.max_database_pages)
        .await
        .map_err(|e| cannot_open(e, config))?;
    core_on(store, config).await
}

/// Says which file could not be opened and what to do; a file in use says that itself.
fn cannot_open(err: anyhow::Error, config: &Config) -> anyhow::Error {
    if err.is::<store::InUse>() {
        return err;
    }
    err.context(format!(
        "cannot open the database {} (set LOCALTWILIO_DATABASE to a writable file)",
        database_name(config)
    ))
}

async fn core_on(store: Store, config: &Config) -> anyhow::Result<Core> {
    let server_key = match load_server_key(config, &store).await {
        Ok(key) => key,
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    };
    // Studio's HTTP client (make-http-request, run-function) needs the provider installed.
    install_tls_provider();
    Ok(Core::new(domain::CoreParts {
        store,
        server_key,
        auth: Arc::new(Authenticator::new(config.auth_concurrency)?),
        webhook_wake: Arc::new(tokio::sync::Notify::new()),
        review: domain::trusthub::review::Settings {
            manual: config.trusthub_review == "manual",
            start_ms: i64::try_from(config.trusthub_review_start_ms)?,
            decision_ms: i64::try_from(config.trusthub_review_decision_ms)?,
        },
        review_wake: Arc::new(tokio::sync::Notify::new()),
        delivery: Arc::new(domain::DeliveryStats::default()),
        services: Arc::new(domain::conversations::ServiceCache::default()),
        studio: {
            let studio =
                domain::studio::engine::StudioRuntime::new(&config.studio_http_allowed_hosts)?;
            // Studio runs that time out in a conversation post through the emulator's routing.
            let _ = studio
                .conversation_poster
                .set(domain::emulator::inbound_messages::conversation_poster);
            Arc::new(studio)
        },
    }))
}

impl Server {
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        Self::start(open_core(config).await?, config).await
    }

    /// Creates the main account if the database has none (after any `--seed` fixture, so a
    /// fixture's accounts count) and prepares serving.
    pub async fn start(core: Core, config: &Config) -> anyhow::Result<Self> {
        let bootstrap =
            domain::accounts::bootstrap(&core, &config.account_sid, &config.auth_token).await?;
        // One registry per server: two servers in a process never share counts.
        let metrics = Arc::new(http::metrics::Metrics::new(&core));
        Ok(Self {
            limits: Limits {
                max_connections: config.max_connections,
                max_connections_per_address: config.max_connections_per_address,
                header_read_timeout_secs: config.header_read_timeout_secs,
            },
            delivery_limits: delivery::Limits {
                in_flight: config.webhook_concurrency.max(1),
                per_target: config.webhook_concurrency_per_target.max(1),
                per_account: config.webhook_concurrency_per_account.max(1),
            },
            state: http::AppState::new(http::state::Shared {
                core,
                public_url: config.public_url(),
                max_body_bytes: config.max_body_bytes,
                body_read_timeout: std::time::Duration::from_secs(
                    config.body_read_timeout_secs.max(1),
                ),
                metrics,
                console: domain::console::ConsoleSettings {
                    enabled: config.console_enabled(),
                    operator_token: config.console_token(),
                },
            }),
            bootstrap,
        })
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests (30 s at most) and
    /// closes the database.
    ///
    /// At most `max_connections` connections are served at once; past that, new connections
    /// wait in the listen backlog until one closes. One client address holds at most
    /// `max_connections_per_address` of them: a connection past that is answered 429 20429 and
    /// closed at once, so one address cannot take the whole budget (slowloris). A client that
    /// does not send its request headers within `header_read_timeout_secs` is disconnected
    /// (slow or stalled clients).
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        use tower::ServiceExt;

        let store = self.state.core.store.clone();
        let worker = tokio::spawn(
            delivery::Worker::new(self.state.core.clone(), self.delivery_limits)?.run(),
        );
        let reviews = tokio::spawn(domain::trusthub::review::run(self.state.core.clone()));
        let timeouts = tokio::spawn(domain::studio::executions::run_timeouts(
            self.state.core.clone(),
        ));
        // Other instances may share a PostgreSQL database: follow their changes.
        let epoch = (store.backend() == store::Backend::Postgres).then(|| {
            tokio::spawn(domain::instances::follow_cache_epoch(
                self.state.core.clone(),
            ))
        });
        // Conversation timers that came due (also while the server was stopped) fire from here.
        let timers = tokio::spawn(domain::conversations::timers::run(self.state.core.clone()));
        let router = http::router(self.state);
        let connections = Arc::new(tokio::sync::Semaphore::new(
            self.limits.max_connections.max(1),
        ));
        let per_address = http::edge::AddressLimiter::new(self.limits.max_connections_per_address);
        let refusing = Arc::new(tokio::sync::Semaphore::new(REFUSALS_AT_ONCE));
        let header_timeout =
            std::time::Duration::from_secs(self.limits.header_read_timeout_secs.max(1));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(&connections).acquire_owned() => permit?,
                () = &mut shutdown => break,
            };
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Some(address_permit) = per_address.admit(remote.ip()) else {
                drop(permit);
                refuse(stream, &refusing);
                continue;
            };
            let router = router.clone();
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(remote));
                    router.clone().oneshot(request.map(axum::body::Body::new))
                },
            );
            let io = http::edge::TwilioShapedParseErrors::new(stream);
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(io), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                let _ = connection.await;
                drop(address_permit);
                drop(permit);
            });
        }
        drop(listener);
        if tokio::time::timeout(std::time::Duration::from_secs(30), graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("in-flight requests did not finish within 30 s");
        }
        // Deliveries not yet recorded stay pending in the database and go out after a restart.
        worker.abort();
        let _ = worker.await;
        // A review step not yet committed rolls back and runs again after a restart.
        reviews.abort();
        let _ = reviews.await;
        if let Err(e) = store.release_own_claims().await {
            tracing::warn!(error = %e, "cannot release this server's webhook claims");
        }
        // A wait's timeout is kept with its execution and fires after a restart.
        timeouts.abort();
        let _ = timeouts.await;
        if let Some(epoch) = epoch {
            epoch.abort();
            let _ = epoch.await;
        }
        timers.abort();
        let _ = timers.await;
        store.close().await;
        Ok(())
    }
}

/// Refused connections being answered at once; past that, a refused connection is closed
/// without an answer (a flood of refusals must not cost more than a few tasks).
const REFUSALS_AT_ONCE: usize = 64;

/// Answers a connection refused by the per-address cap with 429 20429 and closes it, all
/// within a second. The client's request, if it sent one, is read and dropped first (up to
/// 64 KiB), so closing does not reset the connection before the client reads the answer.
fn refuse(stream: tokio::net::TcpStream, refusing: &Arc<tokio::sync::Semaphore>) {
    tracing::debug!("connection refused: too many from one address");
    let Ok(place) = Arc::clone(refusing).try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = stream;
        let answer = async {
            stream.write_all(http::edge::refused_too_many()).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 4096];
            let mut total = 0usize;
            loop {
                let n = stream.read(&mut sink).await?;
                total += n;
                if n == 0 || total > 64 * 1024 {
                    return Ok::<(), std::io::Error>(());
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), answer).await;
        drop(place);
    });
}

/// `LOCALTWILIO_SECRET_KEY` (64 hex digits), else `secret.key` beside the database, created
/// with mode 0600 when the database holds no sealed token yet (a fresh database).
///
/// A key that cannot open what the database sealed is refused, as is a missing key file beside
/// a database that holds sealed tokens: replacing it silently would make every existing
/// account's Account endpoints and webhooks fail for good, and rows sealed under the new key
/// would then not open with the old one either.
///
/// On PostgreSQL the key must be given (`LOCALTWILIO_SECRET_KEY`): several instances share the
/// database, and a key file beside one of them would seal with a key the others do not know.
async fn load_server_key(config: &Config, store: &Store) -> anyhow::Result<ServerKey> {
    anyhow::ensure!(
        store.backend() == store::Backend::Sqlite || !config.secret_key.is_empty(),
        "LOCALTWILIO_SECRET_KEY is required on PostgreSQL (64 hex digits, the same for every \
         instance): every instance must seal and open auth tokens with one key"
    );
    let sealed = store.sealed_auth_tokens().await?;
    let dir = config
        .database
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let path = dir.join("secret.key");
    let (key, source) = if !config.secret_key.is_empty() {
        let key = ServerKey::from_hex(&config.secret_key)
            .ok_or_else(|| anyhow::anyhow!("LOCALTWILIO_SECRET_KEY must be 64 hex digits"))?;
        (key, "LOCALTWILIO_SECRET_KEY".to_owned())
    } else {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = ServerKey::from_hex(&text).ok_or_else(|| {
                    anyhow::anyhow!("{} does not hold 64 hex digits", path.display())
                })?;
                (key, path.display().to_string())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && sealed.is_empty() => {
                let key = ServerKey::from_bytes(domain::secrets::random_bytes::<32>()?);
                write_private(&path, key.to_hex().as_bytes())?;
                return Ok(key);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
                "{} is missing, but the database {} holds {} sealed with it: put the key \
                 file back (or set LOCALTWILIO_SECRET_KEY to it); a new key would not open them",
                path.display(),
                database_name(config),
                counted(sealed.len(), "auth token", "auth tokens")
            ),
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        }
    };
    let unopened = sealed
        .iter()
        .filter(|(sid, token)| key.open(token, sid).is_err())
        .count();
    anyhow::ensure!(
        unopened == 0,
        "the key in {source} does not open {} of the {} sealed in the database {}: use the key \
         this database was sealed with",
        counted(unopened, "auth token", "auth tokens"),
        sealed.len(),
        database_name(config)
    );
    Ok(key)
}

/// The database as messages and logs name it: the SQLite path, or the PostgreSQL URL with its
/// password hidden.
pub fn database_name(config: &Config) -> String {
    match store::postgres_url(&config.database) {
        Some(url) => store::dialect::redacted_url(url),
        None => config.database.display().to_string(),
    }
}

/// `n` with its noun in the right number: "1 auth token", "3 auth tokens".
pub fn counted(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}
