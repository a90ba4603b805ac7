//! The HTTP client of the API that `spingraph import` (and `export`) drive: the base URL, the
//! credential (from the environment or a file, never argv) and requests retried with backoff
//! after a network error, a 5xx or a 429 (honouring `Retry-After`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

/// The API's address when neither `--url` nor `SPINGRAPH_URL` names one (`spingraph up`'s).
pub const DEFAULT_URL: &str = "http://127.0.0.1:3000";
/// Environment variables a credential may come from (bearer access token, API key).
pub const TOKEN_ENV: &str = "SPINGRAPH_TOKEN";
pub const API_KEY_ENV: &str = "SPINGRAPH_API_KEY";

/// Longest wait between two tries, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// A batch of 1000 items on a busy server takes seconds, not minutes.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the API is and how to reach it; the secret itself is never a flag.
#[derive(clap::Args, Debug, Clone)]
pub struct ApiArgs {
    /// Base URL of the spingraph API.
    #[arg(long, env = "SPINGRAPH_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// A file holding the credential: an access token, an API key (`sgk_...`), or the JSON
    /// answer of `POST /v1/auth/token`. Without it the credential comes from SPINGRAPH_TOKEN
    /// (bearer access token) or SPINGRAPH_API_KEY.
    #[arg(long, value_name = "PATH")]
    pub credentials_file: Option<PathBuf>,
    /// How many times one request is tried again after a network error, a 5xx or a 429.
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub retries: u32,
}

/// What the client authenticates with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// An access token: `Authorization: Bearer ...`.
    Bearer(String),
    /// An API key: `Authorization: ApiKey ...`.
    ApiKey(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::Bearer(_) => "Bearer(..)",
            Credential::ApiKey(_) => "ApiKey(..)",
        })
    }
}

impl Credential {
    /// The credential of `--credentials-file`, else of the environment (`lookup` reads it).
    pub fn resolve(
        file: Option<&Path>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Credential> {
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the credentials file {}", path.display()))?;
            warn_if_readable_by_others(path);
            return Credential::parse(&text)
                .with_context(|| format!("the credentials file {}", path.display()));
        }
        let token = lookup(TOKEN_ENV).filter(|v| !v.trim().is_empty());
        let key = lookup(API_KEY_ENV).filter(|v| !v.trim().is_empty());
        match (token, key) {
            (Some(_), Some(_)) => {
                bail!("both {TOKEN_ENV} and {API_KEY_ENV} are set: unset the one not meant")
            }
            (Some(token), None) => Ok(Credential::Bearer(token.trim().to_string())),
            (None, Some(key)) => Ok(Credential::ApiKey(key.trim().to_string())),
            (None, None) => bail!(
                "no credentials: set {TOKEN_ENV} (an access token) or {API_KEY_ENV}, or pass \
                 --credentials-file PATH"
            ),
        }
    }

    /// A credentials file's text: an API key (`sgk_...`, optionally after `ApiKey `), a token
    /// (optionally after `Bearer `), or a JSON object with `access_token` (the answer of
    /// `POST /v1/auth/token`) or `key` (the answer of `POST /v1/auth/api-keys`).
    pub fn parse(text: &str) -> anyhow::Result<Credential> {
        let text = text.trim();
        if text.starts_with('{') {
            let doc: Value = serde_json::from_str(text).context("not valid JSON")?;
            if let Some(token) = doc["access_token"].as_str() {
                return Ok(Credential::Bearer(token.to_string()));
            }
            if let Some(key) = doc["key"].as_str() {
                return Ok(Credential::ApiKey(key.to_string()));
            }
            bail!("a JSON credentials file needs `access_token` or `key`");
        }
        if text.is_empty() {
            bail!("it is empty");
        }
        if text.contains(char::is_whitespace) {
            if let Some(key) = text.strip_prefix("ApiKey ") {
                return Ok(Credential::ApiKey(key.trim().to_string()));
            }
            if let Some(token) = text.strip_prefix("Bearer ") {
                return Ok(Credential::Bearer(token.trim().to_string()));
            }
            bail!("it holds more than one word (expected a token or an API key)");
        }
        if text.starts_with("sgk_") {
            Ok(Credential::ApiKey(text.to_string()))
        } else {
            Ok(Credential::Bearer(text.to_string()))
        }
    }

    fn authorization(&self) -> String {
        match self {
            Credential::Bearer(token) => format!("Bearer {token}"),
            Credential::ApiKey(key) => format!("ApiKey {key}"),
        }
    }
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "warning: {} is readable by other users (chmod 600 it)",
            path.display()
        );
    }
}

/// A request the server refused, or one that never got an answer.
#[derive(Debug)]
pub enum RequestError {
    /// A final answer of 400 or more (after the retries, for a 5xx or 429): its status and
    /// body (problem+json when the server wrote it).
    Refused { status: u16, body: Value },
    /// No answer after every try.
    Unreachable(anyhow::Error),
    /// Stopped (Ctrl-C) while waiting to try again.
    Cancelled,
}

