//! The schema checks and the validator, through the public API only.

mod check;
mod properties;
mod validate;

use schema_validation::{Schema, SchemaDraft};
use serde_json::{Value, json};

/// The example schema of the design document.
pub fn example_schema() -> Schema {
    schema(json!({ "version": 3, "rejectUnknown": true, "fields": [
        {"key": "fullName", "label": "Full name", "kind": "text", "required": true, "minLength": 2, "maxLength": 80},
        {"key": "age", "label": "Age", "kind": "number", "required": false, "min": 13, "max": 120, "integer": true},
        {"key": "plan", "label": "Plan", "kind": "select", "required": true, "enum": ["free", "pro"]},
        {"key": "birthday", "label": "Birthday", "kind": "date", "required": false, "min": "1900-01-01"},
        {"key": "consentRequired", "label": "I agree to the terms", "kind": "checkbox", "required": true},
        {"key": "consentOptional", "label": "Send me news", "kind": "checkbox", "required": false}
    ]}))
}

pub fn draft(value: Value) -> SchemaDraft {
    serde_json::from_value(value).expect("draft JSON has the draft shape")
}

pub fn schema(value: Value) -> Schema {
    draft(value).check().expect("schema is valid")
}

/// `(field, code)` of every violation, for compact assertions.
pub fn codes(violations: &schema_validation::Violations) -> Vec<(String, &'static str)> {
    violations
        .iter()
        .map(|v| (v.field.clone(), v.code))
        .collect()
}
