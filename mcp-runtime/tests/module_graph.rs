//! The modules of `mcp-runtime/src` depend on each other one way only.
//!
//! At every level of the module tree (the top-level modules, the files of
//! `auth/`, of `auth/proxy/`, ...) the references between sibling modules
//! must form no cycle. A reference is a `use` or a path written as
//! `crate::...`, `super::...` or `self::...` in code that is not a
//! `#[cfg(test)]` item; comments, doc links and string literals do not count.
//! A name re-exported by a parent's `mod.rs` (`pub use provider::Provider`)
//! counts as a reference to the child module that defines it.
//!
//! The source is read as text, so the check needs no dependency and runs in
//! the ordinary test pass.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// A module path below the crate root; `[]` is the root (`lib.rs`).
type ModPath = Vec<String>;

/// Where one edge was seen first, to show the reader which line to change.
#[derive(Clone, Debug)]
struct Witness {
    file: String,
    line: usize,
    path: String,
}

/// The sibling graphs of one crate: for each parent module, the edges
/// between its children, each with the first reference that made it.
#[derive(Default)]
struct Graph {
    edges: BTreeMap<ModPath, BTreeMap<(String, String), Witness>>,
}

#[test]
fn runtime_modules_have_no_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    read_tree(&src, &src, &mut files);
    let report = cycles(&files);
    assert!(
        report.is_empty(),
        "module cycles in mcp-runtime/src:\n{report}"
    );
}

/// The check itself fails on a cycle, at the top level and inside a folder,
/// and follows `super::`, use trees and re-exports.
#[test]
fn check_reports_a_cycle() {
    let files: BTreeMap<String, String> = [
        ("lib.rs", "mod a; mod b; mod c;"),
        ("a/mod.rs", "mod x; mod y; pub use x::Thing;"),
        ("a/x.rs", "use super::y::Other; pub struct Thing;"),
        // `super::Thing` is `x`'s, re-exported by `a/mod.rs`.
        (
            "a/y.rs",
            "pub struct Other; fn f() -> super::Thing { todo!() }",
        ),
        ("b.rs", "use crate::{a::Thing, c};"),
        // A comment, a string and a test module do not count.
        (
            "c.rs",
            "// crate::b\nconst S: &str = \"crate::b\";\n#[cfg(test)]\nmod tests { use crate::b; }",
        ),
    ]
    .into_iter()
    .map(|(p, s)| (p.to_owned(), s.to_owned()))
    .collect();
    assert_eq!(
        cycles(&files),
        "a: cycle among x, y (e.g. x -> y -> x)\n  x -> y: a/x.rs:1 `super::y::Other`\n  y -> x: a/y.rs:1 `super::Thing`\n"
    );

    let mut files = files;
    files.insert("c.rs".into(), "fn g() { crate::b::h() }".into());
    files.insert(
        "a/mod.rs".into(),
        "mod x; mod y; pub use x::Thing; fn k() { crate::c::g() }".into(),
    );
    let report = cycles(&files);
    assert!(
        report.contains("crate: cycle among a, b, c (e.g. a -> c -> b -> a)\n"),
        "{report}"
    );
}

/// Reads every `.rs` file below `dir`, keyed by its path relative to `root`.
fn read_tree(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            read_tree(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("below root");
            let rel = rel.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("UTF-8 source");
            files.insert(rel, text);
        }
    }
}

/// Every cycle of every sibling graph, one paragraph each; empty if none.
fn cycles(files: &BTreeMap<String, String>) -> String {
    let graph = build_graph(files);
    let mut report = String::new();
    for (parent, edges) in &graph.edges {
        let mut adjacency: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (from, to) in edges.keys() {
            adjacency.entry(from).or_default().insert(to);
            adjacency.entry(to).or_default();
        }
        for component in strongly_connected(&adjacency) {
            let level = if parent.is_empty() {
                "crate".to_owned()
            } else {
                parent.join("::")
            };
            let cycle = one_cycle(&adjacency, &component);
            let members: Vec<&str> = component.iter().copied().collect();
            let _ = writeln!(
                report,
                "{level}: cycle among {} (e.g. {})",
                members.join(", "),
                cycle.join(" -> ")
            );
            for ((from, to), w) in edges {
                if component.contains(from.as_str()) && component.contains(to.as_str()) {
                    let _ = writeln!(
                        report,
                        "  {from} -> {to}: {}:{} `{}`",
                        w.file, w.line, w.path
                    );
                }
            }
        }
    }
    report
}

