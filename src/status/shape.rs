//! The shape of one migration graph as the status pages need it: topological levels,
//! descendant counts (all of them, and the not-done ones a node holds back), and the
//! critical path — the longest chain of not-done members.
//!
//! Members are dense indices `0..len`; edges go parent → child. A cycle is one strongly
//! connected component: its members share a level, reach each other, and count as one
//! wave on the critical path (the engine builds a cycle as one unit).
//!
//! Descendant counts are exact (a diamond's shared descendant counts once): reachability
//! is propagated as bitsets over the condensation, one block of target members at a time
//! so memory stays bounded, as the engine's ready-order counts are. The engine keeps its
//! counter private and counts every descendant; status also needs the not-done ones.

use crate::migrators::Condensation as Condensed;

/// At most this many `u64` words of bitsets per block (16 MiB).
const BLOCK_WORDS_BUDGET: usize = 2 * 1024 * 1024;

/// The computed shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Per member, its topological level (0 for members without parents outside their
    /// component; a cycle shares one level).
    pub levels: Vec<u32>,
    /// Per member, the members reachable from it, itself excluded.
    pub descendants: Vec<u32>,
    /// Per member, the not-done members reachable from it, itself excluded.
    pub held_back: Vec<u32>,
    /// The longest chain of not-done components, root first, as one member per
    /// component (the lowest-indexed not-done member). Empty when everything is done.
    pub critical_chain: Vec<u32>,
}

impl Shape {
    /// Computes the shape of `len` members with `edges` (parent → child; out-of-range
    /// and self edges are ignored); `done[m]` says whether member `m` is done.
    pub(crate) fn new(len: usize, edges: &[(u32, u32)], done: &[bool]) -> Shape {
        Shape::with_budget(len, edges, done, BLOCK_WORDS_BUDGET)
    }

    fn with_budget(len: usize, edges: &[(u32, u32)], done: &[bool], budget: usize) -> Shape {
        let condensed = Condensed::new(len, edges);
        let is_done = |m: u32| done.get(m as usize).copied().unwrap_or(false);
        let levels = levels(&condensed);
        let (reached, held) = reach(&condensed, &is_done, budget);
        let mut descendants = vec![0; len];
        let mut held_back = vec![0; len];
        for m in 0..len {
            let c = condensed.component[m] as usize;
            descendants[m] = reached[c].saturating_sub(1);
            held_back[m] = held[c].saturating_sub(u32::from(!is_done(m as u32)));
        }
        Shape {
            levels: (0..len)
                .map(|m| levels[condensed.component[m] as usize])
                .collect(),
            descendants,
            held_back,
            critical_chain: critical_chain(&condensed, &is_done),
        }
    }
}

/// Per component, its level: one more than its deepest parent component.
fn levels(condensed: &Condensed) -> Vec<u32> {
    let mut level = vec![0u32; condensed.members.len()];
    // Highest numbers are sources: every parent is visited before its children.
    for c in (0..condensed.members.len()).rev() {
        let next = level[c] + 1;
        for &s in &condensed.successors[c] {
            if let Some(l) = level.get_mut(s as usize) {
                *l = (*l).max(next);
            }
        }
    }
    level
}

/// Per component, how many members it reaches (itself included) and how many of those
/// are not done.
fn reach(
    condensed: &Condensed,
    is_done: &dyn Fn(u32) -> bool,
    budget: usize,
) -> (Vec<u32>, Vec<u32>) {
    let members = condensed.component.len();
    let components = condensed.members.len();
    let mut reached = vec![0u32; components];
    let mut held = vec![0u32; components];
    if members == 0 {
        return (reached, held);
    }
    let words = members
        .div_ceil(64)
        .clamp(1, (budget / components.max(1)).max(1));
    let block_bits = words * 64;
    let mut bits = vec![0u64; components * words];
    let mut open = vec![0u64; words];
    let mut start = 0;
    while start < members {
        bits.fill(0);
        open.fill(0);
        let end = (start + block_bits).min(members);
        for m in start..end {
            if !is_done(m as u32) {
                let bit = m - start;
                open[bit / 64] |= 1 << (bit % 64);
            }
        }
        // Successors have smaller numbers: they are finished before their parents.
        for c in 0..components {
            let (finished, rest) = bits.split_at_mut(c * words);
            let (mine, _) = rest.split_at_mut(words);
            for &m in &condensed.members[c] {
                let m = m as usize;
                if (start..end).contains(&m) {
                    let bit = m - start;
                    mine[bit / 64] |= 1 << (bit % 64);
                }
            }
            for &s in &condensed.successors[c] {
                let s = s as usize;
                if let Some(theirs) = finished.get(s * words..(s + 1) * words) {
                    for (w, t) in mine.iter_mut().zip(theirs) {
                        *w |= t;
                    }
                }
            }
            reached[c] += mine.iter().map(|w| w.count_ones()).sum::<u32>();
            held[c] += mine
                .iter()
                .zip(&open)
                .map(|(w, o)| (w & o).count_ones())
                .sum::<u32>();
        }
        start = end;
    }
    (reached, held)
}

