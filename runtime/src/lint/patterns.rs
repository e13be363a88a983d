//! What the lints know about patterns and ranges as sets of values: whether two patterns can
//! match one text (and an example of it), whether every text one pattern matches is matched by
//! another, and the same for version and table ranges.
//!
//! Patterns are taken as the matcher takes them (see [`crate::recognize`]): trimmed and
//! lowercased, `%` any run of characters, `_` exactly one, everything else literal; a plain
//! string is all literal. Answers err on the side of "no": an example is only ever a text
//! that both patterns match, and "covers" is only said when it is certain, so a lint built
//! on them does not report what is not there.

use std::cmp::Ordering;
use std::collections::VecDeque;

use tally_compiler::ir::{Pattern, VersionOp, compare_versions};

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// A literal character, lowercased, with the character as written for examples.
    Literal { lower: char, written: char },
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters, none included.
    Any,
}

/// A pattern as a sequence of tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens(pub Vec<Token>);

impl Tokens {
    /// The tokens of a rule's pattern.
    pub fn of(pattern: &Pattern) -> Self {
        match pattern {
            Pattern::Like(text) => Self::like(text),
            Pattern::Exact(text) => Self::exact(text),
        }
    }

    /// `like "…"`: `%` and `_` are wildcards.
    pub fn like(text: &str) -> Self {
        Self::read(text, true)
    }

    /// A plain string: every character is literal.
    pub fn exact(text: &str) -> Self {
        Self::read(text, false)
    }

    fn read(text: &str, wildcards: bool) -> Self {
        let trimmed = text.trim();
        let mut tokens = Vec::new();
        for written in trimmed.chars() {
            match written {
                '%' if wildcards => tokens.push(Token::Any),
                '_' if wildcards => tokens.push(Token::One),
                _ => {
                    // A character whose lowercase is several characters (`İ`) gives several
                    // literals, as the matcher's lowercased text does.
                    let mut lower = written.to_lowercase();
                    if let Some(first) = lower.next() {
                        tokens.push(Token::Literal {
                            lower: first,
                            written,
                        });
                    }
                    for rest in lower {
                        tokens.push(Token::Literal {
                            lower: rest,
                            written: rest,
                        });
                    }
                }
            }
        }
        Self(tokens)
    }

    /// The lowercased literals the pattern starts with.
    pub fn literal_start(&self) -> String {
        self.0
            .iter()
            .map_while(|t| match t {
                Token::Literal { lower, .. } => Some(*lower),
                _ => None,
            })
            .collect()
    }

    /// Whether the pattern matches every text, the empty one included (`%`, `%%`).
    pub fn matches_everything(&self) -> bool {
        self.0.iter().all(|t| *t == Token::Any)
    }

