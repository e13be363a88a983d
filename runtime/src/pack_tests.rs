//! Runs the `test` blocks of a compiled pack: recognition tests recognise their evidence as one
//! device with the pack's own recognizer; coverage tests ask the pack's rights.

use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span, codes};
use tally_compiler::ir::{CompiledPack, Expect, Given, TestCase};

use crate::estate::Evidence;
use crate::recognize::{Recognizer, recognize_device};

/// The outcome of one test: a `test` block, a sample file's annotation or a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    pub name: String,
    /// `path:line`, for reports.
    pub location: String,
    /// The file the test is written in, and where (`None` for a whole folder or file).
    pub path: String,
    pub span: Option<Span>,
    /// Empty when the test passed; otherwise one line per failed expectation.
    pub failures: Vec<String>,
    /// Why the test was not run, when it was not.
    pub skipped: Option<String>,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Which tests a run takes: those whose name contains the filter's text, ignoring case; every
/// test when there is no text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestFilter {
    /// Lowercased.
    text: Option<String>,
}

impl TestFilter {
    pub fn new(text: Option<&str>) -> Self {
        Self {
            text: text.map(str::to_lowercase),
        }
    }

    pub fn selects(&self, name: &str) -> bool {
        self.text
            .as_ref()
            .is_none_or(|text| name.to_lowercase().contains(text.as_str()))
    }
}

/// Runs the tests of the pack that the filter selects, in order. A test the compiler marked as
/// skipped (it names a declaration another pack overrides) passes with its reason and checks
/// nothing.
pub fn run(pack: &CompiledPack, recognizer: &Recognizer, filter: &TestFilter) -> Vec<TestResult> {
    pack.tests
        .iter()
        .filter(|test| filter.selects(&test.name))
        .map(|test| {
            let failures = match &test.skipped {
                Some(_) => Vec::new(),
                None => check(pack, recognizer, test),
            };
            TestResult {
                name: test.name.clone(),
                location: test.location.clone(),
                path: test.path.clone(),
                span: Some(test.span),
                failures,
                skipped: test.skipped.clone(),
            }
        })
        .collect()
}

/// The failed tests as T0124 diagnostics at their names, for editors and CI annotations;
/// `source` finds a test's file by path (a test whose file it does not find is left out).
pub fn failure_diagnostics(
    results: &[TestResult],
    source: impl Fn(&str) -> Option<Arc<SourceFile>>,
) -> Vec<Diagnostic> {
    results
        .iter()
        .filter(|r| !r.passed())
        .filter_map(|r| {
            let file = source(&r.path)?;
            let message = format!("test `{}` fails: {}", r.name, r.failures.join("; "));
            Some(
                Diagnostic::error(codes::TEST_FAILED, &file, r.span, message)
                    .with_label("this test fails")
                    .with_help(
                        "fix the rule the test is about, or the test if the rule is right; `tally test --verbose` lists every test",
                    ),
            )
        })
        .collect()
}

/// The givens of a test as evidence rows of one device, in order (recognition names them by
/// their index, so they need no line).
fn evidence(test: &TestCase) -> Vec<Evidence> {
    test.givens
        .iter()
        .filter_map(|g| match g {
            Given::Evidence { kind, fields } => Some(Evidence::from_fields(
                *kind,
                fields.iter().map(|(f, v)| (*f, v.as_str())),
            )),
            Given::Application(_) => None,
        })
        .map(|mut e| {
            e.device = "test".into();
            e
        })
        .collect()
}

fn check(pack: &CompiledPack, recognizer: &Recognizer, test: &TestCase) -> Vec<String> {
    let rows = evidence(test);
    let found = recognize_device(recognizer, "test", &rows);
    let recognized: Vec<&str> = found
        .installations
        .iter()
        .chain(&found.ignored_applications)
        .map(|i| i.application.as_ref())
        .collect();
    let application = test.givens.iter().find_map(|g| match g {
        Given::Application(app) => Some(app.as_str()),
        Given::Evidence { .. } => None,
    });
    let described = if recognized.is_empty() {
        "nothing".to_string()
    } else {
        recognized
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut failures = Vec::new();
    for expect in &test.expects {
        match expect {
            Expect::Application(app) if !recognized.contains(&app.as_str()) => {
                failures.push(format!(
                    "expected application `{app}`, recognised {described}"
                ));
            }
            Expect::NoApplication(app) if recognized.contains(&app.as_str()) => {
                failures.push(format!(
                    "expected no application `{app}`, but it was recognised"
                ));
            }
            Expect::Unrecognized if found.unrecognized.len() != rows.len() => {
                failures.push(format!(
                    "expected the evidence to stay unrecognised, recognised {described}{}",
                    noise_note(found.noise.len())
                ));
            }
            Expect::Ignored if found.noise.len() != rows.len() => {
                failures.push(format!(
                    "expected the evidence to be ignored as noise, but {} of {} rows are not (recognised {described})",
                    rows.len() - found.noise.len(),
                    rows.len()
                ));
            }
            Expect::CoveredBy { rights, via } => {
                let app = application.unwrap_or("");
                match (pack.covers(rights, app), via) {
                    (None, _) => failures.push(format!(
                        "expected `{app}` to be covered by `{rights}`, but it is not"
                    )),
                    (Some(c), Some(via)) if c.via != *via => failures.push(format!(
                        "expected `{app}` to be covered by `{rights}` via {}, but it is covered via {}",
                        via.as_str(),
                        c.via.as_str()
                    )),
                    _ => {}
                }
            }
            Expect::NotCoveredBy(rights) => {
                let app = application.unwrap_or("");
                if let Some(c) = pack.covers(rights, app) {
                    failures.push(format!(
                        "expected `{app}` not to be covered by `{rights}`, but it is ({})",
                        c.via.as_str()
                    ));
                }
            }
            _ => {}
        }
    }
    failures
}

fn noise_note(noise: usize) -> String {
    match noise {
        0 => String::new(),
        n => format!(", and {n} rows are noise"),
    }
}

#[cfg(test)]
mod tests {
    use super::TestFilter;

    #[test]
    fn a_filter_selects_names_containing_its_text_in_any_case() {
        let filter = TestFilter::new(Some("EDITOR 2024"));
        assert!(filter.selects("Editor 2024 is recognised"));
        assert!(filter.selects("the editor 2024 with a 25.x build"));
        assert!(!filter.selects("Editor 2023"));
        assert!(TestFilter::new(None).selects("anything"));
        assert!(TestFilter::default().selects(""));
    }
}
