//! ISO/IEC 19770-2 software identification tags (`.swidtag`), one file or a folder searched
//! for them (links to folders are not followed). Each tag is one `swid` row, in either form
//! of the standard:
//!
//! | evidence column | 2015: `SoftwareIdentity` | 2009: `software_identification_tag` |
//! |---|---|---|
//! | `name` | `@name` | `product_title` |
//! | `tag_id` | `@tagId` | `software_id/unique_id` |
//! | `version` | `@version` | `product_version/name` |
//! | `publisher` (creator) | `Entity[@role ~ softwareCreator]/@name`, else the `tagCreator`'s | `software_creator/name` |
//! | `licensor` | `Entity[@role ~ licensor]/@name` | `software_licensor/name` |
//! | `edition` | `Meta/@edition` | — |
//! | `entitlement_required` | `Meta/@entitlementDataRequired` = `true` | a `license_linkage/activation_status` |
//!
//! Elements are matched by their local name, whatever their namespace. A corpus tag
//! (`corpus="true"`) describes an installation package rather than installed software and is
//! left out. A tag without a name, or XML that is not well-formed (or has a DTD, which is
//! refused), is a T0209 error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use roxmltree::{Document, Node, ParsingOptions};
use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span};

use super::malformed;
use crate::estate::{Evidence, EvidenceField, EvidenceKind, codes};
use crate::files;

/// The most XML nodes one tag may have: real tags have dozens.
const MAX_NODES: u32 = 100_000;

const HELP: &str = "give ISO/IEC 19770-2 tags: a `SoftwareIdentity` element (2015) or a `software_identification_tag` element (2009) with the product's name";

/// Reads one SWID tag into a `swid` row (none for a corpus tag).
pub fn parse(source: &Arc<SourceFile>) -> Result<Vec<Evidence>, Vec<Diagnostic>> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let document = Document::parse_with_options(&source.text, options).map_err(|error| {
        let at = offset_of(source, error.pos());
        vec![malformed(
            source,
            Span::new(at, at),
            "this SWID tag is not well-formed XML",
            error.to_string(),
            "correct the XML at this place; a DTD is not accepted",
        )]
    })?;
    let root = document.root_element();
    let tag = match root.tag_name().name() {
        "SoftwareIdentity" => tag_2015(root),
        "software_identification_tag" => Some(tag_2009(root)),
        other => {
            return Err(vec![malformed(
                source,
                span_of(&root),
                format!("`{other}` is not a SWID tag"),
                "expected `SoftwareIdentity` or `software_identification_tag`",
                HELP,
            )]);
        }
    };
    let Some(tag) = tag else {
        return Ok(Vec::new());
    };
    if tag.name.trim().is_empty() {
        return Err(vec![malformed(
            source,
            span_of(&root),
            "this SWID tag has no product name",
            "no name in this tag",
            HELP,
        )]);
    }
    Ok(vec![Evidence::from_fields(
        EvidenceKind::Swid,
        [
            (EvidenceField::Name, tag.name.as_str()),
            (EvidenceField::TagId, &tag.tag_id),
            (EvidenceField::Version, &tag.version),
            (EvidenceField::Publisher, &tag.creator),
            (EvidenceField::Licensor, &tag.licensor),
            (EvidenceField::Edition, &tag.edition),
            (
                EvidenceField::EntitlementRequired,
                if tag.entitlement_required { "true" } else { "" },
            ),
        ],
    )])
}

/// What a tag says, in either form.
#[derive(Debug, Default)]
struct Tag {
    name: String,
    tag_id: String,
    version: String,
    creator: String,
    licensor: String,
    edition: String,
    entitlement_required: bool,
}

/// A 2015 tag; `None` for a corpus tag.
fn tag_2015(root: Node) -> Option<Tag> {
    if root.attribute("corpus") == Some("true") {
        return None;
    }
    let entity = |role: &str| {
        children(root, "Entity")
            .find(|e| {
                e.attribute("role")
                    .is_some_and(|roles| roles.split_whitespace().any(|r| r == role))
            })
            .and_then(|e| e.attribute("name"))
            .map(str::to_owned)
    };
    let meta = |attribute: &str| {
        children(root, "Meta").find_map(|m| m.attribute(attribute).filter(|v| !v.is_empty()))
    };
    let attribute = |name: &str| root.attribute(name).unwrap_or_default().to_owned();
    Some(Tag {
        name: attribute("name"),
        tag_id: attribute("tagId"),
        version: attribute("version"),
        creator: entity("softwareCreator")
            .or_else(|| entity("tagCreator"))
            .unwrap_or_default(),
        licensor: entity("licensor").unwrap_or_default(),
        edition: meta("edition").unwrap_or_default().to_owned(),
        entitlement_required: meta("entitlementDataRequired") == Some("true"),
    })
}

