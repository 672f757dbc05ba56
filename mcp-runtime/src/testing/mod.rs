//! Test your MCP server the way clients will use it: mint access tokens
//! with the subject, scopes, roles, permissions and expiry a test needs,
//! serve the server on a loopback port, and call its tools through the
//! whole HTTP pipeline (bearer authentication, access rules, sessions, SSE).
//!
//! - [`TestIssuer`] holds a signing key; [`TestIssuer::provider`] is what the
//!   server authenticates with, and [`TestIssuer::token`] mints tokens
//!   ([`TokenBuilder`]), valid or deliberately not (expired, for another
//!   audience, from another issuer, forged).
//! - [`TestServer`] serves an [`McpServer`](crate::McpServer) in the
//!   background until dropped;
//!   [`TestServer::start_with`] also makes its URL the tokens' audience.
//! - [`TestClient`] speaks MCP Streamable HTTP: [`call_tool`](TestClient::call_tool),
//!   [`call_tool_as`](TestClient::call_tool_as) for typed structured output,
//!   [`list_tools`](TestClient::list_tools),
//!   [`list_resources`](TestClient::list_resources),
//!   [`read_resource`](TestClient::read_resource),
//!   [`list_prompts`](TestClient::list_prompts),
//!   [`get_prompt`](TestClient::get_prompt),
//!   [`complete`](TestClient::complete),
//!   [`subscribe`](TestClient::subscribe), and the task helpers
//!   ([`start_task`](TestClient::start_task), [`wait_for_task`](TestClient::wait_for_task));
//!   [`notifications`](TestClient::notifications) opens the session's GET
//!   stream and [`listen`](TestClient::listen) a 2026-07-28
//!   `subscriptions/listen` stream ([`NotificationStream`]); refusals come back as
//!   [`ClientError`]s that keep the status and the `WWW-Authenticate` challenge.
//!   [`TestClient::raw`] sends a request with exactly the headers and body a
//!   test chooses ([`RawRequest`]) and returns the whole answer
//!   ([`RawResponse`]: status, headers, body, parsed [`Challenge`]).
//!
//! Copy this into `tests/` (with `tokio = { version = "1", features =
//! ["macros", "rt"] }` in your dev-dependencies), and mark the function
//! `#[tokio::test]` (or `#[actix_web::test]`):
//!
//! ```
//! use mcp_runtime::prelude::*;
//! use mcp_runtime::testing::{ClientError, TestIssuer, TestServer};
//!
//! struct Tasks;
//!
//! // In production the server trusts Auth0 (configured from the environment).
//! #[mcp_server(name = "tasks", version = "1.0.0", oauth = auth0)]
//! impl Tasks {
//!     /// Who is calling.
//!     #[mcp_tool(read_only)]
//!     async fn whoami(auth: &Auth) -> String {
//!         auth.user.user_id.clone()
//!     }
//!
//!     /// Delete a task.
//!     #[mcp_tool(name = "delete-task", scopes = "tasks:write", destructive)]
//!     async fn delete_task(id: u64) -> String {
//!         format!("deleted {id}")
//!     }
//! }
//!
//! // #[tokio::test]
//! async fn deleting_needs_the_write_scope() -> Result<(), Box<dyn std::error::Error>> {
//!     // The test's own issuer replaces it.
//!     let issuer = TestIssuer::new()?;
//!     let server = Tasks.into_mcp_builder().oauth(issuer.provider()).build()?;
//!     let server = TestServer::start_with(server, &issuer)?;
//!
//!     let alice = server
//!         .client()
//!         .with_token(issuer.token().subject("alice").scopes(["tasks:write"]).sign()?);
//!     assert_eq!(alice.call_tool("whoami", ()).await?.text(), "alice");
//!     let deleted = alice.call_tool("delete-task", serde_json::json!({"id": 7})).await?;
//!     assert_eq!(deleted.text(), "deleted 7");
//!
//!     let bob = server.client().with_token(issuer.token().subject("bob").sign()?);
//!     match bob.call_tool("delete-task", serde_json::json!({"id": 7})).await {
//!         Err(ClientError::Forbidden { scopes, .. }) => assert_eq!(scopes, ["tasks:write"]),
//!         other => panic!("expected 403, got {other:?}"),
//!     }
//!
//!     let expired = server.client().with_token(issuer.token().expired().sign()?);
//!     let refused = expired.call_tool("whoami", ()).await.unwrap_err();
//!     assert_eq!(refused.status(), Some(401));
//!     assert_eq!(refused.challenge_param("error").as_deref(), Some("invalid_token"));
//!     Ok(())
//! }
//! # #[mcp_runtime::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #     deleting_needs_the_write_scope().await
//! # }
//! ```
//!
//! Servers built with a `public_url` expect that URL as the audience: set it
//! with [`TestIssuer::set_audience`] or [`TokenBuilder::audience`].

mod client;
mod features;
mod issuer;
mod raw;
mod server;
mod stream;
mod tasks;

pub use client::{
    CLIENT_PROTOCOL_VERSION, ClientError, ServerInfo, TestClient, ToolInfo, ToolResult,
};
pub use features::{
    Completion, CompletionRef, PromptArgumentInfo, PromptInfo, PromptResult, ResourceInfo,
    ResourceRead, ResourceTemplateInfo,
};
pub use issuer::{DEFAULT_TEST_ISSUER, TestIssuer, TokenBuilder};
pub use raw::{Challenge, RawRequest, RawResponse};
pub use server::TestServer;
pub use stream::NotificationStream;
pub use tasks::TaskInfo;

/// Why the testing kit could not set up an issuer, a token or a server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KitError(pub String);
