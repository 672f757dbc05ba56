use mcp_runtime::prelude::*;

#[mcp_tool]
async fn total(values: &Vec<u32>) -> String {
    values.iter().sum::<u32>().to_string()
}

fn main() {}
