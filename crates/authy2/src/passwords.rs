//! Password hashing: argon2id for every new hash; bcrypt hashes from older systems accepted and
//! replaced at the next successful login.
//!
//! Hashing is deliberately slow, so it never runs on the async workers: a fixed pool of threads
//! (one per core by default) takes jobs from a bounded queue. A login flood waits in that queue
//! while every other request keeps being served; past the queue's bound, logins are refused
//! with 503 at once rather than queued for longer than any client would wait, and a job whose
//! client has gone is skipped.

use std::sync::Arc;
use std::thread;

use std::cell::RefCell;

use argon2::{Algorithm, Argon2, Block, Params, PasswordHasher as _, Version};
use authy2_core::HashedPassword;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;
use tracing::Instrument as _;

/// Jobs that may wait per hashing thread: about 1.5 s of work at the OWASP cost.
const QUEUE_PER_WORKER: usize = 128;

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

thread_local! {
    /// argon2's working memory, kept by each hashing thread between hashes: allocating and
    /// zeroing 19 MiB per login costs as much as a fifth of the hash itself.
    static WORKING_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Hashes and verifies on the calling thread. [`PasswordHasher`] runs it on its pool; the
/// benchmark of the raw rate runs it directly.
#[derive(Clone)]
pub struct Hashing {
    params: Params,
    /// Verified against when an email is unknown, so that such a login costs one hash too.
    dummy_hash: HashedPassword,
}

impl std::fmt::Debug for Hashing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hashing")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Hashing {
    /// Hashing with the given cost.
    pub fn new(cost: HashCost) -> Self {
        let params = cost.params();
        // Any argon2id string with the current parameters costs the same full hash to check,
        // and this one matches no password; computing a real one would cost a hash at start.
        let dummy_hash = HashedPassword::new(format!(
            "$argon2id$v=19$m={},t={},p={}$YXV0aHkyLWR1bW15LXNhbHQ${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            "A".repeat(43)
        ));
        Self { params, dummy_hash }
    }

    /// A new argon2id hash of `password`.
    pub fn hash(&self, password: &str) -> Result<HashedPassword, HashingUnavailable> {
        argon2id(&self.params)
            .hash_password(password.as_bytes())
            .map(|hash| HashedPassword::new(hash.to_string()))
            .map_err(|err| {
                tracing::error!(error = %err, "argon2 hashing failed");
                HashingUnavailable
            })
    }

    /// Checks `password` against `stored`; `None` costs the same hash and never matches.
    pub fn verify(&self, password: &str, stored: Option<&HashedPassword>) -> Verification {
        let Some(stored) = stored else {
            self.verify_argon2(password, self.dummy_hash.as_str());
            return Verification {
                is_valid: false,
                upgraded_hash: None,
            };
        };
        let encoded = stored.as_str();
        let (is_valid, needs_upgrade) = if encoded.starts_with("$argon2") {
            self.verify_argon2(password, encoded)
        } else if is_bcrypt(encoded) {
            let is_valid = password.len() <= BCRYPT_MAX_BYTES
                && bcrypt::verify(password.as_bytes(), encoded).unwrap_or(false);
            (is_valid, is_valid)
        } else {
            tracing::warn!("stored password hash has an unknown format");
            self.verify_argon2(password, self.dummy_hash.as_str());
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

    /// (matches, should be re-hashed with the current parameters)
    fn verify_argon2(&self, password: &str, encoded: &str) -> (bool, bool) {
        let Ok(hash) = argon2::PasswordHash::new(encoded) else {
            return (false, false);
        };
        let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
            Algorithm::new(hash.algorithm.as_str()),
            Params::try_from(&hash),
            hash.salt.as_ref(),
            hash.hash.as_ref(),
        ) else {
            return (false, false);
        };
        let version = match hash.version {
            Some(0x10) => Version::V0x10,
            _ => Version::V0x13,
        };
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let expected = expected.as_bytes();
        let mut output = [0u8; 64];
        let Some(output) = output.get_mut(..expected.len()) else {
            return (false, false);
        };
        let computed = WORKING_MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            memory.resize(params.block_count(), Block::new());
            argon2.hash_password_into_with_memory(
                password.as_bytes(),
                salt.as_ref(),
                &mut *output,
                &mut memory[..],
            )
        });
        let is_valid = computed.is_ok() && bool::from(output.ct_eq(expected));
        let is_current = algorithm == Algorithm::Argon2id
            && version == Version::V0x13
            && params.m_cost() >= self.params.m_cost()
            && params.t_cost() >= self.params.t_cost()
            && params.p_cost() >= self.params.p_cost();
        (is_valid, is_valid && !is_current)
    }
}

/// Hashes and verifies passwords on its own threads.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: crossbeam_channel::Sender<Job>,
    hashing: Arc<Hashing>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("hashing", &self.hashing)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Starts `workers` hashing threads.
    pub fn start(cost: HashCost, workers: usize) -> Self {
        let workers = workers.max(1);
        let (jobs, queue) = crossbeam_channel::bounded::<Job>(workers * QUEUE_PER_WORKER);
        for n in 0..workers {
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
        Self {
            jobs,
            hashing: Arc::new(Hashing::new(cost)),
        }
    }

    /// Hashes a new password with argon2id.
    pub async fn hash(&self, password: &str) -> Result<HashedPassword, HashingUnavailable> {
        let password = SecretString::from(password.to_owned());
        let hashing = self.hashing.clone();
        self.run(move || hashing.hash(password.expose_secret()))
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
        let hashing = self.hashing.clone();
        self.run(move || hashing.verify(password.expose_secret(), stored.as_ref()))
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
            // The request timed out or its client hung up while this waited.
            if reply.is_closed() {
                return;
            }
            let _entered = span.enter();
            let _ = reply.send(work());
        });
        self.jobs.try_send(job).map_err(|_| HashingUnavailable)?;
        result
            .instrument(tracing::Span::current())
            .await
            .map_err(|_| HashingUnavailable)
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
