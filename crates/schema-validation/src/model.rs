use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::draft::{FieldDraft, SchemaDraft};
use crate::{CalendarDate, Violations};

/// A checked schema with its regexes compiled. Serializes to, and deserializes from, the wire
/// shape of [`SchemaDraft`]; deserializing runs the full check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SchemaDraft", into = "SchemaDraft")]
pub struct Schema {
    pub(crate) reject_unknown: bool,
    pub(crate) fields: Vec<Field>,
}

impl Schema {
    /// The schema of an app nobody has defined one for: no fields, unknown keys rejected, so
    /// nothing is stored that nobody asked for.
    pub fn empty() -> Self {
        Self {
            reject_unknown: true,
            fields: Vec::new(),
        }
    }

    pub fn reject_unknown(&self) -> bool {
        self.reject_unknown
    }

    /// The fields, in the order the admin gave them (the order of export columns).
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.key == key)
    }

    pub fn to_draft(&self) -> SchemaDraft {
        self.clone().into()
    }
}

impl TryFrom<SchemaDraft> for Schema {
    type Error = Violations;

    fn try_from(draft: SchemaDraft) -> Result<Self, Self::Error> {
        draft.check()
    }
}

impl From<Schema> for SchemaDraft {
    fn from(schema: Schema) -> Self {
        SchemaDraft {
            reject_unknown: schema.reject_unknown,
            fields: schema.fields.into_iter().map(FieldDraft::from).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub(crate) key: String,
    pub(crate) label: String,
    pub(crate) required: bool,
    pub(crate) rules: Rules,
}

impl Field {
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn required(&self) -> bool {
        self.required
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn kind(&self) -> FieldKind {
        match self.rules {
            Rules::Text { .. } => FieldKind::Text,
            Rules::Number { .. } => FieldKind::Number,
            Rules::Select { .. } => FieldKind::Select,
            Rules::Date { .. } => FieldKind::Date,
            Rules::Checkbox => FieldKind::Checkbox,
        }
    }
}

impl From<Field> for FieldDraft {
    fn from(field: Field) -> Self {
        let kind = field.kind().as_str().to_owned();
        let mut draft = FieldDraft {
            key: field.key,
            label: field.label,
            kind,
            required: field.required,
            ..Default::default()
        };
        match field.rules {
            Rules::Text {
                min_length,
                max_length,
                pattern,
            } => {
                draft.min_length = min_length;
                draft.max_length = max_length;
                draft.regex = pattern.map(|p| p.source);
            }
            Rules::Number { min, max, integer } => {
                draft.min = min.map(number_value);
                draft.max = max.map(number_value);
                draft.integer = integer.then_some(true);
            }
            Rules::Select { options } => draft.options = Some(options),
            Rules::Date { min, max } => {
                draft.min = min.map(|d| Value::from(d.to_string()));
                draft.max = max.map(|d| Value::from(d.to_string()));
            }
            Rules::Checkbox => {}
        }
        draft
    }
}

/// Whole bounds are written back as integers (`13`, not `13.0`), as the admin wrote them.
fn number_value(number: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every whole f64 below is exact in i64.
    if number.fract() == 0.0 && number.abs() < EXACT {
        Value::from(number as i64)
    } else {
        Value::from(number)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Select,
    Date,
    Checkbox,
}

impl FieldKind {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "text" => Self::Text,
            "number" => Self::Number,
            "select" => Self::Select,
            "date" => Self::Date,
            "checkbox" => Self::Checkbox,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Select => "select",
            Self::Date => "date",
            Self::Checkbox => "checkbox",
        }
    }
}

/// The rules of one field, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Rules {
    /// A JSON string; lengths count Unicode characters; the pattern must match the whole value.
    Text {
        min_length: Option<u64>,
        max_length: Option<u64>,
        pattern: Option<Pattern>,
    },
    /// A finite JSON number.
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    /// A string out of a fixed list.
    Select { options: Vec<String> },
    /// `YYYY-MM-DD`, a real calendar date.
    Date {
        min: Option<CalendarDate>,
        max: Option<CalendarDate>,
    },
    /// A JSON boolean; when required, it must be `true` (consent).
    Checkbox,
}

/// A compiled, anchored, linear-time regex together with the source the admin wrote.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub(crate) source: String,
    pub(crate) regex: Regex,
}

impl Pattern {
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}
