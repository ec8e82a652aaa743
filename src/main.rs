//! `localtwilio [serve] …`, `seed`, `export`, `backup`: parse arguments, load configuration, run
//! the command. Every failure ends in one line on stderr (`error: …`) and exit code 1; usage
//! mistakes exit with 2.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use localtwilio::{
    Config, Server,
    domain::{accounts::Bootstrap, fixtures, sid::AccountSid},
    progress::Progress,
    telemetry,
};

const USAGE: &str = "usage: localtwilio [serve] [--seed FILE] [--config PATH]\n\
       localtwilio seed FILE [--config PATH]\n\
       localtwilio seed --generate [--accounts N] [--users N] [--flows N] [--end-users N] [--keys N] [--seed N] [--manifest PATH] [--config PATH]\n\
       localtwilio export [--account AC…] [--secrets] [--output FILE] [--config PATH]\n\
       localtwilio backup PATH [--config PATH]\n\n\
Environment: LOCALTWILIO_LISTEN, LOCALTWILIO_DATABASE, LOCALTWILIO_ACCOUNT_SID,\n\
LOCALTWILIO_AUTH_TOKEN, LOCALTWILIO_PUBLIC_URL, LOCALTWILIO_LOG, LOCALTWILIO_CONFIG,\n\
LOCALTWILIO_SECRET_KEY, LOCALTWILIO_AUTH_CONCURRENCY";

enum Command {
    Serve {
        seed: Option<PathBuf>,
    },
    SeedFile(PathBuf),
    Generate {
        manifest: Option<PathBuf>,
    },
    Export {
        account: Option<String>,
        secrets: bool,
        output: Option<PathBuf>,
    },
    Backup(PathBuf),
}

/// A mistake in the command line (exit code 2, with the usage text).
struct Usage(String);

struct Args {
    command: Command,
    config_file: Option<PathBuf>,
    sizes: localtwilio::generate::Sizes,
}

fn parse_args() -> Result<Option<Args>, Usage> {
    let mut args = std::env::args().skip(1).peekable();
    let mut sizes = localtwilio::generate::Sizes {
        accounts: 10,
        users: 100_000,
        flows: 10_000,
        end_users: 100_000,
        keys: 64,
        seed: 1,
    };
    let first = args.peek().cloned().unwrap_or_default();
    let name = match first.as_str() {
        "serve" | "seed" | "export" | "backup" => {
            args.next();
            first
        }
        _ => "serve".to_owned(),
    };
    let (mut config_file, mut seed, mut generate, mut manifest) = (None, None, false, None);
    let (mut account, mut secrets, mut output, mut positional) = (None, false, None, None);
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .ok_or_else(|| Usage(format!("{flag} needs a value")))
        };
        let mut number = |flag: &str| -> Result<u64, Usage> {
            let text = value(flag)?;
            text.parse::<u64>()
                .map_err(|_| Usage(format!("{flag} takes a whole number, not '{text}'")))
        };
        match (name.as_str(), arg.as_str()) {
            (_, "-h" | "--help") => {
                println!("{USAGE}");
                return Ok(None);
            }
            (_, "--config") => config_file = Some(PathBuf::from(value("--config")?)),
            ("serve", "--seed") => seed = Some(PathBuf::from(value("--seed")?)),
            ("seed", "--generate") => generate = true,
            ("seed", "--accounts") => sizes.accounts = number("--accounts")? as usize,
            ("seed", "--users") => sizes.users = number("--users")? as usize,
            ("seed", "--flows") => sizes.flows = number("--flows")? as usize,
            ("seed", "--end-users") => sizes.end_users = number("--end-users")? as usize,
            ("seed", "--keys") => sizes.keys = number("--keys")? as usize,
            ("seed", "--seed") => sizes.seed = number("--seed")?,
            ("seed", "--manifest") => manifest = Some(PathBuf::from(value("--manifest")?)),
            ("export", "--account") => account = Some(value("--account")?),
            ("export", "--secrets") => secrets = true,
            ("export", "--output") => output = Some(PathBuf::from(value("--output")?)),
            ("seed" | "backup", other) if !other.starts_with('-') && positional.is_none() => {
                positional = Some(PathBuf::from(other));
            }
            (_, other) => return Err(Usage(format!("unknown argument '{other}' for {name}"))),
        }
    }
    let command = match name.as_str() {
        "serve" => Command::Serve { seed },
        "seed" => match (generate, positional) {
            (true, None) => Command::Generate { manifest },
            (false, Some(file)) => Command::SeedFile(file),
            (true, Some(_)) => {
                return Err(Usage("seed takes a FILE or --generate, not both".into()));
            }
            (false, None) => return Err(Usage("seed needs a FILE or --generate".into())),
        },
        "export" => Command::Export {
            account,
            secrets,
            output,
        },
        _ => Command::Backup(positional.ok_or_else(|| Usage("backup needs a target PATH".into()))?),
    };
    Ok(Some(Args {
        command,
        config_file,
        sizes,
    }))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(Usage(problem)) => {
            eprintln!("error: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the causes joined with ": ".
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let config = Config::load(args.config_file)?;
    telemetry::init(&config.log);
    match args.command {
        Command::Serve { seed } => serve(&config, seed.as_deref()).await,
        Command::SeedFile(file) => {
            let core = localtwilio::open_core(&config).await?;
            let result = seed_file(&core, &file).await;
            core.store.close().await;
            result
        }
        Command::Generate { manifest } => generate(&config, &args.sizes, manifest).await,
        Command::Export {
            account,
            secrets,
            output,
        } => export(&config, account, secrets, output).await,
        Command::Backup(target) => backup(&config, &target).await,
    }
}

/// Applies a fixture file and prints what it did, plus any credential it had to make.
async fn seed_file(core: &localtwilio::domain::Core, file: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read fixture {}", file.display()))?;
    let applied = match fixtures::apply(core, &text).await {
        Ok(applied) => applied,
        Err(e) => match e.downcast::<fixtures::FixtureError>() {
            // file:line:column: why — nothing was applied.
            Ok(refused) => anyhow::bail!("{}:{refused} (nothing was applied)", file.display()),
            Err(other) => {
                return Err(other.context(format!("cannot apply {}", file.display())));
            }
        },
    };
    for generated in &applied.generated {
        // stdout, never the log: shown once, like the bootstrap token.
        println!("{}: generated secret {}", generated.sid, generated.secret);
    }
    let summary = format!(
        "seeded {}: {} created, {} updated, {} unchanged",
        file.display(),
        applied.created,
        applied.updated,
        applied.unchanged
    );
    eprintln!("{summary}");
    Ok(())
}

async fn serve(config: &Config, seed: Option<&Path>) -> anyhow::Result<()> {
    // Bound first: a taken address changes nothing (no fixture applied, no account created).
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (set LOCALTWILIO_LISTEN to a free address)",
                config.listen
            )
        })?;
    let core = localtwilio::open_core(config).await?;
    if let Some(file) = seed {
        seed_file(&core, file).await?;
    }
    let server = Server::start(core, config).await?;
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
    tracing::info!(address = %listener.local_addr()?, database = %config.database.display(), "localtwilio listening");
    server.serve(listener, shutdown_signal()).await
}

