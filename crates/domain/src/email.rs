use std::fmt;

use idna::AsciiDenyList;
use idna::uts46::{Hyphens, Uts46};
use validator::ValidateEmail;

/// A normalized email address: trimmed, at most 254 characters, and valid by the HTML5 rule
/// browsers apply to `<input type=email>` (ASCII local part; IDN domains allowed). The local
/// part is lower-cased; the domain is normalized by UTS #46 (the mapping browsers apply to host
/// names: case folding, NFC, fullwidth forms, `xn--` labels decoded), so every spelling of one
/// mailbox gives one address. Addresses with invisible characters are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub const MAX_CHARS: usize = 254;

    /// `None` when `text` is not a valid address once trimmed.
    pub fn parse(text: &str) -> Option<Self> {
        let trimmed = text.trim();
        // Nearly every address is ASCII without `xn--` labels: there, UTS #46 only lower-cases,
        // and the HTML5 rule below already refuses what its STD3 check would.
        let normalized = match trimmed.is_ascii().then(|| trimmed.to_ascii_lowercase()) {
            Some(lower) if !lower.contains("xn--") => lower,
            _ => normalize_international(trimmed)?,
        };
        let valid = normalized.chars().count() <= Self::MAX_CHARS && normalized.validate_email();
        valid.then_some(Self(normalized))
    }
}

fn normalize_international(address: &str) -> Option<String> {
    if address.chars().any(is_invisible) {
        return None;
    }
    let (local, domain) = address.rsplit_once('@')?;
    let domain = canonical_domain(domain)?;
    Some(format!("{}@{domain}", local.to_lowercase()))
}

/// The domain as UTS #46 writes it for people: mapped and checked by ToASCII (STD3 rules,
/// as DNS host names), then shown in Unicode, so `ｅｘａｍｐｌｅ.com`, `EXAMPLE.com` and
/// `exämple.org` / `xn--exmple-cua.org` each meet their one form.
fn canonical_domain(domain: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii_cow(domain.as_bytes(), AsciiDenyList::STD3).ok()?;
    let (unicode, checked) =
        Uts46::new().to_unicode(ascii.as_bytes(), AsciiDenyList::STD3, Hyphens::Allow);
    checked.ok()?;
    Some(unicode.into_owned())
}

/// Characters that render as nothing (Unicode's default-ignorable code points and the control
/// characters): two texts that differ only by them look the same to a person.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
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

    #[test]
    fn every_spelling_of_a_domain_gives_one_address() {
        let one = |text: &str| EmailAddress::parse(text).map(|e| e.as_ref().to_owned());
        assert_eq!(
            one("ada@ｅｘａｍｐｌｅ.com").as_deref(),
            Some("ada@example.com")
        );
        assert_eq!(
            one("ada@example\u{3002}com").as_deref(),
            Some("ada@example.com")
        );
        assert_eq!(one("Ada@EXAMPLE.COM").as_deref(), Some("ada@example.com"));
        assert_eq!(
            one("zoe@xn--exmple-cua.org").as_deref(),
            Some("zoe@exämple.org")
        );
        assert_eq!(one("zoe@EXÄMPLE.org").as_deref(), Some("zoe@exämple.org"));
        // NFD (a + combining diaeresis) and NFC meet too.
        assert_eq!(
            one("zoe@exa\u{0308}mple.org").as_deref(),
            Some("zoe@exämple.org")
        );
    }

    #[test]
    fn invisible_characters_and_bad_domains_are_refused() {
        for bad in [
            "ada@ex\u{200B}ample.com",
            "a\u{200D}da@example.com",
            "ada@example.com\u{FEFF}x",
            "ada@exa\u{00AD}mple.com",
            "ada@\u{2060}example.com",
            "ada@ex_ample.com",
            "ada@xn--zz.com",
        ] {
            assert_eq!(EmailAddress::parse(bad), None, "{bad:?}");
        }
    }
}
