//! The rule for account passwords (ACCOUNTS.md §5): 8 to 128 characters, no composition
//! rules, and nothing a cracker would try early (zxcvbn's estimate, which knows the common
//! passwords, names, words, dates, keyboard walks and repeats, and the person's own email and
//! name given as `context`).

use schema_validation::Violation;
use secrecy::{ExposeSecret as _, SecretString};

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// `None` when `password` may be used; otherwise the problem, reported at `field`.
pub fn check_new_password(
    field: &str,
    password: &SecretString,
    context: &[&str],
) -> Option<Violation> {
    let text = password.expose_secret();
    let chars = text.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(Violation::new(
            field,
            "too_short",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(Violation::new(
            field,
            "too_long",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if is_guessable(text, context) {
        return Some(Violation::new(
            field,
            "too_common",
            "is too common or too easy to guess; a few unrelated words make a good password",
        ));
    }
    None
}

/// zxcvbn scores 0 ("too guessable") and 1 ("very guessable") are refused: fewer than about
/// 10^6 guesses, which covers its lists of common passwords and their simple variations.
fn is_guessable(text: &str, context: &[&str]) -> bool {
    zxcvbn::zxcvbn(text, context).score() <= zxcvbn::Score::One
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(password: &str, context: &[&str]) -> Option<String> {
        check_new_password("password", &password.into(), context).map(|v| v.code.to_string())
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(problem("short", &[]).as_deref(), Some("too_short"));
        assert_eq!(problem(&"ü".repeat(7), &[]).as_deref(), Some("too_short"));
        assert_eq!(problem(&"x".repeat(129), &[]).as_deref(), Some("too_long"));
    }

    #[test]
    fn common_passwords_are_refused() {
        for common in [
            "password",
            "password1",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "P@ssw0rd",
        ] {
            assert_eq!(
                problem(common, &[]).as_deref(),
                Some("too_common"),
                "{common}"
            );
        }
        assert_eq!(
            problem("adalovelace", &["ada@example.com", "adalovelace"]).as_deref(),
            Some("too_common"),
            "the person's own name"
        );
    }

    #[test]
    fn no_composition_rules() {
        for fine in [
            "correct horse battery staple",
            "plumbing-otter-cathedral",
            "ünïcödé passwörds wörk tôo",
        ] {
            assert_eq!(problem(fine, &[]), None, "{fine}");
        }
    }
}
