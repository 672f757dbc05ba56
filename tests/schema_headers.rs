//! Hand-written (JSON Schema 2020-12) input schemas and SEP-2243 parameter
//! headers, against a real server on loopback: raw schemas are listed
//! verbatim and refused at build when they are not object schemas; on the
//! 2026-07-28 wire a `tools/call` must repeat each `x-mcp-header` argument in
//! its `Mcp-Param-{Name}` header, or get 400 with error -32020.

mod support;

use mcp_runtime::testing::{TestClient, TestServer};

use mcp_runtime::prelude::*;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

const V2026: &str = "2026-07-28";
const V2025_11: &str = "2025-11-25";
const HEADER_MISMATCH: i64 = -32020;

type Args = Map<String, Value>;

fn raw_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
            }
        },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" }
        },
        "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
        "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false
    })
}

/// Arguments of `derived`: the header comes from a schemars attribute.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Deploy {
    #[schemars(extend("x-mcp-header" = "Zone"))]
    zone: String,
    replicas: u32,
}

fn server() -> TestServer {
    let echo = |args: Args| async move { Value::Object(args).to_string() };
    let server = McpServer::builder("schema-headers", "0.0.1")
        .stateless(true)
        .tool(
            Tool::new("raw", echo)
                .description("A hand-written schema.")
                .with_input_schema(raw_schema()),
        )
        .tool(
            Tool::new("routed", echo)
                .description("Region, priority and verbose travel in headers.")
                .with_input_schema(json!({
                    "type": "object",
                    "properties": {
                        "region": { "type": "string" },
                        "priority": { "type": "integer" },
                        "verbose": { "type": "boolean" },
                        "target": { "type": "object", "properties": {
                            "rack": { "type": ["string", "null"], "x-mcp-header": "Rack" }
                        } },
                        "query": { "type": "string" }
                    },
                    "required": ["region"]
                }))
                .header_param("region", "Region")
                .header_param("priority", "Priority")
                .header_param("verbose", "Verbose"),
        )
        .tool(Tool::new("derived", |d: Deploy| async move { d.zone }).description("Deploys."))
        .build()
        .expect("valid fixture server");
    TestServer::start(server).expect("the server starts")
}

/// A 2026-07-28 request with its `_meta`, and the headers a client derives
/// from it (version, `Mcp-Method`, `Mcp-Name`), plus `extra`.
fn request_2026(id: i64, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": V2026,
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

async fn post(
    url: &str,
    body: &Value,
    version: &str,
    extra: &[(&str, &[u8])],
) -> (StatusCode, Value) {
    let mut request = TestClient::new(url)
        .raw("POST")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", version);
    if version == V2026 {
        request = request.header("mcp-method", body["method"].as_str().expect("a method"));
        if let Some(name) = body["params"]["name"].as_str() {
            request = request.header("mcp-name", name);
        }
    }
    for (name, value) in extra {
        let value = std::str::from_utf8(value).expect("a text header value");
        request = request.header(*name, value);
    }
    let reply = request
        .body(body.to_string())
        .send()
        .await
        .expect("the server answers");
    let json = reply
        .json()
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", reply.status, reply.body));
    (StatusCode::from_u16(reply.status).expect("a status"), json)
}

async fn call(
    url: &str,
    id: i64,
    tool: &str,
    arguments: Value,
    extra: &[(&str, &[u8])],
) -> (StatusCode, Value) {
    let body = request_2026(
        id,
        "tools/call",
        json!({ "name": tool, "arguments": arguments }),
    );
    post(url, &body, V2026, extra).await
}

fn assert_accepted(reply: &(StatusCode, Value), what: &str) {
    let (status, body) = reply;
    assert_eq!(*status, StatusCode::OK, "{what}: {body}");
    assert!(body.get("error").is_none(), "{what}: {body}");
    assert_ne!(body["result"]["isError"], true, "{what}: {body}");
}

fn assert_mismatch(reply: &(StatusCode, Value), id: i64, header: &str, what: &str) {
    let (status, body) = reply;
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{what}: {body}");
    assert_eq!(body["error"]["code"], HEADER_MISMATCH, "{what}: {body}");
    assert_eq!(
        body["id"], id,
        "{what}: the error echoes the request id: {body}"
    );
    // Header names are case-insensitive; the message may use the request's spelling.
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message
            .to_ascii_lowercase()
            .contains(&header.to_ascii_lowercase()),
        "{what}: names {header}: {body}"
    );
}

async fn list_tools(url: &str, version: &str) -> Vec<Value> {
    let body = if version == V2026 {
        request_2026(1, "tools/list", json!({}))
    } else {
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })
    };
    let (status, reply) = post(url, &body, version, &[]).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply["result"]["tools"]
        .as_array()
        .cloned()
        .expect("a tools array")
}

