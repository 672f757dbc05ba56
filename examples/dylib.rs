//! A one-tool server linked against `mcp-runtime-dylib`: the
//! runtime and its dependencies come from one shared library, so a rebuild
//! after editing a tool links this crate alone. In a server's own crate,
//! make `mcp-runtime-dylib` an optional dependency and write
//! `#[cfg(feature = "mcp-runtime-dylib")]` above the `use` below (see the
//! crate's documentation); here it is always on.
//!
//! ```sh
//! cargo run --example dylib
//! ```

use mcp_runtime::prelude::*;
// Named so that rustc links it; nothing in it is used by name.
use mcp_runtime_dylib as _;

struct Echo;

#[mcp_server(name = "echo", version = "1.0.0")]
impl Echo {
    /// Says back what it is given.
    #[mcp_tool(read_only, idempotent)]
    async fn echo(text: String) -> String {
        text
    }
}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    Echo.listen().await
}
