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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::forge::github::api::Api;
    use crate::forge::github::budget::Budget;
    use crate::forge::github::config::{AppConfig, Limits};
    use crate::forge::github::state::State;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/github-app")
            .join(name)
    }

    /// GitHub's recorded access-token answer, expiring `in_secs` from now.
    fn access_token(token: &str, in_secs: i64) -> serde_json::Value {
        let text = fs_err::read_to_string(fixture("access-token.json")).unwrap();
        let mut body: serde_json::Value = serde_json::from_str(&text).unwrap();
        let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(in_secs);
        body["token"] = token.into();
        body["expires_at"] = expires.to_string().into();
        body
    }

    fn app_config() -> AuthConfig {
        AuthConfig {
            token_env: "UNUSED".into(),
            app: Some(AppConfig {
                app_id: 123,
                installation_id: 42,
                private_key_env: "APP_KEY".into(),
            }),
        }
    }

    fn api(server: &MockServer, dir: &std::path::Path) -> Api {
        let key = fs_err::read_to_string(fixture("test-app-key.pem")).unwrap();
        let redactor = Redactor::default();
        let env = move |name: &str| (name == "APP_KEY").then(|| key.clone());
        let credentials = Credentials::from_config(&app_config(), &env, &redactor).unwrap();
        let state = Arc::new(State::open(&dir.join("github.sqlite")).unwrap());
        let limits = Limits {
            create_spacing_ms: 0,
            ..Limits::default()
        };
        let budget = Budget::new(limits, Arc::clone(&state));
        Api::new(&server.uri(), credentials, budget, state, redactor).unwrap()
    }

    #[test]
    fn an_app_trades_a_signed_jwt_for_an_installation_token_and_keeps_it_until_near_expiry() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let server = rt.block_on(MockServer::start());
        rt.block_on(
            Mock::given(method("POST"))
                .and(path("/app/installations/42/access_tokens"))
                .respond_with(
                    ResponseTemplate::new(201)
                        .set_body_json(access_token("ghs_installation_one", 3600)),
                )
                .expect(1)
                .mount(&server),
        );
        rt.block_on(
            Mock::given(method("GET"))
                .and(path("/user"))
                .and(header("authorization", "Bearer ghs_installation_one"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(serde_json::json!({"login": "cascade[bot]"})),
                )
                .expect(2)
                .mount(&server),
        );
        let dir = tempfile::tempdir().unwrap();
        let api = api(&server, dir.path());
        for _ in 0..2 {
            let reply = api.get("/user").unwrap();
            assert_eq!(reply.status, 200);
        }
        // The JWT is RS256-signed by the app's key, issued by the app id.
        let requests = rt.block_on(server.received_requests()).unwrap();
        let exchange = requests
            .iter()
            .find(|r| r.url.path().ends_with("/access_tokens"))
            .unwrap();
        let bearer = exchange.headers["authorization"].to_str().unwrap();
        let jwt = bearer.strip_prefix("Bearer ").unwrap();
        let public = fs_err::read(fixture("test-app-key.pub.pem")).unwrap();
        let mut validation =
            octocrab::jsonwebtoken::Validation::new(octocrab::jsonwebtoken::Algorithm::RS256);
        validation.set_required_spec_claims(&["exp", "iat"]);
        let decoded = octocrab::jsonwebtoken::decode::<serde_json::Value>(
            jwt,
            &octocrab::jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims["iss"], serde_json::json!(123));
        rt.block_on(server.verify());
    }

    #[test]
    fn a_token_about_to_expire_is_renewed_before_the_next_request() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let server = rt.block_on(MockServer::start());
        // The first token expires within the renewal margin; the second does not.
        rt.block_on(
            Mock::given(method("POST"))
                .and(path("/app/installations/42/access_tokens"))
                .respond_with(
                    ResponseTemplate::new(201).set_body_json(access_token(
                        "ghs_installation_old",
                        RENEW_BEFORE_SECS - 60,
                    )),
                )
                .up_to_n_times(1)
                .with_priority(1)
                .mount(&server),
        );
        rt.block_on(
            Mock::given(method("POST"))
                .and(path("/app/installations/42/access_tokens"))
                .respond_with(
                    ResponseTemplate::new(201)
                        .set_body_json(access_token("ghs_installation_new", 3600)),
                )
                .with_priority(2)
                .mount(&server),
        );
        rt.block_on(
            Mock::given(method("GET"))
                .and(path("/user"))
                .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
                .mount(&server),
        );
        let dir = tempfile::tempdir().unwrap();
        let api = api(&server, dir.path());
        for _ in 0..3 {
            api.get("/user").unwrap();
        }
        let requests = rt.block_on(server.received_requests()).unwrap();
        let used: Vec<&str> = requests
            .iter()
            .filter(|r| r.url.path() == "/user")
            .map(|r| r.headers["authorization"].to_str().unwrap())
            .collect();
        assert_eq!(
            used,
            [
                "Bearer ghs_installation_old",
                "Bearer ghs_installation_new",
                "Bearer ghs_installation_new"
            ]
        );
        let exchanges = requests
            .iter()
            .filter(|r| r.url.path().ends_with("/access_tokens"))
            .count();
        assert_eq!(exchanges, 2);
    }

    #[test]
    fn a_refused_app_is_an_auth_error_that_shows_neither_key_nor_token() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let server = rt.block_on(MockServer::start());
        rt.block_on(
            Mock::given(method("POST"))
                .and(path("/app/installations/42/access_tokens"))
                .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
                    "message": "A JSON web token could not be decoded",
                    "documentation_url": "https://docs.github.com/rest"
                })))
                .mount(&server),
        );
        let dir = tempfile::tempdir().unwrap();
        let api = api(&server, dir.path());
        let err = api.get("/user").unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, ForgeError::Auth(_)), "{text}");
        assert!(text.contains("could not be decoded"), "{text}");
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }

    #[test]
    fn missing_credentials_name_the_variable() {
        let redactor = Redactor::default();
        let err =
            Credentials::from_config(&AuthConfig::default(), &|_| None, &redactor).unwrap_err();
        assert_eq!(
            err.to_string(),
            "authentication failed: no GitHub token: the environment variable `CASCADE_GITHUB_TOKEN` is not set"
        );
        let err = Credentials::from_config(&app_config(), &|_| None, &redactor).unwrap_err();
        assert!(err.to_string().contains("`APP_KEY`"), "{err}");
    }
}