    /// Whether the pattern matches only the empty text.
    pub fn matches_only_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the pattern matches `text` (trimmed and lowercased first, as evidence is).
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.trim().to_lowercase().chars().collect();
        self.matches_chars(&text)
    }

    /// Token-by-token matching: a literal `%` or `_` of a plain string stays literal.
    fn matches_chars(&self, text: &[char]) -> bool {
        let n = self.0.len();
        // reach[j]: whether the first i characters can be matched by the first j tokens.
        let mut reach = vec![false; n + 1];
        reach[0] = true;
        close_any(&self.0, &mut reach);
        for c in text {
            let mut next = vec![false; n + 1];
            for (j, token) in self.0.iter().enumerate() {
                if !reach[j] {
                    continue;
                }
                match token {
                    Token::Any => next[j] = true,
                    Token::One => next[j + 1] = true,
                    Token::Literal { lower, .. } if lower == c => next[j + 1] = true,
                    Token::Literal { .. } => {}
                }
            }
            close_any(&self.0, &mut next);
            reach = next;
        }
        reach[n]
    }

    /// How many characters every text the pattern matches has at least: its literals and
    /// `_`s.
    pub fn fixed_len(&self) -> usize {
        self.0.iter().filter(|t| **t != Token::Any).count()
    }

    /// The shortest text both patterns match, if there is one: the characters as the first
    /// pattern writes them where it has literals, the second's elsewhere, and `x` for a
    /// character neither fixes.
    pub fn example_with(&self, other: &Tokens) -> Option<String> {
        let example = self.search(other, false)?;
        self.unpadded(other, example)
    }

    /// An example as inventory gives it: evidence is trimmed, so one that starts or ends with
    /// a space (`Visio 2016 - ` for `Visio 2016 - %`) is given an `x` there, if both patterns
    /// still match it.
    fn unpadded(&self, other: &Tokens, example: String) -> Option<String> {
        if example.trim() == example {
            return Some(example);
        }
        let mut padded = example.clone();
        if padded.starts_with(char::is_whitespace) {
            padded.insert(0, 'x');
        }
        if padded.ends_with(char::is_whitespace) {
            padded.push('x');
        }
        (self.matches(&padded) && other.matches(&padded)).then_some(padded)
    }

    /// The shortest text both patterns match in which the patterns share text: every run of
    /// literals (and `_`) of each has a character that a run of the other matches too. A
    /// text made by putting one pattern's run whole into the other's `%` —
    /// `%\MSSQL11.%\Setup` and `%\MSSQL12.%\Setup` both match a path naming both versions
    /// — is not one inventory has, so is not given.
    pub fn overlap_with(&self, other: &Tokens) -> Option<String> {
        let example = self.search(other, true)?;
        self.unpadded(other, example)
    }

    /// A shortest path through both patterns at once (a 0-1 breadth-first search: skipping a
    /// `%` costs nothing, reading a character costs one). With `shared`, each run must read
    /// one of its characters together with a run of the other pattern.
    fn search(&self, other: &Tokens, shared: bool) -> Option<String> {
        let (a, b) = (&self.0, &other.0);
        let width = b.len() + 1;
        let states = (a.len() + 1) * width * 4;
        // The state: a position in each pattern, and whether the run each is in has shared a
        // character yet.
        let state = |i: usize, j: usize, fa: bool, fb: bool| {
            ((i * width + j) * 2 + usize::from(fa)) * 2 + usize::from(fb)
        };
        let mut cost: Vec<usize> = vec![usize::MAX; states];
        let mut from: Vec<Option<(usize, Option<char>)>> = vec![None; states];
        let start = state(0, 0, false, false);
        cost[start] = 0;
        let mut queue = VecDeque::from([(0usize, 0usize, false, false)]);
        let goal = state(a.len(), b.len(), false, false);
        let must_a = shared && other.fixed_len() > 0;
        let must_b = shared && self.fixed_len() > 0;
        // Whether the run of `tokens` ends at `at`.
        let run_ends =
            |tokens: &[Token], at: usize| tokens.get(at + 1).is_none_or(|t| *t == Token::Any);
        while let Some((i, j, fa, fb)) = queue.pop_front() {
            let here = state(i, j, fa, fb);
            let base = cost[here];
            let mut relax =
                |next: (usize, usize, bool, bool), c: Option<char>, queue: &mut VecDeque<_>| {
                    let at = state(next.0, next.1, next.2, next.3);
                    let step = usize::from(c.is_some());
                    if base + step < cost[at] {
                        cost[at] = base + step;
                        from[at] = Some((here, c));
                        if step == 0 {
                            queue.push_front(next);
                        } else {
                            queue.push_back(next);
                        }
                    }
                };
            // A `%` may match nothing.
            if a.get(i) == Some(&Token::Any) {
                relax((i + 1, j, false, fb), None, &mut queue);
            }
            if b.get(j) == Some(&Token::Any) {
                relax((i, j + 1, fa, false), None, &mut queue);
            }
            // Both read one character.
            let (Some(ta), Some(tb)) = (a.get(i), b.get(j)) else {
                continue;
            };
            let fixed = |t: &Token| match t {
                Token::Literal { lower, written } => Some((*lower, *written)),
                _ => None,
            };
            let c = match (fixed(ta), fixed(tb)) {
                (Some((x, written)), Some((y, _))) if x == y => written,
                (Some(_), Some(_)) => continue,
                (Some((_, written)), None) | (None, Some((_, written))) => written,
                (None, None) => 'x',
            };
            let joint = *ta != Token::Any && *tb != Token::Any;
            // Moving past a run's last token needs the run to have shared a character (when
            // the other pattern has a run to share with).
            let advance = |tokens: &[Token], at: usize, flag: bool, must: bool| {
                let flag = flag || joint;
                if run_ends(tokens, at) {
                    (flag || !must).then_some((at + 1, false))
                } else {
                    Some((at + 1, flag))
                }
            };
            let (ni, nfa) = if *ta == Token::Any {
                (i, false)
            } else {
                let Some(next) = advance(a, i, fa, must_a) else {
                    continue;
                };
                next
            };
            let (nj, nfb) = if *tb == Token::Any {
                (j, false)
            } else {
                let Some(next) = advance(b, j, fb, must_b) else {
                    continue;
                };
                next
            };
            if (ni, nj) != (i, j) {
                relax((ni, nj, nfa, nfb), Some(c), &mut queue);
            }
        }
        from[goal]?;
        let mut text = Vec::new();
        let mut at = goal;
        while at != start {
            let (previous, c) = from[at]?;
            text.extend(c);
            at = previous;
        }
        text.reverse();
        Some(text.into_iter().collect())
    }

    /// Whether every text `specific` matches is matched by `self`. Only a certain "yes" is
    /// given: `self` must be able to spell `specific` token by token, its `%` taking any run
    /// of tokens, its `_` one literal or `_`, its literals the same literal.
    pub fn covers(&self, specific: &Tokens) -> bool {
        let (g, s) = (&self.0, &specific.0);
        // can[i][j]: the first i tokens of `self` spell the first j tokens of `specific`.
        let mut can = vec![vec![false; s.len() + 1]; g.len() + 1];
        can[0][0] = true;
        for i in 0..=g.len() {
            for j in 0..=s.len() {
                if !can[i][j] {
                    continue;
                }
                match g.get(i) {
                    Some(Token::Any) => {
                        // Takes nothing, or the next token of `specific` and stays.
                        can[i + 1][j] = true;
                        if j < s.len() {
                            can[i][j + 1] = true;
                        }
                    }
                    Some(Token::One) => {
                        if matches!(s.get(j), Some(Token::Literal { .. } | Token::One)) {
                            can[i + 1][j + 1] = true;
                        }
                    }
                    Some(Token::Literal { lower, .. }) => {
                        if matches!(s.get(j), Some(Token::Literal { lower: l, .. }) if l == lower) {
                            can[i + 1][j + 1] = true;
                        }
                    }
                    None => {}
                }
            }
        }
        can[g.len()][s.len()]
    }

    /// Texts the pattern matches, for trying against a range: every wildcard as little as it
    /// can be, then filled with `0`, then `1`.
    pub fn samples(&self) -> Vec<String> {
        ["", "0", "1"]
            .iter()
            .map(|fill| {
                self.0
                    .iter()
                    .map(|t| match t {
                        Token::Literal { written, .. } => written.to_string(),
                        Token::One => if fill.is_empty() { "0" } else { fill }.to_string(),
                        Token::Any => (*fill).to_string(),
                    })
                    .collect::<String>()
            })
            .filter_map(|sample| self.unpadded(self, sample))
            .collect()
    }
}

