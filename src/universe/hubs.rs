//! The fixed core of every universe: the hubs most of conda-forge depends on (python,
//! zlib, openssl, numpy, the build tools and the Python packaging stack), with real names
//! and the dependency structure of their real feedstocks, simplified.
//!
//! Entries are in dependency order: a hub only names outputs of hubs above it. A
//! requirement written `"make [unix]"` carries a selector.

use crate::recipe::RecipeFormat;

use super::model::{Compiler, Exports, Kind, Role};

/// One hub feedstock.
pub(crate) struct Hub {
    pub name: &'static str,
    pub kind: Kind,
    pub format: RecipeFormat,
    pub version: &'static str,
    /// Empty for a single-output recipe.
    pub outputs: &'static [(&'static str, Role)],
    pub compilers: &'static [Compiler],
    pub build: &'static [&'static str],
    pub host: &'static [&'static str],
    pub run: &'static [&'static str],
    /// The value in the universe's pinning, when pinned.
    pub pin: Option<&'static str>,
    /// False for Unix-only libraries (ncurses, readline).
    pub windows: bool,
    pub exports: Exports,
    /// Initial weight as a library other packages link against.
    pub link_weight: u32,
    /// Initial weight as a Python run dependency.
    pub python_weight: u32,
}

use Compiler::{C, Cxx, Fortran};
use Kind::{Library, MultiOutput, NoarchPython, PythonExtension, Tool};
use RecipeFormat::{V0, V1};

const fn hub(name: &'static str, kind: Kind, format: RecipeFormat, version: &'static str) -> Hub {
    Hub {
        name,
        kind,
        format,
        version,
        outputs: &[],
        compilers: &[],
        build: &[],
        host: &[],
        run: &[],
        pin: None,
        windows: true,
        exports: Exports::None,
        link_weight: 0,
        python_weight: 0,
    }
}

