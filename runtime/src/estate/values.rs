//! Field values shared by the CSV and YAML readers: a located [`Field`], the [`Checker`] that
//! turns field text into model values (whole numbers, decimals, dates, flags, choices, groups)
//! and reports a diagnostic for every bad one, and the "did you mean" helper.

use std::borrow::Cow;
use std::sync::Arc;

use jiff::civil::Date;
use rust_decimal::Decimal;
use tally_compiler::diagnostics::{Code, Diagnostic, SourceFile, Span};

use super::codes;
use super::model::Groups;

/// One field of a record as written: its trimmed text and where it is in the source. The CSV
/// reader borrows the text from the source where it is written as read (not where quoting
/// changed it); the YAML reader owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Field<'t> {
    pub text: Cow<'t, str>,
    pub span: Span,
}

impl Field<'_> {
    /// The text, or `None` when the field is empty, which means unknown (or the default).
    pub fn value(&self) -> Option<&str> {
        (!self.text.is_empty()).then_some(&*self.text)
    }
}

/// What an empty field means, for help texts.
#[derive(Debug, Clone, Copy)]
pub(super) enum IfEmpty {
    /// The field must not be empty.
    Required,
    /// An empty field means unknown.
    Unknown,
    /// An empty field means this default value.
    Default(&'static str),
    /// An empty field means a value that depends on other fields, as this text says.
    Derived(&'static str),
}

/// How messages name a field: "invalid {name} `…`", "write {the} as …, such as `{example}`".
#[derive(Debug, Clone, Copy)]
pub(super) struct What {
    pub name: &'static str,
    pub the: &'static str,
    pub example: &'static str,
    pub if_empty: IfEmpty,
}

impl What {
    pub const fn required(name: &'static str, the: &'static str, example: &'static str) -> Self {
        Self {
            name,
            the,
            example,
            if_empty: IfEmpty::Required,
        }
    }

    pub const fn optional(name: &'static str, the: &'static str, example: &'static str) -> Self {
        Self {
            name,
            the,
            example,
            if_empty: IfEmpty::Unknown,
        }
    }

    pub const fn defaulted(
        name: &'static str,
        the: &'static str,
        example: &'static str,
        default: &'static str,
    ) -> Self {
        Self {
            name,
            the,
            example,
            if_empty: IfEmpty::Default(default),
        }
    }

    pub const fn derived(
        name: &'static str,
        the: &'static str,
        example: &'static str,
        rule: &'static str,
    ) -> Self {
        Self {
            name,
            the,
            example,
            if_empty: IfEmpty::Derived(rule),
        }
    }

    /// The end of a help text that says the field may be left empty.
    fn or_empty(&self) -> String {
        match self.if_empty {
            IfEmpty::Required => String::new(),
            IfEmpty::Unknown => ", or leave the field empty if it is unknown".to_owned(),
            IfEmpty::Default(default) => {
                format!(", or leave the field empty for the default `{default}`")
            }
            IfEmpty::Derived(rule) => format!(", or leave the field empty for {rule}"),
        }
    }
}

/// Collects the diagnostics of one source file while its fields are checked.
#[derive(Debug)]
pub(super) struct Checker {
    source: Arc<SourceFile>,
    diagnostics: Vec<Diagnostic>,
}

impl Checker {
    pub fn new(source: &Arc<SourceFile>) -> Self {
        Self {
            source: Arc::clone(source),
            diagnostics: Vec::new(),
        }
    }

    pub fn source(&self) -> &Arc<SourceFile> {
        &self.source
    }

    /// The file name without its folder, e.g. `devices.csv`.
    pub fn file_name(&self) -> &str {
        file_name(&self.source)
    }

    /// Whether nothing has been reported.
    pub fn is_clean(&self) -> bool {
        self.diagnostics.is_empty()
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// Reports an error in this file.
    pub fn report(
        &mut self,
        code: Code,
        span: Option<Span>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diagnostics.push(
            Diagnostic::error(code, &self.source, span, message)
                .with_label(label)
                .with_help(help),
        );
    }

    /// A field that must not be empty; `fallback` is where to point when it is absent.
    pub fn required<'f, 't>(
        &mut self,
        field: Option<&'f Field<'t>>,
        fallback: Span,
        what: &What,
    ) -> Option<&'f Field<'t>> {
        if let Some(field) = field.filter(|f| f.value().is_some()) {
            return Some(field);
        }
        let (span, label) = match field {
            Some(field) => (field.span, "empty field"),
            None => (fallback, "in this record"),
        };
        self.report(
            codes::ESTATE_VALUE,
            Some(span),
            format!("missing {}", what.name),
            label,
            format!("write {}, such as `{}`", what.the, what.example),
        );
        None
    }

    /// A whole number from `min` to 4294967295 (`u32::MAX`).
    pub fn whole(&mut self, field: Option<&Field<'_>>, what: &What, min: u32) -> Option<u32> {
        self.whole_up_to(field, what, min.into(), u32::MAX.into())
            .and_then(|n| u32::try_from(n).ok())
    }

    /// A whole number from `min` to `max`, written with digits only.
    pub fn whole_up_to(
        &mut self,
        field: Option<&Field<'_>>,
        what: &What,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let (field, text) = present(field)?;
        let parsed = text
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse::<u64>().ok().filter(|n| *n <= max));
        let (label, range) = if min == 0 {
            ("expected a whole number".to_owned(), String::new())
        } else {
            (
                format!("expected a whole number of {min} or more"),
                format!(" of {min} or more,"),
            )
        };
        let (label, help) = match parsed {
            Some(Some(n)) if n >= min => return Some(n),
            Some(None) => (
                format!("larger than {max}, the largest whole number allowed"),
                format!(
                    "write {} as a whole number from {min} to {max}, such as `{}`{}",
                    what.the,
                    what.example,
                    what.or_empty()
                ),
            ),
            _ => {
                match without_exponent(text)
                    .filter(|n| n.parse::<u64>().is_ok_and(|n| n >= min && n <= max))
                {
                    Some(plain) => (
                        "a number in exponent form".to_owned(),
                        format!(
                            "write {} as `{plain}`: whole numbers are written with digits only{}",
                            what.the,
                            what.or_empty()
                        ),
                    ),
                    None => (
                        label,
                        format!(
                            "write {} as a whole number{range} such as `{}`{}",
                            what.the,
                            what.example,
                            what.or_empty()
                        ),
                    ),
                }
            }
        };
        self.report(
            codes::ESTATE_VALUE,
            Some(field.span),
            format!("invalid {} `{text}`", what.name),
            label,
            help,
        );
        None
    }

    /// A decimal of zero or more, read exactly from its text (`1250.50`). An exponent form
    /// (`1e2`) is refused, with its plain form in the help when it has one.
    pub fn amount(&mut self, field: Option<&Field<'_>>, what: &What) -> Option<Decimal> {
        let (field, text) = present(field)?;
        let parsed = is_plain_decimal(text)
            .then(|| Decimal::from_str_exact(text).ok())
            .flatten();
        let plain = || without_exponent(text).filter(|p| !p.starts_with('-'));
        let (message, label, help) = match parsed {
            Some(value) if value >= Decimal::ZERO => return Some(value),
            Some(_) => (
                format!("negative {} `{text}`", what.name),
                "must be zero or more",
                None,
            ),
            None if is_plain_decimal(text) => (
                format!("invalid {} `{text}`", what.name),
                "too many digits",
                None,
            ),
            None => match plain() {
                Some(plain) => (
                    format!("invalid {} `{text}`", what.name),
                    "a number in exponent form",
                    Some(format!(
                        "write {} as `{plain}`: decimals are written with `.` and no exponent or thousands separator{}",
                        what.the,
                        what.or_empty()
                    )),
                ),
                None => (
                    format!("invalid {} `{text}`", what.name),
                    "expected a decimal number",
                    None,
                ),
            },
        };
        let help = help.unwrap_or_else(|| {
            format!(
                "write {} as a decimal number of zero or more with `.` and no thousands separator, such as `{}`{}",
                what.the,
                what.example,
                what.or_empty()
            )
        });
        self.report(codes::ESTATE_VALUE, Some(field.span), message, label, help);
        None
    }

    /// A date written `YYYY-MM-DD`.
    pub fn date(&mut self, field: Option<&Field<'_>>, what: &What) -> Option<Date> {
        let (field, text) = present(field)?;
        let label = match parse_date(text) {
            Ok(date) => return Some(date),
            Err(label) => label,
        };
        self.report(
            codes::ESTATE_VALUE,
            Some(field.span),
            format!("invalid {} `{text}`", what.name),
            label,
            format!(
                "write {} as year-month-day, such as `{}`{}",
                what.the,
                what.example,
                what.or_empty()
            ),
        );
        None
    }

    /// A moment written `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`, kept in that form (the `T` may
    /// also be written `t` or a space) so that moments sort in time order.
    pub fn moment(&mut self, field: Option<&Field<'_>>, what: &What) -> Option<String> {
        let (field, text) = present(field)?;
        let label = match parse_moment(text) {
            Ok(moment) => return Some(moment),
            Err(label) => label,
        };
        self.report(
            codes::ESTATE_VALUE,
            Some(field.span),
            format!("invalid {} `{text}`", what.name),
            label,
            format!(
                "write {} as year-month-day, with hours:minutes after a `T` for a time of day, such as `{}`{}",
                what.the,
                what.example,
                what.or_empty()
            ),
        );
        None
    }

    /// A boolean: `true`/`false`, `yes`/`no` or `1`/`0`, ignoring case.
    pub fn flag(&mut self, field: Option<&Field<'_>>, what: &What) -> Option<bool> {
        const FLAGS: &[(&str, bool)] = &[
            ("true", true),
            ("false", false),
            ("yes", true),
            ("no", false),
            ("1", true),
            ("0", false),
        ];
        let (field, text) = present(field)?;
        if let Some(&(_, value)) = FLAGS.iter().find(|(n, _)| n.eq_ignore_ascii_case(text)) {
            return Some(value);
        }
        self.report(
            codes::ESTATE_VALUE,
            Some(field.span),
            format!("invalid {} `{text}`", what.name),
            "expected `true` or `false`",
            format!(
                "write `true` or `false` (`yes`/`no` and `1`/`0` work too){}",
                what.or_empty()
            ),
        );
        None
    }

    /// One of a fixed set of names, ignoring case. The first name given for each value is the
    /// one shown in help; later names for the same value are accepted aliases.
    pub fn choice<T: Copy + PartialEq>(
        &mut self,
        field: Option<&Field<'_>>,
        what: &What,
        choices: &[(&'static str, T)],
    ) -> Option<T> {
        let (field, text) = present(field)?;
        if let Some(&(_, value)) = choices.iter().find(|(n, _)| n.eq_ignore_ascii_case(text)) {
            return Some(value);
        }
        let shown: Vec<&str> = choices
            .iter()
            .enumerate()
            .filter(|&(i, (_, v))| !choices.iter().take(i).any(|(_, earlier)| earlier == v))
            .map(|(_, (n, _))| *n)
            .collect();
        let names = choices.iter().map(|(n, _)| *n);
        self.report(
            codes::ESTATE_VALUE,
            Some(field.span),
            format!("unknown {} `{text}`", what.name),
            format!("not a known {}", what.name),
            format!(
                "{}write one of {}{}",
                did_you_mean_prefix(text, names),
                backticked(shown),
                what.or_empty()
            ),
        );
        None
    }

    /// An ISO 4217 currency code, stored in upper case.
    pub fn currency(&mut self, field: Option<&Field<'_>>) -> Option<String> {
        let (field, text) = present(field)?;
        if text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Some(text.to_ascii_uppercase());
        }
        self.report(
            codes::ESTATE_VALUE,
            Some(field.span),
            format!("invalid currency `{text}`"),
            "expected a three-letter currency code",
            "write an ISO 4217 currency code such as `EUR` or `USD`, or leave the field empty if it is unknown",
        );
        None
    }

    /// Groups written as `type=path` pairs separated by `;`.
    pub fn groups(&mut self, field: Option<&Field<'_>>) -> Groups {
        let mut groups = Groups::new();
        let Some((field, text)) = present(field) else {
            return groups;
        };
        let mut offset = 0;
        for part in text.split(';') {
            let start = offset;
            offset += part.len() + 1;
            let Some((kind, path)) = self.group_at(field, start, part) else {
                continue;
            };
            let span = self.sub_span(field, start, start + part.len());
            if groups.contains_key(&kind) {
                self.report(
                    codes::ESTATE_VALUE,
                    Some(span),
                    format!("group type `{kind}` is given twice"),
                    format!("second `{kind}` group"),
                    format!("a record belongs to one group of each type: keep one `{kind}=…`"),
                );
                continue;
            }
            groups.insert(kind, path);
        }
        groups
    }

    /// One group written as `type=path` in the whole field.
    pub fn group(&mut self, field: &Field<'_>) -> Option<(String, String)> {
        self.group_at(field, 0, &field.text)
    }

    /// Parses `part`, which starts at byte `start` of the field's text; empty parts are skipped.
    fn group_at(
        &mut self,
        field: &Field<'_>,
        start: usize,
        part: &str,
    ) -> Option<(String, String)> {
        let lead = part.len() - part.trim_start().len();
        let trimmed = part.trim();
        if trimmed.is_empty() {
            return None;
        }
        if let Some((kind, path)) = trimmed.split_once('=') {
            let (kind, path) = (kind.trim(), path.trim());
            if !kind.is_empty() && !path.is_empty() {
                return Some((kind.to_owned(), path.to_owned()));
            }
        }
        let span = self.sub_span(field, start + lead, start + lead + trimmed.len());
        self.report(
            codes::ESTATE_VALUE,
            Some(span),
            format!("invalid group `{trimmed}`"),
            "expected `type=path`",
            "write a group as its type and path joined by `=`, such as `location=Europe/Berlin`",
        );
        None
    }

    /// The span of bytes `start..end` of a field's text, when the field is written verbatim in
    /// the source (not when quoting changed it); otherwise the whole field.
    pub fn sub_span(&self, field: &Field<'_>, start: usize, end: usize) -> Span {
        let verbatim = self.source.text.get(field.span.start..field.span.end) == Some(&*field.text);
        if verbatim && end <= field.text.len() {
            Span::new(field.span.start + start, field.span.start + end)
        } else {
            field.span
        }
    }
}

/// The text of a field, or `None` when it is absent or empty.
pub(super) fn text(field: Option<&Field<'_>>) -> Option<String> {
    field.and_then(Field::value).map(str::to_owned)
}

fn present<'f, 't>(field: Option<&'f Field<'t>>) -> Option<(&'f Field<'t>, &'f str)> {
    let field = field?;
    Some((field, field.value()?))
}

/// The file name of a source without its folder.
pub(super) fn file_name(source: &SourceFile) -> &str {
    let path = source.path.as_str();
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// `-?digits(.digits)?`: what the estate format calls a decimal.
fn is_plain_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "1"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction)
}

/// The plain form of a number written with an exponent (`1.5e3` is `1500`, `25E-3` is
/// `0.025`), when it is one and fits a decimal; the digits are kept as written.
fn without_exponent(text: &str) -> Option<String> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let (sign, mantissa) = match mantissa.strip_prefix(['+', '-']) {
        Some(rest) => (mantissa.get(..1).filter(|s| *s == "-").unwrap_or(""), rest),
        None => ("", mantissa),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if (whole.is_empty() && fraction.is_empty())
        || !digits_only(whole)
        || !digits_only(fraction)
        || exponent_digits.is_empty()
        || exponent_digits.len() > 2
        || !digits_only(exponent_digits)
    {
        return None;
    }
    // At most two digits, so the shift stays small and the text short.
    let shift: i64 = exponent.parse().ok()?;
    let digits = format!("{whole}{fraction}");
    let point = i64::try_from(whole.len()).ok()? + shift;
    let len = i64::try_from(digits.len()).ok()?;
    let (integer, fraction) = if point <= 0 {
        let zeros = usize::try_from(-point).ok()?;
        (String::new(), format!("{}{digits}", "0".repeat(zeros)))
    } else if point >= len {
        let zeros = usize::try_from(point - len).ok()?;
        (format!("{digits}{}", "0".repeat(zeros)), String::new())
    } else {
        let at = usize::try_from(point).ok()?;
        let (integer, fraction) = digits.split_at(at);
        (integer.to_owned(), fraction.to_owned())
    };
    let integer = integer.trim_start_matches('0');
    let integer = if integer.is_empty() { "0" } else { integer };
    let plain = if fraction.is_empty() {
        format!("{sign}{integer}")
    } else {
        format!("{sign}{integer}.{fraction}")
    };
    Decimal::from_str_exact(&plain).ok().map(|_| plain)
}

const DATE_FORM: &str = "expected a date as `YYYY-MM-DD`";

/// A date written `YYYY-MM-DD`; the error is a label saying what is wrong.
fn parse_date(text: &str) -> Result<Date, &'static str> {
    let mut parts = text.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DATE_FORM);
    };
    let number = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i16>().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(year, 4), number(month, 2), number(day, 2))
    else {
        return Err(DATE_FORM);
    };
    let (Ok(month), Ok(day)) = (i8::try_from(month), i8::try_from(day)) else {
        return Err(DATE_FORM);
    };
    Date::new(year, month, day).map_err(|_| "no such day")
}

