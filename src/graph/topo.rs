//! Cycles and a topological order that tolerates them.
//!
//! The graph keeps its cycles (reference §2.5): real ecosystems have them (a test
//! requirement pointing back, a bootstrap pair). Strongly connected components are found
//! with petgraph's Tarjan, the condensation (a DAG) is ordered with Kahn's algorithm, and
//! ties are broken by the smallest node id, so the order is the same on every run. The
//! members of one component come out together, in id order.
//!
//! Node ids are dense (`0..n`); callers assign them in feedstock-name order, which makes
//! "id order" mean "name order" everywhere below.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use petgraph::algo::{connected_components, tarjan_scc};
use petgraph::graph::{DiGraph, NodeIndex};

/// What the shape of the graph says about ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Topology {
    /// Every node id once, dependencies before dependents except inside a cycle.
    pub(crate) order: Vec<usize>,
    /// The cycles: components with more than one member or with a self-loop. Members are
    /// sorted; cycles are sorted by their first member.
    pub(crate) cycles: Vec<Vec<usize>>,
    /// For each node id, the index of its cycle in `cycles`, if it is on one.
    pub(crate) cycle_of: Vec<Option<usize>>,
    /// The number of weakly connected components (isolated nodes count as one each).
    pub(crate) weak_components: usize,
}

/// Analyses a graph of `nodes` nodes with the given `(dependency, dependent)` edges.
/// Edges naming an id `>= nodes` are ignored.
pub(crate) fn analyse(nodes: usize, edges: impl IntoIterator<Item = (usize, usize)>) -> Topology {
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(nodes, 0);
    for _ in 0..nodes {
        graph.add_node(());
    }
    let mut self_loops = BTreeSet::new();
    for (src, dst) in edges {
        if src >= nodes || dst >= nodes {
            continue;
        }
        if src == dst {
            self_loops.insert(src);
        }
        graph.add_edge(NodeIndex::new(src), NodeIndex::new(dst), ());
    }

    let mut components: Vec<Vec<usize>> = tarjan_scc(&graph)
        .into_iter()
        .map(|c| {
            let mut members: Vec<usize> = c.into_iter().map(NodeIndex::index).collect();
            members.sort_unstable();
            members
        })
        .collect();
    // Stable component ids: by smallest member.
    components.sort_unstable_by_key(|c| c.first().copied());
    let mut component_of = vec![0; nodes];
    for (id, members) in components.iter().enumerate() {
        for &m in members {
            if let Some(slot) = component_of.get_mut(m) {
                *slot = id;
            }
        }
    }

    let order = order_condensation(&graph, &components, &component_of);

    let mut cycles = Vec::new();
    let mut cycle_of = vec![None; nodes];
    for members in &components {
        let is_cycle = members.len() > 1 || members.iter().any(|m| self_loops.contains(m));
        if is_cycle {
            for &m in members {
                if let Some(slot) = cycle_of.get_mut(m) {
                    *slot = Some(cycles.len());
                }
            }
            cycles.push(members.clone());
        }
    }

    Topology {
        order,
        cycles,
        cycle_of,
        weak_components: connected_components(&graph),
    }
}

/// Kahn's algorithm over the condensation; the ready component with the smallest id
/// (= smallest member) goes first.
fn order_condensation(
    graph: &DiGraph<(), ()>,
    components: &[Vec<usize>],
    component_of: &[usize],
) -> Vec<usize> {
    let count = components.len();
    let mut successors: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); count];
    for edge in graph.raw_edges() {
        let (Some(&from), Some(&to)) = (
            component_of.get(edge.source().index()),
            component_of.get(edge.target().index()),
        ) else {
            continue;
        };
        if from != to
            && let Some(set) = successors.get_mut(from)
        {
            set.insert(to);
        }
    }
    let mut indegree = vec![0usize; count];
    for set in &successors {
        for &to in set {
            if let Some(d) = indegree.get_mut(to) {
                *d += 1;
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = indegree
        .iter()
        .enumerate()
        .filter(|(_, d)| **d == 0)
        .map(|(c, _)| Reverse(c))
        .collect();
    let mut order = Vec::with_capacity(component_of.len());
    while let Some(Reverse(component)) = ready.pop() {
        if let Some(members) = components.get(component) {
            order.extend_from_slice(members);
        }
        for &next in successors.get(component).into_iter().flatten() {
            if let Some(d) = indegree.get_mut(next) {
                *d -= 1;
                if *d == 0 {
                    ready.push(Reverse(next));
                }
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(order: &[usize], node: usize) -> usize {
        order.iter().position(|n| *n == node).unwrap()
    }

    #[test]
    fn dependencies_come_before_dependents() {
        // 2 → 1 → 0
        let topo = analyse(3, [(2, 1), (1, 0)]);
        assert_eq!(topo.order, vec![2, 1, 0]);
        assert!(topo.cycles.is_empty());
        assert_eq!(topo.weak_components, 1);
    }

    #[test]
    fn ties_are_broken_by_id_so_the_order_is_stable() {
        let topo = analyse(4, [(3, 0), (2, 0)]);
        assert_eq!(topo.order, vec![1, 2, 3, 0]);
        assert_eq!(topo.weak_components, 2);
    }

    #[test]
    fn a_cycle_is_reported_and_ordered_as_one_block() {
        // 0 → 1 → 2 → 1, 2 → 3
        let topo = analyse(4, [(0, 1), (1, 2), (2, 1), (2, 3)]);
        assert_eq!(topo.cycles, vec![vec![1, 2]]);
        assert_eq!(topo.cycle_of, vec![None, Some(0), Some(0), None]);
        assert_eq!(topo.order, vec![0, 1, 2, 3]);
        assert!(position(&topo.order, 0) < position(&topo.order, 1));
        assert!(position(&topo.order, 2) < position(&topo.order, 3));
    }

    #[test]
    fn a_self_loop_counts_as_a_cycle() {
        let topo = analyse(2, [(1, 1)]);
        assert_eq!(topo.cycles, vec![vec![1]]);
        assert_eq!(topo.order.len(), 2);
    }

    #[test]
    fn every_node_is_ordered_once_even_with_nested_cycles() {
        let edges = [(0, 1), (1, 0), (1, 2), (2, 3), (3, 2), (3, 4), (4, 0)];
        let topo = analyse(6, edges);
        let mut sorted = topo.order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(topo.cycles, vec![vec![0, 1, 2, 3, 4]]);
    }

    #[test]
    fn out_of_range_edges_are_ignored() {
        let topo = analyse(1, [(0, 7)]);
        assert_eq!(topo.order, vec![0]);
    }
}