#[tokio::test]
async fn raw_schemas_are_listed_verbatim() {
    let server = server();
    for version in [V2026, V2025_11] {
        let tools = list_tools(server.url(), version).await;
        let raw = tools
            .iter()
            .find(|t| t["name"] == "raw")
            .expect("raw listed");
        assert_eq!(raw["inputSchema"], raw_schema(), "at {version}");
        let routed = tools
            .iter()
            .find(|t| t["name"] == "routed")
            .expect("routed listed");
        assert_eq!(
            routed["inputSchema"]["properties"]["region"]["x-mcp-header"],
            "Region"
        );
        assert_eq!(
            routed["inputSchema"]["properties"]["priority"]["x-mcp-header"],
            "Priority"
        );
        let derived = tools
            .iter()
            .find(|t| t["name"] == "derived")
            .expect("derived listed");
        assert_eq!(
            derived["inputSchema"]["properties"]["zone"]["x-mcp-header"],
            "Zone"
        );
        assert_eq!(
            derived["inputSchema"].get("$schema"),
            None,
            "2020-12 is the default"
        );
    }
}

#[test]
fn non_object_and_malformed_schemas_are_refused_at_build() {
    let build = |tool: Tool| {
        McpServer::builder("bad", "0.0.1")
            .tool(tool)
            .build()
            .expect_err("the build fails")
            .to_string()
    };
    let noop = |_: Args| async { "" };
    for schema in [
        json!({ "type": "array" }),
        json!(true),
        json!({ "properties": {} }),
    ] {
        let error = build(Tool::new("listy", noop).with_input_schema(schema.clone()));
        assert!(error.contains("tool `listy`"), "{schema}: {error}");
        assert!(error.contains("\"type\": \"object\""), "{schema}: {error}");
    }
    let error = build(Tool::new("floaty", noop).with_input_schema(json!({
        "type": "object",
        "properties": { "score": { "type": "number", "x-mcp-header": "Score" } }
    })));
    assert!(
        error.contains("tool `floaty`") && error.contains("`number`"),
        "{error}"
    );
    let error = build(Tool::new("spacey", noop).with_input_schema(json!({
        "type": "object",
        "properties": { "r": { "type": "string", "x-mcp-header": "My Region" } }
    })));
    assert!(
        error.contains("/properties/r") && error.contains("token"),
        "{error}"
    );
    let error = build(
        Tool::new("missing", noop)
            .with_input_schema(json!({ "type": "object", "properties": {} }))
            .header_param("region", "Region"),
    );
    assert!(error.contains("no top-level property `region`"), "{error}");
    let error = build(
        Tool::new("twice", noop)
            .with_input_schema(json!({ "type": "object", "properties": {
                "a": { "type": "string" }, "b": { "type": "string" } } }))
            .header_param("a", "Region")
            .header_param("b", "REGION"),
    );
    assert!(error.contains("unique"), "{error}");
}

#[tokio::test]
async fn matching_headers_are_accepted() {
    let server = server();
    let url = server.url();
    let args = json!({ "region": "us-west1", "priority": 42, "verbose": false, "query": "q" });
    let headers: [(&str, &[u8]); 3] = [
        ("Mcp-Param-Region", b"us-west1"),
        ("mcp-param-priority", b"42"),
        ("MCP-PARAM-VERBOSE", b"false"),
    ];
    assert_accepted(
        &call(url, 10, "routed", args, &headers).await,
        "plain values",
    );
    assert_accepted(
        &call(
            url,
            11,
            "routed",
            json!({ "region": "Hello" }),
            &[("Mcp-Param-Region", b"=?base64?SGVsbG8=?=")],
        )
        .await,
        "base64 value",
    );
    assert_accepted(
        &call(
            url,
            12,
            "routed",
            json!({ "region": "Hello, 世界" }),
            &[("Mcp-Param-Region", b"=?base64?SGVsbG8sIOS4lueVjA==?=")],
        )
        .await,
        "base64 non-ASCII value",
    );
    assert_accepted(
        &call(
            url,
            13,
            "routed",
            json!({ "region": "SGVsbG8=" }),
            &[("Mcp-Param-Region", b"SGVsbG8=")],
        )
        .await,
        "no sentinel: literal",
    );
    assert_accepted(
        &call(
            url,
            14,
            "routed",
            json!({ "region": "us west 1" }),
            &[("Mcp-Param-Region", b"  us west 1 ")],
        )
        .await,
        "optional white space trimmed",
    );
    assert_accepted(
        &call(
            url,
            15,
            "routed",
            json!({ "region": "r", "verbose": null }),
            &[("Mcp-Param-Region", b"r")],
        )
        .await,
        "a null argument needs no header",
    );
    assert_accepted(
        &call(
            url,
            16,
            "routed",
            json!({ "region": "r", "target": { "rack": "r7" } }),
            &[("Mcp-Param-Region", b"r"), ("Mcp-Param-Rack", b"r7")],
        )
        .await,
        "nested property",
    );
    assert_accepted(
        &call(
            url,
            17,
            "derived",
            json!({ "zone": "z1", "replicas": 2 }),
            &[("Mcp-Param-Zone", b"z1")],
        )
        .await,
        "header declared with a schemars attribute",
    );
    assert_accepted(
        &call(
            url,
            18,
            "raw",
            json!({ "email": "a@b.c" }),
            &[("Mcp-Param-Unrelated", b"x")],
        )
        .await,
        "headers a tool does not declare are ignored",
    );
}

