//! Changing a fraction of a universe the way real upstream activity does: bumping the
//! build number of some recipes, so their content (not just their mtime) changes. The
//! incremental graph benchmark measures the rebuild after such a touch.

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::recipe::RecipeFormat;

use super::UniverseError;

/// Bumps the top-level `build: number:` of `ceil(fraction × feedstocks)` feedstocks under
/// `dir`, chosen deterministically from `seed`. Returns the touched directory names,
/// sorted.
pub fn touch(dir: &Path, fraction: f64, seed: u64) -> Result<Vec<String>, UniverseError> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(UniverseError::InvalidFraction { fraction });
    }
    let mut feedstocks = feedstock_dirs(dir)?;
    feedstocks.sort();
    let count = ((feedstocks.len() as f64) * fraction).ceil() as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut chosen: Vec<usize> = rand::seq::index::sample(&mut rng, feedstocks.len(), count)
        .into_iter()
        .collect();
    chosen.sort_unstable();
    let mut touched = Vec::with_capacity(count);
    for index in chosen {
        let Some(name) = feedstocks.get(index) else {
            continue;
        };
        bump_build_number(&dir.join(name))?;
        touched.push(name.clone());
    }
    Ok(touched)
}

fn feedstock_dirs(dir: &Path) -> Result<Vec<String>, UniverseError> {
    let read_err = |source| UniverseError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in fs_err::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with("-feedstock") && entry.path().is_dir() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Rewrites the recipe with its top-level build number plus one; nothing else changes.
fn bump_build_number(feedstock: &Path) -> Result<(), UniverseError> {
    let path = [RecipeFormat::V0, RecipeFormat::V1]
        .iter()
        .map(|f| feedstock.join("recipe").join(f.file_name()))
        .find(|p| p.is_file())
        .unwrap_or_else(|| feedstock.join("recipe").join("meta.yaml"));
    let text = fs_err::read_to_string(&path).map_err(|source| UniverseError::Read {
        path: path.clone(),
        source,
    })?;
    let bumped =
        bumped_text(&text).ok_or_else(|| UniverseError::NoBuildNumber { path: path.clone() })?;
    fs_err::write(&path, bumped).map_err(|source| UniverseError::Write { path, source })
}

/// The text with the first `  number: N` line inside the top-level `build:` block
/// replaced by `N + 1`, or `None` when there is no such line.
fn bumped_text(text: &str) -> Option<String> {
    let mut in_build = false;
    let mut out = String::with_capacity(text.len() + 2);
    let mut bumped = false;
    for line in text.split_inclusive('\n') {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_build = line.trim_end() == "build:";
        }
        let number = line
            .strip_prefix("  number: ")
            .filter(|_| in_build && !bumped)
            .and_then(|rest| {
                let digits = rest.trim_end();
                digits
                    .parse::<u64>()
                    .ok()
                    .map(|n| (n, &rest[digits.len()..]))
            });
        if let Some((number, ending)) = number {
            out.push_str(&format!("  number: {}{ending}", number + 1));
            bumped = true;
            continue;
        }
        out.push_str(line);
    }
    bumped.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_top_level_build_number_is_bumped() {
        let text = "package:\n  name: a\n\nbuild:\n  number: 9\n  skip: true  # [win]\n\noutputs:\n  - name: b\n    build:\n      number: 3\n";
        let bumped = bumped_text(text).unwrap();
        assert_eq!(bumped, text.replace("number: 9", "number: 10"));
    }

    #[test]
    fn a_recipe_without_a_build_number_is_not_bumped() {
        assert_eq!(bumped_text("package:\n  name: a\n"), None);
        assert_eq!(bumped_text("requirements:\n  number: 1\n"), None);
    }
}
