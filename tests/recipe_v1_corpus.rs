//! Renders every real v1 `recipe.yaml` of `../shared/data/feedstocks` for every
//! `.ci_support/*.yaml` variant, then checks facts read off the recipes by hand.
//!
//! Skips (with a message on stderr) when `../shared/data` is absent, as in a fresh clone.
//!
//! One real recipe does not render, in cascade or in rattler-build itself (py-rattler-build
//! 0.73 fails the same way): see [`KNOWN_FAILURES`].

mod common;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use cascade::recipe::v1::Template;
use cascade::recipe::{Noarch, Recipe, RecipeFormat, RenderedRecipe, Section, Variant};
use cascade::universe::{self, UniverseOptions};
use rattler_conda_types::Subdir;

/// The feedstocks directory, or `None` (after saying so) when the data is absent.
fn feedstocks() -> Option<PathBuf> {
    common::shared_data("feedstocks")
}

/// The platform a `.ci_support` file name stands for: `linux_aarch64_python3.12.yaml`
/// → linux-aarch64, `osx_64_.yaml` → osx-64.
fn platform_of_file_name(file_name: &str) -> Subdir {
    let mut parts = file_name.trim_end_matches(".yaml").split('_');
    let os = parts.next().unwrap_or_default();
    let arch = parts.next().unwrap_or_default();
    let arch = match arch {
        "64" | "aarch64" | "ppc64le" | "arm64" => arch,
        _ => "64",
    };
    Subdir::from_str(&format!("{os}-{arch}")).unwrap_or(Subdir::Linux64)
}

