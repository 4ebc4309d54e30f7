//! The host's modules depend on each other one way. This test reads the
//! `crate::…` paths of every file under `host/src` (outside comments and
//! `#[cfg(test)]` code, which may reach anywhere), builds the graph of top-level modules,
//! fails on a cycle naming it, and checks that README.md's "Layout" section
//! lists the graph as it is.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module → the top-level modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file before its first `#[cfg(test)]` (test modules sit at the end).
fn non_test_code(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

/// The top-level modules named by `crate::x` and `crate::{x, y::z}` paths.
fn named_modules(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before_ok = rest[..at].chars().next_back().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        rest = &rest[at + "crate::".len()..];
        if !before_ok {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: the identifiers at depth 0.
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_ascii_alphanumeric() || c == '_') => {
                        found.insert(ident(&group[i..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" || module == "layering" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let deps = graph.entry(module.clone()).or_default();
        // Comments (doc links included) are not dependencies.
        let code: String = non_test_code(&text).lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        for dep in named_modules(&code) {
            if dep != module {
                deps.insert(dep);
            }
        }
    }
    graph
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// The graph in dependency order (a module after everything it uses), one
/// line per module: `module  → dep, dep`.
fn listing(graph: &Graph) -> String {
    let mut placed: Vec<String> = Vec::new();
    while placed.len() < graph.len() {
        let next = graph
            .iter()
            .find(|(m, deps)| !placed.contains(m) && deps.iter().all(|d| placed.contains(d) || !graph.contains_key(d)))
            .map(|(m, _)| m.clone())
            .expect("the graph has no cycle");
        placed.push(next);
    }
    let width = placed.iter().map(String::len).max().unwrap_or(0);
    placed
        .iter()
        .map(|m| {
            let deps: Vec<&str> = graph[m].iter().map(String::as_str).collect();
            let deps = if deps.is_empty() { "(nothing)".to_string() } else { deps.join(", ") };
            format!("{m:<width$}  → {deps}\n")
        })
        .collect()
}

#[test]
fn the_parser_reads_paths_and_groups() {
    let code = "use crate::a::b;\nuse crate::{c, d::{e, f}, g};\nlet x = crate::h::now();\nuse notcrate::i;";
    let names: Vec<String> = named_modules(code).into_iter().collect();
    assert_eq!(names, ["a", "c", "d", "g", "h"]);
}

#[test]
fn a_cycle_is_found_and_named() {
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&g), Some(vec!["a".to_string(), "b".into(), "c".into(), "a".into()]));
    g.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&g), None);
}

#[test]
fn host_modules_depend_on_each_other_one_way() {
    let graph = graph();
    if let Some(cycle) = find_cycle(&graph) {
        panic!("host modules import each other in a circle: {}", cycle.join(" → "));
    }
}

#[test]
fn the_readme_lists_the_module_graph_as_it_is() {
    let graph = graph();
    assert!(find_cycle(&graph).is_none(), "see host_modules_depend_on_each_other_one_way");
    let listing = listing(&graph);
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    assert!(readme.contains(&listing), "README.md's Layout section should list the host's module graph as it is now:\n{listing}");
}
