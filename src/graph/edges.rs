//! From nodes to edges: the outputs lookup, labelled edges, external dependencies and
//! strong run_exports (reference §2.5), recomputed from every node's stored renders.
//!
//! An edge points from dependency to dependent. It exists when some render of the
//! dependent requires, in `build`/`host`/`run`/`test`, a package another feedstock
//! produces; it carries, per section, the platforms where that happens. A feedstock
//! requiring its own output (an output depending on a sibling output) is not an edge,
//! and other producers of that name are not asked: the feedstock satisfies the need
//! itself (blas and lapack both produce `libblas`; neither depends on the other for it).
//! Names no feedstock produces are external dependencies, recorded with their users.
//!
//! Strong run_exports are done per platform: when a dependent has `d` in `build` or
//! `host` on platform `p`, the strong exports of `d` as rendered on `p` (or, when the
//! producer does not build on `p`, such as a noarch package, on any platform) become
//! `run` requirements of the dependent on `p`.

use std::collections::{BTreeMap, HashMap};

use crate::recipe::{RenderedRecipe, Section, name_of_raw_spec};

use super::model::{EDGE_SECTIONS, EdgeLabel, Node, PlatformBits, PlatformTable};

/// Feedstocks whose outputs claim more than they should: they only produce the names
/// listed here (reference §2.5: `pypy-meta` and `graalpy` do not claim `python`).
const RESTRICTED_OUTPUTS: [(&str, &[&str]); 2] =
    [("pypy-meta", &["pypy"]), ("graalpy", &["graalpy"])];

/// The edges of a graph and everything computed with them. Node ids are indices into the
/// node slice given to [`compute`].
#[derive(Debug, Default)]
pub(crate) struct GraphEdges {
    /// The platforms in use, giving meaning to the label bits.
    pub(crate) platforms: PlatformTable,
    /// (output name, producing node) → platforms on which it is produced.
    pub(crate) outputs: BTreeMap<(String, usize), PlatformBits>,
    /// (dependency node, dependent node) → label. Never `src == dst`.
    pub(crate) edges: BTreeMap<(usize, usize), EdgeLabel>,
    /// (package name nobody produces, using node) → label.
    pub(crate) externals: BTreeMap<(String, usize), EdgeLabel>,
}

/// Nodes by id, as edge construction reads them: a slice indexed by position (a full
/// build) or a map keyed by row id (an incremental one, holding only what it needs).
pub(crate) trait NodeSet {
    /// The node with this id, when the set holds it.
    fn node(&self, id: usize) -> Option<&Node>;
}

impl NodeSet for [Node] {
    fn node(&self, id: usize) -> Option<&Node> {
        self.get(id)
    }
}

impl NodeSet for HashMap<usize, Node> {
    fn node(&self, id: usize) -> Option<&Node> {
        self.get(&id)
    }
}

/// Computes the outputs lookup, edges and externals of a set of nodes.
pub(crate) fn compute(nodes: &[Node]) -> Result<GraphEdges, String> {
    let platforms = PlatformTable::new(
        nodes
            .iter()
            .flat_map(|n| n.attributes.platforms.keys().map(String::as_str)),
    )?;
    let mut outputs: BTreeMap<(String, usize), PlatformBits> = BTreeMap::new();
    for (id, node) in nodes.iter().enumerate() {
        add_outputs(&mut outputs, id, node, &platforms);
    }
    // Producers per name, in ascending node order (the BTreeMap's key order).
    let mut lookup: HashMap<&str, Vec<usize>> = HashMap::new();
    for (name, node) in outputs.keys() {
        lookup.entry(name.as_str()).or_default().push(*node);
    }
    let mut builder = EdgeBuilder {
        nodes,
        lookup: &lookup,
        edges: BTreeMap::new(),
        externals: BTreeMap::new(),
    };
    for (dependent, node) in nodes.iter().enumerate() {
        builder.add_node(dependent, node, &platforms);
    }
    let EdgeBuilder {
        edges, externals, ..
    } = builder;
    Ok(GraphEdges {
        platforms,
        outputs,
        edges,
        externals,
    })
}

