//! Cache statistics: per-process counters, totals persisted across runs, and disk usage.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::format;

/// Name of the small file holding lifetime counters next to the entries.
const STATS_FILE: &str = "stats.msgpack";

/// Event counts of the cache. Persisted, so new fields must keep `#[serde(default)]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheCounters {
    /// Lookups answered from memory.
    pub memory_hits: u64,
    /// Lookups answered from disk.
    pub disk_hits: u64,
    /// Lookups that found nothing usable.
    pub misses: u64,
    /// Entries written to disk.
    pub writes: u64,
    /// Disk writes that failed (a warning each; the value was still returned).
    pub write_errors: u64,
    /// Entries deleted by the disk size bound.
    pub evictions: u64,
    /// Damaged, truncated, old-format or undecodable entries deleted.
    pub corrupt_dropped: u64,
    /// Sum of the recorded compute times of disk hits, in nanoseconds.
    pub time_saved_nanos: u64,
}

impl CacheCounters {
    /// All hits, memory and disk.
    pub fn hits(&self) -> u64 {
        self.memory_hits + self.disk_hits
    }

    /// Compute time avoided by disk hits.
    ///
    /// Memory hits are not counted: a value already in memory was computed or loaded by this
    /// process, and the GUI asking for it every frame would otherwise inflate the figure.
    pub fn time_saved(&self) -> Duration {
        Duration::from_nanos(self.time_saved_nanos)
    }

    fn add(&self, other: &Self) -> Self {
        Self {
            memory_hits: self.memory_hits + other.memory_hits,
            disk_hits: self.disk_hits + other.disk_hits,
            misses: self.misses + other.misses,
            writes: self.writes + other.writes,
            write_errors: self.write_errors + other.write_errors,
            evictions: self.evictions + other.evictions,
            corrupt_dropped: self.corrupt_dropped + other.corrupt_dropped,
            time_saved_nanos: self.time_saved_nanos + other.time_saved_nanos,
        }
    }

    fn sub(&self, other: &Self) -> Self {
        Self {
            memory_hits: self.memory_hits.saturating_sub(other.memory_hits),
            disk_hits: self.disk_hits.saturating_sub(other.disk_hits),
            misses: self.misses.saturating_sub(other.misses),
            writes: self.writes.saturating_sub(other.writes),
            write_errors: self.write_errors.saturating_sub(other.write_errors),
            evictions: self.evictions.saturating_sub(other.evictions),
            corrupt_dropped: self.corrupt_dropped.saturating_sub(other.corrupt_dropped),
            time_saved_nanos: self.time_saved_nanos.saturating_sub(other.time_saved_nanos),
        }
    }
}

/// A snapshot of the cache's state, for `beatcut cache stats` and the GUI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Counts of this `Cache` instance.
    pub session: CacheCounters,
    /// Counts over every run that used this directory, this session included (best effort:
    /// two processes flushing at the same moment may lose one's counts).
    pub lifetime: CacheCounters,
    /// Entry files on disk (scanned, so it includes other processes' entries).
    pub entries: u64,
    /// Their total size.
    pub bytes_on_disk: u64,
    /// Seek proxies among the entries (counted in `entries` and `bytes_on_disk`).
    pub proxies: u64,
    /// Their size.
    pub proxy_bytes: u64,
    /// Values held in memory.
    pub memory_entries: u64,
    /// Estimated bytes held in memory.
    pub memory_bytes: u64,
    /// The cache directory, `None` when the cache is disabled.
    pub dir: Option<PathBuf>,
}

/// Live counters of one `Cache`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub memory_hits: AtomicU64,
    pub disk_hits: AtomicU64,
    pub misses: AtomicU64,
    pub writes: AtomicU64,
    pub write_errors: AtomicU64,
    pub evictions: AtomicU64,
    pub corrupt_dropped: AtomicU64,
    pub time_saved_nanos: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CacheCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheCounters {
            memory_hits: get(&self.memory_hits),
            disk_hits: get(&self.disk_hits),
            misses: get(&self.misses),
            writes: get(&self.writes),
            write_errors: get(&self.write_errors),
            evictions: get(&self.evictions),
            corrupt_dropped: get(&self.corrupt_dropped),
            time_saved_nanos: get(&self.time_saved_nanos),
        }
    }
}

/// Reads the lifetime counters stored in `dir` (zero if absent or unreadable).
pub(crate) fn load_lifetime(dir: &Path) -> CacheCounters {
    let Ok(bytes) = std::fs::read(dir.join(STATS_FILE)) else {
        return CacheCounters::default();
    };
    format::decode(&bytes)
        .ok()
        .and_then(|d| rmp_serde::from_slice(d.payload).ok())
        .unwrap_or_default()
}

/// Adds `session - already_flushed` to the lifetime counters in `dir`. Best effort.
pub(crate) fn flush_lifetime(dir: &Path, session: &CacheCounters, already: &CacheCounters) {
    let delta = session.sub(already);
    if delta == CacheCounters::default() {
        return;
    }
    let total = load_lifetime(dir).add(&delta);
    let Ok(payload) = rmp_serde::to_vec_named(&total) else {
        return;
    };
    static FLUSHES: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".tmp-stats-{}-{}",
        std::process::id(),
        FLUSHES.fetch_add(1, Ordering::Relaxed)
    ));
    let result = std::fs::write(&tmp, format::encode(&payload, 0))
        .and_then(|()| std::fs::rename(&tmp, dir.join(STATS_FILE)));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        tracing::debug!("cannot save cache stats: {e}: {}", dir.display());
    }
}

/// Lifetime counters as they would read after flushing this session.
pub(crate) fn lifetime_with(
    dir: &Path,
    session: &CacheCounters,
    already: &CacheCounters,
) -> CacheCounters {
    load_lifetime(dir).add(&session.sub(already))
}