/// A moment written `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (also with `t` or a space for `T`),
/// returned with a `T`; the error is a label saying what is wrong.
fn parse_moment(text: &str) -> Result<String, &'static str> {
    const FORM: &str = "expected `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`";
    let (day, time) = match text.split_once(['T', 't', ' ']) {
        Some((day, time)) => (day, Some(time)),
        None => (text, None),
    };
    parse_date(day).map_err(|label| if label == DATE_FORM { FORM } else { label })?;
    let Some(time) = time else {
        return Ok(day.to_owned());
    };
    let two_digits = |s: &str| {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u8>().ok())
            .flatten()
    };
    let Some((Some(hour), Some(minute))) = time
        .split_once(':')
        .map(|(h, m)| (two_digits(h), two_digits(m)))
    else {
        return Err(FORM);
    };
    if hour > 23 || minute > 59 {
        return Err("no such time of day");
    }
    Ok(format!("{day}T{time}"))
}

/// `` `a`, `b`, `c` ``.
pub(super) fn backticked<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate closest to `word` (ignoring case) if it is close enough to be a likely typo.
pub(super) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let word = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&word, &candidate.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// "did you mean `x`? " when a candidate is close to `word`, else nothing.
pub(super) fn did_you_mean_prefix<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> String {
    did_you_mean(word, candidates)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default()
}