/// Computes part of a graph: the outputs of `producers` and the in-edges and externals
/// of `dependents`, given the complete output lookup (name → producers, ascending).
/// `nodes` must hold every dependent and every provider of their `build`/`host` names
/// (see [`build_host_providers`]); ids are whatever keys `nodes` and `lookup` use.
pub(crate) fn compute_for(
    nodes: &HashMap<usize, Node>,
    lookup: &HashMap<&str, Vec<usize>>,
    dependents: &[usize],
    producers: &[usize],
) -> Result<GraphEdges, String> {
    let platforms = PlatformTable::new(
        nodes
            .values()
            .flat_map(|n| n.attributes.platforms.keys().map(String::as_str)),
    )?;
    let mut outputs = BTreeMap::new();
    for &id in producers {
        if let Some(node) = nodes.get(&id) {
            add_outputs(&mut outputs, id, node, &platforms);
        }
    }
    let mut builder = EdgeBuilder {
        nodes,
        lookup,
        edges: BTreeMap::new(),
        externals: BTreeMap::new(),
    };
    for &dependent in dependents {
        let node = nodes
            .get(&dependent)
            .ok_or_else(|| format!("node {dependent} was not loaded"))?;
        builder.add_node(dependent, node, &platforms);
    }
    let EdgeBuilder {
        edges, externals, ..
    } = builder;
    Ok(GraphEdges {
        platforms,
        outputs,
        edges,
        externals,
    })
}

/// The names a node produces, each with the platforms it is produced on.
pub(crate) fn node_outputs(node: &Node) -> BTreeMap<&str, Vec<&str>> {
    let restricted = RESTRICTED_OUTPUTS
        .iter()
        .find(|(name, _)| *name == node.name.as_str())
        .map(|(_, allowed)| *allowed);
    let mut outputs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (platform, render) in &node.attributes.platforms {
        for output in render.output_names() {
            if restricted.is_some_and(|allowed| !allowed.contains(&output)) {
                continue;
            }
            outputs.entry(output).or_default().push(platform.as_str());
        }
    }
    outputs
}

/// Everything about a node that shapes the edges out of it: per platform, the names it
/// produces and each one's strong run_exports. Two renders with the same signature give
/// every dependent the same edges.
pub(crate) type ProviderSignature<'n> = BTreeMap<&'n str, BTreeMap<&'n str, Vec<&'n str>>>;

/// The [`ProviderSignature`] of a node.
pub(crate) fn provider_signature(node: &Node) -> ProviderSignature<'_> {
    let mut signature: ProviderSignature<'_> = BTreeMap::new();
    for (name, platforms) in node_outputs(node) {
        for platform in platforms {
            let exports = strong_exports(node, name, platform);
            signature.entry(platform).or_default().insert(name, exports);
        }
    }
    // A platform with no outputs still matters: strong exports fall back to all
    // platforms only where the producer does not build.
    for platform in node.attributes.platforms.keys() {
        signature.entry(platform.as_str()).or_default();
    }
    signature
}

