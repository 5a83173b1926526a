//! Architecture rollouts (reference §3.7): add a target platform to the feedstocks an
//! allowlist needs, parents first.
//!
//! A definition names the targets (`linux_aarch64`, ...) and how they are built: natively
//! on a CI `provider` (the aarch64/ppc64le rollout writes `provider.<target>: default`),
//! or cross-compiled from a `build_platform` (osx-arm64 from osx-64, win-arm64 from
//! win-64), optionally with a `test` mode. How they are built decides which edges
//! matter: a native build needs every dependency on the target (all sections); a cross
//! build runs its build tools on the build platform, so only `host` and `run` count
//! (plus `build` edges to `*_stub` packages, as the bot keeps them).
//!
//! **Plan.** The migration graph is the allowlist (feedstock names or package names,
//! resolved through the producers) plus all its ancestors over those edges. In it, stubs,
//! `m2-*`, `m2w64-*`, `__*` and the ignored tools (`make`, `perl`, `toolchain`, `posix`,
//! `patchelf`) are `ExcludedByName` and all-noarch feedstocks `Noarch`; both are plucked:
//! their parents become their children's parents, so gating passes through them. Archived
//! and unparsable feedstocks are removed without reconnecting (the bot's base filter);
//! feedstocks that do not build where the rollout starts from (the build platform of a
//! cross build, the targets' OS for a native one) are `PlatformAllowlist`; feedstocks
//! that already build for every target are `AlreadyMigrated` and gate no one.
//! Everything outside the graph is listed as `NotInAllowlist`, so `explain` can say why.
//! Per-platform requirements are not in the snapshot; requirements unioned over platforms
//! stand in for the bot's `linux_aarch64_requirements`.
//!
//! **Change.** Each target not yet configured in `conda-forge.yml` (a non-empty
//! `provider.<target>`, or a `build_platform.<target>` naming another platform) gets its
//! key, through a text-preserving edit; a target switched off on purpose
//! (`provider.<target>: null`/`false`) is left alone, as the bot does; `test` is set only when absent or `all` (a
//! stricter `native` is kept, unlike the bot, which overwrites it). Then the feedstock is
//! rerendered natively. `NothingToDo` when every target is configured already, and —
//! unlike the bot, which opens a PR that builds nothing new — when the rerender gives no
//! variant file for any added target (the recipe skips it). No build-number bump.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::str::FromStr;

use rattler_conda_types::Subdir;

use crate::feedstock::config::{ForgeConfig, TestMode, edit};
use crate::graph::SectionSet;
use crate::recipe::Section;

use super::definitions::{Common, Fields, pr_footer, pr_title};
use super::maintenance::rerender_with;
use super::migrator::{
    Change, ChangeInput, ChangeSet, Exclusion, MigrateError, MigrationPlan, Migrator, MigratorKind,
    Settings, Uid,
};
use super::snapshot::{GraphSnapshot, NodeId, NodeInfo};

/// Bumped when what this migrator writes changes meaning (the bot's is 1).
const MIGRATOR_VERSION: u32 = 1;

/// Feedstocks that are never part of an architecture migration (the bot's
/// `ignored_packages`).
const IGNORED: [&str; 5] = ["make", "perl", "toolchain", "posix", "patchelf"];

/// A target platform as `conda-forge.yml` writes it and as the graph records it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// `linux_aarch64`.
    key: String,
    /// `linux-aarch64`.
    subdir: Subdir,
}

impl Target {
    fn parse(key: &str) -> Option<Target> {
        let subdir = Subdir::from_str(&key.replacen('_', "-", 1)).ok()?;
        Some(Target {
            key: key.to_string(),
            subdir,
        })
    }
}

/// How the targets are built.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Build {
    /// On a CI provider of the target itself: `provider.<target>: <provider>`.
    Native { provider: String },
    /// Cross-compiled: `build_platform.<target>: <from>`.
    Cross { from: Target },
}

/// What `conda-forge.yml` says about one target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Configured {
    /// Built: a non-empty `provider` entry or a cross `build_platform`.
    Built,
    /// Switched off on purpose (`provider.<key>: null` or `false`): left alone.
    Disabled { key: String },
    /// Not mentioned: the rollout adds it.
    Missing,
}

