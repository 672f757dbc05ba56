//! `completion/complete` answers under the access rule of the prompt or
//! resource template it completes, as `prompts/get` and `resources/read` do:
//! a caller without the scope is refused with 403 before the completer runs,
//! and where the server hides what the caller may not use, the hidden item
//! is unknown, exactly like one that does not exist.

use mcp_runtime::completion::prefix_matches;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, CompletionRef, TestIssuer, TestServer};
use std::sync::atomic::{AtomicUsize, Ordering};

static COMPLETED: AtomicUsize = AtomicUsize::new(0);

fn complete_vault(request: &CompletionRequest) -> Vec<String> {
    COMPLETED.fetch_add(1, Ordering::SeqCst);
    prefix_matches(["gold", "gems"], request)
}

struct Bank;

#[mcp_server(name = "bank", version = "1.0.0", oauth = auth0)]
impl Bank {
    /// Opens a vault.
    #[mcp_prompt(scopes = "vault", complete(name = complete_vault))]
    async fn open_vault(name: String) -> String {
        format!("opening {name}")
    }

    /// A vault's contents.
    #[mcp_resource(uri = "vault://{name}", scopes = "vault", complete(name = complete_vault))]
    async fn vault(name: String) -> String {
        name
    }
}

fn targets() -> [CompletionRef; 2] {
    [
        CompletionRef::prompt("open_vault"),
        CompletionRef::resource_template("vault://{name}"),
    ]
}

#[actix_web::test]
async fn completion_needs_the_items_scope() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Bank
        .into_mcp_builder()
        .oauth(issuer.provider())
        .build()
        .expect("builds");
    let server = TestServer::start_with(server, &issuer).expect("starts");
    let teller = server
        .client()
        .with_token(issuer.token().subject("teller").sign().expect("token"));
    let manager = server.client().with_token(
        issuer
            .token()
            .subject("boss")
            .scopes(["vault"])
            .sign()
            .expect("token"),
    );

    let before = COMPLETED.load(Ordering::SeqCst);
    for target in targets() {
        match teller.complete(target.clone(), "name", "g").await {
            Err(ClientError::Forbidden { scopes, .. }) => assert_eq!(scopes, ["vault"]),
            other => panic!("{target:?}: expected 403, got {other:?}"),
        }
    }
    // A reference naming a prompt beside its template is read by its type,
    // by the endpoint's check as by the completer.
    let mixed = serde_json::json!({
        "ref": {"type": "ref/resource", "uri": "vault://{name}", "name": "no_such_prompt"},
        "argument": {"name": "name", "value": "g"},
    });
    match teller.rpc("completion/complete", mixed).await {
        Err(ClientError::Forbidden { scopes, .. }) => assert_eq!(scopes, ["vault"]),
        other => panic!("a mixed reference: expected 403, got {other:?}"),
    }
    assert_eq!(COMPLETED.load(Ordering::SeqCst), before, "no completer ran");
    for target in targets() {
        let done = manager
            .complete(target, "name", "g")
            .await
            .expect("allowed");
        assert_eq!(done.values, ["gold", "gems"]);
    }
}

#[actix_web::test]
async fn hidden_items_are_unknown_to_completion() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Bank
        .into_mcp_builder()
        .oauth(issuer.provider())
        .hide_unauthorized_tools(true)
        .build()
        .expect("builds");
    let server = TestServer::start_with(server, &issuer).expect("starts");
    let teller = server
        .client()
        .with_token(issuer.token().subject("teller").sign().expect("token"));
    for (target, unknown) in targets().into_iter().zip([
        "unknown prompt: open_vault",
        "unknown resource template: vault://{name}",
    ]) {
        match teller.complete(target, "name", "g").await {
            Err(ClientError::Rpc { code, message, .. }) => {
                assert_eq!((code, message.as_str()), (-32602, unknown));
            }
            other => panic!("expected an unknown item, got {other:?}"),
        }
    }
    let missing = teller
        .complete(CompletionRef::prompt("no_such_prompt"), "name", "g")
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, ClientError::Rpc { code: -32602, message, .. } if message == "unknown prompt: no_such_prompt"),
        "{missing:?}"
    );
}
