//! The validated name of a feedstock (`zlib` for `zlib-feedstock`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A feedstock name without the `-feedstock` suffix.
///
/// Invariant: non-empty, at most 200 bytes, only ASCII letters, digits, `-`, `_` and `.`,
/// not starting with `.` — the characters GitHub allows in repository names, so a name can
/// never be a path traversal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FeedstockName(String);

/// A string that is not a valid feedstock name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid feedstock name `{0}`: use letters, digits, `-`, `_` and `.`")]
pub struct InvalidFeedstockName(pub String);

impl FeedstockName {
    /// Validates a name.
    pub fn new(name: impl Into<String>) -> Result<FeedstockName, InvalidFeedstockName> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= 200
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if valid {
            Ok(FeedstockName(name))
        } else {
            Err(InvalidFeedstockName(name))
        }
    }

    /// The name of a checkout directory `<name>-feedstock`, or `None` for other names.
    pub fn from_dir_name(dir_name: &str) -> Option<FeedstockName> {
        dir_name
            .strip_suffix("-feedstock")
            .and_then(|name| FeedstockName::new(name).ok())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The checkout directory name, `<name>-feedstock`.
    pub fn dir_name(&self) -> String {
        format!("{}-feedstock", self.0)
    }
}

impl fmt::Display for FeedstockName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for FeedstockName {
    type Error = InvalidFeedstockName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        FeedstockName::new(value)
    }
}

impl From<FeedstockName> for String {
    fn from(value: FeedstockName) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_name_strips_the_suffix() {
        let name = FeedstockName::from_dir_name("libjpeg-turbo-feedstock").expect("valid");
        assert_eq!(name.as_str(), "libjpeg-turbo");
        assert_eq!(name.dir_name(), "libjpeg-turbo-feedstock");
    }

    #[test]
    fn directories_without_the_suffix_are_not_feedstocks() {
        assert!(FeedstockName::from_dir_name("README.md").is_none());
        assert!(FeedstockName::from_dir_name("-feedstock").is_none());
    }

    #[test]
    fn path_traversal_is_not_a_name() {
        assert!(FeedstockName::new("../etc").is_err());
        assert!(FeedstockName::new("a/b").is_err());
        assert!(FeedstockName::new(".hidden").is_err());
    }
}
