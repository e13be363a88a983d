//! `tally-lsp`: the Tally language server, served by `tally lsp` over standard input and
//! output.
//!
//! It keeps the runtime's [`Workspace`](tally_runtime::workspace::Workspace) (one salsa
//! database) loaded with the standard packs and the rule files of the editor's workspace
//! folders; an edit sets one rule file's input, and salsa re-runs what depends on it. The
//! protocol is spoken by `tower-lsp-server`; [`Service`] wraps its service so that document
//! edits are applied in the order they were sent, and every request goes through
//! [`requests::read`], which catches salsa's cancellation and any failure.
//!
//! Modules, one feature each: [`diagnostics`], [`hover`], [`navigation`] (definition,
//! references, rename), [`completion`], [`symbols`] (document and workspace symbols, folding),
//! [`tokens`] (semantic tokens), [`actions`] (quick fixes); [`index`] holds the names they
//! share, [`state`] the workspace and documents, [`text`] positions and encodings.

pub mod actions;
pub mod codes;
pub mod completion;
pub mod diagnostics;
pub mod formatting;
pub mod frames;
pub mod hover;
pub mod index;
pub mod navigation;
pub mod requests;
pub mod server;
pub mod settings;
pub mod standard;
pub mod state;
pub mod symbols;
pub mod text;
pub mod tokens;

use std::sync::Arc;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::ls_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
};
use tower_lsp_server::{ClientSocket, ExitedError, LspService};

pub use server::Server;
use state::State;

/// The server's service: `tower-lsp-server`'s, with document edits recorded in the order the
/// client sent them. The transport calls [`tower::Service::call`] once per message, in order,
/// but runs the handlers concurrently; recording the text here, before any handler runs, is
/// what keeps two quick edits of one document from being applied out of order.
pub struct Service {
    inner: LspService<Server>,
    state: Arc<State>,
}

impl Service {
    /// A server for the given standard packs, and the socket of its messages to the client.
    pub fn new(standard: &'static [(&'static str, &'static str)]) -> (Self, ClientSocket) {
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let (inner, socket) =
            LspService::new(move |client| Server::new(client, Arc::clone(&shared), standard));
        (Self { inner, state }, socket)
    }

    pub fn server(&self) -> &Server {
        self.inner.inner()
    }

    /// Records the text a document notification carries.
    fn record(&self, request: &Request) {
        fn params<T: DeserializeOwned>(request: &Request) -> Option<T> {
            serde_json::from_value(request.params()?.clone()).ok()
        }
        match request.method() {
            "textDocument/didOpen" => {
                if let Some(p) = params::<DidOpenTextDocumentParams>(request) {
                    let d = p.text_document;
                    self.state.open_document(d.uri, d.version, d.text);
                }
            }
            "textDocument/didChange" => {
                if let Some(p) = params::<DidChangeTextDocumentParams>(request) {
                    let d = p.text_document;
                    self.state
                        .change_document(&d.uri, d.version, &p.content_changes);
                }
            }
            "textDocument/didClose" => {
                if let Some(p) = params::<DidCloseTextDocumentParams>(request) {
                    self.state.close_document(&p.text_document.uri);
                }
            }
            _ => {}
        }
    }
}

impl tower::Service<Request> for Service {
    type Response = Option<Response>;
    type Error = ExitedError;
    type Future = <LspService<Server> as tower::Service<Request>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        self.record(&request);
        self.inner.call(request)
    }
}

/// Serves the protocol over standard input and output until the client says `exit` or closes
/// the input.
pub fn serve_stdio(standard: &'static [(&'static str, &'static str)]) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (service, socket) = Service::new(standard);
        let (messages, input) = tokio::io::duplex(1 << 16);
        tokio::spawn(frames::pass_well_formed(tokio::io::stdin(), messages));
        tower_lsp_server::Server::new(input, tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    // A request still running on a blocking thread is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}
