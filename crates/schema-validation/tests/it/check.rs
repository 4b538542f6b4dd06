use schema_validation::{FieldKind, Schema, SchemaDraft};
use serde_json::json;

use crate::{codes, draft, example_schema};

fn problems(value: serde_json::Value) -> Vec<(String, &'static str)> {
    codes(&draft(value).check().expect_err("schema should be rejected"))
}

#[test]
fn the_design_example_is_valid_and_keeps_its_order() {
    let schema = example_schema();
    let keys: Vec<_> = schema.fields().iter().map(|f| f.key()).collect();
    assert_eq!(
        keys,
        [
            "fullName",
            "age",
            "plan",
            "birthday",
            "consentRequired",
            "consentOptional"
        ]
    );
    assert_eq!(
        schema.field("age").map(|f| f.kind()),
        Some(FieldKind::Number)
    );
    assert!(schema.reject_unknown());
}

#[test]
fn round_trips_through_its_wire_shape() {
    let schema = example_schema();
    let json = serde_json::to_value(&schema).expect("serializes");
    assert_eq!(json["fields"][0]["minLength"], 2);
    assert_eq!(json["fields"][1]["integer"], true);
    assert_eq!(
        json["fields"][1]["min"].to_string(),
        "13",
        "whole bounds stay integers"
    );
    assert_eq!(json["fields"][2]["enum"], json!(["free", "pro"]));
    let back: Schema = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, schema);
}

#[test]
fn reject_unknown_defaults_to_true_and_label_to_key() {
    let schema = draft(json!({"fields": [{"key": "name", "kind": "text"}]}))
        .check()
        .expect("valid");
    assert!(schema.reject_unknown());
    assert_eq!(schema.fields()[0].label(), "name");
}

#[test]
fn keys_must_be_plain_identifiers() {
    for bad in [
        "$where",
        "a.b",
        "1abc",
        "",
        "_x",
        "with space",
        "ключ",
        &"k".repeat(65),
    ] {
        let found = problems(json!({"fields": [{"key": bad, "kind": "text"}]}));
        assert_eq!(found, vec![("fields[0].key".into(), "key")], "{bad:?}");
    }
    assert!(
        draft(json!({"fields": [{"key": "a_B9", "kind": "text"}]}))
            .check()
            .is_ok()
    );
    assert!(
        draft(json!({"fields": [{"key": "k".repeat(64), "kind": "text"}]}))
            .check()
            .is_ok()
    );
}

#[test]
fn every_problem_is_listed_at_once() {
    let found = problems(json!({"fields": [
        {"key": "a", "kind": "text", "minLength": 5, "maxLength": 2},
        {"key": "a", "kind": "number", "min": 10, "max": 1},
        {"key": "b", "kind": "select", "enum": []},
        {"key": "c", "kind": "select", "enum": ["x", "x"]},
        {"key": "d", "kind": "date", "min": "2020-02-30"},
        {"key": "e", "kind": "colour"},
        {"key": "f", "kind": "text", "regex": "("},
        {"key": "g", "kind": "checkbox", "min": 1},
        {"key": "h", "kind": "number", "min": "ten"}
    ]}));
    assert_eq!(
        found,
        vec![
            ("fields[0].minLength".into(), "range"),
            ("fields[1].key".into(), "duplicateKey"),
            ("fields[1].min".into(), "range"),
            ("fields[2].enum".into(), "enum"),
            ("fields[3].enum[1]".into(), "enum"),
            ("fields[4].min".into(), "date"),
            ("fields[5].kind".into(), "kind"),
            ("fields[6].regex".into(), "regex"),
            ("fields[7].min".into(), "notApplicable"),
            ("fields[8].min".into(), "type"),
        ]
    );
}

#[test]
fn at_most_a_hundred_fields() {
    let fields: Vec<_> = (0..101)
        .map(|i| json!({"key": format!("f{i}"), "kind": "text"}))
        .collect();
    assert_eq!(
        problems(json!({ "fields": fields })),
        vec![("fields".into(), "tooManyFields")]
    );
    let fields: Vec<_> = (0..100)
        .map(|i| json!({"key": format!("f{i}"), "kind": "text"}))
        .collect();
    assert!(draft(json!({ "fields": fields })).check().is_ok());
}

#[test]
fn oversized_regexes_are_refused() {
    let long = "a".repeat(513);
    assert_eq!(
        problems(json!({"fields": [{"key": "t", "kind": "text", "regex": long}]})),
        vec![("fields[0].regex".into(), "regex")]
    );
    // Short to write, huge once compiled.
    let explosive = r"\w{1000}\w{1000}\w{1000}";
    assert_eq!(
        problems(json!({"fields": [{"key": "t", "kind": "text", "regex": explosive}]})),
        vec![("fields[0].regex".into(), "regex")]
    );
}

#[test]
fn deserializing_a_stored_schema_runs_the_check() {
    let bad = json!({"fields": [{"key": "$x", "kind": "text"}]});
    assert!(serde_json::from_value::<Schema>(bad).is_err());
}

#[test]
fn drafts_round_trip_unchanged_when_already_normal() {
    let original = draft(json!({"rejectUnknown": false, "fields": [
        {"key": "n", "label": "N", "kind": "number", "required": true, "min": 1.5, "max": 3}
    ]}));
    let normal: SchemaDraft = original.clone().check().expect("valid").to_draft();
    assert_eq!(normal, original);
}

#[test]
fn a_regex_must_be_complete_on_its_own_so_it_cannot_escape_its_anchors() {
    // Wrapped as `^(?:…)$`, each of these would close the group and match anything.
    for escaping in [r"x)|^.*$|(?:y", r"a)|(b", r".*)|(?:"] {
        assert_eq!(
            problems(json!({"fields": [{"key": "t", "kind": "text", "regex": escaping}]})),
            vec![("fields[0].regex".into(), "regex")],
            "{escaping}"
        );
    }
    // Groups, alternations and flags that stay inside the pattern are fine, and anchored.
    let schema = draft(json!({"fields": [
        {"key": "t", "kind": "text", "regex": r"(?i)(ab|cd)+"}
    ]}))
    .check()
    .expect("a complete regex is accepted");
    let value = |text: &str| {
        json!({ "t": text })
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    assert!(schema.validate(&value("ABcd")).is_ok());
    assert!(schema.validate(&value("xabcd")).is_err());
}
