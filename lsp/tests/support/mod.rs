//! Drives the language server in process: requests go through [`tally_lsp::Service`] as the
//! transport would send them, and what the server sends the client (notifications, and
//! requests, answered with `null`) is read from its client socket.

// Test support fails the test loudly on anything unexpected.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::poll_fn;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tally_lsp::Service;
use tokio::sync::mpsc;
use tower::Service as _;
use tower_lsp_server::jsonrpc::{Request, Response};

/// The repository's root.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The standard packs, read from the repository as `tally` embeds them.
pub fn standard() -> &'static [(&'static str, &'static str)] {
    static PACKS: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    PACKS.get_or_init(|| {
        let root = repository();
        let mut files = Vec::new();
        for dir in ["rules", "arl", "purl", "skus"] {
            collect(&root, &root.join(dir), &mut files);
        }
        files.sort();
        files
            .into_iter()
            .map(|(path, text)| (&*path.leak(), &*text.leak()))
            .collect()
    })
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "tally") {
            let relative = path.strip_prefix(root).unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            files.push((relative.to_string_lossy().replace('\\', "/"), text));
        }
    }
}

/// Reads one `Content-Length` framed message.
async fn read_frame<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> Option<Value> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).await.ok()?;
    serde_json::from_slice(&body).ok()
}

/// The URI of a file.
pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The client's end of the pipe, shared by the test and the task answering the server.
type Input = std::sync::Arc<tokio::sync::Mutex<tokio::io::WriteHalf<tokio::io::DuplexStream>>>;

/// Writes one message with its `Content-Length` header.
async fn write_frame(input: &Input, message: &Value) {
    use tokio::io::AsyncWriteExt;
    let body = serde_json::to_vec(message).unwrap();
    let header = format!("Content-Length: {}\r\n\r\n", body.len());
    let mut input = input.lock().await;
    input.write_all(header.as_bytes()).await.unwrap();
    input.write_all(&body).await.unwrap();
    input.flush().await.unwrap();
}

/// How messages reach the server.
enum Transport {
    /// Through the service, as the transport calls it.
    Direct(Service),
    /// As bytes with `Content-Length` headers over an in-memory pipe, through
    /// `tower-lsp-server`'s own transport; responses arrive on `responses`.
    Pipe {
        input: Input,
        responses: mpsc::UnboundedReceiver<Value>,
    },
}

pub struct Harness {
    transport: Transport,
    /// What the server sent the client, in order.
    messages: mpsc::UnboundedReceiver<Value>,
    next_id: i64,
    /// Messages read while waiting for another one.
    pending: Vec<Value>,
    /// The server's answer to `initialize`.
    pub initialize_result: Value,
}

