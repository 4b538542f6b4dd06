use serde_json::{Map, Value, json};

use crate::{codes, example_schema, schema};

fn data(value: Value) -> Map<String, Value> {
    value.as_object().expect("object").clone()
}

fn valid_example() -> Value {
    json!({"fullName": "Ada Lovelace", "age": 36, "plan": "pro", "birthday": "1990-12-10",
           "consentRequired": true, "consentOptional": false})
}

fn errors_for(value: Value) -> Vec<(String, &'static str)> {
    let violations = example_schema()
        .validate(&data(value))
        .expect_err("should be rejected");
    codes(&violations)
}

fn with(key: &str, value: Value) -> Value {
    let mut base = valid_example();
    base[key] = value;
    base
}

#[test]
fn accepts_a_valid_submission_unchanged() {
    let accepted = example_schema()
        .validate(&data(valid_example()))
        .expect("valid");
    assert_eq!(Value::Object(accepted), valid_example());
}

#[test]
fn missing_required_fields_are_each_reported() {
    assert_eq!(
        errors_for(json!({})),
        vec![
            ("data.fullName".into(), "required"),
            ("data.plan".into(), "required"),
            ("data.consentRequired".into(), "required")
        ]
    );
}

#[test]
fn null_and_empty_string_count_as_unanswered() {
    assert_eq!(
        errors_for(with("fullName", json!(null))),
        vec![("data.fullName".into(), "required")]
    );
    assert_eq!(
        errors_for(with("plan", json!(""))),
        vec![("data.plan".into(), "required")]
    );
    let accepted = example_schema()
        .validate(&data(with("birthday", json!(""))))
        .expect("optional empty field is fine");
    assert!(
        !accepted.contains_key("birthday"),
        "unanswered optional fields are not stored"
    );
}

#[test]
fn text_lengths_count_unicode_characters() {
    assert_eq!(
        errors_for(with("fullName", json!("A"))),
        vec![("data.fullName".into(), "minLength")]
    );
    assert_eq!(
        errors_for(with("fullName", json!("x".repeat(81)))),
        vec![("data.fullName".into(), "maxLength")]
    );
    // 80 emoji are 80 characters but 320 bytes: still valid.
    assert!(
        example_schema()
            .validate(&data(with("fullName", json!("😀".repeat(80)))))
            .is_ok()
    );
    assert!(
        example_schema()
            .validate(&data(with("fullName", json!("Zoë 山田"))))
            .is_ok()
    );
}

#[test]
fn wrong_json_types_are_type_errors() {
    for (key, value) in [
        ("fullName", json!(42)),
        ("fullName", json!(["a", "b"])),
        ("age", json!("36")),
        ("age", json!({"$gt": 1})),
        ("plan", json!(true)),
        ("birthday", json!(19000101)),
        ("consentRequired", json!("true")),
    ] {
        assert_eq!(
            errors_for(with(key, value.clone())),
            vec![(format!("data.{key}"), "type")],
            "{key}={value}"
        );
    }
}

#[test]
fn number_bounds_and_integer() {
    assert_eq!(
        errors_for(with("age", json!(12))),
        vec![("data.age".into(), "min")]
    );
    assert_eq!(
        errors_for(with("age", json!(121))),
        vec![("data.age".into(), "max")]
    );
    assert_eq!(
        errors_for(with("age", json!(36.5))),
        vec![("data.age".into(), "type")]
    );
    assert!(
        example_schema()
            .validate(&data(with("age", json!(13))))
            .is_ok()
    );
    assert!(
        example_schema()
            .validate(&data(with("age", json!(120.0))))
            .is_ok()
    );
    let message = example_schema()
        .validate(&data(with("age", json!(121))))
        .expect_err("too old")
        .0[0]
        .message
        .clone();
    assert_eq!(message, "must be at most 120");
}

