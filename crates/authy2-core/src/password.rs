//! The rules a new password must meet (NIST SP 800-63B §3.1.1.2): length, not a commonly used
//! password, not built from the account's email. No composition rules.

use std::collections::HashSet;
use std::sync::LazyLock;

use secrecy::{ExposeSecret, SecretString};

use crate::email::Email;

/// Shortest accepted password, in Unicode characters.
pub const MIN_CHARS: usize = 8;
/// Longest accepted password, in Unicode characters; also the bound checked before any hashing.
pub const MAX_CHARS: usize = 128;
/// A local part shorter than this is too generic to forbid inside passwords ("jo", "a").
const MIN_LOCAL_PART_CHECKED: usize = 3;
/// Context-specific words (NIST SP 800-63B §5.1.1.2): the service's own name is the first
/// guess of anyone attacking its accounts. Compared in lower case.
pub const CONTEXT_WORDS: &[&str] = &["authy"];

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .filter(|line| !line.is_empty())
        .collect()
});

/// A password that passed the policy and may be hashed. Never printed.
#[derive(Debug)]
pub struct NewPassword(SecretString);

impl NewPassword {
    /// Checks a candidate password for the account with `email`.
    pub fn parse(candidate: &str, email: &Email) -> Result<Self, String> {
        check_length(candidate)?;
        let lowered = candidate.to_lowercase();
        if COMMON_PASSWORDS.contains(lowered.as_str()) {
            return Err("is too common; choose a less predictable password".to_owned());
        }
        if CONTEXT_WORDS.iter().any(|word| lowered.contains(word)) {
            return Err("must not contain the name of this service".to_owned());
        }
        let local = email.local_part();
        if local.chars().count() >= MIN_LOCAL_PART_CHECKED && lowered.contains(local) {
            return Err("must not contain your email address".to_owned());
        }
        Ok(Self(SecretString::from(candidate.to_owned())))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The length rule alone, applied to any password before it is hashed or verified, so an
/// oversized input never costs a hash.
pub fn check_length(candidate: &str) -> Result<(), String> {
    let chars = candidate.chars().count();
    if chars < MIN_CHARS {
        return Err(format!("must be at least {MIN_CHARS} characters"));
    }
    if chars > MAX_CHARS {
        return Err(format!("must be at most {MAX_CHARS} characters"));
    }
    Ok(())
}

/// How many passwords the built-in blocklist holds.
pub fn blocklist_len() -> usize {
    COMMON_PASSWORDS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("Grace.Hopper@example.com").unwrap()
    }

    #[test]
    fn ships_at_least_ten_thousand_common_passwords() {
        assert!(blocklist_len() >= 10_000, "{}", blocklist_len());
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(NewPassword::parse("ééééééé", &email()).is_err());
        assert!(NewPassword::parse("éèêëēėęx", &email()).is_ok());
        assert!(NewPassword::parse(&"ж".repeat(128), &email()).is_ok());
        assert!(NewPassword::parse(&"ж".repeat(129), &email()).is_err());
    }

    #[test]
    fn rejects_common_passwords_whatever_their_case() {
        for common in ["password", "PASSWORD1", "qwertyuiop", "iloveyou"] {
            assert!(NewPassword::parse(common, &email()).is_err(), "{common}");
        }
    }

    #[test]
    fn rejects_passwords_containing_the_local_part() {
        assert!(NewPassword::parse("my grace.hopper pw", &email()).is_err());
        assert!(NewPassword::parse("GRACE.HOPPER-2026", &email()).is_err());
        assert!(NewPassword::parse("correct horse battery", &email()).is_ok());
    }

    #[test]
    fn rejects_the_services_own_name() {
        assert!(NewPassword::parse("my Authy2 password", &email()).is_err());
        assert!(NewPassword::parse("AUTHYAUTHYAUTHY", &email()).is_err());
    }

    #[test]
    fn short_local_parts_are_not_checked() {
        let jo = Email::parse("jo@example.com").unwrap();
        assert!(NewPassword::parse("jolly roger sails", &jo).is_ok());
    }

    #[test]
    fn no_composition_rules_and_no_trimming() {
        let password = NewPassword::parse("  lowercase only words  ", &email()).unwrap();
        assert_eq!(password.expose(), "  lowercase only words  ");
    }
}
