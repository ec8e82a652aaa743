//! `localtwilio [serve] …`, `seed`, `export`, `backup`: parse arguments (clap), load
//! configuration, run the command. Every failure ends in one line on stderr (`error: …`) and
//! exit code 1; usage mistakes exit with 2 and the usage (clap's), `--help`/`--version` with 0.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use clap::{ArgGroup, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use localtwilio::{
    Config, Server,
    domain::{accounts::Bootstrap, seed, sid::AccountSid},
    progress::Progress,
    telemetry,
};

/// A self-hosted, persistent, Twilio-compatible API server.
///
/// Without a command it serves (`localtwilio` = `localtwilio serve`).
#[derive(Parser)]
#[command(
    name = "localtwilio",
    version,
    propagate_version = true,
    disable_help_subcommand = true
)]
struct Cli {
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// `--config PATH`: before the command or after it, once. Not a clap `global` argument: given
/// on both sides, a global one silently keeps the second.
#[derive(Args)]
struct ConfigArg {
    /// Configuration file (TOML, the keys of config/default.toml); else LOCALTWILIO_CONFIG
    #[arg(long = "config", value_name = "PATH")]
    path: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default command)
    Serve {
        #[command(flatten)]
        serve: ServeArgs,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Apply a fixture FILE to the database, or fill it with a load-test data set (--generate)
    #[command(after_help = ENVIRONMENT_SEE_MAIN_HELP)]
    Seed(SeedArgs),
    /// Write the database, or one account with its subaccounts, as a fixture file
    #[command(after_help = ENVIRONMENT_SEE_MAIN_HELP)]
    Export(ExportArgs),
    /// Write a consistent copy of the database to a new file, while a server keeps serving
    #[command(after_help = ENVIRONMENT_SEE_MAIN_HELP)]
    Backup {
        /// The copy to create (never overwritten)
        #[arg(value_name = "PATH")]
        target: PathBuf,
        #[command(flatten)]
        config: ConfigArg,
    },
}

impl Command {
    /// The `--config` given after the command.
    fn config(&mut self) -> &mut Option<PathBuf> {
        match self {
            Command::Serve { config, .. }
            | Command::Seed(SeedArgs { config, .. })
            | Command::Export(ExportArgs { config, .. })
            | Command::Backup { config, .. } => &mut config.path,
        }
    }
}

const ENVIRONMENT_SEE_MAIN_HELP: &str = "The database and other settings come from --config and the LOCALTWILIO_* variables listed by `localtwilio --help`.";

#[derive(Args)]
struct ServeArgs {
    /// Apply this fixture file before serving (as `seed FILE` does)
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
}

#[derive(Args)]
#[command(group(ArgGroup::new("what").required(true).args(["file", "generate"])))]
struct SeedArgs {
    /// Fixture file to apply (JSON; config/demo.json is an example)
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Generate a deterministic load-test data set instead of applying a file
    #[arg(long)]
    generate: bool,
    #[command(flatten)]
    sizes: GenerateArgs,
    #[command(flatten)]
    config: ConfigArg,
}

/// Only with --generate: giving one of these to `seed FILE` is a mistake (exit 2), not ignored.
#[derive(Args)]
#[command(next_help_heading = "With --generate")]
struct GenerateArgs {
    /// Main accounts (each with its default service and roles)
    #[arg(long, value_name = "N", default_value_t = 10, conflicts_with = "file", value_parser = at_least_one)]
    accounts: u64,
    /// Conversations users, spread over the accounts
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100_000,
        conflicts_with = "file"
    )]
    users: u64,
    /// Studio flows (one published revision, three test users each)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000,
        conflicts_with = "file"
    )]
    flows: u64,
    /// TrustHub end users
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100_000,
        conflicts_with = "file"
    )]
    end_users: u64,
    /// Conversations, spread over the accounts (each in its account's default service)
    #[arg(long, value_name = "N", default_value_t = 0, conflicts_with = "file")]
    conversations: u64,
    /// Chat participants per conversation, taken from the account's users in turn (at most
    /// the account's users)
    #[arg(long, value_name = "N", default_value_t = 2, conflicts_with = "file")]
    participants: u64,
    /// Messages per conversation, written by its participants in turn
    #[arg(long, value_name = "N", default_value_t = 10, conflicts_with = "file")]
    messages: u64,
    /// API keys of the first account
    #[arg(long, value_name = "N", default_value_t = 64, conflicts_with = "file")]
    keys: u64,
    /// Random seed: the same numbers and seed give the same data set everywhere
    #[arg(
        long = "seed",
        value_name = "N",
        default_value_t = 1,
        conflicts_with = "file"
    )]
    random_seed: u64,
    /// Write the manifest (accounts, tokens, sample SIDs, key secrets) here instead of stdout
    #[arg(long, value_name = "PATH", conflicts_with = "file")]
    manifest: Option<PathBuf>,
}

