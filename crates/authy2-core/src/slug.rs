//! Organization slugs: the short, URL-safe name of an organization.

use std::fmt;

const MIN_LEN: usize = 3;
const MAX_LEN: usize = 63;
/// Sequential suffixes tried before random ones, when a derived slug is taken.
const SEQUENTIAL_SUFFIXES: u32 = 8;
/// Random suffixes tried after that; with 36^6 values each, a collision here is not a concern.
const RANDOM_SUFFIXES: u32 = 4;

/// A slug: 3–63 characters of `[a-z0-9-]`, not starting or ending with `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// Validates a slug given by a client. It is not lower-cased for them: `Acme` is refused
    /// rather than silently changed.
    pub fn parse(input: &str) -> Result<Self, String> {
        let len = input.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(format!("must be {MIN_LEN}-{MAX_LEN} characters"));
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err("may contain only lowercase letters, digits and '-'".to_owned());
        }
        if input.starts_with('-') || input.ends_with('-') {
            return Err("must not start or end with '-'".to_owned());
        }
        Ok(Self(input.to_owned()))
    }

    /// Derives a slug from an organization's name: ASCII letters and digits kept and
    /// lower-cased, every other run of characters turned into one `-`.
    pub fn derive(name: &str) -> Self {
        let mut slug = String::with_capacity(name.len());
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let mut slug = trim_to(slug, MAX_LEN);
        if slug.len() < MIN_LEN {
            slug = if slug.is_empty() {
                "org".to_owned()
            } else {
                format!("{slug}-org")
            };
        }
        Self(slug)
    }

    /// Slugs to try, in order, when a derived slug may be taken: itself, then `-2`, `-3`, …,
    /// then random suffixes. Each is still a valid slug.
    pub fn candidates(&self) -> impl Iterator<Item = Slug> + '_ {
        let sequential = (2..2 + SEQUENTIAL_SUFFIXES).map(|n| n.to_string());
        let random = (0..RANDOM_SUFFIXES).map(|_| random_suffix());
        std::iter::once(self.clone()).chain(
            sequential
                .chain(random)
                .map(move |suffix| self.with_suffix(&suffix)),
        )
    }

    fn with_suffix(&self, suffix: &str) -> Slug {
        let base = trim_to(self.0.clone(), MAX_LEN - suffix.len() - 1);
        Slug(format!("{base}-{suffix}"))
    }

    /// Rebuilds a slug read back from storage.
    pub fn from_trusted(slug: String) -> Self {
        Self(slug)
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn trim_to(mut slug: String, max: usize) -> String {
    slug.truncate(max);
    slug.trim_matches('-').to_owned()
}

fn random_suffix() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_slugs() {
        for slug in ["abc", "acme-corp", "a1b2", &"x".repeat(63)] {
            assert!(Slug::parse(slug).is_ok(), "{slug}");
        }
    }

    #[test]
    fn rejects_invalid_slugs() {
        for slug in [
            "ab",
            "-abc",
            "abc-",
            "Acme",
            "acme corp",
            "acme_corp",
            "ácme",
            &"x".repeat(64),
        ] {
            assert!(Slug::parse(slug).is_err(), "{slug}");
        }
    }

    #[test]
    fn derives_a_valid_slug_from_any_name() {
        let cases = [
            ("Acme Corp", "acme-corp"),
            ("  Acme -- Corp!  ", "acme-corp"),
            ("Café Müller", "caf-m-ller"),
            ("A", "a-org"),
            ("日本", "org"),
        ];
        for (name, slug) in cases {
            assert_eq!(Slug::derive(name).as_str(), slug, "{name}");
        }
        let long = Slug::derive(&"word ".repeat(40));
        assert!(Slug::parse(long.as_str()).is_ok());
    }

    #[test]
    fn candidates_are_distinct_valid_slugs() {
        let base = Slug::derive(&"z".repeat(80));
        let candidates: Vec<Slug> = base.candidates().collect();
        assert_eq!(candidates[0], base);
        assert_eq!(candidates[1].as_str(), format!("{}-2", "z".repeat(61)));
        for candidate in &candidates {
            assert!(Slug::parse(candidate.as_str()).is_ok(), "{candidate}");
        }
        let unique: std::collections::HashSet<_> = candidates.iter().collect();
        assert_eq!(unique.len(), candidates.len());
    }
}