/// The longest chain of not-done components (each counts one wave), root first.
fn critical_chain(condensed: &Condensed, is_done: &dyn Fn(u32) -> bool) -> Vec<u32> {
    let components = condensed.members.len();
    let open: Vec<Option<u32>> = condensed
        .members
        .iter()
        .map(|list| list.iter().copied().find(|&m| !is_done(m)))
        .collect();
    // best[c]: waves on the longest not-done chain ending in c; from[c]: its predecessor.
    let mut best = vec![0u32; components];
    let mut from: Vec<Option<u32>> = vec![None; components];
    for c in (0..components).rev() {
        if open[c].is_none() {
            continue;
        }
        best[c] += 1;
        for &s in &condensed.successors[c] {
            let s = s as usize;
            if open.get(s).copied().flatten().is_some() && best[c] > best[s] {
                best[s] = best[c];
                from[s] = Some(c as u32);
            }
        }
    }
    let Some(end) = (0..components)
        .filter(|&c| open[c].is_some())
        .max_by_key(|&c| (best[c], std::cmp::Reverse(c)))
    else {
        return Vec::new();
    };
    let mut chain = Vec::new();
    let mut at = Some(end as u32);
    while let Some(c) = at {
        if let Some(member) = open.get(c as usize).copied().flatten() {
            chain.push(member);
        }
        at = from.get(c as usize).copied().flatten();
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reachability by search from every member: the slow, obvious answer.
    fn brute_force(len: usize, edges: &[(u32, u32)], done: &[bool]) -> (Vec<u32>, Vec<u32>) {
        let mut all = Vec::new();
        let mut open = Vec::new();
        for start in 0..len as u32 {
            let mut seen = vec![false; len];
            let mut stack = vec![start];
            while let Some(n) = stack.pop() {
                for &(p, c) in edges {
                    if p == n && !seen[c as usize] {
                        seen[c as usize] = true;
                        stack.push(c);
                    }
                }
            }
            seen[start as usize] = false;
            all.push(seen.iter().filter(|s| **s).count() as u32);
            open.push(seen.iter().zip(done).filter(|(s, d)| **s && !**d).count() as u32);
        }
        (all, open)
    }

    #[test]
    fn a_diamond_counts_its_shared_descendant_once_and_levels_follow_the_longest_path() {
        // 0 → 1 → 3, 0 → 2 → 3, 0 → 3
        let edges = [(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)];
        let shape = Shape::new(4, &edges, &[true, false, true, false]);
        assert_eq!(shape.descendants, vec![3, 1, 1, 0]);
        assert_eq!(shape.held_back, vec![2, 1, 1, 0]);
        assert_eq!(shape.levels, vec![0, 1, 1, 2]);
    }

    #[test]
    fn the_critical_path_skips_done_members_because_their_children_are_free_to_go() {
        // 0 → 1 → 2 → 3 with 1 done: 2 does not wait for 0, so the longest not-done
        // chain is 2 → 3 (or 0 alone); and 4 → 5 → 6 → 7 all open is longer.
        let edges = [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (6, 7)];
        let done = [false, true, false, false, false, false, false, false];
        assert_eq!(
            Shape::new(8, &edges, &done).critical_chain,
            vec![4, 5, 6, 7]
        );
        let short = [(0, 1), (1, 2), (2, 3)];
        let done = [false, true, false, false];
        assert_eq!(Shape::new(4, &short, &done).critical_chain, vec![2, 3]);
    }

    #[test]
    fn a_cycle_shares_a_level_and_counts_as_one_wave() {
        // 0 → 1 ⇄ 2 → 3
        let edges = [(0, 1), (1, 2), (2, 1), (2, 3)];
        let shape = Shape::new(4, &edges, &[false; 4]);
        assert_eq!(shape.levels, vec![0, 1, 1, 2]);
        assert_eq!(shape.descendants, vec![3, 2, 2, 0]);
        assert_eq!(shape.critical_chain, vec![0, 1, 3]);
    }

    #[test]
    fn everything_done_has_no_critical_path_and_holds_nothing_back() {
        let shape = Shape::new(3, &[(0, 1), (1, 2)], &[true; 3]);
        assert!(shape.critical_chain.is_empty());
        assert_eq!(shape.held_back, vec![0, 0, 0]);
        assert_eq!(shape.descendants, vec![2, 1, 0]);
        assert!(Shape::new(0, &[], &[]).critical_chain.is_empty());
    }

    #[test]
    fn counts_match_a_search_from_every_member_across_several_blocks() {
        let len = 300;
        let mut edges = Vec::new();
        let mut done = Vec::new();
        let mut x: u64 = 99;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        for _ in 0..len {
            done.push(next() % 3 == 0);
        }
        for _ in 0..900 {
            let a = (next() % len as u64) as u32;
            let b = (next() % len as u64) as u32;
            if a < b || next() % 17 == 0 {
                edges.push((a, b));
            }
        }
        let (all, open) = brute_force(len, &edges, &done);
        for budget in [BLOCK_WORDS_BUDGET, 1] {
            let shape = Shape::with_budget(len, &edges, &done, budget);
            assert_eq!(shape.descendants, all);
            assert_eq!(shape.held_back, open);
        }
    }
}
