//! Every recipe of a generated universe renders with cascade's own renderer, for every
//! one of its `.ci_support` variants, with zero errors; and the renders say what the
//! generator meant (outputs, hub dependencies).

use std::collections::BTreeSet;

use cascade::feedstock;
use cascade::recipe::Section;
use cascade::universe::{self, UniverseOptions};

#[test]
fn every_generated_recipe_renders_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("universe");
    let options = UniverseOptions {
        size: 1500,
        seed: 12,
    };
    universe::generate(&options, &root).unwrap();

    let mut failures = Vec::new();
    let mut total = 0;
    let mut renders = 0;
    let mut dirs: Vec<_> = fs_err::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in &dirs {
        total += 1;
        let loaded = feedstock::load(dir).unwrap();
        if let Some(error) = &loaded.config_error {
            failures.push(format!("{}: {error}", loaded.name));
        }
        for warning in loaded.config.warnings() {
            failures.push(format!("{}: conda-forge.yml: {warning:?}", loaded.name));
        }
        let render = feedstock::render(&loaded);
        renders += render.renders + render.skipped_identical;
        if let Some(error) = render.parse_error() {
            failures.push(format!("{}: {error}", loaded.name));
        } else if render.platforms.is_empty() {
            failures.push(format!("{}: rendered no platform", loaded.name));
        }
    }
    eprintln!(
        "universe render: {}/{total} feedstocks clean, {renders} variants",
        total - failures.len()
    );
    for failure in failures.iter().take(30) {
        eprintln!("  {failure}");
    }
    assert!(failures.is_empty(), "{} feedstocks failed", failures.len());
}

#[test]
fn renders_match_what_the_generator_planned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("universe");
    universe::generate(&UniverseOptions { size: 200, seed: 3 }, &root).unwrap();
    let render = |name: &str| {
        let loaded = feedstock::load(&root.join(format!("{name}-feedstock"))).unwrap();
        let render = feedstock::render(&loaded);
        assert_eq!(render.parse_error(), None, "{name}");
        render
    };

    // zlib (v0, multi-output): libzlib + zlib on every platform, Windows included.
    let zlib = render("zlib");
    assert_eq!(zlib.platforms.len(), 6, "{:?}", zlib.platforms.keys());
    let linux = &zlib.platforms["linux-64"];
    assert_eq!(
        linux.output_names(),
        BTreeSet::from(["libzlib", "zlib"]),
        "{linux:?}"
    );

    // numpy (v1 extension): python and the blas outputs in host, per platform.
    let numpy = render("numpy");
    for (platform, recipe) in &numpy.platforms {
        let host = recipe
            .all_requirements()
            .names(Section::Host)
            .into_iter()
            .map(str::to_string)
            .collect::<BTreeSet<_>>();
        for dep in ["python", "libblas", "libcblas", "liblapack"] {
            assert!(
                host.contains(dep),
                "numpy on {platform} lacks {dep}: {host:?}"
            );
        }
    }

    // python (v0): readline is a Unix-only host dependency (`# [unix]`).
    let python = render("python");
    let host_of = |platform: &str| -> BTreeSet<String> {
        python.platforms[platform]
            .all_requirements()
            .names(Section::Host)
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    assert!(host_of("linux-64").contains("readline"));
    assert!(!host_of("win-64").contains("readline"));
    assert!(host_of("win-64").contains("openssl"));

    // xz (v1, multi-output with a tool output).
    let xz = render("xz");
    assert_eq!(
        xz.platforms["osx-arm64"].output_names(),
        BTreeSet::from(["liblzma", "liblzma-devel", "xz"])
    );
}
