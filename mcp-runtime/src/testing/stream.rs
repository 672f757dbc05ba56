//! [`NotificationStream`]: the server's notifications as a client hears
//! them, on its session's GET stream ([`TestClient::notifications`]) or on a
//! 2026-07-28 `subscriptions/listen` stream ([`TestClient::listen`]).

use super::client::{find_event_end, rpc_error, sse_data};
use super::{ClientError, TestClient};
use serde_json::{Value, json};
use std::time::Duration;

/// The revision whose clients open `subscriptions/listen` streams.
const LISTEN_REVISION: &str = "2026-07-28";

impl TestClient {
    /// Opens the GET stream of this client's session (after the handshake,
    /// made first if needed): the list changes, resource updates and task
    /// changes the server sends the session.
    pub async fn notifications(&self) -> Result<NotificationStream, ClientError> {
        let session = self.session().await?.ok_or_else(|| {
            ClientError::Decode("the server gave this client no session".to_owned())
        })?;
        let mut request = self
            .http
            .get(&self.url)
            .header("accept", "text/event-stream")
            .header(crate::SESSION_HEADER, session)
            .header(
                crate::PROTOCOL_VERSION_HEADER,
                super::client::CLIENT_PROTOCOL_VERSION,
            );
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        NotificationStream::open(request, "GET").await
    }

    /// Opens a 2026-07-28 `subscriptions/listen` stream asking for
    /// `notifications` (the filter: `{"toolsListChanged": true}`,
    /// `{"taskIds": [...]}`, ...), with this client's capabilities and
    /// token, and reads its acknowledgement ([`NotificationStream::agreed`]).
    /// A refusal is an error, as for any request.
    ///
    /// ```no_run
    /// # async fn example(client: mcp_runtime::testing::TestClient) -> Result<(), mcp_runtime::testing::ClientError> {
    /// use std::time::Duration;
    ///
    /// let task = client.start_task("export", serde_json::json!({})).await?;
    /// let mut stream = client
    ///     .listen(serde_json::json!({ "taskIds": [task.task_id] }))
    ///     .await?;
    /// let change = stream
    ///     .next_of("notifications/tasks", Duration::from_secs(10))
    ///     .await?;
    /// println!("the task is {}", change["params"]["status"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn listen(&self, notifications: Value) -> Result<NotificationStream, ClientError> {
        let id = self.fresh_id();
        let body = json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": "subscriptions/listen",
            "params": {
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": LISTEN_REVISION,
                    "io.modelcontextprotocol/clientCapabilities": self.capabilities(),
                    "io.modelcontextprotocol/clientInfo": {
                        "name": "mcp-runtime-testing",
                        "version": env!("CARGO_PKG_VERSION"),
                    },
                },
                "notifications": notifications,
            },
        });
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header(crate::PROTOCOL_VERSION_HEADER, LISTEN_REVISION)
            .header(crate::METHOD_HEADER, "subscriptions/listen")
            .body(body.to_string());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let mut stream = NotificationStream::open(request, "subscriptions/listen").await?;
        let first = stream.next(Duration::from_secs(10)).await?;
        if let Some(error) = first.get("error") {
            return Err(rpc_error(error));
        }
        if first["method"] != "notifications/subscriptions/acknowledged" {
            return Err(ClientError::Decode(format!(
                "a listen stream must open with its acknowledgement, not {first}"
            )));
        }
        stream.agreed = Some(first["params"]["notifications"].clone());
        Ok(stream)
    }
}

/// An open stream of server notifications, read message by message
/// (keep-alive comments skipped). Dropping it closes the stream, which
/// ends a `subscriptions/listen` subscription.
#[derive(Debug)]
pub struct NotificationStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    agreed: Option<Value>,
}

impl NotificationStream {
    async fn open(request: reqwest::RequestBuilder, what: &str) -> Result<Self, ClientError> {
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let is_sse = response
            .headers()
            .get("content-type")
            .and_then(|t| t.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        if !(200..300).contains(&status) || !is_sse {
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let text = response.text().await.unwrap_or_default();
            return Err(match status {
                401 => ClientError::Unauthorized { challenge },
                // The server's answer to this request is a JSON-RPC error;
                // a refusal of the HTTP request (no id) is an HTTP error.
                _ => match serde_json::from_str::<Value>(&text) {
                    Ok(body) if body["error"].is_object() && !body["id"].is_null() => {
                        rpc_error(&body["error"])
                    }
                    _ => ClientError::Http {
                        status,
                        message: format!("{what}: {text}"),
                    },
                },
            });
        }
        Ok(Self {
            response,
            buffer: Vec::new(),
            agreed: None,
        })
    }

    /// What the server agreed to send on a `subscriptions/listen` stream
    /// (its acknowledgement's `notifications`); `None` on a GET stream.
    pub fn agreed(&self) -> Option<&Value> {
        self.agreed.as_ref()
    }

    /// The next message, waiting at most `within`.
    pub async fn next(&mut self, within: Duration) -> Result<Value, ClientError> {
        tokio::time::timeout(within, self.read())
            .await
            .map_err(|_| ClientError::Transport(format!("no message within {within:?}")))?
    }

    /// The next notification called `method`, skipping others, waiting at
    /// most `within` in all.
    pub async fn next_of(&mut self, method: &str, within: Duration) -> Result<Value, ClientError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self
                .next(left)
                .await
                .map_err(|_| ClientError::Transport(format!("no {method} within {within:?}")))?;
            if message["method"] == method {
                return Ok(message);
            }
        }
    }

    async fn read(&mut self) -> Result<Value, ClientError> {
        loop {
            while let Some(end) = find_event_end(&self.buffer) {
                let event: Vec<u8> = self.buffer.drain(..end).collect();
                let event = String::from_utf8_lossy(&event);
                if let Some(data) = sse_data(&event).into_iter().next() {
                    return serde_json::from_str(&data)
                        .map_err(|e| ClientError::Decode(format!("an event is not JSON ({e})")));
                }
            }
            let chunk = self
                .response
                .chunk()
                .await
                .map_err(|e| ClientError::Transport(format!("reading the stream: {e}")))?
                .ok_or_else(|| ClientError::Transport("the server ended the stream".to_owned()))?;
            self.buffer.extend_from_slice(&chunk);
        }
    }
}