/// `--accounts`: a data set has at least one account (0 used to become 1 silently).
fn at_least_one(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{text}' is not a whole number")),
    }
}

#[derive(Args)]
struct ExportArgs {
    /// Only this account (AC…) and its subaccounts
    #[arg(long, value_name = "AC…", value_parser = account_sid)]
    account: Option<AccountSid>,
    /// Include auth tokens (in clear) and API key hashes; keep such a file private
    #[arg(long)]
    secrets: bool,
    /// Write to this new file (never overwritten, never left partial) instead of stdout
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArg,
}

/// `--account`: checked while parsing, so a malformed SID is a usage mistake (exit 2).
fn account_sid(text: &str) -> Result<AccountSid, String> {
    AccountSid::parse(text)
        .ok_or_else(|| format!("'{text}' is not an account SID (AC followed by 32 hex digits)"))
}

/// The whole command-line interface, with the environment table under the main help and
/// serve's (the command that reads every variable).
fn cli() -> clap::Command {
    Cli::command()
        .after_help(localtwilio::config::env_help())
        .mut_subcommand("serve", |serve| {
            serve.after_help(localtwilio::config::env_help())
        })
}

/// A checked command line: the configuration file, wherever it was given, and the command.
struct Invocation {
    config: Option<PathBuf>,
    command: Command,
}