async fn generate(
    config: &Config,
    sizes: &localtwilio::generate::Sizes,
    manifest_path: Option<PathBuf>,
) -> anyhow::Result<()> {
    // No main account is bootstrapped: the generated accounts are the data set's.
    let core = localtwilio::open_core(config).await?;
    let progress = Progress::new(Some(localtwilio::generate::expected_rows(sizes)), "rows");
    let generated = localtwilio::generate::generate(&core, sizes, &|rows| progress.set(rows)).await;
    core.store.close().await;
    let manifest = generated?;
    let text = serde_json::to_string_pretty(&manifest)?;
    match manifest_path {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write the manifest to {}", path.display()))?,
        None => println!("{text}"),
    }
    progress.finish(&format!(
        "generated {} rows in {:.2} s ({:.0} rows/s) into {}",
        manifest.rows,
        manifest.seconds,
        manifest.rows as f64 / manifest.seconds.max(1e-9),
        config.database.display()
    ));
    Ok(())
}

async fn export(
    config: &Config,
    account: Option<String>,
    secrets: bool,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let account = match account {
        Some(text) => Some(AccountSid::parse(&text).with_context(|| {
            format!("--account '{text}' is not an account SID (AC followed by 32 hex digits)")
        })?),
        None => None,
    };
    if let Some(path) = &output
        && path.exists()
    {
        anyhow::bail!("{} already exists; choose a new file", path.display());
    }
    // Reads only: runs beside a server on the same file.
    let core = localtwilio::open_core_alongside(config).await?;
    let progress = Progress::new(None, "rows");
    let mut rows = 0u64;
    let exported = fixtures::export(&core, account.as_ref(), secrets, &mut |n| {
        rows += n;
        progress.set(rows);
    })
    .await;
    core.store.close().await;
    let fixture = exported?;
    let text = serde_json::to_string_pretty(&fixture)? + "\n";
    match &output {
        Some(path) => {
            // Written beside the target, then renamed: a failed export leaves no partial file.
            let partial = path.with_extension("partial");
            std::fs::write(&partial, &text)
                .with_context(|| format!("cannot write {}", partial.display()))?;
            std::fs::rename(&partial, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => print!("{text}"),
    }
    let target = output.map_or("stdout".to_owned(), |p| p.display().to_string());
    let seconds = progress.elapsed().as_secs_f64();
    progress.finish(&format!(
        "exported {rows} rows ({} accounts at top level) to {target} in {seconds:.2} s{}",
        fixture.accounts.len(),
        if secrets {
            " — it holds credentials; keep it private"
        } else {
            " (no secrets; add --secrets to include them)"
        }
    ));
    Ok(())
}

/// A copy of the configured database, taken while any server on it keeps serving.
async fn backup(config: &Config, target: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !target.exists(),
        "{} already exists; choose a new file",
        target.display()
    );
    let store = localtwilio::store::Store::open(&config.database, 0)
        .await
        .with_context(|| format!("cannot open the database {}", config.database.display()))?;
    let (_, database_bytes) = store.gauges().await?;
    let progress = Progress::new(Some(database_bytes.max(0) as u64), "bytes");
    // VACUUM INTO is one statement; the bar follows the copy's size as it grows.
    let watch = {
        let (target, bar) = (target.to_owned(), progress.clone());
        tokio::spawn(async move {
            loop {
                if let Ok(meta) = std::fs::metadata(&target) {
                    bar.set(meta.len());
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
    };
    let result = store.backup_into(target).await;
    watch.abort();
    store.close().await;
    result.with_context(|| format!("backup to {} failed", target.display()))?;
    let bytes = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
    let seconds = progress.elapsed().as_secs_f64();
    progress.finish(&format!(
        "backed up {} to {} ({bytes} bytes) in {seconds:.2} s",
        config.database.display(),
        target.display(),
    ));
    Ok(())
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
