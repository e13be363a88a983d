//! Golden request/response files over an in-memory transport: each case of
//! `tests/golden/FEATURE/` is a pack (`CASE.tally`, or a folder `CASE/` whose `main.tally` is
//! opened) and a script of requests (`CASE.requests.json`). The server runs behind
//! `tower-lsp-server`'s transport on an in-memory pipe, with the standard packs; the case's
//! files are its workspace folder. The transcript (the diagnostics published on open, then each
//! request and its response) is compared with `CASE.snap` beside the case.
//!
//! A script is a list of steps, or `{ "encodings": […], "options": {…}, "standard": false,
//! "steps": […] }` (`standard: false` leaves the standard packs out). A step
//! names its `method`; `at` gives a position as text to find in the file with `|` at the
//! cursor (`"publisher acm|ee"`), `range` a range as the text it covers; `file` another file of
//! the case; `params` anything else the request takes. `textDocument/didChange` steps give
//! `replace` and `with`, and record the diagnostics published after the edit.

// Test code fails the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use support::{Harness, uri};
use tally_lsp::text::{Encoding, LineIndex};

/// A file of the case's workspace: its URI and current text.
struct Open {
    uri: String,
    text: String,
    version: i32,
}

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The cases of a feature, sorted.
fn cases(feature: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(golden().join(feature))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".requests.json"))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no cases for {feature}");
    found
}

/// The position of the `|` in `marked`, found in `text`.
fn position(text: &str, marked: &str, encoding: Encoding) -> Value {
    let (before, after) = marked.split_once('|').expect("`at` needs a `|`");
    let needle = format!("{before}{after}");
    let start = text
        .find(&needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in the file"));
    let at = LineIndex::new(text).position(text, start + before.len(), encoding);
    serde_json::to_value(at).unwrap()
}

fn range(text: &str, covered: &str, encoding: Encoding) -> Value {
    let start = text
        .find(covered)
        .unwrap_or_else(|| panic!("`{covered}` is not in the file"));
    let span = tally_compiler::diagnostics::Span::new(start, start + covered.len());
    serde_json::to_value(LineIndex::new(text).range(text, span, encoding)).unwrap()
}

/// Objects with their keys sorted, so hash maps print in one order.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// Semantic tokens as a list of `line:column length type [modifiers] text`, read with the
/// legend, instead of the protocol's relative numbers.
fn readable_tokens(data: &[Value], legend: &Value, text: &str, encoding: Encoding) -> Value {
    let types = legend["tokenTypes"].as_array().unwrap();
    let modifiers = legend["tokenModifiers"].as_array().unwrap();
    let index = LineIndex::new(text);
    let (mut line, mut column) = (0, 0);
    let mut out = Vec::new();
    for token in data.chunks(5) {
        let n = |i: usize| token[i].as_u64().unwrap() as u32;
        line += n(0);
        column = if n(0) == 0 { column + n(1) } else { n(1) };
        let start = index.offset(
            text,
            tower_lsp_server::ls_types::Position::new(line, column),
            encoding,
        );
        let end = index.offset(
            text,
            tower_lsp_server::ls_types::Position::new(line, column + n(2)),
            encoding,
        );
        let mut names: Vec<&str> = Vec::new();
        for (i, m) in modifiers.iter().enumerate() {
            if n(4) & (1 << i) != 0 {
                names.push(m.as_str().unwrap());
            }
        }
        out.push(Value::String(format!(
            "{}:{} {} {}{} {}",
            line,
            column,
            n(2),
            types[n(3) as usize].as_str().unwrap(),
            if names.is_empty() {
                String::new()
            } else {
                format!(" [{}]", names.join(","))
            },
            &text[start..end]
        )));
    }
    Value::Array(out)
}

async fn run(feature: &str) {
    for script in cases(feature) {
        let name = script
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".requests.json")
            .to_string();
        let transcript = run_case(&script, &name).await;
        insta::with_settings!({
            snapshot_path => script.parent().unwrap(),
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("{feature}/{name}"),
        }, {
            insta::assert_snapshot!(name.clone(), transcript);
        });
    }
}

