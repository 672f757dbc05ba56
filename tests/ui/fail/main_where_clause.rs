#[mcp_runtime::main]
async fn main() -> std::io::Result<()>
where
    u8: Copy,
{
    Ok(())
}
