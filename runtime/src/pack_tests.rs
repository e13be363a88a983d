//! Runs the `test` blocks of a compiled pack: recognition tests against the pack's own
//! recognizer, coverage tests against its rights.

use tally_compiler::ir::{CompiledPack, Expect, Given};

use crate::recognize::Recognizer;

/// The outcome of one `test` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    pub name: String,
    pub location: String,
    /// Empty when the test passed; otherwise one line per failed expectation.
    pub failures: Vec<String>,
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

/// Runs the tests of the pack that the filter selects, in order.
pub fn run(pack: &CompiledPack, recognizer: &Recognizer, filter: &TestFilter) -> Vec<TestResult> {
    pack.tests
        .iter()
        .filter(|test| filter.selects(&test.name))
        .map(|test| {
            let mut recognized: Vec<&str> = Vec::new();
            let mut application = None;
            for given in &test.givens {
                match given {
                    Given::Installer { publisher, name, version } => {
                        recognized.extend(recognizer.recognize(publisher, name, version));
                    }
                    Given::Application(app) => application = Some(app.as_str()),
                }
            }
            recognized.sort_unstable();
            recognized.dedup();
            let found = if recognized.is_empty() {
                "nothing".to_string()
            } else {
                recognized.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            };
            let mut failures = Vec::new();
            for expect in &test.expects {
                match expect {
                    Expect::Application(app) if !recognized.contains(&app.as_str()) => {
                        failures.push(format!("expected application `{app}`, recognised {found}"));
                    }
                    Expect::NoApplication(app) if recognized.contains(&app.as_str()) => {
                        failures.push(format!("expected no application `{app}`, but it was recognised"));
                    }
                    Expect::Unrecognized if !recognized.is_empty() => {
                        failures.push(format!("expected the evidence to stay unrecognised, recognised {found}"));
                    }
                    Expect::CoveredBy { rights, via } => {
                        let app = application.unwrap_or("");
                        match (pack.covers(rights, app), via) {
                            (None, _) => failures.push(format!("expected `{app}` to be covered by `{rights}`, but it is not")),
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
            TestResult { name: test.name.clone(), location: test.location.clone(), failures }
        })
        .collect()
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
