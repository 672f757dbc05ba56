//! What the provider examples share: the same three tools, and a `main` that
//! reports its settings, builds the server and serves it. Each example only
//! chooses its provider.

use mcp_runtime::prelude::*;
use std::net::{IpAddr, SocketAddr};

/// The caller as the provider's access token describes them.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct UserInfo {
    /// The subject (`sub`).
    pub user_id: String,
    /// `email`.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Login name (`preferred_username`, `username`, ...).
    pub username: Option<String>,
    /// `nickname`.
    pub nickname: Option<String>,
    /// Avatar URL.
    pub picture: Option<String>,
    /// Roles, as the provider grants them.
    pub roles: Vec<String>,
    /// Permissions, as the provider grants them.
    pub permissions: Vec<String>,
    /// Scopes the token grants.
    pub scopes: Vec<String>,
    /// The OAuth client the token was issued to.
    pub client_id: Option<String>,
    /// The organization the token acts for.
    pub organization: Option<String>,
    /// What else the provider says (Supabase's `aal`, ...).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Who is calling: the user's profile, roles and permissions, and the token's scopes.
#[mcp_tool(name = "get-user-info", read_only)]
pub async fn get_user_info(auth: &Auth) -> Json<UserInfo> {
    let user = auth.user.clone();
    Json(UserInfo {
        user_id: user.user_id,
        email: user.email,
        name: user.name,
        username: user.username,
        nickname: user.nickname,
        picture: user.picture,
        roles: user.roles,
        permissions: user.permissions,
        scopes: auth.scopes.clone(),
        client_id: auth.client_id.clone(),
        organization: user.organization,
        extra: user.extra,
    })
}

/// An administrator's action: needs the `admin` scope.
#[mcp_tool(name = "admin-action", scopes = "admin", destructive)]
pub async fn admin_action() -> &'static str {
    "admin-action done"
}

/// Manages users: needs the `admin` or the `user:write` scope.
#[mcp_tool(name = "manage-users", any_scope = ["admin", "user:write"])]
pub async fn manage_users(auth: &Auth) -> String {
    format!("{} may manage users", auth.user.user_id)
}

/// `builder` with the three tools.
pub fn with_tools(builder: McpServerBuilder) -> McpServerBuilder {
    builder
        .tool(get_user_info)
        .tool(admin_action)
        .tool(manage_users)
}

/// An environment variable an example reads, and whether its value is secret.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    name: &'static str,
    secret: bool,
}

/// A variable whose value may be printed.
pub const fn var(name: &'static str) -> Variable {
    Variable {
        name,
        secret: false,
    }
}

/// A variable whose value is never printed.
#[allow(dead_code, reason = "the custom example reads no secret")]
pub const fn secret(name: &'static str) -> Variable {
    Variable { name, secret: true }
}

/// Adds the tools to `builder`, prints the settings read from `variables`
/// (never a secret's value), builds and serves on `HOST`:`PORT` (default
/// `127.0.0.1:3000`). A configuration error is printed and exits with status 2.
pub async fn serve(
    example: &str,
    builder: McpServerBuilder,
    variables: &[Variable],
) -> std::io::Result<()> {
    // Logs by RUST_LOG; spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    let _tracing = match mcp_runtime::operations::init_tracing() {
        Ok(guard) => guard,
        Err(error) => config_error(example, &error),
    };

    println!("{example} example, configured from:");
    let common = [var("HOST"), var("PORT"), var("MCP_URL")];
    for variable in variables.iter().chain(&common) {
        match std::env::var(variable.name) {
            Ok(value) if !value.trim().is_empty() => {
                if variable.secret {
                    println!("  {}=<set, not shown>", variable.name);
                } else {
                    println!("  {}={}", variable.name, value.trim());
                }
            }
            _ => println!("  {} (not set)", variable.name),
        }
    }

    let server = match with_tools(builder).build() {
        Ok(server) => server,
        Err(error) => config_error(example, &error),
    };
    let addr = match bind_address() {
        Ok(addr) => addr,
        Err(why) => config_error(example, &why),
    };
    let path = server.http_config().path.clone();
    let running = match server.bind(addr) {
        Ok(running) => running,
        // The server refuses settings it cannot honour (e.g. a malformed `MCP_URL`).
        Err(error) if error.kind() == std::io::ErrorKind::InvalidInput => {
            config_error(example, &error)
        }
        Err(error) => return Err(error),
    };
    let shown = if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::from([127, 0, 0, 1]), addr.port())
    } else {
        addr
    };
    println!("listening on http://{shown}{path}");
    running.await
}

fn config_error(example: &str, why: &dyn std::fmt::Display) -> ! {
    eprintln!("{example} example: {why}");
    std::process::exit(2);
}

/// `HOST`:`PORT`, as `McpServer::listen` reads them.
fn bind_address() -> Result<SocketAddr, String> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let ip: IpAddr = if host == "localhost" {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse().map_err(|_| {
            format!("HOST must be an IP address, got `{host}`; set it like HOST=127.0.0.1")
        })?
    };
    let port = match std::env::var("PORT") {
        Ok(port) => port.trim().parse::<u16>().map_err(|_| {
            format!("PORT must be a port number, got `{port}`; set it like PORT=3000")
        })?,
        Err(_) => 3000,
    };
    Ok(SocketAddr::new(ip, port))
}