/// The module each file defines: `auth/mod.rs` and `auth.rs` are `auth`.
fn module_of(file: &str) -> ModPath {
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    let mut parts: ModPath = stem.split('/').map(str::to_owned).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn build_graph(files: &BTreeMap<String, String>) -> Graph {
    let modules: BTreeSet<ModPath> = files.keys().map(|f| module_of(f)).collect();
    let sources: BTreeMap<&str, Vec<Token>> = files
        .iter()
        .map(|(f, text)| (f.as_str(), without_test_items(tokenize(text))))
        .collect();
    // Files that only exist as `#[cfg(test)] mod x;` are test code.
    let test_only: BTreeSet<ModPath> = sources
        .iter()
        .flat_map(|(f, tokens)| {
            let module = module_of(f);
            test_module_declarations(tokens)
                .into_iter()
                .map(move |name| {
                    let mut m = module.clone();
                    m.push(name);
                    m
                })
        })
        .collect();
    let is_test = |m: &ModPath| test_only.iter().any(|t| m.starts_with(t));

    let mut references: Vec<(ModPath, Witness, ModPath, bool)> = Vec::new();
    for (file, tokens) in &sources {
        let module = module_of(file);
        if is_test(&module) {
            continue;
        }
        for (line, path, is_pub_use) in paths_in(tokens) {
            if let Some(target) = resolve(&module, &path, &modules) {
                let witness = Witness {
                    file: (*file).to_owned(),
                    line,
                    path: path.join("::"),
                };
                references.push((module.clone(), witness, target, is_pub_use));
            }
        }
    }

    // `pub use child::Name` in a parent makes `parent::Name` mean the child.
    let mut reexports: BTreeMap<ModPath, ModPath> = BTreeMap::new();
    for (module, _, target, is_pub_use) in &references {
        if *is_pub_use && target.len() > module.len() + 1 && target.starts_with(module) {
            let mut alias = module.clone();
            alias.push(target.last().cloned().unwrap_or_default());
            let child = target[..=module.len()].to_vec();
            if modules.contains(&child) {
                reexports.insert(alias, child);
            }
        }
    }

    let mut graph = Graph::default();
    for (module, witness, target, _) in references {
        let target = reexports.get(&target).cloned().unwrap_or(target);
        let common = module
            .iter()
            .zip(&target)
            .take_while(|(a, b)| a == b)
            .count();
        // One is an ancestor of the other: a parent reaching into its child,
        // or a child using its parent's own items, is not a sibling edge.
        if common == module.len() || common == target.len() {
            continue;
        }
        let parent = module[..common].to_vec();
        let child = target[..=common].to_vec();
        if !modules.contains(&child) || is_test(&child) {
            continue;
        }
        let key = (module[common].clone(), target[common].clone());
        graph
            .edges
            .entry(parent)
            .or_default()
            .entry(key)
            .or_insert(witness);
    }
    graph
}

/// The absolute path a reference names, if it starts at the crate root,
/// `super` or `self`, or (in a `use`) at a child module.
fn resolve(module: &ModPath, path: &[String], modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    let mut segments = path.iter().peekable();
    let mut base: ModPath = match segments.peek().map(|s| s.as_str()) {
        Some("crate") => {
            segments.next();
            Vec::new()
        }
        Some("super" | "self") => module.clone(),
        Some(first) => {
            let mut child = module.clone();
            child.push(first.to_owned());
            if !modules.contains(&child) {
                return None;
            }
            module.clone()
        }
        None => return None,
    };
    while let Some(s) = segments.peek() {
        match s.as_str() {
            "super" => {
                base.pop()?;
            }
            "self" => {}
            _ => break,
        }
        segments.next();
    }
    base.extend(segments.cloned());
    Some(base)
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String, usize),
    Punct(char, usize),
}

impl Token {
    fn is_ident(&self, s: &str) -> bool {
        matches!(self, Token::Ident(i, _) if i == s)
    }
    fn is_punct(&self, c: char) -> bool {
        matches!(self, Token::Punct(p, _) if *p == c)
    }
    fn line(&self) -> usize {
        match self {
            Token::Ident(_, l) | Token::Punct(_, l) => *l,
        }
    }
}