/// Marks what a `%` can skip: from each reached position, past the `%`s that follow it.
fn close_any(tokens: &[Token], reach: &mut [bool]) {
    for j in 0..tokens.len() {
        if reach[j] && tokens[j] == Token::Any {
            reach[j + 1] = true;
        }
    }
}

/// One end of a version range: the version, and whether the range includes it.
type Bound<'a> = (&'a str, bool);

/// A version range: every bound must hold. An empty list is every version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range<'a>(pub &'a [(VersionOp, String)]);

impl Range<'_> {
    pub fn contains(&self, version: &str) -> bool {
        let version = version.trim();
        !version.is_empty()
            && self
                .0
                .iter()
                .all(|(op, bound)| op.holds(compare_versions(version, bound)))
    }

    /// The lower bound (`>=`/`>`) and upper bound (`<=`/`<`), each with whether it is
    /// inclusive.
    fn bounds(&self) -> (Option<Bound<'_>>, Option<Bound<'_>>) {
        let mut low = None;
        let mut high = None;
        for (op, v) in self.0 {
            match op {
                VersionOp::Ge => low = Some((v.as_str(), true)),
                VersionOp::Gt => low = Some((v.as_str(), false)),
                VersionOp::Le => high = Some((v.as_str(), true)),
                VersionOp::Lt => high = Some((v.as_str(), false)),
            }
        }
        (low, high)
    }

    /// Whether no version lies in the range: the lower bound is above the upper one, or they
    /// are equal and one of them excludes it. (Versions are dense: between two different ones
    /// there is always another, `16.0.1` between `16` and `16.1`.)
    pub fn is_empty(&self) -> bool {
        let (Some((low, low_in)), Some((high, high_in))) = self.bounds() else {
            return false;
        };
        match compare_versions(low, high) {
            Ordering::Greater => true,
            Ordering::Equal => !(low_in && high_in),
            Ordering::Less => false,
        }
    }

    /// Whether every version in `inner` is in `self`.
    pub fn covers(&self, inner: &Range<'_>) -> bool {
        let (low, high) = self.bounds();
        let (inner_low, inner_high) = inner.bounds();
        let low_ok = match (low, inner_low) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some((v, inclusive)), Some((w, inner_inclusive))) => match compare_versions(w, v) {
                Ordering::Greater => true,
                Ordering::Equal => inclusive || !inner_inclusive,
                Ordering::Less => false,
            },
        };
        let high_ok = match (high, inner_high) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some((v, inclusive)), Some((w, inner_inclusive))) => match compare_versions(w, v) {
                Ordering::Less => true,
                Ordering::Equal => inclusive || !inner_inclusive,
                Ordering::Greater => false,
            },
        };
        low_ok && high_ok
    }

    /// Versions worth trying as an example of the range: its bounds, a little above each, and
    /// `0` and `1`.
    pub fn samples(&self) -> Vec<String> {
        let mut out: Vec<String> = vec!["0".to_string(), "1".to_string()];
        for (_, v) in self.0 {
            out.push(v.clone());
            for step in [".1", ".0.1", ".0.0.1"] {
                out.push(format!("{v}{step}"));
            }
        }
        out
    }

    /// A version both ranges hold, if one of the samples is.
    pub fn example_with(&self, other: &Range<'_>) -> Option<String> {
        self.samples()
            .into_iter()
            .chain(other.samples())
            .find(|v| self.contains(v) && other.contains(v))
    }
}

