use std::fmt;

/// An app's `sourceAppId`: 1 to 80 characters of `[A-Za-z0-9._-]`, chosen by an admin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppId(String);

impl AppId {
    pub const MAX_CHARS: usize = 80;

    /// `None` when `text` is not a well-formed app id.
    pub fn parse(text: &str) -> Option<Self> {
        let well_formed = (1..=Self::MAX_CHARS).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        well_formed.then(|| Self(text.to_owned()))
    }
}

impl AsRef<str> for AppId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::AppId;

    #[test]
    fn accepts_the_documented_alphabet() {
        for id in ["my-marketing-site", "a", "A.b_c-9", &"x".repeat(80)] {
            assert!(AppId::parse(id).is_some(), "{id}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for id in [
            "",
            &"x".repeat(81),
            "with space",
            "slash/",
            "ümlaut",
            "$where",
            "a\0b",
            "emoji😀",
        ] {
            assert!(AppId::parse(id).is_none(), "{id:?}");
        }
    }
}
