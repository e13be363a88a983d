//! A pack's manifest, `tally.yaml`, in the pack's folder (the folder given as the pack, or
//! the folder of a rule file given on its own). It is optional; every key in it is too:
//!
//! ```yaml
//! language_version: 1        # the rule syntax the pack is written in
//! lints:                     # the level of each lint for the pack's files
//!   T0401: error             # by code,
//!   shadowed-table-row: off  # or by name; `error`, `warning` or `off`
//! ```
//!
//! `language_version` marks the syntax the pack's rule files are written in, so that a later
//! syntax can be told apart and the pack migrated: this `tally` reads version 1, which is also
//! what a pack without the key is taken to be; any other version is refused (T0316) by every
//! command that reads the pack. Unknown keys, unknown lints and unknown levels are errors
//! (T0315), as a typo in a setting must not silently leave it unset. The file is read through
//! [`crate::estate::yaml`], so its errors point at the line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use tally_compiler::diagnostics::{Code, Diagnostic, SourceFile};

use crate::estate::codes::INPUT_REFUSED;
use crate::estate::yaml::{self, Dialect, Node, Scalar};
use crate::files::{self, MAX_RULE_FILE};
use crate::lint::{self, Level, codes};
use crate::sources;

/// The manifest's file name.
pub const FILE_NAME: &str = "tally.yaml";

/// The language versions this `tally` reads.
pub const LANGUAGE_VERSIONS: &[u32] = &[1];

/// The language version of a pack that does not say.
pub const DEFAULT_LANGUAGE_VERSION: u32 = 1;

/// A pack's settings: from its `tally.yaml`, or the defaults when it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The pack as given (a folder, or a rule file): the manifest governs its files.
    pub pack: PathBuf,
    /// The path of the `tally.yaml` read, if the pack has one.
    pub file: Option<String>,
    pub language_version: u32,
    /// The level of each lint the manifest sets, by code.
    pub lints: BTreeMap<Code, Level>,
}

impl Manifest {
    /// The settings of a pack without a manifest.
    pub fn default_for(pack: &Path) -> Self {
        Self {
            pack: pack.to_path_buf(),
            file: None,
            language_version: DEFAULT_LANGUAGE_VERSION,
            lints: BTreeMap::new(),
        }
    }

    /// Whether the rule file at `path` (as the pack reader shows it) belongs to this pack.
    pub fn holds(&self, path: &str) -> bool {
        Path::new(path).starts_with(&self.pack)
    }
}

/// The manifest of each pack, in the order given; a `tally.yaml` that two packs share is
/// reported once.
pub fn read_all(packs: &[PathBuf]) -> Result<Vec<Manifest>, Vec<Diagnostic>> {
    let mut manifests = Vec::new();
    let mut errors = Vec::new();
    let mut failed: BTreeSet<PathBuf> = BTreeSet::new();
    for pack in packs {
        let root = sources::pack_root(pack).to_path_buf();
        if failed.contains(&root) {
            continue;
        }
        match read(pack) {
            Ok(manifest) => manifests.push(manifest),
            Err(e) => {
                failed.insert(root);
                errors.extend(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(manifests)
    } else {
        Err(errors)
    }
}

/// The manifest of one pack: its folder's `tally.yaml`, or the defaults when there is none.
pub fn read(pack: &Path) -> Result<Manifest, Vec<Diagnostic>> {
    // A pack that cannot be read is reported as such (T0110), not through a manifest.
    if std::fs::symlink_metadata(pack).is_err() {
        return Ok(Manifest::default_for(pack));
    }
    let root = sources::pack_root(pack);
    let path = root.join(FILE_NAME);
    // A broken link is there (and refused), a missing file is not.
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(Manifest::default_for(pack));
    }
    let shown = path.display().to_string();
    let text = files::read_text(&path, root, MAX_RULE_FILE).map_err(|error| {
        let code = if error.is_refused() {
            INPUT_REFUSED
        } else {
            codes::INVALID_MANIFEST
        };
        let reason = error.reason(&path);
        let help = if error.is_refused() {
            error.refusal_help("a pack manifest", "the pack's folder")
        } else {
            "save `tally.yaml` as UTF-8 text, or remove it to use the default settings".to_owned()
        };
        let (source, span) = error.source(&shown);
        vec![
            Diagnostic::error(
                code,
                &source,
                span,
                format!("cannot read `{shown}`: {reason}"),
            )
            .with_label("unreadable")
            .with_help(help),
        ]
    })?;
    parse(&SourceFile::new(shown, text), pack)
}

/// `tally.yaml`, for [`yaml::read`].
const MANIFEST: Dialect = Dialect {
    code: codes::INVALID_MANIFEST,
    nesting_help: "`tally.yaml` needs two levels (`lints` and a lint's level): close the `[` and `{` left open and check the indentation above this line",
    shape_help: "`tally.yaml` is a mapping with `language_version: 1` and `lints:`, a mapping of lint codes or names (`T0401`, `overlapping-recognition`) to `error`, `warning` or `off`",
    single_document_help: "`tally.yaml` holds a single document: remove the separator",
};

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping of settings such as `language_version: 1`"
)]
struct RawManifest {
    language_version: Option<Scalar>,
    /// An empty value (`T0401:`) is `None`.
    lints: Option<BTreeMap<String, Option<Scalar>>>,
}

