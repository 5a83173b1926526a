//! Conformance over the real feedstock corpus in `../shared/data/feedstocks`: every
//! package feedstock renders on every platform it has `.ci_support` files for, and a table
//! of spot checks derived by reading the recipes holds.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cascade::feedstock::{self, FeedstockRender};
use cascade::recipe::Section;

fn corpus() -> Option<PathBuf> {
    common::shared_data("feedstocks")
}

fn render(corpus: &Path, name: &str) -> FeedstockRender {
    let dir = corpus.join(format!("{name}-feedstock"));
    let loaded = feedstock::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    feedstock::render(&loaded)
}

/// Names of one section on one platform, over the top level and every output.
fn names(render: &FeedstockRender, platform: &str, section: Section) -> BTreeSet<String> {
    let Some(recipe) = render.platforms.get(platform) else {
        panic!(
            "no render for {platform}; have {:?}",
            render.platforms.keys()
        );
    };
    recipe
        .all_requirements()
        .names(section)
        .into_iter()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_package_feedstock_renders_on_every_ci_support_platform() {
    let Some(corpus) = corpus() else { return };
    let mut failures = Vec::new();
    let mut total = 0;
    let mut dirs: Vec<_> = fs_err::read_dir(&corpus)
        .expect("read corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        total += 1;
        let loaded = match feedstock::load(&dir) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{}: {e}", dir.display()));
                continue;
            }
        };
        let rendered = feedstock::render(&loaded);
        for error in &rendered.errors {
            failures.push(format!("{}: {error}", loaded.name));
        }
        if let Some(err) = &loaded.config_error {
            failures.push(format!("{}: {err}", loaded.name));
        }
        let expected: BTreeSet<String> = loaded
            .ci_support
            .iter()
            .filter_map(|f| f.variant().ok())
            .map(|v| v.target_platform().as_str().to_string())
            .collect();
        let got: BTreeSet<String> = rendered.platforms.keys().cloned().collect();
        let missing: Vec<_> = expected.difference(&got).collect();
        if !missing.is_empty() {
            failures.push(format!("{}: no render for {missing:?}", loaded.name));
        }
    }
    eprintln!(
        "{}/{} feedstocks render cleanly",
        total - failures.len().min(total),
        total
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// (feedstock, platform, section, names that must be there, names that must not).
type SpotCheck = (
    &'static str,
    &'static str,
    Section,
    &'static [&'static str],
    &'static [&'static str],
);