impl RequestError {
    /// One line for the user: status, title and detail of a refusal.
    pub fn describe(&self) -> String {
        match self {
            RequestError::Refused { status, body } => {
                let detail = body["detail"]
                    .as_str()
                    .or_else(|| body["title"].as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| body.to_string());
                format!("the server answered {status}: {detail}")
            }
            RequestError::Unreachable(err) => format!("no answer from the server: {err:#}"),
            RequestError::Cancelled => "cancelled".to_string(),
        }
    }
}

/// A successful answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// `Idempotent-Replayed: true`: the server answered a retry from its store.
    pub replayed: bool,
}

/// The API client: one connection pool, one credential, one retry policy.
pub struct ApiClient {
    base: String,
    credential: Credential,
    http: Client,
    retries: u32,
    cancel: Option<Arc<AtomicBool>>,
    notice: Box<dyn Fn(&str) + Send + Sync>,
}

impl ApiClient {
    /// The client `args` describe, its credential read from the file or the environment.
    pub fn from_args(args: &ApiArgs) -> anyhow::Result<ApiClient> {
        let credential =
            Credential::resolve(args.credentials_file.as_deref(), |n| std::env::var(n).ok())?;
        ApiClient::new(&args.url, credential, args.retries)
    }

    pub fn new(url: &str, credential: Credential, retries: u32) -> anyhow::Result<ApiClient> {
        let base = url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base).with_context(|| format!("--url {url:?}"))?;
        match parsed.scheme() {
            "https" => {}
            "http" => {
                let local = matches!(
                    parsed.host_str(),
                    Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
                );
                if !local {
                    eprintln!(
                        "warning: {base} is plain http: the credential crosses the network \
                         unencrypted (use https)"
                    );
                }
            }
            other => bail!("--url {url:?}: the scheme must be http or https, not {other}"),
        }
        let http = Client::builder()
            .user_agent(concat!("spingraph/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("building the HTTP client")?;
        Ok(ApiClient {
            base,
            credential,
            http,
            retries,
            cancel: None,
            notice: Box::new(|line| eprintln!("{line}")),
        })
    }

    /// Stop waiting between tries once `flag` is set.
    pub fn cancel_on(mut self, flag: Arc<AtomicBool>) -> ApiClient {
        self.cancel = Some(flag);
        self
    }

    /// Where the client reports a retry (default: a stderr line).
    pub fn notices(mut self, notice: impl Fn(&str) + Send + Sync + 'static) -> ApiClient {
        self.notice = Box::new(notice);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `base + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST path` with the JSON `body` and an `Idempotency-Key`, tried again (same key, same
    /// body) until it is answered; the answer of a 2xx read whole.
    pub fn post_json(
        &self,
        path: &str,
        body: &[u8],
        idempotency_key: &str,
    ) -> Result<Answer, RequestError> {
        let url = self.url(path);
        let resp = self.send_with_retry(|http| {
            http.post(&url)
                .header("content-type", "application/json")
                .header("idempotency-key", idempotency_key)
                .body(body.to_vec())
        })?;
        let status = resp.status().as_u16();
        let replayed = resp
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        let mut bytes = Vec::new();
        let mut resp = resp;
        resp.read_to_end(&mut bytes)
            .map_err(|e| RequestError::Unreachable(anyhow::anyhow!("reading the answer: {e}")))?;
        Ok(Answer {
            status,
            body: bytes,
            replayed,
        })
    }

    /// Send the request `build` makes (with the credential added), trying again after a
    /// network error, a 5xx or a 429 (after `Retry-After` when given, else with exponential
    /// backoff), at most `retries` more times. Only for requests that are safe to repeat: reads,
    /// and writes with an `Idempotency-Key`. A 2xx/3xx comes back unread (a stream for export).
    pub fn send_with_retry(
        &self,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, RequestError> {
        let mut attempt = 0;
        loop {
            let sent = build(&self.http)
                .header("authorization", self.credential.authorization())
                .send();
            let (wait, why) = match sent {
                Ok(resp) if resp.status().as_u16() < 400 => return Ok(resp),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retryable = status == 429 || status == 408 || status >= 500;
                    if !retryable || attempt >= self.retries {
                        let text = resp.text().unwrap_or_default();
                        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                        return Err(RequestError::Refused { status, body });
                    }
                    let wait = retry_after(&resp).unwrap_or_else(|| backoff(attempt));
                    (wait, format!("the server answered {status}"))
                }
                Err(err) => {
                    if attempt >= self.retries {
                        return Err(RequestError::Unreachable(
                            anyhow::Error::new(err).context(format!("after {} tries", attempt + 1)),
                        ));
                    }
                    (backoff(attempt), without_url(&err))
                }
            };
            attempt += 1;
            (self.notice)(&format!(
                "retrying in {:.1}s ({why}; try {} of {})",
                wait.as_secs_f64(),
                attempt + 1,
                self.retries + 1
            ));
            self.sleep(wait)?;
        }
    }

    fn sleep(&self, wait: Duration) -> Result<(), RequestError> {
        let until = Instant::now() + wait;
        while Instant::now() < until {
            if self
                .cancel
                .as_ref()
                .is_some_and(|flag| flag.load(Ordering::SeqCst))
            {
                return Err(RequestError::Cancelled);
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(100)));
        }
        Ok(())
    }
}

/// A network error's text (reqwest's own names the URL, which the user knows).
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(&format!(" ({url})"), "");
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After` in seconds (the form the API writes), at most [`MAX_WAIT`].
fn retry_after(resp: &Response) -> Option<Duration> {
    let secs: u64 = resp
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(MAX_WAIT))
}

/// 0.5 s, 1 s, 2 s, ... capped at 30 s, each ±25% so that clients retrying together spread out.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(500)
        .saturating_mul(1u32 << attempt.min(6))
        .min(Duration::from_secs(30));
    let jitter = (uuid::Uuid::new_v4().as_u128() % 501) as f64 / 1000.0; // 0.0..=0.5
    base.mul_f64(0.75 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::Mutex;

    #[test]
    fn a_credentials_file_holds_a_token_a_key_or_the_json_of_a_login() {
        assert_eq!(
            Credential::parse("eyJhbGciOi.x.y\n").unwrap(),
            Credential::Bearer("eyJhbGciOi.x.y".into())
        );
        assert_eq!(
            Credential::parse("sgk_0123abcd_secret").unwrap(),
            Credential::ApiKey("sgk_0123abcd_secret".into())
        );
        assert_eq!(
            Credential::parse("ApiKey sgk_1_2").unwrap(),
            Credential::ApiKey("sgk_1_2".into())
        );
        assert_eq!(
            Credential::parse(r#"{"access_token":"t.o.k","token_type":"bearer"}"#).unwrap(),
            Credential::Bearer("t.o.k".into())
        );
        assert_eq!(
            Credential::parse(r#"{"id":"x","key":"sgk_a_b"}"#).unwrap(),
            Credential::ApiKey("sgk_a_b".into())
        );
        assert!(Credential::parse("  \n").is_err());
        assert!(Credential::parse("two words").is_err());
    }

    #[test]
    fn the_environment_gives_a_token_or_a_key_but_not_both() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            Credential::resolve(None, env(&[(TOKEN_ENV, "tok")])).unwrap(),
            Credential::Bearer("tok".into())
        );
        assert_eq!(
            Credential::resolve(None, env(&[(API_KEY_ENV, "sgk_k")])).unwrap(),
            Credential::ApiKey("sgk_k".into())
        );
        let both = Credential::resolve(None, env(&[(TOKEN_ENV, "t"), (API_KEY_ENV, "k")]));
        assert!(both.unwrap_err().to_string().contains("both"));
        let none = Credential::resolve(None, env(&[]));
        assert!(none.unwrap_err().to_string().contains("--credentials-file"));
    }

    #[test]
    fn a_credential_never_shows_in_debug_output() {
        let shown = format!("{:?}", Credential::Bearer("very-secret".into()));
        assert!(!shown.contains("very-secret"), "{shown}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) <= Duration::from_millis(625));
        assert!(backoff(3) >= Duration::from_secs(3));
        assert!(backoff(30) <= Duration::from_millis(37_500));
    }

    /// A server answering each connection with the next of `answers` (status, extra header
    /// lines), recording each request's head.
    fn scripted_server(answers: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (status, extra) in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                log.lock().unwrap().push(head);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{extra}\
                     content-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
                stream.write_all(reply.as_bytes()).unwrap();
            }
        });
        (url, seen)
    }

    #[test]
    fn a_503_and_a_429_are_tried_again_with_the_same_idempotency_key() {
        let (url, seen) = scripted_server(vec![
            (503, ""),
            (429, "retry-after: 0\r\n"),
            (201, "idempotent-replayed: true\r\n"),
        ]);
        let client = ApiClient::new(&url, Credential::ApiKey("sgk_t".into()), 3)
            .unwrap()
            .notices(|_| {});
        let answer = client.post_json("/v1/x", b"{}", "key-1").unwrap();
        assert_eq!(answer.status, 201);
        assert!(answer.replayed);
        let heads = seen.lock().unwrap().clone();
        assert_eq!(heads.len(), 3);
        for head in heads {
            let head = head.to_ascii_lowercase();
            assert!(head.contains("idempotency-key: key-1"), "{head}");
            assert!(head.contains("authorization: apikey sgk_t"), "{head}");
        }
    }

    #[test]
    fn a_4xx_is_not_tried_again_and_retries_are_bounded() {
        let (url, seen) = scripted_server(vec![(422, "")]);
        let client = ApiClient::new(&url, Credential::Bearer("t".into()), 3).unwrap();
        match client.post_json("/v1/x", b"{}", "k") {
            Err(RequestError::Refused { status: 422, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(seen.lock().unwrap().len(), 1);

        let (url, seen) = scripted_server(vec![(503, "retry-after: 0\r\n"); 2]);
        let client = ApiClient::new(&url, Credential::Bearer("t".into()), 1)
            .unwrap()
            .notices(|_| {});
        match client.post_json("/v1/x", b"{}", "k") {
            Err(RequestError::Refused { status: 503, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(seen.lock().unwrap().len(), 2);
    }
}