async fn run_case(script: &Path, name: &str) -> String {
    let dir = script.parent().unwrap();
    let workspace = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    // The case's files.
    let single = dir.join(format!("{name}.tally"));
    if single.exists() {
        std::fs::copy(&single, root.join("main.tally")).unwrap();
    } else {
        for entry in std::fs::read_dir(dir.join(name)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, root.join(path.file_name().unwrap())).unwrap();
        }
    }
    let script: Value = serde_json::from_str(&std::fs::read_to_string(script).unwrap()).unwrap();
    let with_standard = script.get("standard").and_then(Value::as_bool) != Some(false);
    let (steps, encodings, mut options) = match &script {
        Value::Array(steps) => (steps.clone(), vec![], json!({})),
        Value::Object(o) => (
            o["steps"].as_array().unwrap().clone(),
            o.get("encodings")
                .and_then(Value::as_array)
                .map(|e| e.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                .unwrap_or_default(),
            o.get("options").cloned().unwrap_or(json!({})),
        ),
        _ => panic!("a script is a list or an object"),
    };
    options["standardPacksDir"] = json!(cache.path());
    let encodings: Vec<&str> = encodings.iter().map(String::as_str).collect();
    let encoding = if encodings.contains(&"utf-8") {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    };
    let standard = if with_standard {
        support::standard()
    } else {
        &[]
    };
    let mut server = Harness::over_pipe(Some(&root), options, &encodings, standard).await;
    let mut open: Vec<(String, Open)> = Vec::new();
    let main = root.join("main.tally");
    let text = std::fs::read_to_string(&main).unwrap();
    let main_uri = uri(&main);
    server.open(&main_uri, &text).await;
    let mut transcript = vec![
        json!({ "opened": "main.tally", "diagnostics": server.diagnostics_of(&main_uri, 1).await }),
    ];
    open.push((
        "main.tally".to_string(),
        Open {
            uri: main_uri,
            text,
            version: 1,
        },
    ));
    let mut legend = Value::Null;
    for step in steps {
        let method = step["method"].as_str().unwrap().to_string();
        let file = step
            .get("file")
            .and_then(Value::as_str)
            .unwrap_or("main.tally")
            .to_string();
        if !open.iter().any(|(f, _)| *f == file) {
            let path = root.join(&file);
            let text = std::fs::read_to_string(&path).unwrap();
            let file_uri = uri(&path);
            server.open(&file_uri, &text).await;
            server.diagnostics_of(&file_uri, 1).await;
            open.push((
                file.clone(),
                Open {
                    uri: file_uri,
                    text,
                    version: 1,
                },
            ));
        }
        let doc = &mut open.iter_mut().find(|(f, _)| *f == file).unwrap().1;
        if method == "textDocument/didChange" {
            let old = step["replace"].as_str().unwrap();
            let new = step["with"].as_str().unwrap();
            let change_range = range(&doc.text, old, encoding);
            let start = doc.text.find(old).unwrap();
            doc.text.replace_range(start..start + old.len(), new);
            doc.version += 1;
            server
                .notify(
                    &method,
                    json!({
                        "textDocument": { "uri": doc.uri, "version": doc.version },
                        "contentChanges": [{ "range": change_range, "text": new }],
                    }),
                )
                .await;
            let diagnostics = server.diagnostics_of(&doc.uri, doc.version).await;
            transcript.push(json!({
                "changed": file, "replace": old, "with": new, "diagnostics": diagnostics
            }));
            continue;
        }
        let mut params = step.get("params").cloned().unwrap_or(json!({}));
        if method.starts_with("textDocument/") {
            params["textDocument"] = json!({ "uri": doc.uri });
        }
        if let Some(at) = step.get("at").and_then(Value::as_str) {
            params["position"] = position(&doc.text, at, encoding);
        }
        if let Some(covered) = step.get("range").and_then(Value::as_str) {
            params["range"] = range(&doc.text, covered, encoding);
        }
        if method == "textDocument/references" && params.get("context").is_none() {
            params["context"] = json!({ "includeDeclaration": true });
        }
        if method == "textDocument/codeAction" && params.get("context").is_none() {
            params["context"] = json!({ "diagnostics": [] });
        }
        if method == "textDocument/semanticTokens/full" && legend.is_null() {
            legend = semantic_legend();
        }
        let mut response = server.request(&method, params.clone()).await;
        if method == "textDocument/semanticTokens/full"
            && let Some(data) = response["result"]["data"].as_array()
        {
            response["result"]["data"] = readable_tokens(data, &legend, &doc.text, encoding);
        }
        if method == "textDocument/completion"
            && let Some(items) = response["result"].as_array()
        {
            // One line per item: label, kind, detail.
            response["result"] = items
                .iter()
                .map(|i| {
                    Value::String(format!(
                        "{} ({}){}",
                        i["label"].as_str().unwrap(),
                        i["kind"],
                        i["detail"]
                            .as_str()
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default()
                    ))
                })
                .collect();
        }
        let mut request = json!({ "method": method });
        for key in ["at", "range", "file"] {
            if let Some(v) = step.get(key) {
                request[key] = v.clone();
            }
        }
        if let Some(p) = step.get("params") {
            request["params"] = p.clone();
        }
        transcript.push(json!({ "request": request, "response": response.get("result").or(response.get("error")) }));
    }
    server.shutdown().await;
    let text = serde_json::to_string_pretty(&canonical(Value::Array(transcript))).unwrap();
    // The standard packs' folder is named after their hash: left out, so that editing them
    // changes no transcript that does not show them.
    let mut standard = cache.path().to_path_buf();
    if let Some(Ok(entry)) = std::fs::read_dir(cache.path()).unwrap().next() {
        standard = entry.path();
    }
    text.replace(&root.to_string_lossy().to_string(), "$ROOT")
        .replace(&standard.to_string_lossy().to_string(), "$STD")
}

/// The legend the server announces.
fn semantic_legend() -> Value {
    serde_json::to_value(tally_lsp::tokens::legend()).unwrap()
}

#[tokio::test]
async fn diagnostics() {
    run("diagnostics").await;
}

#[tokio::test]
async fn hover() {
    run("hover").await;
}

#[tokio::test]
async fn definition() {
    run("definition").await;
}

#[tokio::test]
async fn references() {
    run("references").await;
}

#[tokio::test]
async fn rename() {
    run("rename").await;
}

#[tokio::test]
async fn completion() {
    run("completion").await;
}

#[tokio::test]
async fn symbols() {
    run("symbols").await;
}

#[tokio::test]
async fn folding() {
    run("folding").await;
}

#[tokio::test]
async fn semantic_tokens() {
    run("semantic_tokens").await;
}

#[tokio::test]
async fn code_actions() {
    run("code_actions").await;
}

#[tokio::test]
async fn formatting() {
    run("formatting").await;
}
