//! The official TypeScript MCP SDK client (`tests/node/client.mjs`) against a
//! server built with the builder API: initialize, list tools, call a tool.

mod support;

use mcp_runtime::testing::TestServer;

use mcp_runtime::prelude::*;
use serde_json::{Value, json};
use std::process::Command;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// First operand.
    a: i64,
    /// Second operand.
    b: i64,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    total: i64,
}

fn server(stateless: bool) -> McpServer {
    McpServer::builder("sdk-peer-test", "0.3.1")
        .tool(
            Tool::new("add", |args: AddArgs| async move {
                Json(Sum {
                    total: args.a + args.b,
                })
            })
            .read_only(),
        )
        .tool(Tool::new("fail", || async {
            Err::<String, _>(ToolError::new("deliberate failure"))
        }))
        .stateless(stateless)
        .build()
        .expect("valid server")
}

/// Runs the SDK client; fails the test if it cannot start or fails.
fn sdk_client(url: &str, tool: &str, args: Value) -> Value {
    let dir = support::node_harness();
    let output = Command::new(support::node())
        .arg(dir.join("client.mjs"))
        .args([url, tool, &args.to_string()])
        .current_dir(dir)
        .output()
        .expect("start the SDK client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "SDK client failed with {}:\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("SDK client printed non-JSON ({e}): {stdout}"))
}

#[test]
fn sdk_client_initializes_lists_and_calls_with_a_session() {
    let running = TestServer::start(server(false)).expect("the server starts");
    let out = sdk_client(running.url(), "add", json!({"a": 2, "b": 40}));
    assert_eq!(out["serverInfo"]["name"], "sdk-peer-test");
    assert_eq!(out["serverInfo"]["version"], "0.3.1");
    assert_eq!(out["protocolVersion"], "2025-11-25");
    assert_eq!(out["tools"], json!(["add", "fail"]));
    assert_eq!(out["result"]["structuredContent"], json!({"total": 42}));
    assert_eq!(out["result"]["content"][0]["text"], r#"{"total":42}"#);
    assert_eq!(out["result"].get("isError"), None);
}

#[test]
fn sdk_client_sees_tool_errors_as_error_results() {
    let running = TestServer::start(server(false)).expect("the server starts");
    let out = sdk_client(running.url(), "fail", json!({}));
    assert_eq!(out["result"]["isError"], true);
    assert_eq!(out["result"]["content"][0]["text"], "deliberate failure");
}

#[test]
fn sdk_client_works_against_a_stateless_server() {
    let running = TestServer::start(server(true)).expect("the server starts");
    let out = sdk_client(running.url(), "add", json!({"a": 1, "b": 1}));
    assert_eq!(out["result"]["structuredContent"], json!({"total": 2}));
}
