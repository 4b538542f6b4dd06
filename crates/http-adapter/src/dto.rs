//! What the public routes send and receive, as the OpenAPI document describes it.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A sign-up from a site.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "data": {"fullName": "Ada Lovelace", "plan": "pro", "consentRequired": true}}))]
#[allow(dead_code)] // Parsed by hand (see routes::public); this type documents the shape.
pub struct SubmitUserRequest {
    /// Trimmed and lower-cased before it is stored; at most 254 characters.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// The app's schema fields.
    #[schema(value_type = Object, example = json!({"fullName": "Ada Lovelace", "plan": "pro", "consentRequired": true}))]
    pub data: Map<String, Value>,
}

/// The stored record's id and times. The same shape whether the email was new or known.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmittedResponse {
    #[schema(example = "01936f3c-6b1e-7cc2-9a51-3f0c2d1e4b5a")]
    pub id: String,
    #[schema(example = "2026-11-23T10:53:49.123Z")]
    pub created_at: String,
    #[schema(example = "2026-11-23T10:53:49.123Z")]
    pub updated_at: String,
}

/// One field of a schema. Which rules apply depends on `kind`.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct FieldDoc {
    /// `^[A-Za-z][A-Za-z0-9_]{0,63}$`, unique within the schema.
    #[schema(example = "fullName")]
    pub key: String,
    #[schema(example = "Full name")]
    pub label: String,
    #[schema(example = "text")]
    pub kind: FieldKindDoc,
    pub required: bool,
    /// text: minimum length in Unicode characters.
    pub min_length: Option<u64>,
    /// text: maximum length in Unicode characters.
    pub max_length: Option<u64>,
    /// text: a regular expression the whole value must match (linear-time engine).
    pub regex: Option<String>,
    /// number: a number; date: `YYYY-MM-DD`.
    #[schema(value_type = Option<Object>)]
    pub min: Option<Value>,
    /// number: a number; date: `YYYY-MM-DD`.
    #[schema(value_type = Option<Object>)]
    pub max: Option<Value>,
    /// number: only whole numbers.
    pub integer: Option<bool>,
    /// select: the options.
    #[schema(rename = "enum")]
    pub options: Option<Vec<String>>,
}

#[derive(Debug, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum FieldKindDoc {
    Text,
    Number,
    Select,
    Date,
    Checkbox,
}

/// An app's current schema; version 0 is the empty schema of an app that has none yet.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaResponse {
    #[schema(example = 3)]
    pub version: i64,
    pub reject_unknown: bool,
    #[schema(value_type = Vec<FieldDoc>)]
    pub fields: Vec<schema_validation::FieldDraft>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    #[schema(example = "ok")]
    pub status: &'static str,
}
