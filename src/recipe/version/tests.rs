//! Rewrites of small recipes against an offline hash cache.

use super::*;

fn cache(entries: &[(&str, &str)]) -> HashCache {
    let cache = HashCache::new();
    for (url, digest) in entries {
        cache.insert(url, HashKind::Sha256, digest);
    }
    cache
}

fn bump(
    format: RecipeFormat,
    text: &str,
    version: &str,
    urls: &[(&str, &str)],
) -> Result<VersionBump, BumpError> {
    let cache = cache(urls);
    bump_version(format, text, version, &OfflineFetch::new(&cache))
}

#[test]
fn a_v0_recipe_changes_only_its_version_hash_and_build_number() {
    let text = "{% set version = \"1.0\" %}  # the version\n\npackage:\n  name: foo\n  version: {{ version }}\n\nsource:\n  url: https://x/foo-{{ version }}.tar.gz  # [unix]\n  sha256: 0000  # keep\n\nbuild:\n  number: 3\n";
    let out = bump(
        RecipeFormat::V0,
        text,
        "1.1",
        &[("https://x/foo-1.1.tar.gz", "abcd")],
    )
    .unwrap();
    assert_eq!(
        out.text,
        text.replace("\"1.0\"", "\"1.1\"")
            .replace("0000", "abcd")
            .replace("number: 3", "number: 0")
    );
    assert!(out.build_number_reset);
    assert_eq!(out.sources.len(), 1);
}

#[test]
fn a_v1_recipe_changes_its_context_version_and_hash() {
    let text = "context:\n  name: foo\n  version: 1.0  # here\n\npackage:\n  name: ${{ name }}\n  version: ${{ version }}\n\nsource:\n  url: https://x/${{ name }}-${{ version }}.tar.gz\n  sha256: '0000'\n\nbuild:\n  number: 2\n";
    let out = bump(
        RecipeFormat::V1,
        text,
        "1.1",
        &[("https://x/foo-1.1.zip", "abcd")],
    )
    .unwrap();
    assert_eq!(
        out.text,
        text.replace("version: 1.0", "version: 1.1")
            .replace("'0000'", "'abcd'")
            .replace("${{ version }}.tar.gz", "${{ version }}.zip")
            .replace("number: 2", "number: 0")
    );
}

#[test]
fn a_url_that_exists_nowhere_lists_every_candidate() {
    let text = "{% set version = \"1.0\" %}\nsource:\n  url: https://x/foo-{{ version }}.tar.gz\n  sha256: 0000\n";
    let err = bump(RecipeFormat::V0, text, "2.0", &[]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("could not hash URL template 'https://x/foo-{{ version }}.tar.gz'"),
        "{message}"
    );
    assert!(
        message.contains("\n   not found: https://x/foo-2.0.tar.gz\n"),
        "{message}"
    );
    assert!(
        message.contains("not found: https://x/foo-v2.0.tgz"),
        "{message}"
    );
}
