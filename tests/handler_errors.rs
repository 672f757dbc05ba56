//! How a resource's or a prompt's failure reaches the client: a missing
//! resource is invalid parameters (-32602) with its URI in `data`, the same
//! answer as a URI the server does not serve; any other error, through `?`,
//! is an internal error (-32603) carrying its message. Each is a JSON-RPC
//! error in the answer, never an HTTP 5xx: HTTP 200 on 2025-11-25, and on
//! 2026-07-28 HTTP 200 for an internal error and 400 for invalid parameters,
//! as for any other request whose parameters name nothing the server has.

mod support;

use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, TestServer};
use serde_json::{Value, json};

struct Notes;

#[mcp_server(name = "notes", version = "1.0.0")]
impl Notes {
    /// A note: notes 1 to 10 exist.
    #[mcp_resource(uri = "notes://{id}")]
    async fn note(id: u32) -> Result<String, ResourceError> {
        if !(1..=10).contains(&id) {
            return Err(ResourceError::not_found(format!("notes://{id}")));
        }
        Ok(format!("note {id}"))
    }

    /// A setting, parsed with `?`.
    #[mcp_resource(uri = "settings://{name}")]
    async fn setting(name: String) -> Result<String, ResourceError> {
        let level: u8 = name.parse()?;
        Ok(format!("level {level}"))
    }

    /// A prompt that fails with `?`.
    #[mcp_prompt]
    async fn summarize(words: String) -> Result<String, PromptError> {
        let count: u32 = words.parse()?;
        Ok(format!("in {count} words"))
    }
}

fn rpc_error(error: ClientError) -> (i64, String, Option<Value>) {
    match error {
        ClientError::Rpc {
            code,
            message,
            data,
        } => (code, message, data),
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

#[actix_web::test]
async fn handler_errors_are_json_rpc_errors_on_every_revision() {
    let server = TestServer::start(Notes.into_mcp_server().expect("builds")).expect("starts");
    let client = server.client();

    assert_eq!(
        client
            .read_resource("notes://3")
            .await
            .expect("read")
            .text(),
        "note 3"
    );
    let missing = rpc_error(client.read_resource("notes://42").await.unwrap_err());
    assert_eq!(
        missing,
        (
            -32602,
            "resource not found: notes://42".into(),
            Some(json!({"uri": "notes://42"}))
        )
    );
    let unserved = rpc_error(client.read_resource("elsewhere://1").await.unwrap_err());
    assert_eq!(
        (unserved.0, unserved.2),
        (-32602, Some(json!({"uri": "elsewhere://1"})))
    );
    let failed = rpc_error(client.read_resource("settings://loud").await.unwrap_err());
    assert_eq!(
        (failed.0, failed.1.as_str()),
        (-32603, "invalid digit found in string")
    );
    let prompt = rpc_error(
        client
            .get_prompt("summarize", json!({"words": "many"}))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (prompt.0, prompt.1.as_str()),
        (-32603, "invalid digit found in string")
    );

    // (method, target, params, HTTP status on 2026-07-28, JSON-RPC code)
    let cases = [
        (
            "resources/read",
            "notes://42",
            json!({"uri": "notes://42"}),
            400,
            -32602,
        ),
        (
            "resources/read",
            "elsewhere://1",
            json!({"uri": "elsewhere://1"}),
            400,
            -32602,
        ),
        (
            "resources/read",
            "settings://loud",
            json!({"uri": "settings://loud"}),
            200,
            -32603,
        ),
        (
            "prompts/get",
            "summarize",
            json!({"name": "summarize", "arguments": {"words": "many"}}),
            200,
            -32603,
        ),
    ];
    for (method, target, params, status, code) in cases {
        let answer = support::stateless_request(server.url(), None, method, target, params).await;
        assert_eq!(answer.status, status, "{method} {target}: {}", answer.body);
        let body = answer.json().expect("a JSON answer");
        assert_eq!(body["error"]["code"], code, "{method} {target}: {body}");
    }
}
