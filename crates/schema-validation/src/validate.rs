use serde_json::{Map, Value};

use crate::model::{Field, Rules, Schema};
use crate::violation::{Violation, Violations, printable_key};

impl Schema {
    /// Validates submitted `data` and returns the data to store: only the schema's fields, each
    /// checked. Every violation is reported, each at `data.<key>`.
    ///
    /// `null` and `""` mean "not answered": an error for a required field, dropped for an
    /// optional one (so an untouched optional form input never fails a `minLength`).
    pub fn validate(&self, data: &Map<String, Value>) -> Result<Map<String, Value>, Violations> {
        self.check(data)?;
        Ok(self
            .fields
            .iter()
            .filter_map(|field| {
                let value = data.get(&field.key).filter(|v| !is_unanswered(v))?;
                Some((field.key.clone(), value.clone()))
            })
            .collect())
    }

    /// The same as [`Schema::validate`] for data the caller no longer needs: the accepted keys
    /// and values are moved, not copied (the submission hot path).
    pub fn accept(&self, mut data: Map<String, Value>) -> Result<Map<String, Value>, Violations> {
        self.check(&data)?;
        let mut accepted = Map::with_capacity(self.fields.len());
        for field in &self.fields {
            if let Some((key, value)) = data.remove_entry(&field.key)
                && !is_unanswered(&value)
            {
                accepted.insert(key, value);
            }
        }
        Ok(accepted)
    }

    /// Whether `data` passes, without building the data to store: every violation, in the
    /// order of the schema's fields, then unknown keys (what the schema-impact scan needs).
    pub fn check(&self, data: &Map<String, Value>) -> Result<(), Violations> {
        let mut violations = Vec::new();
        for field in &self.fields {
            match data.get(&field.key).filter(|v| !is_unanswered(v)) {
                None if field.required => {
                    violations.push(violation(field, "required", "is required"))
                }
                None => {}
                Some(value) => {
                    if let Err((code, message)) = check_value(field, value) {
                        violations.push(violation(field, code, message));
                    }
                }
            }
        }
        if self.reject_unknown {
            for key in data.keys().filter(|key| self.field(key).is_none()) {
                violations.push(Violation::new(
                    format!("data.{}", printable_key(key)),
                    "unknown",
                    "is not a field of this form",
                ));
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Violations(violations))
        }
    }
}

fn is_unanswered(value: &Value) -> bool {
    matches!(value, Value::Null) || value.as_str().is_some_and(str::is_empty)
}

fn violation(field: &Field, code: &'static str, message: impl Into<String>) -> Violation {
    Violation::new(format!("data.{}", field.key), code, message)
}

type Failure = (&'static str, String);

fn check_value(field: &Field, value: &Value) -> Result<(), Failure> {
    match &field.rules {
        Rules::Text {
            min_length,
            max_length,
            pattern,
        } => {
            let text = value
                .as_str()
                .ok_or_else(|| ("type", "must be a string".to_owned()))?;
            let length = text.chars().count() as u64;
            if let Some(min) = min_length
                && length < *min
            {
                return Err(("minLength", format!("must be at least {min} characters")));
            }
            if let Some(max) = max_length
                && length > *max
            {
                return Err(("maxLength", format!("must be at most {max} characters")));
            }
            if let Some(pattern) = pattern
                && !pattern.matches(text)
            {
                return Err(("regex", "does not have the expected format".to_owned()));
            }
            Ok(())
        }
        Rules::Number { min, max, integer } => {
            let number = value
                .as_f64()
                .ok_or_else(|| ("type", "must be a number".to_owned()))?;
            if *integer && number.fract() != 0.0 {
                return Err(("type", "must be a whole number".to_owned()));
            }
            if let Some(min) = min
                && number < *min
            {
                return Err(("min", format!("must be at least {min}")));
            }
            if let Some(max) = max
                && number > *max
            {
                return Err(("max", format!("must be at most {max}")));
            }
            Ok(())
        }
        Rules::Select { options } => {
            let choice = value
                .as_str()
                .ok_or_else(|| ("type", "must be a string".to_owned()))?;
            if options.iter().any(|option| option == choice) {
                Ok(())
            } else {
                Err(("enum", format!("must be one of: {}", options.join(", "))))
            }
        }
        Rules::Date { min, max } => {
            let text = value
                .as_str()
                .ok_or_else(|| ("type", "must be a date string".to_owned()))?;
            let date = crate::CalendarDate::parse(text)
                .ok_or_else(|| ("date", "must be a real date written YYYY-MM-DD".to_owned()))?;
            if let Some(min) = min
                && date < *min
            {
                return Err(("min", format!("must be on or after {min}")));
            }
            if let Some(max) = max
                && date > *max
            {
                return Err(("max", format!("must be on or before {max}")));
            }
            Ok(())
        }
        Rules::Checkbox => {
            let checked = value
                .as_bool()
                .ok_or_else(|| ("type", "must be true or false".to_owned()))?;
            if field.required && !checked {
                return Err(("required", "must be checked".to_owned()));
            }
            Ok(())
        }
    }
}
