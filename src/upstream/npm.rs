//! The npm registry (`GET {npm}/<name>`, scoped names as `@scope%2Fname`).
//!
//! Applies to recipe URLs on `registry.npmjs.org`. The candidates are the published
//! versions up to `dist-tags.latest` (so a final published under a `next` tag does not
//! jump the line) without pre-releases.

use std::collections::BTreeMap;
use std::str::FromStr;

use rattler_conda_types::Version;
use serde::Deserialize;

use super::check::{Checker, Listing};
use super::error::{Redacted, SourceError};
use super::release::is_prerelease;

#[derive(Deserialize)]
struct Package {
    #[serde(rename = "dist-tags", default)]
    dist_tags: BTreeMap<String, String>,
    #[serde(default)]
    versions: BTreeMap<String, serde_json::Value>,
}

/// The npm package a recipe URL downloads (`@scope/name` or `name`).
pub(crate) fn package_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let (host, path) = rest.split_once('/')?;
    if !host.eq_ignore_ascii_case("registry.npmjs.org") {
        return None;
    }
    let (name, _) = path.split_once("/-/")?;
    let name = name.replace("%2F", "/").replace("%2f", "/");
    (!name.is_empty()).then_some(name)
}

/// npm's answer, or `None` when no recipe URL is on the npm registry.
pub(crate) async fn versions(
    checker: &Checker,
    urls: &[String],
) -> Result<Option<Listing>, SourceError> {
    let Some(package) = urls.iter().find_map(|u| package_of(u)) else {
        return Ok(None);
    };
    let url = format!("{}/{}", checker.urls().npm, package.replace('/', "%2F"));
    let body: Package = checker.http().get_json(&url).await?;
    let Some(latest) = body.dist_tags.get("latest") else {
        return Err(SourceError::Decode {
            url: Redacted::new(&url),
            message: "no `dist-tags.latest`".to_string(),
        });
    };
    let ceiling = Version::from_str(latest).ok();
    let versions = body
        .versions
        .into_keys()
        .filter(|v| !is_prerelease(v))
        .filter(|v| match (&ceiling, Version::from_str(v)) {
            (Some(ceiling), Ok(v)) => &v <= ceiling,
            _ => false,
        })
        .collect();
    Ok(Some(Listing { versions, url }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_scoped_package_names_are_read_from_tarball_urls() {
        assert_eq!(
            package_of("https://registry.npmjs.org/configurable-http-proxy/-/configurable-http-proxy-4.6.1.tgz").as_deref(),
            Some("configurable-http-proxy")
        );
        assert_eq!(
            package_of("https://registry.npmjs.org/@jupyterlab/server/-/server-1.0.0.tgz")
                .as_deref(),
            Some("@jupyterlab/server")
        );
        assert_eq!(package_of("https://example.org/x/-/x-1.tgz"), None);
    }
}
