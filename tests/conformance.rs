//! The official MCP conformance suite against `examples/conformance.rs`.
//!
//! Three runs, each against an empty baseline: every scenario must pass, and
//! under a baseline a warning counts as a failure too. The stable 0.1 suite,
//! the 0.2 pre-release at 2025-11-25 (adds `server-session-lifecycle`), and
//! the pre-release's whole 2026-07-28 suite (`server-stateless`, the
//! `input-required-result-*` scenarios, `json-schema-2020-12`, the header
//! validation ones, ...). The baseline files stay so that a scenario which
//! ever has to be excused is listed where a reviewer sees it.

mod support;

use support::example::Example;

fn run_suite(package_dir: &str, args: &[&str], baseline: &str) {
    let fixture = Example::start("conformance", &[("RUST_LOG", "warn")]);
    support::run_conformance(&fixture.url, package_dir, args, baseline, "");
}

#[test]
fn stable_suite() {
    run_suite(
        "@modelcontextprotocol/conformance",
        &[],
        "baseline-stable.yml",
    );
}

#[test]
fn pre_release_suite_2025_11_25() {
    run_suite(
        "conformance-next",
        &["--spec-version", "2025-11-25"],
        "baseline-next-2025-11-25.yml",
    );
}

#[test]
fn pre_release_suite_2026_07_28() {
    run_suite(
        "conformance-next",
        &["--suite", "all", "--spec-version", "2026-07-28"],
        "baseline-next-2026-07-28.yml",
    );
}