impl Harness {
    /// A server initialised with a workspace folder (`None` for none), the given
    /// `initializationOptions` and the client's position encodings.
    pub async fn start(root: Option<&Path>, options: Value, encodings: &[&str]) -> Self {
        let (service, socket) = Service::new(standard());
        let (mut requests, mut responses) = socket.split();
        let (sender, messages) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                if let Some(id) = request.id() {
                    let _ = responses
                        .send(Response::from_ok(id.clone(), Value::Null))
                        .await;
                }
                let _ = sender.send(serde_json::to_value(&request).unwrap());
            }
        });
        Self::initialize(
            Transport::Direct(service),
            messages,
            root,
            options,
            encodings,
        )
        .await
    }

    /// A server spoken to over an in-memory pipe, as a client speaks over stdio.
    pub async fn over_pipe(
        root: Option<&Path>,
        options: Value,
        encodings: &[&str],
        standard: &'static [(&'static str, &'static str)],
    ) -> Self {
        let (service, socket) = Service::new(standard);
        let (client, server) = tokio::io::duplex(1 << 16);
        let (server_read, server_write) = tokio::io::split(server);
        tokio::spawn(
            tower_lsp_server::Server::new(server_read, server_write, socket).serve(service),
        );
        let (client_read, input) = tokio::io::split(client);
        let input: Input = std::sync::Arc::new(tokio::sync::Mutex::new(input));
        let (sender, messages) = mpsc::unbounded_channel();
        let (response_sender, responses) = mpsc::unbounded_channel();
        let replies = std::sync::Arc::clone(&input);
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(client_read);
            while let Some(message) = read_frame(&mut reader).await {
                if message.get("method").is_none() {
                    let _ = response_sender.send(message);
                    continue;
                }
                if let Some(id) = message.get("id") {
                    let reply = json!({ "jsonrpc": "2.0", "id": id, "result": null });
                    write_frame(&replies, &reply).await;
                }
                let _ = sender.send(message);
            }
        });
        Self::initialize(
            Transport::Pipe { input, responses },
            messages,
            root,
            options,
            encodings,
        )
        .await
    }

    async fn initialize(
        transport: Transport,
        messages: mpsc::UnboundedReceiver<Value>,
        root: Option<&Path>,
        options: Value,
        encodings: &[&str],
    ) -> Self {
        let mut harness = Self {
            transport,
            messages,
            next_id: 0,
            pending: Vec::new(),
            initialize_result: Value::Null,
        };
        let mut capabilities = json!({
            "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } }
        });
        if !encodings.is_empty() {
            capabilities["general"] = json!({ "positionEncodings": encodings });
        }
        let root_uri = root.map_or(Value::Null, |r| Value::String(uri(r)));
        let response = harness
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": root_uri,
                    "capabilities": capabilities,
                    "initializationOptions": options,
                }),
            )
            .await;
        assert!(response.get("result").is_some(), "{response}");
        harness.initialize_result = response["result"].clone();
        harness.notify("initialized", json!({})).await;
        harness
    }

    /// Sends a message and returns the server's response, if any. Directly, a notification
    /// returns once the server has handled it; over the pipe, at once.
    pub async fn send(&mut self, message: Value) -> Option<Value> {
        let id = message.get("id").cloned();
        match &mut self.transport {
            Transport::Direct(service) => {
                let request: Request = serde_json::from_value(message).unwrap();
                poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                let response = service.call(request).await.unwrap();
                response.map(|r| serde_json::to_value(r).unwrap())
            }
            Transport::Pipe { input, responses } => {
                write_frame(input, &message).await;
                let id = id?;
                loop {
                    let response = tokio::time::timeout(Duration::from_secs(60), responses.recv())
                        .await
                        .expect("no response within 60 s")
                        .unwrap();
                    if response["id"] == id {
                        return Some(response);
                    }
                }
            }
        }
    }

    /// A request's response (`result` or `error`).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let message =
            json!({ "jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params });
        self.send(message).await.unwrap()
    }

    /// A request's `result`, failing the test on an error.
    pub async fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params).await;
        match response.get("result") {
            Some(result) => result.clone(),
            None => panic!("{method} failed: {response}"),
        }
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        let message = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        assert!(self.send(message).await.is_none());
    }

    pub fn is_pipe(&self) -> bool {
        matches!(self.transport, Transport::Pipe { .. })
    }

    /// The next message the server sent with this method (others are kept for later).
    pub async fn next(&mut self, method: &str) -> Value {
        if let Some(i) = self.pending.iter().position(|m| m["method"] == method) {
            return self.pending.remove(i);
        }
        loop {
            let message = tokio::time::timeout(Duration::from_secs(60), self.messages.recv())
                .await
                .unwrap_or_else(|_| panic!("no {method} within 60 s"))
                .unwrap();
            if message["method"] == method {
                return message;
            }
            self.pending.push(message);
        }
    }

    /// The diagnostics published for a URI, the most recent first found.
    pub async fn diagnostics(&mut self, uri: &str) -> Value {
        loop {
            let message = self.next("textDocument/publishDiagnostics").await;
            if message["params"]["uri"] == uri {
                return message["params"]["diagnostics"].clone();
            }
        }
    }

    /// The diagnostics published for a version of an open document (earlier publications,
    /// such as those for the files of the workspace before it was opened, are skipped).
    pub async fn diagnostics_of(&mut self, uri: &str, version: i32) -> Value {
        loop {
            let message = self.next("textDocument/publishDiagnostics").await;
            if message["params"]["uri"] == uri && message["params"]["version"] == version {
                return message["params"]["diagnostics"].clone();
            }
        }
    }

    /// Everything the server sent that has not been read, of one method.
    pub fn drain(&mut self, method: &str) -> Vec<Value> {
        while let Ok(message) = self.messages.try_recv() {
            self.pending.push(message);
        }
        let (taken, kept) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|m| m["method"] == method);
        self.pending = kept;
        taken
    }

    pub async fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "tally", "version": 1, "text": text } }),
        )
        .await;
    }

    pub async fn shutdown(mut self) {
        let response = self.request("shutdown", Value::Null).await;
        assert_eq!(response["result"], Value::Null);
    }
}
