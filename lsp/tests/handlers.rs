//! Handler tests: the server driven in process through its service, on small workspaces with
//! the standard packs, for what golden files cannot show: edits applied in order however fast
//! they come, requests during edits, files closed or changed on disk, files outside the
//! workspace, settings, and requests that cannot be answered.

// Test code fails the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{Harness, uri};

const ACME: &str = "/// Acme Corporation.
publisher acme { name \"Acme\" }

/// The Acme word processor.
product acme.writer {
    name \"Writer\"
    publisher acmee
}
";

/// A workspace folder holding `acme.tally`, and a cache folder for the standard packs.
fn workspace() -> (tempfile::TempDir, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().canonicalize().unwrap().join("acme.tally");
    std::fs::write(&file, ACME).unwrap();
    (dir, tempfile::tempdir().unwrap(), file)
}

/// A server on the workspace folder `dir`, with the standard packs written to `cache`.
async fn start(dir: &tempfile::TempDir, cache: &tempfile::TempDir) -> Harness {
    Harness::start(
        Some(dir.path()),
        json!({ "standardPacksDir": cache.path() }),
        &[],
    )
    .await
}

/// [`start`], the server reached over a pipe, as an editor reaches it.
async fn start_over_pipe(dir: &tempfile::TempDir, cache: &tempfile::TempDir) -> Harness {
    Harness::over_pipe(
        Some(dir.path()),
        json!({ "standardPacksDir": cache.path() }),
        &[],
        support::standard(),
    )
    .await
}

fn codes(diagnostics: &Value) -> Vec<String> {
    diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

fn change(uri: &str, version: i32, line: u32, from: u32, to: u32, text: &str) -> Value {
    json!({
        "textDocument": { "uri": uri, "version": version },
        "contentChanges": [{
            "range": { "start": { "line": line, "character": from }, "end": { "line": line, "character": to } },
            "text": text
        }]
    })
}

#[tokio::test]
async fn workspace_files_are_diagnosed_before_they_are_opened() {
    let (dir, cache, file) = workspace();
    let mut server = start(&dir, &cache).await;
    let diagnostics = server.diagnostics(&uri(&file)).await;
    assert_eq!(codes(&diagnostics), ["T0101"]);
    // The standard packs were written, read-only, to the cache folder.
    let written = walk(cache.path());
    assert!(written.iter().any(|p| p.ends_with("rules/oracle.tally")));
    assert!(
        std::fs::metadata(&written[0])
            .unwrap()
            .permissions()
            .readonly()
    );
    server.shutdown().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Many edits sent back to back, each depending on the one before, leave the text the client
/// has: a character typed at a time, then removed a character at a time.
#[tokio::test]
async fn quick_edits_apply_in_the_order_sent() {
    let (dir, cache, file) = workspace();
    let mut server = start_over_pipe(&dir, &cache).await;
    let uri = uri(&file);
    server.open(&uri, ACME).await;
    let mut version = 1;
    // `publisher acmee` is on line 6, from character 14: type `_corp` after it.
    for (i, c) in "_corp".chars().enumerate() {
        version += 1;
        let at = 19 + i as u32;
        server
            .notify(
                "textDocument/didChange",
                change(&uri, version, 6, at, at, &c.to_string()),
            )
            .await;
    }
    // Then delete `e_corp` one character at a time from the end, leaving `acme`.
    for i in 0..6 {
        version += 1;
        let at = 24 - i;
        server
            .notify(
                "textDocument/didChange",
                change(&uri, version, 6, at - 1, at, ""),
            )
            .await;
    }
    let diagnostics = server.diagnostics_of(&uri, version).await;
    assert_eq!(codes(&diagnostics), Vec::<String>::new(), "{diagnostics}");
    let hover = server
        .result(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 6, "character": 16 } }),
        )
        .await;
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("```tally\npublisher acme\n```"),
        "{hover}"
    );
    server.shutdown().await;
}

