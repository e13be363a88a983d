//! Property tests of the front ends: whatever text is given as a CSV estate file, as
//! `licenses.yaml` or as a rule file, the result is a value or coded diagnostics, never a panic;
//! every diagnostic's span lies inside its file on character boundaries; and every diagnostic
//! renders. Inputs are arbitrary bytes (made text lossily) and text shaped like each format.
//!
//! The estate around a generated file is scenario 01's, small enough that rendering every
//! diagnostic stays cheap. 256 cases per property; the fuzz targets in `tests/fuzz/` go further.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use jiff::civil::date;
use proptest::prelude::*;
use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span};
use tally_compiler::ir::CompiledPack;
use tally_runtime::db::Database;
use tally_runtime::estate::{self, EstateFiles};
use tally_runtime::workspace::{RuleSource, Subject, Workspace};
use tally_tests::ESTATE_FILES;

/// The estate the generated file is put in.
const BASE: &str = "scenarios/01-device-shared-entitlement";

/// A `usage.csv` for the base estate, which has none.
const USAGE: &str = "application,at,in_use\nacme.writer_2024,2025-03-31T14:30,3\n";

fn base_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(BASE)
}

fn base_texts() -> &'static [String; 5] {
    static TEXTS: OnceLock<[String; 5]> = OnceLock::new();
    TEXTS.get_or_init(|| {
        ESTATE_FILES.map(|name| std::fs::read_to_string(base_dir().join(name)).unwrap_or_default())
    })
}

fn base_rules() -> &'static [Arc<SourceFile>] {
    static RULES: OnceLock<Vec<Arc<SourceFile>>> = OnceLock::new();
    RULES.get_or_init(|| {
        tally_runtime::sources::read_pack(&base_dir().join("packs")).expect("scenario 01's pack")
    })
}

fn base_pack() -> &'static CompiledPack {
    static PACK: OnceLock<CompiledPack> = OnceLock::new();
    PACK.get_or_init(|| {
        let compiled = tally_compiler::compile_sources(base_rules());
        assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
        compiled.pack
    })
}

/// The base estate with file `index` (in the order of [`ESTATE_FILES`], or 5 for `usage.csv`)
/// replaced by `text`.
fn estate_with(index: usize, text: &str) -> EstateFiles {
    let base = base_texts();
    let mut texts: [&str; 5] = [&base[0], &base[1], &base[2], &base[3], &base[4]];
    if let Some(slot) = texts.get_mut(index) {
        *slot = text;
    }
    let files = EstateFiles::from_texts(BASE, texts);
    files.with_usage(if index == 5 { text } else { USAGE })
}

fn check_span(source: &SourceFile, span: Span, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        span.start <= span.end && span.end <= source.text.len(),
        "{what}: span {span:?} outside `{}` ({} bytes)",
        source.path,
        source.text.len()
    );
    prop_assert!(
        source.text.is_char_boundary(span.start) && source.text.is_char_boundary(span.end),
        "{what}: span {span:?} not on character boundaries of `{}`",
        source.path
    );
    Ok(())
}

/// Every diagnostic is coded, points inside its file on character boundaries, and renders.
fn check_diagnostics(diagnostics: &[Diagnostic]) -> Result<(), TestCaseError> {
    for d in diagnostics {
        prop_assert!(d.code.0.starts_with('T') && d.code.0.len() == 5, "{d:?}");
        prop_assert!(!d.message.is_empty(), "{d:?}");
        if let Some(span) = d.span {
            check_span(&d.source, span, &d.message)?;
        }
        for related in &d.related {
            check_span(&related.source, related.span, &related.label)?;
        }
        prop_assert!(!d.one_line().is_empty());
        prop_assert!(!d.render().is_empty());
    }
    Ok(())
}

/// Imports; on success runs positions and explain, on failure checks the diagnostics.
fn import_and_check(files: &EstateFiles) -> Result<(), TestCaseError> {
    match estate::import(files, base_pack()) {
        Err(diagnostics) => {
            prop_assert!(!diagnostics.is_empty());
            check_diagnostics(&diagnostics)
        }
        Ok(estate) => {
            let licenses: Vec<String> = estate.licenses.iter().map(|l| l.id.clone()).collect();
            let devices: Vec<String> = estate.devices.iter().map(|d| d.id.clone()).collect();
            let rules = base_rules()
                .iter()
                .map(|source| RuleSource {
                    source: Arc::clone(source),
                    standard: false,
                })
                .collect();
            let mut ws = Workspace::new(Database::default(), rules, date(2026, 11, 1));
            ws.load(estate);
            prop_assert_eq!(ws.positions().len(), licenses.len());
            for id in &devices {
                prop_assert!(ws.explain(Subject::Device(id), false).is_some());
            }
            for id in &licenses {
                prop_assert!(ws.explain(Subject::License(id), false).is_some());
            }
            Ok(())
        }
    }
}

fn compile_and_check(text: &str) -> Result<(), TestCaseError> {
    let sources = [
        SourceFile::new("pack/rules.tally", text),
        SourceFile::new("pack/script.rhai", "device.cores"),
    ];
    let compiled = tally_compiler::compile_sources(&sources);
    check_diagnostics(&compiled.diagnostics)
}

/// Bytes made text the way a lossy reader would.
fn lossy_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 0..600)
        .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// One CSV cell: plain, quoted, with separators, multi-byte characters or stray quotes.
