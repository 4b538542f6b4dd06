/// An app's list of origins allowed to submit from a browser. `*` allows any origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

/// An entry of an origin list that is neither `*` nor an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an origin such as https://example.com, or *")]
pub struct NotAnOrigin(pub String);

impl AllowedOrigins {
    /// Normalizes each entry; the error names the first entry that is not `*` or an origin.
    pub fn parse(entries: &[String]) -> Result<Self, NotAnOrigin> {
        let mut origins = Vec::with_capacity(entries.len());
        for entry in entries {
            let normalized = if entry.trim() == "*" {
                "*".to_owned()
            } else {
                normalize_origin(entry).ok_or_else(|| NotAnOrigin(entry.clone()))?
            };
            if !origins.contains(&normalized) {
                origins.push(normalized);
            }
        }
        Ok(Self(origins))
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

/// `scheme://host[:port]` with scheme http or https, lower-cased, without a trailing slash or
/// path; `None` for anything else (including the opaque origin `null`).
pub fn normalize_origin(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = text.split_once("://")?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    (matches!(scheme, "http" | "https") && host_ok).then_some(text)
}

/// Whether a browser request from `origin` may submit to an app that allows `allowed`.
pub fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    if allowed.iter().any(|entry| entry == "*") {
        return true;
    }
    normalize_origin(origin).is_some_and(|origin| allowed.contains(&origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_origins() {
        assert_eq!(
            normalize_origin("HTTPS://Example.com/"),
            Some("https://example.com".into())
        );
        assert_eq!(
            normalize_origin("http://localhost:5173"),
            Some("http://localhost:5173".into())
        );
        for bad in [
            "example.com",
            "ftp://x.io",
            "https://x.io/path",
            "null",
            "https://",
            "javascript:alert(1)",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn matches_exactly_or_by_wildcard() {
        let allowed = vec!["https://example.com".to_owned()];
        assert!(origin_allowed(&allowed, "https://example.com"));
        assert!(origin_allowed(&allowed, "https://EXAMPLE.com"));
        assert!(!origin_allowed(&allowed, "https://evil.example.com"));
        assert!(!origin_allowed(&allowed, "http://example.com"));
        assert!(!origin_allowed(&allowed, "null"));
        assert!(origin_allowed(&["*".to_owned()], "null"));
    }

    #[test]
    fn parse_rejects_bad_entries_and_dedups() {
        let parsed =
            AllowedOrigins::parse(&["https://a.io/".into(), "https://A.io".into(), "*".into()])
                .expect("ok");
        assert_eq!(parsed.into_vec(), vec!["https://a.io", "*"]);
        assert_eq!(
            AllowedOrigins::parse(&["a.io".into()]),
            Err(NotAnOrigin("a.io".into()))
        );
    }
}
