//! Credentials that cannot leak by accident: a [`Secret`] prints as `***`, and a
//! [`Redactor`] scrubs every credential cascade has held from any text that leaves the
//! forge (errors, logs, git's stderr) before it is shown or stored.

use std::fmt;
use std::sync::{Arc, RwLock};

/// A credential. `Debug` and `Display` never show it; only [`Secret::expose`] does, at
/// the one place it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself, for an `Authorization` header or git's askpass.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Every credential this process has used (tokens rotate, so old ones are kept too),
/// shared by everything that turns outside text into messages.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    known: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    /// Remembers a credential to scrub. Very short values are ignored (they would
    /// scrub ordinary words, and no real token is that short).
    pub fn remember(&self, secret: &Secret) {
        let value = secret.expose();
        if value.len() < 8 {
            return;
        }
        let mut known = self.known.write().unwrap_or_else(|e| e.into_inner());
        if !known.iter().any(|k| k == value) {
            known.push(value.to_owned());
        }
    }

    /// `text` with every remembered credential replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let known = self.known.read().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_owned();
        for secret in known.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_formats_as_itself() {
        let secret = Secret::new("ghp_abcdefghijklmnop");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "ghp_abcdefghijklmnop");
    }

    #[test]
    fn the_redactor_scrubs_every_token_it_has_seen() {
        let redactor = Redactor::default();
        redactor.remember(&Secret::new("ghs_first_token_123"));
        redactor.remember(&Secret::new("ghs_second_token_456"));
        redactor.remember(&Secret::new("short"));
        let text =
            "push to https://x:ghs_first_token_123@github.com failed; ghs_second_token_456; short";
        assert_eq!(
            redactor.scrub(text),
            "push to https://x:***@github.com failed; ***; short"
        );
    }
}
