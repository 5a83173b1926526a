//! `cascade universe`: write a synthetic conda-forge universe (`generate`) or change a
//! fraction of one the way upstream activity does (`touch`). The work is done by
//! [`crate::universe`].

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::universe::{self, DEFAULT_SEED, UniverseOptions, UniverseSummary};

use super::ExitStatus;

/// Generate synthetic feedstock universes for demos, tests and benchmarks.
#[derive(Debug, Args)]
pub struct UniverseArgs {
    #[command(subcommand)]
    command: UniverseCommand,
}

#[derive(Debug, Subcommand)]
enum UniverseCommand {
    /// Write a universe of `<name>-feedstock` directories into an empty directory.
    ///
    /// The same --size and --seed always give a byte-identical tree.
    Generate(GenerateArgs),
    /// Bump the build number of a fraction of a universe's recipes.
    Touch(TouchArgs),
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Number of feedstocks, the hubs and `conda-forge-pinning` included.
    #[arg(long, value_name = "N")]
    size: usize,
    /// The directory to write (must be missing or empty).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Seed of the random stream.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct TouchArgs {
    /// The universe directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Fraction of feedstocks to touch (0.01 is 1%).
    #[arg(long, value_name = "F", default_value_t = 0.01)]
    fraction: f64,
    /// Seed choosing which feedstocks.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    seed: u64,
}

/// Runs `cascade universe ...`.
pub fn run(args: UniverseArgs) -> anyhow::Result<ExitStatus> {
    match args.command {
        UniverseCommand::Generate(args) => generate(&args),
        UniverseCommand::Touch(args) => touch(&args),
    }
}

fn generate(args: &GenerateArgs) -> anyhow::Result<ExitStatus> {
    let options = UniverseOptions {
        size: args.size,
        seed: args.seed,
    };
    let summary = universe::generate(&options, &args.out)
        .with_context(|| format!("generating a universe in `{}`", args.out.display()))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
    } else {
        print_summary(&mut out, &summary, &args.out)?;
    }
    Ok(ExitStatus::Success)
}

/// Prints a generated universe's summary as text.
fn print_summary(
    out: &mut impl Write,
    summary: &UniverseSummary,
    dir: &std::path::Path,
) -> std::io::Result<()> {
    writeln!(
        out,
        "wrote {} feedstocks ({} files, {:.1} MB) to {} in {:.2} s",
        summary.feedstocks,
        summary.files,
        summary.bytes as f64 / 1e6,
        dir.display(),
        summary.wall_ms as f64 / 1000.0
    )?;
    writeln!(
        out,
        "  recipes: {} v0 meta.yaml, {} v1 recipe.yaml; {} noarch python, {} multi-output",
        summary.v0_recipes, summary.v1_recipes, summary.noarch_python, summary.multi_output
    )?;
    writeln!(
        out,
        "  .ci_support variant files: {}",
        summary.ci_support_files
    )?;
    let cycles: Vec<String> = summary
        .cycles
        .iter()
        .map(|[a, b]| format!("{a} <-> {b}"))
        .collect();
    writeln!(out, "  deliberate cycles: {}", cycles.join(", "))
}

fn touch(args: &TouchArgs) -> anyhow::Result<ExitStatus> {
    let touched = universe::touch(&args.dir, args.fraction, args.seed)
        .with_context(|| format!("touching recipes in `{}`", args.dir.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "bumped the build number of {} feedstocks",
        touched.len()
    )?;
    for name in &touched {
        writeln!(out, "  {name}")?;
    }
    Ok(ExitStatus::Success)
}
