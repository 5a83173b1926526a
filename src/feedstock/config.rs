//! `conda-forge.yml`, typed. (Interim version by the lead; the full typed config replaces it.)

use std::collections::BTreeMap;
use std::str::FromStr;

use rattler_conda_types::Subdir;

/// The parsed `conda-forge.yml`.
#[derive(Debug, Clone, Default)]
pub struct ForgeConfig {
    provider: BTreeMap<String, serde_json::Value>,
}

/// `conda-forge.yml` is not a YAML mapping.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Parses `conda-forge.yml` text.
pub fn parse(text: &str) -> Result<ForgeConfig, ConfigError> {
    let value: serde_json::Value =
        serde_saphyr::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
    let provider = match value.get("provider") {
        Some(serde_json::Value::Object(map)) => map.clone().into_iter().collect(),
        _ => BTreeMap::new(),
    };
    Ok(ForgeConfig { provider })
}

impl ForgeConfig {
    /// Platforms named by `provider` keys such as `linux_aarch64`.
    pub fn provider_platforms(&self) -> Vec<Subdir> {
        self.provider
            .keys()
            .filter_map(|k| Subdir::from_str(&k.replace('_', "-")).ok())
            .collect()
    }
}
