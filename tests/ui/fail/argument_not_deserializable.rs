use mcp_runtime::prelude::*;

struct Point {
    x: i32,
    y: i32,
}

#[mcp_tool]
async fn plot(point: Point) -> String {
    format!("{} {}", point.x, point.y)
}

fn main() {}