/// Reads the text of a pack's `tally.yaml`.
pub fn parse(source: &Arc<SourceFile>, pack: &Path) -> Result<Manifest, Vec<Diagnostic>> {
    let (raw, locator) = yaml::read::<RawManifest>(source, &MANIFEST).map_err(|d| vec![*d])?;
    let mut manifest = Manifest::default_for(pack);
    manifest.file = Some(source.path.clone());
    let Some(raw) = raw else {
        return Ok(manifest);
    };
    let root = Node::root(&locator);
    let mut errors = Vec::new();
    if let Some(version) = &raw.language_version {
        match language_version(source, &root.child("language_version"), version) {
            Ok(v) => manifest.language_version = v,
            Err(d) => errors.push(*d),
        }
    }
    let lints = root.child("lints");
    // Where each lint was set, to report one set twice (by code and by name).
    let mut set_as: BTreeMap<Code, String> = BTreeMap::new();
    for (key, level) in raw.lints.iter().flatten() {
        let node = lints.child(key);
        let Some(found) = lint::find(key) else {
            let help = match lint::closest(key) {
                Some(near) => format!("did you mean `{near}`? docs/lints.md lists the lints"),
                None => format!("the lints are {}; see docs/lints.md", lint_list()),
            };
            errors.push(
                Diagnostic::error(
                    codes::INVALID_MANIFEST,
                    source,
                    Some(node.key_span()),
                    format!("unknown lint `{key}` in `lints`"),
                )
                .with_label("not a lint code or name")
                .with_help(help),
            );
            continue;
        };
        if let Some(first) = set_as.insert(found.code, key.clone()) {
            errors.push(
                Diagnostic::error(
                    codes::INVALID_MANIFEST,
                    source,
                    Some(node.key_span()),
                    format!(
                        "lint `{}` is set twice in `lints`, as `{first}` and as `{key}`",
                        found.code
                    ),
                )
                .with_label("set again")
                .with_help("keep one of the two settings"),
            );
            continue;
        }
        let text = level.as_ref().map(Scalar::text).unwrap_or_default().trim();
        match Level::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(text))
        {
            Some((_, level)) => {
                manifest.lints.insert(found.code, *level);
            }
            None => errors.push(level_error(source, &node, key, text)),
        }
    }
    if errors.is_empty() {
        Ok(manifest)
    } else {
        Err(errors)
    }
}

/// The language version as written: a whole number that this `tally` reads.
fn language_version(
    source: &Arc<SourceFile>,
    node: &Node<'_>,
    version: &Scalar,
) -> Result<u32, Box<Diagnostic>> {
    let text = version.text().trim();
    let supported: Vec<String> = LANGUAGE_VERSIONS.iter().map(u32::to_string).collect();
    let supported = supported.join(", ");
    let number = text
        .parse::<u32>()
        .ok()
        .filter(|_| text.bytes().all(|b| b.is_ascii_digit()));
    match number {
        Some(v) if LANGUAGE_VERSIONS.contains(&v) => Ok(v),
        Some(v) => Err(Box::new(Diagnostic::error(
            codes::LANGUAGE_VERSION,
            source,
            Some(node.span()),
            format!("the pack is written in language version {v}, which this tally does not read"),
        )
        .with_label("not a version this tally reads")
        .with_help(format!(
            "this tally reads language version {supported}: use a tally that reads version {v}, or keep the pack in version {DEFAULT_LANGUAGE_VERSION} (`language_version: {DEFAULT_LANGUAGE_VERSION}`)"
        )))),
        None => Err(Box::new(Diagnostic::error(
            codes::INVALID_MANIFEST,
            source,
            Some(node.span()),
            format!("`language_version` is `{text}`, not a whole number"),
        )
        .with_label("expected a version number")
        .with_help(format!(
            "write the language version as a whole number; this tally reads {supported}"
        )))),
    }
}

