//! [`RawRequest`]: one HTTP request with exactly the headers and body a test
//! chooses, for what a well-behaved client never sends (a missing `Accept`,
//! a wrong protocol version, a malformed body, another user's session).

use super::client::{challenge_params, sse_data};
use super::{ClientError, TestClient};
use serde_json::Value;

// Here rather than in `client.rs`, so the client does not depend on the
// raw requests that depend on it.
impl TestClient {
    /// An HTTP `method` request (`"POST"`, `"GET"`, `"DELETE"`, ...) to the
    /// endpoint with exactly the headers and body the test gives it, and this
    /// client's token: for refusals a well-behaved client never provokes.
    /// See [`RawRequest`].
    pub fn raw(&self, method: &str) -> RawRequest {
        RawRequest::new(self.http.clone(), method, &self.url, self.token.as_deref())
    }
}

/// An HTTP request to a server under test, made with
/// [`TestClient::raw`](super::TestClient::raw): the headers and body are the
/// test's own, nothing is added but the client's token (`Authorization:
/// Bearer`, removable with [`without_header`](Self::without_header)). No
/// handshake runs and no session is sent unless the test adds the header.
///
/// ```no_run
/// # async fn example() -> Result<(), mcp_runtime::testing::ClientError> {
/// use mcp_runtime::testing::TestClient;
///
/// let client = TestClient::new("http://127.0.0.1:3000/mcp");
/// let reply = client
///     .raw("POST")
///     .header("content-type", "application/json")
///     .header("accept", "text/html")
///     .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
///     .send()
///     .await?;
/// // A client that accepts neither JSON nor SSE is refused.
/// assert_eq!(reply.status, 406);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct RawRequest {
    http: reqwest::Client,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl RawRequest {
    pub(super) fn new(http: reqwest::Client, method: &str, url: &str, token: Option<&str>) -> Self {
        let headers = token
            .map(|token| ("authorization".to_owned(), format!("Bearer {token}")))
            .into_iter()
            .collect();
        Self {
            http,
            method: method.to_owned(),
            url: url.to_owned(),
            headers,
            body: None,
        }
    }

    /// Sends to `url` instead of the client's MCP endpoint (another route of
    /// the server, e.g. its discovery metadata).
    pub fn to(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// Adds a header. A name given twice is sent twice, in order.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds each `(name, value)` of `headers`.
    pub fn headers<N, V>(mut self, headers: impl IntoIterator<Item = (N, V)>) -> Self
    where
        N: Into<String>,
        V: Into<String>,
    {
        self.headers
            .extend(headers.into_iter().map(|(n, v)| (n.into(), v.into())));
        self
    }

    /// Removes every header called `name` (any case), the token's
    /// `Authorization` included.
    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// The body, sent as is.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sends the request and reads the whole answer. Only a request that
    /// cannot be made or sent (a bad method or header, no connection) is an
    /// error: every status comes back as a [`RawResponse`].
    pub async fn send(self) -> Result<RawResponse, ClientError> {
        let method = reqwest::Method::from_bytes(self.method.as_bytes())
            .map_err(|e| ClientError::Arguments(format!("HTTP method {:?}: {e}", self.method)))?;
        let mut request = self.http.request(method, &self.url);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(body) = self.body {
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let body = response
            .text()
            .await
            .map_err(|e| ClientError::Transport(format!("reading the answer: {e}")))?;
        let challenge = headers
            .iter()
            .find(|(name, _)| name == "www-authenticate")
            .map(|(_, value)| Challenge::parse(value));
        Ok(RawResponse {
            status,
            headers,
            body,
            challenge,
        })
    }
}

/// A whole HTTP answer to a [`RawRequest`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// Every header, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as text (bytes that are not UTF-8 replaced).
    pub body: String,
    /// The `WWW-Authenticate` challenge, if the answer has one.
    pub challenge: Option<Challenge>,
}

impl RawResponse {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_all(name).into_iter().next()
    }

    /// Every value of header `name` (any case), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `Content-Type`, or empty.
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    /// Whether the answer is an SSE stream (`text/event-stream`).
    pub fn is_sse(&self) -> bool {
        self.content_type().starts_with("text/event-stream")
    }

    /// Whether the answer is JSON (`application/json`).
    pub fn is_json(&self) -> bool {
        self.content_type().starts_with("application/json")
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value, ClientError> {
        serde_json::from_str(&self.body).map_err(|e| {
            ClientError::Decode(format!(
                "the body is not JSON ({e}): HTTP {}, content-type `{}`, body `{}`",
                self.status,
                self.content_type(),
                self.body
            ))
        })
    }

    /// The JSON of each event of an SSE answer, in order.
    pub fn sse(&self) -> Result<Vec<Value>, ClientError> {
        if !self.is_sse() {
            return Err(ClientError::Decode(format!(
                "expected an SSE answer: HTTP {}, content-type `{}`, body `{}`",
                self.status,
                self.content_type(),
                self.body
            )));
        }
        sse_data(&self.body)
            .iter()
            .map(|data| {
                serde_json::from_str(data).map_err(|e| {
                    ClientError::Decode(format!("an SSE event is not JSON ({e}): `{data}`"))
                })
            })
            .collect()
    }

    /// The JSON-RPC message that ends the answer: the JSON body, or the last
    /// event of an SSE stream (notifications come before it).
    pub fn rpc(&self) -> Result<Value, ClientError> {
        if self.is_sse() {
            self.sse()?.pop().ok_or_else(|| {
                ClientError::Decode(format!("an SSE answer without events: `{}`", self.body))
            })
        } else {
            self.json()
        }
    }

    /// The `WWW-Authenticate` header as received, or empty without one.
    pub fn www_authenticate(&self) -> &str {
        self.challenge.as_ref().map_or("", Challenge::as_str)
    }

    /// A parameter of the `WWW-Authenticate` challenge, if there is one.
    pub fn challenge_param(&self, name: &str) -> Option<&str> {
        self.challenge.as_ref()?.param(name)
    }
}

/// A `WWW-Authenticate` challenge: its scheme and `key=value` parameters,
/// values unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    raw: String,
    scheme: String,
    params: Vec<(String, String)>,
}

impl Challenge {
    /// Parses a header value such as
    /// `Bearer error="invalid_token", resource_metadata="https://..."`.
    ///
    /// ```
    /// use mcp_runtime::testing::Challenge;
    /// let challenge = Challenge::parse(r#"Bearer error="insufficient_scope", scope="a b""#);
    /// assert_eq!(challenge.scheme(), "Bearer");
    /// assert_eq!(challenge.param("scope"), Some("a b"));
    /// assert_eq!(challenge.param("realm"), None);
    /// ```
    pub fn parse(value: &str) -> Self {
        let trimmed = value.trim_start();
        let scheme = trimmed
            .split_once(' ')
            .map_or(trimmed, |(scheme, _)| scheme)
            .to_owned();
        Self {
            raw: value.to_owned(),
            scheme,
            params: challenge_params(value),
        }
    }

    /// The header value as received.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The scheme, e.g. `Bearer`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Parameter `name` (any case), unquoted.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every parameter, in order.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }
}

impl std::fmt::Display for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}
