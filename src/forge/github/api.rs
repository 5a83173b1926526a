//! Every request the GitHub forge makes goes through [`Api`]: octocrab's client with
//! cascade's rules around it.
//!
//! - **Conditional GETs.** A GET sends the stored `ETag`/`Last-Modified`; a 304 (which
//!   GitHub does not count against the limit) is answered from the cache.
//! - **The budget** ([`Budget`]): content-creating requests are admitted one at a time,
//!   spaced, within cascade's per-minute and per-hour limits; every response's
//!   `X-RateLimit-*` headers are taken in.
//! - **Retries.** 5xx and transport errors on reads back off exponentially with jitter;
//!   `Retry-After` and secondary-limit 403s are waited out when the wait is short, and
//!   turned into [`ForgeError::RateLimited`] (the run stops cleanly) when it is not.
//! - **No leaks.** The token lives in octocrab's sensitive header only; every message
//!   built from a response passes through the [`Redactor`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::runtime::Runtime;

use super::auth::Credentials;
use super::budget::{Budget, Resource, now_ms};
use super::secret::{Redactor, Secret};
use super::state::{Cached, State};
use crate::forge::ForgeError;

/// How many requests of each kind a forge made (for the budget tests and `--json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ApiStats {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Of those, answered 304 Not Modified (free).
    pub not_modified: u64,
    /// Content-creating requests (POST/PATCH/PUT/DELETE other than GraphQL queries).
    pub creates: u64,
    /// GraphQL requests.
    pub graphql: u64,
    /// Retries after a failure or a limit.
    pub retries: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    not_modified: AtomicU64,
    creates: AtomicU64,
    graphql: AtomicU64,
    retries: AtomicU64,
}

/// A response, read in full.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    /// The request, for messages (`GET /repos/o/r`).
    pub context: String,
    /// HTTP status (200 for an answer from the cache after a 304).
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
    /// Scrubs credentials from messages built out of the body (a server may echo them).
    redactor: Redactor,
}

impl Reply {
    /// A 2xx answer.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as `T`, or the error a non-2xx answer means.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ForgeError> {
        if !self.is_success() {
            return Err(self.error());
        }
        // serde's messages may quote the body, which may echo a credential.
        serde_json::from_slice(&self.body).map_err(|e| ForgeError::Api {
            context: self.context.clone(),
            status: Some(self.status),
            message: self.redactor.scrub(&format!("unexpected answer: {e}")),
        })
    }

    /// GitHub's `message` (and `errors[].message`) of a failed answer, with every
    /// credential scrubbed.
    pub fn message(&self) -> String {
        self.redactor.scrub(&self.raw_message())
    }

    fn raw_message(&self) -> String {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&self.body).ok();
        let Some(value) = parsed else {
            return String::from_utf8_lossy(&self.body)
                .chars()
                .take(300)
                .collect();
        };
        let mut message = value
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_owned();
        for detail in value
            .get("errors")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(text) = detail.get("message").and_then(|m| m.as_str()) {
                message.push_str(": ");
                message.push_str(text);
            }
        }
        message
    }

    /// The error a non-2xx answer means.
    pub fn error(&self) -> ForgeError {
        ForgeError::Api {
            context: self.context.clone(),
            status: Some(self.status),
            message: self.message(),
        }
    }
}

/// The request layer of one GitHub forge.
#[derive(Debug)]
pub(super) struct Api {
    runtime: Runtime,
    base: String,
    credentials: Credentials,
    client: Mutex<Option<(Secret, Octocrab)>>,
    budget: Budget,
    state: Arc<State>,
    redactor: Redactor,
    counters: Counters,
}

/// One attempt's outcome before the retry policy looks at it.
enum Sent {
    Reply(Reply),
    Transport(String),
}

