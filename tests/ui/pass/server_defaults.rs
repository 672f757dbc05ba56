use mcp_runtime::prelude::*;

#[derive(Default)]
struct Plain;

#[mcp_server]
impl Plain {
    #[mcp_tool]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }

    #[mcp_tool]
    async fn maybe(&self, auth: Option<&Auth>) -> String {
        auth.is_some().to_string()
    }
}

struct Empty;

#[mcp_server(oauth = none)]
impl Empty {}

fn main() {
    let _ = Plain.into_mcp_builder().build();
    let _ = Empty.into_mcp_server();
    let _ = Plain::default().listen();
}