/// One architecture rollout.
#[derive(Debug, Clone)]
pub struct Architecture {
    name: String,
    description: Option<String>,
    settings: Settings,
    targets: Vec<Target>,
    build: Build,
    test: Option<TestMode>,
    allowlist: BTreeSet<String>,
    title: String,
    branch: String,
    contact: Option<String>,
}

impl Architecture {
    /// Reads `targets`, `provider` or `build_platform`, `test`, `allowlist`, `title`,
    /// `branch` and `contact`. Gated and longterm by default.
    pub(crate) fn from_definition(common: Common, fields: &mut Fields<'_>) -> Option<Architecture> {
        let targets: Option<Vec<String>> = fields.require("targets");
        let targets = targets.and_then(|keys| {
            let parsed: Option<Vec<Target>> = keys.iter().map(|k| Target::parse(k)).collect();
            match parsed {
                Some(t) if !t.is_empty() => Some(t),
                _ => {
                    fields.invalid(
                        "targets",
                        format!("expected a non-empty list of platforms like linux_aarch64, found {keys:?}"),
                    );
                    None
                }
            }
        });
        let provider: Option<String> = fields.take("provider");
        let from: Option<String> = fields.take("build_platform");
        let build = match (provider, from) {
            (Some(_), Some(_)) => {
                fields.invalid(
                    "build_platform",
                    "give either `provider` (native builds) or `build_platform` (cross builds), not both".to_string(),
                );
                None
            }
            (None, Some(from)) => match Target::parse(&from) {
                Some(from) => Some(Build::Cross { from }),
                None => {
                    fields.invalid("build_platform", format!("`{from}` is not a platform"));
                    None
                }
            },
            (provider, None) => Some(Build::Native {
                provider: provider.unwrap_or_else(|| "default".to_string()),
            }),
        };
        let test: Option<TestMode> = fields.take("test");
        let path: Option<String> = fields.require("allowlist");
        let allowlist = path.and_then(|path| {
            let text = fields.read_data("allowlist", &path)?;
            parse_allowlist(fields, &path, &text)
        });
        let title: Option<String> = fields.require("title");
        let branch: Option<String> = fields.require("branch");
        let contact: Option<String> = fields.take("contact");
        let settings = common.settings(Settings {
            gated: true,
            longterm: true,
            ..Settings::default()
        });
        Some(Architecture {
            name: common.name,
            description: common.description,
            settings,
            targets: targets?,
            build: build?,
            test,
            allowlist: allowlist?,
            title: title?,
            branch: branch?,
            contact,
        })
    }

    /// Whether an edge `parent → child` (with `sections`) is a dependency for this rollout.
    fn counts(
        &self,
        graph: &GraphSnapshot,
        parent: NodeId,
        child: NodeId,
        sections: SectionSet,
    ) -> bool {
        match self.build {
            Build::Native { .. } => !sections.is_empty(),
            Build::Cross { .. } => {
                sections.contains(Section::Host)
                    || sections.contains(Section::Run)
                    || (sections.contains(Section::Build) && {
                        let child = graph.node(child);
                        graph.node(parent).outputs.iter().any(|o| {
                            o.ends_with("_stub") && child.section(Section::Build).any(|r| r == o)
                        })
                    })
            }
        }
    }

