use std::fmt;

use validator::ValidateEmail;

/// A normalized email address: trimmed, lower-cased, at most 254 characters, and valid by the
/// HTML5 rule browsers apply to `<input type=email>` (ASCII local part; IDN domains allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub const MAX_CHARS: usize = 254;

    /// `None` when `text` is not a valid address once trimmed.
    pub fn parse(text: &str) -> Option<Self> {
        let normalized = text.trim().to_lowercase();
        let valid = normalized.chars().count() <= Self::MAX_CHARS && normalized.validate_email();
        valid.then_some(Self(normalized))
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn trims_and_lower_cases() {
        let email = EmailAddress::parse("  Ada.Lovelace@Example.COM \n").expect("valid");
        assert_eq!(email.as_ref(), "ada.lovelace@example.com");
    }

    #[test]
    fn rejects_malformed_and_oversized_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a b@example.com",
            "a@@b.com",
            long.as_str(),
            "a@b.com\0",
        ] {
            assert_eq!(EmailAddress::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn follows_the_html5_rule_like_browsers_do() {
        // What `<input type=email>` accepts: an ASCII local part, an internationalized domain.
        assert!(EmailAddress::parse("zoe+news@exämple.org").is_some());
        assert!(EmailAddress::parse("a+b@x.io").is_some());
        assert_eq!(EmailAddress::parse("zoë@example.org"), None);
    }
}
