//! `cascade forge`: the local forge from the maintainers' side — import feedstock
//! checkouts as repositories, then list, show, merge, close, label PRs and set their CI
//! status, as people and CI do on GitHub while the bot runs.
//!
//! The forge's directory and org come from the flags, else `[local]` of `cascade.toml`
//! (see [`crate::config`]), else the defaults. Flags become library types here
//! (`--state` into a [`PrFilter`], `passing` into a [`CiStatus`]); the work is done by
//! [`LocalForge`](crate::forge::local::LocalForge).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use crate::forge::local::{
    DEFAULT_BOT_USER, DEFAULT_ORG, LocalForge, LocalForgeOptions, PrComment, PrFilter,
};
use crate::forge::{CiStatus, PrState, PullRequest};

use super::ExitStatus;
use super::forge_choice;

/// Work with the local forge: import feedstocks, inspect and act on PRs.
#[derive(Debug, Args)]
pub struct ForgeArgs {
    /// The local forge's directory (default: `[local] forge_dir` of the configuration,
    /// else `graph-data/forge`).
    #[arg(long, value_name = "DIR", global = true)]
    forge_dir: Option<PathBuf>,
    /// The organisation holding the feedstock repositories (default: `[local] org` of the
    /// configuration, else `conda-forge`).
    #[arg(long, value_name = "ORG", global = true)]
    org: Option<String>,
    /// The configuration file (default: `./cascade.toml` when it exists).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: ForgeCommand,
}

#[derive(Debug, Subcommand)]
enum ForgeCommand {
    /// Import a directory of `<name>-feedstock` checkouts as repositories (one commit of
    /// each checkout's files on `main`; re-importing adds a commit only where files changed).
    Import(ImportArgs),
    /// List, show and act on pull requests.
    Pr(PrArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The directory holding the `<name>-feedstock` checkouts.
    dir: PathBuf,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Debug, Args)]
struct PrArgs {
    #[command(subcommand)]
    command: PrCommand,
}

#[derive(Debug, Subcommand)]
enum PrCommand {
    /// List PRs: number, feedstock, state, CI, labels, title.
    List(ListArgs),
    /// Show one PR with its body and comments (mergeability recomputed).
    Show(ShowArgs),
    /// Merge a PR into its base branch (fast-forward, else a merge commit; refused on conflicts).
    Merge(NumberArg),
    /// Close a PR without merging.
    Close(NumberArg),
    /// Add a label to a PR (`bot-rerun`, `automerge`, ...).
    Label(LabelArgs),
    /// Set the CI status of a PR's head commit.
    Ci(CiArgs),
}

#[derive(Debug, Args)]
struct JsonArg {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Which PRs to list.
    #[arg(long, value_enum, default_value_t = StateArg::Open)]
    state: StateArg,
    /// Only the PRs of this feedstock (name without `-feedstock`).
    #[arg(long, value_name = "NAME")]
    feedstock: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The PR number.
    number: u64,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Debug, Args)]
struct NumberArg {
    /// The PR number.
    number: u64,
}

#[derive(Debug, Args)]
struct LabelArgs {
    /// The PR number.
    number: u64,
    /// The label.
    label: String,
}

