//! The native rerender: from a feedstock's inputs and a pinning to the exact set of
//! `.ci_support/*.yaml` files (reference §4.1).
//!
//! Per target platform: evaluate the variant files' selectors, combine them, fold the
//! migrations in, explode the matrix, let the recipe say what it keeps and uses, collapse
//! to jobs, name and emit them. File system access lives in `files.rs`.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use tracing::debug;

use crate::recipe::{Recipe, RecipeError, RecipeFormat};

use super::cbc::{
    SpecError, VariantSpec, combine, internal_defaults, load_plain_spec, load_prepared,
};
use super::combine::{CollapseInput, Matrix, Meta, collapse, sort_values};
use super::emit::{file_stem, render};
use super::lines::SelectableText;
use super::mentions::{Mentions, declared_keys};
use super::metas_v0::{self, V0Error, V0Recipe};
use super::metas_v1::{self, V1Error};
use super::migrations::{self, MigrationError, MigrationFile, PreparedMigration, Resolution};
use super::namespace::{SmithyEnv, platform_namespace};
use super::platforms::{BuildTool, ForgeConfig, ForgeConfigError, Target};
use super::prepared::Prepared;
use super::used_vars::{Rules, ScanCache};

/// Everything the rerender reads from a feedstock.
#[derive(Debug, Clone, Default)]
pub struct FeedstockInputs {
    /// The repository name (`zlib-feedstock`): only long file names depend on it.
    pub repo: String,
    /// `conda-forge.yml` text.
    pub forge_yml: String,
    /// The recipe text (`meta.yaml` or `recipe.yaml`, as `conda-forge.yml` selects).
    pub recipe: String,
    /// `recipe/conda_build_config.yaml`, when present.
    pub local_cbc: Option<String>,
    /// `recipe/variants.yaml` (v1), when present.
    pub variants_yaml: Option<String>,
    /// `recipe/build.sh`, when present.
    pub build_sh: Option<String>,
    /// `recipe/bld.bat`, when present.
    pub bld_bat: Option<String>,
    /// Other recipe scripts by file name (output `script:` files).
    pub scripts: BTreeMap<String, String>,
    /// `.ci_support/migrations/*.yaml`.
    pub migrations: Vec<MigrationFile>,
}

/// A pinning: the global `conda_build_config.yaml` and its migrations.
#[derive(Debug, Clone, Default)]
pub struct Pinning {
    /// `conda_build_config.yaml` text.
    pub cbc: String,
    /// `migrations/*.yaml`; `None` when the pinning has no migrations directory.
    pub migrations: Option<Vec<MigrationFile>>,
}

/// conda-smithy behaviours that changed between releases. The default is the newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compat {
    /// smithy before 3.52.3 always kept `cdt_arch`, `cdt_name` and `BUILD`.
    pub keep_cdt_keys: bool,
    /// conda-build as shipped with smithy before 3.39 did not count
    /// `{{ pin_subpackage('key', ...) }}` as a use of `key`, and did count
    /// `{{ key_suffix }}` as a use of `key`.
    pub classic_jinja: bool,
}

impl Compat {
    /// The behaviour of a conda-smithy version (`3.52.1`, `2026.6.14`); unknown or newer
    /// versions get today's behaviour.
    pub fn for_smithy_version(version: &str) -> Compat {
        let parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        let older_than = |want: &[u64]| parts.as_slice() < want;
        Compat {
            keep_cdt_keys: older_than(&[3, 52, 3]),
            classic_jinja: older_than(&[3, 39]),
        }
    }
}

/// What a rerender produces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RerenderOutput {
    /// `.ci_support/<name>` → content, for every variant file.
    pub files: BTreeMap<String, String>,
    /// What happened to each feedstock migration file.
    pub migrations: Resolution,
    /// Platforms that have a CI provider but produce no file, with the reason.
    pub empty_platforms: Vec<(String, String)>,
}

