//! `examples/introspection.rs` against a real identity provider issuing
//! opaque access tokens: the example checks them with the provider's RFC 7662
//! introspection endpoint, and the endpoint answers with the usual 401/403.

mod support;

use mcp_runtime::testing::RawResponse as Reply;
use support::stateless_tool_call as call;

use std::process::{Command, Stdio};
use support::example::Example;

/// Starts the example against `idp` and waits until it listens.
fn start_example(idp: &support::Idp) -> Example {
    Example::start(
        "introspection",
        &[
            ("OAUTH_ISSUER", &idp.issuer),
            ("INTROSPECTION_URL", &idp.introspection_endpoint),
            ("INTROSPECTION_CLIENT_ID", "machine"),
            ("INTROSPECTION_CLIENT_SECRET", "machine-secret"),
        ],
    )
}

fn result_text(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.rpc().unwrap_or_default();
    assert_ne!(body["result"]["isError"], true, "{}", reply.body);
    body["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("a text result: {}", reply.body))
        .to_owned()
}

fn challenge_of(reply: &Reply) -> &str {
    let challenge = reply.www_authenticate();
    assert!(
        !challenge.is_empty(),
        "a WWW-Authenticate challenge: {}",
        reply.body
    );
    challenge
}

#[tokio::test]
async fn opaque_tokens_are_introspected() {
    let idp = support::start_idp("RS256", &["--access-token-format", "opaque"]);
    let example = start_example(&idp);

    let reader = idp
        .client_credentials_token("reader", "reader-secret", "tasks:read", &example.url)
        .await;
    assert_eq!(
        reader.split('.').count(),
        1,
        "the provider issues opaque tokens: {reader}"
    );

    // The open tool: any active token for this server.
    let reply = call(&example.url, &reader, "whoami").await;
    let text = result_text(&reply);
    assert!(text.contains("client: reader"), "{text}");
    assert!(text.contains("tasks:read"), "{text}");

    // The scoped tool with its scope.
    let reply = call(&example.url, &reader, "list_tasks").await;
    assert!(
        result_text(&reply).contains("tasks of reader"),
        "{}",
        reply.body
    );

    // Without it: 403 insufficient_scope naming the scope to ask for.
    let writer = idp
        .client_credentials_token("machine", "machine-secret", "tasks:write", &example.url)
        .await;
    let reply = call(&example.url, &writer, "list_tasks").await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let challenge = challenge_of(&reply);
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"tasks:read\""), "{challenge}");
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{}\"",
            example
                .url
                .replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
        )),
        "{challenge}"
    );
    // ... but the open tool still works for it.
    let reply = call(&example.url, &writer, "whoami").await;
    assert!(
        result_text(&reply).contains("client: machine"),
        "{}",
        reply.body
    );

    // A token the provider does not know: inactive, 401 invalid_token.
    let reply = call(&example.url, "not-a-real-token", "whoami").await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    let challenge = challenge_of(&reply);
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
    assert!(challenge.contains("not active"), "{challenge}");

    // An active token issued for another server: its `aud` is refused.
    let elsewhere = idp
        .client_credentials_token(
            "reader",
            "reader-secret",
            "tasks:read",
            "http://127.0.0.1:1/mcp",
        )
        .await;
    let reply = call(&example.url, &elsewhere, "whoami").await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    let challenge = challenge_of(&reply);
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("not issued for this server"),
        "{challenge}"
    );
}

#[test]
fn a_missing_variable_is_named_at_startup() {
    let output = Command::new(support::built_example("introspection"))
        .env("OAUTH_ISSUER", "http://127.0.0.1:1")
        .env(
            "INTROSPECTION_URL",
            "http://127.0.0.1:1/token/introspection",
        )
        .env("INTROSPECTION_CLIENT_ID", "machine")
        .env_remove("INTROSPECTION_CLIENT_SECRET")
        .env("PORT", support::free_port().to_string())
        .stdout(Stdio::null())
        .output()
        .expect("run the introspection example");
    assert!(!output.status.success(), "it must not start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("INTROSPECTION_CLIENT_SECRET"), "{stderr}");
}
