#[mcp_runtime::main(workers = 2)]
async fn main() -> std::io::Result<()> {
    Ok(())
}