/// Why a feedstock cannot be rerendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RerenderError {
    /// `conda-forge.yml` is unusable.
    #[error(transparent)]
    ForgeConfig(#[from] ForgeConfigError),
    /// A variant file is unusable.
    #[error("{file} ({platform})")]
    Spec {
        /// Which file.
        file: String,
        /// The platform being rendered.
        platform: String,
        /// What is wrong.
        #[source]
        source: SpecError,
    },
    /// A migration file is unusable.
    #[error("migrations ({platform})")]
    Migration {
        /// The platform being rendered.
        platform: String,
        /// What is wrong.
        #[source]
        source: MigrationError,
    },
    /// The recipe does not parse.
    #[error("the recipe does not parse")]
    Recipe(#[source] RecipeError),
    /// The v0 recipe failed for a variant.
    #[error("the recipe cannot be rendered for {platform}")]
    V0 {
        /// The platform.
        platform: String,
        /// What failed.
        #[source]
        source: V0Error,
    },
    /// The v1 recipe failed.
    #[error("the recipe cannot be rendered for {platform}")]
    V1 {
        /// The platform.
        platform: String,
        /// What failed.
        #[source]
        source: V1Error,
    },
}

/// Keys every file keeps when defined (smithy's `always_keep_keys`).
const ALWAYS_KEEP: [&str; 10] = [
    "zip_keys",
    "pin_run_as_build",
    "MACOSX_DEPLOYMENT_TARGET",
    "MACOSX_SDK_VERSION",
    "macos_min_version",
    "macos_machine",
    "channel_sources",
    "channel_targets",
    "docker_image",
    "build_number_decrement",
];

/// Keys smithy adds when `mpi` is used.
const MPI_KEYS: [&str; 5] = ["mpich", "openmpi", "msmpi", "mpi_serial", "impi"];

enum Parsed {
    V0(Recipe),
    V1(rattler_build_recipe::stage0::Recipe),
}

/// True when a raw recipe line calls the CUDA compiler (smithy's probe, outside comments).
fn uses_cuda(recipe: &str) -> bool {
    recipe.lines().any(|line| {
        let code = line.split('#').next().unwrap_or_default();
        code.contains("compiler('cuda')") || code.contains("compiler(\"cuda\")")
    })
}

/// Rerenders a feedstock against a pinning.
pub fn rerender(
    inputs: &FeedstockInputs,
    pinning: &Pinning,
    compat: Compat,
) -> Result<RerenderOutput, RerenderError> {
    let forge = ForgeConfig::parse(&inputs.forge_yml)?;
    let resolution = migrations::resolve(&inputs.migrations, pinning.migrations.as_deref())
        .map_err(|source| RerenderError::Migration {
            platform: "resolving against the pinning".to_string(),
            source,
        })?;
    let parsed = match forge.build_tool {
        BuildTool::CondaBuild => Parsed::V0(
            Recipe::parse(RecipeFormat::V0, &inputs.recipe).map_err(RerenderError::Recipe)?,
        ),
        BuildTool::RattlerBuild => Parsed::V1(metas_v1::parse(&inputs.recipe).map_err(
            |source| RerenderError::V1 {
                platform: "all platforms".to_string(),
                source,
            },
        )?),
    };
    let context = Context {
        inputs,
        forge: &forge,
        parsed: &parsed,
        cuda: uses_cuda(&inputs.recipe),
        compat,
        pinning_cbc: Prepared::new(&pinning.cbc),
        local_cbc: inputs.local_cbc.as_deref().map(Prepared::new),
        migrations: resolution
            .apply
            .iter()
            .map(PreparedMigration::new)
            .collect(),
        mentions: {
            let mut texts: Vec<&str> = vec![&inputs.recipe];
            texts.extend(inputs.build_sh.as_deref());
            texts.extend(inputs.bld_bat.as_deref());
            texts.extend(inputs.scripts.values().map(String::as_str));
            let mut variant_files: Vec<&str> = vec![&pinning.cbc];
            variant_files.extend(inputs.local_cbc.as_deref());
            variant_files.extend(inputs.variants_yaml.as_deref());
            variant_files.extend(resolution.apply.iter().map(|m| m.text.as_str()));
            let mut universe = declared_keys(&variant_files);
            universe.extend(internal_defaults("linux-64").values.into_keys());
            Mentions::new(&texts, universe)
        },
        scans: ScanCache::default(),
        selectable: SelectableText::new(&inputs.recipe),
    };
    let mut output = RerenderOutput {
        migrations: resolution.clone(),
        ..RerenderOutput::default()
    };
    // Platforms are independent: render them in parallel, report in platform order.
    let targets = forge.targets();
    let rendered: Vec<Result<BTreeMap<String, String>, RerenderError>> =
        targets.par_iter().map(|t| context.platform(t)).collect();
    for (target, files) in targets.iter().zip(rendered) {
        let files = files?;
        if files.is_empty() {
            output.empty_platforms.push((
                target.name.clone(),
                "every output is skipped (or noarch) on this platform".to_string(),
            ));
        }
        output.files.extend(files);
    }
    Ok(output)
}

struct Context<'a> {
    inputs: &'a FeedstockInputs,
    forge: &'a ForgeConfig,
    parsed: &'a Parsed,
    cuda: bool,
    compat: Compat,
    /// The variant files, split once for all platforms.
    pinning_cbc: Prepared,
    local_cbc: Option<Prepared>,
    migrations: Vec<PreparedMigration>,
    /// Which keys the recipe's texts mention.
    mentions: Mentions,
    /// Key scans of the recipe text, shared by the platforms.
    scans: ScanCache,
    /// The recipe split for selection.
    selectable: SelectableText,
}

