//! The language server: the protocol's methods, each a few lines that read a snapshot through
//! [`requests::read`] and call the feature module that answers it.
//!
//! Document edits reach [`State`] before this type sees them (see [`crate::Service`]), in the
//! order the client sent them; the notification handlers here only bring the database up to
//! date with the document's text and publish the diagnostics that changed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tally_compiler::diagnostics::Diagnostic;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    self as lsp, CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    CodeActionResponse, CompletionOptions, CompletionParams, CompletionResponse,
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWatchedFilesRegistrationOptions, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DocumentFormattingParams, DocumentSymbolParams,
    DocumentSymbolResponse, FileSystemWatcher, FoldingRange, FoldingRangeParams,
    FoldingRangeProviderCapability, GlobPattern, GotoDefinitionParams, GotoDefinitionResponse,
    Hover, HoverParams, HoverProviderCapability, InitializeParams, InitializeResult,
    InitializedParams, Location, MessageType, OneOf, PrepareRenameResponse, ReferenceParams,
    Registration, RenameOptions, RenameParams, SemanticTokens, SemanticTokensFullOptions,
    SemanticTokensOptions, SemanticTokensParams, SemanticTokensResult,
    SemanticTokensServerCapabilities, ServerCapabilities, ServerInfo, TextDocumentPositionParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions, TextEdit, Uri,
    WorkDoneProgressOptions, WorkspaceEdit, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities, WorkspaceSymbolParams, WorkspaceSymbolResponse,
};
use tower_lsp_server::{Client, LanguageServer};

use crate::requests::{self, RequestError};
use crate::settings::Settings;
use crate::state::State;
use crate::text::Encoding;
use crate::{actions, completion, diagnostics, formatting, hover, navigation, symbols, tokens};

/// The diagnostics last published, and for which revision.
#[derive(Default)]
struct Published {
    generation: u64,
    shown: HashMap<Uri, Vec<lsp::Diagnostic>>,
    /// The failures of the `test` blocks as last run, once they have run.
    failures: Option<Arc<Vec<Diagnostic>>>,
}

pub struct Server {
    client: Client,
    state: Arc<State>,
    standard: &'static [(&'static str, &'static str)],
    published: tokio::sync::Mutex<Published>,
    /// Problems found while starting, told to the client once it is initialized.
    startup: Mutex<Vec<Diagnostic>>,
    /// Whether the client lets the server register for file-system events.
    watch_files: Mutex<bool>,
}