/// Requests sent while edits are being applied are answered (on the revision they see, or
/// again on a later one), and the server keeps going.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_during_edits_are_answered() {
    let (dir, cache, file) = workspace();
    let mut server = start_over_pipe(&dir, &cache).await;
    let uri = uri(&file);
    server.open(&uri, ACME).await;
    let mut version = 1;
    for round in 0..20 {
        version += 1;
        let text = if round % 2 == 0 { "acme" } else { "acmee" };
        server
            .notify(
                "textDocument/didChange",
                json!({
                    "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{ "text": ACME.replace("publisher acmee", &format!("publisher {text}")) }]
                }),
            )
            .await;
        let response = server
            .request("workspace/symbol", json!({ "query": "writer" }))
            .await;
        match response.get("result") {
            Some(result) => assert!(result.as_array().is_some_and(|r| !r.is_empty())),
            // The content changed too often to answer: the client asks again.
            None => assert_eq!(response["error"]["code"], -32801, "{response}"),
        }
    }
    // The last text has `publisher acmee`.
    let diagnostics = server.diagnostics_of(&uri, version).await;
    assert_eq!(codes(&diagnostics), ["T0101"]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_closed_document_goes_back_to_the_file_on_disk() {
    let (dir, cache, file) = workspace();
    let mut server = start(&dir, &cache).await;
    let uri = uri(&file);
    server.open(&uri, &ACME.replace("acmee", "acme")).await;
    assert_eq!(
        codes(&server.diagnostics_of(&uri, 1).await),
        Vec::<String>::new()
    );
    server
        .notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": uri } }),
        )
        .await;
    // The file on disk still has the misspelt publisher.
    let diagnostics = server.diagnostics(&uri).await;
    assert_eq!(codes(&diagnostics), ["T0101"]);
    server.shutdown().await;
}

#[tokio::test]
async fn files_changed_on_disk_are_read_again() {
    let (dir, cache, file) = workspace();
    let mut server = start(&dir, &cache).await;
    // The server asked to be told of rule files changed outside the editor.
    let registration = server.next("client/registerCapability").await;
    assert_eq!(
        registration["params"]["registrations"][0]["method"],
        "workspace/didChangeWatchedFiles"
    );
    let uri = uri(&file);
    assert_eq!(codes(&server.diagnostics(&uri).await), ["T0101"]);
    std::fs::write(&file, ACME.replace("acmee", "acme")).unwrap();
    let added = file.with_file_name("more.tally");
    std::fs::write(
        &added,
        "publisher more { name \"More\" }\npublisher more { name \"M\" }\n",
    )
    .unwrap();
    server
        .notify(
            "workspace/didChangeWatchedFiles",
            json!({ "changes": [{ "uri": uri, "type": 2 }, { "uri": uri_of(&added), "type": 1 }] }),
        )
        .await;
    assert_eq!(codes(&server.diagnostics(&uri).await), Vec::<String>::new());
    assert_eq!(codes(&server.diagnostics(&uri_of(&added)).await), ["T0102"]);
    // Removed: its diagnostics are cleared.
    std::fs::remove_file(&added).unwrap();
    server
        .notify(
            "workspace/didChangeWatchedFiles",
            json!({ "changes": [{ "uri": uri_of(&added), "type": 3 }] }),
        )
        .await;
    assert_eq!(
        codes(&server.diagnostics(&uri_of(&added)).await),
        Vec::<String>::new()
    );
    server.shutdown().await;
}

fn uri_of(path: &std::path::Path) -> String {
    uri(path)
}

#[tokio::test]
async fn a_file_outside_the_workspace_is_checked_with_it_and_dropped_on_close() {
    let (dir, cache, _) = workspace();
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().canonicalize().unwrap().join("loose.tally");
    let text = "product loose.thing { name \"Thing\"  publisher acme }\n";
    std::fs::write(&file, text).unwrap();
    let mut server = start(&dir, &cache).await;
    let uri = uri(&file);
    server.open(&uri, text).await;
    // It sees the workspace's publisher `acme`.
    assert_eq!(
        codes(&server.diagnostics_of(&uri, 1).await),
        Vec::<String>::new()
    );
    let definition = server
        .result(
            "textDocument/definition",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 50 } }),
        )
        .await;
    assert!(
        definition["uri"].as_str().unwrap().ends_with("/acme.tally"),
        "{definition}"
    );
    server
        .notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": uri } }),
        )
        .await;
    let symbols = server
        .result("workspace/symbol", json!({ "query": "loose.thing" }))
        .await;
    assert_eq!(symbols, json!([]));
    server.shutdown().await;
}

