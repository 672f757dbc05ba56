#[mcp_runtime::main]
async fn run<T: Default>() -> std::io::Result<()> {
    let _ = T::default();
    Ok(())
}

fn main() {}
