//! The server's settings: the position encoding agreed with the client, and what the client
//! may set through `initializationOptions`:
//!
//! ```json
//! {
//!   "diagnosticsUrl": "https://example.org/tally/docs/diagnostics.md",
//!   "standardPacks": "files",
//!   "standardPacksDir": "/home/me/.cache/tally/std"
//! }
//! ```
//!
//! `diagnosticsUrl` is the page each diagnostic's code links to (with the code's section as
//! the anchor); `standardPacks` is `files` (the standard packs are written, read-only, to a
//! cache folder, so that any editor can open them) or `virtual` (they are shown as
//! `tally-std:///…` URIs, which only a client that asks the server for their text can open);
//! `standardPacksDir` is that cache folder.

use std::path::PathBuf;

use serde_json::Value;
use tally_compiler::diagnostics::Diagnostic;

use crate::codes;
use crate::state::setup_problem;
use crate::text::Encoding;

/// The page diagnostic codes link to when the client sets none: `docs/diagnostics.md` in the
/// repository named in Cargo.toml.
pub const DEFAULT_DIAGNOSTICS_URL: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/blob/main/docs/diagnostics.md"
);

/// How the standard packs are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardPacks {
    /// Written to a cache folder, read-only, and shown as `file://` URIs.
    Files,
    /// Shown as `tally-std:///PATH` URIs.
    Virtual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub encoding: Encoding,
    pub diagnostics_url: String,
    pub standard_packs: StandardPacks,
    /// Where the standard packs are written; a folder under the user's cache folder when
    /// `None`.
    pub standard_packs_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            encoding: Encoding::Utf16,
            diagnostics_url: DEFAULT_DIAGNOSTICS_URL.to_string(),
            standard_packs: StandardPacks::Files,
            standard_packs_dir: None,
        }
    }
}

impl Settings {
    /// The settings `initializationOptions` asks for; a value of the wrong type is left at
    /// its default and reported (T0320), and unknown options are ignored.
    pub fn from_options(encoding: Encoding, options: Option<&Value>) -> (Self, Vec<Diagnostic>) {
        let mut settings = Self {
            encoding,
            ..Self::default()
        };
        let mut problems = Vec::new();
        let Some(options) = options.filter(|o| !o.is_null()) else {
            return (settings, problems);
        };
        let Some(object) = options.as_object() else {
            problems.push(invalid("initializationOptions", "an object"));
            return (settings, problems);
        };
        for (key, value) in object {
            match key.as_str() {
                "diagnosticsUrl" => match value.as_str() {
                    Some(url) if !url.is_empty() => settings.diagnostics_url = url.to_string(),
                    _ => problems.push(invalid(key, "a URL as a string")),
                },
                "standardPacks" => match value.as_str() {
                    Some("files") => settings.standard_packs = StandardPacks::Files,
                    Some("virtual") => settings.standard_packs = StandardPacks::Virtual,
                    _ => problems.push(invalid(key, "`\"files\"` or `\"virtual\"`")),
                },
                "standardPacksDir" => match value.as_str() {
                    Some(dir) if !dir.is_empty() => {
                        settings.standard_packs_dir = Some(PathBuf::from(dir));
                    }
                    _ => problems.push(invalid(key, "a folder path as a string")),
                },
                _ => {}
            }
        }
        (settings, problems)
    }
}

fn invalid(key: &str, expected: &str) -> Diagnostic {
    setup_problem(
        codes::INVALID_OPTIONS,
        format!("initialization option `{key}` is not {expected}; the default is used"),
        "fix the option in the editor's language-server settings; see docs/lsp.md",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_set_what_they_name_and_bad_ones_are_reported() {
        let options = serde_json::json!({
            "diagnosticsUrl": "https://docs.example/diagnostics.md",
            "standardPacks": "virtual",
            "standardPacksDir": 7,
            "somethingElse": true
        });
        let (settings, problems) = Settings::from_options(Encoding::Utf8, Some(&options));
        assert_eq!(
            settings.diagnostics_url,
            "https://docs.example/diagnostics.md"
        );
        assert_eq!(settings.standard_packs, StandardPacks::Virtual);
        assert_eq!(settings.standard_packs_dir, None);
        assert_eq!(settings.encoding, Encoding::Utf8);
        let messages: Vec<String> = problems.iter().map(|d| d.one_line()).collect();
        assert_eq!(
            messages,
            [
                "<language server>:1:1: error[T0320]: initialization option `standardPacksDir` is not a folder path as a string; the default is used"
            ]
        );
    }

    #[test]
    fn the_default_link_is_the_repository_page() {
        assert!(DEFAULT_DIAGNOSTICS_URL.ends_with("/blob/main/docs/diagnostics.md"));
        assert!(DEFAULT_DIAGNOSTICS_URL.starts_with("https://"));
    }
}
