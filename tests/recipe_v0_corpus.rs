//! Conformance of v0 `meta.yaml` rendering over the real corpus in
//! `../shared/data/feedstocks`: every v0 recipe renders for every one of its
//! `.ci_support` variants, and spot checks derived by reading the recipes hold.

mod common;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use cascade::recipe::{Recipe, RecipeFormat, RenderedRecipe, Section, Variant};
use rattler_conda_types::Subdir;

fn corpus() -> Option<PathBuf> {
    common::shared_data("feedstocks")
}

/// The platform a `.ci_support` file name starts with (`linux_aarch64_...` → linux-aarch64).
fn platform_of(file_name: &str) -> Subdir {
    let mut parts = file_name.split('_');
    let os = parts.next().unwrap_or("linux");
    let arch = parts.next().unwrap_or("64");
    Subdir::from_str(&format!("{os}-{arch}")).unwrap_or(Subdir::Linux64)
}

/// Every variant of a feedstock: one per `.ci_support/*.yaml`, or linux-64, osx-64 and
/// win-64 without `.ci_support`.
fn variants(feedstock: &Path) -> Vec<(String, Variant)> {
    let dir = feedstock.join(".ci_support");
    let mut files: Vec<PathBuf> = match fs_err::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    if files.is_empty() {
        return [Subdir::Linux64, Subdir::Osx64, Subdir::Win64]
            .into_iter()
            .map(|s| (s.as_str().to_string(), Variant::for_platform(s)))
            .collect();
    }
    files
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = fs_err::read_to_string(&path).unwrap();
            let variant = Variant::from_ci_support(&text, platform_of(&name))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, variant)
        })
        .collect()
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn mean(times: &[Duration]) -> Duration {
    let count = u32::try_from(times.len().max(1)).unwrap_or(u32::MAX);
    times.iter().sum::<Duration>() / count
}

