//! The few `conda-forge.yml` keys the rerender reads, and which target platforms get
//! `.ci_support` files (reference §1.3, §2.1).
//!
//! The typed, complete `conda-forge.yml` lives in `feedstock::config`; this module reads
//! only what decides the variant files, merged over conda-smithy's defaults, so the
//! rerender does not depend on the rest of the file being valid.

use indexmap::IndexMap;

use super::load::{Node, YamlError, load};

/// conda-smithy's default `build_platform` keys, in its order (every known target).
const TARGETS: [&str; 18] = [
    "emscripten_wasm32",
    "freebsd_64",
    "linux_32",
    "linux_64",
    "linux_aarch64",
    "linux_armv6l",
    "linux_armv7l",
    "linux_ppc64",
    "linux_ppc64le",
    "linux_riscv64",
    "linux_s390x",
    "osx_64",
    "osx_arm64",
    "wasi_wasm32",
    "win_32",
    "win_64",
    "win_arm64",
    "zos_z",
];

/// The image a linux job uses when the pinning gives none.
const FALLBACK_IMAGE: &str = "quay.io/condaforge/linux-anvil-comp7";

/// Errors reading `conda-forge.yml`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForgeConfigError {
    /// Not YAML.
    #[error("conda-forge.yml is not valid YAML")]
    Yaml(#[source] YamlError),
    /// A key conda-smithy refuses.
    #[error("conda-forge.yml: {0}")]
    Invalid(String),
}

/// Which recipe format conda-smithy renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildTool {
    /// conda-build (`meta.yaml`).
    CondaBuild,
    /// rattler-build (`recipe.yaml`).
    RattlerBuild,
}

/// The rerender-relevant part of `conda-forge.yml`, over smithy's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ForgeConfig {
    /// target → build platform, in smithy's order (defaults first, then new keys).
    pub build_platform: IndexMap<String, String>,
    /// platform (or `linux`/`osx`/`win` alias) → CI services; empty means disabled.
    pub provider: IndexMap<String, Vec<String>>,
    /// Platforms that keep `noarch` outputs.
    pub noarch_platforms: Vec<String>,
    /// linux target → `os_version` (`alma9`, ...).
    pub os_version: IndexMap<String, String>,
    /// `recipe_dir`.
    pub recipe_dir: String,
    /// `conda_build_tool`.
    pub build_tool: BuildTool,
    /// `docker.fallback_image`.
    pub fallback_image: String,
    /// `github_actions.self_hosted`.
    pub self_hosted: bool,
}

/// One target platform the rerender produces files for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `linux_aarch64`.
    pub name: String,
    /// The conda subdir, `linux-aarch64`.
    pub subdir: String,
    /// The build platform's subdir (differs when cross-compiling).
    pub build_subdir: String,
    /// The CI services building it.
    pub providers: Vec<String>,
    /// True when `noarch` outputs are kept on it.
    pub keep_noarch: bool,
    /// `os_version` for linux targets.
    pub os_version: Option<String>,
}

impl Default for ForgeConfig {
    fn default() -> Self {
        let build_platform = TARGETS
            .iter()
            .map(|t| (t.to_string(), t.to_string()))
            .collect();
        let mut provider: IndexMap<String, Vec<String>> = TARGETS
            .iter()
            .map(|t| (t.to_string(), Vec::new()))
            .collect();
        for (platform, service) in [
            ("linux_64", "github_actions"),
            ("osx_64", "azure"),
            ("win_64", "github_actions"),
        ] {
            provider.insert(platform.to_string(), vec![service.to_string()]);
        }
        ForgeConfig {
            build_platform,
            provider,
            noarch_platforms: vec!["linux_64".to_string()],
            os_version: IndexMap::new(),
            recipe_dir: "recipe".to_string(),
            build_tool: BuildTool::CondaBuild,
            fallback_image: FALLBACK_IMAGE.to_string(),
            self_hosted: false,
        }
    }
}

/// The service a `default` / `emulated` / `native` entry means for a platform.
fn default_provider(platform: &str, value: &str) -> String {
    let os = platform.split('_').next().unwrap_or_default();
    match value {
        "native" if platform.ends_with("ppc64le") || platform.ends_with("s390x") => {
            "travis".to_string()
        }
        "default" | "emulated" | "native" => match os {
            "osx" => "azure".to_string(),
            _ => "github_actions".to_string(),
        },
        other => other.to_string(),
    }
}

fn strings(node: &Node) -> Vec<String> {
    match node {
        Node::Seq(items) => items.iter().flat_map(strings).collect(),
        Node::Scalar { text, .. } if !node.is_null() => vec![text.clone()],
        _ => Vec::new(),
    }
}