const SPOT_CHECKS: &[SpotCheck] = &[
    // curl (v0, multi-output): libcurl/curl outputs, unix-only and win-only build tools.
    (
        "curl",
        "linux-64",
        Section::Build,
        &[
            "c_compiler_stub",
            "c_stdlib_stub",
            "make",
            "perl",
            "libtool",
        ],
        &["cmake-no-system"],
    ),
    (
        "curl",
        "win-64",
        Section::Build,
        &["cmake-no-system", "c_compiler_stub"],
        &["make", "perl", "libtool"],
    ),
    (
        "curl",
        "linux-64",
        Section::Host,
        &[
            "openssl",
            "libnghttp2",
            "zlib",
            "zstd",
            "krb5",
            "libssh2",
            "libcurl",
        ],
        &[],
    ),
    (
        "curl",
        "win-64",
        Section::Host,
        &["zlib", "krb5", "libssh2", "libcurl"],
        &["openssl", "libnghttp2", "zstd"],
    ),
    (
        "curl",
        "linux-64",
        Section::Run,
        &["libssh2", "libnghttp2", "libcurl"],
        &[],
    ),
    // openssl (v0, multi-output).
    (
        "openssl",
        "linux-64",
        Section::Build,
        &["c_compiler_stub", "perl"],
        &[],
    ),
    // zlib (v0, multi-output with wapi outputs on Windows).
    ("zlib", "linux-64", Section::Host, &["libzlib"], &[]),
    ("zlib", "linux-64", Section::Run, &["libzlib"], &[]),
    // python (v0, multi-output).
    (
        "python",
        "linux-64",
        Section::Host,
        &[
            "bzip2",
            "libffi",
            "openssl",
            "liblzma-devel",
            "zlib",
            "ncurses",
            "readline",
            "tk",
            "libsqlite",
        ],
        &[],
    ),
    (
        "python",
        "win-64",
        Section::Host,
        &["bzip2", "libffi", "openssl", "tk"],
        &["ncurses", "readline"],
    ),
    // blas (v0, multi-output; the implementation is a variant key).
    (
        "blas",
        "linux-64",
        Section::Host,
        &["openblas", "mkl-devel"],
        &[],
    ),
    (
        "blas",
        "linux-64",
        Section::Run,
        &["libblas", "libcblas", "liblapack"],
        &[],
    ),
    // arrow-cpp (v0, multi-output, selectors on variant keys): glog/libcurl win-only in host.
    (
        "arrow-cpp",
        "linux-64",
        Section::Host,
        &[
            "libabseil",
            "libprotobuf",
            "orc",
            "zstd",
            "aws-sdk-cpp",
            "libarrow",
        ],
        &["libcrc32c"],
    ),
    (
        "arrow-cpp",
        "win-64",
        Section::Host,
        &["libcrc32c", "libcurl", "libabseil"],
        &[],
    ),
    (
        "arrow-cpp",
        "linux-64",
        Section::Build,
        &["cmake", "ninja", "cxx_compiler_stub", "cuda_compiler_stub"],
        &[],
    ),
    (
        "arrow-cpp",
        "osx-64",
        Section::Build,
        &["cmake", "cxx_compiler_stub"],
        &["cuda_compiler_stub"],
    ),
    // pyarrow (v0): on arrow-cpp's outputs.
    (
        "pyarrow",
        "linux-64",
        Section::Host,
        &["libarrow-all", "numpy", "python"],
        &[],
    ),
    // numpy (v1): python and the blas outputs; cross-python only when cross-compiling.
    (
        "numpy",
        "linux-64",
        Section::Host,
        &[
            "libblas",
            "libcblas",
            "liblapack",
            "python",
            "cython",
            "meson-python",
            "pip",
        ],
        &[],
    ),
    (
        "numpy",
        "linux-64",
        Section::Build,
        &[
            "c_compiler_stub",
            "cxx_compiler_stub",
            "ninja",
            "pkg-config",
        ],
        &["cross-python_linux-64"],
    ),
    // numpy's conda-forge.yml cross-compiles linux-ppc64le from linux-64 (build_platform),
    // while osx-arm64 builds natively.
    (
        "numpy",
        "linux-ppc64le",
        Section::Build,
        &["python", "cross-python_linux-ppc64le", "cython"],
        &[],
    ),
    (
        "numpy",
        "osx-arm64",
        Section::Build,
        &["ninja"],
        &["cross-python_osx-arm64"],
    ),
    (
        "numpy",
        "linux-64",
        Section::Run,
        &["python"],
        &["_numpy_rc"],
    ),
    // c-ares (v1): cmake on Windows only, cmake-no-system on unix (cycle breaker).
    (
        "c-ares",
        "win-64",
        Section::Build,
        &["cmake"],
        &["cmake-no-system"],
    ),
    (
        "c-ares",
        "linux-64",
        Section::Build,
        &["cmake-no-system"],
        &["cmake"],
    ),
    // aws-c-auth (v1): its aws-c-* host deps.
    (
        "aws-c-auth",
        "linux-64",
        Section::Host,
        &[
            "aws-c-common",
            "aws-c-http",
            "aws-c-io",
            "aws-c-cal",
            "aws-c-sdkutils",
        ],
        &[],
    ),
    // curl's libcurl-static pins libcurl with pin_subpackage (v0).
    ("curl", "osx-arm64", Section::Run, &["libcurl"], &[]),
];

#[test]
fn spot_checks_derived_from_reading_the_recipes_hold() {
    let Some(corpus) = corpus() else { return };
    let mut failures = Vec::new();
    for (name, platform, section, present, absent) in SPOT_CHECKS {
        let rendered = render(&corpus, name);
        if !rendered.errors.is_empty() {
            failures.push(format!("{name}: render errors: {:?}", rendered.errors));
            continue;
        }
        if !rendered.platforms.contains_key(*platform) {
            failures.push(format!("{name}: no {platform} render"));
            continue;
        }
        let got = names(&rendered, platform, *section);
        for want in *present {
            if !got.contains(*want) {
                failures.push(format!(
                    "{name} {platform} {section}: missing `{want}` (got {got:?})"
                ));
            }
        }
        for unwanted in *absent {
            if got.contains(*unwanted) {
                failures.push(format!(
                    "{name} {platform} {section}: unexpected `{unwanted}`"
                ));
            }
        }
    }
    eprintln!(
        "{} spot checks, {} failures",
        SPOT_CHECKS.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn multi_output_recipes_produce_their_outputs() {
    let Some(corpus) = corpus() else { return };
    let cases: &[(&str, &[&str])] = &[
        ("curl", &["libcurl", "libcurl-static", "curl"]),
        ("openssl", &["openssl", "libopenssl-static"]),
        ("zlib", &["libzlib", "zlib"]),
        ("python", &["python", "libpython-static", "cpython"]),
        (
            "blas",
            &["libblas", "libcblas", "liblapack", "blas-devel", "blas"],
        ),
        (
            "arrow-cpp",
            &["libarrow", "libarrow-acero", "libparquet", "libarrow-all"],
        ),
    ];
    for (name, outputs) in cases {
        let rendered = render(&corpus, name);
        let recipe = rendered
            .platforms
            .get("linux-64")
            .unwrap_or_else(|| panic!("{name}: no linux-64 render: {:?}", rendered.errors));
        let got = recipe.output_names();
        for output in *outputs {
            assert!(
                got.contains(output),
                "{name}: missing output {output} in {got:?}"
            );
        }
    }
}