/// The Levenshtein distance between two strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // `row[j]` is the distance between the part of `a` read so far and `b[..j]`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let (mut diagonal, mut left) = (i, i + 1);
        let mut next = Vec::with_capacity(row.len());
        next.push(left);
        for (&cb, &up) in b.iter().zip(row.iter().skip(1)) {
            left = (diagonal + usize::from(ca != cb)).min(up + 1).min(left + 1);
            diagonal = up;
            next.push(left);
        }
        row = next;
    }
    row.last().copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("sku", "skuu"), 1);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn did_you_mean_finds_close_names_only() {
        let names = ["desktop", "laptop", "server"];
        assert_eq!(did_you_mean("desktp", names), Some("desktop"));
        assert_eq!(did_you_mean("LAPTOP", names), Some("laptop"));
        assert_eq!(did_you_mean("mainframe", names), None);
    }

    #[test]
    fn dates_must_be_iso_calendar_days() {
        assert_eq!(parse_date("2024-02-29"), Ok(jiff::civil::date(2024, 2, 29)));
        assert_eq!(parse_date("2023-02-29"), Err("no such day"));
        assert!(parse_date("2024-2-29").is_err());
        assert!(parse_date("29.02.2024").is_err());
        assert!(parse_date("2024-02-29T10:00").is_err());
    }

    #[test]
    fn moments_are_days_or_times_of_day() {
        assert_eq!(parse_moment("2025-03-31"), Ok("2025-03-31".to_owned()));
        assert_eq!(
            parse_moment("2025-03-31T09:05"),
            Ok("2025-03-31T09:05".to_owned())
        );
        assert_eq!(
            parse_moment("2025-03-31t23:59"),
            Ok("2025-03-31T23:59".to_owned())
        );
        assert_eq!(
            parse_moment("2025-03-31 00:00"),
            Ok("2025-03-31T00:00".to_owned())
        );
        assert_eq!(parse_moment("2025-02-30T10:00"), Err("no such day"));
        assert_eq!(parse_moment("2025-03-31T24:00"), Err("no such time of day"));
        assert_eq!(parse_moment("2025-03-31T10:60"), Err("no such time of day"));
        let form = Err("expected `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`");
        for bad in [
            "2025-03-31T9:05",
            "2025-03-31T09:05:00",
            "2025-03-31T",
            "2025-03-31T0905",
            "31.03.2025",
            "2025-03-31T+1:00",
        ] {
            assert_eq!(parse_moment(bad), form, "{bad}");
        }
        let mut sorted = [
            "2025-04-01",
            "2025-03-31T10:00",
            "2025-03-31",
            "2025-03-31T09:59",
        ];
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [
                "2025-03-31",
                "2025-03-31T09:59",
                "2025-03-31T10:00",
                "2025-04-01"
            ]
        );
    }

    #[test]
    fn exponent_forms_have_a_plain_form() {
        let plain = |text| without_exponent(text);
        assert_eq!(plain("1e2").as_deref(), Some("100"));
        assert_eq!(plain("1.5E3").as_deref(), Some("1500"));
        assert_eq!(plain("12.50e+1").as_deref(), Some("125.0"));
        assert_eq!(plain("25e-3").as_deref(), Some("0.025"));
        assert_eq!(plain("0.5e1").as_deref(), Some("5"));
        assert_eq!(plain(".5e1").as_deref(), Some("5"));
        assert_eq!(plain("-2e1").as_deref(), Some("-20"));
        assert_eq!(plain("+2e1").as_deref(), Some("20"));
        // Too large or too small for a decimal, or not a number at all.
        assert_eq!(plain("1e40"), None);
        assert_eq!(plain("1e-40"), None);
        assert_eq!(plain("1e999999999999"), None);
        for bad in [
            "1e", "e2", "1e2.5", "1.2.3e1", "x1e2", "1e2x", "1e--2", "1_0e2", "",
        ] {
            assert_eq!(plain(bad), None, "{bad}");
        }
    }

    #[test]
    fn decimals_are_plain() {
        assert!(is_plain_decimal("1250.50"));
        assert!(is_plain_decimal("-3"));
        assert!(!is_plain_decimal("1,250.50"));
        assert!(!is_plain_decimal("1_000"));
        assert!(!is_plain_decimal("1e3"));
        assert!(!is_plain_decimal(".5"));
        assert!(!is_plain_decimal("5."));
    }
}
