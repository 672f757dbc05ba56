use mcp_runtime::prelude::*;

struct Demo;

// One mistake, one error: the server still has its generated methods, so
// `main` compiles.
#[mcp_server(name = "demo")]
impl Demo {
    #[mcp_tool(read_olny)]
    async fn ping(&self) -> String {
        "pong".into()
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let _builder = Demo.into_mcp_builder();
    let _server = Demo.into_mcp_server();
    Demo.listen().await
}