impl Server {
    pub fn new(
        client: Client,
        state: Arc<State>,
        standard: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self {
            client,
            state,
            standard,
            published: tokio::sync::Mutex::default(),
            startup: Mutex::default(),
            watch_files: Mutex::new(false),
        }
    }

    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// What the server can do, in the agreed position encoding.
    pub fn capabilities(encoding: Encoding) -> ServerCapabilities {
        ServerCapabilities {
            position_encoding: Some(encoding.kind()),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    ..TextDocumentSyncOptions::default()
                },
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec![" ".to_string()]),
                ..CompletionOptions::default()
            }),
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            rename_provider: Some(OneOf::Right(RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: WorkDoneProgressOptions::default(),
            })),
            document_symbol_provider: Some(OneOf::Left(true)),
            workspace_symbol_provider: Some(OneOf::Left(true)),
            folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
            document_formatting_provider: Some(OneOf::Left(true)),
            semantic_tokens_provider: Some(
                SemanticTokensServerCapabilities::SemanticTokensOptions(SemanticTokensOptions {
                    legend: tokens::legend(),
                    full: Some(SemanticTokensFullOptions::Bool(true)),
                    range: None,
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
            ),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..CodeActionOptions::default()
            })),
            workspace: Some(WorkspaceServerCapabilities {
                workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                    supported: Some(false),
                    change_notifications: None,
                }),
                file_operations: None,
            }),
            ..ServerCapabilities::default()
        }
    }

    /// Publishes the diagnostics of every file the client may change whose diagnostics
    /// differ from those last published (and of `force`, an opened document, in any case).
    ///
    /// The compiler's diagnostics go out first, with the test failures of the last run; then
    /// the tests run (only when the compiled pack changed) and the files whose failures
    /// changed are published again. Before the first run, both go out together.
    async fn publish(&self, force: Option<&Uri>) {
        let last = self.published.lock().await.failures.clone();
        let mut force = force;
        if let Some(last) = last {
            let computed = requests::read(&self.state, move |snapshot| {
                Ok((
                    snapshot.generation,
                    diagnostics::workspace_diagnostics_with(snapshot, &last),
                ))
            })
            .await;
            let Ok((generation, all)) = computed else {
                return;
            };
            if !self.send(generation, all, force, None).await {
                return;
            }
            // Sent: the document is published again only if its test failures changed.
            force = None;
        }
        let computed = requests::read(&self.state, |snapshot| {
            let failures = diagnostics::test_failures(&snapshot.db, snapshot.rules);
            Ok((
                snapshot.generation,
                diagnostics::workspace_diagnostics_with(snapshot, failures),
                Arc::new(failures.clone()),
            ))
        })
        .await;
        let Ok((generation, all, failures)) = computed else {
            return;
        };
        self.send(generation, all, force, Some(failures)).await;
    }

    /// Sends the publications that differ from those last sent (and `force`'s), unless a
    /// later revision's are out already; returns whether they were current.
    async fn send(
        &self,
        generation: u64,
        all: Vec<diagnostics::Publication>,
        force: Option<&Uri>,
        failures: Option<Arc<Vec<Diagnostic>>>,
    ) -> bool {
        let mut published = self.published.lock().await;
        if generation < published.generation {
            // A later revision's diagnostics are out already.
            return false;
        }
        published.generation = generation;
        if failures.is_some() {
            published.failures = failures;
        }
        let mut now: HashMap<Uri, Vec<lsp::Diagnostic>> = HashMap::new();
        for (uri, version, list) in all {
            let forced = force.is_some_and(|f| f == &uri);
            if forced || published.shown.get(&uri) != Some(&list) {
                self.client
                    .publish_diagnostics(uri.clone(), list.clone(), version)
                    .await;
            }
            now.insert(uri, list);
        }
        // Files no longer in the workspace: clear what they showed.
        for (uri, list) in &published.shown {
            if !now.contains_key(uri) && !list.is_empty() {
                self.client
                    .publish_diagnostics(uri.clone(), Vec::new(), None)
                    .await;
            }
        }
        published.shown = now;
        true
    }

    /// Brings the database up to date with a document, then publishes.
    /// The document's diagnostics are published even when they did not change, so that the
    /// client has them for the document's new version.
    async fn synced(&self, uri: Uri) {
        let state = Arc::clone(&self.state);
        let target = uri.clone();
        let _ = requests::write(move || state.sync(&target)).await;
        self.publish(Some(&uri)).await;
    }

    async fn tell(&self, problems: &[Diagnostic]) {
        for problem in problems {
            self.client
                .log_message(MessageType::WARNING, problem.one_line())
                .await;
            self.client
                .show_message(MessageType::WARNING, &problem.message)
                .await;
        }
    }
}

