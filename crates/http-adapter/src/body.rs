//! Reading request bodies with a size limit and a known content type.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{BytesMut, Payload};
use domain::SubmissionInput;
use futures::StreamExt as _;
use serde::de::{self, Deserialize, Deserializer, MapAccess};
use serde_json::{Map, Value};

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
}

/// JSON or an HTML form; anything else (or nothing) is 415.
pub fn body_kind(request: &HttpRequest) -> Result<BodyKind, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(BodyKind::Json)
    } else if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(BodyKind::Form)
    } else {
        Err(ApiError::unsupported_media_type())
    }
}

/// The whole body, refusing at once what announces or turns out to be over `limit` bytes.
pub async fn read_limited(
    request: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<BytesMut, ApiError> {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut body = BytesMut::with_capacity(announced.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            if crate::framing::is_timeout(&error) {
                ApiError::request_timeout()
            } else {
                ApiError::bad_request("The request body could not be read")
            }
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A JSON object, or 400 with a message that says what is wrong (serde's own, which names a
/// line and column and never echoes the body).
pub fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid_json(
            "The request body must be a JSON object",
        )),
        Err(error) => Err(ApiError::invalid_json(format!(
            "The request body is not valid JSON: {error}"
        ))),
    }
}

/// The `email` and `data` members of a JSON submission, read straight from the body: no map
/// of the top-level object and no copies of its keys are built on the hot path. Other members
/// are read and dropped; a repeated member counts once, the last one, as in a JSON object read
/// whole. Errors are those of [`json_object`].
pub fn submission_input(bytes: &[u8]) -> Result<SubmissionInput, ApiError> {
    match serde_json::from_slice::<Submission>(bytes) {
        Ok(Submission(input)) => Ok(input),
        // The only type a submission can have wrong is the top level's: members are any JSON.
        Err(error) if error.classify() == serde_json::error::Category::Data => Err(
            ApiError::invalid_json("The request body must be a JSON object"),
        ),
        Err(error) => Err(ApiError::invalid_json(format!(
            "The request body is not valid JSON: {error}"
        ))),
    }
}

struct Submission(SubmissionInput);

impl<'de> Deserialize<'de> for Submission {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> de::Visitor<'de> for Members {
            type Value = Submission;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Submission, A::Error> {
                let mut input = SubmissionInput::default();
                while let Some(member) = map.next_key::<Member>()? {
                    match member {
                        Member::Email => input.email = map.next_value()?,
                        Member::Data => input.data = map.next_value()?,
                        // Read whole and dropped, so the nesting limit applies here too.
                        Member::Other => drop(map.next_value::<Value>()?),
                    }
                }
                Ok(Submission(input))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// A member name of a submission, told apart without copying it.
enum Member {
    Email,
    Data,
    Other,
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl de::Visitor<'_> for Name {
            type Value = Member;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
                Ok(match name {
                    "email" => Member::Email,
                    "data" => Member::Data,
                    _ => Member::Other,
                })
            }
        }
        deserializer.deserialize_identifier(Name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::{json_object, submission_input};

    /// What the submission route read before: the object whole, then its two members.
    fn via_object(body: &str) -> Result<(Value, Value), String> {
        let mut object = json_object(body.as_bytes()).map_err(|e| e.to_string())?;
        Ok((
            object.remove("email").unwrap_or(Value::Null),
            object.remove("data").unwrap_or(Value::Null),
        ))
    }

    #[test]
    fn reads_members_as_the_whole_object_would() {
        for body in [
            r#"{"email":"a@example.com","data":{"x":1,"y":[true,null]}}"#,
            r#"{"data":{"k":"v"},"extra":{"deep":[1,2,{"z":null}]},"email":"b@example.com"}"#,
            r#"{"email":"first@example.com","email":"second@example.com"}"#,
            r#"{"em\u0061il":"escaped@example.com","data":"not an object"}"#,
            r#"{}"#,
            r#"{"email":null,"data":null}"#,
            r#"{"$where":"1","a.b":2,"email":7}"#,
        ] {
            let read = submission_input(body.as_bytes()).map_err(|e| e.to_string());
            assert_eq!(
                read.map(|input| (input.email, input.data)),
                via_object(body),
                "{body}"
            );
        }
    }

    #[test]
    fn errors_say_what_the_whole_object_would() {
        for body in [
            "[1,2]",
            "\"text\"",
            "42",
            "null",
            "{",
            "{\"email\":}",
            "",
            "{} x",
        ] {
            let read = submission_input(body.as_bytes()).map(|_| ());
            let whole = json_object(body.as_bytes()).map(|_| ());
            assert_eq!(
                read.map_err(|e| e.to_string()),
                whole.map_err(|e| e.to_string()),
                "{body}"
            );
        }
    }

    #[test]
    fn nesting_is_limited_in_ignored_members_too() {
        let deep = format!(
            r#"{{"other":{}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(submission_input(deep.as_bytes()).is_err());
    }
}