/// Parses the process arguments; `--help`, `--version` and mistakes (exit 2) end here.
fn parse_args() -> Invocation {
    parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

fn parse_from<I, T>(args: I) -> Result<Invocation, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut cli = cli();
    let parsed = Cli::from_arg_matches(&cli.try_get_matches_from_mut(args)?)?;
    let mistake = |message: &str| {
        cli.clone()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
    };
    // The top-level `--seed` is serve's: `localtwilio [serve] --seed FILE` or `localtwilio
    // --seed FILE serve`; before another command it would be silently dropped.
    let mut command = match (parsed.command, parsed.serve.seed) {
        (None, seed) => Command::Serve {
            serve: ServeArgs { seed },
            config: ConfigArg { path: None },
        },
        (Some(command), None) => command,
        (
            Some(Command::Serve {
                serve: ServeArgs { seed: None },
                config,
            }),
            seed,
        ) => Command::Serve {
            serve: ServeArgs { seed },
            config,
        },
        (Some(Command::Serve { .. }), Some(_)) => {
            return Err(mistake(
                "the argument '--seed <FILE>' cannot be used multiple times (it was given before `serve` and after it)",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(mistake(
                "--seed FILE before a command is serve's: `localtwilio --seed FILE` or `localtwilio serve --seed FILE` (`seed --generate` takes its `--seed N` after the command)",
            ));
        }
    };
    let config = match (parsed.config.path, command.config().take()) {
        (Some(_), Some(_)) => {
            return Err(mistake(
                "the argument '--config <PATH>' cannot be used multiple times (it was given before the command and after it)",
            ));
        }
        (before, after) => before.or(after),
    };
    Ok(Invocation { config, command })
}

/// mimalloc rather than glibc's malloc: see Cargo.toml (measured in bench/RESULTS.md, session 7).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    localtwilio::store::direct::configure_process();
    let args = parse_args();
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

async fn run(args: Invocation) -> anyhow::Result<()> {
    let config = Config::load(args.config)?;
    telemetry::init(&config.log);
    match args.command {
        Command::Serve {
            serve: ServeArgs { seed },
            ..
        } => serve(&config, seed.as_deref()).await,
        Command::Seed(SeedArgs {
            file: Some(file), ..
        }) => {
            let core = localtwilio::open_core(&config).await?;
            let result = seed_file(&core, &file).await;
            core.store.close().await;
            result
        }
        Command::Seed(SeedArgs { sizes, .. }) => {
            let manifest = sizes.manifest.clone();
            generate(&config, &sizes.into(), manifest).await
        }
        Command::Export(ExportArgs {
            account,
            secrets,
            output,
            ..
        }) => export(&config, account, secrets, output).await,
        Command::Backup { target, .. } => backup(&config, &target).await,
    }
}

impl From<GenerateArgs> for localtwilio::generate::Sizes {
    fn from(args: GenerateArgs) -> Self {
        // u64 → usize: clap parsed them as u64; on a 64-bit target nothing is cut.
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Self {
            accounts: size(args.accounts),
            users: size(args.users),
            flows: size(args.flows),
            end_users: size(args.end_users),
            conversations: size(args.conversations),
            participants: size(args.participants),
            messages: size(args.messages),
            keys: size(args.keys),
            seed: args.random_seed,
        }
    }
}

/// Applies a fixture file and prints what it did, plus any credential it had to make.
async fn seed_file(core: &localtwilio::domain::Core, file: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read fixture {}", file.display()))?;
    let applied = match seed::apply(core, &text).await {
        Ok(applied) => applied,
        Err(e) => match e.downcast::<seed::SeedError>() {
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
    tracing::info!(address = %listener.local_addr()?, database = %localtwilio::database_name(config), "localtwilio listening");
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
        localtwilio::database_name(config)
    ));
    Ok(())
}

async fn export(
    config: &Config,
    account: Option<AccountSid>,
    secrets: bool,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    if let Some(path) = &output
        && path.exists()
    {
        anyhow::bail!("{} already exists; choose a new file", path.display());
    }
    // Reads only: runs beside a server on the same file.
    let core = localtwilio::open_core_alongside(config).await?;
    let progress = Progress::new(None, "rows");
    let mut rows = 0u64;
    let exported = seed::export(&core, account.as_ref(), secrets, &mut |n| {
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
        "exported {rows} rows ({} at top level) to {target} in {seconds:.2} s{}",
        localtwilio::counted(fixture.accounts.len(), "account", "accounts"),
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
    if localtwilio::store::postgres_url(&config.database).is_some() {
        anyhow::bail!(localtwilio::store::dialect::BACKUP_ON_POSTGRES);
    }
    anyhow::ensure!(
        !target.exists(),
        "{} already exists; choose a new file",
        target.display()
    );
    let store = localtwilio::store::Store::open_existing(&config.database, 0)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                localtwilio::database_name(config)
            )
        })?;
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
        localtwilio::database_name(config),
        target.display(),
    ));
    Ok(())
}

