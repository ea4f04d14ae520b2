//! Counters in this process's memory, for single-instance deployments without Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authy2_core::{Clock, StoreResult, Timestamp};

use super::{Counters, Exceeded, Hit};

/// Expired windows are swept when the map grows past this many keys since the last sweep.
const SWEEP_EVERY: usize = 10_000;

/// Fixed-window counters in a map.
pub struct MemoryCounters {
    clock: Arc<dyn Clock>,
    windows: Mutex<Windows>,
}

#[derive(Default)]
struct Windows {
    by_key: HashMap<String, (u32, Timestamp)>,
    size_at_last_sweep: usize,
}

impl MemoryCounters {
    /// Empty counters reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            windows: Mutex::new(Windows::default()),
        }
    }
}

#[async_trait::async_trait]
impl Counters for MemoryCounters {
    async fn hit(&self, hits: &[Hit<'_>]) -> StoreResult<Option<Exceeded>> {
        let now = self.clock.now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.by_key.len() >= windows.size_at_last_sweep + SWEEP_EVERY {
            windows.by_key.retain(|_, (_, ends)| *ends > now);
            windows.size_at_last_sweep = windows.by_key.len();
        }
        for (index, hit) in hits.iter().enumerate() {
            let window =
                chrono::Duration::from_std(hit.limit.window).unwrap_or(chrono::Duration::MAX);
            let entry = windows
                .by_key
                .entry(hit.key.to_owned())
                .or_insert((0, now + window));
            if entry.1 <= now {
                *entry = (0, now + window);
            }
            entry.0 = entry.0.saturating_add(1);
            if entry.0 > hit.limit.limit {
                return Ok(Some(Exceeded {
                    index,
                    resets_in: (entry.1 - now).to_std().unwrap_or_default(),
                    is_first_refusal: entry.0 == hit.limit.limit.saturating_add(1),
                }));
            }
        }
        Ok(None)
    }

    async fn undo(&self, keys: &[&str]) -> StoreResult<()> {
        let now = self.clock.now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if let Some((count, ends)) = windows.by_key.get_mut(*key)
                && *ends > now
            {
                *count = count.saturating_sub(1);
            }
        }
        Ok(())
    }
}
