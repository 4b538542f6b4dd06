use regex::RegexBuilder;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::CalendarDate;
use crate::limits::*;
use crate::model::{Field, FieldKind, Pattern, Rules, Schema};
use crate::violation::{Violation, Violations, printable_key};

/// A schema as an admin writes it, before it is checked. The wire shape of a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaDraft {
    /// Reject submissions with keys the schema does not name (default), or drop those keys.
    #[serde(default = "reject_unknown_by_default")]
    pub reject_unknown: bool,
    pub fields: Vec<FieldDraft>,
}

fn reject_unknown_by_default() -> bool {
    true
}

/// One field as written: every rule is optional here so that one pass can report every problem.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDraft {
    pub key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integer: Option<bool>,
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
}

/// `^[A-Za-z][A-Za-z0-9_]{0,63}$`, written out so no regex is compiled for it.
pub(crate) fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && key.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl SchemaDraft {
    /// Checks the draft and compiles it. Every problem is reported, each with a path such as
    /// `fields[2].min` and one of the codes `tooManyFields`, `key`, `duplicateKey`, `label`,
    /// `kind`, `notApplicable`, `range`, `regex`, `enum`, `type`, `date`.
    pub fn check(self) -> Result<Schema, Violations> {
        let mut problems = Vec::new();
        if self.fields.len() > MAX_FIELDS {
            problems.push(Violation::new(
                "fields",
                "tooManyFields",
                format!("must have at most {MAX_FIELDS} fields"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        let mut fields = Vec::with_capacity(self.fields.len());
        for (index, draft) in self.fields.into_iter().enumerate() {
            let at = format!("fields[{index}]");
            if !is_valid_key(&draft.key) {
                problems.push(Violation::new(
                    format!("{at}.key"),
                    "key",
                    format!(
                        "'{}' must start with a letter and hold only letters, digits and _ (at most 64)",
                        printable_key(&draft.key)
                    ),
                ));
            } else if !seen.insert(draft.key.clone()) {
                problems.push(Violation::new(
                    format!("{at}.key"),
                    "duplicateKey",
                    format!("'{}' is used by an earlier field", draft.key),
                ));
            }
            if let Some(field) = check_field(draft, &at, &mut problems) {
                fields.push(field);
            }
        }
        if problems.is_empty() {
            Ok(Schema {
                reject_unknown: self.reject_unknown,
                fields,
            })
        } else {
            Err(Violations(problems))
        }
    }
}

fn check_field(draft: FieldDraft, at: &str, problems: &mut Vec<Violation>) -> Option<Field> {
    let before = problems.len();
    let label = if draft.label.trim().is_empty() {
        draft.key.clone()
    } else {
        draft.label.clone()
    };
    if label.chars().count() > MAX_LABEL_CHARS {
        problems.push(Violation::new(
            format!("{at}.label"),
            "label",
            format!("must be at most {MAX_LABEL_CHARS} characters"),
        ));
    }
    let Some(kind) = FieldKind::parse(&draft.kind) else {
        problems.push(Violation::new(
            format!("{at}.kind"),
            "kind",
            format!(
                "'{}' is not a kind; use text, number, select, date or checkbox",
                printable_key(&draft.kind)
            ),
        ));
        return None;
    };
    let mut not_applicable = |present: bool, rule: &str| {
        if present {
            problems.push(Violation::new(
                format!("{at}.{rule}"),
                "notApplicable",
                format!("does not apply to a {} field", kind.as_str()),
            ));
        }
    };
    let is_text = kind == FieldKind::Text;
    not_applicable(!is_text && draft.min_length.is_some(), "minLength");
    not_applicable(!is_text && draft.max_length.is_some(), "maxLength");
    not_applicable(!is_text && draft.regex.is_some(), "regex");
    let has_range = matches!(kind, FieldKind::Number | FieldKind::Date);
    not_applicable(!has_range && draft.min.is_some(), "min");
    not_applicable(!has_range && draft.max.is_some(), "max");
    not_applicable(
        kind != FieldKind::Number && draft.integer.is_some(),
        "integer",
    );
    not_applicable(kind != FieldKind::Select && draft.options.is_some(), "enum");

    let rules = match kind {
        FieldKind::Text => check_text(&draft, at, problems),
        FieldKind::Number => check_number(&draft, at, problems),
        FieldKind::Select => check_select(&draft, at, problems),
        FieldKind::Date => check_date(&draft, at, problems),
        FieldKind::Checkbox => Some(Rules::Checkbox),
    };
    if problems.len() > before {
        return None;
    }
    Some(Field {
        key: draft.key,
        label,
        required: draft.required,
        rules: rules?,
    })
}

fn check_text(draft: &FieldDraft, at: &str, problems: &mut Vec<Violation>) -> Option<Rules> {
    if let (Some(min), Some(max)) = (draft.min_length, draft.max_length)
        && min > max
    {
        problems.push(Violation::new(
            format!("{at}.minLength"),
            "range",
            format!("minLength {min} is greater than maxLength {max}"),
        ));
    }
    let pattern = match &draft.regex {
        None => None,
        Some(source) => match compile_pattern(source) {
            Ok(pattern) => Some(pattern),
            Err(message) => {
                problems.push(Violation::new(format!("{at}.regex"), "regex", message));
                None
            }
        },
    };
    Some(Rules::Text {
        min_length: draft.min_length,
        max_length: draft.max_length,
        pattern,
    })
}

pub(crate) fn compile_pattern(source: &str) -> Result<Pattern, String> {
    if source.chars().count() > MAX_REGEX_CHARS {
        return Err(format!("must be at most {MAX_REGEX_CHARS} characters"));
    }
    let build = |pattern: &str| {
        RegexBuilder::new(pattern)
            .size_limit(MAX_REGEX_COMPILED_BYTES)
            .dfa_size_limit(MAX_REGEX_COMPILED_BYTES)
            .build()
    };
    // The source must be a complete regex on its own, so that it cannot close the group it is
    // wrapped in and escape the anchors (`x)|^.*$|(?:y`).
    build(source).map_err(describe_regex_error)?;
    // Anchored so that the whole value must match, as the HTML `pattern` attribute does. The
    // `regex` crate runs in time linear in the input, whatever the pattern.
    build(&format!("^(?:{source})$"))
        .map(|regex| Pattern {
            source: source.to_owned(),
            regex,
        })
        .map_err(describe_regex_error)
}

fn describe_regex_error(error: regex::Error) -> String {
    match error {
        regex::Error::CompiledTooBig(_) => "is too large once compiled".to_owned(),
        _ => "is not a valid regular expression".to_owned(),
    }
}

fn check_number(draft: &FieldDraft, at: &str, problems: &mut Vec<Violation>) -> Option<Rules> {
    let mut bound = |value: &Option<Value>, rule: &str| -> Option<f64> {
        let value = value.as_ref()?;
        let number = value.as_f64().filter(|n| n.is_finite());
        if number.is_none() {
            problems.push(Violation::new(
                format!("{at}.{rule}"),
                "type",
                "must be a number",
            ));
        }
        number
    };
    let min = bound(&draft.min, "min");
    let max = bound(&draft.max, "max");
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        problems.push(Violation::new(
            format!("{at}.min"),
            "range",
            format!("min {lo} is greater than max {hi}"),
        ));
    }
    Some(Rules::Number {
        min,
        max,
        integer: draft.integer.unwrap_or(false),
    })
}

fn check_select(draft: &FieldDraft, at: &str, problems: &mut Vec<Violation>) -> Option<Rules> {
    let options = draft.options.clone().unwrap_or_default();
    let at_enum = format!("{at}.enum");
    if options.is_empty() {
        problems.push(Violation::new(
            &at_enum,
            "enum",
            "must list at least one option",
        ));
    }
    if options.len() > MAX_OPTIONS {
        problems.push(Violation::new(
            &at_enum,
            "enum",
            format!("must list at most {MAX_OPTIONS} options"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (index, option) in options.iter().enumerate() {
        if option.is_empty() || option.chars().count() > MAX_OPTION_CHARS {
            problems.push(Violation::new(
                format!("{at_enum}[{index}]"),
                "enum",
                format!("must be 1 to {MAX_OPTION_CHARS} characters"),
            ));
        } else if !seen.insert(option.as_str()) {
            problems.push(Violation::new(
                format!("{at_enum}[{index}]"),
                "enum",
                format!("'{}' is listed twice", printable_key(option)),
            ));
        }
    }
    Some(Rules::Select { options })
}

fn check_date(draft: &FieldDraft, at: &str, problems: &mut Vec<Violation>) -> Option<Rules> {
    let mut bound = |value: &Option<Value>, rule: &str| -> Option<CalendarDate> {
        let value = value.as_ref()?;
        let date = value.as_str().and_then(CalendarDate::parse);
        if date.is_none() {
            problems.push(Violation::new(
                format!("{at}.{rule}"),
                "date",
                "must be a date written YYYY-MM-DD",
            ));
        }
        date
    };
    let min = bound(&draft.min, "min");
    let max = bound(&draft.max, "max");
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        problems.push(Violation::new(
            format!("{at}.min"),
            "range",
            format!("min {lo} is after max {hi}"),
        ));
    }
    Some(Rules::Date { min, max })
}