/// SIGINT or SIGTERM.
/// Resolves on SIGTERM or SIGINT. The handlers are registered when this is called — before the
/// server answers anything — not when the future is first polled: the accept loop may poll it
/// only after its first connection, and a SIGTERM in that window (a supervisor stopping a server
/// that just reported healthy) killed the process outright instead of shutting it down.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let terminate = async {
                match terminate.as_mut() {
                    Some(signal) => drop(signal.recv().await),
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(signal) => drop(signal.recv().await),
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = terminate => {},
                () = interrupt => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own consistency checks over the whole definition (ids, groups, conflicts).
    #[test]
    fn the_command_line_definition_is_consistent() {
        cli().debug_assert();
    }

    /// The clap error a command line ends in (it must not parse).
    fn refused(args: &[&str]) -> clap::Error {
        match parse_from(args) {
            Ok(_) => panic!("{args:?} was accepted"),
            Err(error) => error,
        }
    }

    #[test]
    fn config_and_serves_seed_go_before_or_after_the_command_once() {
        for args in [
            &["localtwilio", "--config", "c.toml", "backup", "b.db"][..],
            &["localtwilio", "backup", "b.db", "--config", "c.toml"],
        ] {
            let parsed = parse_from(args).unwrap();
            assert_eq!(parsed.config, Some(PathBuf::from("c.toml")));
            assert!(matches!(parsed.command, Command::Backup { .. }));
        }
        for args in [
            &["localtwilio", "--seed", "f.json", "serve"][..],
            &["localtwilio", "serve", "--seed", "f.json"],
        ] {
            let parsed = parse_from(args).unwrap();
            let Command::Serve { serve, .. } = parsed.command else {
                panic!("not serve");
            };
            assert_eq!(serve.seed, Some(PathBuf::from("f.json")));
        }
        // Given on both sides, clap's `global` kept the second silently: refused instead.
        for (args, flag) in [
            (
                &[
                    "localtwilio",
                    "--config",
                    "a",
                    "seed",
                    "--config",
                    "b",
                    "--generate",
                ][..],
                "'--config <PATH>' cannot be used multiple times",
            ),
            (
                &["localtwilio", "--config", "a", "serve", "--config", "b"],
                "'--config <PATH>' cannot be used multiple times",
            ),
            (
                &["localtwilio", "--seed", "a", "serve", "--seed", "b"],
                "'--seed <FILE>' cannot be used multiple times",
            ),
            (
                &["localtwilio", "--seed", "f.json", "seed", "g.json"],
                "--seed FILE before a command is serve's",
            ),
            (
                &["localtwilio", "--seed", "f.json", "export"],
                "--seed FILE before a command is serve's",
            ),
        ] {
            let error = refused(args);
            assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
            assert!(error.to_string().contains(flag), "{args:?}: {error}");
        }
    }

    #[test]
    fn a_malformed_account_sid_is_a_usage_mistake() {
        let error = refused(&["localtwilio", "export", "--account", "ACzz"]);
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(
            error.to_string().contains("'ACzz' is not an account SID"),
            "{error}"
        );
        let parsed = parse_from([
            "localtwilio",
            "export",
            "--account",
            "ACa1b2c3d4e5f60718293a4b5c6d7e8f90",
        ])
        .unwrap();
        let Command::Export(export) = parsed.command else {
            panic!("not export");
        };
        assert_eq!(
            export.account.map(|sid| sid.as_str().to_owned()),
            Some("ACa1b2c3d4e5f60718293a4b5c6d7e8f90".to_owned())
        );
    }

    #[test]
    fn serve_is_the_default_and_keeps_its_flags() {
        let parsed = parse_from(["localtwilio", "--seed", "f.json", "--config", "c.toml"]).unwrap();
        let Command::Serve { serve, .. } = parsed.command else {
            panic!("not serve");
        };
        assert_eq!(serve.seed, Some(PathBuf::from("f.json")));
        assert_eq!(parsed.config, Some(PathBuf::from("c.toml")));
        let parsed = parse_from(["localtwilio", "seed", "--generate", "--users", "7"]).unwrap();
        let Command::Seed(seed) = parsed.command else {
            panic!("not seed");
        };
        let sizes = localtwilio::generate::Sizes::from(seed.sizes);
        assert_eq!((sizes.users, sizes.accounts, sizes.seed), (7, 10, 1));
    }
}
