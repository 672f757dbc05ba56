//! `mcp-runtime-dylib`: a server linked against the runtime as a shared
//! library (`examples/dylib.rs`) serves as any other does, and the runtime
//! it runs is the library's. The process has the library mapped, and the
//! binary holds none of the runtime: not even the text of a refusal the
//! transport writes.

mod support;

use mcp_runtime::testing::TestClient;
use serde_json::json;
use support::example::Example;

/// Text only the runtime's transport holds (its answer to a POST whose
/// `Accept` names neither JSON nor an event stream).
const RUNTIME_TEXT: &[u8] = b"Accept must include application/json and text/event-stream";

#[tokio::test]
async fn a_server_linked_against_the_shared_library_serves_from_it() {
    let server = Example::start("dylib", &[]);

    let maps = std::fs::read_to_string(format!("/proc/{}/maps", server.pid()))
        .expect("the example's memory map");
    assert!(
        maps.lines()
            .any(|line| line.contains("libmcp_runtime_dylib")),
        "libmcp_runtime_dylib is not mapped into the example:\n{maps}"
    );
    let binary = std::fs::read(support::built_example("dylib")).expect("the example's binary");
    assert!(
        !binary
            .windows(RUNTIME_TEXT.len())
            .any(|w| w == RUNTIME_TEXT),
        "the example's binary holds the runtime's code: it was linked statically"
    );

    let client = TestClient::new(&server.url);
    let echoed = client
        .call_tool("echo", json!({"text": "from the library"}))
        .await
        .expect("echo answers");
    assert_eq!(echoed.text(), "from the library");
    // The transport's own refusal comes from the library's code too.
    let refused = client
        .raw("POST")
        .header("accept", "text/plain")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(refused.status, 406);
    assert!(
        refused.body.contains("Accept must include"),
        "{}",
        refused.body
    );
}
