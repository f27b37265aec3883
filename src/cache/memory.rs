//! The in-memory layer: decoded values behind `Arc`, bounded by entry count and bytes.

use std::any::Any;
use std::sync::Arc;

use lru::LruCache;

use super::key::CacheKey;

/// A decoded value of any type; `Cache::get` downcasts it back.
pub type AnyValue = Arc<dyn Any + Send + Sync>;

/// One value held in memory.
#[derive(Clone)]
pub struct MemEntry {
    /// The value.
    pub value: AnyValue,
    /// Its msgpack size, the estimate of what it costs in memory.
    pub bytes: u64,
}

/// Least recently used values, bounded by count and by estimated bytes.
pub struct MemoryLayer {
    lru: LruCache<CacheKey, MemEntry>,
    bytes: u64,
    max_entries: usize,
    max_bytes: u64,
}

impl MemoryLayer {
    /// An empty layer holding at most `max_entries` values and `max_bytes` estimated bytes.
    pub fn new(max_entries: usize, max_bytes: u64) -> Self {
        Self {
            lru: LruCache::unbounded(),
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    /// The value under `key`, marking it most recently used.
    pub fn get(&mut self, key: &CacheKey) -> Option<MemEntry> {
        self.lru.get(key).cloned()
    }

    /// Whether a value is held under `key` (without marking it used).
    pub fn contains(&self, key: &CacheKey) -> bool {
        self.lru.contains(key)
    }

    /// Drops the value under `key` (e.g. it was of another type than asked for).
    pub fn remove(&mut self, key: &CacheKey) {
        if let Some(old) = self.lru.pop(key) {
            self.bytes = self.bytes.saturating_sub(old.bytes);
        }
    }

    /// Stores a value, evicting least recently used ones to stay in bounds. A value bigger than
    /// the whole byte bound is not kept.
    pub fn insert(&mut self, key: CacheKey, entry: MemEntry) {
        if self.max_entries == 0 || entry.bytes > self.max_bytes {
            self.remove(&key);
            return;
        }
        self.bytes += entry.bytes;
        if let Some(old) = self.lru.put(key, entry) {
            self.bytes = self.bytes.saturating_sub(old.bytes);
        }
        while self.lru.len() > self.max_entries || self.bytes > self.max_bytes {
            match self.lru.pop_lru() {
                Some((_, old)) => self.bytes = self.bytes.saturating_sub(old.bytes),
                None => break,
            }
        }
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.lru.len()
    }

    /// Estimated bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Drops every value.
    pub fn clear(&mut self) {
        self.lru.clear();
        self.bytes = 0;
    }
}
