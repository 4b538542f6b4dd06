//! Exact conversions between JSON values (what the port speaks) and BSON (what is stored), and
//! the guards that keep user input from ever being read as a MongoDB operator or path.

use mongodb::bson::{Bson, Document};
use serde_json::{Map, Number, Value};
use storage_port::StorageError;

/// Refuses a key that MongoDB could read as an operator (`$…`) or a path (`a.b`). The domain
/// only lets `^[A-Za-z][A-Za-z0-9_]{0,63}$` through; this is the adapter's own line of defence.
pub(crate) fn check_key(key: &str) -> Result<(), StorageError> {
    if key.is_empty() || key.starts_with('$') || key.contains('.') || key.contains('\0') {
        return Err(StorageError::unexpected(format!(
            "refusing to store the key {key:?}: it is not a plain field name"
        )));
    }
    Ok(())
}

/// JSON object → BSON document. Integers become Int32 when they fit, else Int64; the few
/// integers beyond `i64` (only possible as `u64`) become doubles, as JSON readers would read them.
pub(crate) fn json_object_to_document(
    object: &Map<String, Value>,
) -> Result<Document, StorageError> {
    let mut document = Document::new();
    for (key, value) in object {
        check_key(key)?;
        document.insert(key.clone(), json_to_bson(value)?);
    }
    Ok(document)
}

pub(crate) fn json_to_bson(value: &Value) -> Result<Bson, StorageError> {
    Ok(match value {
        Value::Null => Bson::Null,
        Value::Bool(flag) => Bson::Boolean(*flag),
        Value::Number(number) => number_to_bson(number),
        Value::String(text) => Bson::String(text.clone()),
        Value::Array(items) => {
            Bson::Array(items.iter().map(json_to_bson).collect::<Result<_, _>>()?)
        }
        Value::Object(object) => Bson::Document(json_object_to_document(object)?),
    })
}

fn number_to_bson(number: &Number) -> Bson {
    if let Some(integer) = number.as_i64() {
        match i32::try_from(integer) {
            Ok(small) => Bson::Int32(small),
            Err(_) => Bson::Int64(integer),
        }
    } else {
        // A float, or a u64 above i64::MAX: both are doubles to every JSON consumer.
        Bson::Double(number.as_f64().unwrap_or(f64::NAN))
    }
}

/// BSON document → JSON object; any value JSON cannot hold exactly is `Corrupt`, never dropped.
pub(crate) fn document_to_json_object(
    document: &Document,
    what: &str,
) -> Result<Map<String, Value>, StorageError> {
    document
        .iter()
        .map(|(key, value)| Ok((key.clone(), bson_to_json(value, what)?)))
        .collect()
}

pub(crate) fn bson_to_json(value: &Bson, what: &str) -> Result<Value, StorageError> {
    Ok(match value {
        Bson::Null => Value::Null,
        Bson::Boolean(flag) => Value::Bool(*flag),
        Bson::Int32(integer) => Value::from(*integer),
        Bson::Int64(integer) => Value::from(*integer),
        Bson::Double(float) => Number::from_f64(*float)
            .map(Value::Number)
            .ok_or_else(|| StorageError::Corrupt(format!("{what}: a non-finite number")))?,
        Bson::String(text) => Value::String(text.clone()),
        Bson::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| bson_to_json(item, what))
                .collect::<Result<_, _>>()?,
        ),
        Bson::Document(document) => Value::Object(document_to_json_object(document, what)?),
        other => {
            return Err(StorageError::Corrupt(format!(
                "{what}: a BSON {:?} where JSON was stored",
                other.element_type()
            )));
        }
    })
}

/// Characters with a meaning in a regular expression (`#` and `-` only in some modes or
/// classes; escaping them is harmless everywhere).
const REGEX_METACHARACTERS: &str = r"\^$.|?*+()[]{}#-";

/// Escapes every regex metacharacter so `text` matches literally. A backslash before one of
/// these punctuation characters makes it a literal in PCRE (MongoDB) and in other engines alike;
/// letters and digits are never escaped, where a backslash would change their meaning.
pub(crate) fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() * 2);
    for character in text.chars() {
        if REGEX_METACHARACTERS.contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_round_trip_exactly() {
        let value = json!({
            "text": "Zoë \u{0} \"q\"", "small": 36, "negative": -42, "big": 9_007_199_254_740_991_i64,
            "float": 0.1, "whole": 2.0, "flag": false, "none": null, "list": [1, "two", {"three": 3}]
        });
        let object = value.as_object().cloned().unwrap_or_default();
        let document = json_object_to_document(&object).expect("converts");
        assert_eq!(document.get("small"), Some(&Bson::Int32(36)));
        assert_eq!(
            document.get("big"),
            Some(&Bson::Int64(9_007_199_254_740_991))
        );
        let back = document_to_json_object(&document, "test").expect("converts back");
        assert_eq!(Value::Object(back), value);
    }

    #[test]
    fn operator_and_path_keys_are_refused() {
        for key in ["$where", "a.b", "", "nested"] {
            let value = if key == "nested" {
                json!({"ok": {"$gt": 1}})
            } else {
                json!({ key: 1 })
            };
            let object = value.as_object().cloned().unwrap_or_default();
            assert!(
                json_object_to_document(&object).is_err(),
                "{key:?} must be refused"
            );
        }
    }

    #[test]
    fn regex_escape_leaves_no_metacharacter_active() {
        assert_eq!(escape_regex("l.x"), r"l\.x");
        assert_eq!(
            escape_regex("a+b*(c)|[d]{2}^$\\?"),
            r"a\+b\*\(c\)\|\[d\]\{2\}\^\$\\\?"
        );
        assert_eq!(escape_regex("al_x@alpha.io 100%"), r"al_x@alpha\.io 100%");
        assert_eq!(escape_regex("zoë"), "zoë");
    }
}
