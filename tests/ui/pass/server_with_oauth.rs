use mcp_runtime::auth::{AuthError, TokenVerifier, VerifyFuture};
use mcp_runtime::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

struct StaticVerifier;

impl TokenVerifier for StaticVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(async move {
            if token == "secret" {
                let claims = serde_json::json!({ "sub": "u1", "scope": "tasks:read" });
                match claims {
                    serde_json::Value::Object(map) => Ok(Auth::from_claims(token, map)),
                    _ => Err(AuthError::InvalidToken("bad claims".to_owned())),
                }
            } else {
                Err(AuthError::InvalidToken("unknown token".to_owned()))
            }
        })
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Query {
    /// The text to look for.
    text: String,
    /// At most this many results.
    limit: Option<u32>,
}

struct Tasks {
    calls: AtomicU64,
}

#[mcp_server(
    name = "tasks",
    version = "1.0.0",
    title = "Tasks",
    instructions = "Manage tasks.",
    oauth = custom(StaticVerifier)
)]
impl Tasks {
    /// Lists tasks.
    #[mcp_tool(scopes = ["tasks:read"], read_only)]
    async fn list(&self, auth: &Auth) -> String {
        self.calls.fetch_add(1, Ordering::Relaxed);
        auth.user.user_id.clone()
    }

    /// Deletes a task.
    #[mcp_tool(name = "delete-task", any_scope = ["tasks:write", "admin"], destructive)]
    async fn delete(&self, auth: Option<&Auth>, id: u64) -> Result<String, ToolError> {
        Ok(format!("{id} {}", auth.is_some()))
    }

    #[mcp_tool(roles = "admin", permissions = ["tasks:purge"], describe_access = false)]
    async fn purge(auth: &Auth, ctx: RequestContext) -> String {
        let _ = ctx;
        auth.user.user_id.clone()
    }

    /// Searches tasks.
    #[mcp_tool(scopes = "tasks:read")]
    async fn search(&self, #[args] query: Query, ctx: &RequestContext) -> Json<Vec<String>> {
        let _ = ctx;
        Json(vec![query.text, format!("{:?}", query.limit)])
    }

    #[mcp_tool(any_scope = "tasks:write")]
    async fn rename(
        &self,
        /// The task.
        id: u64,
        #[arg(rename = "newName", description = "The new name")] new_name: String,
        note: Option<String>,
    ) -> Result<Json<Vec<String>>, ToolError> {
        Ok(Json(vec![
            id.to_string(),
            new_name,
            note.unwrap_or_default(),
        ]))
    }

    #[mcp_tool]
    async fn version() -> &'static str {
        "1"
    }

    /// Not a tool: an ordinary helper stays as it is.
    fn helper(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

fn main() {
    let tasks = Tasks {
        calls: AtomicU64::new(0),
    };
    let _ = tasks.helper();
    let _ = tasks.into_mcp_server();
}