impl ForgeConfig {
    /// Reads `conda-forge.yml` text (an empty file gives the defaults).
    pub fn parse(text: &str) -> Result<ForgeConfig, ForgeConfigError> {
        let mut config = ForgeConfig::default();
        let Some(root) = load(text).map_err(ForgeConfigError::Yaml)? else {
            return Ok(config);
        };
        if root.is_null() {
            return Ok(config);
        }
        if !matches!(root, Node::Map(_)) {
            return Err(ForgeConfigError::Invalid(
                "the top level is not a mapping".to_string(),
            ));
        }
        if let Some(Node::Map(entries)) = root.get("build_platform") {
            for (target, build) in entries {
                if let Some(build) = build.as_str() {
                    config
                        .build_platform
                        .insert(target.clone(), build.to_string());
                }
            }
        }
        if let Some(Node::Map(entries)) = root.get("provider") {
            for (platform, value) in entries {
                let services: Vec<String> = strings(value)
                    .into_iter()
                    .filter(|s| !matches!(s.as_str(), "false" | "False" | "None" | "null"))
                    .map(|s| default_provider(platform, &s))
                    .collect();
                config.provider.insert(platform.clone(), services);
            }
        }
        if let Some(node) = root.get("noarch_platforms") {
            config.noarch_platforms = strings(node);
        }
        if let Some(Node::Map(entries)) = root.get("os_version") {
            for (target, version) in entries {
                if let Some(v) = version.as_str().filter(|_| !version.is_null()) {
                    config.os_version.insert(target.clone(), v.to_string());
                }
            }
        }
        if let Some(dir) = root.get("recipe_dir").and_then(Node::as_str) {
            config.recipe_dir = dir.to_string();
        }
        if let Some(tool) = root.get("conda_build_tool").and_then(Node::as_str) {
            config.build_tool = if tool == "rattler-build" {
                BuildTool::RattlerBuild
            } else {
                BuildTool::CondaBuild
            };
        }
        if let Some(image) = root
            .get("docker")
            .and_then(|d| d.get("fallback_image"))
            .and_then(Node::as_str)
        {
            config.fallback_image = image.to_string();
        }
        if let Some(docker) = root.get("docker")
            && docker.get("image").is_some()
        {
            return Err(ForgeConfigError::Invalid(
                "`docker.image` was removed; the pinning's `docker_image` decides".to_string(),
            ));
        }
        config.self_hosted = root
            .get("github_actions")
            .and_then(|g| g.get("self_hosted"))
            .and_then(Node::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("true"));
        Ok(config)
    }

    /// The targets that get files, in smithy's order (reference §2.1): a target is built
    /// by the services of its build platform (or of the OS alias for `*_64` builders).
    pub fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        for (target, build) in &self.build_platform {
            let (build_os, build_arch) = build.split_once('_').unwrap_or((build.as_str(), ""));
            let alias = self.provider.get(build_os).filter(|p| !p.is_empty());
            let providers = match alias {
                Some(p) if build_arch == "64" => p.clone(),
                _ => self.provider.get(build).cloned().unwrap_or_default(),
            };
            if providers.is_empty() {
                continue;
            }
            targets.push(Target {
                name: target.clone(),
                subdir: target.replacen('_', "-", 1),
                build_subdir: build.replacen('_', "-", 1),
                providers,
                keep_noarch: self.noarch_platforms.contains(target),
                os_version: self
                    .os_version
                    .get(target)
                    .cloned()
                    .filter(|_| target.starts_with("linux")),
            });
        }
        targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        ForgeConfig::parse(text)
            .unwrap()
            .targets()
            .into_iter()
            .map(|t| t.name)
            .collect()
    }

    #[test]
    fn only_the_three_main_platforms_are_on_by_default() {
        assert_eq!(names(""), ["linux_64", "osx_64", "win_64"]);
    }

    #[test]
    fn a_build_platform_entry_alone_enables_a_cross_compiled_target() {
        assert_eq!(
            names("build_platform:\n  osx_arm64: osx_64\n  linux_aarch64: linux_64\n"),
            ["linux_64", "linux_aarch64", "osx_64", "osx_arm64", "win_64"]
        );
    }

    #[test]
    fn a_cross_compiled_targets_own_provider_is_ignored() {
        let config = ForgeConfig::parse(
            "build_platform: {linux_aarch64: linux_64}\nprovider: {linux_aarch64: azure}\n",
        )
        .unwrap();
        let aarch64 = config
            .targets()
            .into_iter()
            .find(|t| t.name == "linux_aarch64")
            .unwrap();
        assert_eq!(aarch64.providers, ["github_actions"]);
        assert_eq!(aarch64.build_subdir, "linux-64");
    }

    #[test]
    fn native_providers_enable_their_platform() {
        assert_eq!(
            names("provider: {linux_aarch64: default, linux_64: null}\n"),
            ["linux_aarch64", "osx_64", "win_64"]
        );
    }

    #[test]
    fn a_scalar_noarch_platform_is_a_list() {
        let config = ForgeConfig::parse("noarch_platforms: osx_64\n").unwrap();
        assert_eq!(config.noarch_platforms, ["osx_64"]);
    }
}
