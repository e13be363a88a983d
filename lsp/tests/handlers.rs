//! Handler tests: the server driven in process, one feature at a time, on a small workspace
//! with the standard packs.

mod support;

use serde_json::json;
use support::{Harness, uri};

const ACME: &str = "/// Acme Corporation.
publisher acme { name \"Acme\" }

/// The Acme word processor.
product acme.writer {
    name \"Writer\"
    publisher acmee
}
";

#[tokio::test]
async fn a_misspelt_publisher_is_diagnosed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("acme.tally");
    std::fs::write(&file, ACME).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut server = Harness::start(
        Some(dir.path()),
        json!({ "standardPacksDir": cache.path() }),
        &[],
    )
    .await;
    let diagnostics = server.diagnostics(&uri(&file)).await;
    assert_eq!(diagnostics[0]["code"], "T0101", "{diagnostics}");
    server.shutdown().await;
}