    /// The allowlisted feedstocks and all their ancestors over counting edges.
    fn cut(&self, graph: &GraphSnapshot) -> BTreeSet<NodeId> {
        let mut queue: VecDeque<NodeId> = VecDeque::new();
        for entry in &self.allowlist {
            queue.extend(graph.id(entry));
            queue.extend(graph.producers(entry).iter().copied());
        }
        let mut seen = BTreeSet::new();
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id) {
                continue;
            }
            for (parent, sections) in graph.parents(id) {
                if !seen.contains(parent) && self.counts(graph, *parent, id, *sections) {
                    queue.push_back(*parent);
                }
            }
        }
        seen
    }

    /// A cross build needs the feedstock on the build platform (`win-64` for win-arm64);
    /// a native one on some platform of the targets' OS (a linux-only recipe does not
    /// gain osx-arm64). Unions over platforms put `ncurses` in python's requirements on
    /// Windows too; this keeps such feedstocks out.
    fn builds_where_needed(&self, node: &NodeInfo) -> bool {
        match &self.build {
            Build::Cross { from } => node.platforms.iter().any(|p| p == from.subdir.as_str()),
            Build::Native { .. } => self.targets.iter().any(|t| {
                let os = t.subdir.as_str().split('-').next().unwrap_or_default();
                node.platforms
                    .iter()
                    .any(|p| p.split('-').next() == Some(os))
            }),
        }
    }

    fn subdirs(&self) -> String {
        let names: Vec<&str> = self.targets.iter().map(|t| t.subdir.as_str()).collect();
        names.join(", ")
    }

    /// What `conda-forge.yml` says about `target`.
    fn configured(config: &ForgeConfig, target: &Target) -> Configured {
        let cross = config
            .build_platform_of(target.subdir)
            .is_some_and(|build| build != target.subdir);
        let provider = config
            .provider
            .iter()
            .rev()
            .find(|(key, _)| Target::parse(key).is_some_and(|t| t.subdir == target.subdir));
        match provider {
            _ if cross => Configured::Built,
            Some((_, services)) if !services.is_empty() => Configured::Built,
            Some((key, _)) => Configured::Disabled { key: key.clone() },
            None => Configured::Missing,
        }
    }

    fn body(&self, input: &ChangeInput<'_>, added: &[&Target], files: &str) -> String {
        let what = self.description.as_deref().unwrap_or(&self.title);
        let platforms: Vec<String> = added
            .iter()
            .map(|t| format!("`{}`", t.subdir.as_str()))
            .collect();
        let mut body = format!(
            "This feedstock is being rebuilt as part of the {what} migration: it gains {}.\n\n",
            platforms.join(" and ")
        );
        if let Some(contact) = &self.contact {
            body.push_str(&format!(
                "**Feel free to merge the PR if CI is all green, but please don't close it \
                 without reaching out to {contact} first.**\n\n"
            ));
        } else {
            body.push_str(
                "**Feel free to merge the PR if CI is all green, but please don't close it \
                 without telling the migration's maintainers why.**\n\n",
            );
        }
        body.push_str(&format!(
            "The build number is not bumped: only new builds are added. Files:\n\n\
             - updated `conda-forge.yml`\n{files}\n"
        ));
        if !input.children.is_empty() {
            let shown: Vec<String> = input
                .children
                .iter()
                .take(5)
                .map(|c| format!("`{c}`"))
                .collect();
            body.push_str(&format!(
                "Feedstocks waiting for this one in the migration: {}{}.\n\n",
                shown.join(", "),
                if input.children.len() > 5 {
                    ", ..."
                } else {
                    ""
                }
            ));
        }
        body.push_str(&pr_footer(input.identity, &self.name));
        body
    }
}

/// Whitespace-separated names, `#` starting a comment; every name checked.
fn parse_allowlist(fields: &mut Fields<'_>, path: &str, text: &str) -> Option<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    let mut valid = true;
    for (index, line) in text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or_default();
        for name in code.split_whitespace() {
            let ok = name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
            if ok {
                names.insert(name.to_string());
            } else {
                fields.data_error(path, index + 1, format!("`{name}` is not a package name"));
                valid = false;
            }
        }
    }
    if names.is_empty() && valid {
        fields.data_error(path, 1, "the allowlist names no package".to_string());
        valid = false;
    }
    valid.then_some(names)
}

fn ignored(node: &NodeInfo) -> bool {
    let rule = |name: &str| {
        IGNORED.contains(&name)
            || name.ends_with("_stub")
            || name.starts_with("m2-")
            || name.starts_with("m2w64-")
            || name.starts_with("__")
    };
    rule(&node.name) || (!node.outputs.is_empty() && node.outputs.iter().all(|o| rule(o)))
}