/// An inclusive range of numbers or dates as a table key writes it; `None` is unbounded.
pub fn range_covers<T: PartialOrd>(
    outer: (Option<&T>, Option<&T>),
    inner: (Option<&T>, Option<&T>),
) -> bool {
    let low = match (outer.0, inner.0) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(o), Some(i)) => o <= i,
    };
    let high = match (outer.1, inner.1) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(o), Some(i)) => i <= o,
    };
    low && high
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(text: &str) -> Tokens {
        Tokens::like(text)
    }

    #[test]
    fn an_example_is_matched_by_both_patterns() {
        let cases = [
            ("Microsoft Visio%", "%Visio Professional%"),
            ("%Studio%2024", "Acme Studio 2024"),
            ("A_C%", "%bc"),
            ("%", "x"),
        ];
        for (a, b) in cases {
            let (a, b) = (like(a), like(b));
            let example = a.example_with(&b);
            assert!(example.is_some(), "{a:?} {b:?}");
            let text = example.unwrap_or_default();
            assert!(a.matches(&text) && b.matches(&text), "{text}");
        }
        assert_eq!(
            like("Microsoft Visio%")
                .example_with(&like("%Visio Professional%"))
                .as_deref(),
            Some("Microsoft Visio Professional")
        );
    }

    #[test]
    fn an_overlap_shares_text() {
        let visio = like("Microsoft Visio%");
        assert_eq!(
            visio.overlap_with(&like("%Visio Professional%")).as_deref(),
            Some("Microsoft Visio Professional")
        );
        assert!(visio.overlap_with(&like("%")).is_some());
        assert!(
            like("%Studio%2024")
                .overlap_with(&Tokens::exact("Acme Studio 2024"))
                .is_some()
        );
        // A run whole inside the other's `%`: possible, but no inventory says that.
        let sql = like("%\\MSSQL11.%\\Setup\\Edition");
        let other = like("%\\MSSQL12.%\\Setup\\Edition");
        assert!(sql.example_with(&other).is_some());
        assert_eq!(sql.overlap_with(&other), None);
        assert_eq!(like("Adobe Acrobat%").overlap_with(&like("%Reader%")), None);
        assert!(sql.overlap_with(&like("%")).is_some());
    }

    #[test]
    fn an_example_has_no_surrounding_space() {
        let dash = like("Visio 2016 - %");
        assert_eq!(dash.example_with(&dash).as_deref(), Some("Visio 2016 - x"));
        assert_eq!(
            like("% Visio").overlap_with(&like("%Visio")).as_deref(),
            Some("x Visio")
        );
    }

    #[test]
    fn patterns_that_cannot_meet_have_no_example() {
        for (a, b) in [
            ("Microsoft Visio%", "Adobe%"),
            ("%2016", "%2019"),
            ("a_", "abc"),
            ("Acme Studio 2024", "Acme Studio 2023"),
        ] {
            assert_eq!(like(a).example_with(&like(b)), None, "{a} {b}");
        }
    }

    #[test]
    fn a_plain_string_takes_wildcards_literally() {
        let exact = Tokens::exact("100% Pure");
        assert!(exact.matches("100% pure"));
        assert!(!exact.matches("100 Pure"));
        assert!(like("100% Pure").matches("100 Pure"));
        assert!(like("100%").covers(&Tokens::exact("100")));
    }

    #[test]
    fn covering_is_certain() {
        assert!(like("Update for%").covers(&like("Update for Visio%")));
        assert!(like("%Update%").covers(&Tokens::exact("Security Update for Office")));
        assert!(like("%").covers(&like("_x%")));
        assert!(like("a_c").covers(&like("abc")));
        assert!(!like("a_c").covers(&like("a%c")));
        assert!(!like("Update for Visio%").covers(&like("Update for%")));
        assert!(!like("%2016").covers(&like("%")));
    }

    #[test]
    fn version_ranges() {
        let v = |op, s: &str| (op, s.to_string());
        let backwards = [v(VersionOp::Ge, "17"), v(VersionOp::Lt, "16")];
        assert!(Range(&backwards).is_empty());
        let point = [v(VersionOp::Ge, "16"), v(VersionOp::Le, "16.0")];
        assert!(!Range(&point).is_empty());
        let open_point = [v(VersionOp::Gt, "16"), v(VersionOp::Le, "16.0")];
        assert!(Range(&open_point).is_empty());
        let sixteen = [v(VersionOp::Ge, "16.0"), v(VersionOp::Lt, "17.0")];
        let from_fifteen = [v(VersionOp::Ge, "15")];
        assert!(Range(&from_fifteen).covers(&Range(&sixteen)));
        assert!(!Range(&sixteen).covers(&Range(&from_fifteen)));
        let above = [v(VersionOp::Gt, "16"), v(VersionOp::Lt, "16.1")];
        assert_eq!(
            Range(&above).example_with(&Range(&sixteen)).as_deref(),
            Some("16.0.1")
        );
        assert_eq!(Range(&backwards).example_with(&Range(&[])), None);
    }

    #[test]
    fn table_ranges() {
        assert!(range_covers((None, Some(&8)), (Some(&2), Some(&4))));
        assert!(!range_covers((Some(&3), None), (Some(&2), Some(&4))));
        assert!(!range_covers((Some(&1), Some(&8)), (Some(&2), None)));
    }
}