#[derive(Debug, Args)]
struct CiArgs {
    /// The PR number.
    number: u64,
    /// The status of the head commit's checks.
    status: CiArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StateArg {
    /// Open PRs (drafts included).
    Open,
    /// Merged PRs.
    Merged,
    /// PRs closed without merging.
    Closed,
    /// Every PR.
    All,
}

impl StateArg {
    fn state(self) -> Option<PrState> {
        match self {
            StateArg::Open => Some(PrState::Open),
            StateArg::Merged => Some(PrState::Merged),
            StateArg::Closed => Some(PrState::Closed),
            StateArg::All => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CiArg {
    /// Every check passed.
    Passing,
    /// At least one check failed.
    Failing,
    /// Checks are running.
    Pending,
}

impl From<CiArg> for CiStatus {
    fn from(arg: CiArg) -> CiStatus {
        match arg {
            CiArg::Passing => CiStatus::Passing,
            CiArg::Failing => CiStatus::Failing,
            CiArg::Pending => CiStatus::Pending,
        }
    }
}

/// Runs `cascade forge ...`.
pub fn run(args: ForgeArgs) -> anyhow::Result<ExitStatus> {
    let config = forge_choice::load_config(args.config.as_deref())?;
    let dir = args
        .forge_dir
        .or(config.local.forge_dir)
        .unwrap_or_else(|| PathBuf::from("graph-data/forge"));
    let org = args
        .org
        .or(config.local.org)
        .unwrap_or_else(|| DEFAULT_ORG.to_owned());
    let bot_user = config
        .local
        .bot_user
        .unwrap_or_else(|| DEFAULT_BOT_USER.to_owned());
    let forge = Location {
        dir: &dir,
        org: &org,
        bot_user: &bot_user,
    };
    match args.command {
        ForgeCommand::Import(import_args) => import(&forge, &import_args),
        ForgeCommand::Pr(pr_args) => match pr_args.command {
            PrCommand::List(list_args) => list(&forge, &list_args),
            PrCommand::Show(show_args) => show(&forge, &show_args),
            PrCommand::Merge(number) => merge(&forge, number.number),
            PrCommand::Close(number) => close(&forge, number.number),
            PrCommand::Label(label_args) => label(&forge, &label_args),
            PrCommand::Ci(ci_args) => ci(&forge, &ci_args),
        },
    }
}

/// Where the forge is, as the user gave it (for messages).
struct Location<'a> {
    dir: &'a Path,
    org: &'a str,
    bot_user: &'a str,
}

impl Location<'_> {
    /// Opens the forge, creating it (for `import`).
    fn create(&self) -> anyhow::Result<LocalForge> {
        let options = LocalForgeOptions {
            org: self.org.to_string(),
            bot_user: self.bot_user.to_string(),
        };
        LocalForge::open(self.dir, &options)
            .with_context(|| format!("cannot open the forge at `{}`", self.dir.display()))
    }

    /// Opens an existing forge; a missing one is an error rather than a new empty forge.
    fn existing(&self) -> anyhow::Result<LocalForge> {
        if !self.dir.join("forge.sqlite").is_file() {
            bail!(
                "no forge at `{}` (create one with `cascade forge import DIR`, or pass --forge-dir)",
                self.dir.display()
            );
        }
        self.create()
    }
}

fn print_json(value: &impl Serialize) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).context("failed to write JSON")?;
    writeln!(out)?;
    Ok(ExitStatus::Success)
}

fn import(location: &Location<'_>, args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    // Checked before the forge is created, so a typo leaves no empty forge behind.
    if !args.dir.is_dir() {
        bail!(
            "cannot import `{}`: not a directory of feedstock checkouts",
            args.dir.display()
        );
    }
    let forge = location.create()?;
    let summary = forge.import(&args.dir).with_context(|| {
        format!(
            "cannot import `{}` into the forge at `{}`",
            args.dir.display(),
            location.dir.display()
        )
    })?;
    if args.json.json {
        return print_json(&summary);
    }
    let mut err = std::io::stderr().lock();
    for skipped in &summary.skipped {
        writeln!(
            err,
            "warning: skipped `{}`: {}",
            skipped.path.display(),
            skipped.reason
        )?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "imported {} feedstocks into `{}` ({} new, {} updated, {} unchanged), skipped {}",
        summary.imported(),
        location.dir.display(),
        summary.created.len(),
        summary.updated.len(),
        summary.unchanged.len(),
        summary.skipped.len()
    )?;
    Ok(ExitStatus::Success)
}

fn list(location: &Location<'_>, args: &ListArgs) -> anyhow::Result<ExitStatus> {
    let forge = location.existing()?;
    let filter = PrFilter {
        state: args.state.state(),
        feedstock: args.feedstock.clone(),
    };
    let prs = forge
        .list_prs(&filter)
        .with_context(|| format!("cannot list the PRs of `{}`", location.dir.display()))?;
    if args.json.json {
        return print_json(&prs);
    }
    let rows: Vec<[String; 6]> = prs
        .iter()
        .map(|pr| {
            [
                format!("#{}", pr.number),
                pr.feedstock.clone(),
                state_text(pr).to_string(),
                pr.ci.as_str().to_string(),
                labels_text(pr),
                pr.title.clone(),
            ]
        })
        .collect();
    let header = ["PR", "FEEDSTOCK", "STATE", "CI", "LABELS", "TITLE"].map(str::to_string);
    let mut widths = header.clone().map(|cell| cell.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
            if index + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(ExitStatus::Success)
}

/// A PR with its comments, as `pr show --json` prints it.
#[derive(Serialize)]
struct ShownPr<'a> {
    #[serde(flatten)]
    pr: &'a PullRequest,
    comments: &'a [PrComment],
}

