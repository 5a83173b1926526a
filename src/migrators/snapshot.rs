//! The graph as the migrators see it: every feedstock with the facts migrations select on
//! (outputs, requirement names per section, noarch, platforms, cycles), and the edges
//! between them, loaded from the store once per run and then only read.
//!
//! Planning every migration over 25,000 feedstocks must take well under two seconds, so
//! this is a compact in-memory view with integer node ids, not a stream of SQL queries.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use crate::graph::{GraphError, SectionSet, Store, StoredNode};
use crate::recipe::{RecipeFormat, Section};

/// A feedstock's index in a [`GraphSnapshot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index into [`GraphSnapshot::nodes`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Whether a feedstock's packages are platform independent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoarchSummary {
    /// Every output is `noarch` (python or generic) on every platform.
    pub all: bool,
    /// Every output that has `python` in host or build is `noarch: python` (the bot's
    /// `all_noarch(only_python=True)`, used by python migrations).
    pub python: bool,
}

/// One feedstock as migrations see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeInfo {
    /// The feedstock name (`numpy`, without `-feedstock`).
    pub name: String,
    /// The checkout directory the graph was built from.
    pub path: PathBuf,
    /// `v0` or `v1`; `None` when there is no recipe.
    pub recipe_format: Option<RecipeFormat>,
    /// The recipe version.
    pub version: Option<String>,
    /// The platforms its recipe rendered for (`linux-64`, ...).
    pub platforms: Vec<String>,
    /// The package names it produces.
    pub outputs: Vec<String>,
    /// Per section, the requirement names unioned over platforms and outputs.
    pub requirements: BTreeMap<Section, BTreeSet<String>>,
    /// Its noarch status.
    pub noarch: NoarchSummary,
    /// True when its recipe failed to parse or render.
    pub parse_error: bool,
    /// True when the repository is archived (read-only; never migrated).
    pub archived: bool,
    /// The id of its strongly connected component when it is on a cycle.
    pub cycle: Option<u32>,
    /// Its position in the cycle-tolerant topological order.
    pub topo_index: u32,
}

impl NodeInfo {
    /// The requirement names of one section (empty when the section is absent).
    pub fn section(&self, section: Section) -> impl Iterator<Item = &str> {
        self.requirements
            .get(&section)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }
}

impl From<StoredNode> for NodeInfo {
    fn from(node: StoredNode) -> NodeInfo {
        NodeInfo {
            name: node.name,
            path: PathBuf::from(node.path),
            recipe_format: node.recipe_format,
            version: node.version,
            platforms: node.platforms,
            outputs: node.outputs,
            requirements: node.requirements,
            noarch: NoarchSummary {
                all: node.noarch_all,
                python: node.noarch_python,
            },
            parse_error: node.parse_error,
            archived: node.archived,
            cycle: node.cycle,
            topo_index: node.topo_index,
        }
    }
}

/// The whole graph, read-only, indexed by [`NodeId`].
#[derive(Debug, Clone, Default)]
pub struct GraphSnapshot {
    nodes: Vec<NodeInfo>,
    by_name: HashMap<String, NodeId>,
    producers: HashMap<String, Vec<NodeId>>,
    parents: Vec<Vec<(NodeId, SectionSet)>>,
    children: Vec<Vec<(NodeId, SectionSet)>>,
}

impl GraphSnapshot {
    /// Builds a snapshot from nodes and edges (dependency → dependent, with the sections
    /// the dependent requires the dependency in). Edges naming unknown ids are dropped.
    pub fn from_parts(
        nodes: Vec<NodeInfo>,
        edges: impl IntoIterator<Item = (NodeId, NodeId, SectionSet)>,
    ) -> GraphSnapshot {
        let mut by_name = HashMap::with_capacity(nodes.len());
        let mut producers: HashMap<String, Vec<NodeId>> = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            let id = NodeId(u32::try_from(i).unwrap_or(u32::MAX));
            by_name.insert(node.name.clone(), id);
            for output in &node.outputs {
                producers.entry(output.clone()).or_default().push(id);
            }
        }
        let mut parents = vec![Vec::new(); nodes.len()];
        let mut children = vec![Vec::new(); nodes.len()];
        for (src, dst, sections) in edges {
            if src.index() >= nodes.len() || dst.index() >= nodes.len() || src == dst {
                continue;
            }
            parents[dst.index()].push((src, sections));
            children[src.index()].push((dst, sections));
        }
        for list in parents.iter_mut().chain(children.iter_mut()) {
            list.sort_by_key(|(id, _)| *id);
            list.dedup_by_key(|(id, _)| *id);
        }
        GraphSnapshot {
            nodes,
            by_name,
            producers,
            parents,
            children,
        }
    }

    /// Loads the graph of the last build: every present feedstock (removed ones are
    /// left out), sorted by name so that ids follow names, with its outputs, requirement
    /// names, noarch summary and archived flag, and every edge with its sections.
    ///
    /// One read transaction; 25,000 feedstocks load in a few hundred milliseconds.
    /// Feedstocks not re-read since the noarch columns were added read as not noarch.
    pub fn load(store: &Store) -> Result<GraphSnapshot, GraphError> {
        let stored = store.load_graph()?;
        let nodes = stored.nodes.into_iter().map(NodeInfo::from).collect();
        let edges = stored
            .edges
            .into_iter()
            .map(|(src, dst, sections)| (NodeId(src), NodeId(dst), sections));
        Ok(GraphSnapshot::from_parts(nodes, edges))
    }

    /// Number of feedstocks.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when there are no feedstocks.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every node id, in index order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len()).map(|i| NodeId(i as u32))
    }

    /// Every node.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// One node. Ids come from this snapshot, so they are always in range.
    pub fn node(&self, id: NodeId) -> &NodeInfo {
        &self.nodes[id.index()]
    }

    /// The id of a feedstock by name.
    pub fn id(&self, name: &str) -> Option<NodeId> {
        self.by_name.get(name).copied()
    }

    /// The feedstocks producing a package (the bot's `outputs_lut`), in id order.
    pub fn producers(&self, package: &str) -> &[NodeId] {
        self.producers.get(package).map_or(&[], Vec::as_slice)
    }

    /// Direct dependencies of a node, with the sections of each edge.
    pub fn parents(&self, id: NodeId) -> &[(NodeId, SectionSet)] {
        &self.parents[id.index()]
    }

    /// Direct dependents of a node, with the sections of each edge.
    pub fn children(&self, id: NodeId) -> &[(NodeId, SectionSet)] {
        &self.children[id.index()]
    }
}
