//! The in-memory graph model: one node per feedstock, edges labelled with the requirement
//! sections and platforms they come from.
//!
//! Labels are dense: a section set is a `u8` bitset over [`Section::ALL`], and an edge label
//! is one platform bitset per section, indexed through a [`PlatformTable`] built once per
//! build. So "build on linux-64 only, run everywhere" is kept exactly instead of being
//! flattened into two unrelated lists (reference §10.5).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::feedstock::FeedstockName;
use crate::recipe::{RenderedRecipe, Section};

/// The position of a section in [`Section::ALL`], its bit in a [`SectionSet`].
fn section_bit(section: Section) -> usize {
    match section {
        Section::Build => 0,
        Section::Host => 1,
        Section::Run => 2,
        Section::RunConstrained => 3,
        Section::Test => 4,
    }
}

/// The sections that make edges: `run_constrained` never does (it constrains, it does not
/// require).
pub const EDGE_SECTIONS: [Section; 4] =
    [Section::Build, Section::Host, Section::Run, Section::Test];

/// A set of requirement sections.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SectionSet(u8);

impl SectionSet {
    /// Adds a section.
    pub fn insert(&mut self, section: Section) {
        self.0 |= 1 << section_bit(section);
    }

    /// True when the section is in the set.
    pub fn contains(self, section: Section) -> bool {
        self.0 & (1 << section_bit(section)) != 0
    }

    /// True when no section is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The sections, in recipe order.
    pub fn iter(self) -> impl Iterator<Item = Section> {
        Section::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Debug for SectionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The platforms (`linux-64`, ...) seen in one build, each given a bit.
///
/// Invariant: names are sorted and unique, and there are at most 64 of them (conda has
/// fewer than 64 subdirs), so a platform set fits in a `u64`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlatformTable {
    names: Vec<String>,
}

/// A set of platforms, as bits of a [`PlatformTable`].
pub(crate) type PlatformBits = u64;

impl PlatformTable {
    /// Builds the table from every platform name in use. Names beyond the 64th are
    /// reported back so the caller can fail loudly instead of losing labels.
    pub(crate) fn new<'a>(platforms: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut names: Vec<String> = platforms.into_iter().map(str::to_string).collect();
        names.sort();
        names.dedup();
        if names.len() > 64 {
            return Err(format!(
                "{} distinct platforms, more than the 64 a label can hold",
                names.len()
            ));
        }
        Ok(PlatformTable { names })
    }

    /// The bit of a platform, `0` for a name not in the table.
    pub(crate) fn bit(&self, platform: &str) -> PlatformBits {
        self.names
            .binary_search_by(|n| n.as_str().cmp(platform))
            .map_or(0, |i| 1 << i)
    }

    /// The bits of every platform in the table.
    #[cfg(test)]
    pub(crate) fn all(&self) -> PlatformBits {
        match self.names.len() {
            64 => PlatformBits::MAX,
            n => (1 << n) - 1,
        }
    }

    /// The platform names of a bit set, sorted.
    pub(crate) fn names(&self, bits: PlatformBits) -> Vec<String> {
        self.names
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, n)| n.clone())
            .collect()
    }
}

/// The label of an edge (or of an external dependency): for each section, the platforms
/// on which the dependent requires the dependency in that section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EdgeLabel {
    by_section: [PlatformBits; 5],
}

impl EdgeLabel {
    /// Records that the dependency is required in `section` on `platforms`.
    pub(crate) fn add(&mut self, section: Section, platforms: PlatformBits) {
        if let Some(slot) = self.by_section.get_mut(section_bit(section)) {
            *slot |= platforms;
        }
    }

    /// The sections with at least one platform.
    pub(crate) fn sections(&self) -> SectionSet {
        let mut set = SectionSet::default();
        for section in Section::ALL {
            if self.platforms_of(section) != 0 {
                set.insert(section);
            }
        }
        set
    }

    /// The platforms of one section.
    pub(crate) fn platforms_of(&self, section: Section) -> PlatformBits {
        self.by_section
            .get(section_bit(section))
            .copied()
            .unwrap_or(0)
    }

    /// The union of the platforms of every section.
    pub(crate) fn platforms(&self) -> PlatformBits {
        self.by_section.iter().fold(0, |acc, bits| acc | bits)
    }

    /// The label as names: section → sorted platforms, sections in recipe order.
    pub(crate) fn resolve(&self, table: &PlatformTable) -> Label {
        let by_section = self
            .sections()
            .iter()
            .map(|s| (s, table.names(self.platforms_of(s))))
            .collect();
        Label {
            sections: self.sections().iter().collect(),
            platforms: table.names(self.platforms()),
            by_section,
        }
    }
}

/// An edge label spelled out with names, as stored and shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// The sections the edge comes from, in recipe order.
    pub sections: Vec<Section>,
    /// The union of the platforms of all sections, sorted.
    pub platforms: Vec<String>,
    /// Per section, the platforms on which the dependent requires the dependency there.
    pub by_section: BTreeMap<Section, Vec<String>>,
}

/// What the graph stores about one feedstock's recipe: its renders, one per platform,
/// each the union of that platform's variants. This is the `attributes` JSON of a
/// feedstock row and the input of edge construction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeAttributes {
    /// Platform (`linux-64`) → merged render.
    pub platforms: BTreeMap<String, RenderedRecipe>,
}

impl NodeAttributes {
    /// The recipe version: the first platform (in name order) that has one.
    pub fn version(&self) -> Option<&str> {
        self.platforms.values().find_map(|r| r.version.as_deref())
    }
}

/// A node as edge construction sees it: the feedstock and its current attributes.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The feedstock.
    pub(crate) name: FeedstockName,
    /// Its renders (empty when it never rendered).
    pub(crate) attributes: NodeAttributes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_set_iterates_in_recipe_order() {
        let mut set = SectionSet::default();
        set.insert(Section::Test);
        set.insert(Section::Build);
        set.insert(Section::Test);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Section::Build, Section::Test]
        );
        assert!(!set.contains(Section::Run));
    }

    #[test]
    fn platform_table_gives_sorted_bits() {
        let table = PlatformTable::new(["osx-64", "linux-64", "osx-64"]).unwrap();
        assert_eq!(table.bit("linux-64"), 1);
        assert_eq!(table.bit("osx-64"), 2);
        assert_eq!(table.bit("win-64"), 0);
        assert_eq!(table.all(), 3);
        assert_eq!(table.names(2), vec!["osx-64".to_string()]);
    }

    #[test]
    fn platform_table_refuses_more_than_64_platforms() {
        let names: Vec<String> = (0..65).map(|i| format!("os-{i}")).collect();
        assert!(PlatformTable::new(names.iter().map(String::as_str)).is_err());
    }

    #[test]
    fn label_keeps_platforms_per_section() {
        let table = PlatformTable::new(["linux-64", "osx-64", "win-64"]).unwrap();
        let mut label = EdgeLabel::default();
        label.add(Section::Build, table.bit("win-64"));
        label.add(Section::Run, table.all());
        let label = label.resolve(&table);
        assert_eq!(label.sections, vec![Section::Build, Section::Run]);
        assert_eq!(label.platforms.len(), 3);
        assert_eq!(
            label.by_section[&Section::Build],
            vec!["win-64".to_string()]
        );
    }
}
