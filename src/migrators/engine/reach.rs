//! The migration graph's shape, computed once per migration: its strongly connected
//! components (members of one cycle do not gate each other) and every member's number of
//! descendants (the ready-order key).
//!
//! Descendant counts are exact, not summed along paths (which double-counts diamonds):
//! reachability is propagated as bitsets over the condensation, in reverse topological
//! order, one block of target members at a time so memory stays bounded (about 16 MiB
//! whatever the size). That is `O(blocks × (V + E) × words)` word operations with no
//! per-node search — tens of milliseconds for 25,000 members and 150,000 edges.

use super::condense::Condensation;

/// Bitset words per component and block are chosen so that one block's bitsets take at
/// most this many `u64`s (16 MiB).
const BLOCK_WORDS_BUDGET: usize = 2 * 1024 * 1024;

/// The migration graph over dense member indices `0..len`.
#[derive(Debug, Clone)]
pub(super) struct Reach {
    /// Per member, its component.
    component: Vec<u32>,
    /// Per component, its members' count of descendants (members reachable from it,
    /// itself excluded). Filled by [`Reach::count_descendants`].
    descendants: Vec<u32>,
    /// Components in reverse topological order (every component after all it reaches).
    order: Vec<Vec<u32>>,
    /// Per component, the components it has an edge to (deduplicated).
    successors: Vec<Vec<u32>>,
}

impl Reach {
    /// Builds the components of `len` members with edges `parent → child` (member
    /// indices; out-of-range and self edges are ignored).
    pub(super) fn new(len: usize, edges: &[(u32, u32)]) -> Reach {
        let Condensation {
            component,
            members: order,
            successors,
        } = Condensation::new(len, edges);
        Reach {
            descendants: Vec::new(),
            component,
            order,
            successors,
        }
    }

    /// The component (a cycle, or a single member) of a member.
    pub(super) fn component(&self, member: u32) -> u32 {
        self.component
            .get(member as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    /// The number of components.
    pub(super) fn components(&self) -> usize {
        self.order.len()
    }

    /// Computes every member's descendant count (see the module doc).
    pub(super) fn count_descendants(&mut self) {
        self.count_with_budget(BLOCK_WORDS_BUDGET);
    }

    /// [`Reach::count_descendants`] with at most `budget` bitset words per block.
    fn count_with_budget(&mut self, budget: usize) {
        let members = self.component.len();
        let components = self.order.len();
        let mut reached = vec![0u32; components];
        if members == 0 {
            self.descendants = reached;
            return;
        }
        let total_words = members.div_ceil(64);
        let words = total_words.clamp(1, (budget / components.max(1)).max(1));
        let block_bits = words * 64;
        let mut bits = vec![0u64; components * words];
        let mut start = 0;
        while start < members {
            bits.fill(0);
            let end = (start + block_bits).min(members);
            // Components are numbered in reverse topological order, so walking them by
            // number visits every successor before its predecessors.
            let parts = self.order.iter().zip(&self.successors).zip(&mut reached);
            for (c, ((members_of_c, successors), reached)) in parts.enumerate() {
                let (done, rest) = bits.split_at_mut(c * words);
                let (mine, _) = rest.split_at_mut(words);
                for &m in members_of_c {
                    let m = m as usize;
                    if (start..end).contains(&m) {
                        let bit = m - start;
                        mine[bit / 64] |= 1 << (bit % 64);
                    }
                }
                for &s in successors {
                    let s = s as usize;
                    // A successor always has a smaller number (it was finished first).
                    if let Some(theirs) = done.get(s * words..(s + 1) * words) {
                        for (w, t) in mine.iter_mut().zip(theirs) {
                            *w |= t;
                        }
                    }
                }
                *reached += mine.iter().map(|w| w.count_ones()).sum::<u32>();
            }
            start = end;
        }
        // Each component reaches itself; a member's descendants exclude the member.
        self.descendants = reached.into_iter().map(|r| r.saturating_sub(1)).collect();
    }

    /// The descendant count of a member ([`Reach::count_descendants`] must have run).
    pub(super) fn descendants(&self, member: u32) -> u32 {
        self.component
            .get(member as usize)
            .and_then(|&c| self.descendants.get(c as usize))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(len: usize, edges: &[(u32, u32)]) -> Vec<u32> {
        let mut reach = Reach::new(len, edges);
        reach.count_descendants();
        (0..len as u32).map(|m| reach.descendants(m)).collect()
    }

    /// Descendants by breadth-first search from every node: the slow, obvious answer.
    fn brute_force(len: usize, edges: &[(u32, u32)]) -> Vec<u32> {
        (0..len as u32)
            .map(|start| {
                let mut seen = vec![false; len];
                let mut queue = vec![start];
                while let Some(n) = queue.pop() {
                    for &(p, c) in edges {
                        if p == n && !seen[c as usize] {
                            seen[c as usize] = true;
                            queue.push(c);
                        }
                    }
                }
                seen[start as usize] = false;
                seen.iter().filter(|s| **s).count() as u32
            })
            .collect()
    }

    #[test]
    fn a_diamond_counts_the_shared_descendant_once() {
        // 0 → 1 → 3, 0 → 2 → 3
        assert_eq!(
            counts(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]),
            vec![3, 1, 1, 0]
        );
    }

    #[test]
    fn members_of_a_cycle_reach_each_other() {
        // 0 → 1 → 2 → 1, 2 → 3
        let edges = [(0, 1), (1, 2), (2, 1), (2, 3)];
        assert_eq!(counts(4, &edges), vec![3, 2, 2, 0]);
        let reach = Reach::new(4, &edges);
        assert_eq!(reach.component(1), reach.component(2));
        assert_ne!(reach.component(0), reach.component(1));
        assert_eq!(reach.components(), 3);
    }

    #[test]
    fn counts_match_a_search_from_every_node_across_several_blocks() {
        // A pseudo-random graph big enough to need more than one 64-bit word, with
        // cycles, checked against a search from every node.
        let len = 300;
        let mut edges = Vec::new();
        let mut x: u64 = 12345;
        for _ in 0..900 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = ((x >> 33) % len as u64) as u32;
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let b = ((x >> 33) % len as u64) as u32;
            // Mostly forward edges (a DAG-like shape), some backward ones (cycles).
            if a < b || x.is_multiple_of(17) {
                edges.push((a, b));
            }
        }
        let expected = brute_force(len, &edges);
        assert_eq!(counts(len, &edges), expected);
        // One word per component and block: five blocks of 64 targets.
        let mut reach = Reach::new(len, &edges);
        reach.count_with_budget(1);
        let blocked: Vec<u32> = (0..len as u32).map(|m| reach.descendants(m)).collect();
        assert_eq!(blocked, expected);
    }

    #[test]
    fn an_empty_graph_has_no_descendants() {
        assert_eq!(counts(0, &[]), Vec::<u32>::new());
        assert_eq!(counts(2, &[]), vec![0, 0]);
    }
}
