#[mcp_runtime::main]
fn main() -> std::io::Result<()> {
    Ok(())
}
