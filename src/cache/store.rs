//! `Cache`: typed get/put over the memory and disk layers, with compute-once.

use std::any::type_name;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::disk::{DiskRead, DiskStore};
use super::error::CacheError;
use super::format::HEADER_LEN;
use super::key::{CacheKey, ContentKey, KeyMemo};
use super::memory::{AnyValue, MemEntry, MemoryLayer};
use super::stats::{self, CacheCounters, CacheStats, Counters};

/// Environment variable that moves the default cache directory.
pub const CACHE_DIR_ENV: &str = "BEATCUT_CACHE_DIR";

/// Bounds of the two layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Values kept decoded in memory (0 turns the memory layer off).
    pub memory_entries: usize,
    /// Estimated bytes (msgpack size) kept in memory.
    pub memory_bytes: u64,
    /// Bytes of entry files on disk; least recently used entries go first beyond it.
    pub disk_bytes: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            memory_entries: 1024,
            memory_bytes: 256 << 20,
            disk_bytes: 2 << 30,
        }
    }
}

/// Result slot of a computation other threads may be waiting for.
enum Slot {
    Pending,
    Done(AnyValue),
    Failed,
}

/// One computation in progress: waiters block on `ready` until the slot is filled.
struct InFlight {
    slot: Mutex<Slot>,
    ready: Condvar,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it: every structure here
/// stays consistent between statements, so the data is still good.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The enabled part of a cache.
struct Store {
    disk: DiskStore,
    memory: Mutex<MemoryLayer>,
    /// Session counts already added to the lifetime stats file.
    flushed: Mutex<CacheCounters>,
}

/// Content-addressed cache of analysis results: a bounded in-memory LRU of decoded values over
/// a bounded directory of msgpack entries.
///
/// Every failure inside the cache (unreadable, damaged, old-format entry; full disk) is a
/// `tracing::warn` and a miss, never an error for the caller: the value can always be
/// recomputed. Share one instance (`Arc<Cache>`); separate instances, even in separate
/// processes, on one directory are safe too.
pub struct Cache {
    store: Option<Store>,
    counters: Counters,
    inflight: Mutex<HashMap<CacheKey, Arc<InFlight>>>,
    memo: KeyMemo,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("dir", &self.dir())
            .finish_non_exhaustive()
    }
}

/// Whether a thread runs a computation or waits for another's.
enum Role {
    Lead(Arc<InFlight>),
    Wait(Arc<InFlight>),
}

/// Publishes the leader's outcome even if its compute panics or fails, so waiters never hang.
struct LeaderGuard<'a> {
    cache: &'a Cache,
    key: &'a CacheKey,
    flight: Arc<InFlight>,
    done: Option<AnyValue>,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        let slot = match self.done.take() {
            Some(value) => Slot::Done(value),
            None => Slot::Failed,
        };
        *lock(&self.flight.slot) = slot;
        lock(&self.cache.inflight).remove(self.key);
        self.flight.ready.notify_all();
    }
}

impl Cache {
    /// Opens the cache in `dir` (created if missing) with the given bounds.
    /// Tests use a temporary directory here.
    pub fn open(dir: impl AsRef<Path>, limits: CacheLimits) -> Result<Self, CacheError> {
        let disk = DiskStore::open(dir.as_ref(), limits.disk_bytes)?;
        Ok(Self::with_store(Some(Store {
            disk,
            memory: Mutex::new(MemoryLayer::new(limits.memory_entries, limits.memory_bytes)),
            flushed: Mutex::new(CacheCounters::default()),
        })))
    }

    /// Opens the cache in [`Cache::default_dir`] with default bounds.
    pub fn open_default() -> Result<Self, CacheError> {
        Self::open(Self::default_dir()?, CacheLimits::default())
    }

    /// A cache that stores nothing (`--no-cache`): every lookup misses, `get_or_compute`
    /// always computes (still once per key under contention).
    pub fn disabled() -> Self {
        Self::with_store(None)
    }

    fn with_store(store: Option<Store>) -> Self {
        Self {
            store,
            counters: Counters::default(),
            inflight: Mutex::new(HashMap::new()),
            memo: KeyMemo::new(),
        }
    }

    /// `$BEATCUT_CACHE_DIR` if set, else the platform user cache directory
    /// (`~/.cache/beatcut/analysis` on Linux).
    pub fn default_dir() -> Result<PathBuf, CacheError> {
        if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("org", "beatcut", "beatcut")
            .map(|dirs| dirs.cache_dir().join("analysis"))
            .ok_or(CacheError::NoCacheDir)
    }

    /// The cache directory, `None` when disabled.
    pub fn dir(&self) -> Option<&Path> {
        self.store.as_ref().map(|s| s.disk.dir())
    }

    /// True unless made by [`Cache::disabled`].
    pub fn is_enabled(&self) -> bool {
        self.store.is_some()
    }