#[tokio::test]
async fn utf8_is_used_when_the_client_offers_it_and_standard_packs_can_be_virtual() {
    let (dir, cache, _) = workspace();
    let server = Harness::start(
        Some(dir.path()),
        json!({ "standardPacksDir": cache.path() }),
        &["utf-8", "utf-16"],
    )
    .await;
    let agreed = &server.initialize_result["capabilities"]["positionEncoding"];
    assert_eq!(agreed, "utf-8");
    server.shutdown().await;
    let mut server = Harness::start(
        Some(dir.path()),
        json!({ "standardPacksDir": cache.path(), "standardPacks": "virtual" }),
        &["utf-16"],
    )
    .await;
    assert_eq!(
        server.initialize_result["capabilities"]["positionEncoding"],
        "utf-16"
    );
    let found = server
        .result("workspace/symbol", json!({ "query": "oracle.core_factor" }))
        .await;
    assert_eq!(
        found[0]["location"]["uri"],
        "tally-std:///rules/oracle_core_factor.tally"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn bad_options_are_told_and_defaults_used() {
    let (dir, cache, _) = workspace();
    let mut server = Harness::start(
        Some(dir.path()),
        json!({ "standardPacksDir": cache.path(), "diagnosticsUrl": 3 }),
        &[],
    )
    .await;
    let message = server.next("window/showMessage").await;
    assert_eq!(
        message["params"]["message"],
        "initialization option `diagnosticsUrl` is not a URL as a string; the default is used"
    );
    server.shutdown().await;
}

/// Requests about documents the server does not know, positions past the end, and malformed
/// parameters get an answer, not a crash.
#[tokio::test]
async fn odd_requests_are_answered() {
    let (dir, cache, file) = workspace();
    let mut server = start(&dir, &cache).await;
    let unknown = "file:///nowhere/none.tally";
    for method in [
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/completion",
        "textDocument/prepareRename",
    ] {
        let response = server
            .request(
                method,
                json!({ "textDocument": { "uri": unknown }, "position": { "line": 0, "character": 0 } }),
            )
            .await;
        assert_eq!(response["result"], Value::Null, "{method}: {response}");
    }
    let far = server
        .request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri(&file) }, "position": { "line": 9999, "character": 9999 } }),
        )
        .await;
    assert_eq!(far["result"], Value::Null);
    let malformed = server
        .request("textDocument/hover", json!({ "textDocument": 7 }))
        .await;
    assert_eq!(malformed["error"]["code"], -32602);
    // An edit of a document never opened is ignored.
    server
        .notify("textDocument/didChange", change(unknown, 2, 0, 0, 0, "x"))
        .await;
    let symbols = server
        .result(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": uri(&file) } }),
        )
        .await;
    assert_eq!(symbols.as_array().unwrap().len(), 2);
    server.shutdown().await;
}

const TESTED: &str = "publisher acme { name \"Acme\" }

product acme.writer { name \"Writer\"  publisher acme }

application acme.writer_2024 {
    product acme.writer
    version \"2024\"
    recognize installer { name like \"Acme Writer 2024%\" }
}

test \"Acme Writer 2024 is recognised\" {
    given installer { publisher \"Acme\"  name \"Acme Writer 2024 (64-bit)\" }
    expect application acme.writer_2024
}
";

/// Waits for the diagnostics of a version whose codes are `codes`: the server publishes an
/// edit's compiler diagnostics first and its test failures once the tests have run, so a
/// version can be published twice.
async fn codes_of(server: &mut Harness, uri: &str, version: i32, wanted: &[&str]) {
    loop {
        let diagnostics = server.diagnostics_of(uri, version).await;
        if codes(&diagnostics) == wanted {
            return;
        }
    }
}

/// The failures of `test` blocks follow the edits: a rule changed so that its test fails
/// shows T0124 on the test, and changing it back clears it.
#[tokio::test]
async fn test_failures_follow_edits() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().canonicalize().unwrap().join("writer.tally");
    std::fs::write(&file, TESTED).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut server = start_over_pipe(&dir, &cache).await;
    let uri = uri(&file);
    server.open(&uri, TESTED).await;
    codes_of(&mut server, &uri, 1, &[]).await;
    // `2024%` is on line 7 from character 49: make it `2025%`.
    server
        .notify("textDocument/didChange", change(&uri, 2, 7, 52, 53, "5"))
        .await;
    codes_of(&mut server, &uri, 2, &["T0124"]).await;
    server
        .notify("textDocument/didChange", change(&uri, 3, 7, 52, 53, "4"))
        .await;
    codes_of(&mut server, &uri, 3, &[]).await;
    server.shutdown().await;
}
