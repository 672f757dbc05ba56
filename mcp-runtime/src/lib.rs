//! # mcp-runtime
//!
//! Serve MCP tools over Streamable HTTP on actix-web. Write ordinary async
//! functions, mark them `#[mcp_tool]`, group them with `#[mcp_server]` (or
//! register them on [`McpServer::builder`]), and call `listen()`.
//!
//! ```no_run
//! use mcp_runtime::prelude::*;
//!
//! struct Calculator;
//!
//! #[mcp_server(name = "calculator", version = "1.0.0")]
//! impl Calculator {
//!     /// Adds two numbers.
//!     #[mcp_tool(read_only)]
//!     async fn add(
//!         /// First operand.
//!         a: i64,
//!         /// Second operand.
//!         b: i64,
//!     ) -> String {
//!         (a + b).to_string()
//!     }
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     Calculator.listen().await
//! }
//! ```
//!
//! The same tool by hand, without macros:
//!
//! ```no_run
//! use mcp_runtime::prelude::*;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Add {
//!     /// First operand.
//!     a: i64,
//!     /// Second operand.
//!     b: i64,
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let server = McpServer::builder("calculator", "1.0.0")
//!         .tool(Tool::new("add", |args: Add| async move { (args.a + args.b).to_string() }).read_only())
//!         .build()
//!         .expect("valid tools");
//!     server.listen().await
//! }
//! ```
//!
//! Resources and prompts take the same access keys and the same caller
//! parameter as tools, and may name completion functions. Marked on free
//! functions, they register like free tools:
//!
//! ```no_run
//! use mcp_runtime::completion::prefix_matches;
//! use mcp_runtime::prelude::*;
//!
//! struct Notes;
//!
//! #[mcp_server(name = "notes", version = "1.0.0", oauth = auth0)]
//! impl Notes {
//!     /// One of the caller's notes.
//!     #[mcp_resource(uri = "notes://{id}", scopes = "notes:read", complete(id = Self::complete_id))]
//!     async fn note(&self, id: u32, auth: &Auth) -> String {
//!         format!("note {id} of {}", auth.user.user_id)
//!     }
//!
//!     fn complete_id(request: &CompletionRequest) -> Vec<String> {
//!         prefix_matches(["1", "2", "3"], request)
//!     }
//!
//!     /// Greets the caller, or anyone.
//!     #[mcp_prompt(name = "greet", complete(language = complete_language))]
//!     async fn greet(&self, language: String, auth: Option<&Auth>) -> String {
//!         let who = auth.map_or("everyone", |a| a.user.user_id.as_str());
//!         format!("Greet {who} in {language}.")
//!     }
//! }
//!
//! fn complete_language(request: &CompletionRequest) -> Vec<String> {
//!     prefix_matches(["english", "french"], request)
//! }
//!
//! /// The readme, as a free function.
//! #[mcp_resource(uri = "docs://readme", mime_type = "text/markdown")]
//! async fn readme() -> &'static str {
//!     "# Notes"
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     assert_eq!(readme::call().await, "# Notes");
//!     let server = Notes
//!         .into_mcp_builder()
//!         .resource(readme)
//!         .build()
//!         .expect("valid resources and prompts");
//!     server.listen().await
//! }
//! ```
//!
//! `tools/list`, `resources/list`, `resources/templates/list` and
//! `prompts/list` are paged alike, with an opaque `nextCursor`
//! ([`McpServerBuilder::page_size`]).

// Lets the macros' absolute `::mcp_runtime` paths resolve inside this crate too.
extern crate self as mcp_runtime;

mod access;
#[macro_use]
mod access_methods;
pub mod auth;
pub mod completion;
mod context;
mod generated;
pub mod input;
mod paging;
pub mod prompts;
pub mod protocol;
pub mod providers;
mod random;
pub mod resources;
mod schema;
pub mod server;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tools;
mod transport;

pub use context::RequestContext;
#[allow(unused_imports)]
pub use mcp_macros::*;
pub use server::{BuildError, McpServer, McpServerBuilder};
pub use transport::{METHOD_HEADER, NAME_HEADER, PROTOCOL_VERSION_HEADER, SESSION_HEADER};

/// The names most servers need.
pub mod prelude {
    pub use crate::auth::{AccessDenied, Auth, OAuth};
    pub use crate::completion::CompletionRequest;
    pub use crate::context::RequestContext;
    pub use crate::input::{Elicitation, InputError, SamplingRequest};
    pub use crate::prompts::{IntoPrompt, Prompt, PromptError, PromptMessage, PromptRequest};
    pub use crate::protocol::LoggingLevel;
    pub use crate::resources::{
        Blob, IntoResource, IntoResourceTemplate, Resource, ResourceError, ResourceRequest,
        ResourceTemplate,
    };
    pub use crate::server::{McpServer, McpServerBuilder};
    pub use crate::tools::{CallToolResult, Content, IntoTool, Json, NoArgs, Tool, ToolError};
    pub use mcp_macros::{mcp_prompt, mcp_resource, mcp_server, mcp_tool};
}

/// Paths used by generated code. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::auth::{Auth, OAuth};
    pub use crate::context::RequestContext;

    /// The built-in providers, by the names `oauth = ...` takes.
    #[allow(non_upper_case_globals)]
    pub mod builtin_provider {
        use crate::auth::BuiltinProvider;

        pub const auth0: BuiltinProvider = BuiltinProvider::Auth0;
        pub const workos: BuiltinProvider = BuiltinProvider::WorkOs;
        pub const supabase: BuiltinProvider = BuiltinProvider::Supabase;
        pub const keycloak: BuiltinProvider = BuiltinProvider::Keycloak;
        pub const dev: BuiltinProvider = BuiltinProvider::Dev;
    }
    pub use crate::generated::{
        assert_argument, assert_arguments_object, assert_send, assert_server_state, completion_fn,
        listen, oauth_custom, prompt_optional, prompt_required, prompt_unauthenticated,
        resource_unauthenticated, unauthenticated,
    };
    pub use crate::prompts::{IntoPrompt, Prompt, PromptError, PromptRequest};
    pub use crate::resources::{
        IntoResource, IntoResourceTemplate, Resource, ResourceError, ResourceRequest,
        ResourceTemplate,
    };
    pub use crate::server::{BuildError, McpServer, McpServerBuilder};
    pub use crate::tools::{
        CallToolResult, IntoTool, IntoToolResult, NoArgs, Tool, ToolAnnotations, ToolFn,
        object_schema_for,
    };
    pub use schemars;
    pub use serde;
    pub use serde_json;
}
