//! Email addresses: trimmed, checked, and compared by a normalized (lower-cased) form.

use std::fmt;

const MAX_LENGTH: usize = 254;
const MAX_LOCAL_LENGTH: usize = 64;
const MAX_LABEL_LENGTH: usize = 63;
const INVALID: &str = "must be a valid email address";

/// A syntactically valid email address.
///
/// The display form keeps the user's casing; equality and lookups use the normalized form, so
/// `Ada@Example.com` and `ada@example.COM` are the same account.
#[derive(Clone, Debug)]
pub struct Email {
    display: String,
    normalized: String,
}

impl Email {
    /// Parses user input: surrounding whitespace is dropped, then the address must be a plain
    /// `local@domain` with a dot-atom local part and a DNS domain name (no quoted local parts,
    /// no IP literals, which no real sign-up needs and which complicate matching).
    pub fn parse(input: &str) -> Result<Self, String> {
        let display = input.trim();
        if display.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if display.chars().count() > MAX_LENGTH {
            return Err(format!("must be at most {MAX_LENGTH} characters"));
        }
        let (local, domain) = display.rsplit_once('@').ok_or_else(|| INVALID.to_owned())?;
        if !is_valid_local_part(local) || !is_valid_domain(domain) {
            return Err(INVALID.to_owned());
        }
        Ok(Self {
            display: display.to_owned(),
            normalized: display.to_lowercase(),
        })
    }

    /// Rebuilds an address read back from storage, where it was validated on the way in.
    pub fn from_trusted(display: String) -> Self {
        let normalized = display.to_lowercase();
        Self {
            display,
            normalized,
        }
    }

    /// The address as the user typed it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The form used for uniqueness and lookups.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The normalized part before the `@`.
    pub fn local_part(&self) -> &str {
        self.normalized
            .rsplit_once('@')
            .map_or(self.normalized.as_str(), |(local, _)| local)
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.normalized == other.normalized
    }
}

impl Eq for Email {}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// The key to look an address up by, without validating it: a login with a malformed address
/// must cost the same as one with an unknown address. `None` when no account can have it
/// (empty, too long, or with control characters, which some databases refuse in text).
pub fn lookup_key(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let plausible = !trimmed.is_empty()
        && trimmed.chars().count() <= MAX_LENGTH
        && !trimmed.chars().any(char::is_control);
    plausible.then(|| trimmed.to_lowercase())
}

fn is_valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.chars().count() <= MAX_LOCAL_LENGTH
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c == '.' || c.is_alphanumeric() || SPECIALS.contains(c))
}

fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| is_valid_label(label))
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.chars().count() <= MAX_LABEL_LENGTH
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c == '-' || c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_keeps_their_casing() {
        for input in [
            "ada@example.com",
            "  Ada.Lovelace@Example.COM ",
            "first+tag@sub.example.co.uk",
            "o'brien@example.ie",
            "user@xn--bcher-kva.example",
            "josé@exämple.de",
        ] {
            let email = Email::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(email.as_str(), input.trim());
            assert_eq!(email.normalized(), input.trim().to_lowercase());
        }
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for input in [
            "",
            "   ",
            "plain",
            "@example.com",
            "user@",
            "user@localhost",
            "user@@example.com",
            ".user@example.com",
            "user.@example.com",
            "us..er@example.com",
            "user@-example.com",
            "user@example-.com",
            "user@example..com",
            "user@127.0.0.1",
            "user name@example.com",
            "user@exa mple.com",
            "\"quoted\"@example.com",
            "user@[127.0.0.1]",
        ] {
            assert!(Email::parse(input).is_err(), "{input:?} should be rejected");
        }
    }

    #[test]
    fn rejects_overlong_parts() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let long_label = format!("a@{}.com", "b".repeat(64));
        assert!(Email::parse(&long_label).is_err());
        let long_total = format!("a@{}.com", vec!["c".repeat(60); 5].join("."));
        assert!(Email::parse(&long_total).is_err());
    }

    #[test]
    fn lookup_keys_exist_only_for_plausible_addresses() {
        assert_eq!(
            lookup_key("  Ada@Example.com "),
            Some("ada@example.com".to_owned())
        );
        assert_eq!(
            lookup_key("not an address"),
            Some("not an address".to_owned())
        );
        assert_eq!(lookup_key("   "), None);
        assert_eq!(lookup_key("nul\0@example.com"), None);
        assert_eq!(lookup_key(&"a".repeat(255)), None);
    }

    #[test]
    fn equality_ignores_case() {
        let a = Email::parse("Ada@Example.com").unwrap();
        let b = Email::parse("ada@example.COM").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.local_part(), "ada");
    }
}
