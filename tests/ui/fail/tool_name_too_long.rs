use mcp_runtime::prelude::*;

#[mcp_tool(
    name = "a_tool_name_that_goes_on_and_on_past_the_limit_of_one_hundred_and_twenty_eight_characters_that_the_model_context_protocol_sets_for_names"
)]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
