//! The official MCP conformance suite against `examples/conformance.rs`.
//!
//! Five runs, each against a baseline: every scenario not listed there must
//! pass, and under a baseline a warning counts as a failure too. The stable
//! 0.1 suite, the 0.2 pre-release at 2025-11-25 (adds
//! `server-session-lifecycle`), the pre-release's whole 2026-07-28 suite
//! (`server-stateless`, the `input-required-result-*` scenarios,
//! `json-schema-2020-12`, the header validation ones, ...), and exactly what
//! each revision requires (`--requirements`, which for 2026-07-28 includes
//! the tasks extension's `tasks-*` scenarios). The baseline files list any
//! scenario excused, where a reviewer sees it.

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

#[test]
fn requirements_2026_07_28() {
    run_suite(
        "conformance-next",
        &["--requirements", "2026-07-28"],
        "baseline-requirements-2026-07-28.yml",
    );
}

#[test]
fn requirements_2025_11_25() {
    run_suite(
        "conformance-next",
        &["--requirements", "2025-11-25"],
        "baseline-requirements-2025-11-25.yml",
    );
}
