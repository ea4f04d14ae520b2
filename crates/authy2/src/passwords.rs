//! Password hashing: argon2id for every new hash; bcrypt hashes from older systems accepted and
//! replaced at the next successful login.
//!
//! Hashing is deliberately slow, so it never runs on the async workers: a fixed pool of threads
//! (one per core by default) takes jobs from a queue. A login flood then waits in that queue
//! while every other request keeps being served.

use std::sync::Arc;
use std::thread;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use authy2_core::HashedPassword;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;
use tracing::Instrument as _;

/// bcrypt only reads the first 72 bytes of a password. Longer passwords are refused against
/// bcrypt hashes rather than truncated, so two passwords that differ after byte 72 can never
/// both match.
const BCRYPT_MAX_BYTES: usize = 72;

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl HashCost {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 iterations, 1 lane.
    pub const OWASP: HashCost = HashCost {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Cheap enough for test suites that hash hundreds of passwords; never used elsewhere.
    pub const TESTING: HashCost = HashCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn params(self) -> Params {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .unwrap_or(Params::DEFAULT)
    }
}

/// The result of checking a password.
#[derive(Debug)]
pub struct Verification {
    /// Whether the password matched.
    pub is_valid: bool,
    /// A fresh argon2id hash to store, when the password matched a hash of another algorithm
    /// or weaker parameters.
    pub upgraded_hash: Option<HashedPassword>,
}

/// The hashing thread pool has stopped (the process is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("password hashing is unavailable")]
pub struct HashingUnavailable;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords on its own threads.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: crossbeam_channel::Sender<Job>,
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// Verified against when an email is unknown, so that such a login costs one hash too.
    dummy_hash: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.inner.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Starts `workers` hashing threads.
    pub fn start(cost: HashCost, workers: usize) -> Self {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        for n in 0..workers.max(1) {
            let queue = queue.clone();
            let spawned = thread::Builder::new()
                .name(format!("authy2-hash-{n}"))
                .spawn(move || {
                    while let Ok(job) = queue.recv() {
                        job();
                    }
                });
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start a password hashing thread");
            }
        }
        let params = cost.params();
        let dummy_hash = argon2id(&params)
            .hash_password(b"authy2 dummy password for unknown accounts")
            .map(|hash| hash.to_string())
            .unwrap_or_default();
        Self {
            jobs,
            inner: Arc::new(Inner { params, dummy_hash }),
        }
    }

    /// Hashes a new password with argon2id.
    pub async fn hash(&self, password: &str) -> Result<HashedPassword, HashingUnavailable> {
        let password = SecretString::from(password.to_owned());
        let inner = self.inner.clone();
        self.run(move || inner.hash(password.expose_secret()))
            .await?
    }

    /// Checks a password against a stored hash; with `None` (unknown account, or an account
    /// without a password) it checks against a dummy hash and always fails, at the same cost.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<HashedPassword>,
    ) -> Result<Verification, HashingUnavailable> {
        let password = SecretString::from(password.to_owned());
        let inner = self.inner.clone();
        self.run(move || inner.verify(password.expose_secret(), stored.as_ref()))
            .await
    }

    /// Runs `work` on a hashing thread, inside the caller's tracing span.
    async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, HashingUnavailable> {
        let (reply, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _entered = span.enter();
            let _ = reply.send(work());
        });
        self.jobs.send(job).map_err(|_| HashingUnavailable)?;
        result
            .instrument(tracing::Span::current())
            .await
            .map_err(|_| HashingUnavailable)
    }
}

impl Inner {
    fn hash(&self, password: &str) -> Result<HashedPassword, HashingUnavailable> {
        argon2id(&self.params)
            .hash_password(password.as_bytes())
            .map(|hash| HashedPassword::new(hash.to_string()))
            .map_err(|err| {
                tracing::error!(error = %err, "argon2 hashing failed");
                HashingUnavailable
            })
    }

    fn verify(&self, password: &str, stored: Option<&HashedPassword>) -> Verification {
        let Some(stored) = stored else {
            let _ = argon2id(&self.params)
                .verify_password(password.as_bytes(), self.dummy_hash.as_str());
            return Verification {
                is_valid: false,
                upgraded_hash: None,
            };
        };
        let encoded = stored.as_str();
        let (is_valid, needs_upgrade) = if encoded.starts_with("$argon2") {
            let is_valid = argon2id(&self.params)
                .verify_password(password.as_bytes(), encoded)
                .is_ok();
            (is_valid, is_valid && !self.is_current_argon2id(encoded))
        } else if is_bcrypt(encoded) {
            let is_valid = password.len() <= BCRYPT_MAX_BYTES
                && bcrypt::verify(password.as_bytes(), encoded).unwrap_or(false);
            (is_valid, is_valid)
        } else {
            tracing::warn!("stored password hash has an unknown format");
            let _ = argon2id(&self.params)
                .verify_password(password.as_bytes(), self.dummy_hash.as_str());
            (false, false)
        };
        let upgraded_hash = if needs_upgrade {
            self.hash(password).ok()
        } else {
            None
        };
        Verification {
            is_valid,
            upgraded_hash,
        }
    }

    fn is_current_argon2id(&self, encoded: &str) -> bool {
        let Ok(hash) = argon2::PasswordHash::new(encoded) else {
            return false;
        };
        let Ok(params) = Params::try_from(&hash) else {
            return false;
        };
        hash.algorithm.as_str() == "argon2id"
            && hash.version == Some(Version::V0x13.into())
            && params.m_cost() >= self.params.m_cost()
            && params.t_cost() >= self.params.t_cost()
            && params.p_cost() >= self.params.p_cost()
    }
}

fn argon2id(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// Whether a stored hash is bcrypt's modular-crypt format.
pub fn is_bcrypt(encoded: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| encoded.starts_with(prefix))
}

/// Whether a stored hash is in a format this server can verify.
pub fn is_supported_hash(encoded: &str) -> bool {
    if is_bcrypt(encoded) {
        return encoded.len() == 60;
    }
    argon2::PasswordHash::new(encoded)
        .is_ok_and(|hash| matches!(hash.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d"))
}