fn show(location: &Location<'_>, args: &ShowArgs) -> anyhow::Result<ExitStatus> {
    let forge = location.existing()?;
    let context = || format!("cannot show PR #{}", args.number);
    let pr = forge.pr_by_number(args.number).with_context(context)?;
    let comments = forge.comments(args.number).with_context(context)?;
    if args.json.json {
        return print_json(&ShownPr {
            pr: &pr,
            comments: &comments,
        });
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "#{} {}: {}", pr.number, pr.feedstock, pr.title)?;
    writeln!(out, "state:      {}", state_text(&pr))?;
    writeln!(out, "head:       {} -> {}", pr.head, pr.base)?;
    writeln!(out, "head sha:   {}", pr.head_sha)?;
    writeln!(out, "ci:         {}", pr.ci.as_str())?;
    writeln!(out, "mergeable:  {}", pr.mergeable.as_str())?;
    writeln!(out, "labels:     {}", labels_text(&pr))?;
    writeln!(out, "url:        {}", pr.url)?;
    writeln!(out, "created at: {} (Unix seconds)", pr.created_at)?;
    writeln!(out, "updated at: {}", pr.updated_at)?;
    if let Some(closed_at) = pr.closed_at {
        writeln!(out, "closed at:  {closed_at}")?;
    }
    writeln!(out)?;
    writeln!(out, "{}", pr.body.trim_end())?;
    for comment in &comments {
        writeln!(out)?;
        writeln!(out, "--- {} at {}", comment.author, comment.created_at)?;
        writeln!(out, "{}", comment.body.trim_end())?;
    }
    Ok(ExitStatus::Success)
}

fn merge(location: &Location<'_>, number: u64) -> anyhow::Result<ExitStatus> {
    let forge = location.existing()?;
    let pr = forge
        .merge(number)
        .with_context(|| format!("cannot merge PR #{number}"))?;
    writeln!(
        std::io::stdout().lock(),
        "merged #{} into {}/{}-feedstock {}: {}",
        pr.number,
        location.org,
        pr.feedstock,
        pr.base,
        pr.title
    )?;
    Ok(ExitStatus::Success)
}

fn close(location: &Location<'_>, number: u64) -> anyhow::Result<ExitStatus> {
    let forge = location.existing()?;
    let pr = forge
        .close(number)
        .with_context(|| format!("cannot close PR #{number}"))?;
    writeln!(
        std::io::stdout().lock(),
        "#{} on {} is {}",
        pr.number,
        pr.feedstock,
        pr.state.as_str()
    )?;
    Ok(ExitStatus::Success)
}

fn label(location: &Location<'_>, args: &LabelArgs) -> anyhow::Result<ExitStatus> {
    let forge = location.existing()?;
    let pr = forge
        .label(args.number, &args.label)
        .with_context(|| format!("cannot label PR #{}", args.number))?;
    writeln!(
        std::io::stdout().lock(),
        "#{} labels: {}",
        pr.number,
        labels_text(&pr)
    )?;
    Ok(ExitStatus::Success)
}

fn ci(location: &Location<'_>, args: &CiArgs) -> anyhow::Result<ExitStatus> {
    let forge = location.existing()?;
    let pr = forge
        .set_ci(args.number, args.status.into())
        .with_context(|| format!("cannot set the CI status of PR #{}", args.number))?;
    writeln!(
        std::io::stdout().lock(),
        "#{} CI: {}",
        pr.number,
        pr.ci.as_str()
    )?;
    Ok(ExitStatus::Success)
}

/// `open`, `draft`, `merged` or `closed`.
fn state_text(pr: &PullRequest) -> &'static str {
    if pr.state == PrState::Open && pr.draft {
        "draft"
    } else {
        pr.state.as_str()
    }
}

fn labels_text(pr: &PullRequest) -> String {
    if pr.labels.is_empty() {
        "-".to_string()
    } else {
        pr.labels.iter().cloned().collect::<Vec<_>>().join(",")
    }
}
