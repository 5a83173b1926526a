//! The version rewrite over the real corpus (`../shared/data/feedstocks`): every recipe
//! is moved to version 99.99.99 with a fetcher under which every URL of that release
//! exists (its digest is the SHA-256 of the URL text). The result is then checked by the
//! independent renderer, per platform of each feedstock's `.ci_support`: the rendered
//! version contains the new one (some recipes prefix it: libprotobuf's `7.` + version),
//! every source URL of the new release carries exactly the digest of that URL (so the
//! hash landed where the renderer reads it, under the right selector), the build number
//! is what the original recipe renders with its build number reset (variant offsets such
//! as `build + 100` stay), and no line was added or removed.
//!
//! Recipes the rewrite refuses must be refused for a reason the bot also refuses for;
//! each refusal is printed.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use cascade::feedstock::{self, FeedstockRender, Snapshot};
use cascade::recipe::edit::set_build_number;
use cascade::recipe::version::{BumpError, Fetch, FetchError, Problem, StreamDigest, bump_version};
use cascade::recipe::{HashKind, RecipeFormat};

const NEW_VERSION: &str = "99.99.99";

/// Every URL with "99" in it exists; its digest is the digest of the URL text.
struct EveryRelease;

impl Fetch for EveryRelease {
    fn digest(&self, url: &str, kind: HashKind) -> Result<String, FetchError> {
        if url.contains("99") {
            Ok(StreamDigest::of(kind, url.as_bytes()))
        } else {
            Err(FetchError::NotFound {
                url: url.to_string(),
            })
        }
    }
}

/// A refusal the bot makes too: the recipe gives the rewrite nothing to work with.
fn acceptable_refusal(err: &BumpError) -> bool {
    err.problems.iter().all(|p| {
        matches!(
            p,
            Problem::GitUrlOnly
                | Problem::NoVersionVariable
                | Problem::NoContextVersion
                | Problem::NoSources
                | Problem::NoChange
        )
    })
}

/// Renders the feedstock with its recipe replaced by `text`.
fn render_with(
    dir: &Path,
    snapshot: &Snapshot,
    file: &str,
    text: &str,
) -> Result<FeedstockRender, String> {
    let files = snapshot.files().map(|(path, bytes)| {
        let bytes = if path == file {
            text.as_bytes().to_vec()
        } else {
            bytes.to_vec()
        };
        (path.to_string(), bytes)
    });
    let loaded =
        feedstock::load_snapshot(&Snapshot::from_files(dir, files)).map_err(|e| e.to_string())?;
    let render = feedstock::render(&loaded);
    match render.parse_error() {
        Some(err) => Err(format!("does not render: {err}")),
        None => Ok(render),
    }
}

/// Checks a rewritten feedstock with the renderer; `Err` says what is wrong.
fn verify(
    dir: &Path,
    snapshot: &Snapshot,
    (file, format): (&str, RecipeFormat),
    old: &str,
    new: &str,
) -> Result<(), String> {
    if old.lines().count() != new.lines().count() {
        return Err("the line count changed".to_string());
    }
    let render = render_with(dir, snapshot, file, new)?;
    let reset = match set_build_number(format, old, 0) {
        Ok(edit) => edit.text,
        Err(_) => old.to_string(),
    };
    let expected_build = render_with(dir, snapshot, file, &reset)?;
    for (platform, recipe) in &render.platforms {
        if !recipe
            .version
            .as_deref()
            .is_some_and(|v| v.contains(NEW_VERSION))
        {
            return Err(format!("{platform}: version {:?}", recipe.version));
        }
        let build = expected_build
            .platforms
            .get(platform)
            .and_then(|r| r.build_number);
        if recipe.build_number != build {
            return Err(format!(
                "{platform}: build number {:?}, expected {build:?}",
                recipe.build_number
            ));
        }
        for source in &recipe.sources {
            let (Some(url), Some(hash)) = (source.urls.first(), &source.hash) else {
                continue;
            };
            if !url.contains(NEW_VERSION) {
                continue;
            }
            // Any mirror of the list may be the one that hashed.
            let ok = source
                .urls
                .iter()
                .any(|u| StreamDigest::of(hash.kind, u.as_bytes()) == hash.value);
            if !ok {
                return Err(format!(
                    "{platform}: {url} has {} {}",
                    hash.kind.as_str(),
                    hash.value
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn every_corpus_recipe_moves_to_a_new_version_and_renders_with_the_new_hashes() {
    let Some(corpus) = common::shared_data("feedstocks") else {
        return;
    };
    let mut dirs: Vec<_> = fs_err::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut bumped = 0;
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut original_errors = 0;
    let mut bump_time = std::time::Duration::ZERO;
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let snapshot = Snapshot::read(dir).unwrap();
        let Some((file, format)) = [
            ("recipe/meta.yaml", RecipeFormat::V0),
            ("recipe/recipe.yaml", RecipeFormat::V1),
        ]
        .into_iter()
        .find(|(f, _)| snapshot.file(f).is_some()) else {
            continue;
        };
        let text = snapshot.text(file).unwrap().to_string();
        if feedstock::render(&feedstock::load_snapshot(&snapshot).unwrap())
            .parse_error()
            .is_some()
        {
            original_errors += 1;
            continue;
        }
        let started = std::time::Instant::now();
        let result = bump_version(format, &text, NEW_VERSION, &EveryRelease);
        bump_time += started.elapsed();
        match result {
            Ok(bump) => match verify(dir, &snapshot, (file, format), &text, &bump.text) {
                Ok(()) => bumped += 1,
                Err(why) => failures.push(format!("{name}: {why}")),
            },
            Err(err) if acceptable_refusal(&err) => {
                let reasons: Vec<String> = err.problems.iter().map(ToString::to_string).collect();
                refused.insert(name, reasons.join("; "));
            }
            Err(err) => failures.push(format!("{name}: {err}")),
        }
    }
    for (name, why) in &refused {
        eprintln!("refused {name}: {why}");
    }
    let total = bumped + refused.len() + failures.len();
    eprintln!(
        "corpus version bumps: {bumped}/{total} rewritten and verified by rendering, {} refused \
         for the bot's reasons, {} failed ({original_errors} feedstocks without a clean render skipped); \
         {:.1} ms in the rewrite itself",
        refused.len(),
        failures.len(),
        bump_time.as_secs_f64() * 1000.0
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
