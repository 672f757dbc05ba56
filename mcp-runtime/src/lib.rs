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
//! #[mcp_runtime::main]
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
//! #[mcp_runtime::main]
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
//! #[mcp_runtime::main]
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
pub mod operations;
mod paging;
pub mod prompts;
pub mod protocol;
pub mod providers;
mod random;
pub mod rate;
pub mod resources;
mod schema;
pub mod server;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tools;
mod transport;

pub use context::{RequestContext, TaskStartError};
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
    /// The system `#[mcp_runtime::main]` runs `main` on.
    pub use actix_web::rt;

    /// The built-in providers, by the names `oauth = ...` takes.
    #[allow(non_upper_case_globals)]
    pub mod builtin_provider {
        use crate::auth::BuiltinProvider;

        pub const auth0: BuiltinProvider = BuiltinProvider::Auth0;
        pub const workos: BuiltinProvider = BuiltinProvider::WorkOs;
        pub const supabase: BuiltinProvider = BuiltinProvider::Supabase;
        pub const keycloak: BuiltinProvider = BuiltinProvider::Keycloak;
        pub const oidc: BuiltinProvider = BuiltinProvider::Oidc;
        pub const okta: BuiltinProvider = BuiltinProvider::Okta;
        pub const entra: BuiltinProvider = BuiltinProvider::Entra;
        pub const cognito: BuiltinProvider = BuiltinProvider::Cognito;
        pub const zitadel: BuiltinProvider = BuiltinProvider::Zitadel;
        pub const clerk: BuiltinProvider = BuiltinProvider::Clerk;
        pub const descope: BuiltinProvider = BuiltinProvider::Descope;
        pub const better_auth: BuiltinProvider = BuiltinProvider::BetterAuth;
        pub const scalekit: BuiltinProvider = BuiltinProvider::Scalekit;
        pub const google: BuiltinProvider = BuiltinProvider::Google;
        pub const github: BuiltinProvider = BuiltinProvider::GitHub;
        pub const dev: BuiltinProvider = BuiltinProvider::Dev;
    }
    pub use crate::generated::{
        assert_argument, assert_arguments_object, assert_send, assert_server_state, completion_fn,
        listen, oauth_custom, prompt_optional, prompt_required, prompt_unauthenticated,
        resource_unauthenticated, unauthenticated,
    };
    pub use crate::prompts::{IntoPrompt, Prompt, PromptError, PromptRequest};
    pub use crate::rate::RateLimit;
    pub use crate::resources::{
        IntoResource, IntoResourceTemplate, Resource, ResourceError, ResourceRequest,
        ResourceTemplate,
    };
    pub use crate::server::{BuildError, McpServer, McpServerBuilder};
    pub use crate::tools::{
        CallToolResult, Callers, IntoTool, IntoToolResult, NoArgs, TaskSupport, Tool,
        ToolAnnotations, ToolFn, object_schema_for,
    };
    pub use schemars;
    pub use serde;
    pub use serde_json;
}

/// Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): each
/// takes arbitrary bytes to the parser or check it names, as a request
/// would. Not public API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    use crate::auth::{CompactJws, JwtVerifier, KeySource, SignatureKey};
    use crate::server::HostPolicy;
    use actix_web::http::header::{self, HeaderMap, HeaderValue};
    use actix_web::test::TestRequest;
    use futures_util::FutureExt as _;
    use std::sync::OnceLock;

    const SECRET: &[u8] = b"fuzzing secret";
    const ISSUER: &str = "https://issuer.example";
    const AUDIENCE: &str = "https://mcp.example/mcp";

    fn verifiers() -> &'static [JwtVerifier; 2] {
        static VERIFIERS: OnceLock<[JwtVerifier; 2]> = OnceLock::new();
        VERIFIERS.get_or_init(|| {
            let checked = JwtVerifier::new(ISSUER, KeySource::shared_secret(SECRET))
                .algorithms([
                    jsonwebtoken::Algorithm::HS256,
                    jsonwebtoken::Algorithm::HS512,
                ])
                .audiences([AUDIENCE]);
            let unchecked = JwtVerifier::new(ISSUER, KeySource::shared_secret(SECRET))
                .audiences([AUDIENCE])
                .skip_signature_check();
            [checked, unchecked]
        })
    }

    /// A compact JWS, read and checked as the verifier does: parsed, its
    /// claims read, its signature checked with a kept and a one-off key,
    /// then verified whole. A first byte of `0` instead signs the rest
    /// (`header` `0xff` `payload`) with the verifier's own secret, so the
    /// claim checks see arbitrary JSON behind a good signature.
    pub fn jws(data: &[u8]) {
        let [checked, unchecked] = verifiers();
        let token = match data.split_first() {
            Some((0, rest)) => {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                let at = rest.iter().position(|&b| b == 0xff).unwrap_or(rest.len());
                let payload = rest.get(at + 1..).unwrap_or_default();
                let input = format!("{}.{}", b64.encode(&rest[..at]), b64.encode(payload));
                let key = jsonwebtoken::EncodingKey::from_secret(SECRET);
                let unsigned = format!("{input}.AA");
                let Ok(jws) = CompactJws::parse(&unsigned) else {
                    return;
                };
                let Ok(signature) =
                    jsonwebtoken::crypto::sign(input.as_bytes(), &key, jws.header.alg)
                else {
                    return;
                };
                format!("{input}.{signature}")
            }
            _ => String::from_utf8_lossy(data).into_owned(),
        };
        if let Ok(jws) = CompactJws::parse(&token) {
            let _ = jws.claims();
            let kept = SignatureKey::new(jsonwebtoken::DecodingKey::from_secret(SECRET));
            let by = jws.signed_by(&kept);
            let with = jws.signed_with(&jsonwebtoken::DecodingKey::from_secret(SECRET));
            assert_eq!(by, with, "a kept and a one-off key disagree");
        }
        for verifier in [checked, unchecked] {
            match verifier.verify_token(&token).now_or_never() {
                Some(Ok(_)) | Some(Err(crate::auth::AuthError::InvalidToken(_))) => {}
                other => panic!("not a clean verdict: {other:?}"),
            }
        }
    }

    /// A POST body, read as one JSON-RPC message.
    pub fn jsonrpc(data: &[u8]) {
        if let Err((_, error)) = crate::transport::http::parse_message(data) {
            assert!(
                [
                    crate::protocol::jsonrpc::PARSE_ERROR,
                    crate::protocol::jsonrpc::INVALID_REQUEST
                ]
                .contains(&error.code)
            );
            serde_json::to_vec(&error).expect("an error object serializes");
        }
    }

    /// An `Authorization` header value (with a query after a first `?`
    /// line), read for its bearer token.
    pub fn authorization(data: &[u8]) {
        let (query, value) = match data.iter().position(|&b| b == b'\n') {
            Some(at) => (&data[..at], &data[at + 1..]),
            None => (&b""[..], data),
        };
        let Ok(value) = HeaderValue::from_bytes(value) else {
            return;
        };
        let query: String = url::form_urlencoded::byte_serialize(query).collect();
        let req = TestRequest::default()
            .uri(&format!("/mcp?{query}"))
            .insert_header((header::AUTHORIZATION, value))
            .to_http_request();
        if let Ok(token) = crate::auth::bearer::presented_token(&req) {
            assert!(token.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        }
        let _ = crate::auth::basic_credentials(&req);
    }

    /// `Host` and `Origin` values (split at the first newline), checked
    /// under each host policy.
    pub fn host_origin(data: &[u8]) {
        let (host, origin) = match data.iter().position(|&b| b == b'\n') {
            Some(at) => (&data[..at], Some(&data[at + 1..])),
            None => (data, None),
        };
        let Ok(host) = HeaderValue::from_bytes(host) else {
            return;
        };
        let mut req = TestRequest::default().insert_header((header::HOST, host));
        if let Some(origin) = origin {
            let Ok(origin) = HeaderValue::from_bytes(origin) else {
                return;
            };
            req = req.insert_header((header::ORIGIN, origin));
        }
        let req = req.to_http_request();
        let allowed = ["https://app.example.com".to_owned()];
        let list = HostPolicy::List(vec!["mcp.example.com".into(), "[::1]:3000".into()]);
        for policy in [HostPolicy::Any, HostPolicy::Loopback, list] {
            let _ = crate::transport::host_allowed(&req, &policy);
            let _ = crate::transport::origin_allowed(&req, &allowed, &policy);
        }
        crate::transport::add_cors_headers(&req, &mut HeaderMap::new());
    }

    /// A URI template and a URI (split at the first newline): parsed, and
    /// the URI matched against it.
    pub fn uri_template(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let (template, uri) = text.split_once('\n').unwrap_or((&text, ""));
        // A template is the developer's, a URI the client's: bounded as a
        // request body bounds it, a template as a source file would.
        if template.len() > 256 {
            return;
        }
        if let Ok(template) = crate::resources::UriTemplate::parse(template) {
            let _ = template.matches(uri);
        }
    }

    /// An OAuth query or form, a redirect URI (the same bytes), read as
    /// the proxy reads them.
    pub fn proxy_params(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let _ = crate::auth::query_params(&text);
        let _ = crate::auth::check_registered_redirect_uri(&text);
        let _ = crate::auth::check_allowed_redirect_uri(&text);
    }
}
