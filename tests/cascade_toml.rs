//! `cascade.toml`: the shipped example documents the real defaults and every key, mistakes
//! are refused at their line, and `--forge github` without credentials fails with its own
//! exit code and a message naming the variable to set — never a credential.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use cascade::config::{Config, ConfigError, ForgeKind};
use cascade::forge::github::Transport;

/// Exit code of a missing or refused credential (`ExitStatus::AuthFailed`).
const AUTH_FAILED: i32 = 4;

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cascade.example.toml")
}

fn example() -> String {
    fs_err::read_to_string(example_path()).unwrap()
}

/// The example with its optional settings switched on: every commented-out line that is a
/// table header or a `key = value` line.
fn example_uncommented() -> String {
    example()
        .lines()
        .map(|line| {
            let rest = line.strip_prefix("# ").unwrap_or("");
            let is_setting = rest.starts_with('[')
                || rest.split_once(" = ").is_some_and(|(key, _)| {
                    key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                });
            if is_setting { rest } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_example_parses_to_exactly_the_defaults() {
    let config = Config::parse(&example(), &example_path()).unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn the_example_with_every_optional_setting_switched_on_parses() {
    let text = example_uncommented();
    let config = Config::parse(&text, Path::new("uncommented.toml")).unwrap();
    let app = config.github.auth.app.expect("the [github.auth.app] table");
    assert_eq!((app.app_id, app.installation_id), (123_456, 7_654_321));
    assert_eq!(app.private_key_env, "CASCADE_GITHUB_APP_KEY");
    assert_eq!(
        config.local.forge_dir.as_deref(),
        Some(Path::new("graph-data/forge"))
    );
    assert_eq!(config.local.org.as_deref(), Some("conda-forge"));
    assert_eq!(config.local.bot_user.as_deref(), Some("cascade-bot"));
}

#[test]
fn every_key_of_the_configuration_is_in_the_example() {
    // Each key the types accept, as it must appear (set or commented out) in the example.
    let keys = [
        "forge",
        "forge_dir",
        "org",
        "bot_user",
        "api_url",
        "transport",
        "upstream_git_url",
        "fork_git_url",
        "token_env",
        "app_id",
        "installation_id",
        "private_key_env",
        "creates_per_minute",
        "creates_per_hour",
        "create_spacing_ms",
        "core_reserve",
        "retries",
        "secondary_backoff_secs",
        "max_wait_secs",
    ];
    let text = example_uncommented();
    for key in keys {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{key} = "))),
            "`{key}` is not documented in cascade.example.toml"
        );
    }
    // And nothing else: each documented key is one the types accept (else the parse
    // above would have failed), so the list is complete when the counts agree.
    let documented = text
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(" = "))
        .count();
    assert_eq!(documented, keys.len() + 2, "org and bot_user appear twice");
}

#[test]
fn settings_override_only_what_they_name() {
    let config = Config::parse(
        "forge = \"github\"\n[github]\ntransport = \"api\"\n[github.limits]\ncreates_per_hour = 50\n",
        Path::new("cascade.toml"),
    )
    .unwrap();
    assert_eq!(config.forge, ForgeKind::Github);
    assert_eq!(config.github.transport, Transport::Api);
    assert_eq!(config.github.limits.creates_per_hour, 50);
    assert_eq!(config.github.limits.creates_per_minute, 80);
    assert_eq!(config.github.api_url, "https://api.github.com");
}

#[test]
fn a_typo_names_the_file_the_line_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cascade.toml");
    fs_err::write(
        &path,
        "forge = \"github\"\n\n[github.limits]\ncreates_per_minute = 10\ncreates_per_hr = 100\n",
    )
    .unwrap();
    let error = Config::load(&path).unwrap_err();
    assert!(
        matches!(error, ConfigError::Invalid { line: Some(5), .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("{}:5:1: ", path.display())),
        "{text}"
    );
    assert!(text.contains("creates_per_hr"), "{text}");

    // Through the command line: an ordinary error (exit 2) with the same location.
    let output = cascade(dir.path())
        .args(["run", "--data-dir", "data", "--dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cascade.toml:5:1"), "{stderr}");
    assert!(stderr.contains("creates_per_hr"), "{stderr}");
}

/// `cascade` in `cwd`, with no GitHub credential in its environment.
fn cascade(cwd: &Path) -> Command {
    let mut command = Command::cargo_bin("cascade").unwrap();
    command
        .current_dir(cwd)
        .env_remove("CASCADE_GITHUB_TOKEN")
        .env_remove("CASCADE_GITHUB_APP_KEY")
        .env_remove("CASCADE_LOG");
    command
}

#[test]
fn forge_github_without_a_token_exits_with_the_auth_code_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = cascade(dir.path())
        .args(["run", "--forge", "github", "--data-dir", "data"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(AUTH_FAILED), "{stderr}");
    assert!(
        stderr.contains("`CASCADE_GITHUB_TOKEN` is not set"),
        "{stderr}"
    );

    // The variable the configuration names is the one asked for; a token sitting in
    // another variable is neither used nor printed.
    let secret = "ghp_someone_elses_token_0123456789abcdef";
    fs_err::write(
        dir.path().join("cascade.toml"),
        "forge = \"github\"\n[github.auth]\ntoken_env = \"BOT_TOKEN_FOR_CASCADE\"\n",
    )
    .unwrap();
    for args in [
        &["run", "--data-dir", "data"][..],
        &[
            "graph",
            "build",
            "--github",
            "conda-forge",
            "--db",
            "data/c.sqlite",
        ][..],
    ] {
        let output = cascade(dir.path())
            .env("CASCADE_GITHUB_TOKEN", secret)
            .env_remove("BOT_TOKEN_FOR_CASCADE")
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(AUTH_FAILED),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("`BOT_TOKEN_FOR_CASCADE` is not set"),
            "{args:?}: {stderr}"
        );
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
}

#[test]
fn the_forge_flag_overrides_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(dir.path().join("cascade.toml"), "forge = \"github\"\n").unwrap();
    // `--forge local` wins: no credential is asked for. The run then needs the pinning
    // feedstock the empty local forge lacks — an ordinary error, not an auth failure.
    let output = cascade(dir.path())
        .args(["run", "--forge", "local", "--data-dir", "data", "--dry-run"])
        .args(["--offline", "--no-versions"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(AUTH_FAILED), "{stderr}");
    assert!(!stderr.contains("CASCADE_GITHUB_TOKEN"), "{stderr}");
    assert!(stderr.contains("no pinning"), "{stderr}");
    assert!(dir.path().join("data/forge").is_dir(), "{stderr}");

    // An explicit --config that does not exist is an error (a default one is optional).
    let output = cascade(dir.path())
        .args(["run", "--config", "missing.toml", "--data-dir", "data"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing.toml"), "{stderr}");
}

#[test]
fn the_local_forge_commands_read_the_local_table() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(
        dir.path().join("cascade.toml"),
        "[local]\nforge_dir = \"elsewhere/forge\"\n",
    )
    .unwrap();
    let output = cascade(dir.path())
        .args(["forge", "pr", "list"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no forge at `elsewhere/forge`"), "{stderr}");

    // The flag wins over the file.
    let output = cascade(dir.path())
        .args(["forge", "--forge-dir", "flagged", "pr", "list"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no forge at `flagged`"), "{stderr}");
}
