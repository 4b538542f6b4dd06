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

/// A new app's incarnation: 128 bits from the OS CSPRNG as 32 hex digits, so that an app
/// created later under a deleted app's id never matches sessions of the deleted one.
pub fn new_incarnation() -> String {
    let mut bytes = [0u8; 16];
    // The OS random source failing is not something the service can run without.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    lower_hex(&bytes)
}

/// Bytes as lower-case hex digits.
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{AppId, lower_hex, new_incarnation};

    #[test]
    fn lower_hex_writes_two_digits_per_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(lower_hex(&bytes), expected);
        assert_eq!(lower_hex(&[]), "");
    }

    #[test]
    fn incarnations_are_128_random_bits() {
        let (a, b) = (new_incarnation(), new_incarnation());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }

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