impl Api {
    /// The request layer for `base` (the API root), with its own runtime.
    pub fn new(
        base: &str,
        credentials: Credentials,
        budget: Budget,
        state: Arc<State>,
        redactor: Redactor,
    ) -> Result<Api, ForgeError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("cascade-github")
            .build()
            .map_err(|e| ForgeError::Api {
                context: "starting the HTTP runtime".to_owned(),
                status: None,
                message: e.to_string(),
            })?;
        Ok(Api {
            runtime,
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            client: Mutex::new(None),
            budget,
            state,
            redactor,
            counters: Counters::default(),
        })
    }

    /// Counts so far.
    pub fn stats(&self) -> ApiStats {
        let c = &self.counters;
        ApiStats {
            requests: c.requests.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
            creates: c.creates.load(Ordering::Relaxed),
            graphql: c.graphql.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
        }
    }

    /// The redactor every outside message passes through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// `err` with its message passed through the redactor (for errors built from
    /// answers outside [`Reply`], such as GraphQL data).
    pub fn scrub_error(&self, err: ForgeError) -> ForgeError {
        match err {
            ForgeError::Api {
                context,
                status,
                message,
            } => ForgeError::Api {
                context,
                status,
                message: self.redactor.scrub(&message),
            },
            other => other,
        }
    }

    /// The token in force now (for git's askpass), renewed if it is about to expire.
    pub fn token(&self) -> Result<Secret, ForgeError> {
        self.credentials
            .token(&self.base, &self.runtime, now_ms() / 1000)
    }

    /// A conditional GET of `path` (`/repos/...`, query included): a 304 is answered
    /// from the cache.
    pub fn get(&self, path: &str) -> Result<Reply, ForgeError> {
        self.request(Method::GET, path, None, true)
    }

    /// A GET of a content-addressed resource (a git blob or tree by SHA): its answer
    /// never changes, so it is neither conditional nor kept in the cache.
    pub fn get_immutable(&self, path: &str) -> Result<Reply, ForgeError> {
        self.request(Method::GET, path, None, false)
    }

    /// Every page of a list (`Link: rel="next"`), each page a conditional GET.
    pub fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ForgeError> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(page) = next.take() {
            let reply = self.get(&page)?;
            let mut batch: Vec<T> = reply.json()?;
            items.append(&mut batch);
            next = next_link(&reply.headers).map(|url| self.relative(&url));
        }
        Ok(items)
    }

    /// A content-creating request (POST, PATCH, PUT, DELETE) through the budget.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, ForgeError> {
        let reply = self.request(method, path, body, false)?;
        Ok(reply)
    }

    /// Forgets the cached answer for `path` (cascade just changed that resource).
    pub fn invalidate(&self, path: &str) -> Result<(), ForgeError> {
        self.state.forget(path)
    }

    /// A GraphQL query; returns `data`. Errors in the answer become [`ForgeError::Api`],
    /// or [`ForgeError::RateLimited`] for GitHub's `RATE_LIMITED`.
    pub fn graphql(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value, ForgeError> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let reply = self.request(Method::POST, "/graphql", Some(&body), false)?;
        let value: serde_json::Value = reply.json()?;
        if let Some(errors) = value.get("errors").and_then(|e| e.as_array())
            && !errors.is_empty()
        {
            let limited = errors
                .iter()
                .any(|e| e.get("type").and_then(|t| t.as_str()) == Some("RATE_LIMITED"));
            let message = errors
                .iter()
                .filter_map(|e| e.get("message").and_then(|m| m.as_str()))
                .collect::<Vec<_>>()
                .join("; ");
            if limited {
                return Err(ForgeError::RateLimited {
                    message: format!("GitHub's GraphQL limit: {message}"),
                    resets_at: self.budget.reported(Resource::Graphql).map(|r| r.reset),
                });
            }
            if value.get("data").is_none_or(|d| d.is_null()) {
                return Err(ForgeError::Api {
                    context: "POST /graphql".to_owned(),
                    status: Some(reply.status),
                    message: self.redactor.scrub(&message),
                });
            }
            tracing::warn!(%message, "GraphQL answered with partial errors");
        }
        Ok(value
            .get("data")
            .cloned()
            .unwrap_or(serde_json::Value::Null))
    }

    /// `path` relative to the API root, for a URL GitHub handed back (pagination).
    fn relative(&self, url: &str) -> String {
        url.strip_prefix(&self.base)
            .map(str::to_owned)
            .or_else(|| {
                // `Link` may say `localhost` where the base says `127.0.0.1`: keep the path.
                url.split_once("://")
                    .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
            })
            .unwrap_or_else(|| url.to_owned())
    }

    fn client(&self) -> Result<Octocrab, ForgeError> {
        let token = self.token()?;
        let mut slot = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((current, client)) = slot.as_ref()
            && *current == token
        {
            return Ok(client.clone());
        }
        // octocrab's middleware spawns onto the runtime it is built in.
        let _entered = self.runtime.enter();
        let client = Octocrab::builder()
            .base_uri(self.base.as_str())
            .map_err(|e| ForgeError::Api {
                context: format!("the API root `{}`", self.base),
                status: None,
                message: e.to_string(),
            })?
            .personal_token(token.expose().to_owned())
            .set_connect_timeout(Some(Duration::from_secs(20)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .build()
            .map_err(|e| ForgeError::Api {
                context: "building the GitHub client".to_owned(),
                status: None,
                message: self.redactor.scrub(&e.to_string()),
            })?;
        *slot = Some((token, client.clone()));
        Ok(client)
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        conditional: bool,
    ) -> Result<Reply, ForgeError> {
        let context = format!("{method} {path}");
        let is_graphql = path == "/graphql";
        let creates = method != Method::GET && !is_graphql;
        let resource = if is_graphql {
            Resource::Graphql
        } else {
            Resource::Core
        };
        let cached = if conditional {
            self.state.cached(path)?
        } else {
            None
        };
        let limits = self.budget.limits().clone();
        let mut attempt = 0u32;
        loop {
            self.budget.admit(resource)?;
            if creates {
                self.budget.admit_create()?;
                self.counters.creates.fetch_add(1, Ordering::Relaxed);
            }
            if is_graphql {
                self.counters.graphql.fetch_add(1, Ordering::Relaxed);
            }
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let client = self.client()?;
            let sent = self.runtime.block_on(send_once(
                &client,
                method.clone(),
                path,
                body,
                cached.as_ref(),
            ));
            let reply = match sent {
                Sent::Transport(message) => {
                    // A create may have reached GitHub before the connection broke:
                    // never repeat it blindly (the run finds the PR by its head next time).
                    if creates || attempt >= limits.retries {
                        return Err(ForgeError::Api {
                            context,
                            status: None,
                            message: self.redactor.scrub(&message),
                        });
                    }
                    self.pause(&context, transient_backoff(attempt), &limits)?;
                    attempt += 1;
                    continue;
                }
                Sent::Reply(reply) => reply,
            };
            self.budget.observe(&reply.headers);
            let reply = Reply {
                context: context.clone(),
                redactor: self.redactor.clone(),
                ..reply
            };
            match classify(&reply) {
                Verdict::Done => return self.finish(path, reply, cached.as_ref(), conditional),
                Verdict::Unauthorized => {
                    return Err(ForgeError::Auth(format!(
                        "{context}: GitHub refused the credentials (HTTP {}: {})",
                        reply.status,
                        self.redactor.scrub(&reply.message())
                    )));
                }
                Verdict::Transient if !creates && attempt < limits.retries => {
                    self.pause(&context, transient_backoff(attempt), &limits)?;
                }
                Verdict::Transient => {
                    return Err(ForgeError::Api {
                        context,
                        status: Some(reply.status),
                        message: self.redactor.scrub(&reply.message()),
                    });
                }
                Verdict::Wait { seconds, until } => {
                    let wait = Duration::from_secs(seconds);
                    if attempt >= limits.retries || seconds > limits.max_wait_secs {
                        return Err(ForgeError::RateLimited {
                            message: format!(
                                "{context}: {}",
                                self.redactor.scrub(&reply.message())
                            ),
                            resets_at: Some(until),
                        });
                    }
                    self.pause(&context, wait + jitter(), &limits)?;
                }
                Verdict::Secondary => {
                    let seconds = limits
                        .secondary_backoff_secs
                        .saturating_mul(1 << attempt.min(10));
                    if attempt >= limits.retries || seconds > limits.max_wait_secs {
                        return Err(ForgeError::RateLimited {
                            message: format!(
                                "{context}: {}",
                                self.redactor.scrub(&reply.message())
                            ),
                            resets_at: Some(now_ms() / 1000 + i64::try_from(seconds).unwrap_or(0)),
                        });
                    }
                    self.pause(&context, Duration::from_secs(seconds) + jitter(), &limits)?;
                }
            }
            attempt += 1;
        }
    }

    /// Sleeps before a retry.
    fn pause(
        &self,
        context: &str,
        wait: Duration,
        limits: &super::config::Limits,
    ) -> Result<(), ForgeError> {
        let cap = Duration::from_secs(limits.max_wait_secs) + Duration::from_secs(1);
        let wait = wait.min(cap);
        self.counters.retries.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            request = context,
            wait_ms = wait.as_millis() as u64,
            "retrying after a pause"
        );
        std::thread::sleep(wait);
        Ok(())
    }

    /// A final answer: a 304 comes from the cache, a 200 with a validator goes into it.
    fn finish(
        &self,
        path: &str,
        reply: Reply,
        cached: Option<&Cached>,
        conditional: bool,
    ) -> Result<Reply, ForgeError> {
        if reply.status == 304 {
            self.counters.not_modified.fetch_add(1, Ordering::Relaxed);
            let Some(cached) = cached else {
                return Err(ForgeError::Api {
                    context: reply.context,
                    status: Some(304),
                    message: "304 Not Modified for a request that sent no validator".to_owned(),
                });
            };
            return Ok(Reply {
                status: 200,
                body: cached.body.clone(),
                ..reply
            });
        }
        if conditional && reply.context.starts_with("GET ") && reply.status == 200 {
            let header = |name: &str| {
                reply
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let etag = header("etag");
            let last_modified = header("last-modified");
            if etag.is_some() || last_modified.is_some() {
                self.state.store(
                    path,
                    &Cached {
                        etag,
                        last_modified,
                        body: reply.body.clone(),
                    },
                    now_ms() / 1000,
                )?;
            }
        }
        Ok(reply)
    }
}

/// What the retry policy makes of an answer.
enum Verdict {
    /// Hand it to the caller (2xx, 304, 404, 422, ...).
    Done,
    /// 401, or 403 "Bad credentials".
    Unauthorized,
    /// 5xx: worth another try for reads.
    Transient,
    /// A limit that says when it ends (`Retry-After`, or the primary limit's reset).
    Wait {
        /// Seconds to wait.
        seconds: u64,
        /// Unix seconds it ends.
        until: i64,
    },
    /// A secondary limit without `Retry-After`: back off.
    Secondary,
}

fn classify(reply: &Reply) -> Verdict {
    let header = |name: &str| reply.headers.get(name).and_then(|v| v.to_str().ok());
    let now = now_ms() / 1000;
    match reply.status {
        401 => Verdict::Unauthorized,
        403 | 429 => {
            if let Some(seconds) = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok())
            {
                return Verdict::Wait {
                    seconds,
                    until: now + i64::try_from(seconds).unwrap_or(0),
                };
            }
            if header("x-ratelimit-remaining") == Some("0") {
                let reset = header("x-ratelimit-reset")
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(now + 3600);
                return Verdict::Wait {
                    seconds: u64::try_from(reset - now).unwrap_or(0),
                    until: reset,
                };
            }
            let message = reply.message().to_ascii_lowercase();
            if message.contains("secondary rate limit") || message.contains("abuse") {
                return Verdict::Secondary;
            }
            if message.contains("bad credentials") {
                return Verdict::Unauthorized;
            }
            Verdict::Done
        }
        500..=599 => Verdict::Transient,
        _ => Verdict::Done,
    }
}

