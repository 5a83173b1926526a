//! `cascade version-bump`: move one feedstock's recipe to a new upstream version, as the
//! version migrator would, and write it (or print the diff).
//!
//! The rewrite is [`crate::recipe::version::bump_version`]; this file finds the recipe,
//! chooses the fetcher from the flags (offline cache, HTTP behind the cache, the store's
//! persistent cache when `--db` is given) and prints.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use crate::graph::{Store, StoredHashCache};
use crate::recipe::RecipeFormat;
use crate::recipe::version::{
    CachedFetch, Fetch, HashCache, HttpFetch, HttpOptions, OfflineFetch, VersionBump, bump_version,
};

use super::ExitStatus;

/// Rewrite a feedstock's recipe to a new version: the version, every source URL and
/// hash, and the build number back to 0. Everything else in the file stays as it is.
///
/// Exit status: 0 rewritten (or, with --dry-run, the diff printed), 2 error (the message
/// names the file, and lists every URL tried when none hashed).
#[derive(Debug, Args)]
pub struct VersionBumpArgs {
    /// The feedstock directory (holding `recipe/meta.yaml` or `recipe/recipe.yaml`), or
    /// the recipe folder itself.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The new version.
    #[arg(long = "to", value_name = "VERSION")]
    to: String,
    /// A JSON object mapping source URLs to their digests
    /// (`{"https://…/x-1.2.tar.gz": {"sha256": "…"}}`), trusted without downloading.
    #[arg(long, value_name = "FILE")]
    hash_cache: Option<PathBuf>,
    /// Use no network: a URL missing from the hash cache counts as not existing.
    #[arg(long)]
    offline: bool,
    /// Print a unified diff of the change instead of writing the recipe.
    #[arg(long)]
    dry_run: bool,
    /// A graph database whose persistent hash cache to read and fill.
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// The PEP 691 simple index asked for real sdist names (a PyPI mirror).
    #[arg(long, value_name = "URL", default_value = "https://pypi.org/simple")]
    pypi_index: String,
}

/// Where the digests come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Network {
    /// Download what the caches do not know.
    Online,
    /// Caches only.
    Offline,
}

/// What to do with the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DryRun {
    /// Write the recipe.
    Disabled,
    /// Print the diff.
    Enabled,
}

/// Runs `cascade version-bump`.
pub fn run(args: VersionBumpArgs) -> anyhow::Result<ExitStatus> {
    let network = if args.offline {
        Network::Offline
    } else {
        Network::Online
    };
    let dry_run = if args.dry_run {
        DryRun::Enabled
    } else {
        DryRun::Disabled
    };
    let (path, format) = find_recipe(&args.dir)?;
    let text = fs_err::read_to_string(&path)?;
    let cache = match &args.hash_cache {
        Some(file) => HashCache::load(file)?,
        None => HashCache::new(),
    };
    let store = args.db.as_deref().map(Store::open_or_create).transpose()?;
    let options = HttpOptions {
        pypi_index: args.pypi_index.clone(),
        ..HttpOptions::default()
    };
    let bump = with_fetch(network, options, &cache, store.as_ref(), |fetch| {
        bump_version(format, &text, &args.to, fetch)
    })?
    .with_context(|| format!("cannot move `{}` to version {}", path.display(), args.to))?;
    let mut stdout = std::io::stdout().lock();
    match dry_run {
        DryRun::Enabled => {
            let name = path.display().to_string();
            let diff = similar::TextDiff::from_lines(&text, &bump.text);
            write!(stdout, "{}", diff.unified_diff().header(&name, &name))?;
        }
        DryRun::Disabled => {
            fs_err::write(&path, &bump.text)?;
            report(&mut stdout, &path, &bump)?;
        }
    }
    Ok(ExitStatus::Success)
}

/// The recipe of a feedstock directory or recipe folder; `meta.yaml` wins over
/// `recipe.yaml`, as in the feedstock loader.
fn find_recipe(dir: &Path) -> anyhow::Result<(PathBuf, RecipeFormat)> {
    for folder in [dir.join("recipe"), dir.to_path_buf()] {
        for format in [RecipeFormat::V0, RecipeFormat::V1] {
            let path = folder.join(format.file_name());
            if path.is_file() {
                return Ok((path, format));
            }
        }
    }
    bail!(
        "no recipe in `{}` (looked for recipe/meta.yaml, recipe/recipe.yaml, meta.yaml, recipe.yaml)",
        dir.display()
    )
}

/// Builds the fetcher chain the flags ask for and runs `f` with it.
fn with_fetch<T>(
    network: Network,
    options: HttpOptions,
    cache: &HashCache,
    store: Option<&Store>,
    f: impl FnOnce(&dyn Fetch) -> T,
) -> anyhow::Result<T> {
    let offline;
    let http;
    let cached;
    let base: &dyn Fetch = match network {
        Network::Offline => {
            offline = OfflineFetch::new(cache);
            &offline
        }
        Network::Online => {
            http = HttpFetch::new(options)?;
            cached = CachedFetch::new(cache, &http);
            &cached
        }
    };
    Ok(match store {
        Some(store) => f(&StoredHashCache::new(store, base)),
        None => f(base),
    })
}

fn report(out: &mut impl Write, path: &Path, bump: &VersionBump) -> anyhow::Result<()> {
    writeln!(out, "{}: version {}", path.display(), bump.version)?;
    for source in &bump.sources {
        writeln!(out, "  line {}: {}", source.line, source.new_url)?;
        if let Some(template) = &source.new_template {
            writeln!(out, "    new url template: {template}")?;
        }
        for hash in &source.hashes {
            writeln!(out, "    {}: {}", hash.kind.as_str(), hash.new)?;
        }
    }
    if bump.build_number_reset {
        writeln!(out, "  build number: 0")?;
    }
    Ok(())
}