impl Context<'_> {
    /// The combined, migrated spec of one platform.
    fn spec(&self, target: &Target) -> Result<VariantSpec, RerenderError> {
        let env = SmithyEnv {
            build_platform: target.build_subdir.clone(),
            default_linux_version: target.os_version.clone(),
            cuda_enabled: self.cuda,
        };
        let ns = platform_namespace(&target.subdir, &env);
        let load = |file: &str, text: &Prepared| {
            load_prepared(text, &ns).map_err(|source| RerenderError::Spec {
                file: file.to_string(),
                platform: target.name.clone(),
                source,
            })
        };
        let mut layers = vec![internal_defaults(&target.subdir)];
        layers.push(load("pinning conda_build_config.yaml", &self.pinning_cbc)?);
        if let Some(text) = &self.local_cbc {
            layers.push(load("recipe/conda_build_config.yaml", text)?);
        }
        if let Some(text) = &self.inputs.variants_yaml {
            // rattler-build's variant file: plain YAML, no `# [selector]` lines.
            layers.push(load_plain_spec(text).map_err(|source| RerenderError::Spec {
                file: "recipe/variants.yaml".to_string(),
                platform: target.name.clone(),
                source,
            })?);
        }
        let combined = combine(layers).map_err(|source| RerenderError::Spec {
            file: "combined variant files".to_string(),
            platform: target.name.clone(),
            source,
        })?;
        migrations::apply(combined, &self.migrations, &ns).map_err(|source| {
            RerenderError::Migration {
                platform: target.name.clone(),
                source,
            }
        })
    }

    /// The files of one platform.
    fn platform(&self, target: &Target) -> Result<BTreeMap<String, String>, RerenderError> {
        let spec = self.spec(target)?;
        let relevant = self.relevant_keys(&spec);
        let mut matrix = Matrix::explode(&spec, &|key| relevant.contains(key));
        if target.subdir.starts_with("osx-") {
            matrix.merge_macos_targets();
        }
        let v0_error = |source| RerenderError::V0 {
            platform: target.name.clone(),
            source,
        };
        let (metas, from_input) = match self.parsed {
            Parsed::V0(recipe) => {
                let env = SmithyEnv {
                    build_platform: target.build_subdir.clone(),
                    default_linux_version: target.os_version.clone(),
                    cuda_enabled: self.cuda,
                };
                let ns = platform_namespace(&target.subdir, &env);
                let input = V0Recipe {
                    recipe,
                    text: &self.inputs.recipe,
                    selectable: &self.selectable,
                    build_sh: self.inputs.build_sh.as_deref(),
                    bld_bat: self.inputs.bld_bat.as_deref(),
                    scripts: &self.inputs.scripts,
                    rules: Rules {
                        classic_jinja: self.compat.classic_jinja,
                    },
                    scans: &self.scans,
                };
                metas_v0::reduce_noarch_python(&input, &mut matrix, &target.subdir)
                    .map_err(v0_error)?;
                let metas = metas_v0::metas(
                    &input,
                    &matrix,
                    &|key| self.mentioned(key),
                    &ns,
                    &target.subdir,
                    target.keep_noarch,
                )
                .map_err(v0_error)?;
                (metas, BTreeSet::new())
            }
            Parsed::V1(recipe) => {
                let (metas, reported) = metas_v1::metas(
                    recipe,
                    &spec,
                    &matrix,
                    &|key| relevant.contains(key),
                    &target.subdir,
                    target.keep_noarch,
                )
                .map_err(|source| RerenderError::V1 {
                    platform: target.name.clone(),
                    source,
                })?;
                let from_input: BTreeSet<String> = matrix
                    .keys()
                    .filter(|k| !reported.contains(*k))
                    .map(str::to_string)
                    .collect();
                (metas, from_input)
            }
        };
        if metas.is_empty() {
            return Ok(BTreeMap::new());
        }
        let (all_used, top_level) = self.used_keys(&metas, &matrix, target);
        debug!(platform = %target.name, ?top_level, "collapsing");
        let mut jobs = collapse(&CollapseInput {
            matrix: &matrix,
            metas: &metas,
            all_used: &all_used,
            top_level: &top_level,
            from_input: &from_input,
            pins: &spec.pin_run_as_build,
        });
        let loop_vars: Vec<&str> = top_level.iter().map(String::as_str).collect();
        let mut files = BTreeMap::new();
        for job in &mut jobs {
            sort_values(job);
            if target.build_subdir.starts_with("linux-") {
                self.finalize_docker(job);
            }
            let provider = target
                .providers
                .first()
                .map(String::as_str)
                .unwrap_or_default();
            let stem = file_stem(&target.name, job, &loop_vars, &self.inputs.repo, provider);
            files.insert(format!("{stem}.yaml"), render(job));
        }
        Ok(files)
    }

    /// Keys an output could use or a file always keeps; the others never vary a job.
    fn relevant_keys(&self, spec: &VariantSpec) -> BTreeSet<String> {
        let mut relevant: BTreeSet<String> = spec
            .values
            .keys()
            .filter(|k| self.mentioned(k))
            .cloned()
            .collect();
        if let Parsed::V0(recipe) = self.parsed {
            relevant.extend(recipe.used_variables().iter().cloned());
        }
        relevant.extend(ALWAYS_KEEP.iter().map(|k| k.to_string()));
        relevant.extend(MPI_KEYS.iter().map(|k| k.to_string()));
        relevant.extend(
            [
                "target_platform",
                "channel_targets",
                "c_stdlib_version",
                "github_actions_labels",
                "python_min",
                "cdt_arch",
                "cdt_name",
                "BUILD",
            ]
            .map(String::from),
        );
        relevant
    }

    /// True when the recipe (or a build script) can use the key at all (see
    /// [`Mentions`]).
    fn mentioned(&self, key: &str) -> bool {
        self.mentions.mentions(key)
    }

    /// `all_used` and the top-level loop variables (reference §2.6 "collapsing").
    fn used_keys(
        &self,
        metas: &[Meta],
        matrix: &Matrix<'_>,
        target: &Target,
    ) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut all_used: BTreeSet<String> = BTreeSet::new();
        for meta in metas {
            all_used.extend(meta.used.iter().cloned());
        }
        if all_used.contains("mpi") {
            all_used.extend(MPI_KEYS.iter().map(|k| k.to_string()));
        }
        all_used.extend(ALWAYS_KEEP.iter().map(|k| k.to_string()));
        if self.compat.keep_cdt_keys {
            all_used.extend(["cdt_arch", "cdt_name", "BUILD"].map(String::from));
        }
        if metas.iter().any(|m| !m.noarch) {
            all_used.insert("target_platform".to_string());
        }
        if self.forge.self_hosted || target.providers.iter().any(|p| p == "github_actions") {
            all_used.insert("github_actions_labels".to_string());
        }
        if self.inputs.recipe.contains("{{ python_min }}") {
            all_used.insert("python_min".to_string());
        }
        let mut common_top: Option<BTreeSet<String>> = None;
        for meta in metas {
            common_top = Some(match common_top {
                None => meta.used_top.clone(),
                Some(c) => c.intersection(&meta.used_top).cloned().collect(),
            });
        }
        all_used.extend(common_top.unwrap_or_default());
        let loops = matrix.loop_vars();
        let mut top: Option<BTreeSet<String>> = None;
        for meta in metas {
            let mine: BTreeSet<String> = meta.used_top.intersection(&loops).cloned().collect();
            top = Some(match top {
                None => mine,
                Some(t) => t.intersection(&mine).cloned().collect(),
            });
        }
        let mut top = top.unwrap_or_default();
        if all_used.contains("target_platform") {
            top.insert("target_platform".to_string());
        }
        (all_used, top)
    }

    /// Linux builds run one docker image: the first value, or the fallback image; keys
    /// zipped with it keep their first value too.
    fn finalize_docker(&self, job: &mut super::combine::JobConfig) {
        match job.values.get_mut("docker_image") {
            Some(images) if !images.is_empty() => images.truncate(1),
            _ => {
                job.values.insert(
                    "docker_image".to_string(),
                    vec![self.forge.fallback_image.clone()],
                );
            }
        }
        let partners: Vec<String> = job
            .zip_keys
            .iter()
            .filter(|g| g.iter().any(|k| k == "docker_image"))
            .flatten()
            .cloned()
            .collect();
        for key in partners {
            if let Some(values) = job.values.get_mut(&key) {
                values.truncate(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smithy_versions_map_to_their_behaviour() {
        assert_eq!(Compat::for_smithy_version("2026.6.14"), Compat::default());
        assert!(Compat::for_smithy_version("3.52.1").keep_cdt_keys);
        assert!(!Compat::for_smithy_version("3.52.3").keep_cdt_keys);
        assert!(Compat::for_smithy_version("3.36.1").classic_jinja);
        assert!(!Compat::for_smithy_version("3.44.9").classic_jinja);
    }

    #[test]
    fn the_cuda_probe_ignores_comments() {
        assert!(uses_cuda(
            "    - {{ compiler(\"cuda\") }}  # [cuda_compiler_version != \"None\"]\n"
        ));
        assert!(!uses_cuda("    # - {{ compiler('cuda') }}\n"));
    }
}
