//! Snapshots of the listings `#[mcp_tool]` generates: input and output
//! schemas for nested structs, enums, options, vectors and maps, with the
//! descriptions that doc comments and `#[arg]` give.
//!
//! A changed schema fails the test and shows the difference (with `CI` set,
//! nothing is written). After checking that the change is intended, accept it
//! with `cargo insta review`, or `INSTA_UPDATE=always cargo test --test schemas`.

use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A postal address.
#[derive(Deserialize, Serialize, JsonSchema)]
pub struct Address {
    /// Street and number.
    pub street: String,
    /// City name.
    pub city: String,
    /// Postal code, when the country has them.
    pub postal_code: Option<String>,
}

/// How to reach a contact.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Channel {
    /// By e-mail.
    Email {
        /// The address.
        address: String,
    },
    /// By phone.
    Phone {
        /// Digits only.
        number: String,
        /// Extension, if any.
        extension: Option<u16>,
    },
}

/// Importance of a contact.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Everyone else.
    Standard,
    /// Answered first.
    Gold,
}

/// A contact as stored.
#[derive(Deserialize, Serialize, JsonSchema)]
pub struct Contact {
    /// Server-assigned id.
    pub id: u64,
    /// Full name.
    pub name: String,
    /// Where they live.
    pub address: Address,
    /// Ways to reach them, in order of preference.
    pub channels: Vec<Channel>,
    /// Importance.
    pub tier: Tier,
    /// Free-form labels with values.
    pub labels: BTreeMap<String, String>,
}

/// Create a contact.
#[mcp_tool(name = "create-contact", scopes = "contacts:write", idempotent)]
async fn create_contact(
    /// Full name.
    name: String,
    /// Where they live.
    address: Address,
    /// Ways to reach them.
    channels: Vec<Channel>,
    #[arg(description = "Importance; standard when absent.")] tier: Option<Tier>,
    /// Free-form labels.
    labels: Option<BTreeMap<String, String>>,
) -> Json<Contact> {
    Json(Contact {
        id: 1,
        name,
        address,
        channels,
        tier: tier.unwrap_or(Tier::Standard),
        labels: labels.unwrap_or_default(),
    })
}

/// Search filter, taken whole with `#[args]`.
#[derive(Deserialize, JsonSchema)]
pub struct Search {
    /// Words to look for.
    pub query: String,
    /// At most this many results (1-100).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u8>,
    /// Only these tiers.
    #[serde(default)]
    pub tiers: Vec<Tier>,
}

/// Results of a search.
#[derive(Serialize, JsonSchema)]
pub struct SearchResults {
    /// Matching contacts.
    pub contacts: Vec<Contact>,
    /// Whether more matched than were returned.
    pub truncated: bool,
}

/// Search contacts.
#[mcp_tool(name = "search-contacts", read_only, describe_access = false, any_scope = ["contacts:read", "admin"])]
async fn search_contacts(#[args] search: Search) -> Result<Json<SearchResults>, ToolError> {
    let _ = (search.query, search.limit, search.tiers);
    Ok(Json(SearchResults {
        contacts: Vec::new(),
        truncated: false,
    }))
}

/// Ping; takes nothing.
#[mcp_tool]
async fn ping() -> &'static str {
    "pong"
}

/// The listing of `tool` matches `tests/snapshots/schemas/<tool name>.snap`.
fn check_snapshot(tool: impl IntoTool) {
    let tool = tool.into_tool();
    let listing = serde_json::to_string_pretty(&tool.to_listing()).expect("listing serializes");
    insta::with_settings!({
        snapshot_path => "snapshots/schemas",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(tool.name(), listing);
    });
}

#[test]
fn nested_structs_enums_options_and_maps() {
    check_snapshot(create_contact);
}

#[test]
fn whole_arguments_struct_and_result_output() {
    check_snapshot(search_contacts);
}

#[test]
fn no_arguments() {
    check_snapshot(ping);
}