/// The hubs, in dependency order.
pub(crate) const HUBS: &[Hub] = &[
    // Build tools: no library dependencies, so anything may use them without a cycle.
    Hub {
        compilers: &[C],
        ..hub("make", Tool, V0, "4.4.1")
    },
    Hub {
        compilers: &[Cxx],
        ..hub("ninja", Tool, V1, "1.12.1")
    },
    Hub {
        compilers: &[C],
        build: &["make [unix]"],
        ..hub("pkg-config", Tool, V0, "0.29.2")
    },
    Hub {
        compilers: &[C, Cxx],
        build: &["make [unix]", "ninja"],
        ..hub("cmake", Tool, V0, "3.31.6")
    },
    // Base libraries.
    Hub {
        outputs: &[("libzlib", Role::Lib), ("zlib", Role::Devel)],
        compilers: &[C],
        build: &["cmake [win]", "make [unix]"],
        pin: Some("1"),
        exports: Exports::Weak,
        link_weight: 40,
        ..hub("zlib", MultiOutput, V0, "1.3.1")
    },
    Hub {
        compilers: &[C],
        build: &["make [unix]"],
        pin: Some("1"),
        exports: Exports::Weak,
        link_weight: 8,
        ..hub("bzip2", Library, V0, "1.0.8")
    },
    Hub {
        outputs: &[
            ("liblzma", Role::Lib),
            ("liblzma-devel", Role::Devel),
            ("xz", Role::Tool),
        ],
        compilers: &[C],
        build: &["make [unix]", "cmake [win]"],
        pin: Some("5"),
        exports: Exports::Weak,
        link_weight: 6,
        ..hub("xz", MultiOutput, V1, "5.6.4")
    },
    Hub {
        compilers: &[C],
        build: &["make [unix]"],
        pin: Some("3.4"),
        exports: Exports::Weak,
        link_weight: 4,
        ..hub("libffi", Library, V0, "3.4.6")
    },
    Hub {
        compilers: &[C],
        build: &["make"],
        pin: Some("6"),
        windows: false,
        exports: Exports::Weak,
        link_weight: 3,
        ..hub("ncurses", Library, V0, "6.5")
    },
    Hub {
        compilers: &[C],
        build: &["make [unix]"],
        pin: Some("3"),
        exports: Exports::Weak,
        link_weight: 25,
        ..hub("openssl", Library, V0, "3.4.1")
    },
    Hub {
        compilers: &[C],
        build: &["make"],
        host: &["ncurses"],
        pin: Some("8"),
        windows: false,
        exports: Exports::Weak,
        link_weight: 2,
        ..hub("readline", Library, V0, "8.2")
    },
    Hub {
        outputs: &[("libsqlite", Role::Lib), ("sqlite", Role::Tool)],
        compilers: &[C],
        build: &["make [unix]"],
        host: &["zlib", "readline [unix]", "ncurses [unix]"],
        pin: Some("3"),
        exports: Exports::Weak,
        link_weight: 6,
        ..hub("sqlite", MultiOutput, V1, "3.49.1")
    },
    Hub {
        compilers: &[C],
        build: &["make [unix]"],
        host: &["zlib"],
        pin: Some("8.6"),
        exports: Exports::Weak,
        link_weight: 2,
        ..hub("tk", Library, V0, "8.6.13")
    },
    Hub {
        compilers: &[C],
        build: &["cmake"],
        host: &["openssl", "zlib"],
        pin: Some("1"),
        exports: Exports::Weak,
        link_weight: 2,
        ..hub("libssh2", Library, V0, "1.11.1")
    },
    Hub {
        outputs: &[("libcurl", Role::Lib), ("curl", Role::Tool)],
        compilers: &[C],
        build: &["make [unix]", "cmake [win]", "pkg-config [unix]"],
        host: &["zlib", "openssl", "libssh2"],
        pin: Some("8"),
        exports: Exports::Weak,
        link_weight: 15,
        ..hub("curl", MultiOutput, V0, "8.12.1")
    },
    Hub {
        compilers: &[C],
        build: &["make [unix]", "pkg-config [unix]", "cmake [win]"],
        host: &["zlib", "liblzma-devel"],
        pin: Some("2.13"),
        exports: Exports::Weak,
        link_weight: 8,
        ..hub("libxml2", Library, V1, "2.13.6")
    },
    Hub {
        compilers: &[C],
        build: &["cmake"],
        host: &["zlib"],
        pin: Some("1.6"),
        exports: Exports::Weak,
        link_weight: 8,
        ..hub("libpng", Library, V0, "1.6.47")
    },
    Hub {
        compilers: &[C],
        build: &["cmake", "ninja"],
        pin: Some("3"),
        exports: Exports::Weak,
        link_weight: 6,
        ..hub("libjpeg-turbo", Library, V1, "3.0.0")
    },
    Hub {
        compilers: &[C],
        build: &["cmake"],
        pin: Some("0.2"),
        exports: Exports::Weak,
        link_weight: 2,
        ..hub("yaml", Library, V0, "0.2.5")
    },
    Hub {
        compilers: &[C, Cxx],
        build: &["cmake", "ninja"],
        windows: false,
        exports: Exports::Strong,
        link_weight: 1,
        ..hub("llvm-openmp", Library, V0, "19.1.7")
    },
    Hub {
        outputs: &[("libopenblas", Role::Lib), ("openblas", Role::Devel)],
        compilers: &[C, Fortran],
        build: &["make"],
        pin: Some("0.3"),
        exports: Exports::Weak,
        link_weight: 1,
        ..hub("openblas", MultiOutput, V0, "0.3.29")
    },
    Hub {
        outputs: &[
            ("libblas", Role::Lib),
            ("libcblas", Role::Lib),
            ("liblapack", Role::Lib),
        ],
        host: &["libopenblas"],
        pin: Some("3.9"),
        exports: Exports::Weak,
        link_weight: 4,
        ..hub("blas", MultiOutput, V0, "3.9.0")
    },
    // The interpreter.
    Hub {
        compilers: &[C],
        build: &["make [unix]", "pkg-config [unix]"],
        host: &[
            "bzip2",
            "libffi",
            "openssl",
            "readline [unix]",
            "libsqlite",
            "tk",
            "liblzma-devel",
            "zlib",
            "ncurses [unix]",
        ],
        ..hub("python", Library, V0, "3.12.9")
    },
    // The Python packaging stack and the popular pure-Python libraries.
    hub("setuptools", NoarchPython, V0, "75.8.0"),
    Hub {
        host: &["setuptools"],
        ..hub("wheel", NoarchPython, V0, "0.45.1")
    },
    Hub {
        host: &["setuptools", "wheel"],
        ..hub("pip", NoarchPython, V0, "25.0.1")
    },
    Hub {
        host: &["pip"],
        ..hub("flit-core", NoarchPython, V1, "3.11.0")
    },
    Hub {
        host: &["pip", "flit-core"],
        python_weight: 15,
        ..hub("packaging", NoarchPython, V0, "24.2")
    },
    Hub {
        host: &["pip", "setuptools"],
        python_weight: 2,
        ..hub("pluggy", NoarchPython, V0, "1.5.0")
    },
    Hub {
        host: &["pip", "flit-core"],
        ..hub("pathspec", NoarchPython, V0, "0.12.1")
    },
    Hub {
        host: &["pip", "setuptools"],
        ..hub("trove-classifiers", NoarchPython, V0, "2025.3.3.18")
    },
    Hub {
        host: &["pip"],
        run: &["packaging", "pathspec", "pluggy", "trove-classifiers"],
        ..hub("hatchling", NoarchPython, V1, "1.27.0")
    },
    Hub {
        host: &["pip", "hatchling"],
        ..hub("iniconfig", NoarchPython, V1, "2.0.0")
    },
    Hub {
        host: &["pip", "setuptools"],
        run: &["packaging", "pluggy", "iniconfig"],
        python_weight: 2,
        ..hub("pytest", NoarchPython, V0, "8.3.5")
    },
    Hub {
        host: &["pip", "flit-core"],
        python_weight: 15,
        ..hub("typing_extensions", NoarchPython, V1, "4.12.2")
    },
    Hub {
        host: &["pip", "setuptools"],
        python_weight: 8,
        ..hub("six", NoarchPython, V0, "1.17.0")
    },
    Hub {
        host: &["pip", "setuptools"],
        run: &["six"],
        python_weight: 5,
        ..hub("python-dateutil", NoarchPython, V0, "2.9.0")
    },
    Hub {
        host: &["pip", "setuptools"],
        python_weight: 2,
        ..hub("certifi", NoarchPython, V0, "2025.1.31")
    },
    Hub {
        host: &["pip", "flit-core"],
        python_weight: 3,
        ..hub("idna", NoarchPython, V1, "3.10")
    },
    Hub {
        host: &["pip", "hatchling"],
        python_weight: 3,
        ..hub("urllib3", NoarchPython, V0, "2.3.0")
    },
    Hub {
        host: &["pip", "setuptools"],
        python_weight: 2,
        ..hub("charset-normalizer", NoarchPython, V0, "3.4.1")
    },
    Hub {
        host: &["pip", "setuptools"],
        run: &["certifi", "idna", "charset-normalizer", "urllib3"],
        python_weight: 15,
        ..hub("requests", NoarchPython, V0, "2.32.3")
    },
    Hub {
        host: &["pip", "setuptools"],
        run: &["ninja"],
        ..hub("meson", NoarchPython, V0, "1.7.0")
    },
    Hub {
        host: &["pip", "meson"],
        run: &["meson", "packaging"],
        ..hub("meson-python", NoarchPython, V0, "0.17.1")
    },
    Hub {
        host: &["pip", "setuptools"],
        run: &["packaging", "setuptools"],
        python_weight: 1,
        ..hub("setuptools_scm", NoarchPython, V0, "8.2.0")
    },
    // Compiled Python packages at the centre of the scientific stack.
    Hub {
        compilers: &[C, Cxx],
        host: &["pip", "setuptools"],
        ..hub("cython", PythonExtension, V0, "3.0.12")
    },
    Hub {
        compilers: &[Cxx],
        build: &["cmake", "ninja"],
        host: &["pip", "setuptools"],
        ..hub("pybind11", PythonExtension, V1, "2.13.6")
    },
    Hub {
        compilers: &[C, Cxx],
        build: &["ninja", "pkg-config"],
        host: &[
            "pip",
            "cython",
            "meson-python",
            "libblas",
            "libcblas",
            "liblapack",
        ],
        pin: Some("2"),
        python_weight: 40,
        ..hub("numpy", PythonExtension, V1, "2.2.4")
    },
    Hub {
        compilers: &[C],
        host: &["pip", "setuptools", "cython", "yaml"],
        python_weight: 8,
        ..hub("pyyaml", PythonExtension, V0, "6.0.2")
    },
    Hub {
        compilers: &[C, Cxx],
        build: &["ninja"],
        host: &["pip", "cython", "meson-python", "numpy"],
        run: &["python-dateutil"],
        python_weight: 15,
        ..hub("pandas", PythonExtension, V0, "2.2.3")
    },
    Hub {
        compilers: &[C, Cxx, Fortran],
        build: &["ninja", "pkg-config"],
        host: &[
            "pip",
            "cython",
            "meson-python",
            "pybind11",
            "numpy",
            "libblas",
            "libcblas",
            "liblapack",
        ],
        python_weight: 8,
        ..hub("scipy", PythonExtension, V0, "1.15.2")
    },
];

