//! `mcp-runtime` and everything under it, built once as a shared library, so
//! the edit-compile loop of a server links only the server's own code.
//!
//! Linking is most of a rebuild after a one-line change: a debug binary
//! carries the debug information of every crate it links, and a server
//! links the runtime, actix-web, tokio, rustls and the rest each time. With
//! this crate in the build, rustc links all of them from this library
//! instead, once, and the rebuild links the server's crate alone
//! (`BENCHMARKS.md`, "Compile time", has the figures).
//!
//! For debug builds run through cargo (`cargo run`, `cargo test`), which
//! point the loader at the library and at Rust's standard library; a
//! release binary should not use it. Make it an optional dependency:
//!
//! ```toml
//! [dependencies]
//! mcp-runtime = "0.1"
//! mcp-runtime-dylib = { version = "0.1", optional = true }
//! ```
//!
//! name it in `src/main.rs`, where it is linked only when the feature is on
//! (rustdoc runs no examples of a dylib; `examples/dylib.rs` in this
//! repository compiles the same line):
//!
//! ```ignore
//! #[cfg(feature = "mcp-runtime-dylib")]
//! use mcp_runtime_dylib as _;
//! ```
//!
//! and develop with `cargo run --features mcp-runtime-dylib`. Nothing else
//! changes: the code still names `mcp_runtime`.

pub use mcp_runtime;
