//! Compile tests for `#[mcp_tool]`, `#[mcp_resource]`, `#[mcp_prompt]` and
//! `#[mcp_server]`: every misuse in `tests/ui/fail` must be rejected with the
//! message in its `.stderr` snapshot (and nothing else: cases whose `main`
//! uses the broken item pin that one mistake is reported once), and every
//! case in `tests/ui/pass` must compile.
//!
//! The snapshots were made with the toolchain pinned in `rust-toolchain.toml`;
//! compiler output differs between versions. Regenerate them with
//! `TRYBUILD=overwrite cargo test --test compile_fail`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