/// The providers `dependent` asks for strong run_exports: those of every name it
/// requires in `build` or `host` on any platform.
pub(crate) fn build_host_providers(
    dependent: usize,
    node: &Node,
    lookup: &HashMap<&str, Vec<usize>>,
) -> Vec<usize> {
    let mut found = Vec::new();
    for render in node.attributes.platforms.values() {
        let parts = std::iter::once(&render.requirements)
            .chain(render.outputs.iter().map(|o| &o.requirements));
        for requirements in parts {
            for section in [Section::Build, Section::Host] {
                for req in requirements.section(section) {
                    if let Some(providers) = providers_in(lookup, dependent, &req.name) {
                        found.extend_from_slice(providers);
                    }
                }
            }
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// Adds a node's (output, node) pairs with their platform bits.
fn add_outputs(
    outputs: &mut BTreeMap<(String, usize), PlatformBits>,
    id: usize,
    node: &Node,
    table: &PlatformTable,
) {
    for (name, platforms) in node_outputs(node) {
        let bits = platforms.iter().fold(0, |acc, p| acc | table.bit(p));
        *outputs.entry((name.to_string(), id)).or_default() |= bits;
    }
}

/// The feedstocks that satisfy `dependent`'s requirement of `name`: none when no
/// feedstock produces it; only `dependent` itself when it produces the name (its own
/// output satisfies the need, whoever else also produces it).
fn providers_in<'l>(
    lookup: &'l HashMap<&str, Vec<usize>>,
    dependent: usize,
    name: &str,
) -> Option<&'l [usize]> {
    let producers = lookup.get(name)?;
    Some(match producers.binary_search(&dependent) {
        Ok(at) => producers.get(at..=at).unwrap_or_default(),
        Err(_) => producers.as_slice(),
    })
}

struct EdgeBuilder<'a, N: NodeSet + ?Sized> {
    nodes: &'a N,
    /// Output name → producing nodes, sorted ascending.
    lookup: &'a HashMap<&'a str, Vec<usize>>,
    edges: BTreeMap<(usize, usize), EdgeLabel>,
    externals: BTreeMap<(String, usize), EdgeLabel>,
}

impl<'a, N: NodeSet + ?Sized> EdgeBuilder<'a, N> {
    /// Adds the requirements of every platform's render of `dependent`.
    fn add_node(&mut self, dependent: usize, node: &Node, platforms: &PlatformTable) {
        for (platform, render) in &node.attributes.platforms {
            self.add_render(dependent, platform, platforms.bit(platform), render);
        }
    }

    /// Adds the requirements of one platform's render of `dependent`: the top level and
    /// every output.
    fn add_render(
        &mut self,
        dependent: usize,
        platform: &str,
        bit: PlatformBits,
        render: &RenderedRecipe,
    ) {
        let parts = std::iter::once(&render.requirements)
            .chain(render.outputs.iter().map(|o| &o.requirements));
        for requirements in parts {
            for section in EDGE_SECTIONS {
                for req in requirements.section(section) {
                    self.require(dependent, &req.name, section, bit);
                    if matches!(section, Section::Build | Section::Host) {
                        self.add_strong_exports(dependent, &req.name, platform, bit);
                    }
                }
            }
        }
    }

    fn providers(&self, dependent: usize, name: &str) -> Option<&'a [usize]> {
        providers_in(self.lookup, dependent, name)
    }

    /// Records that `dependent` requires package `name` in `section` on `bit`.
    fn require(&mut self, dependent: usize, name: &str, section: Section, bit: PlatformBits) {
        match self.providers(dependent, name) {
            Some(providers) => {
                for &provider in providers {
                    if provider != dependent {
                        self.edges
                            .entry((provider, dependent))
                            .or_default()
                            .add(section, bit);
                    }
                }
            }
            None => self
                .externals
                .entry((name.to_string(), dependent))
                .or_default()
                .add(section, bit),
        }
    }

    /// `dependent` has `name` in build/host on `platform`: the strong exports of every
    /// provider of `name` become run requirements there.
    fn add_strong_exports(
        &mut self,
        dependent: usize,
        name: &str,
        platform: &str,
        bit: PlatformBits,
    ) {
        let Some(providers) = self.providers(dependent, name) else {
            return;
        };
        let mut exported: Vec<String> = Vec::new();
        for &provider in providers {
            let Some(node) = self.nodes.node(provider) else {
                continue;
            };
            for spec in strong_exports(node, name, platform) {
                let export = name_of_raw_spec(spec);
                if !export.is_empty() && !exported.contains(&export) {
                    exported.push(export);
                }
            }
        }
        for export in exported {
            self.require(dependent, &export, Section::Run, bit);
        }
    }
}

