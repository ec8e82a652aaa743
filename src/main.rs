//! `localtwilio [serve] [--config PATH]`: parse arguments, load configuration, start serving.

use std::path::PathBuf;

use anyhow::Context;
use localtwilio::{Config, Server, domain::accounts::Bootstrap, telemetry};

const USAGE: &str = "usage: localtwilio [serve] [--config PATH]\n\
       localtwilio backup PATH [--config PATH]\n\
       localtwilio seed --generate [--accounts N] [--users N] [--flows N] [--end-users N] [--keys N] [--seed N] [--manifest PATH] [--config PATH]\n\n\
Environment: LOCALTWILIO_LISTEN, LOCALTWILIO_DATABASE, LOCALTWILIO_ACCOUNT_SID,\n\
LOCALTWILIO_AUTH_TOKEN, LOCALTWILIO_PUBLIC_URL, LOCALTWILIO_LOG, LOCALTWILIO_CONFIG,\n\
LOCALTWILIO_SECRET_KEY, LOCALTWILIO_AUTH_CONCURRENCY";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config_file = None;
    let mut seed_command = false;
    let mut backup_target: Option<PathBuf> = None;
    let mut generate = false;
    let mut manifest_path: Option<PathBuf> = None;
    let mut sizes = localtwilio::generate::Sizes {
        accounts: 10,
        users: 100_000,
        flows: 10_000,
        end_users: 100_000,
        keys: 64,
        seed: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let number = |args: &mut std::iter::Skip<std::env::Args>| -> anyhow::Result<u64> {
            args.next()
                .context(USAGE)?
                .parse::<u64>()
                .with_context(|| format!("{arg} takes a whole number"))
        };
        match arg.as_str() {
            "serve" => {}
            "seed" => seed_command = true,
            "backup" => backup_target = Some(PathBuf::from(args.next().context(USAGE)?)),
            "--generate" => generate = true,
            "--accounts" => sizes.accounts = number(&mut args)? as usize,
            "--users" => sizes.users = number(&mut args)? as usize,
            "--flows" => sizes.flows = number(&mut args)? as usize,
            "--end-users" => sizes.end_users = number(&mut args)? as usize,
            "--keys" => sizes.keys = number(&mut args)? as usize,
            "--seed" => sizes.seed = number(&mut args)?,
            "--manifest" => manifest_path = Some(PathBuf::from(args.next().context(USAGE)?)),
            "--config" => config_file = Some(PathBuf::from(args.next().context(USAGE)?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    let config = Config::load(config_file)?;
    telemetry::init(&config.log);

    if let Some(target) = backup_target {
        // A copy of the configured database, taken while any server on it keeps serving.
        anyhow::ensure!(
            !target.exists(),
            "{} already exists; choose a new file",
            target.display()
        );
        let store = localtwilio::store::Store::open(&config.database, 0).await?;
        let started = std::time::Instant::now();
        store
            .backup_into(&target)
            .await
            .with_context(|| format!("backup to {} failed", target.display()))?;
        store.close().await;
        let bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "backed up {} to {} ({bytes} bytes) in {:.2} s",
            config.database.display(),
            target.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let server = Server::open(&config).await?;
    if seed_command {
        anyhow::ensure!(
            generate,
            "seed needs --generate (fixture files are not supported yet)\n{USAGE}"
        );
        let manifest = localtwilio::generate::generate(server.core(), &sizes).await?;
        let text = serde_json::to_string_pretty(&manifest)?;
        match manifest_path {
            Some(path) => std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?,
            None => println!("{text}"),
        }
        eprintln!(
            "generated {} rows in {:.2} s ({:.0} rows/s) into {}",
            manifest.rows,
            manifest.seconds,
            manifest.rows as f64 / manifest.seconds.max(1e-9),
            config.database.display()
        );
        return Ok(());
    }
    if let Bootstrap::Created {
        account_sid,
        auth_token,
        generated,
    } = &server.bootstrap
    {
        // Printed to stdout, never through the log: the token is shown exactly once.
        println!("Created the main account.");
        println!("  Account SID: {account_sid}");
        if *generated {
            println!(
                "  Auth token:  {auth_token}   (shown once; GET /2010-04-01/Accounts/{account_sid}.json returns it)"
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, database = %config.database.display(), "localtwilio listening");
    server.serve(listener, shutdown_signal()).await
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
