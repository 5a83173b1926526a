//! The site's templates and static assets, compiled into the binary from
//! `status-site/` so `cascade status build` needs nothing beside the executable.
//!
//! Templates are minijinja with HTML autoescape (every `.html` template): any value from
//! the model — a feedstock name, a PR title, an error message — is escaped unless the
//! template marks it `|safe`, which only the SVG strings this module's siblings build
//! (and escape themselves) and the pre-escaped table JSON are.

use minijinja::{AutoEscape, Environment};

use super::{dates, escape};

/// `(name, source)` of every template.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../../status-site/templates/base.html"),
    ),
    (
        "index.html",
        include_str!("../../../status-site/templates/index.html"),
    ),
    (
        "migration.html",
        include_str!("../../../status-site/templates/migration.html"),
    ),
    (
        "feedstock.html",
        include_str!("../../../status-site/templates/feedstock.html"),
    ),
    (
        "feedstocks.html",
        include_str!("../../../status-site/templates/feedstocks.html"),
    ),
    (
        "versions.html",
        include_str!("../../../status-site/templates/versions.html"),
    ),
];

/// `(file name under assets/, contents)` of every static asset.
pub(crate) const ASSETS: &[(&str, &str)] = &[
    (
        "site.css",
        include_str!("../../../status-site/assets/site.css"),
    ),
    (
        "site.js",
        include_str!("../../../status-site/assets/site.js"),
    ),
    (
        "feedstocks.js",
        include_str!("../../../status-site/assets/feedstocks.js"),
    ),
];

/// The template environment: every template added, autoescape on for `.html` (the
/// default callback), and the filters the templates use.
pub(crate) fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    // minijinja's HTML escape also spells `/` as `&#x2f;`, which only bloats URLs (a
    // 25,000-row page notices); `& < > " '` are what make text inert in HTML text and
    // quoted attributes, and the templates quote every attribute.
    env.set_formatter(|out, state, value| {
        if *state.auto_escape() != AutoEscape::Html || value.is_safe() {
            return minijinja::escape_formatter(out, state, value);
        }
        out.write_str(&escape::xml(&value.to_string()))
            .map_err(minijinja::Error::from)
    });
    env.add_filter("datetime", |unix: i64| dates::human(unix));
    env.add_filter("day", |unix: i64| dates::day(unix));
    env.add_filter("duration", |seconds: i64| dates::duration(seconds));
    env.add_filter("percent", |fraction: f64| {
        format!("{:.1}%", (fraction * 100.0).clamp(0.0, 100.0))
    });
    env.add_filter("feedstock_page", |name: &str| {
        super::paths::feedstock_page(name)
    });
    env.add_filter("migration_page", |name: &str| {
        super::paths::migration_page(name)
    });
    env.add_filter("cf_state", |state: &str| super::cf_state::class_of(state));
    Ok(env)
}
