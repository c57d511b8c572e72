//! What must not drift as the code grows: the module structure has no
//! import cycles, every event the contract names is documented, and every
//! setting is in the README. Read from the source and the docs themselves,
//! so each fails the moment one of them moves without the other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// Every `.rs` file under `dir`, relative to the crate root.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(root().join(dir)).unwrap() {
        let path = dir.join(entry.unwrap().file_name());
        if root().join(&path).is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path: `src/server/chat/post.rs` → `[server, chat, post]`,
/// `src/server/chat/mod.rs` → `[server, chat]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> =
        file.strip_prefix("src").unwrap().iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

/// What the cycle check counts as one part: each folder and root file of
/// `server/` on its own (they are the layers), and each top-level module
/// of the crate. `None` for the crate root and `server/mod.rs`, which only
/// declare modules.
fn unit(module: &[String]) -> Option<String> {
    match module {
        [] => None,
        [first] if first == "server" => None,
        [first, second, ..] if first == "server" => Some(format!("server::{second}")),
        [first, ..] => Some(first.clone()),
    }
}

/// Every module path `text` names: `crate::a::b…`, and `super::…` resolved
/// from `module` (a file's own `mod tests` uses `super` for itself, which
/// lands in the same part and so counts for nothing).
fn references(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let words: Vec<&str> = text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).collect();
    for word in words {
        let segments: Vec<&str> = word.split("::").filter(|s| !s.is_empty()).collect();
        match segments.first() {
            Some(&"crate") => found.push(segments[1..].iter().map(|s| s.to_string()).collect()),
            Some(&"super") => {
                let ups = segments.iter().take_while(|s| **s == "super").count();
                if ups <= module.len() {
                    let mut path = module[..module.len() - ups].to_vec();
                    path.extend(segments[ups..].iter().map(|s| s.to_string()));
                    found.push(path);
                }
            }
            _ => {}
        }
    }
    found
}

/// The parts the crate's code depends on, part by part.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(Path::new("src"), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file);
        let Some(from) = unit(&module) else { continue };
        let text = read(&file);
        // Comments and docs name modules without depending on them.
        let code: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .map(|line| line.split(" // ").next().unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n");
        // `mod.rs` declares its children; declaring is not depending.
        for reference in references(&code, &module) {
            if let Some(to) = unit(&reference).filter(|to| *to != from) {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
        graph.entry(from).or_default();
    }
    // A `super` inside a file's own inline module (`mod tests`) resolves a
    // step short: whatever it lands on that is no part, it meant its own.
    let parts: BTreeSet<String> = graph.keys().cloned().collect();
    for to in graph.values_mut() {
        to.retain(|part| parts.contains(part));
    }
    graph
}

/// A cycle in `graph`, if there is one, as the parts in it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// No part depends on itself through others: not the server's layers
/// (`http`, `events`, `chat`, `delivery`, `socket`, `store`, `media` and the
/// root files), nor the browser's parts (`components`, `client`, `app`,
/// `actions`, `chat_state`). `cargo test consistency` shows the graph.
#[test]
fn the_modules_import_one_another_without_cycles() {
    let graph = dependencies();
    for (from, to) in &graph {
        println!("{from} -> {}", to.iter().cloned().collect::<Vec<_>>().join(", "));
    }
    assert!(graph.len() > 20, "the check found too few parts to mean anything: {graph:?}");
    assert!(graph["server::events"].contains("server::chat"), "the check reads no imports: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("an import cycle: {}", cycle.join(" -> "));
    }
}

/// The server's parts, top to bottom: each may depend only on those after
/// it (the order `src/server/mod.rs` describes).
const SERVER_ORDER: [&str; 15] = [
    "http", "events", "chat", "state", "push", "delivery", "socket", "media", "failure", "store", "limits", "names",
    "clock", "metrics", "config",
];

/// Inside the server, every import goes down that order.
#[test]
fn the_server_imports_only_downwards() {
    let graph = dependencies();
    let rank = |part: &str| part.strip_prefix("server::").and_then(|name| SERVER_ORDER.iter().position(|n| *n == name));
    for (from, to) in &graph {
        let Some(above) = rank(from) else { continue };
        for part in to {
            if let Some(below) = rank(part) {
                assert!(above < below, "{from} imports {part}, which is above it in src/server/mod.rs's order");
            }
        }
    }
    let parts = graph.keys().filter(|part| part.starts_with("server::")).count();
    assert_eq!(parts, SERVER_ORDER.len(), "a part of the server is missing from the order: {graph:?}");
}

/// The check itself finds a cycle where there is one.
#[test]
fn a_cycle_is_found_where_there_is_one() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph.entry(from.into()).or_default().insert(to.into());
    }
    assert_eq!(find_cycle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    graph.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&graph), None);
    let module = module_of(Path::new("src/server/chat/post.rs"));
    assert_eq!(references("use super::access::x;", &module), [vec!["server", "chat", "access", "x"]]);
    assert_eq!(unit(&["server".into(), "chat".into(), "access".into()]), Some("server::chat".into()));
}