fn v0_feedstocks(corpus: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs_err::read_dir(corpus)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("recipe/meta.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn parse(feedstock: &Path) -> Recipe {
    let text = fs_err::read_to_string(feedstock.join("recipe/meta.yaml")).unwrap();
    Recipe::parse(RecipeFormat::V0, &text).unwrap()
}

#[test]
fn every_v0_recipe_renders_for_every_variant() {
    let Some(corpus) = corpus() else { return };
    let mut failures = Vec::new();
    let mut total = 0;
    let mut recipes = 0;
    let mut skipped = Vec::new();
    let mut parse_times = Vec::new();
    let mut render_times = Vec::new();
    for feedstock in v0_feedstocks(&corpus) {
        recipes += 1;
        let name = feedstock
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = fs_err::read_to_string(feedstock.join("recipe/meta.yaml")).unwrap();
        let started = Instant::now();
        let parsed = Recipe::parse(RecipeFormat::V0, &text);
        parse_times.push(started.elapsed());
        let recipe = match parsed {
            Ok(recipe) => recipe,
            Err(e) => {
                let count = variants(&feedstock).len();
                total += count;
                failures.push(format!("{name}: parse: line {:?}: {e}", e.line()));
                continue;
            }
        };
        for (file, variant) in variants(&feedstock) {
            total += 1;
            let started = Instant::now();
            let rendered = recipe.render(&variant);
            render_times.push(started.elapsed());
            match rendered {
                Err(e) => failures.push(format!("{name} [{file}]: line {:?}: {e}", e.line())),
                Ok(r) if r.skip => skipped.push(format!("{name} [{file}]")),
                Ok(_) => {}
            }
        }
    }
    eprintln!(
        "v0 corpus: {}/{total} (recipe, variant) renders passed over {recipes} recipes",
        total - failures.len()
    );
    eprintln!(
        "v0 timing: parse median {:?} mean {:?}; render median {:?} mean {:?} ({} renders)",
        median(&mut parse_times),
        mean(&parse_times),
        median(&mut render_times),
        mean(&render_times),
        render_times.len()
    );
    for failure in &failures {
        eprintln!("  {failure}");
    }
    assert!(recipes >= 80, "expected the 90 v0 recipes, found {recipes}");
    // conda-smithy writes no `.ci_support` file for a variant whose recipe skips it, so a
    // skip points at a selector evaluated differently than in conda-build. The one
    // exception: pyarrow's top-level `skip: true  # [ppc64le and is_freethreading]`,
    // which smithy does not apply to the outputs of this multi-output recipe.
    assert_eq!(
        skipped,
        ["pyarrow-feedstock [linux_ppc64le_python3.14.____cp314t.yaml]"],
        "unexpected skipped variants"
    );
    assert!(failures.is_empty(), "{} renders failed", failures.len());
}

/// The render key the feedstock layer dedups on: the platform plus the values of the
/// keys the recipe reads.
fn render_key(recipe: &Recipe, variant: &Variant) -> String {
    let mut key = variant.target_platform().as_str().to_string();
    for name in recipe.used_variables() {
        if let Some(values) = variant.get(name) {
            key.push_str(&format!("|{name}={values:?}"));
        }
    }
    key
}

#[test]
fn variants_that_agree_on_used_variables_render_identically() {
    let Some(corpus) = corpus() else { return };
    let mut mismatches = Vec::new();
    let (mut compared, mut distinct) = (0, 0);
    for feedstock in v0_feedstocks(&corpus) {
        let recipe = parse(&feedstock);
        let mut seen: std::collections::HashMap<String, (String, RenderedRecipe)> =
            std::collections::HashMap::new();
        for (file, variant) in variants(&feedstock) {
            let rendered = recipe.render(&variant).unwrap();
            match seen.get(&render_key(&recipe, &variant)) {
                Some((first, earlier)) => {
                    compared += 1;
                    if *earlier != rendered {
                        mismatches.push(format!(
                            "{}: {first} and {file} share a key but render differently",
                            feedstock.display()
                        ));
                    }
                }
                None => {
                    distinct += 1;
                    seen.insert(render_key(&recipe, &variant), (file, rendered));
                }
            }
        }
    }
    eprintln!(
        "used_variables: {compared} renders matched an earlier one, {distinct} distinct keys"
    );
    assert!(
        compared > 0,
        "the corpus should have variants that share a key"
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn outputs_agree_with_the_corpus_manifest() {
    let Some(corpus) = corpus() else { return };
    let manifest = fs_err::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [feedstock, _, _, format, has_outputs] = fields[..] else {
            continue;
        };
        if format != "v0 meta.yaml" {
            continue;
        }
        let dir = corpus.join(feedstock);
        let recipe = parse(&dir);
        let rendered_outputs = variants(&dir)
            .into_iter()
            .any(|(_, v)| !recipe.render(&v).unwrap().outputs.is_empty());
        checked += 1;
        if rendered_outputs != (has_outputs == "yes") {
            mismatches.push(format!("{feedstock}: manifest says {has_outputs}"));
        }
    }
    assert!(
        checked >= 80,
        "only {checked} v0 feedstocks in the manifest"
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// Renders one feedstock for the `.ci_support` file whose name starts with `prefix`.
fn render(name: &str, prefix: &str) -> Option<RenderedRecipe> {
    let corpus = corpus()?;
    let feedstock = corpus.join(format!("{name}-feedstock"));
    let recipe = parse(&feedstock);
    let (file, variant) = variants(&feedstock)
        .into_iter()
        .find(|(file, _)| file.starts_with(prefix))
        .unwrap_or_else(|| panic!("{name}: no variant starting with {prefix}"));
    Some(
        recipe
            .render(&variant)
            .unwrap_or_else(|e| panic!("{name} [{file}]: {e}")),
    )
}

fn output<'a>(recipe: &'a RenderedRecipe, name: &str) -> &'a cascade::recipe::Output {
    recipe
        .outputs
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| {
            let names: Vec<_> = recipe.outputs.iter().map(|o| &o.name).collect();
            panic!("no output {name}; have {names:?}")
        })
}

fn names(reqs: &cascade::recipe::Requirements, section: Section) -> Vec<&str> {
    reqs.names(section).into_iter().collect()
}

#[test]
fn curl_splits_into_libcurl_static_and_cli_outputs() {
    let Some(r) = render("curl", "linux_64_") else {
        return;
    };
    assert_eq!(r.name, "curl_split_recipe");
    assert_eq!(r.version.as_deref(), Some("8.21.0"));
    assert_eq!(r.build_number, Some(4));
    let outputs: Vec<&str> = r.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["libcurl", "libcurl-static", "curl"]);
    let libcurl = output(&r, "libcurl");
    assert_eq!(libcurl.run_exports.weak, ["libcurl"]);
    assert_eq!(
        names(&libcurl.requirements, Section::Run),
        ["libnghttp2", "libssh2"]
    );
    // pin_subpackage('libcurl', exact=True) renders the bare name.
    let cli = output(&r, "curl");
    assert!(names(&cli.requirements, Section::Host).contains(&"libcurl"));
    assert!(names(&cli.requirements, Section::Run).contains(&"libcurl"));
    let top_build = names(&r.requirements, Section::Build);
    assert!(top_build.contains(&"make") && top_build.contains(&"libtool"));
    assert!(!top_build.contains(&"cmake-no-system"));
    let source = &r.sources[0];
    assert_eq!(
        source.urls,
        ["http://curl.haxx.se/download/curl-8.21.0.tar.bz2"]
    );
    assert_eq!(
        source.hash.as_ref().unwrap().kind,
        cascade::recipe::HashKind::Sha256
    );
}

