//! Per-app schemas: the model, the checks a schema must pass before it is saved, and the
//! validation of submitted data against a schema.
//!
//! A [`Schema`] can only be obtained through [`SchemaDraft::check`] (or by deserializing, which
//! runs the same check), so holding one means it is valid and its regexes are compiled.

mod date;
mod draft;
mod model;
mod validate;
mod violation;

pub use date::CalendarDate;
pub use draft::{FieldDraft, SchemaDraft};
pub use model::{Field, FieldKind, Pattern, Rules, Schema};
pub use violation::{Violation, Violations};

/// Limits a schema must stay within; public so callers can document them.
pub mod limits {
    /// Fields in one schema.
    pub const MAX_FIELDS: usize = 100;
    /// Characters in a label.
    pub const MAX_LABEL_CHARS: usize = 200;
    /// Characters in a regex source.
    pub const MAX_REGEX_CHARS: usize = 512;
    /// Bytes the compiled form of one regex may take (the `regex` crate's size limit).
    pub const MAX_REGEX_COMPILED_BYTES: usize = 256 * 1024;
    /// Options in a select field.
    pub const MAX_OPTIONS: usize = 200;
    /// Characters in one select option.
    pub const MAX_OPTION_CHARS: usize = 200;
}