    /// The content key of the file at `path`, memoised per path while its size and mtime
    /// stay the same (one `stat` per call instead of a few MiB of reads).
    pub fn content_key(&self, path: &Path) -> Result<ContentKey, CacheError> {
        self.memo.key_for(path)
    }

    /// Whether an entry for `key` is in memory or on disk, without reading it or counting
    /// a hit or miss: for deciding whether quicker stand-in work is worth starting.
    pub fn contains(&self, key: &CacheKey) -> bool {
        let Some(store) = &self.store else {
            return false;
        };
        lock(&store.memory).contains(key) || store.disk.path_of(&key.to_hex()).is_file()
    }

    /// The value under `key`, from memory or disk; `None` on a miss, or if the stored entry
    /// is damaged or does not decode as `T` (it is then deleted with a warning).
    pub fn get<T>(&self, key: &CacheKey) -> Option<Arc<T>>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let Some(store) = &self.store else {
            Counters::bump(&self.counters.misses, 1);
            return None;
        };
        if let Some(value) = self.memory_get::<T>(store, key) {
            Counters::bump(&self.counters.memory_hits, 1);
            return Some(value);
        }
        let stem = key.to_hex();
        match store.disk.read(&stem) {
            DiskRead::Missing | DiskRead::Foreign => {}
            DiskRead::Unreadable(error) => tracing::warn!("cannot read cache entry: {error}"),
            DiskRead::Dropped(error) => {
                tracing::warn!("discarded cache entry, will recompute: {error}");
                Counters::bump(&self.counters.corrupt_dropped, 1);
            }
            DiskRead::Found {
                file,
                compute_nanos,
            } => {
                let payload = file.get(HEADER_LEN..).unwrap_or_default();
                match rmp_serde::from_slice::<T>(payload) {
                    Ok(value) => {
                        let value = Arc::new(value);
                        lock(&store.memory).insert(
                            key.clone(),
                            MemEntry {
                                value: value.clone(),
                                bytes: payload.len() as u64,
                            },
                        );
                        Counters::bump(&self.counters.disk_hits, 1);
                        Counters::bump(&self.counters.time_saved_nanos, compute_nanos);
                        return Some(value);
                    }
                    Err(e) => {
                        tracing::warn!(
                            "discarded cache entry that does not decode as {}, will recompute: {e}: {}",
                            type_name::<T>(),
                            store.disk.path_of(&stem).display()
                        );
                        store.disk.discard(&stem);
                        Counters::bump(&self.counters.corrupt_dropped, 1);
                    }
                }
            }
        }
        Counters::bump(&self.counters.misses, 1);
        None
    }

    fn memory_get<T: Send + Sync + 'static>(
        &self,
        store: &Store,
        key: &CacheKey,
    ) -> Option<Arc<T>> {
        let mut memory = lock(&store.memory);
        let entry = memory.get(key)?;
        match entry.value.downcast::<T>() {
            Ok(value) => Some(value),
            Err(_) => {
                // Asked for as another type: the disk entry decides.
                memory.remove(key);
                None
            }
        }
    }

    /// Stores `value` under `key` in memory and on disk, with no recorded compute time.
    /// Disk failures are warnings.
    pub fn put<T>(&self, key: &CacheKey, value: Arc<T>)
    where
        T: Serialize + Send + Sync + 'static,
    {
        self.put_timed(key, value, Duration::ZERO);
    }

    /// Stores `value` under `key`, recording that it took `compute_time` to produce (reported
    /// as time saved when a later run reads it from disk). Disk failures are warnings.
    pub fn put_timed<T>(&self, key: &CacheKey, value: Arc<T>, compute_time: Duration)
    where
        T: Serialize + Send + Sync + 'static,
    {
        let Some(store) = &self.store else { return };
        let compute_nanos = u64::try_from(compute_time.as_nanos()).unwrap_or(u64::MAX);
        let payload = match rmp_serde::to_vec_named(value.as_ref()) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("cannot encode {} for the cache: {e}", type_name::<T>());
                Counters::bump(&self.counters.write_errors, 1);
                return;
            }
        };
        lock(&store.memory).insert(
            key.clone(),
            MemEntry {
                value,
                bytes: payload.len() as u64,
            },
        );
        match store.disk.write(&key.to_hex(), &payload, compute_nanos) {
            Ok(_) => Counters::bump(&self.counters.writes, 1),
            Err(e) => {
                tracing::warn!("cannot write cache entry: {e}");
                Counters::bump(&self.counters.write_errors, 1);
                return;
            }
        }
        match store.disk.evict_if_needed() {
            Ok(n) => Counters::bump(&self.counters.evictions, n),
            Err(e) => tracing::warn!("cannot evict old cache entries: {e}"),
        }
    }

    /// The value under `key`, computing and storing it on a miss.
    ///
    /// Compute-once under contention: while one thread computes a key, other threads asking
    /// for it wait and get its result. If the computation fails (or panics), each waiter
    /// retries, so one of them computes next; only the failing caller sees its error `E`.
    pub fn get_or_compute<T, E>(
        &self,
        key: &CacheKey,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        let flight = loop {
            if let Some(value) = self.get::<T>(key) {
                return Ok(value);
            }
            match self.join_or_lead(key) {
                Role::Lead(flight) => break flight,
                Role::Wait(flight) => {
                    if let Some(value) = Self::wait_for::<T>(&flight) {
                        return Ok(value);
                    }
                }
            }
        };
        let mut guard = LeaderGuard {
            cache: self,
            key,
            flight,
            done: None,
        };
        // A leader that finished between our miss and our joining has left the value in
        // memory; take it rather than computing again.
        if let Some(store) = &self.store
            && let Some(value) = self.memory_get::<T>(store, key)
        {
            guard.done = Some(value.clone());
            return Ok(value);
        }
        let started = Instant::now();
        let value = Arc::new(compute()?);
        self.put_timed(key, value.clone(), started.elapsed());
        guard.done = Some(value.clone());
        Ok(value)
    }

    fn join_or_lead(&self, key: &CacheKey) -> Role {
        let mut inflight = lock(&self.inflight);
        if let Some(flight) = inflight.get(key) {
            return Role::Wait(flight.clone());
        }
        let flight = Arc::new(InFlight {
            slot: Mutex::new(Slot::Pending),
            ready: Condvar::new(),
        });
        inflight.insert(key.clone(), flight.clone());
        Role::Lead(flight)
    }

    /// Blocks until the leader publishes; `None` if it failed or made another type.
    fn wait_for<T: Send + Sync + 'static>(flight: &InFlight) -> Option<Arc<T>> {
        let mut slot = lock(&flight.slot);
        while matches!(*slot, Slot::Pending) {
            slot = flight.ready.wait(slot).unwrap_or_else(|p| p.into_inner());
        }
        match &*slot {
            Slot::Done(value) => value.clone().downcast::<T>().ok(),
            Slot::Pending | Slot::Failed => None,
        }
    }

    /// Forgets the value under `key` in memory and on disk.
    pub fn invalidate(&self, key: &CacheKey) {
        if let Some(store) = &self.store {
            lock(&store.memory).remove(key);
            store.disk.discard(&key.to_hex());
        }
    }

    /// Keeps the cache within its size bound after files were written into its directory
    /// by something other than `put` (the preview's seek proxies): the least recently used
    /// entries and proxies go first.
    pub fn trim(&self) {
        let Some(store) = &self.store else { return };
        if let Err(e) = store.disk.usage() {
            tracing::warn!("cannot scan the cache: {e}");
            return;
        }
        match store.disk.evict_if_needed() {
            Ok(n) => Counters::bump(&self.counters.evictions, n),
            Err(e) => tracing::warn!("cannot evict old cache entries: {e}"),
        }
    }

    /// Where the preview's seek proxies live (inside the cache directory, under its size
    /// bound and in its stats); `None` for a disabled cache.
    pub fn proxy_dir(&self) -> Option<PathBuf> {
        self.dir().map(|d| d.join(super::disk::PROXY_DIR))
    }

    /// Counters of this instance and of every run, and what is on disk now (scanned, so a
    /// new process sees the entries others wrote).
    pub fn stats(&self) -> CacheStats {
        let session = self.counters.snapshot();
        let Some(store) = &self.store else {
            return CacheStats {
                session,
                lifetime: session,
                ..CacheStats::default()
            };
        };
        let usage = store.disk.usage().unwrap_or_else(|e| {
            tracing::warn!("cannot scan the cache: {e}");
            Default::default()
        });
        let memory = lock(&store.memory);
        let flushed = *lock(&store.flushed);
        CacheStats {
            session,
            lifetime: stats::lifetime_with(store.disk.dir(), &session, &flushed),
            entries: usage.entries,
            bytes_on_disk: usage.bytes,
            proxies: usage.proxies,
            proxy_bytes: usage.proxy_bytes,
            memory_entries: memory.len() as u64,
            memory_bytes: memory.bytes(),
            dir: Some(store.disk.dir().to_path_buf()),
        }
    }

    /// Adds this instance's counts to the lifetime stats file (also done on drop).
    pub fn flush_stats(&self) {
        let Some(store) = &self.store else { return };
        let session = self.counters.snapshot();
        let mut flushed = lock(&store.flushed);
        stats::flush_lifetime(store.disk.dir(), &session, &flushed);
        *flushed = session;
    }

    /// Deletes every entry, in memory and on disk; returns the bytes freed on disk.
    /// A disabled cache frees nothing.
    pub fn clear(&self) -> Result<u64, CacheError> {
        let Some(store) = &self.store else {
            return Ok(0);
        };
        lock(&store.memory).clear();
        store.disk.clear()
    }
}

impl Drop for Cache {
    fn drop(&mut self) {
        self.flush_stats();
    }
}
