//! Sessions: the opaque bearer token a client holds, the hash the server keeps, and the
//! session record with its idle and absolute expiry.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::ids::{SessionId, UserId};

const TOKEN_BYTES: usize = 32;

/// The token a client presents. It never prints itself; only [`TokenHash`] is stored.
pub struct SessionToken(SecretString);

impl SessionToken {
    /// 256 random bits, base64url without padding (43 characters).
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts a token presented by a client. Anything that could not have been issued by
    /// [`SessionToken::generate`] is refused without a lookup.
    pub fn parse(presented: &str) -> Option<Self> {
        let plausible = presented.len() == 43
            && presented
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| Self(SecretString::from(presented.to_owned())))
    }

    /// The value to hand to the client, once.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The digest under which the session is stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.expose_secret().as_bytes()).into())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

/// SHA-256 of a session token. A database leak gives no usable tokens: the token has 256 bits
/// of entropy, so a fast unsalted hash is enough.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Wraps a digest read back from storage.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, for key-value stores.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash([redacted])")
    }
}

/// How a session was created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// Email and password.
    Password,
    /// A social OAuth provider (`google`, `github`, `microsoft`).
    OAuth(String),
    /// An OpenID Connect connection.
    Oidc(String),
    /// A SAML connection.
    Saml(String),
}

impl AuthMethod {
    /// Parses the stored form: `password`, `oauth:<provider>`, `oidc:<id>`, `saml:<id>`.
    pub fn parse(value: &str) -> Option<Self> {
        match value.split_once(':') {
            None if value == "password" => Some(Self::Password),
            Some(("oauth", name)) if !name.is_empty() => Some(Self::OAuth(name.to_owned())),
            Some(("oidc", name)) if !name.is_empty() => Some(Self::Oidc(name.to_owned())),
            Some(("saml", name)) if !name.is_empty() => Some(Self::Saml(name.to_owned())),
            _ => None,
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password => f.write_str("password"),
            Self::OAuth(name) => write!(f, "oauth:{name}"),
            Self::Oidc(name) => write!(f, "oidc:{name}"),
            Self::Saml(name) => write!(f, "saml:{name}"),
        }
    }
}

/// How long sessions last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLifetime {
    /// A session unused for this long expires.
    pub idle: Duration,
    /// No session lives longer than this, however active.
    pub absolute: Duration,
}

impl Default for SessionLifetime {
    fn default() -> Self {
        Self {
            idle: Duration::days(7),
            absolute: Duration::days(30),
        }
    }
}

/// `last_seen_at` is written at most this often per session, so that authenticated reads do
/// not each cost a write.
pub const LAST_SEEN_GRANULARITY: Duration = Duration::seconds(60);

/// A session as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Public identifier.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Digest of the token.
    pub token_hash: TokenHash,
    /// How it was created.
    pub auth_method: AuthMethod,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last authenticated use, to within [`LAST_SEEN_GRANULARITY`].
    pub last_seen_at: Timestamp,
    /// Expiry if unused: `last_seen_at + idle`.
    pub idle_expires_at: Timestamp,
    /// Expiry however used: `created_at + absolute`.
    pub absolute_expires_at: Timestamp,
    /// Client IP at creation.
    pub ip_address: Option<String>,
    /// Client user agent at creation.
    pub user_agent: Option<String>,
}

impl Session {
    /// The earlier of the idle and the absolute expiry.
    pub fn expires_at(&self) -> Timestamp {
        self.idle_expires_at.min(self.absolute_expires_at)
    }

    /// Whether the session can still authenticate at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        now < self.expires_at()
    }

    /// Whether `last_seen_at` is old enough to be worth writing again.
    pub fn needs_touch(&self, now: Timestamp) -> bool {
        now - self.last_seen_at >= LAST_SEEN_GRANULARITY
    }

    /// The session after an authenticated use at `now`: idle expiry slides, absolute does not.
    pub fn touched(&self, now: Timestamp, idle: Duration) -> Session {
        Session {
            last_seen_at: now,
            idle_expires_at: now + idle,
            ..self.clone()
        }
    }
}

/// What is needed to start a session.
#[derive(Debug)]
pub struct NewSession {
    /// The record to store.
    pub session: Session,
    /// The token to give the client, once.
    pub token: SessionToken,
}

impl NewSession {
    /// A fresh session for `user_id` created at `now`.
    pub fn start(
        user_id: UserId,
        auth_method: AuthMethod,
        now: Timestamp,
        lifetime: SessionLifetime,
        ip_address: Option<String>,
        user_agent: Option<String>,
    ) -> Self {
        let token = SessionToken::generate();
        let session = Session {
            id: SessionId::generate(),
            user_id,
            token_hash: token.hash(),
            auth_method,
            created_at: now,
            last_seen_at: now,
            idle_expires_at: now + lifetime.idle,
            absolute_expires_at: now + lifetime.absolute,
            ip_address,
            user_agent,
        };
        Self { session, token }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono::Utc;

    fn start() -> NewSession {
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        NewSession::start(
            UserId::generate(),
            AuthMethod::Password,
            now,
            SessionLifetime::default(),
            None,
            None,
        )
    }

    #[test]
    fn tokens_are_256_bits_and_url_safe() {
        let token = SessionToken::generate();
        assert_eq!(token.expose().len(), 43);
        assert!(SessionToken::parse(token.expose()).is_some());
        assert_ne!(token.expose(), SessionToken::generate().expose());
    }

    #[test]
    fn tokens_never_print_themselves() {
        let token = SessionToken::generate();
        assert!(!format!("{token:?}").contains(token.expose()));
        assert!(!format!("{:?}", token.hash()).contains(&token.hash().to_hex()));
    }

    #[test]
    fn implausible_tokens_are_refused_before_any_lookup() {
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
        ] {
            assert!(SessionToken::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn hash_matches_parsed_token() {
        let token = SessionToken::generate();
        let again = SessionToken::parse(token.expose()).unwrap();
        assert_eq!(token.hash(), again.hash());
        assert_eq!(token.hash().to_hex().len(), 64);
    }

    #[test]
    fn expires_at_the_earlier_of_idle_and_absolute() {
        let new = start();
        let s = &new.session;
        assert_eq!(s.expires_at(), s.created_at + Duration::days(7));
        let late = s.touched(s.created_at + Duration::days(29), Duration::days(7));
        assert_eq!(late.expires_at(), s.created_at + Duration::days(30));
        assert!(!late.is_active(s.created_at + Duration::days(30)));
    }

    #[test]
    fn idle_sessions_expire() {
        let new = start();
        let s = &new.session;
        assert!(s.is_active(s.created_at + Duration::days(7) - Duration::seconds(1)));
        assert!(!s.is_active(s.created_at + Duration::days(7)));
    }

    #[test]
    fn last_seen_is_written_at_most_once_a_minute() {
        let new = start();
        let s = &new.session;
        assert!(!s.needs_touch(s.created_at + Duration::seconds(59)));
        assert!(s.needs_touch(s.created_at + Duration::seconds(60)));
    }

    #[test]
    fn auth_methods_round_trip() {
        for method in [
            AuthMethod::Password,
            AuthMethod::OAuth("github".into()),
            AuthMethod::Oidc("corp".into()),
            AuthMethod::Saml("okta".into()),
        ] {
            assert_eq!(AuthMethod::parse(&method.to_string()), Some(method));
        }
        assert_eq!(AuthMethod::parse("oauth:"), None);
        assert_eq!(AuthMethod::parse("magic"), None);
    }
}
