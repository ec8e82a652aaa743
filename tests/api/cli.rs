//! The command line (clap): every flag belongs to its subcommand and is checked there,
//! `--version`, `--help` per subcommand, and the help lists every environment variable.

use std::{path::Path, process::Command};

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_localtwilio"))
        .args(args)
        .env("LOCALTWILIO_DATABASE", dir.join("cli.db"))
        .env("LOCALTWILIO_LOG", "warn")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_and_help_answer_on_stdout_with_exit_code_0() {
    let dir = tempfile::tempdir().unwrap();
    let version = run(dir.path(), &["--version"]);
    assert_eq!(version.status.code(), Some(0), "{}", text(&version.stderr));
    assert_eq!(
        text(&version.stdout).trim(),
        format!("localtwilio {}", env!("CARGO_PKG_VERSION"))
    );
    let help = run(dir.path(), &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    for var in localtwilio::config::ENV {
        assert!(
            help.contains(var.name),
            "--help misses {}:\n{help}",
            var.name
        );
    }
    for command in ["serve", "seed", "export", "backup"] {
        assert!(help.contains(command), "{help}");
    }
    assert!(
        !dir.path().join("cli.db").exists(),
        "--help opened the database"
    );
}

#[test]
fn each_subcommand_has_its_own_help() {
    let dir = tempfile::tempdir().unwrap();
    let help = |command: &str| {
        let output = run(dir.path(), &[command, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    let seed = help("seed");
    assert!(seed.contains("Usage: localtwilio seed"), "{seed}");
    for flag in [
        "--generate",
        "--users",
        "--end-users",
        "--manifest",
        "--config",
    ] {
        assert!(seed.contains(flag), "seed --help misses {flag}:\n{seed}");
    }
    let export = help("export");
    assert!(export.contains("Usage: localtwilio export"), "{export}");
    for flag in ["--account", "--secrets", "--output"] {
        assert!(export.contains(flag), "{export}");
    }
    assert!(!export.contains("--manifest"), "{export}");
    let backup = help("backup");
    assert!(backup.contains("Usage: localtwilio backup"), "{backup}");
    let serve = help("serve");
    assert!(serve.contains("--seed <FILE>"), "{serve}");
    // serve reads every variable: its help lists them all, the other commands point to them.
    for var in localtwilio::config::ENV {
        assert!(
            serve.contains(var.name),
            "serve --help misses {}:\n{serve}",
            var.name
        );
    }
    for other in [&seed, &export, &backup] {
        assert!(other.contains("LOCALTWILIO_* variables"), "{other}");
    }
}

/// Issue 14: `seed FILE --users 5` used to apply the file and ignore `--users`. And the
/// review after it: a malformed `--account`, `--config`/`--seed` on both sides of the command.
#[test]
fn a_flag_of_another_mode_or_command_is_refused_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.json");
    let demo = demo.to_str().unwrap();
    for args in [
        vec!["seed", demo, "--users", "5"],
        vec!["seed", demo, "--manifest", "m.json"],
        vec!["seed", demo, "--generate"],
        vec!["seed"],
        vec!["seed", "--generate", "--accounts", "0"],
        vec!["seed", "--generate", "--users", "many"],
        vec!["export", "--users", "5"],
        vec!["export", "--manifest", "m.json"],
        vec!["backup"],
        vec!["serve", "--secrets"],
        vec!["--bogus"],
        // Checked while parsing, not after the configuration is loaded (it exited 1).
        vec!["export", "--account", "ACzz"],
        // Given before and after the command: the second used to win silently.
        vec![
            "--config",
            "a.toml",
            "seed",
            "--config",
            "b.toml",
            "--generate",
        ],
        vec!["--seed", "a.json", "serve", "--seed", "b.json"],
        vec!["--seed", "a.json", "backup", "b.db"],
    ] {
        let output = run(dir.path(), &args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains("--help"),
            "{args:?}: {stderr}"
        );
    }
    assert!(
        !dir.path().join("cli.db").exists(),
        "a refused command line touched the database"
    );
    let twice = text(
        &run(
            dir.path(),
            &["--seed", "a.json", "serve", "--seed", "b.json"],
        )
        .stderr,
    );
    assert!(
        twice.contains("'--seed <FILE>' cannot be used multiple times"),
        "{twice}"
    );
    let twice = text(
        &run(
            dir.path(),
            &["--config", "a.toml", "backup", "c.db", "--config", "b.toml"],
        )
        .stderr,
    );
    assert!(
        twice.contains("'--config <PATH>' cannot be used multiple times"),
        "{twice}"
    );
}