fn level_error(source: &Arc<SourceFile>, node: &Node<'_>, key: &str, text: &str) -> Diagnostic {
    // An empty value has no span of its own: point at the key.
    let span = if text.is_empty() {
        node.key_span()
    } else {
        node.span()
    };
    let message = if text.is_empty() {
        format!("lint `{key}` has no level")
    } else {
        format!("unknown level `{text}` for lint `{key}`")
    };
    Diagnostic::error(codes::INVALID_MANIFEST, source, Some(span), message)
        .with_label("expected `error`, `warning` or `off`")
        .with_help(format!(
            "write `{key}: error`, `{key}: warning` or `{key}: off`"
        ))
}

/// "`T0401` (`overlapping-recognition`), …", for help texts.
fn lint_list() -> String {
    let names: Vec<String> = lint::LINTS
        .iter()
        .map(|l| format!("`{}` (`{}`)", l.code, l.name))
        .collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A diagnostic's code, message and line and column.
    type Found = (Code, String, (usize, usize));

    fn parsed(text: &str) -> Result<Manifest, Vec<Found>> {
        parse(&SourceFile::new("p/tally.yaml", text), Path::new("p")).map_err(|errors| {
            errors
                .iter()
                .map(|d| (d.code, d.message.clone(), d.line_col()))
                .collect()
        })
    }

    #[test]
    fn settings_are_read_by_code_or_name() {
        let manifest = parsed(
            "language_version: 1\nlints:\n  T0401: error\n  shadowed-table-row: off\n  t0403: Warning\n",
        );
        let lints: Vec<(Code, Level)> = manifest
            .map(|m| m.lints.into_iter().collect())
            .unwrap_or_default();
        assert_eq!(
            lints,
            vec![
                (codes::OVERLAPPING_RECOGNITION, Level::Error),
                (codes::UNRECOGNIZABLE_APPLICATION, Level::Warning),
                (codes::SHADOWED_TABLE_ROW, Level::Off),
            ]
        );
        for empty in ["", "# only a comment\n", "lints:\n", "{}\n"] {
            assert_eq!(
                parsed(empty).map(|m| (m.language_version, m.lints.len())),
                Ok((1, 0)),
                "{empty:?}"
            );
        }
    }

    #[test]
    fn mistakes_are_located() {
        assert_eq!(
            parsed("language_version: 2\n"),
            Err(vec![(
                codes::LANGUAGE_VERSION,
                "the pack is written in language version 2, which this tally does not read"
                    .to_owned(),
                (1, 19)
            )])
        );
        assert_eq!(
            parsed("language_version: one\n").map_err(|e| e.first().map(|d| d.0)),
            Err(Some(codes::INVALID_MANIFEST))
        );
        assert_eq!(
            parsed("lints:\n  T0499: off\n  T0401: fatal\n"),
            Err(vec![
                (
                    codes::INVALID_MANIFEST,
                    "unknown level `fatal` for lint `T0401`".to_owned(),
                    (3, 10)
                ),
                (
                    codes::INVALID_MANIFEST,
                    "unknown lint `T0499` in `lints`".to_owned(),
                    (2, 3)
                ),
            ])
        );
        assert_eq!(
            parsed("lint:\n  T0401: off\n"),
            Err(vec![(
                codes::INVALID_MANIFEST,
                "unknown field `lint`".to_owned(),
                (1, 1)
            )])
        );
        assert_eq!(
            parsed("lints:\n  T0401: off\n  overlapping-recognition: error\n")
                .map_err(|e| e.into_iter().map(|d| d.1).collect::<Vec<_>>()),
            Err(vec![
                "lint `T0401` is set twice in `lints`, as `T0401` and as `overlapping-recognition`"
                    .to_owned()
            ])
        );
    }

    #[test]
    fn a_file_belongs_to_the_pack_that_holds_it() {
        let folder = Manifest::default_for(Path::new("packs/acme"));
        assert!(folder.holds("packs/acme/visio.tally"));
        assert!(!folder.holds("packs/acme2/visio.tally"));
        let file = Manifest::default_for(Path::new("packs/acme/visio.tally"));
        assert!(file.holds("packs/acme/visio.tally"));
        assert!(!file.holds("packs/acme/other.tally"));
    }
}