/// Splits a table entry `"make [unix]"` into the name and its selector text.
pub(crate) fn split_entry(entry: &str) -> (&str, Option<&str>) {
    match entry.split_once(" [") {
        Some((name, rest)) => (name, Some(rest.trim_end_matches(']'))),
        None => (entry, None),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::universe::model::Selector;

    #[test]
    fn every_hub_names_only_hubs_above_it() {
        let mut known: HashSet<&str> = HashSet::new();
        for hub in HUBS {
            for entry in hub.build.iter().chain(hub.host).chain(hub.run) {
                let (name, selector) = split_entry(entry);
                assert!(
                    known.contains(name),
                    "{} uses {name} before it exists",
                    hub.name
                );
                if let Some(selector) = selector {
                    assert!(Selector::parse(selector).is_some(), "{entry}");
                }
            }
            if hub.outputs.is_empty() {
                known.insert(hub.name);
            }
            known.extend(hub.outputs.iter().map(|(name, _)| *name));
        }
    }

    #[test]
    fn hub_output_names_are_unique() {
        let mut seen = HashSet::new();
        for hub in HUBS {
            let names: Vec<&str> = if hub.outputs.is_empty() {
                vec![hub.name]
            } else {
                hub.outputs.iter().map(|(n, _)| *n).collect()
            };
            for name in names {
                assert!(seen.insert(name), "{name} twice");
            }
        }
    }
}
