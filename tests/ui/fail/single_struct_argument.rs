// The hint is a warning; denied here so that the snapshot pins its text.
#![deny(deprecated)]

use mcp_runtime::prelude::*;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NewNote {
    title: String,
    body: String,
}

// Most likely meant: `#[args] note: NewNote`.
#[mcp_tool]
async fn add_note(note: NewNote) -> String {
    format!("{}: {}", note.title, note.body)
}

// Described, so meant as one argument: no hint.
#[mcp_tool]
async fn add_described(
    /// The note to add.
    note: NewNote,
) -> String {
    note.title
}

#[mcp_tool]
async fn add_fields(#[args] note: NewNote) -> String {
    note.body
}

fn main() {}
