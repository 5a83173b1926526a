//! Who cascade is on GitHub: a personal access token from the environment, or a GitHub
//! App installation whose short-lived token is renewed before it expires.

use std::sync::Mutex;

use octocrab::Octocrab;
use octocrab::models::AppId;
use serde::Deserialize;
use tokio::runtime::Runtime;

use super::config::AuthConfig;
use super::secret::{Redactor, Secret};
use crate::forge::ForgeError;

/// An installation token is renewed when it has less than this left (seconds).
pub(super) const RENEW_BEFORE_SECS: i64 = 300;

/// The credentials of one forge.
#[derive(Debug)]
pub(super) struct Credentials {
    kind: Kind,
    redactor: Redactor,
}

#[derive(Debug)]
enum Kind {
    Token(Secret),
    App {
        app_id: u64,
        installation_id: u64,
        key_pem: Secret,
        current: Mutex<Option<Installation>>,
    },
}

#[derive(Debug, Clone)]
struct Installation {
    token: Secret,
    expires_at: i64,
}

#[derive(Deserialize)]
struct AccessToken {
    token: String,
    expires_at: String,
}

impl Credentials {
    /// Reads the credentials `auth` names from the environment (`env` looks a variable
    /// up). Every secret read is remembered by `redactor`.
    pub fn from_config(
        auth: &AuthConfig,
        env: &dyn Fn(&str) -> Option<String>,
        redactor: &Redactor,
    ) -> Result<Credentials, ForgeError> {
        let read = |name: &str, what: &str| {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| Secret::new(v.trim()))
                .ok_or_else(|| {
                    ForgeError::Auth(format!(
                        "{what}: the environment variable `{name}` is not set"
                    ))
                })
        };
        let kind = match &auth.app {
            None => {
                let token = read(&auth.token_env, "no GitHub token")?;
                redactor.remember(&token);
                Kind::Token(token)
            }
            Some(app) => {
                let key_pem = read(&app.private_key_env, "no GitHub App private key")?;
                redactor.remember(&key_pem);
                Kind::App {
                    app_id: app.app_id,
                    installation_id: app.installation_id,
                    key_pem,
                    current: Mutex::new(None),
                }
            }
        };
        Ok(Credentials {
            kind,
            redactor: redactor.clone(),
        })
    }

    /// The token to send now. An App's installation token is fetched on first use and
    /// renewed when it expires within [`RENEW_BEFORE_SECS`].
    pub fn token(&self, api_url: &str, runtime: &Runtime, now: i64) -> Result<Secret, ForgeError> {
        match &self.kind {
            Kind::Token(token) => Ok(token.clone()),
            Kind::App {
                app_id,
                installation_id,
                key_pem,
                current,
            } => {
                let mut current = current.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(installation) = current.as_ref()
                    && installation.expires_at - now > RENEW_BEFORE_SECS
                {
                    return Ok(installation.token.clone());
                }
                let fresh = runtime.block_on(self.installation_token(
                    api_url,
                    *app_id,
                    *installation_id,
                    key_pem,
                ))?;
                self.redactor.remember(&fresh.token);
                tracing::info!(
                    installation = installation_id,
                    expires_at = fresh.expires_at,
                    "GitHub App installation token renewed"
                );
                let token = fresh.token.clone();
                *current = Some(fresh);
                Ok(token)
            }
        }
    }

    async fn installation_token(
        &self,
        api_url: &str,
        app_id: u64,
        installation_id: u64,
        key_pem: &Secret,
    ) -> Result<Installation, ForgeError> {
        let key =
            octocrab::EncodingKey::from_rsa_pem(key_pem.expose().as_bytes()).map_err(|e| {
                ForgeError::Auth(format!(
                    "the GitHub App private key is not a valid RSA PEM key: {e}"
                ))
            })?;
        let context = format!("POST /app/installations/{installation_id}/access_tokens");
        let api_error = |message: String| ForgeError::Api {
            context: context.clone(),
            status: None,
            message: self.redactor.scrub(&message),
        };
        let client = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| api_error(e.to_string()))?
            .app(AppId(app_id), key)
            .build()
            .map_err(|e| api_error(e.to_string()))?;
        let response = client
            ._post(
                format!("/app/installations/{installation_id}/access_tokens"),
                None::<&()>,
            )
            .await
            .map_err(|e| api_error(e.to_string()))?;
        let status = response.status().as_u16();
        let body = client
            .body_to_string(response)
            .await
            .map_err(|e| api_error(e.to_string()))?;
        if status == 401 || status == 403 || status == 404 {
            return Err(ForgeError::Auth(format!(
                "{context} answered HTTP {status}: {}",
                self.redactor.scrub(&body)
            )));
        }
        if !(200..300).contains(&status) {
            return Err(ForgeError::Api {
                context,
                status: Some(status),
                message: self.redactor.scrub(&body),
            });
        }
        let parsed: AccessToken = serde_json::from_str(&body)
            .map_err(|e| api_error(format!("unexpected answer: {e}")))?;
        let expires_at = parsed
            .expires_at
            .parse::<jiff::Timestamp>()
            .map_err(|e| api_error(format!("unreadable `expires_at`: {e}")))?
            .as_second();
        Ok(Installation {
            token: Secret::new(parsed.token),
            expires_at,
        })
    }
}
