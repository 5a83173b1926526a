//! The failure report of a version rewrite, in the bot's words (reference §4.6).
//!
//! A rewrite does not stop at the first problem: every source is tried, and every
//! problem found is listed, so a maintainer sees at once which URL did not hash and which
//! variable is missing. [`BumpError`]'s text starts like the bot's `VersionMigrationError`
//! and then lists each [`Problem`] as a bullet; a URL that did not hash lists every URL
//! tried, one per line (`not found: <URL>`).

use std::fmt;

use super::fetch::{Chain, FetchError};

/// One URL that did not hash, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The URL tried.
    pub url: String,
    /// True when the file does not exist (404/410, or unknown to the offline cache).
    pub not_found: bool,
    /// The failure with its causes, for any other error.
    pub message: String,
}

impl From<&FetchError> for Attempt {
    fn from(err: &FetchError) -> Attempt {
        Attempt {
            url: err.url().unwrap_or_default().to_string(),
            not_found: err.is_not_found(),
            message: Chain(err).to_string(),
        }
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.not_found {
            write!(f, "not found: {}", self.url)
        } else {
            write!(f, "failed: {}", self.message)
        }
    }
}

/// Why a recipe could not be moved to a new version.
#[derive(Debug)]
pub struct BumpError {
    /// The version asked for (after R mangling).
    pub version: String,
    /// Every problem found, in recipe order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for BumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The recipe did not change in the version migration, a URL did not hash, or there \
             is jinja2 syntax the bot cannot handle!\n\n\
             Please check the URLs in your recipe with version '{}' to make sure they exist!",
            self.version
        )?;
        if !self.problems.is_empty() {
            write!(f, "\n\nWe also found the following errors:\n")?;
            for problem in &self.problems {
                let text = problem.to_string();
                let mut lines = text.lines();
                if let Some(first) = lines.next() {
                    write!(f, "\n - {first}")?;
                }
                for line in lines {
                    write!(f, "\n   {line}")?;
                }
            }
        }
        Ok(())
    }
}

impl std::error::Error for BumpError {}

/// One reason a rewrite failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Problem {
    /// The recipe is not YAML once its Jinja is masked.
    NotYaml {
        /// 1-based line of the syntax error.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A v0 recipe without a literal `{% set version = "..." %}`.
    NoVersionVariable,
    /// A v1 recipe without a literal `context.version`.
    NoContextVersion,
    /// Every source is a `git_url` (nothing to hash).
    GitUrlOnly,
    /// The recipe has no `source` section.
    NoSources,
    /// A source without `url` that is not a git or path source.
    NoUrl {
        /// 1-based line of the source.
        line: usize,
    },
    /// A URL or hash uses a variable the recipe does not define for this selector.
    MissingVariable {
        /// The variable.
        variable: String,
        /// The selector (`None` for the unselected lines).
        selector: Option<String>,
    },
    /// A variable the URL needs is defined by an expression that could not be evaluated.
    UnevaluatedVariable {
        /// The variable.
        variable: String,
        /// 1-based line of its `set`.
        line: usize,
        /// The Jinja error.
        message: String,
    },
    /// A URL template is not valid Jinja.
    BadTemplate {
        /// The template as written.
        template: String,
        /// The Jinja error.
        message: String,
    },
    /// A hash is written as an expression the rewrite cannot trace to one literal.
    HashNotEditable {
        /// 1-based line of the hash.
        line: usize,
        /// The value as written.
        value: String,
    },
    /// A value is written in a form the rewrite does not edit (a block scalar).
    ValueNotEditable {
        /// 1-based line.
        line: usize,
    },
    /// No candidate URL of a template hashed.
    CouldNotHash {
        /// The template as written in the recipe.
        template: String,
        /// Every URL tried and why it failed, in order.
        attempts: Vec<Attempt>,
    },
    /// Two selectors want different new values in one place.
    ConflictingEdit {
        /// 1-based line.
        line: usize,
    },
    /// No source changed even though the version did.
    NoChange,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotYaml { line, message } => {
                write!(f, "the recipe could not be parsed (line {line}): {message}")
            }
            Problem::NoVersionVariable => {
                write!(
                    f,
                    "migrations do not work on versions not specified with jinja2"
                )
            }
            Problem::NoContextVersion => write!(
                f,
                "migrations do not work on versions not specified in the recipe's `context`"
            ),
            Problem::GitUrlOnly => write!(f, "migrations do not work on `git_url`s"),
            Problem::NoSources => write!(f, "no source sections found in the recipe"),
            Problem::NoUrl { line } => write!(f, "the source on line {line} has no url"),
            Problem::MissingVariable { variable, selector } => write!(
                f,
                "missing jinja2 variable '{variable}' for selector '{}'",
                selector.as_deref().unwrap_or("None")
            ),
            Problem::UnevaluatedVariable {
                variable,
                line,
                message,
            } => write!(
                f,
                "jinja2 variable '{variable}' (line {line}) could not be evaluated: {message}"
            ),
            Problem::BadTemplate { template, message } => {
                write!(
                    f,
                    "URL template '{template}' is not valid jinja2: {message}"
                )
            }
            Problem::HashNotEditable { line, value } => write!(
                f,
                "the hash on line {line} ('{value}') is an expression the bot cannot rewrite"
            ),
            Problem::ValueNotEditable { line } => write!(
                f,
                "the value on line {line} is a block scalar the bot cannot rewrite"
            ),
            Problem::CouldNotHash { template, attempts } => {
                write!(f, "could not hash URL template '{template}'")?;
                for attempt in attempts {
                    write!(f, "\n{attempt}")?;
                }
                Ok(())
            }
            Problem::ConflictingEdit { line } => write!(
                f,
                "line {line} would get different new values from different selectors"
            ),
            Problem::NoChange => write!(
                f,
                "recipe did not appear to change even though the bot said it should have"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_every_problem_and_every_url_tried() {
        let err = BumpError {
            version: "2.0".to_string(),
            problems: vec![
                Problem::MissingVariable {
                    variable: "plat".to_string(),
                    selector: Some("win".to_string()),
                },
                Problem::CouldNotHash {
                    template: "https://x/{{ version }}.tar.gz".to_string(),
                    attempts: vec![
                        Attempt::from(&FetchError::NotFound {
                            url: "https://x/2.0.tar.gz".to_string(),
                        }),
                        Attempt::from(&FetchError::Status {
                            url: "https://x/2.0.zip".to_string(),
                            status: 500,
                        }),
                    ],
                },
            ],
        };
        assert_eq!(
            err.to_string(),
            "The recipe did not change in the version migration, a URL did not hash, or there \
             is jinja2 syntax the bot cannot handle!\n\n\
             Please check the URLs in your recipe with version '2.0' to make sure they exist!\n\n\
             We also found the following errors:\n\n \
             - missing jinja2 variable 'plat' for selector 'win'\n \
             - could not hash URL template 'https://x/{{ version }}.tar.gz'\n   \
             not found: https://x/2.0.tar.gz\n   \
             failed: HTTP 500: https://x/2.0.zip"
        );
    }
}
