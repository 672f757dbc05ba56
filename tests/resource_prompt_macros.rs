//! `#[mcp_resource]` and `#[mcp_prompt]` inside `#[mcp_server]`: fixed and
//! templated resources with typed URI parameters, prompts with typed
//! required and optional arguments, and access keys enforced with 403.

use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, TestIssuer, TestServer};
use serde_json::json;

struct Library {
    greeting: String,
}

#[mcp_server(name = "library", version = "0.1.0", oauth = auth0)]
impl Library {
    /// The greeting.
    #[mcp_resource(uri = "lib://greeting", name = "greeting", mime_type = "text/plain")]
    async fn greeting(&self) -> String {
        self.greeting.clone()
    }

    /// A page of a book.
    #[mcp_resource(uri = "lib://books/{book}/pages/{page}", mime_type = "text/plain")]
    async fn page(book: String, page: u32, ctx: &RequestContext) -> String {
        let _ = ctx.request_id();
        format!("{book}, page {page}")
    }

    /// The logo.
    #[mcp_resource(uri = "lib://logo", mime_type = "image/png", scopes = "lib:secret")]
    async fn logo() -> Blob {
        Blob(vec![1, 2, 3])
    }

    /// Summarizes a book.
    #[mcp_prompt(name = "summarize")]
    async fn summarize(
        &self,
        /// The book.
        book: String,
        #[arg(description = "How many words")] words: Option<u32>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::user_text(format!(
            "{} Summarize {book} in {} words.",
            self.greeting,
            words.unwrap_or(100)
        ))]
    }

    /// A secret prompt.
    #[mcp_prompt(scopes = ["lib:secret"])]
    async fn secret_prompt() -> &'static str {
        "psst"
    }
}

#[actix_web::test]
async fn macro_resources_and_prompts_are_served() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Library {
        greeting: "Hello.".into(),
    }
    .into_mcp_builder()
    .oauth(issuer.provider())
    .build()
    .expect("builds");
    let server = TestServer::start_with(server, &issuer).expect("starts");
    let token = issuer.token().subject("u").sign().expect("token");
    let client = server.client().with_token(token);

    let listed = client.rpc("resources/list", json!({})).await.expect("list");
    assert_eq!(listed["resources"][0]["name"], "greeting");
    assert_eq!(listed["resources"][0]["description"], "The greeting.");
    let text = client
        .rpc("resources/read", json!({"uri": "lib://greeting"}))
        .await
        .expect("read");
    assert_eq!(text["contents"][0]["text"], "Hello.");
    assert_eq!(text["contents"][0]["mimeType"], "text/plain");
    let templates = client
        .rpc("resources/templates/list", json!({}))
        .await
        .expect("templates");
    assert_eq!(
        templates["resourceTemplates"][0]["uriTemplate"],
        "lib://books/{book}/pages/{page}"
    );
    let page = client
        .rpc("resources/read", json!({"uri": "lib://books/dune/pages/3"}))
        .await
        .expect("page");
    assert_eq!(page["contents"][0]["text"], "dune, page 3");
    let bad = client
        .rpc(
            "resources/read",
            json!({"uri": "lib://books/dune/pages/three"}),
        )
        .await
        .expect_err("not a number");
    assert!(
        matches!(bad, ClientError::Rpc { code: -32602, .. }),
        "{bad:?}"
    );

    let prompts = client
        .rpc("prompts/list", json!({}))
        .await
        .expect("prompts");
    assert_eq!(
        prompts["prompts"][0],
        json!({
            "name": "summarize",
            "description": "Summarizes a book.",
            "arguments": [
                {"name": "book", "description": "The book.", "required": true},
                {"name": "words", "description": "How many words", "required": false}
            ]
        })
    );
    let got = client
        .rpc(
            "prompts/get",
            json!({"name": "summarize", "arguments": {"book": "Dune", "words": "12"}}),
        )
        .await
        .expect("get");
    assert_eq!(
        got["messages"][0]["content"]["text"],
        "Hello. Summarize Dune in 12 words."
    );
    let bad = client
        .rpc(
            "prompts/get",
            json!({"name": "summarize", "arguments": {"book": "Dune", "words": "many"}}),
        )
        .await
        .expect_err("not a number");
    assert!(
        matches!(bad, ClientError::Rpc { code: -32602, .. }),
        "{bad:?}"
    );

    for (method, params) in [
        ("resources/read", json!({"uri": "lib://logo"})),
        ("prompts/get", json!({"name": "secret_prompt"})),
    ] {
        let refused = client.rpc(method, params).await.expect_err(method);
        assert!(
            matches!(&refused, ClientError::Forbidden { scopes, .. } if scopes == &["lib:secret"]),
            "{method}: {refused:?}"
        );
    }
}
