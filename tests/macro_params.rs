//! What the macros honour the same way on tools, prompts and resources:
//! `#[arg(rename = "...")]` gives the name clients use (a tool's argument, a
//! prompt's argument, a resource template's variable), and a doc comment
//! written as `#[doc = include_str!(..)]` still becomes the description.

use mcp_runtime::prelude::*;
use mcp_runtime::testing::TestServer;
use serde_json::json;

struct Shelf;

#[mcp_server(name = "shelf", version = "0.1.0")]
impl Shelf {
    #[doc = include_str!("macro_docs/shelve.md")]
    #[mcp_tool]
    async fn shelve(#[arg(rename = "bookId")] book_id: u32) -> String {
        format!("shelved {book_id}")
    }

    /// Recommends a book.
    #[doc = include_str!("macro_docs/recommend.md")]
    #[mcp_prompt]
    async fn recommend(
        #[arg(rename = "lang", description = "The reader's language")] language: String,
        /// How many books.
        #[arg(rename = "n")]
        count: Option<u32>,
    ) -> String {
        format!("{} books in {language}", count.unwrap_or(1))
    }

    /// One item on the shelf.
    #[mcp_resource(uri = "shelf://items/{id}")]
    async fn item(#[arg(rename = "id")] item_id: u32) -> String {
        format!("item {item_id}")
    }
}

#[actix_web::test]
async fn renamed_parameters_and_file_docs_reach_clients() {
    let server = TestServer::start(Shelf.into_mcp_server().expect("builds")).expect("starts");
    let client = server.client();

    let tools = client.rpc("tools/list", json!({})).await.expect("tools");
    let shelve = &tools["tools"][0];
    assert_eq!(
        shelve["description"],
        "Shelves a book.\n\nThe description comes from a Markdown file next to the code."
    );
    assert!(
        shelve["inputSchema"]["properties"]["bookId"].is_object(),
        "{shelve}"
    );
    assert_eq!(shelve["inputSchema"]["required"], json!(["bookId"]));
    let called = client
        .call_tool("shelve", json!({"bookId": 7}))
        .await
        .expect("call");
    assert_eq!(called.text(), "shelved 7");

    let prompts = client
        .rpc("prompts/list", json!({}))
        .await
        .expect("prompts");
    assert_eq!(
        prompts["prompts"][0],
        json!({
            "name": "recommend",
            "description": "Recommends a book.\nRead from a file.",
            "arguments": [
                {"name": "lang", "description": "The reader's language", "required": true},
                {"name": "n", "description": "How many books.", "required": false}
            ]
        })
    );
    let got = client
        .rpc(
            "prompts/get",
            json!({"name": "recommend", "arguments": {"lang": "French", "n": "3"}}),
        )
        .await
        .expect("get");
    assert_eq!(got["messages"][0]["content"]["text"], "3 books in French");

    let read = client
        .rpc("resources/read", json!({"uri": "shelf://items/42"}))
        .await
        .expect("read");
    assert_eq!(read["contents"][0]["text"], "item 42");
}

/// Counts to three, saying how far it got.
#[mcp_tool]
async fn count_aloud(ctx: &RequestContext) -> &'static str {
    ctx.progress(1.0, Some(3.0), Some("one")).await;
    "three"
}

/// Greets its caller, if it knows one.
#[mcp_tool]
async fn greet(caller: Option<&Auth>) -> String {
    format!(
        "hello {}",
        caller.map_or("stranger", |c| c.user.user_id.as_str())
    )
}

/// Only a tool given its `RequestContext` can reach the client while it
/// runs, so only its calls get a stream made ready; the caller alone (taken
/// from the context by the macro) does not count.
#[test]
fn only_a_tool_given_its_context_may_notify() {
    assert!(count_aloud.into_tool().notifies(), "takes its context");
    assert!(!greet.into_tool().notifies(), "takes only its caller");
}