#[test]
fn select_must_be_one_of_the_options() {
    assert_eq!(
        errors_for(with("plan", json!("enterprise"))),
        vec![("data.plan".into(), "enum")]
    );
    assert_eq!(
        errors_for(with("plan", json!("Pro"))),
        vec![("data.plan".into(), "enum")]
    );
}

#[test]
fn dates_must_be_real_and_within_bounds() {
    assert_eq!(
        errors_for(with("birthday", json!("2023-02-29"))),
        vec![("data.birthday".into(), "date")]
    );
    assert_eq!(
        errors_for(with("birthday", json!("10/12/1815"))),
        vec![("data.birthday".into(), "date")]
    );
    assert_eq!(
        errors_for(with("birthday", json!("1899-12-31"))),
        vec![("data.birthday".into(), "min")]
    );
    assert!(
        example_schema()
            .validate(&data(with("birthday", json!("2024-02-29"))))
            .is_ok()
    );
}

#[test]
fn date_max_is_enforced() {
    let schema = schema(json!({"fields": [{"key": "d", "kind": "date", "max": "2000-01-01"}]}));
    let violations = schema
        .validate(&data(json!({"d": "2000-01-02"})))
        .expect_err("after max");
    assert_eq!(codes(&violations), vec![("data.d".into(), "max")]);
}

#[test]
fn required_checkbox_means_consent() {
    assert_eq!(
        errors_for(with("consentRequired", json!(false))),
        vec![("data.consentRequired".into(), "required")]
    );
    assert!(
        example_schema()
            .validate(&data(with("consentOptional", json!(true))))
            .is_ok()
    );
}

#[test]
fn regex_must_match_the_whole_value() {
    let schema = schema(json!({"fields": [{"key": "zip", "kind": "text", "regex": "[0-9]{5}"}]}));
    assert!(schema.validate(&data(json!({"zip": "12345"}))).is_ok());
    for bad in ["1234", "123456", "a12345", "12345\n"] {
        let violations = schema.validate(&data(json!({"zip": bad}))).expect_err(bad);
        assert_eq!(
            codes(&violations),
            vec![("data.zip".into(), "regex")],
            "{bad:?}"
        );
    }
}

#[test]
fn pathological_regex_runs_in_linear_time() {
    // Catastrophic for a backtracking engine; the regex crate answers at once.
    let schema = schema(json!({"fields": [{"key": "t", "kind": "text", "regex": "(a+)+b"}]}));
    let input = "a".repeat(10_000);
    assert!(schema.validate(&data(json!({"t": input}))).is_err());
}

#[test]
fn unknown_keys_are_rejected_or_dropped() {
    let mut submission = valid_example();
    submission["$where"] = json!("sleep(1000)");
    submission["a.b"] = json!(1);
    let mut unknown = errors_for(submission.clone());
    unknown.sort();
    assert_eq!(
        unknown,
        vec![
            ("data.$where".into(), "unknown"),
            ("data.a.b".into(), "unknown")
        ]
    );

    let lenient =
        schema(json!({"rejectUnknown": false, "fields": [{"key": "name", "kind": "text"}]}));
    let accepted = lenient
        .validate(&data(json!({"name": "x", "$where": 1, "a.b": 2})))
        .expect("lenient");
    assert_eq!(Value::Object(accepted), json!({"name": "x"}));
}

#[test]
fn very_long_unknown_keys_are_not_echoed_whole() {
    let key = "k".repeat(10_000);
    let violations = example_schema()
        .validate(&data(json!({ key: 1 })))
        .expect_err("unknown");
    assert!(violations.iter().all(|v| v.field.len() < 100));
}

#[test]
fn empty_schema_accepts_only_empty_data() {
    let empty = schema_validation::Schema::empty();
    assert!(
        empty
            .validate(&Map::new())
            .expect("nothing to check")
            .is_empty()
    );
    assert!(empty.validate(&data(json!({"x": 1}))).is_err());
}