impl Migrator for Architecture {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> MigratorKind {
        MigratorKind::Architecture
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn plan(&self, graph: &GraphSnapshot) -> MigrationPlan {
        let cut = self.cut(graph);
        let mut plan = MigrationPlan::default();
        // Plucked: in the graph but not members; gating passes through them.
        let mut plucked = BTreeSet::new();
        for id in graph.ids() {
            let node = graph.node(id);
            let exclusion = if !cut.contains(&id) {
                Exclusion::NotInAllowlist
            } else if node.archived {
                Exclusion::Archived
            } else if node.parse_error {
                Exclusion::ParseError
            } else if ignored(node) {
                plucked.insert(id);
                Exclusion::ExcludedByName
            } else if node.noarch.all {
                plucked.insert(id);
                Exclusion::Noarch
            } else if !self.builds_where_needed(node) {
                Exclusion::PlatformAllowlist
            } else if self
                .targets
                .iter()
                .all(|t| node.platforms.iter().any(|p| p == t.subdir.as_str()))
            {
                Exclusion::AlreadyMigrated {
                    detail: format!("already builds for {}", self.subdirs()),
                }
            } else {
                plan.members.push(id);
                continue;
            };
            plan.excluded.push((id, exclusion));
        }
        let members: BTreeSet<NodeId> = plan.members.iter().copied().collect();
        for &member in &plan.members {
            let mut parents = BTreeSet::new();
            let mut seen = BTreeSet::from([member]);
            let mut queue = VecDeque::from([member]);
            while let Some(id) = queue.pop_front() {
                for &(parent, sections) in graph.parents(id) {
                    if !self.counts(graph, parent, id, sections) || !seen.insert(parent) {
                        continue;
                    }
                    if members.contains(&parent) {
                        parents.insert(parent);
                    } else if plucked.contains(&parent) {
                        queue.push_back(parent);
                    }
                }
            }
            if !parents.is_empty() {
                plan.parents.insert(member, parents.into_iter().collect());
            }
        }
        plan
    }

    fn uid(&self, _node: &NodeInfo) -> Uid {
        Uid::new(&self.name, MIGRATOR_VERSION)
    }

    fn change(&self, input: &ChangeInput<'_>) -> Result<Change, MigrateError> {
        let original = match input.files.file("conda-forge.yml") {
            None => "",
            Some(bytes) => std::str::from_utf8(bytes).map_err(|_| MigrateError::Edit {
                file: "conda-forge.yml".to_string(),
                message: "not UTF-8 text".to_string(),
            })?,
        };
        let edit_error = |e: edit::EditError| MigrateError::Edit {
            file: "conda-forge.yml".to_string(),
            message: e.to_string(),
        };
        let mut text = original.to_string();
        let mut added = Vec::new();
        let mut disabled = Vec::new();
        for target in &self.targets {
            match Self::configured(input.config, target) {
                Configured::Built => continue,
                Configured::Disabled { key } => {
                    disabled.push(format!("`provider.{key}`"));
                    continue;
                }
                Configured::Missing => {}
            }
            text = match &self.build {
                Build::Native { provider } => {
                    edit::set_scalar(&text, &["provider", &target.key], provider)
                }
                Build::Cross { from } => {
                    edit::set_scalar(&text, &["build_platform", &target.key], &from.key)
                }
            }
            .map_err(edit_error)?;
            added.push(target);
        }
        if added.is_empty() || text == original {
            let mut reason = format!("conda-forge.yml already configures {}", self.subdirs());
            if !disabled.is_empty() {
                reason = format!(
                    "conda-forge.yml configures or disables {} (disabled by {}: a maintainer's \
                     decision, kept)",
                    self.subdirs(),
                    disabled.join(", ")
                );
            }
            return Ok(Change::NothingToDo { reason });
        }
        if let Some(mode) = self.test
            && matches!(input.config.test, None | Some(TestMode::All))
        {
            let value = match mode {
                TestMode::All => "all",
                TestMode::Native => "native",
                TestMode::NativeAndEmulated => "native_and_emulated",
            };
            text = edit::set_scalar(&text, &["test"], value).map_err(edit_error)?;
        }
        let rerendered = rerender_with(input, &[("conda-forge.yml", &text)])?;
        if !added.iter().any(|t| rerendered.has_platform(&t.key)) {
            let names: Vec<&str> = added.iter().map(|t| t.subdir.as_str()).collect();
            return Ok(Change::NothingToDo {
                reason: format!(
                    "the recipe builds nothing for {} (every output is skipped there)",
                    names.join(", ")
                ),
            });
        }
        let title = pr_title(&self.settings, input.config, &self.title);
        let mut set = ChangeSet {
            writes: BTreeMap::from([("conda-forge.yml".to_string(), text)]),
            commit_message: self.title.clone(),
            body: self.body(input, &added, &rerendered.changes.markdown()),
            title,
            branch: self.branch.clone(),
            ..ChangeSet::default()
        };
        rerendered.changes.apply_to(&mut set);
        Ok(Change::Files(set))
    }
}

#[cfg(test)]
mod tests;
