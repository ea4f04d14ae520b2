//! The raw argon2id rate: logins' password verifications per second with the server's own
//! hashing code and parameters on every core, without HTTP, database or sessions.
//! `bench/run.sh` compares login throughput against it.
//!
//! `cargo bench --bench hash_rate [-- SECONDS]`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authy2::passwords::{HashCost, Hashing};

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(10);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cost = HashCost::OWASP;
    let hashing = Arc::new(Hashing::new(cost));
    let stored = hashing.hash("benchmark password").expect("hash");

    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (hashing, stored, done, stop) =
                (hashing.clone(), stored.clone(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let verification = hashing.verify("benchmark password", Some(&stored));
                    assert!(verification.is_valid);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = done.load(Ordering::Relaxed) as f64 / elapsed;
    println!(
        "argon2id m={}KiB t={} p={}: {rate:.1} verifications/s on {threads} thread(s) over {elapsed:.1} s",
        cost.memory_kib, cost.iterations, cost.parallelism
    );
}