fn csv_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 ._=;-]{0,10}",
        "\"[A-Za-z0-9 ,\"\r\n]{0,8}\"",
        "[0-9]{1,40}(\\.[0-9]{1,30})?",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2})?",
        "(D1|D2|D9|L-OFFICE|P1|acme.writer_2024|true|no|desktop|server|vm)",
        "[éü€😀\u{feff}\t ]{0,4}",
        "[A-Za-z\"]{0,3}\"[A-Za-z]{0,3}",
    ]
}

/// A CSV text: a header of real and made-up column names, then rows of cells, with any line
/// ending, maybe a byte-order mark.
fn csv_text() -> impl Strategy<Value = String> {
    let column = prop_oneof![
        "(id|name|os_type|cores|processors|host|cluster|partition|assigned_user|status|groups)",
        "(device|kind|publisher|version|ignored|license|sku|quantity|unit_price|currency)",
        "(date|effective|expiry|disabled|application|at|in_use|purchased|chassis)",
        "[A-Za-z_ ]{0,6}",
    ];
    let header = proptest::collection::vec(column, 0..7);
    let rows = proptest::collection::vec(proptest::collection::vec(csv_cell(), 0..8), 0..6);
    let ending = prop_oneof!["\n", "\r\n", "\r", ""];
    (any::<bool>(), header, rows, ending).prop_map(|(bom, header, rows, ending)| {
        let mut text = if bom {
            "\u{feff}".to_owned()
        } else {
            String::new()
        };
        text.push_str(&header.join(","));
        for row in rows {
            text.push_str(&ending);
            text.push_str(&row.join(","));
        }
        text
    })
}

/// A `licenses.yaml`-shaped text: license records with real and made-up keys, values of every
/// YAML flavour, and indentation that is sometimes wrong.
fn yaml_text() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        "(id|name|sku|metric|rights|priority|limit|status|extra_entitlements|unit_price)",
        "(currency|expiry|restrictions|allocations|virtualization|metric_value|os_type|groups)",
        "(device|user|type|count|capacity)",
        "[a-z_]{1,6}",
    ];
    let value = prop_oneof![
        "(L-OFFICE|device|acme.office_2024|D1|alice|true_up|retired|sub|host|permanent)",
        "[0-9]{1,35}(\\.[0-9]{1,30})?",
        "-?[0-9]{1,3}",
        "\"[A-Za-z0-9 :#'é😀]{0,8}\"",
        "'[A-Za-z0-9 \"]{0,6}'",
        "(\\[\\]|\\{\\}|~|null|\\||>|&a|\\*a|!!str|---|\\.\\.\\.)",
        "\\[[a-z0-9, ]{0,8}\\]",
        "[A-Za-z0-9 :#-]{0,8}",
    ];
    let line = (0usize..4, any::<bool>(), key, value).prop_map(|(indent, item, key, value)| {
        let dash = if item { "- " } else { "" };
        format!("{}{dash}{key}: {value}", "  ".repeat(indent))
    });
    (
        prop_oneof![
            "licenses:",
            "licenses: \\[\\]",
            "\\[\\]",
            "licenses:\n  -",
            ""
        ],
        proptest::collection::vec(line, 0..12),
    )
        .prop_map(|(head, lines)| format!("{head}\n{}\n", lines.join("\n")))
}

/// A rule file made of the language's own words, names, literals and punctuation, in any order.
fn rule_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        "(publisher|product|application|rights|bundle|metric|table|sku|test)",
        "(name|aliases|publisher|editions|version|edition|recognize|installer|covers|downgrade)",
        "(counts|requires|limit|quantity|script|allocated_only|keys|default|row|given|expect)",
        "(device|user|host|cluster|license|cores|processors|primary|supplementary|like)",
        "(if|then|else|and|or|not|for|in|where|sum|count|max|min|ceil|round|true|false)",
        "[a-z]{1,6}(\\.[a-z_0-9]{1,6}){0,2}",
        "\"[A-Za-z0-9 %_\\\\\"é]{0,8}\"",
        "[0-9]{1,32}(\\.[0-9]{1,30})?",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "(\\{|\\}|\\(|\\)|\\[|\\]|,|\\.\\.|=>|\\+|-|\\*|/|==|<=|>|_|;|#)",
        "(//|///)[^\n]{0,10}\n",
        "[ \t\r\n]",
    ];
    proptest::collection::vec(token, 0..60).prop_map(|tokens| tokens.join(" "))
}

/// Indexes of the CSV files in [`estate_with`]: devices, users, evidence, purchases, usage.
const CSV_FILES: [usize; 5] = [0, 1, 2, 4, 5];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_as_a_csv_file(file in proptest::sample::select(&CSV_FILES[..]), text in lossy_text()) {
        import_and_check(&estate_with(file, &text))?;
    }

    #[test]
    fn csv_shaped_text_as_a_csv_file(file in proptest::sample::select(&CSV_FILES[..]), text in csv_text()) {
        import_and_check(&estate_with(file, &text))?;
    }

    #[test]
    fn any_bytes_as_licenses_yaml(text in lossy_text()) {
        import_and_check(&estate_with(3, &text))?;
    }

    #[test]
    fn yaml_shaped_text_as_licenses_yaml(text in yaml_text()) {
        import_and_check(&estate_with(3, &text))?;
    }

    #[test]
    fn any_bytes_as_a_rule_file(text in lossy_text()) {
        compile_and_check(&text)?;
    }

    #[test]
    fn rule_shaped_text_as_a_rule_file(text in rule_text()) {
        compile_and_check(&text)?;
    }
}