#[test]
fn curl_on_windows_uses_windows_only_build_tools() {
    let Some(r) = render("curl", "win_64_") else {
        return;
    };
    let top_build = names(&r.requirements, Section::Build);
    assert!(top_build.contains(&"cmake-no-system"), "{top_build:?}");
    assert!(!top_build.contains(&"make"));
    // openssl is `# [unix]` in libcurl's host.
    let libcurl = output(&r, "libcurl");
    assert!(!names(&libcurl.requirements, Section::Host).contains(&"openssl"));
    assert!(names(&libcurl.requirements, Section::Host).contains(&"libpsl"));
}

#[test]
fn curl_on_windows_arm64_drops_libpsl() {
    let Some(r) = render("curl", "win_arm64_") else {
        return;
    };
    let libcurl = output(&r, "libcurl");
    assert!(!names(&libcurl.requirements, Section::Host).contains(&"libpsl"));
}

#[test]
fn openssl_output_exports_itself_and_tests_with_pkg_config() {
    let Some(r) = render("openssl", "linux_64_") else {
        return;
    };
    let openssl = output(&r, "openssl");
    assert_eq!(openssl.run_exports.weak, ["openssl"]);
    assert_eq!(
        names(&openssl.requirements, Section::Run),
        ["ca-certificates"]
    );
    assert_eq!(
        names(&openssl.requirements, Section::Test),
        ["pkg-config", "ripgrep"]
    );
    assert!(!names(&r.requirements, Section::Build).contains(&"nasm"));
    let Some(win) = render("openssl", "win_64_") else {
        return;
    };
    assert!(names(&win.requirements, Section::Build).contains(&"nasm"));
}