/// Identifiers and punctuation with their lines; comments, strings, chars,
/// numbers and lifetimes dropped. `::` comes out as two `:` tokens.
fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let skip_to = |i: &mut usize, line: &mut usize, end: usize| {
        *line += chars[*i..end].iter().filter(|&&c| c == '\n').count();
        *i = end;
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
            skip_to(&mut i, &mut line, end);
        } else if c == '/' && next == Some('*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < chars.len() && depth > 0 {
                if chars[j] == '/' && chars.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 1;
                } else if chars[j] == '*' && chars.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 1;
                }
                j += 1;
            }
            skip_to(&mut i, &mut line, j);
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && raw_string_end(&chars, i + 1).is_some()
        {
            let end = raw_string_end(&chars, i + 1).unwrap_or(chars.len());
            skip_to(&mut i, &mut line, end);
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            skip_to(&mut i, &mut line, (j + 1).min(chars.len()));
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                let end = chars[i + 3..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map_or(chars.len(), |p| i + 4 + p);
                skip_to(&mut i, &mut line, end);
            } else if chars.get(i + 2) == Some(&'\'') {
                let end = i + 3;
                skip_to(&mut i, &mut line, end);
            } else {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let ident: String = chars[start..i].iter().collect();
            // `b"..."` and `br"..."` are strings; the prefix is not a name.
            if !(matches!(ident.as_str(), "b" | "br" | "r")
                && chars.get(i).is_some_and(|&c| c == '"' || c == '#'))
            {
                tokens.push(Token::Ident(ident, line));
            }
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else {
            if c == '\n' {
                line += 1;
            } else if !c.is_whitespace() {
                tokens.push(Token::Punct(c, line));
            }
            i += 1;
        }
    }
    tokens
}

