//! The condensation of a migration graph: its strongly connected components in reverse
//! topological order, and the edges between them. The engine's descendant counts and the
//! status page's levels, blockers and critical path all walk it.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

/// A graph over dense member indices `0..len`, condensed.
#[derive(Debug, Clone)]
pub struct Condensation {
    /// Per member, its component.
    pub component: Vec<u32>,
    /// Per component, its members (sorted), components in reverse topological order:
    /// every component comes after all the components it reaches.
    pub members: Vec<Vec<u32>>,
    /// Per component, the components it has an edge to (sorted, deduplicated).
    pub successors: Vec<Vec<u32>>,
}

impl Condensation {
    /// Condenses `len` members with edges `parent → child` (out-of-range and self edges
    /// are ignored).
    pub fn new(len: usize, edges: &[(u32, u32)]) -> Condensation {
        let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(len, edges.len());
        for _ in 0..len {
            graph.add_node(());
        }
        for &(parent, child) in edges {
            if parent != child && (parent as usize) < len && (child as usize) < len {
                graph.add_edge(
                    NodeIndex::new(parent as usize),
                    NodeIndex::new(child as usize),
                    (),
                );
            }
        }
        // Tarjan yields components in reverse topological order.
        let sccs = tarjan_scc(&graph);
        let mut component = vec![0u32; len];
        let mut members = Vec::with_capacity(sccs.len());
        for (c, scc) in sccs.into_iter().enumerate() {
            let mut list: Vec<u32> = scc.iter().map(|n| n.index() as u32).collect();
            list.sort_unstable();
            for &m in &list {
                component[m as usize] = c as u32;
            }
            members.push(list);
        }
        let mut successors = vec![Vec::new(); members.len()];
        for &(parent, child) in edges {
            let (Some(&from), Some(&to)) = (
                component.get(parent as usize),
                component.get(child as usize),
            ) else {
                continue;
            };
            if from != to
                && let Some(list) = successors.get_mut(from as usize)
            {
                list.push(to);
            }
        }
        for list in &mut successors {
            list.sort_unstable();
            list.dedup();
        }
        Condensation {
            component,
            members,
            successors,
        }
    }
}