#[test]
fn python_build_number_and_abi_follow_the_freethreading_variant() {
    let Some(gil) = render(
        "python",
        "linux_64_build_typereleasechannel_targetsconda-forge_mainfreethreadingno",
    ) else {
        return;
    };
    assert_eq!(gil.version.as_deref(), Some("3.14.6"));
    assert_eq!(gil.build_number, Some(100));
    assert_eq!(
        output(&gil, "python").run_exports.weak,
        ["python_abi 3.14.* *_cp314"]
    );
    let Some(nogil) = render(
        "python",
        "linux_64_build_typereleasechannel_targetsconda-forge_mainfreethreadingyes",
    ) else {
        return;
    };
    assert_eq!(nogil.build_number, Some(0));
    assert_eq!(
        output(&nogil, "python").run_exports.weak,
        ["python_abi 3.14.* *_cp314t"]
    );
    let outputs: Vec<&str> = gil.outputs.iter().map(|o| o.name.as_str()).collect();
    assert!(
        outputs.starts_with(&["python", "libpython-static"]),
        "{outputs:?}"
    );
    // `ld_impl_{{ target_platform }}` is linux-only.
    assert!(
        names(&output(&gil, "python").requirements, Section::Run).contains(&"ld_impl_linux-64")
    );
}

#[test]
fn zlib_lists_both_source_mirrors_and_pins_its_own_build() {
    let Some(r) = render("zlib", "linux_64_") else {
        return;
    };
    assert_eq!(
        r.sources[0].urls,
        [
            "http://zlib.net/zlib-1.3.2.tar.gz",
            "https://gnupg.org/ftp/gcrypt/zlib/zlib-1.3.2.tar.gz"
        ]
    );
    let libzlib = output(&r, "libzlib");
    assert_eq!(libzlib.run_exports.weak, ["libzlib"]);
    let constrained: Vec<&str> = libzlib
        .requirements
        .run_constrained
        .iter()
        .map(|q| q.raw.as_str())
        .collect();
    assert_eq!(constrained, ["zlib 1.3.2 *_2"]);
    assert_eq!(
        names(&output(&r, "zlib").requirements, Section::Run),
        ["libzlib"]
    );
}

#[test]
fn rust_downloads_the_binary_of_the_target_architecture() {
    let Some(arm) = render("rust", "linux_aarch64_") else {
        return;
    };
    assert_eq!(
        arm.sources[0].urls,
        ["https://static.rust-lang.org/dist/rust-1.97.1-aarch64-unknown-linux-gnu.tar.xz"]
    );
    assert!(
        arm.outputs
            .iter()
            .any(|o| o.name == "rust-std-aarch64-unknown-linux-gnu")
    );
    let Some(x86) = render("rust", "linux_64_") else {
        return;
    };
    assert!(
        x86.sources[0].urls[0].contains("x86_64-unknown-linux-gnu"),
        "{:?}",
        x86.sources
    );
}

#[test]
fn selector_on_a_set_line_decides_whether_the_set_runs() {
    // h5py: `{% set build = build + 100 %}  # [mpi == 'nompi']` and two selector-guarded
    // `mpi_prefix` sets; the bot's render-then-select runs both.
    let Some(mpich) = render("h5py", "linux_64_hdf51.14.6mpimpichpython3.12") else {
        return;
    };
    assert_eq!(mpich.build_number, Some(4));
    let host: Vec<&str> = mpich
        .requirements
        .host
        .iter()
        .map(|q| q.raw.as_str())
        .collect();
    assert!(host.contains(&"hdf5 * mpi_mpich_*"), "{host:?}");
    assert!(host.contains(&"mpich"));
    let Some(nompi) = render("h5py", "linux_64_hdf51.14.6mpinompipython3.12") else {
        return;
    };
    assert_eq!(nompi.build_number, Some(104));
    let host: Vec<&str> = nompi
        .requirements
        .host
        .iter()
        .map(|q| q.raw.as_str())
        .collect();
    assert!(host.contains(&"hdf5 * nompi_*"), "{host:?}");
    assert!(!host.contains(&"mpich"));
}

