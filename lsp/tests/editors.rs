//! The editor files stay in step with the language: the VS Code grammar names every
//! declaration keyword and field, and the extension's manifest points at files that exist.

// Test code fails the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use serde_json::Value;
use tally_compiler::syntax::ast::DeclKind;

fn vscode() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/editors/vscode"))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(vscode().join(path)).unwrap()).unwrap()
}

#[test]
fn the_grammar_names_every_declaration_keyword() {
    let grammar = json("syntaxes/tally.tmLanguage.json");
    let declaration = grammar["repository"]["declaration"]["match"]
        .as_str()
        .unwrap();
    for kind in DeclKind::ALL {
        assert!(
            declaration.contains(&format!("|{}|", kind.keyword()))
                || declaration.contains(&format!("({}|", kind.keyword()))
                || declaration.contains(&format!("|{})", kind.keyword())),
            "the grammar's declarations miss `{}`",
            kind.keyword()
        );
    }
    assert_eq!(grammar["scopeName"], "source.tally");
}

#[test]
fn the_manifest_points_at_its_files() {
    let manifest = json("package.json");
    let contributes = &manifest["contributes"];
    let language = &contributes["languages"][0];
    assert_eq!(language["extensions"][0], ".tally");
    for path in [
        language["configuration"].as_str().unwrap(),
        contributes["grammars"][0]["path"].as_str().unwrap(),
        "src/extension.js",
        "package-lock.json",
    ] {
        assert!(vscode().join(path).exists(), "{path} is missing");
    }
    let configuration = json("language-configuration.json");
    assert_eq!(configuration["comments"]["lineComment"], "//");
}
