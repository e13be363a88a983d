//! Tests of the position index: what it finds in block and flow style, and that pathological
//! nesting is measured in one pass.

use super::*;

fn key(name: &str) -> Seg {
    Seg::Key(name.to_owned())
}

fn value_at<'t>(locator: &Locator, text: &'t str, path: &[Seg]) -> Option<&'t str> {
    let entry = locator.get(path)?;
    let span = entry.value?;
    text.get(span.start..span.end)
}

fn key_at<'t>(locator: &Locator, text: &'t str, path: &[Seg]) -> Option<&'t str> {
    let span = locator.get(path)?.key;
    text.get(span.start..span.end)
}

const TEXT: &str = "\
# licenses
licenses:
  - id: L-1            # the first
    unit_price: \"389.00\"
    restrictions:
      os_type: desktop
      groups: [ \"location=Europe\", 'a, b' ]
    allocations:
    - device: WS-1
      type: permanent
    - { user: jdoe, type: allocated }
  - id: L-2
    name: 'Ünïcode ''quoted'' # not a comment'
";

fn lic(i: usize, rest: &[Seg]) -> Vec<Seg> {
    let mut path = vec![key("licenses"), Seg::Index(i)];
    path.extend_from_slice(rest);
    path
}

fn alloc(i: usize, k: &str) -> Vec<Seg> {
    lic(0, &[key("allocations"), Seg::Index(i), key(k)])
}

#[test]
fn finds_keys_items_and_flow_values() {
    let locator = Locator::new(TEXT);
    let at = |path: &[Seg]| value_at(&locator, TEXT, path);
    assert_eq!(at(&lic(0, &[key("id")])), Some("L-1"));
    assert_eq!(at(&lic(0, &[key("unit_price")])), Some("389.00"));
    let restrictions = |rest: &[Seg]| {
        let mut path = vec![key("restrictions")];
        path.extend_from_slice(rest);
        lic(0, &path)
    };
    assert_eq!(at(&restrictions(&[key("os_type")])), Some("desktop"));
    let group = |i| restrictions(&[key("groups"), Seg::Index(i)]);
    assert_eq!(at(&group(0)), Some("location=Europe"));
    assert_eq!(at(&group(1)), Some("a, b"));
    assert_eq!(at(&alloc(0, "device")), Some("WS-1"));
    assert_eq!(at(&alloc(0, "type")), Some("permanent"));
    assert_eq!(at(&alloc(1, "user")), Some("jdoe"));
    assert_eq!(at(&alloc(1, "type")), Some("allocated"));
    assert_eq!(at(&lic(1, &[key("id")])), Some("L-2"));
    assert_eq!(
        at(&lic(1, &[key("name")])),
        Some("Ünïcode ''quoted'' # not a comment")
    );
    assert_eq!(locator.too_deep(), None);
    assert_eq!(locator.second_document(), None);
    let first = locator.first_token().and_then(|s| TEXT.get(s.start..s.end));
    assert_eq!(first, Some("licenses:"));
}

#[test]
fn lists_may_sit_at_their_key_indentation() {
    let text = "licenses:\n- id: A\n  allocations:\n  - device: X\n  sku: S\n- id: B\n";
    let locator = Locator::new(text);
    let at = |path: &[Seg]| value_at(&locator, text, path);
    assert_eq!(
        at(&lic(0, &[key("allocations"), Seg::Index(0), key("device")])),
        Some("X")
    );
    assert_eq!(at(&lic(0, &[key("sku")])), Some("S"));
    assert_eq!(at(&lic(1, &[key("id")])), Some("B"));
}

#[test]
fn nearest_falls_back_to_ancestors() {
    let locator = Locator::new(TEXT);
    let (span, exact) = locator.nearest(&lic(0, &[key("currency")]));
    assert!(!exact);
    let line = span.and_then(|s| TEXT.get(s.start..s.end));
    assert_eq!(line, Some("- id: L-1"));
    assert_eq!(locator.nearest(&[key("nothing")]), (None, false));
    let (span, exact) = locator.nearest(&lic(0, &[key("id")]));
    assert!(exact);
    assert_eq!(span.and_then(|s| TEXT.get(s.start..s.end)), Some("L-1"));
}

#[test]
fn a_value_may_be_written_on_the_line_after_its_key() {
    let text = "licenses:\n  - id:\n      4711\n    name:\n      # a comment between\n      \"Visio\"\n    priority: &p\n      3\n    groups:\n      [ a ]\n  -\n    id: B\n";
    let locator = Locator::new(text);
    let at = |path: &[Seg]| value_at(&locator, text, path);
    assert_eq!(at(&lic(0, &[key("id")])), Some("4711"));
    assert_eq!(at(&lic(0, &[key("name")])), Some("Visio"));
    assert_eq!(at(&lic(0, &[key("priority")])), Some("3"));
    assert_eq!(at(&lic(0, &[key("groups"), Seg::Index(0)])), Some("a"));
    assert_eq!(at(&lic(1, &[key("id")])), Some("B"));
}

#[test]
fn nested_flow_collections_are_located() {
    let text = "licenses:\n  - id: A\n    allocations: [ { device: X, type: permanent }, {user: \"Y\"}, [z] ]\n    restrictions: { os_type: server, groups: [ \"a=b\", c ] }\n";
    let locator = Locator::new(text);
    let at = |path: &[Seg]| value_at(&locator, text, path);
    assert_eq!(at(&alloc(0, "device")), Some("X"));
    assert_eq!(at(&alloc(0, "type")), Some("permanent"));
    assert_eq!(at(&alloc(1, "user")), Some("Y"));
    let item = |i| {
        key_at(
            &locator,
            text,
            &lic(0, &[key("allocations"), Seg::Index(i)]),
        )
    };
    assert_eq!(item(1), Some("{user: \"Y\"}"));
    assert_eq!(item(2), Some("[z]"));
    let r = |k: &str| lic(0, &[key("restrictions"), key(k)]);
    assert_eq!(at(&r("os_type")), Some("server"));
    let mut group = r("groups");
    group.push(Seg::Index(1));
    assert_eq!(at(&group), Some("c"));
}

#[test]
fn json_on_one_line_and_over_lines_is_located() {
    let one_line = "{\"licenses\":[{\"id\":\"A\",\"unit_price\":12345678901234567.89},{\"id\":4711,\"priority\":1e2}]}";
    let pretty = "{\n  \"licenses\": [\n    {\n      \"id\": \"A\",\n      \"unit_price\": 12345678901234567.89\n    },\n    {\n      \"id\": 4711, \"priority\": 1e2\n    }\n  ]\n}\n";
    for text in [one_line, pretty] {
        let locator = Locator::new(text);
        let at = |path: &[Seg]| value_at(&locator, text, path);
        assert_eq!(at(&lic(0, &[key("id")])), Some("A"), "{text}");
        assert_eq!(
            at(&lic(0, &[key("unit_price")])),
            Some("12345678901234567.89"),
            "{text}"
        );
        assert_eq!(at(&lic(1, &[key("id")])), Some("4711"), "{text}");
        assert_eq!(at(&lic(1, &[key("priority")])), Some("1e2"), "{text}");
        let first = locator.first_token().and_then(|s| text.get(s.start..s.end));
        assert_eq!(first, Some("{"));
    }
}

#[test]
fn a_plain_scalar_in_flow_style_may_hold_quotes_and_go_on_over_lines() {
    // `a "b` is one plain scalar, so the `[` after it opens a list.
    let text = "licenses: [ a \"b, [ c ],\n  d\n  e, { f: g h\n   i } ]\n";
    let locator = Locator::new(text);
    let at = |path: &[Seg]| value_at(&locator, text, path);
    assert_eq!(at(&[key("licenses"), Seg::Index(0)]), Some("a \"b"));
    assert_eq!(
        at(&[key("licenses"), Seg::Index(1), Seg::Index(0)]),
        Some("c")
    );
    assert_eq!(at(&[key("licenses"), Seg::Index(2)]), Some("d\n  e"));
    assert_eq!(
        at(&[key("licenses"), Seg::Index(3), key("f")]),
        Some("g h\n   i")
    );
}

#[test]
fn block_scalars_and_quoted_scalars_over_lines_hide_what_they_hold() {
    let text = "licenses:\n  - name: |\n      id: not a key\n      - not an item\n\n      [ not, a, list ]\n    sku: S\n    rights: \"a\n      b: not a key\n      c\"\n    metric: >2\n       x\n    id: A\n";
    let locator = Locator::new(text);
    let at = |path: &[Seg]| value_at(&locator, text, path);
    assert_eq!(at(&lic(0, &[key("name")])), Some("id: not a key"));
    assert_eq!(at(&lic(0, &[key("sku")])), Some("S"));
    assert_eq!(
        at(&lic(0, &[key("rights")])),
        Some("a\n      b: not a key\n      c")
    );
    assert_eq!(at(&lic(0, &[key("metric")])), Some("x"));
    assert_eq!(at(&lic(0, &[key("id")])), Some("A"));
    assert_eq!(locator.get(&lic(0, &[key("b")])), None);
    assert_eq!(locator.get(&[key("id")]), None);
}

#[test]
fn documents_are_counted() {
    let second = |text: &str| {
        Locator::new(text)
            .second_document()
            .map(|s| (s.start, text.get(s.start..s.end).map(str::to_owned)))
    };
    let three_dashes = |at| Some((at, Some("---".to_owned())));
    assert_eq!(second("licenses: []\n"), None);
    assert_eq!(second("# c\n---\nlicenses: []\n...\n"), None);
    assert_eq!(
        second("licenses: []\n---\nlicenses: []\n"),
        three_dashes(13)
    );
    assert_eq!(second("---\nlicenses: []\n--- # again\n"), three_dashes(17));
    assert_eq!(second("---\n---\n"), three_dashes(4));
    assert_eq!(
        second("licenses: []\n...\nfoo: 1\n"),
        Some((17, Some("foo:".to_owned())))
    );
    // A `---` inside a block scalar or a quoted scalar is text.
    assert_eq!(second("a: |\n  ---\nb: \"x\n---\"\n"), None);
    let first = |text: &str| {
        Locator::new(text)
            .first_token()
            .and_then(|s| text.get(s.start..s.end).map(str::to_owned))
    };
    assert_eq!(first("# c\n\n  - a\n").as_deref(), Some("-"));
    assert_eq!(first("%YAML 1.2\n--- null\n").as_deref(), Some("null"));
    assert_eq!(first("# only a comment\n"), None);
}

#[test]
fn comments_respect_quotes() {
    assert_eq!(strip_comment("a: b # c"), "a: b ");
    assert_eq!(strip_comment("a: \"b # c\" # d"), "a: \"b # c\" ");
    assert_eq!(strip_comment("a: b#c"), "a: b#c");
    assert_eq!(strip_comment("# all"), "");
    assert_eq!(strip_comment("a: \"b # c"), "a: \"b # c");
}

/// Where the locator found the text too deep: (line, column).
fn too_deep_at(text: &str) -> Option<(usize, usize)> {
    let span = Locator::new(text).too_deep()?;
    let before = text.get(..span.start)?;
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    Some((line, column))
}

#[test]
fn nesting_is_measured_in_block_and_flow_style() {
    // Sixteen levels are allowed: `licenses` and fifteen more.
    let allowed = format!("licenses: {}{}\n", "[".repeat(15), "]".repeat(15));
    assert_eq!(too_deep_at(&allowed), None);
    let deeper = format!("licenses: {}{}\n", "[".repeat(16), "]".repeat(16));
    assert_eq!(too_deep_at(&deeper), Some((1, 26)));
    let mut keys = String::new();
    for level in 0..40 {
        keys.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
    }
    assert_eq!(too_deep_at(&keys), Some((17, 17)));
    let mixed = format!("licenses:\n  - - - {}\n", "{a: ".repeat(40));
    assert_eq!(too_deep_at(&mixed), Some((2, 57)));
}

#[test]
fn pathological_nesting_is_read_in_one_pass() {
    // 80 KB of nested list items on one line.
    let dashes = format!("licenses:\n{}x\n", "- ".repeat(40_000));
    assert_eq!(too_deep_at(&dashes), Some((2, 31)));
    // 10,000 nested flow lists, on one line and on lines of their own.
    let brackets = format!("licenses: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(too_deep_at(&brackets), Some((1, 26)));
    let lines = format!("{}{}", "[\n".repeat(10_000), "]\n".repeat(10_000));
    assert_eq!(too_deep_at(&lines), Some((17, 1)));
    // 80 KB of list items, each indented one more than the last: about 400 levels.
    let mut stairs = String::from("licenses:\n");
    let mut level = 0;
    while stairs.len() < 80_000 {
        stairs.push_str(&" ".repeat(level));
        stairs.push_str("-\n");
        level += 1;
    }
    assert_eq!(too_deep_at(&stairs), Some((17, 16)));
    // Quotes that never close, and keys that never end, on one long line.
    let quotes = format!("licenses: [ {} ]\n", "\"\\\" ".repeat(20_000));
    assert_eq!(too_deep_at(&quotes), None);
    let keys = format!("licenses:\n  - {}x\n", "a: ".repeat(30_000));
    assert_eq!(too_deep_at(&keys), None);
    let located = Locator::new(&keys);
    assert_eq!(
        value_at(&located, &keys, &lic(0, &[key("a")])).map(str::len),
        Some(89_998)
    );
}

#[test]
fn a_wide_file_is_located_throughout() {
    let mut text = String::from("licenses:\n");
    for i in 0..5_000 {
        text.push_str(&format!(
            "  - id: L-{i}\n    unit_price: {i}.50\n    allocations: [ {{ device: D-{i} }} ]\n"
        ));
    }
    let locator = Locator::new(&text);
    let at = |i: usize, rest: &[Seg]| value_at(&locator, &text, &lic(i, rest)).map(str::to_owned);
    assert_eq!(at(4_999, &[key("id")]).as_deref(), Some("L-4999"));
    assert_eq!(at(1_234, &[key("unit_price")]).as_deref(), Some("1234.50"));
    assert_eq!(
        at(7, &[key("allocations"), Seg::Index(0), key("device")]).as_deref(),
        Some("D-7")
    );
}

/// A small deterministic generator of YAML-like texts full of brackets, quotes and indicators.
struct Texts(u64);

impl Texts {
    fn next(&mut self, pieces: &[&str], len: usize) -> String {
        let mut text = String::new();
        for _ in 0..len {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let pick = usize::try_from(self.0 >> 33).unwrap_or_default() % pieces.len();
            text.push_str(pieces.get(pick).copied().unwrap_or_default());
        }
        text
    }
}

impl Texts {
    fn pick(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    /// A valid block-style value to write after `key: ` or `- `, nested up to `depth` levels,
    /// whose lines are indented `indent`. Brackets hide in quotes, comments and block scalars.
    fn block(&mut self, depth: usize, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let deep = depth > 0;
        if !deep {
            return match self.pick(3) {
                0 => format!("|\n{pad}[[[ {{{{ \"\n{pad}  - ] '\n"),
                1 => "plain \"[ x # [[[ comment".to_owned(),
                _ => "x".to_owned(),
            };
        }
        match self.pick(5) {
            0 | 1 => {
                let mut out = format!("\n{pad}- {}", self.block(depth - 1, indent + 2));
                if self.pick(3) == 0 {
                    out.push_str(&format!("\n{pad}- \"[ {{\""));
                }
                out
            }
            2 | 3 => {
                let mut out = format!("\n{pad}k: {}", self.block(depth - 1, indent + 2));
                match self.pick(3) {
                    0 => out.push_str(&format!("\n{pad}j: '[ ''{{' # [[[ {{{{")),
                    1 => out.push_str(&format!("\n{pad}j: >\n{pad}  ]]] [[[\n")),
                    _ => {}
                }
                out
            }
            _ => self.flow(depth),
        }
    }

    /// A valid flow-style value nested up to `depth` levels.
    fn flow(&mut self, depth: usize) -> String {
        if depth == 0 {
            return if self.pick(2) == 0 { "c \"d" } else { "e" }.to_owned();
        }
        match self.pick(7) {
            0..=2 => format!("[ {}, \"] {{ \\\" [\" ]", self.flow(depth - 1)),
            3..=5 => format!("{{ k: {}, j: 'b ]'' [' }}", self.flow(depth - 1)),
            _ => format!("[\n {}\n ]", self.flow(depth - 1)),
        }
    }
}

/// How deeply a YAML value nests lists and mappings.
fn depth(value: &serde_yaml_ng::Value) -> usize {
    use serde_yaml_ng::Value;
    match value {
        Value::Sequence(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Mapping(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Tagged(tagged) => depth(&tagged.value),
        _ => 0,
    }
}

#[test]
fn the_nesting_measure_never_misses_what_the_yaml_reader_nests() {
    let mut texts = Texts(7);
    let (mut deep, mut shallow) = (0, 0);
    for case in 0..1_000 {
        let text = format!("licenses: {}\n", texts.block(case % 150, 2));
        let locator = Locator::new(&text);
        match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text) {
            Ok(value) => {
                let nesting = depth(&value);
                // Never fewer levels than the reader, and never many more.
                if nesting > MAX_NESTING {
                    deep += 1;
                    assert!(locator.too_deep().is_some(), "{nesting}: {text}");
                } else if nesting + 2 < MAX_NESTING {
                    shallow += 1;
                    assert!(locator.too_deep().is_none(), "{nesting}: {text}");
                }
            }
            Err(err) => {
                assert!(err.to_string().contains("recursion limit"), "{err}: {text}");
                deep += 1;
                assert!(locator.too_deep().is_some(), "{text}");
            }
        }
    }
    assert!(deep > 50 && shallow > 50, "{deep} deep, {shallow} shallow");
}

#[test]
fn any_text_is_read_without_panicking() {
    let pieces = [
        "[", "{", "]", "}", ",", "a", "é", "\"", "'", "\\", "- ", ": ", "#", "\n", " ", "\t",
        "\r\n", "?", "|2", ">-", "&", "!", "*", "---", "...", "%", "\u{feff}", "k:", "🦀",
    ];
    let mut texts = Texts(11);
    for case in 0..3_000 {
        let text = texts.next(&pieces, 1 + case % 120);
        let locator = Locator::new(&text);
        let path = [key("licenses"), Seg::Index(0), key("id")];
        if let (Some(span), _) = locator.nearest(&path) {
            assert!(text.get(span.start..span.end).is_some(), "{text:?}");
        }
        for span in [
            locator.too_deep(),
            locator.second_document(),
            locator.first_token(),
        ]
        .into_iter()
        .flatten()
        {
            assert!(text.get(span.start..span.end).is_some(), "{text:?}");
        }
    }
}
