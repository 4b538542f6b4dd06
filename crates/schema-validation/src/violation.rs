use std::fmt;

/// One problem with one field: of submitted data (`data.age`) or of a schema (`fields[2].min`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where the problem is, as a path a person can read: `data.age`, `fields[0].key`.
    pub field: String,
    /// A stable machine code: `required`, `min`, `max`, `minLength`, `maxLength`, `regex`,
    /// `enum`, `type`, `unknown`, `date` for data; see [`crate::SchemaDraft::check`] for schemas.
    pub code: &'static str,
    /// What is wrong, in words, without the field name.
    pub message: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// Every violation found, never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter()
    }

    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => write!(f, "invalid"),
            [only] => write!(f, "{only}"),
            [first, rest @ ..] => write!(f, "{first} (and {} more)", rest.len()),
        }
    }
}

impl std::error::Error for Violations {}

/// A user-supplied key as it may appear in a message: long keys are cut so an error can never
/// echo a whole request body back.
pub(crate) fn printable_key(key: &str) -> String {
    const MAX: usize = 64;
    if key.chars().count() <= MAX {
        key.to_owned()
    } else {
        let mut cut: String = key.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}