/// A 2009 tag.
fn tag_2009(root: Node) -> Tag {
    let text = |path: &[&str]| {
        let mut node = Some(root);
        for name in path {
            node = node.and_then(|n| children(n, name).next());
        }
        node.and_then(|n| n.text())
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    Tag {
        name: text(&["product_title"]),
        tag_id: text(&["software_id", "unique_id"]),
        version: text(&["product_version", "name"]),
        creator: text(&["software_creator", "name"]),
        licensor: text(&["software_licensor", "name"]),
        edition: String::new(),
        entitlement_required: !text(&["license_linkage", "activation_status"]).is_empty(),
    }
}

/// The child elements with a local name.
fn children<'a, 'input>(
    node: Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The span of an element's start tag, up to its name's end.
fn span_of(node: &Node) -> Span {
    let start = node.range().start;
    Span::new(start, start + 1 + node.tag_name().name().len())
}

/// The byte offset of a 1-based line and column (in characters).
fn offset_of(source: &SourceFile, pos: roxmltree::TextPos) -> usize {
    let line = usize::try_from(pos.row).unwrap_or(1).saturating_sub(1);
    let column = usize::try_from(pos.col).unwrap_or(1).saturating_sub(1);
    let start = source.line_start(line.min(source.line_count().saturating_sub(1)));
    let rest = source.text.get(start..).unwrap_or_default();
    start
        + rest
            .char_indices()
            .nth(column)
            .map_or(rest.len(), |(at, _)| at)
}

/// The `.swidtag` files in a folder and its sub-folders, sorted by path. Links to folders are
/// not followed, so a loop of links cannot trap the search; links to files are read if they
/// stay inside the folder.
pub fn tags_in(folder: &Path) -> Result<Vec<PathBuf>, Box<Diagnostic>> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|error| {
            let shown = dir.display().to_string();
            Box::new(
                Diagnostic::error(
                    codes::INVENTORY_UNREADABLE,
                    &SourceFile::new(shown.clone(), ""),
                    None,
                    format!(
                        "cannot read folder `{shown}`: {}",
                        files::ReadError::Io(error).reason(&dir)
                    ),
                )
                .with_label("the folder could not be read")
                .with_help("check that the folder can be read"),
            )
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("swidtag"))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Vec<Evidence>, Vec<Diagnostic>> {
        parse(&SourceFile::new("t.swidtag", text))
    }

    const TAG_2015: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
    name="Adobe Acrobat DC" tagId="regid.1986-12.com.adobe_AcrobatPro-AS1-Win-GM-MUL"
    version="22.001.20085" versionScheme="multipartnumeric">
  <Entity name="Adobe Inc." regid="regid.1986-12.com.adobe" role="tagCreator softwareCreator licensor"/>
  <Meta edition="Pro" entitlementDataRequired="true"/>
</SoftwareIdentity>
"#;

    #[test]
    fn a_2015_tag_is_a_row() {
        let rows = parse_text(TAG_2015).unwrap_or_default();
        let [row] = rows.as_slice() else {
            panic!("{rows:?}")
        };
        assert_eq!(row.kind, EvidenceKind::Swid);
        assert_eq!(&*row.name, "Adobe Acrobat DC");
        assert_eq!(&*row.publisher, "Adobe Inc.");
        assert_eq!(&*row.version, "22.001.20085");
        assert_eq!(
            row.details,
            [
                (
                    EvidenceField::TagId,
                    Arc::from("regid.1986-12.com.adobe_AcrobatPro-AS1-Win-GM-MUL")
                ),
                (EvidenceField::Edition, Arc::from("Pro")),
                (EvidenceField::Licensor, Arc::from("Adobe Inc.")),
                (EvidenceField::EntitlementRequired, Arc::from("true")),
            ]
        );
    }

    #[test]
    fn a_2009_tag_is_a_row() {
        let text = r#"<swid:software_identification_tag xmlns:swid="http://standards.iso.org/iso/19770/-2/2009/schema.xsd">
  <swid:entitlement_required_indicator>true</swid:entitlement_required_indicator>
  <swid:product_title>Microsoft Visio Professional 2016</swid:product_title>
  <swid:product_version><swid:name>16.0.4266.1001</swid:name></swid:product_version>
  <swid:software_creator><swid:name>Microsoft Corporation</swid:name></swid:software_creator>
  <swid:software_licensor><swid:name>Microsoft Corporation</swid:name></swid:software_licensor>
  <swid:software_id><swid:unique_id>90160000-0051-0000-1000-0000000FF1CE</swid:unique_id></swid:software_id>
  <swid:license_linkage><swid:activation_status>activated</swid:activation_status></swid:license_linkage>
</swid:software_identification_tag>"#;
        let rows = parse_text(text).unwrap_or_default();
        let [row] = rows.as_slice() else {
            panic!("{rows:?}")
        };
        assert_eq!(&*row.name, "Microsoft Visio Professional 2016");
        assert_eq!(&*row.version, "16.0.4266.1001");
        assert_eq!(&*row.publisher, "Microsoft Corporation");
        assert_eq!(
            row.field(EvidenceField::TagId),
            "90160000-0051-0000-1000-0000000FF1CE"
        );
        assert_eq!(row.field(EvidenceField::EntitlementRequired), "true");
    }

    #[test]
    fn corpus_tags_are_left_out() {
        let corpus = TAG_2015.replace("versionScheme", "corpus=\"true\" versionScheme");
        assert_eq!(parse_text(&corpus).map(|rows| rows.len()), Ok(0));
    }

    #[test]
    fn bad_tags_are_located() {
        let at = |text: &str| {
            parse_text(text)
                .err()
                .unwrap_or_default()
                .iter()
                .map(|d| (d.message.clone(), d.line_col()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            at("<SoftwareIdentity name=\"x\">\n  <Entity name=\"y\">\n</SoftwareIdentity>"),
            [("this SWID tag is not well-formed XML".to_owned(), (3, 1))]
        );
        assert_eq!(
            at("<?xml version=\"1.0\"?>\n<package name=\"x\"/>"),
            [("`package` is not a SWID tag".to_owned(), (2, 1))]
        );
        assert_eq!(
            at("<SoftwareIdentity tagId=\"x\"/>"),
            [("this SWID tag has no product name".to_owned(), (1, 1))]
        );
        let dtd = "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>\n<SoftwareIdentity name=\"&a;\"/>";
        assert_eq!(at(dtd).len(), 1);
    }
}