/// The folders of the workspace, as paths.
fn roots(params: &InitializeParams) -> Vec<PathBuf> {
    let folders: Vec<&Uri> = match &params.workspace_folders {
        Some(folders) if !folders.is_empty() => folders.iter().map(|f| &f.uri).collect(),
        #[allow(deprecated)]
        _ => params.root_uri.iter().collect(),
    };
    folders
        .into_iter()
        .filter_map(|uri| uri.to_file_path().map(|p| p.into_owned()))
        .collect()
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = Encoding::negotiate(
            params
                .capabilities
                .general
                .as_ref()
                .and_then(|g| g.position_encodings.as_deref()),
        );
        let (settings, mut problems) =
            Settings::from_options(encoding, params.initialization_options.as_ref());
        let dynamic_watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        if let Ok(mut watch) = self.watch_files.lock() {
            *watch = dynamic_watch;
        }
        let roots = roots(&params);
        let state = Arc::clone(&self.state);
        let standard = self.standard;
        let loading = requests::write(move || state.load(settings, standard, &roots)).await;
        match loading {
            Ok(found) => problems.extend(found),
            Err(error) => return Err(error.to_jsonrpc()),
        }
        if let Ok(mut startup) = self.startup.lock() {
            *startup = problems;
        }
        Ok(InitializeResult {
            capabilities: Self::capabilities(encoding),
            server_info: Some(ServerInfo {
                name: "tally".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let problems = self
            .startup
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        self.tell(&problems).await;
        let watch = self.watch_files.lock().map(|w| *w).unwrap_or(false);
        if watch {
            let options = DidChangeWatchedFilesRegistrationOptions {
                watchers: ["**/*.tally", "**/*.rhai"]
                    .into_iter()
                    .map(|glob| FileSystemWatcher {
                        glob_pattern: GlobPattern::String(glob.to_string()),
                        kind: None,
                    })
                    .collect(),
            };
            let registration = Registration {
                id: "tally-rule-files".to_string(),
                method: "workspace/didChangeWatchedFiles".to_string(),
                register_options: serde_json::to_value(options).ok(),
            };
            // A client that refuses only loses the updates of files changed outside it.
            let _ = self.client.register_capability(vec![registration]).await;
        }
        self.publish(None).await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        self.synced(params.text_document.uri).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        self.synced(params.text_document.uri).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.synced(params.text_document.uri).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let state = Arc::clone(&self.state);
        let uris: Vec<Uri> = params.changes.into_iter().map(|c| c.uri).collect();
        let changed = requests::write(move || {
            // Every file is reloaded, not only up to the first that changed.
            uris.iter().filter(|uri| state.reload(uri)).count() > 0
        })
        .await;
        if changed.unwrap_or(false) {
            self.publish(None).await;
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        requests::read(&self.state, move |s| {
            Ok(hover::hover(s, &at.text_document.uri, at.position))
        })
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        requests::read(&self.state, move |s| {
            let found = navigation::definition(s, &at.text_document.uri, at.position);
            Ok(match found.len() {
                0 => None,
                1 => found.into_iter().next().map(GotoDefinitionResponse::Scalar),
                _ => Some(GotoDefinitionResponse::Array(found)),
            })
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = params.text_document_position;
        let declarations = params.context.include_declaration;
        requests::read(&self.state, move |s| {
            Ok(Some(navigation::references(
                s,
                &at.text_document.uri,
                at.position,
                declarations,
            )))
        })
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        requests::read(&self.state, move |s| {
            let found = navigation::prepare_rename(s, &params.text_document.uri, params.position)?;
            Ok(found.map(
                |(range, placeholder)| PrepareRenameResponse::RangeWithPlaceholder {
                    range,
                    placeholder,
                },
            ))
        })
        .await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = params.text_document_position;
        let new_name = params.new_name;
        requests::read(&self.state, move |s| {
            navigation::rename(s, &at.text_document.uri, at.position, &new_name)
        })
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = params.text_document_position;
        requests::read(&self.state, move |s| {
            Ok(
                completion::completion(s, &at.text_document.uri, at.position)
                    .map(CompletionResponse::Array),
            )
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        requests::read(&self.state, move |s| {
            Ok(symbols::document_symbols(s, &params.text_document.uri)
                .map(DocumentSymbolResponse::Nested))
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        requests::read(&self.state, move |s| {
            Ok(Some(WorkspaceSymbolResponse::Flat(
                symbols::workspace_symbols(s, &params.query),
            )))
        })
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        requests::read(&self.state, move |s| {
            Ok(symbols::folding_ranges(s, &params.text_document.uri))
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        requests::read(&self.state, move |s| {
            Ok(formatting::format(s, &params.text_document.uri))
        })
        .await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        requests::read(&self.state, move |s| {
            Ok(tokens::tokens(s, &params.text_document.uri).map(|data| {
                SemanticTokensResult::Tokens(SemanticTokens {
                    result_id: None,
                    data,
                })
            }))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        requests::read(&self.state, move |s| {
            Ok(actions::code_actions(
                s,
                &params.text_document.uri,
                params.range,
            ))
        })
        .await
    }
}

/// A refusal the protocol carries as an error.
impl From<RequestError> for tower_lsp_server::jsonrpc::Error {
    fn from(error: RequestError) -> Self {
        error.to_jsonrpc()
    }
}