fn transient_backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6))) + jitter()
}

fn jitter() -> Duration {
    Duration::from_millis(rand::rng().random_range(0..250))
}

/// Percent-encodes everything but RFC 3986's unreserved characters: a path segment or a
/// query value.
pub(super) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// [`encode`], keeping `/` as the separator it is in a ref path (`heads/feature/x`).
pub(super) fn encode_path(text: &str) -> String {
    text.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

async fn send_once(
    client: &Octocrab,
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
    cached: Option<&Cached>,
) -> Sent {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::ACCEPT, "application/vnd.github+json");
    if let Some(cached) = cached {
        if let Some(etag) = cached
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            builder = builder.header(http::header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = cached
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            builder = builder.header(http::header::IF_MODIFIED_SINCE, modified);
        }
    }
    let request = match client.build_request(builder, body) {
        Ok(request) => request,
        Err(e) => return Sent::Transport(e.to_string()),
    };
    let response = match client.execute(request).await {
        Ok(response) => response,
        Err(e) => return Sent::Transport(e.to_string()),
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    match response.into_body().collect().await {
        Ok(collected) => Sent::Reply(Reply {
            context: String::new(),
            status,
            headers,
            body: collected.to_bytes().to_vec(),
            redactor: Redactor::default(),
        }),
        Err(e) => Sent::Transport(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_query_values_and_branch_names_are_percent_encoded() {
        assert_eq!(encode("zlib-feedstock"), "zlib-feedstock");
        assert_eq!(encode("bot:a b&c"), "bot%3Aa%20b%26c");
        assert_eq!(encode("ä"), "%C3%A4");
        assert_eq!(encode_path("rebuild_h1a2b3"), "rebuild_h1a2b3");
        assert_eq!(encode_path("arch/aarch64+x"), "arch/aarch64%2Bx");
        assert_eq!(encode_path("a b#c?d"), "a%20b%23c%3Fd");
    }

    #[test]
    fn the_next_link_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            HeaderValue::from_static(
                "<https://api.github.com/orgs/x/repos?page=3>; rel=\"next\", <https://api.github.com/orgs/x/repos?page=9>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/orgs/x/repos?page=3")
        );
        headers.insert(
            "link",
            HeaderValue::from_static("<https://a/b?page=1>; rel=\"prev\""),
        );
        assert_eq!(next_link(&headers), None);
    }

    fn reply(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> Reply {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_static(v));
        }
        Reply {
            context: "GET /x".into(),
            status,
            headers: map,
            body: body.as_bytes().to_vec(),
            redactor: Redactor::default(),
        }
    }

    #[test]
    fn limits_and_failures_are_classified_as_github_documents_them() {
        assert!(matches!(classify(&reply(200, &[], "{}")), Verdict::Done));
        assert!(matches!(classify(&reply(404, &[], "{}")), Verdict::Done));
        assert!(matches!(
            classify(&reply(401, &[], "{}")),
            Verdict::Unauthorized
        ));
        assert!(matches!(classify(&reply(502, &[], "")), Verdict::Transient));
        assert!(matches!(
            classify(&reply(403, &[("retry-after", "60")], "{}")),
            Verdict::Wait { seconds: 60, .. }
        ));
        assert!(matches!(
            classify(&reply(
                403,
                &[],
                r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#
            )),
            Verdict::Secondary
        ));
        assert!(matches!(
            classify(&reply(
                403,
                &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1")],
                "{}"
            )),
            Verdict::Wait {
                seconds: 0,
                until: 1
            }
        ));
        assert!(matches!(
            classify(&reply(
                403,
                &[],
                r#"{"message":"Resource not accessible by integration"}"#
            )),
            Verdict::Done
        ));
    }

    #[test]
    fn a_body_echoing_the_token_never_reaches_a_message() {
        let redactor = Redactor::default();
        redactor.remember(&Secret::new("ghp_echoed_token_1234"));
        let echoed = Reply {
            redactor,
            ..reply(
                500,
                &[],
                r#"{"message":"upstream said: Authorization: Bearer ghp_echoed_token_1234"}"#,
            )
        };
        assert_eq!(echoed.message(), "upstream said: Authorization: Bearer ***");
        let err = echoed.json::<serde_json::Value>().unwrap_err();
        assert!(!format!("{err} {err:?}").contains("ghp_echoed"));
    }

    #[test]
    fn messages_join_github_errors() {
        let r = reply(
            422,
            &[],
            r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for bot:branch."}]}"#,
        );
        assert_eq!(
            r.message(),
            "Validation Failed: A pull request already exists for bot:branch."
        );
        assert!(matches!(
            r.json::<serde_json::Value>(),
            Err(ForgeError::Api {
                status: Some(422),
                ..
            })
        ));
    }
}