/// Every v1 feedstock directory, sorted.
fn v1_feedstocks(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs_err::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("recipe/recipe.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Every `.ci_support/*.yaml` of a feedstock (not `migrations/`), sorted.
fn ci_support_files(feedstock: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(feedstock.join(".ci_support")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn variant_of(file: &Path) -> Variant {
    let name = file.file_name().unwrap().to_str().unwrap();
    let text = fs_err::read_to_string(file).unwrap();
    Variant::from_ci_support(&text, platform_of_file_name(name)).unwrap()
}

/// Renders one feedstock's recipe for one of its `.ci_support` files.
fn render(root: &Path, feedstock: &str, ci_support_prefix: &str) -> RenderedRecipe {
    let dir = root.join(feedstock);
    let text = fs_err::read_to_string(dir.join("recipe/recipe.yaml")).unwrap();
    let recipe = Recipe::parse(RecipeFormat::V1, &text).unwrap();
    let file = ci_support_files(&dir)
        .into_iter()
        .find(|f| {
            f.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(ci_support_prefix)
        })
        .unwrap_or_else(|| panic!("{feedstock} has no {ci_support_prefix}* variant"));
    recipe.render(&variant_of(&file)).unwrap()
}

/// Pairs that fail for a reason outside cascade, with a fragment of the expected error.
/// Empty: pycparser's `python ${{ python_min }}` (rendered `python 3.9`, which
/// rattler_build_recipe 0.1.24 parses strictly and rejects) renders through the lenient
/// retry in `recipe::v1`; see `pycparser_bare_version_spec_renders_as_conda_reads_it`.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

#[test]
fn every_v1_recipe_renders_for_every_ci_support_variant() {
    let Some(root) = feedstocks() else { return };
    let mut total = 0;
    let mut failures = Vec::new();
    let mut known = Vec::new();
    let mut skipped = 0;
    let start = Instant::now();
    for dir in v1_feedstocks(&root) {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs_err::read_to_string(dir.join("recipe/recipe.yaml")).unwrap();
        let files = ci_support_files(&dir);
        let recipe = match Recipe::parse(RecipeFormat::V1, &text) {
            Ok(recipe) => recipe,
            Err(e) => {
                total += files.len();
                failures.push(format!("{name}: parse: {e} (line {:?})", e.line()));
                continue;
            }
        };
        for file in files {
            total += 1;
            let pair = format!("{name}/{}", file.file_name().unwrap().to_string_lossy());
            match recipe.render(&variant_of(&file)) {
                Ok(rendered) => {
                    if rendered.skip {
                        skipped += 1;
                    }
                    if rendered.name.is_empty() || rendered.version.is_none() {
                        failures.push(format!("{pair}: no name or version"));
                    }
                    if KNOWN_FAILURES.iter().any(|(p, _)| *p == pair) {
                        failures.push(format!("{pair}: listed as a known failure but renders"));
                    }
                }
                Err(e) => {
                    let message = format!("{e} (line {:?})", e.line());
                    match KNOWN_FAILURES.iter().find(|(p, _)| *p == pair) {
                        Some((_, expected)) if message.contains(expected) => known.push(pair),
                        _ => failures.push(format!("{pair}: {message}")),
                    }
                }
            }
        }
    }
    eprintln!(
        "v1 corpus: {}/{total} (feedstock, variant) pairs rendered, {} known failure(s), \
         {skipped} skipped by the recipe, in {:.2?}",
        total - failures.len() - known.len(),
        known.len(),
        start.elapsed()
    );
    for failure in &failures {
        eprintln!("  FAIL {failure}");
    }
    assert_eq!(
        total, 393,
        "the corpus has 393 v1 (feedstock, variant) pairs"
    );
    assert_eq!(
        known.len(),
        KNOWN_FAILURES.len(),
        "known failures: {known:?}"
    );
    assert!(failures.is_empty(), "{} failures", failures.len());
}

/// What [`compare_lean_and_full`] found over some recipes.
#[derive(Default)]
struct Comparison {
    /// (feedstock, variant) pairs rendered both ways.
    pairs: usize,
    /// Pairs that failed both ways (equal, but worth reporting).
    both_failed: usize,
    /// Descriptions of the pairs where the two renders differ.
    differences: Vec<String>,
    /// Time spent in the trimmed and in the full renders.
    lean_time: Duration,
    full_time: Duration,
}

/// Renders every v1 feedstock under `root` for each of its variants through the trimmed
/// evaluation (what `render` uses) and through the library's whole-recipe evaluation.
/// Both failing counts as equal.
fn compare_lean_and_full(root: &Path) -> Comparison {
    let mut out = Comparison::default();
    for dir in v1_feedstocks(root) {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs_err::read_to_string(dir.join("recipe/recipe.yaml")).unwrap();
        let Ok(template) = Template::parse(&text) else {
            continue;
        };
        for file in ci_support_files(&dir) {
            let variant = variant_of(&file);
            out.pairs += 1;
            let start = Instant::now();
            let lean = template.render(&variant);
            out.lean_time += start.elapsed();
            let start = Instant::now();
            let full = template.render_full_evaluation(&variant);
            out.full_time += start.elapsed();
            match (lean, full) {
                (Ok(lean), Ok(full)) if lean == full => {}
                (Err(_), Err(_)) => out.both_failed += 1,
                (lean, full) => out.differences.push(format!(
                    "{name}/{}: lean {lean:?}\n  full {full:?}",
                    file.file_name().unwrap().to_string_lossy()
                )),
            }
        }
    }
    eprintln!(
        "lean vs full evaluation of {}: {} pairs, {} failed both ways, {} differences; \
         render time lean {:.2?}, full {:.2?}",
        root.display(),
        out.pairs,
        out.both_failed,
        out.differences.len(),
        out.lean_time,
        out.full_time
    );
    for difference in out.differences.iter().take(20) {
        eprintln!("  DIFF {difference}");
    }
    out
}

#[test]
fn trimmed_evaluation_gives_the_full_evaluation_model_for_every_corpus_variant() {
    let Some(root) = feedstocks() else { return };
    let comparison = compare_lean_and_full(&root);
    assert_eq!(
        comparison.pairs, 393,
        "the corpus has 393 v1 (feedstock, variant) pairs"
    );
    assert_eq!(comparison.both_failed, 0, "every corpus pair renders");
    assert!(
        comparison.differences.is_empty(),
        "{} differences",
        comparison.differences.len()
    );
}

#[test]
fn trimmed_evaluation_gives_the_full_evaluation_model_for_a_generated_universe() {
    let out = tempfile::tempdir().unwrap();
    let options = UniverseOptions {
        size: 400,
        seed: 11,
    };
    universe::generate(&options, out.path()).unwrap();
    let comparison = compare_lean_and_full(out.path());
    assert!(
        comparison.pairs > 100,
        "only {} generated v1 pairs",
        comparison.pairs
    );
    assert!(
        comparison.differences.is_empty(),
        "{} differences",
        comparison.differences.len()
    );
}

#[test]
fn pycparser_bare_version_spec_renders_as_conda_reads_it() {
    let Some(root) = feedstocks() else { return };
    let r = render(&root, "pycparser-feedstock", "linux_64_");
    assert!(raws(&r.requirements, Section::Host).contains(&"python 3.9.*"));
    assert!(raws(&r.requirements, Section::Run).contains(&"python >=3.9"));
}

/// Names of one section, as a sorted list for readable assertion failures.
fn names(reqs: &cascade::recipe::Requirements, section: Section) -> Vec<&str> {
    reqs.names(section).into_iter().collect()
}

fn raws(reqs: &cascade::recipe::Requirements, section: Section) -> Vec<&str> {
    reqs.section(section)
        .iter()
        .map(|r| r.raw.as_str())
        .collect()
}

#[test]
fn numpy_on_linux_builds_against_python_and_the_blas_outputs() {
    let Some(root) = feedstocks() else { return };
    let r = render(
        &root,
        "numpy-feedstock",
        "linux_64_is_freethreadingfalsepython3.12",
    );
    assert_eq!(r.name, "numpy");
    assert_eq!(r.version.as_deref(), Some("2.5.1"));
    assert_eq!(r.build_number, Some(0));
    assert!(!r.skip);
    assert!(r.outputs.is_empty());
    let host = names(&r.requirements, Section::Host);
    for dep in [
        "python",
        "libblas",
        "libcblas",
        "liblapack",
        "cython",
        "meson-python",
    ] {
        assert!(host.contains(&dep), "{dep} missing from host {host:?}");
    }
    assert_eq!(
        names(&r.requirements, Section::Build),
        [
            "c_compiler_stub",
            "c_stdlib_stub",
            "cxx_compiler_stub",
            "ninja",
            "pkg-config"
        ]
    );
    assert_eq!(
        raws(&r.requirements, Section::RunConstrained),
        ["numpy-base <0a0"]
    );
    assert_eq!(r.run_exports.weak, ["numpy >=1.25,<3"]);
    let test = names(&r.requirements, Section::Test);
    for dep in [
        "pip",
        "pytest",
        "hypothesis",
        "c_compiler_stub",
        "fortran_compiler_stub",
    ] {
        assert!(test.contains(&dep), "{dep} missing from test {test:?}");
    }
    let source = &r.sources[0];
    assert_eq!(
        source.urls,
        ["https://github.com/numpy/numpy/releases/download/v2.5.1/numpy-2.5.1.tar.gz"]
    );
    let hash = source.hash.as_ref().unwrap();
    assert_eq!(hash.kind, cascade::recipe::HashKind::Sha256);
    assert!(hash.value.starts_with("a48a113e6afea91f"));
}

#[test]
fn numpy_test_compilers_follow_the_variant_platform() {
    let Some(root) = feedstocks() else { return };
    let win = render(
        &root,
        "numpy-feedstock",
        "win_64_is_freethreadingfalsepython3.13",
    );
    let test = names(&win.requirements, Section::Test);
    assert!(
        !test.iter().any(|n| n.ends_with("_compiler_stub")),
        "{test:?}"
    );
    let osx = render(
        &root,
        "numpy-feedstock",
        "osx_arm64_is_freethreadingtruepython3.14",
    );
    let test = names(&osx.requirements, Section::Test);
    assert!(test.contains(&"c_compiler_stub") && test.contains(&"cxx_compiler_stub"));
    assert!(
        !test.contains(&"fortran_compiler_stub"),
        "fortran is linux-only: {test:?}"
    );
}

#[test]
fn pandas_needs_python_tzdata_on_windows_only() {
    let Some(root) = feedstocks() else { return };
    let win = render(&root, "pandas-feedstock", "win_64_python3.12");
    assert!(names(&win.requirements, Section::Run).contains(&"python-tzdata"));
    for unix in [
        "linux_64_python3.12",
        "linux_aarch64_python3.12",
        "osx_arm64_python3.12",
    ] {
        let r = render(&root, "pandas-feedstock", unix);
        assert!(
            !names(&r.requirements, Section::Run).contains(&"python-tzdata"),
            "{unix}"
        );
    }
}

#[test]
fn linux_only_dependencies_reach_the_aarch64_and_ppc64le_variants() {
    let Some(root) = feedstocks() else { return };
    for linux in ["linux_aarch64_python3.12", "linux_ppc64le_python3.13"] {
        let r = render(&root, "scikit-learn-feedstock", linux);
        let host = names(&r.requirements, Section::Host);
        assert!(
            host.contains(&"libgomp") && !host.contains(&"llvm-openmp"),
            "{linux}"
        );
    }
    let osx = render(&root, "scikit-learn-feedstock", "osx_arm64_python3.12");
    let host = names(&osx.requirements, Section::Host);
    assert!(host.contains(&"llvm-openmp") && !host.contains(&"libgomp"));
    let win = render(&root, "scikit-learn-feedstock", "win_64_python3.12");
    let host = names(&win.requirements, Section::Host);
    assert!(!host.contains(&"llvm-openmp") && !host.contains(&"libgomp"));

    let aarch64 = render(&root, "aws-c-s3-feedstock", "linux_aarch64_");
    assert!(names(&aarch64.requirements, Section::Host).contains(&"openssl"));
    let arm64 = render(&root, "aws-c-s3-feedstock", "osx_arm64_");
    assert!(!names(&arm64.requirements, Section::Host).contains(&"openssl"));
}

#[test]
fn libnetcdf_mpi_variant_selects_its_mpi_and_build_number() {
    let Some(root) = feedstocks() else { return };
    let mpich = render(&root, "libnetcdf-feedstock", "linux_64_hdf52mpimpich");
    let host = raws(&mpich.requirements, Section::Host);
    for dep in ["mpich", "hdf5 * mpi_mpich_*", "libpnetcdf"] {
        assert!(host.contains(&dep), "{dep} missing from {host:?}");
    }
    assert_eq!(mpich.build_number, Some(1));
    assert!(
        mpich
            .run_exports
            .weak
            .contains(&"libnetcdf * mpi_mpich_*".to_string())
    );

    let win = render(&root, "libnetcdf-feedstock", "win_64_hdf52");
    assert_eq!(win.build_number, Some(101), "nompi gets +100");
    assert!(raws(&win.requirements, Section::Host).contains(&"hdf5 * nompi_*"));
    let build = names(&win.requirements, Section::Build);
    assert!(
        build.contains(&"m2-unzip") && !build.contains(&"unzip"),
        "{build:?}"
    );
}

#[test]
fn pin_subpackage_renders_as_a_spec_on_the_sibling_version() {
    let Some(root) = feedstocks() else { return };
    let zstd = render(&root, "zstd-feedstock", "linux_64_");
    let lib = zstd.outputs.iter().find(|o| o.name == "zstd").unwrap();
    assert_eq!(lib.run_exports.weak, ["zstd >=1.5.7,<1.6.0a0"]);
    let static_lib = zstd
        .outputs
        .iter()
        .find(|o| o.name == "zstd-static")
        .unwrap();
    assert_eq!(
        raws(&static_lib.requirements, Section::Host),
        ["zstd ==1.5.7"]
    );
    assert_eq!(
        raws(&static_lib.requirements, Section::Run),
        ["zstd ==1.5.7"]
    );

    let s3 = render(&root, "aws-c-s3-feedstock", "win_64_");
    assert_eq!(s3.run_exports.weak, ["aws-c-s3 >=0.13.1,<0.13.2.0a0"]);
}

#[test]
fn multi_output_recipe_has_one_model_output_per_package_output() {
    let Some(root) = feedstocks() else { return };
    let zstd = render(&root, "zstd-feedstock", "osx_arm64_");
    assert_eq!(zstd.name, "zstd-split");
    assert_eq!(zstd.version.as_deref(), Some("1.5.7"));
    assert_eq!(zstd.build_number, Some(6));
    assert!(zstd.requirements.is_empty(), "no top-level package");
    assert_eq!(
        zstd.output_names().into_iter().collect::<Vec<_>>(),
        ["zstd", "zstd-static"]
    );
    assert_eq!(zstd.sources.len(), 1);

    let pybind11 = render(&root, "pybind11-feedstock", "linux_64_");
    let outputs: Vec<(&str, Option<&str>, Option<Noarch>)> = pybind11
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.version.as_deref(), o.noarch))
        .collect();
    assert_eq!(
        outputs,
        [
            ("pybind11-abi", Some("11"), Some(Noarch::Generic)),
            ("pybind11-global", Some("3.0.3"), Some(Noarch::Python)),
            ("pybind11", Some("3.0.3"), Some(Noarch::Python)),
        ]
    );
    let global = &pybind11.outputs[1];
    assert_eq!(
        names(&global.requirements, Section::Build),
        ["c_stdlib_stub", "cmake", "cxx_compiler_stub", "make"]
    );
    assert_eq!(raws(&global.requirements, Section::Test), ["python 3.8.*"]);
}

#[test]
fn polars_outputs_and_sources_follow_the_runtime_variant() {
    let Some(root) = feedstocks() else { return };
    let rt32 = render(
        &root,
        "polars-feedstock",
        "linux_64_is_abi3truepolars_runtime32",
    );
    assert_eq!(
        rt32.output_names().into_iter().collect::<Vec<_>>(),
        ["polars", "polars-runtime-32"]
    );
    assert_eq!(
        rt32.sources.len(),
        2,
        "the polars sdist is fetched on linux-64 only"
    );
    let win = render(
        &root,
        "polars-feedstock",
        "win_64_is_abi3truepolars_runtime64",
    );
    assert_eq!(
        win.output_names().into_iter().collect::<Vec<_>>(),
        ["polars-runtime-64"]
    );
    let runtime = &win.outputs[0];
    let build = names(&runtime.requirements, Section::Build);
    assert!(build.contains(&"m2-base") && build.contains(&"rust_compiler_stub"));
    assert!(!build.contains(&"make"), "make is unix-only: {build:?}");
}

#[test]
fn orc_for_arrow_renders_its_host_libraries_on_aarch64() {
    let Some(root) = feedstocks() else { return };
    let orc = render(&root, "orc-feedstock", "linux_aarch64_");
    let host = names(&orc.requirements, Section::Host);
    for dep in [
        "libprotobuf",
        "libabseil",
        "lz4-c",
        "snappy",
        "zlib",
        "zstd",
    ] {
        assert!(host.contains(&dep), "{dep} missing from {host:?}");
    }
    assert_eq!(orc.run_exports.weak, ["orc >=2.3.1,<2.3.2.0a0"]);
}

#[test]
fn a_ci_support_file_with_several_pythons_renders_every_python() {
    let Some(root) = feedstocks() else { return };
    let dir = root.join("pillow-feedstock");
    let text = fs_err::read_to_string(dir.join("recipe/recipe.yaml")).unwrap();
    let recipe = Recipe::parse(RecipeFormat::V1, &text).unwrap();
    let file = dir.join(".ci_support/linux_64_.yaml");
    let variant = variant_of(&file);
    assert_eq!(variant.get("python").map(<[_]>::len), Some(6));
    let r = recipe.render(&variant).unwrap();
    assert_eq!(
        r.output_names().into_iter().collect::<Vec<_>>(),
        ["pillow", "pillow-tests"]
    );
}

/// Bad input is normal input: every corpus recipe with one line deleted, or one line
/// replaced by an empty expression, renders or fails with an error; it never panics.
#[test]
fn mutated_corpus_recipes_fail_without_panicking() {
    let Some(root) = feedstocks() else { return };
    let mut runs = 0;
    let mut panics = Vec::new();
    for dir in v1_feedstocks(&root) {
        let text = fs_err::read_to_string(dir.join("recipe/recipe.yaml")).unwrap();
        let Some(file) = ci_support_files(&dir).into_iter().next() else {
            continue;
        };
        let variant = variant_of(&file);
        let lines: Vec<&str> = text.lines().collect();
        for (i, replacement) in (0..lines.len()).flat_map(|i| [(i, None), (i, Some("  - ${{ }}"))])
        {
            let mut mutated = lines.clone();
            match replacement {
                None => {
                    mutated.remove(i);
                }
                Some(line) => mutated[i] = line,
            }
            let mutated = mutated.join("\n");
            runs += 1;
            let outcome = std::panic::catch_unwind(|| {
                Recipe::parse(RecipeFormat::V1, &mutated).and_then(|r| r.render(&variant))
            });
            if outcome.is_err() {
                panics.push(format!("{} line {}: {replacement:?}", dir.display(), i + 1));
            }
        }
    }
    eprintln!("mutated recipes: {runs} renders, {} panics", panics.len());
    assert!(panics.is_empty(), "{panics:#?}");
}