#[test]
fn percent_formatting_builds_the_sqlite_source_url() {
    let Some(r) = render("sqlite", "linux_64_with_icutrue") else {
        return;
    };
    assert_eq!(
        r.sources[0].urls,
        ["https://www.sqlite.org/2026/sqlite-autoconf-3530400.tar.gz"]
    );
    assert!(names(&output(&r, "libsqlite").requirements, Section::Host).contains(&"icu"));
    let Some(no_icu) = render("sqlite", "linux_64_with_icufalse") else {
        return;
    };
    assert!(!names(&output(&no_icu, "libsqlite").requirements, Section::Host).contains(&"icu"));
}

#[test]
fn datetime_version_of_the_pinning_recipe_renders() {
    let Some(r) = render("conda-forge-pinning", "linux_64_") else {
        return;
    };
    let version = r.version.unwrap();
    assert_eq!(version.split('.').count(), 6, "{version}");
    assert_eq!(r.noarch, Some(cascade::recipe::Noarch::Generic));
    assert_eq!(r.sources[0].path.as_deref(), Some("."));
}

#[test]
fn boolean_variant_key_in_a_selector_skips_the_variant() {
    let Some(r) = render(
        "cryptography",
        "linux_aarch64_is_freethreadingfalsepython3.12",
    ) else {
        return;
    };
    assert!(!r.skip);
    // A ci_support file for the skipped combination does not exist; build one.
    let corpus = corpus().unwrap();
    let feedstock = corpus.join("cryptography-feedstock");
    let recipe = parse(&feedstock);
    let variant = Variant::from_ci_support(
        "is_freethreading:\n- true\npython:\n- 3.14.* *_cp314t\ntarget_platform:\n- linux-aarch64\n",
        Subdir::LinuxAarch64,
    )
    .unwrap();
    assert!(recipe.render(&variant).unwrap().skip);
}

/// Small deterministic generator for mutations (no external state, same run every time).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).unwrap() % bound.max(1)
    }
}

/// Fragments that stress the selector regex, the Jinja parser and the YAML reader.
const FRAGMENTS: [&str; 12] = [
    "{{",
    "}}",
    "{%",
    "%}",
    "  # [",
    "]",
    "[win",
    "{% if x %}",
    ": [",
    "\t",
    "&a *a",
    "'%s' % ",
];

#[test]
fn mutated_v0_recipes_never_panic() {
    let Some(corpus) = corpus() else { return };
    let mut rng = Lcg(0x5eed);
    let (mut ok, mut err) = (0, 0);
    for feedstock in v0_feedstocks(&corpus) {
        let text = fs_err::read_to_string(feedstock.join("recipe/meta.yaml")).unwrap();
        let (_, variant) = variants(&feedstock).swap_remove(0);
        for _ in 0..12 {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let at = rng.next(lines.len());
            match rng.next(4) {
                0 => {
                    lines.remove(at);
                }
                1 => {
                    let copy = lines[at].clone();
                    lines.insert(at, copy);
                }
                2 => {
                    let cut = rng.next(lines[at].len() + 1);
                    let line = &mut lines[at];
                    while !line.is_char_boundary(cut.min(line.len())) {
                        line.pop();
                    }
                    line.truncate(cut.min(line.len()));
                }
                _ => {
                    let fragment = FRAGMENTS[rng.next(FRAGMENTS.len())];
                    lines[at].push_str(fragment);
                }
            }
            let mutated = lines.join("\n");
            match Recipe::parse(RecipeFormat::V0, &mutated).and_then(|r| r.render(&variant)) {
                Ok(_) => ok += 1,
                Err(e) => {
                    err += 1;
                    if let Some(line) = e.line() {
                        assert!(
                            (1..=lines.len() + 1).contains(&line),
                            "{}: line {line} outside the recipe: {e}",
                            feedstock.display()
                        );
                    }
                }
            }
        }
    }
    eprintln!("mutated v0 recipes: {ok} rendered, {err} rejected with an error");
    assert!(err > 0, "mutations should break some recipes");
}
