//! The commit message, PR title, PR body and branch of a pinning migration (reference
//! §3.3, "Texts", "Branch and uid").

use std::fmt::Write as _;

use crate::feedstock::config::ForgeConfig;

use super::MIGRATOR_VERSION;
use super::definition::PinningMigration;

/// How many downstream children the body lists.
const CHILDREN_SHOWN: usize = 5;

/// The commit message: `commit_message` (default `Rebuild for <name>`), or
/// `Close out migration for <name>` on the pinning feedstock.
pub(super) fn commit_message(migration: &PinningMigration, closeout: bool) -> String {
    if closeout {
        format!("Close out migration for {}", migration.name)
    } else {
        migration.commit_message_or_default()
    }
}

/// The PR title: `[bot-automerge] ` when the feedstock's `bot.automerge` allows
/// migrations and the migration has `automerge: true`, then the commit message's first
/// line.
pub(super) fn title(migration: &PinningMigration, config: &ForgeConfig, message: &str) -> String {
    let first = message.lines().next().unwrap_or_default().trim();
    if migration.automerge && config.bot.automerge.migrations() {
        format!("[bot-automerge] {first}")
    } else {
        first.to_string()
    }
}

/// The branch stem: `rebuild-<name, lowercased, spaces→_>-<migrator version>-<migration
/// number or "">`.
pub(super) fn branch(migration: &PinningMigration) -> String {
    format!(
        "rebuild-{}-{}-{}",
        migration.name.to_lowercase().replace(' ', "_"),
        MIGRATOR_VERSION,
        migration.migration_number.as_deref().unwrap_or_default()
    )
}

/// What the body needs besides the migration.
pub(super) struct BodyInput<'a> {
    /// The migration's status page base URL (`<base>/?name=<name>`).
    pub(super) status_url: &'a str,
    /// The bot's user name, for the rerun instructions.
    pub(super) bot_user: &'a str,
    /// The feedstock's children in the migration graph.
    pub(super) children: &'a [String],
    /// True on the pinning feedstock.
    pub(super) closeout: bool,
    /// Things the reviewer should know (skipped `conda-forge.yml` patches, ...).
    pub(super) warnings: &'a [String],
}

/// The PR body (Markdown).
pub(super) fn body(migration: &PinningMigration, input: &BodyInput<'_>) -> String {
    let name = &migration.name;
    let link = format!(
        "[**{name}**]({}/?name={name})",
        input.status_url.trim_end_matches('/')
    );
    let mut body = String::new();
    if input.closeout {
        let _ = writeln!(
            body,
            "This PR has been triggered in an effort to close out the migration for {link}: \
             every other feedstock of the migration is done, so its pins move into the \
             global pinning and the migration file is removed."
        );
    } else {
        let _ = writeln!(
            body,
            "This PR has been triggered in an effort to update {link}."
        );
    }
    body.push_str(
        "\nNotes and instructions for merging this PR:\n\
         1. Please merge the PR only after the tests have passed.\n\
         2. Feel free to push to the bot's branch to update this PR if needed.\n\n\
         **Please note that if you close this PR we presume that the feedstock has been \
         rebuilt, so if you are going to perform the rebuild yourself don't close this PR \
         until your rebuild has been merged.**\n\n\
         **If this feedstock will never be compatible with this migration, convert this \
         PR to a draft instead of closing it:** a draft PR keeps the feedstock from being \
         counted as rebuilt and tells the migration's maintainers why.\n",
    );
    if !input.closeout {
        let details = commit_details(migration);
        if !details.is_empty() {
            body.push_str("\n<hr>\n\nHere are some more details about this specific migrator:\n\n");
            for line in details.lines() {
                if line.trim().is_empty() {
                    body.push_str(">\n");
                } else {
                    let _ = writeln!(body, "> {line}");
                }
            }
        }
    }
    if !input.warnings.is_empty() {
        body.push_str("\n<hr>\n\n**Warnings from the migration:**\n\n");
        for warning in input.warnings {
            let _ = writeln!(body, "- {warning}");
        }
    }
    if !input.children.is_empty() {
        body.push_str("\n<hr>\n\nThis package has the following downstream children:\n");
        for child in input.children.iter().take(CHILDREN_SHOWN) {
            let _ = writeln!(body, "- {child}");
        }
        let more = input.children.len().saturating_sub(CHILDREN_SHOWN);
        if more > 0 {
            let _ = writeln!(body, "and {more} more.");
        }
    }
    let _ = write!(
        body,
        "\n<hr>\n\nIf this PR was opened in error or needs to be updated please add the \
         `bot-rerun` label to this PR. The bot will close this PR and schedule another \
         one. If you do not have permissions to add this label, you can use the phrase \
         <code>@<space/>conda-forge-admin, please rerun bot</code> in a PR comment to have \
         the `conda-forge-admin` add it for you.\n\n\
         This PR was created by {}.\n",
        input.bot_user
    );
    body
}

/// The commit message after its first line, without leading and trailing blank lines.
fn commit_details(migration: &PinningMigration) -> String {
    let Some(message) = &migration.commit_message else {
        return String::new();
    };
    let rest: Vec<&str> = message.lines().skip(1).collect();
    rest.join("\n").trim_matches(['\n', ' ']).to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::feedstock::config;

    fn migration(extra: &str) -> PinningMigration {
        let text = format!("__migrator:\n  migration_number: 3\n{extra}libfoo:\n- '2'\n");
        PinningMigration::parse("Libfoo 2", Path::new("libfoo2.yaml"), &text).unwrap()
    }

    #[test]
    fn the_branch_stem_is_lowercase_with_the_versions() {
        assert_eq!(
            branch(&migration("")),
            format!("rebuild-libfoo_2-{MIGRATOR_VERSION}-3")
        );
    }

    #[test]
    fn automerge_needs_both_the_feedstock_and_the_migration() {
        let on = config::parse("bot:\n  automerge: migration\n").unwrap();
        let off = config::parse("bot:\n  automerge: version\n").unwrap();
        let yes =
            migration("  automerge: true\n  commit_message: |\n    Rebuild it\n\n    because\n");
        assert_eq!(
            title(&yes, &on, &commit_message(&yes, false)),
            "[bot-automerge] Rebuild it"
        );
        assert_eq!(
            title(&yes, &off, &commit_message(&yes, false)),
            "Rebuild it"
        );
        let no = migration("");
        assert_eq!(
            title(&no, &on, &commit_message(&no, false)),
            "Rebuild for Libfoo 2"
        );
    }

    #[test]
    fn the_body_links_the_status_page_quotes_details_and_lists_children() {
        let m = migration("  commit_message: |\n    Rebuild it\n\n    Line one\n\n    Line two\n");
        let children: Vec<String> = (1..=7).map(|i| format!("child{i}")).collect();
        let body = body(
            &m,
            &BodyInput {
                status_url: "https://example.org/status/",
                bot_user: "bot",
                children: &children,
                closeout: false,
                warnings: &["conda-forge.yml: patch `a.b` skipped".to_string()],
            },
        );
        assert!(
            body.contains("(https://example.org/status/?name=Libfoo 2)"),
            "{body}"
        );
        assert!(body.contains("> Line one\n>\n> Line two\n"), "{body}");
        assert!(body.contains("- child5\nand 2 more."), "{body}");
        assert!(!body.contains("child6"), "{body}");
        assert!(body.contains("`bot-rerun`"), "{body}");
        assert!(body.contains("draft"), "{body}");
        assert!(body.contains("patch `a.b` skipped"), "{body}");
    }
}
