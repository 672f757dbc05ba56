#[mcp_runtime::main]
async fn main(port: u16) -> std::io::Result<()> {
    let _ = port;
    Ok(())
}
