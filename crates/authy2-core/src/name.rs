//! A person's display name.

use std::fmt;

const MAX_CHARS: usize = 100;

/// A display name: trimmed, 1–100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses an optional name; blank input means "no name".
    pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, String> {
        // Checked before trimming: some control characters (U+0085) count as whitespace and
        // would otherwise vanish into a blank name instead of being refused.
        if input.is_some_and(|raw| raw.chars().any(char::is_control)) {
            return Err("must not contain control characters".to_owned());
        }
        // The bound holds for what was sent, so it means the same to every client.
        if input.is_some_and(|raw| raw.chars().count() > MAX_CHARS) {
            return Err(format!("must be at most {MAX_CHARS} characters"));
        }
        let Some(trimmed) = input.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(Self(trimmed.to_owned())))
    }

    /// Rebuilds a name read back from storage.
    pub fn from_trusted(name: String) -> Self {
        Self(name)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_means_no_name() {
        assert_eq!(DisplayName::parse_optional(None), Ok(None));
        assert_eq!(DisplayName::parse_optional(Some("   ")), Ok(None));
    }

    #[test]
    fn the_limit_holds_for_what_was_sent() {
        let padded = format!(" {} ", "n".repeat(99));
        assert!(DisplayName::parse_optional(Some(&padded)).is_err());
    }

    #[test]
    fn counts_characters_not_bytes() {
        let hundred = "é".repeat(100);
        assert!(DisplayName::parse_optional(Some(&hundred)).is_ok());
        let too_long = "é".repeat(101);
        assert!(DisplayName::parse_optional(Some(&too_long)).is_err());
    }

    #[test]
    fn rejects_control_characters() {
        assert!(DisplayName::parse_optional(Some("Ada\u{0}Lovelace")).is_err());
        // Whitespace to `trim`, but a control character all the same.
        assert!(DisplayName::parse_optional(Some("\u{85}")).is_err());
        assert!(DisplayName::parse_optional(Some("Ada\t")).is_err());
    }
}