/// The event names of `protocol::event`, read from its source.
fn event_names() -> Vec<String> {
    let protocol = read("src/protocol/mod.rs");
    let start = protocol.find("pub mod event {").unwrap();
    let end = start + protocol[start..].find("\n}").unwrap();
    protocol[start..end]
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub const ")?.split('"').nth(1).map(str::to_owned))
        .collect()
}

/// Every event the contract names in code is in `docs/protocol.md`, as
/// code: `` `name` ``, or `` `name {payload}` ``.
#[test]
fn every_event_is_documented() {
    let names = event_names();
    assert!(names.len() >= 15, "too few events read: {names:?}");
    let docs = read("docs/protocol.md");
    let documented = |name: &&String| docs.contains(&format!("`{name}`")) || docs.contains(&format!("`{name} {{"));
    let missing: Vec<&String> = names.iter().filter(|name| !documented(name)).collect();
    assert!(missing.is_empty(), "events missing from docs/protocol.md: {missing:?}");
}

/// Every error code is in `docs/protocol.md`'s table of codes.
#[test]
fn every_error_code_is_documented() {
    use rtca::error::{ChatError, InvalidInput};
    use strum::VariantNames;

    let docs = read("docs/protocol.md");
    // `invalid` wraps the input errors, whose own codes are listed instead.
    let codes = ChatError::VARIANTS.iter().filter(|code| **code != "invalid").chain(InvalidInput::VARIANTS);
    let missing: Vec<&&str> = codes.filter(|code| !docs.contains(&format!("| `{code}` |"))).collect();
    assert!(missing.is_empty(), "error codes missing from docs/protocol.md: {missing:?}");
}

/// The README's table of settings is the one `server::config::SETTINGS`
/// makes, and every `RTCA_*` variable the code names is one of them (and
/// so in the README).
#[test]
fn the_readme_lists_every_setting() {
    let readme = read("README.md");
    let (open, close) = ("<!-- settings: made by server::config::markdown_table -->", "<!-- /settings -->");
    let start = readme.find(open).expect("the README marks its settings table") + open.len();
    let end = readme[start..].find(close).expect("the table's end is marked") + start;
    let table = rtca::server::config::markdown_table();
    assert_eq!(readme[start..end].trim(), table.trim(), "the README's settings table should read:\n{table}");

    let settings: BTreeSet<&str> = rtca::server::config::SETTINGS.iter().map(|s| s.env).collect();
    let mut files = Vec::new();
    sources(Path::new("src"), &mut files);
    for file in files {
        let text = read(&file);
        for (at, _) in text.match_indices("RTCA_") {
            let name: String =
                text[at..].chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_').collect();
            // `RTCA_*`, or the prefix alone, names them all.
            if !name.ends_with('_') {
                assert!(settings.contains(name.as_str()), "{} names {name}, which is no setting", file.display());
            }
        }
    }
}