/// The index after a raw string whose `#`s or quote start at `start`.
fn raw_string_end(chars: &[char], start: usize) -> Option<usize> {
    let hashes = chars[start..].iter().take_while(|&&c| c == '#').count();
    if chars.get(start + hashes) != Some(&'"') {
        return None;
    }
    let mut j = start + hashes + 1;
    while j < chars.len() {
        if chars[j] == '"'
            && chars[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

/// Whether `tokens[i..]` is `# [ cfg ( test ) ]`.
fn is_cfg_test(tokens: &[Token], i: usize) -> bool {
    let want = ["#", "[", "cfg", "(", "test", ")", "]"];
    want.iter()
        .enumerate()
        .all(|(k, w)| match tokens.get(i + k) {
            Some(Token::Ident(s, _)) => s == w,
            Some(Token::Punct(c, _)) => w.len() == 1 && w.starts_with(*c),
            None => false,
        })
}

/// The index just past the item starting at `i`: its `{...}` block, or its `;`.
fn item_end(tokens: &[Token], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Punct('{' | '(' | '[', _) => depth += 1,
            Token::Punct('}' | ')' | ']', _) => {
                depth = depth.saturating_sub(1);
                if depth == 0 && tokens[i].is_punct('}') {
                    return i + 1;
                }
            }
            Token::Punct(';', _) if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// The tokens with every `#[cfg(test)]` item removed, except the
/// declaration `mod name;` (kept, so its file can be skipped).
fn without_test_items(tokens: Vec<Token>) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if is_cfg_test(&tokens, i) {
            let end = item_end(&tokens, i + 7);
            let body = &tokens[i..end];
            let out_of_line = body.last().is_some_and(|t| t.is_punct(';'))
                && body.iter().any(|t| t.is_ident("mod"))
                && !body.iter().any(|t| t.is_punct('{'));
            if out_of_line {
                out.extend_from_slice(body);
            }
            i = end;
        } else {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}

/// The names of `#[cfg(test)] mod name;` declarations.
fn test_module_declarations(tokens: &[Token]) -> Vec<String> {
    (0..tokens.len())
        .filter(|&i| is_cfg_test(tokens, i))
        .filter_map(|i| {
            let end = item_end(tokens, i + 7);
            let pos = tokens[i..end].iter().position(|t| t.is_ident("mod"))?;
            match tokens.get(i + pos + 1) {
                Some(Token::Ident(name, _)) => Some(name.clone()),
                _ => None,
            }
        })
        .collect()
}

/// Every path written in the code: each leaf of a `use` tree (flagged when
/// the `use` is `pub`), and each `crate::`/`super::`/`self::` path elsewhere.
fn paths_in(tokens: &[Token]) -> Vec<(usize, Vec<String>, bool)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.is_ident("use") {
            let is_pub = i >= 1
                && (tokens[i - 1].is_ident("pub")
                    || (tokens[i - 1].is_punct(')') && i >= 4 && tokens[i - 4].is_ident("pub")));
            let end = tokens[i..]
                .iter()
                .position(|t| t.is_punct(';'))
                .map_or(tokens.len(), |p| i + p);
            let mut leaves = Vec::new();
            use_tree(&tokens[i + 1..end], Vec::new(), &mut leaves);
            out.extend(leaves.into_iter().map(|p| (t.line(), p, is_pub)));
            i = end + 1;
        } else if t.is_ident("in") && i >= 2 && tokens[i - 2].is_ident("pub") {
            // `pub(in crate::x)` is a visibility, not a dependency.
            i = tokens[i..]
                .iter()
                .position(|t| t.is_punct(')'))
                .map_or(tokens.len(), |p| i + p);
        } else if (t.is_ident("crate") || t.is_ident("super") || t.is_ident("self"))
            && !(i >= 1 && tokens[i - 1].is_punct('$'))
            && is_path_sep(tokens, i + 1)
        {
            let mut path = vec![ident(t)];
            let mut j = i + 1;
            while is_path_sep(tokens, j) {
                match tokens.get(j + 2) {
                    Some(Token::Ident(s, _)) => path.push(s.clone()),
                    _ => break,
                }
                j += 3;
            }
            out.push((t.line(), path, false));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn ident(t: &Token) -> String {
    match t {
        Token::Ident(s, _) => s.clone(),
        Token::Punct(c, _) => c.to_string(),
    }
}

fn is_path_sep(tokens: &[Token], i: usize) -> bool {
    tokens.get(i).is_some_and(|t| t.is_punct(':'))
        && tokens.get(i + 1).is_some_and(|t| t.is_punct(':'))
}

/// The leaf paths of a use tree such as `crate::{a::B, c::{self, D as E}}`.
fn use_tree(tokens: &[Token], prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Ident(s, _) if s == "as" => break,
            Token::Ident(s, _) if s == "self" && !path.is_empty() => {}
            Token::Ident(s, _) => path.push(s.clone()),
            Token::Punct(':', _) => {}
            Token::Punct('{', _) => {
                let mut depth = 0;
                let mut start = i + 1;
                for j in i..tokens.len() {
                    match &tokens[j] {
                        Token::Punct('{', _) => depth += 1,
                        Token::Punct('}', _) => {
                            depth -= 1;
                            if depth == 0 {
                                use_tree(&tokens[start..j], path.clone(), out);
                                return;
                            }
                        }
                        Token::Punct(',', _) if depth == 1 => {
                            use_tree(&tokens[start..j], path.clone(), out);
                            start = j + 1;
                        }
                        _ => {}
                    }
                }
                return;
            }
            Token::Punct(_, _) => {}
        }
        i += 1;
    }
    if !path.is_empty() {
        out.push(path);
    }
}

/// The strongly connected components of more than one node (Tarjan).
fn strongly_connected<'a>(
    adjacency: &BTreeMap<&'a str, BTreeSet<&'a str>>,
) -> Vec<BTreeSet<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<BTreeSet<&'a str>>,
    }
    fn visit<'a>(v: &'a str, adjacency: &BTreeMap<&'a str, BTreeSet<&'a str>>, s: &mut State<'a>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in &adjacency[v] {
            if !s.index.contains_key(w) {
                visit(w, adjacency, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.insert(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for &v in adjacency.keys() {
        if !s.index.contains_key(v) {
            visit(v, adjacency, &mut s);
        }
    }
    s.found.sort();
    s.found
}

/// One shortest cycle through the first node of a component, for the headline.
fn one_cycle<'a>(
    adjacency: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    component: &BTreeSet<&'a str>,
) -> Vec<&'a str> {
    let start = *component.iter().next().expect("non-empty component");
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &adjacency[v] {
            if !component.contains(w) {
                continue;
            }
            if w == start {
                let mut cycle = vec![start];
                let mut at = v;
                while at != start {
                    cycle.push(at);
                    at = previous[at];
                }
                cycle[1..].reverse();
                cycle.push(start);
                return cycle;
            }
            if !previous.contains_key(w) {
                previous.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}