/// Extra request headers, `(name, value)`.
type Extra = Vec<(&'static str, &'static [u8])>;

#[tokio::test]
async fn missing_mismatched_or_malformed_headers_are_refused() {
    let server = server();
    let url = server.url();
    let hello = || json!({ "region": "Hello" });
    let region = "Mcp-Param-Region";
    // (id, tool, arguments, headers sent, header named in the refusal, case)
    let refusals: Vec<(_, _, _, Extra, _, _)> = vec![
        (20, "routed", hello(), vec![], region, "missing header"),
        (
            21,
            "routed",
            hello(),
            vec![(region, b"Goodbye")],
            region,
            "mismatch",
        ),
        (
            22,
            "routed",
            hello(),
            vec![(region, b"hello")],
            region,
            "values are case-sensitive",
        ),
        (
            23,
            "routed",
            hello(),
            vec![(region, b"=?base64?SGVsbG8?=")],
            region,
            "bad padding",
        ),
        (
            24,
            "routed",
            hello(),
            vec![(region, b"=?base64?SGVs!!!bG8=?=")],
            region,
            "bad characters",
        ),
        (
            25,
            "routed",
            hello(),
            vec![(region, b"=?base64?SGVsbG8gV29ybGQ=?=")],
            region,
            "decoded mismatch",
        ),
        (
            26,
            "routed",
            json!({ "region": "R\u{e9}gion" }),
            vec![(region, "R\u{e9}gion".as_bytes())],
            region,
            "non-ASCII value",
        ),
        (
            27,
            "routed",
            hello(),
            vec![(region, b"Hello"), (region, b"Hello")],
            region,
            "repeated header",
        ),
        (
            28,
            "routed",
            json!({ "region": "r", "priority": 42 }),
            vec![(region, b"r"), ("Mcp-Param-Priority", b"41")],
            "Mcp-Param-Priority",
            "integer mismatch",
        ),
        (
            29,
            "routed",
            json!({ "region": "r", "verbose": true }),
            vec![(region, b"r"), ("Mcp-Param-Verbose", b"TRUE")],
            "Mcp-Param-Verbose",
            "boolean mismatch",
        ),
        (
            30,
            "routed",
            json!({ "region": "r" }),
            vec![(region, b"r"), ("Mcp-Param-Verbose", b"true")],
            "Mcp-Param-Verbose",
            "header without argument",
        ),
        (
            31,
            "routed",
            json!({ "region": "r", "target": { "rack": "r7" } }),
            vec![(region, b"r")],
            "Mcp-Param-Rack",
            "nested argument without header",
        ),
        (
            32,
            "derived",
            json!({ "zone": "z1", "replicas": 2 }),
            vec![("Mcp-Param-Zone", b"z2")],
            "Mcp-Param-Zone",
            "derived mismatch",
        ),
    ];
    for (id, tool, args, sent, header, what) in refusals {
        assert_mismatch(&call(url, id, tool, args, &sent).await, id, header, what);
    }
    // A string id is echoed too.
    let body = json!({ "jsonrpc": "2.0", "id": "abc", "method": "tools/call", "params": {
        "name": "routed", "arguments": { "region": "x" },
        "_meta": { "io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": {} } } });
    let (status, reply) = post(url, &body, V2026, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["id"], "abc", "{reply}");
    assert_eq!(reply["error"]["code"], HEADER_MISMATCH, "{reply}");
}

#[tokio::test]
async fn the_2025_wire_ignores_parameter_headers() {
    let server = server();
    for (id, headers) in [
        (40, vec![]),
        (41, vec![("Mcp-Param-Region", b"something else".as_slice())]),
        (
            42,
            vec![("Mcp-Param-Region", b"=?base64?SGVsbG8?=".as_slice())],
        ),
    ] {
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": { "name": "routed", "arguments": { "region": "Hello" } } });
        let reply = post(server.url(), &body, V2025_11, &headers).await;
        assert_accepted(&reply, &format!("2025-11-25 with {headers:?}"));
    }
}
