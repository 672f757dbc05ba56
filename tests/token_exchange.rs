//! Tokens for downstream APIs (RFC 8693 token exchange), against the real
//! oidc-provider with a token-exchange grant registered
//! (`tests/node/idp.mjs`): a tool exchanges its caller's token for one
//! meant for another audience, on the caller's behalf; the exchanged
//! token is kept and reused; a refused exchange and a provider without
//! token exchange give clear errors.

mod support;

use mcp_runtime::prelude::*;
use mcp_runtime::providers::Oidc;
use mcp_runtime::testing::{TestIssuer, TestServer};
use serde_json::json;

/// Exchanges the caller's token for one for `audience`.
#[mcp_tool]
async fn downstream(auth: &Auth, audience: String) -> String {
    match auth.exchange(&audience, &["read"]).await {
        Ok(token) => token.access_token.expose().to_owned(),
        Err(error) => format!("error: {error}"),
    }
}

fn serve(oauth: impl mcp_runtime::auth::IntoOAuth, listener: std::net::TcpListener) -> TestServer {
    let server = McpServer::builder("exchange", "1.0.0")
        .oauth(oauth)
        .tool(downstream)
        .build()
        .expect("builds");
    TestServer::start_on(listener, server).expect("starts")
}

#[actix_web::test]
async fn a_tool_gets_a_token_for_another_audience_on_its_callers_behalf() {
    let idp = support::start_idp("RS256", &["--resource-scopes", "user:write"]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("address"));
    let oidc = Oidc::new(&idp.issuer)
        .audience(&url)
        .client("exchanger", Some("exchanger-secret".to_owned()));
    let running = serve(oidc, listener);
    let token = idp
        .client_credentials_token("machine", "machine-secret", "user:write", &url)
        .await;
    let caller = running.client().with_token(token.clone());
    let call = |audience: &str| {
        let caller = caller.clone();
        let audience = audience.to_owned();
        async move {
            caller
                .call_tool("downstream", json!({ "audience": audience }))
                .await
                .expect("the tool runs")
                .text()
        }
    };

    let exchanged = call("https://api.example.com").await;
    assert!(!exchanged.starts_with("error"), "{exchanged}");
    assert_ne!(exchanged, token, "never the caller's own token");
    let (_, claims) = support::jwt_parts(&exchanged);
    assert_eq!(claims["aud"], "https://api.example.com", "{claims}");
    assert_eq!(claims["sub"], "machine", "on the caller's behalf: {claims}");
    assert_eq!(
        claims["act"]["sub"], "exchanger",
        "by this server: {claims}"
    );
    assert_eq!(claims["iss"], idp.issuer.as_str());
    // Kept: the same token until shortly before it expires.
    assert_eq!(call("https://api.example.com").await, exchanged);
    // Another audience is another exchange.
    let other = call("https://reports.example.com").await;
    assert_eq!(
        support::jwt_parts(&other).1["aud"],
        "https://reports.example.com"
    );

    let refused = call("https://forbidden.example").await;
    assert!(
        refused.starts_with("error: the identity provider refused the exchange: invalid_target"),
        "{refused}"
    );
}

#[actix_web::test]
async fn a_provider_without_token_exchange_says_so() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = McpServer::builder("exchange", "1.0.0")
        .oauth(issuer.provider())
        .tool(downstream)
        .build()
        .expect("builds");
    let running = TestServer::start_with(server, &issuer).expect("starts");
    let caller = running
        .client()
        .with_token(issuer.token().sign().expect("token"));
    let answer = caller
        .call_tool("downstream", json!({"audience": "https://api.example.com"}))
        .await
        .expect("the tool runs")
        .text();
    assert!(
        answer.starts_with("error: token exchange is not available: the `")
            && answer.contains("offers no token exchange"),
        "{answer}"
    );
}
