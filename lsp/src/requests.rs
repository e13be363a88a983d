//! The request boundary: every request reads a snapshot of the database on a blocking thread,
//! with salsa's cancellation caught. A request whose snapshot an edit cancelled is run again
//! on a fresh snapshot (a few times, then the client is told the content was modified), and a
//! request that fails inside the server answers with an error (T0325) instead of taking the
//! server down.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use serde_json::json;
use tally_compiler::diagnostics::Code;
use tower_lsp_server::jsonrpc::{self, ErrorCode};

use crate::codes;
use crate::state::{Snapshot, State};

/// How many times a cancelled request is run again before the client is told to retry.
const ATTEMPTS: usize = 3;

/// A request the server refuses or cannot answer, with its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    pub code: Code,
    pub message: String,
}

impl RequestError {
    pub fn new(code: Code, message: String) -> Self {
        Self { code, message }
    }

    /// As the protocol's error: `RequestFailed` (-32803), the message as `error[CODE]: …`, and
    /// the code as data.
    pub fn to_jsonrpc(&self) -> jsonrpc::Error {
        jsonrpc::Error {
            code: ErrorCode::ServerError(-32803),
            message: format!("error[{}]: {}", self.code, self.message).into(),
            data: Some(json!({ "code": self.code.0 })),
        }
    }
}

/// Runs `work` on a snapshot on a blocking thread; see the module documentation.
pub async fn read<T, F>(state: &Arc<State>, work: F) -> jsonrpc::Result<T>
where
    T: Send + 'static,
    F: Fn(&Snapshot) -> Result<T, RequestError> + Send + Sync + 'static,
{
    let work = Arc::new(work);
    for _ in 0..ATTEMPTS {
        let Some(snapshot) = state.snapshot() else {
            return Err(jsonrpc::Error::new(ErrorCode::ServerError(-32002)));
        };
        let work = Arc::clone(&work);
        let outcome = tokio::task::spawn_blocking(move || {
            salsa::Cancelled::catch(AssertUnwindSafe(|| work(&snapshot)))
        })
        .await;
        match outcome {
            Ok(Ok(result)) => return result.map_err(|e| e.to_jsonrpc()),
            // An edit came in: try again on the new revision.
            Ok(Err(_cancelled)) => {}
            Err(failure) => return Err(failed(&failure).to_jsonrpc()),
        }
    }
    Err(jsonrpc::Error::content_modified())
}

/// Runs `work` on a blocking thread, outside any snapshot (edits take the workspace's lock).
pub async fn write<T, F>(work: F) -> Result<T, RequestError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|failure| failed(&failure))
}

/// The error for a task that panicked (or was cancelled by the runtime shutting down).
fn failed(failure: &tokio::task::JoinError) -> RequestError {
    RequestError::new(
        codes::REQUEST_FAILED,
        format!("the request failed inside the language server ({failure}); the server goes on"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_request_is_an_error_not_a_crash() {
        let state = Arc::new(State::default());
        state.load(crate::settings::Settings::default(), &[], &[]);
        let answer: jsonrpc::Result<()> = read(&state, |_| {
            let empty: Vec<u8> = Vec::new();
            // Index out of bounds: a bug, caught at the boundary.
            let _ = empty[usize::from(empty.is_empty())];
            Ok(())
        })
        .await;
        let error = answer.unwrap_err();
        assert_eq!(error.code, ErrorCode::ServerError(-32803));
        assert!(
            error
                .message
                .starts_with("error[T0325]: the request failed")
        );
        let fine = read(&state, |_| Ok(7)).await;
        assert_eq!(fine, Ok(7));
    }
}
