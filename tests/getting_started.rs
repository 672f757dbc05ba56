//! The README's "Getting started" page, run as written: its code is
//! `examples/getting_started.rs`, and each of its shell blocks runs in order
//! against that example (`cargo run --example getting_started` starts the
//! built example with the variables the line sets, on a free port that
//! replaces `127.0.0.1:3000`), with the `TOKEN=` line the server printed in
//! the environment, as a reader pastes it. The `text` block after a command
//! holds lines its output must contain.

mod support;

use std::process::Command;
use support::example::Example;

/// A fenced block of the page: its language and its text.
struct Block {
    lang: String,
    text: String,
}

/// The fenced blocks of the README section `heading`, in order.
fn section_blocks(heading: &str) -> Vec<Block> {
    let readme = std::fs::read_to_string(support::root().join("README.md")).expect("README.md");
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no {heading:?} section"));
    let section = &readme[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let Some(lang) = line.strip_prefix("```") else {
            continue;
        };
        let text: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        blocks.push(Block {
            lang: lang.to_owned(),
            text: text.join("\n") + "\n",
        });
    }
    blocks
}

/// The `NAME=value` assignments before `cargo run` on `line`.
fn leading_vars(line: &str) -> Vec<(String, String)> {
    line.split_whitespace()
        .take_while(|word| *word != "cargo")
        .filter_map(|word| word.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// The token the server printed on its `TOKEN=` line. The banner is
/// written just after the socket listens, so it may be a moment behind the
/// first connection: wait for it, up to 20 s.
fn printed_token(server: &Example) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let output = server.output();
        if let Some(token) = output
            .lines()
            .find_map(|line| line.trim().strip_prefix("TOKEN="))
        {
            return token.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server printed no TOKEN= line:\n{output}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_getting_started_page_runs_as_written() {
    let blocks = section_blocks("## Getting started");
    let code = blocks
        .iter()
        .find(|b| b.lang.starts_with("rust"))
        .expect("the page shows its code");
    let example = std::fs::read_to_string(support::root().join("examples/getting_started.rs"))
        .expect("examples/getting_started.rs");
    assert_eq!(
        code.text, example,
        "the page's code and examples/getting_started.rs differ"
    );

    let node = support::node_harness();
    let home = std::env::temp_dir().join(format!("mcp-getting-started-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("a scratch home");
    let path = format!(
        "{}:{}",
        node.join("node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut server: Option<Example> = None;
    let mut ran = 0;
    let mut output = String::new();
    for block in &blocks {
        match block.lang.as_str() {
            "sh" if block.text.contains("cargo run --example getting_started") => {
                let line = block.text.lines().next().unwrap_or_default();
                let vars = leading_vars(line);
                let vars: Vec<(&str, &str)> =
                    vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                drop(server.take());
                server = Some(Example::start("getting_started", &vars));
                ran += 1;
            }
            "sh" => {
                let server = server.as_ref().expect("a command before the server runs");
                let address = server
                    .url
                    .trim_start_matches("http://")
                    .trim_end_matches("/mcp");
                let script = block.text.replace("127.0.0.1:3000", address);
                let done = Command::new("bash")
                    .args(["-e", "-c", &script])
                    .current_dir(node)
                    .env("TOKEN", printed_token(server))
                    .env("PATH", &path)
                    .env("HOME", &home)
                    .env("MCP_INSPECTOR_SECRET_STORE", "memory")
                    .output()
                    .expect("bash runs");
                output = format!(
                    "{}{}",
                    String::from_utf8_lossy(&done.stdout),
                    String::from_utf8_lossy(&done.stderr)
                );
                assert!(done.status.success(), "{script}\nfailed:\n{output}");
                ran += 1;
            }
            "text" => {
                for expected in block.text.lines().filter(|l| !l.trim().is_empty()) {
                    assert!(
                        output.contains(expected),
                        "expected {expected:?} in the output:\n{output}"
                    );
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        ran, 5,
        "the page's commands changed: update this test's count"
    );
    let _ = std::fs::remove_dir_all(&home);
}
