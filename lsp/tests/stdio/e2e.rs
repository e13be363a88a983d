//! End to end over stdio: the real `tally` binary started as `tally lsp`, spoken to with
//! `Content-Length` framed JSON on its stdin and stdout as an editor would, and Neovim (when
//! installed) driving it with a headless script.
//!
//! This file is a test target of the root package (see the root Cargo.toml), which is the one
//! that knows where the `tally` binary is.

// Test code fails the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod nvim;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

const PACK: &str = "/// Acme Corporation.
publisher acme { name \"Acme\" }

/// The Acme word processor, Éditeur 😀 edition.
product acme.writer {
    name \"Writer 😀\"
    publisher acmee
}

rights acme.writer { covers acme.writer  downgrade }

sku \"ACME-ORA\" {
    license \"Acme Oracle\"
    metric oracle.processor
    rights acme.writer
}
";

struct Client {
    child: Child,
    input: ChildStdin,
    messages: mpsc::Receiver<Value>,
    next_id: i64,
    /// Messages read while waiting for another one.
    pending: Vec<Value>,
}

impl Client {
    fn start(cache: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tally"))
            .arg("lsp")
            .env("XDG_CACHE_HOME", cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = child.stdout.take().unwrap();
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(output);
            loop {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length:") {
                        length = n.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            input,
            messages,
            next_id: 0,
            pending: Vec::new(),
        }
    }

    fn write_raw(&mut self, body: &[u8]) {
        write!(self.input, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.input.write_all(body).unwrap();
        self.input.flush().unwrap();
    }

    fn send(&mut self, message: &Value) {
        self.write_raw(&serde_json::to_vec(message).unwrap());
    }

    fn receive(&mut self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(60))
            .expect("the server said nothing for 60 s")
    }

    /// The next message matching `wanted`; others are kept for later.
    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&wanted) {
            return self.pending.remove(i);
        }
        loop {
            let message = self.receive();
            // The server's requests (registrations) are answered.
            if message.get("method").is_some()
                && let Some(id) = message.get("id")
            {
                self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": null }));
            }
            if wanted(&message) {
                return message;
            }
            self.pending.push(message);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.wait(|m| m["id"] == id && m.get("method").is_none())
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

#[test]
fn an_editor_session_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let file = root.join("acme.tally");
    std::fs::write(&file, PACK).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let uri = format!("file://{}", file.display());
    let mut client = Client::start(cache.path());

    let initialized = client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": format!("file://{}", root.display()),
            "capabilities": { "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } }
        }),
    );
    let capabilities = &initialized["result"]["capabilities"];
    assert_eq!(capabilities["positionEncoding"], "utf-16");
    assert_eq!(initialized["result"]["serverInfo"]["name"], "tally");
    client.notify("initialized", json!({}));
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "tally", "version": 1, "text": PACK } }),
    );

    // A diagnostic for the misspelt publisher, linked to its section of the docs.
    let published = client.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri.as_str()
            && m["params"]["version"] == 1
    });
    let diagnostic = &published["params"]["diagnostics"][0];
    assert_eq!(diagnostic["code"], "T0101");
    assert_eq!(
        diagnostic["range"],
        json!({ "start": { "line": 6, "character": 14 }, "end": { "line": 6, "character": 19 } })
    );
    assert!(
        diagnostic["codeDescription"]["href"]
            .as_str()
            .unwrap()
            .ends_with("docs/diagnostics.md#t0101-unknown-name")
    );

    // A message that is not JSON is left out, and the server goes on.
    client.write_raw(b"{ this is not json");

    // Hover over a standard metric.
    let hover = client.request("textDocument/hover", at(&uri, 13, 16));
    let text = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        text.starts_with("```tally\nmetric oracle.processor\n```"),
        "{text}"
    );
    assert!(
        text.contains("**Required fields**: `cores`, `processor_model`"),
        "{text}"
    );

    // Go to its definition: a read-only copy of the standard pack on disk.
    let definition = client.request("textDocument/definition", at(&uri, 13, 16));
    let target = definition["result"]["uri"].as_str().unwrap();
    assert!(target.ends_with("/rules/oracle.tally"), "{definition}");
    let path = target.strip_prefix("file://").unwrap();
    assert!(path.starts_with(&*cache.path().to_string_lossy()));
    assert!(std::fs::metadata(path).unwrap().permissions().readonly());

    // Fix the publisher with a quick fix's edit, as the editor applies it.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": diagnostic["range"],
            "context": { "diagnostics": [diagnostic] }
        }),
    );
    let fix = &actions["result"][0];
    assert_eq!(fix["title"], "Replace `acmee` with `acme`");
    let edit = &fix["edit"]["changes"][uri.as_str()][0];
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [{ "range": edit["range"], "text": edit["newText"] }]
        }),
    );
    let published = client
        .wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 2);
    assert_eq!(published["params"]["diagnostics"], json!([]));

    // Rename the product everywhere it is named.
    let rename = client.request(
        "textDocument/rename",
        json!({
            "textDocument": { "uri": uri },
            "position": { "line": 4, "character": 12 },
            "newName": "acme.editor"
        }),
    );
    let edits = rename["result"]["changes"][uri.as_str()]
        .as_array()
        .unwrap();
    // The declaration and `covers`; the SKU's `rights acme.writer` names the rights.
    assert_eq!(edits.len(), 2, "{rename}");

    // A rename of a standard declaration is refused.
    let refused = client.request(
        "textDocument/rename",
        json!({
            "textDocument": { "uri": uri },
            "position": { "line": 13, "character": 16 },
            "newName": "acme.processor"
        }),
    );
    assert_eq!(refused["error"]["data"]["code"], "T0322");

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null);
    client.notify("exit", Value::Null);
    let status = wait_for_exit(&mut client.child);
    assert!(status.success(), "{status}");
}

/// The process's exit status, waiting at most 30 s.
fn wait_for_exit(child: &mut Child) -> std::process::ExitStatus {
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("the server did not exit within 30 s of `exit`");
}

/// The server ends when its input is closed, without `exit`.
#[test]
fn closing_the_input_ends_the_server() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());
    let initialized = client.request("initialize", json!({ "capabilities": {} }));
    assert!(initialized.get("result").is_some());
    drop(client.input);
    wait_for_exit(&mut client.child);
}
