//! Random JSON must never panic the validator or the schema check.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::example_schema;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn submission() -> impl Strategy<Value = Map<String, Value>> {
    let key = prop_oneof![
        Just("fullName".to_owned()),
        Just("age".to_owned()),
        Just("plan".to_owned()),
        Just("birthday".to_owned()),
        Just("consentRequired".to_owned()),
        ".{0,12}",
    ];
    prop::collection::btree_map(key, any_json(), 0..10).prop_map(|map| map.into_iter().collect())
}

proptest! {
    #[test]
    fn validating_random_data_never_panics(data in submission()) {
        let schema = example_schema();
        match schema.validate(&data) {
            Ok(accepted) => prop_assert!(accepted.keys().all(|k| schema.field(k).is_some())),
            Err(violations) => prop_assert!(violations.iter().all(|v| v.field.starts_with("data."))),
        }
    }

    #[test]
    fn checking_random_schemas_never_panics(value in any_json()) {
        let as_fields = serde_json::json!({ "fields": [value.clone()] });
        for candidate in [value, as_fields] {
            if let Ok(draft) = serde_json::from_value::<schema_validation::SchemaDraft>(candidate) {
                let _ = draft.check();
            }
        }
    }

    #[test]
    fn accepted_data_always_revalidates(data in submission()) {
        let schema = example_schema();
        if let Ok(accepted) = schema.validate(&data) {
            prop_assert_eq!(schema.validate(&accepted).ok(), Some(accepted));
        }
    }

    #[test]
    fn accepting_moves_exactly_what_validating_copies(data in submission()) {
        let schema = example_schema();
        prop_assert_eq!(schema.accept(data.clone()), schema.validate(&data));
        prop_assert_eq!(schema.check(&data).err(), schema.validate(&data).err());
    }
}
