use mcp_runtime::completion::prefix_matches;
use mcp_runtime::prelude::*;

struct Notes;

fn complete_language(request: &CompletionRequest) -> Vec<String> {
    prefix_matches(["en", "fr", "de"], request)
}

#[mcp_server(name = "notes", oauth = auth0)]
impl Notes {
    /// One note, for its owner.
    #[mcp_resource(uri = "notes://{owner}/{id}", complete(id = Self::complete_id, owner = complete_language))]
    async fn note(&self, owner: String, id: u32, auth: &Auth) -> String {
        format!("{owner}/{id} read by {}", auth.user.user_id)
    }

    /// Who may read: anyone.
    #[mcp_resource(uri = "notes://about", scopes = "notes:read")]
    async fn about(auth: Option<&Auth>) -> String {
        auth.map_or_else(|| "anonymous".to_owned(), |a| a.user.user_id.clone())
    }

    /// A greeting.
    #[mcp_prompt(name = "greet", complete(language = complete_language), complete(r#type = Self::complete_id))]
    async fn greet(&self, language: String, r#type: Option<String>, auth: &Auth) -> String {
        format!("{language} {type:?} {}", auth.user.user_id, type = r#type)
    }

    fn complete_id(request: &CompletionRequest) -> Vec<String> {
        prefix_matches(["1", "2"], request)
    }
}

/// The readme.
#[mcp_resource(uri = "docs://readme", mime_type = "text/markdown")]
async fn readme(auth: Option<&Auth>) -> String {
    format!("# Readme {}", auth.is_some())
}

#[mcp_resource(uri = "docs://pages/{page}", complete(page = complete_language))]
pub async fn read_page(page: u32, ctx: &RequestContext) -> String {
    let _ = ctx.request_id();
    format!("page {page}")
}

/// Says hello.
#[mcp_prompt(complete(name = complete_language))]
async fn hello(
    /// Who.
    name: String,
    auth: &Auth,
) -> Vec<PromptMessage> {
    vec![PromptMessage::user_text(format!(
        "{name} {}",
        auth.user.user_id
    ))]
}

fn main() {
    let _direct = readme::call;
    let _also = hello::call;
    let _ = Notes.into_mcp_builder();
    let _ = McpServer::builder("x", "1")
        .resource(readme)
        .resource_template(read_page)
        .prompt(hello)
        .build();
}
