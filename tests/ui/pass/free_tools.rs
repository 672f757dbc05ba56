use mcp_runtime::prelude::*;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct TaskId(u64);

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Summary {
    total: u64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Search {
    /// The text to look for.
    text: String,
    /// At most this many results.
    limit: Option<u32>,
}

/// Says hello.
#[mcp_tool(read_only, idempotent, open_world = false, title = "Greet")]
async fn greet(
    /// Who to greet.
    name: String,
    #[arg(description = "Shout it")] loud: Option<bool>,
    #[arg(rename = "taskId", description = "The task")] task: TaskId,
    mut count: u32,
) -> String {
    count += 1;
    format!("{name} {loud:?} {} {count}", task.0)
}

#[mcp_tool(name = "summarize", description = "Sums things up.")]
async fn summary(values: Vec<u64>) -> Json<Summary> {
    Json(Summary {
        total: values.iter().sum(),
    })
}

#[mcp_tool]
async fn fallible(r#type: String) -> Result<String, ToolError> {
    if r#type.is_empty() {
        return Err(ToolError::new("empty"));
    }
    Ok(r#type)
}

#[mcp_tool(client_capabilities = "sampling")]
async fn with_context(ctx: RequestContext, by_ref: Option<String>) -> String {
    ctx.progress(1.0, None, None).await;
    by_ref.unwrap_or_default()
}

#[mcp_tool]
async fn with_context_ref(ctx: &RequestContext) -> &'static str {
    let _ = ctx;
    "ok"
}

#[mcp_tool]
async fn search(#[args] query: Search) -> String {
    format!("{} {:?}", query.text, query.limit)
}

#[mcp_tool(destructive)]
async fn no_arguments() {}

/// Anonymous callers get a greeting too.
#[mcp_tool]
pub async fn maybe_caller(auth: Option<&Auth>) -> String {
    auth.map_or_else(|| "anonymous".to_owned(), |a| a.user.user_id.clone())
}

fn main() {
    let _direct = greet::call;
    let _ = McpServer::builder("x", "1")
        .tool(greet)
        .tool(summary)
        .tool(fallible)
        .tool(with_context)
        .tool(with_context_ref)
        .tool(search)
        .tool(no_arguments)
        .tool(maybe_caller)
        .build();
}
