//! Content-addressed analysis cache.
//!
//! Results are keyed by [`CacheKey`]: the analysed file's [`ContentKey`] (size and sampled
//! hash, so a moved file still hits and an edited one misses), the analysis kind, its
//! algorithm version and a hash of its parameters. [`Cache`] keeps decoded values in a
//! bounded in-memory LRU over a bounded directory of msgpack files (see [`format`]), computes
//! each missing key once however many threads ask, and reports [`CacheStats`].
//!
//! ```no_run
//! # use beatcut::cache::{Cache, CacheKey};
//! # fn analyse(_: &std::path::Path) -> Result<Vec<f32>, std::io::Error> { Ok(vec![]) }
//! # fn demo(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//! let cache = Cache::open_default()?;
//! let key = CacheKey::new(cache.content_key(path)?, "music", 1, CacheKey::hash_params(&(2048, 512)));
//! let curve = cache.get_or_compute(&key, || analyse(path))?;
//! # let _ = curve; Ok(()) }
//! ```

mod disk;
mod error;
pub mod format;
mod key;
mod memory;
mod stats;
mod store;

pub use disk::ENTRY_EXT;
pub use error::CacheError;
pub use key::{CacheKey, ContentKey, KeyMemo};
pub use stats::{CacheCounters, CacheStats};
pub use store::{CACHE_DIR_ENV, Cache, CacheLimits};