/// The strong run_exports of package `name` as produced by `node` on `platform`; when the
/// node does not build on that platform, the exports of every platform it builds on.
fn strong_exports<'n>(node: &'n Node, name: &str, platform: &str) -> Vec<&'n str> {
    let renders: Vec<&RenderedRecipe> = match node.attributes.platforms.get(platform) {
        Some(render) => vec![render],
        None => node.attributes.platforms.values().collect(),
    };
    let mut specs = Vec::new();
    for render in renders {
        let exports = match render.outputs.iter().find(|o| o.name == name) {
            Some(output) => &output.run_exports,
            None if render.name == name => &render.run_exports,
            None => continue,
        };
        for spec in &exports.strong {
            if !specs.contains(&spec.as_str()) {
                specs.push(spec.as_str());
            }
        }
    }
    specs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedstock::FeedstockName;
    use crate::graph::model::NodeAttributes;
    use crate::recipe::{Output, Requirement, Requirements, RunExports};

    fn reqs(section: Section, names: &[&str]) -> Requirements {
        let mut requirements = Requirements::default();
        requirements
            .section_mut(section)
            .extend(names.iter().map(|n| Requirement::parse(n).unwrap()));
        requirements
    }

    fn render(name: &str, requirements: Requirements) -> RenderedRecipe {
        RenderedRecipe {
            name: name.to_string(),
            requirements,
            ..RenderedRecipe::default()
        }
    }

    fn node(name: &str, platforms: &[(&str, RenderedRecipe)]) -> Node {
        Node {
            name: FeedstockName::new(name).unwrap(),
            attributes: NodeAttributes {
                platforms: platforms
                    .iter()
                    .map(|(p, r)| (p.to_string(), r.clone()))
                    .collect(),
            },
        }
    }

    fn edge_names(graph: &GraphEdges, nodes: &[Node]) -> Vec<(String, String, Vec<Section>)> {
        graph
            .edges
            .iter()
            .map(|((s, d), label)| {
                (
                    nodes[*s].name.to_string(),
                    nodes[*d].name.to_string(),
                    label.sections().iter().collect(),
                )
            })
            .collect()
    }

    #[test]
    fn edges_point_from_dependency_to_dependent_with_sections() {
        let nodes = vec![
            node(
                "zlib",
                &[("linux-64", render("zlib", Requirements::default()))],
            ),
            node(
                "curl",
                &[(
                    "linux-64",
                    render("curl", reqs(Section::Host, &["zlib >=1.3"])),
                )],
            ),
        ];
        let graph = compute(&nodes).unwrap();
        assert_eq!(
            edge_names(&graph, &nodes),
            vec![("zlib".into(), "curl".into(), vec![Section::Host])]
        );
    }

    #[test]
    fn an_output_requiring_a_sibling_output_is_not_an_edge() {
        let mut recipe = render("arrow", Requirements::default());
        recipe.outputs = vec![
            Output {
                name: "libarrow".into(),
                ..Output::default()
            },
            Output {
                name: "libarrow-acero".into(),
                requirements: reqs(Section::Run, &["libarrow", "zstd"]),
                ..Output::default()
            },
        ];
        let nodes = vec![node("arrow-cpp", &[("linux-64", recipe)])];
        let graph = compute(&nodes).unwrap();
        assert!(graph.edges.is_empty());
        assert_eq!(
            graph.externals.keys().cloned().collect::<Vec<_>>(),
            vec![("zstd".to_string(), 0)]
        );
    }

    #[test]
    fn platforms_are_kept_per_section() {
        let nodes = vec![
            node(
                "m2-tools",
                &[
                    ("linux-64", render("m2-tools", Requirements::default())),
                    ("win-64", render("m2-tools", Requirements::default())),
                ],
            ),
            node(
                "app",
                &[
                    ("linux-64", render("app", Requirements::default())),
                    ("win-64", render("app", reqs(Section::Build, &["m2-tools"]))),
                ],
            ),
        ];
        let graph = compute(&nodes).unwrap();
        let label = graph.edges[&(0, 1)].resolve(&graph.platforms);
        assert_eq!(label.sections, vec![Section::Build]);
        assert_eq!(label.platforms, vec!["win-64".to_string()]);
    }

    #[test]
    fn pypy_meta_does_not_claim_python() {
        let mut pypy = render("pypy-meta", Requirements::default());
        pypy.outputs = ["pypy", "python"]
            .iter()
            .map(|n| Output {
                name: n.to_string(),
                ..Output::default()
            })
            .collect();
        let nodes = vec![
            node("pypy-meta", &[("linux-64", pypy)]),
            node(
                "python",
                &[("linux-64", render("python", Requirements::default()))],
            ),
            node(
                "numpy",
                &[(
                    "linux-64",
                    render("numpy", reqs(Section::Host, &["python"])),
                )],
            ),
        ];
        let graph = compute(&nodes).unwrap();
        assert_eq!(
            edge_names(&graph, &nodes),
            vec![("python".into(), "numpy".into(), vec![Section::Host])]
        );
    }

    #[test]
    fn an_output_two_feedstocks_produce_gives_an_edge_from_each() {
        let nodes = vec![
            node(
                "a",
                &[("linux-64", render("shared", Requirements::default()))],
            ),
            node(
                "b",
                &[("linux-64", render("shared", Requirements::default()))],
            ),
            node(
                "c",
                &[("linux-64", render("c", reqs(Section::Run, &["shared"])))],
            ),
        ];
        let graph = compute(&nodes).unwrap();
        assert_eq!(graph.edges.len(), 2);
    }

    #[test]
    fn a_name_the_dependent_produces_itself_makes_no_edge_from_other_producers() {
        let mut blas = render("blas", Requirements::default());
        blas.outputs = vec![
            Output {
                name: "libblas".into(),
                ..Output::default()
            },
            Output {
                name: "liblapack".into(),
                requirements: reqs(Section::Host, &["libblas"]),
                ..Output::default()
            },
        ];
        let mut lapack = render("lapack", Requirements::default());
        lapack.outputs = vec![
            Output {
                name: "libblas".into(),
                ..Output::default()
            },
            Output {
                name: "libtmglib".into(),
                requirements: reqs(Section::Host, &["libblas"]),
                ..Output::default()
            },
        ];
        let nodes = vec![
            node("blas", &[("linux-64", blas)]),
            node("lapack", &[("linux-64", lapack)]),
            node(
                "numpy",
                &[(
                    "linux-64",
                    render("numpy", reqs(Section::Host, &["libblas"])),
                )],
            ),
        ];
        let graph = compute(&nodes).unwrap();
        assert_eq!(
            edge_names(&graph, &nodes),
            vec![
                ("blas".into(), "numpy".into(), vec![Section::Host]),
                ("lapack".into(), "numpy".into(), vec![Section::Host]),
            ]
        );
    }

    #[test]
    fn strong_exports_add_run_labels_only_on_their_platform() {
        let mut toolchain = render("toolchain", Requirements::default());
        toolchain.run_exports = RunExports {
            weak: vec![],
            strong: vec!["runtime >=1".into()],
        };
        let nodes = vec![
            node(
                "toolchain",
                &[
                    ("linux-64", toolchain.clone()),
                    ("osx-64", render("toolchain", Requirements::default())),
                ],
            ),
            node(
                "runtime",
                &[
                    ("linux-64", render("runtime", Requirements::default())),
                    ("osx-64", render("runtime", Requirements::default())),
                ],
            ),
            node(
                "app",
                &[
                    (
                        "linux-64",
                        render("app", reqs(Section::Build, &["toolchain"])),
                    ),
                    (
                        "osx-64",
                        render("app", reqs(Section::Build, &["toolchain"])),
                    ),
                ],
            ),
        ];
        let graph = compute(&nodes).unwrap();
        let label = graph.edges[&(1, 2)].resolve(&graph.platforms);
        assert_eq!(label.sections, vec![Section::Run]);
        assert_eq!(label.platforms, vec!["linux-64".to_string()]);
    }

    #[test]
    fn run_constrained_is_never_an_edge() {
        let nodes = vec![
            node("a", &[("linux-64", render("a", Requirements::default()))]),
            node(
                "b",
                &[(
                    "linux-64",
                    render("b", reqs(Section::RunConstrained, &["a <2"])),
                )],
            ),
        ];
        let graph = compute(&nodes).unwrap();
        assert!(graph.edges.is_empty());
        assert!(graph.externals.is_empty());
    }
}
