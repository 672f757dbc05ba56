//! Why a server could not be built, or a registry change was refused.

use crate::tools::RegistryError;

/// Why a server could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// One or more tools are invalid; every problem is listed.
    #[error("invalid tools:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Tools(Vec<RegistryError>),
    /// A setting is invalid.
    #[error("invalid setting: {0}")]
    Config(String),
    /// Tools (or resources, prompts) only an authenticated caller could
    /// use, on a server that authenticates no one: they could never be used.
    #[error(
        "{} declare scopes, roles or permissions, or take `&Auth`, but the server \
         authenticates no one; configure `oauth`",
        .0.iter().map(|t| if t.contains(' ') { format!("`{t}`") } else { format!("tool `{t}`") }).collect::<Vec<_>>().join(", ")
    )]
    UnreachableTools(Vec<String>),
    /// One or more resources, resource templates or prompts are invalid;
    /// every problem is listed.
    #[error("invalid resources or prompts:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Features(Vec<String>),
}
