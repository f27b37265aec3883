//! Errors of the analysis cache.

use std::path::PathBuf;

/// What went wrong in the analysis cache. Most cache failures are handled inside the cache as
/// warnings (a bad entry is a miss); these surface only where the caller must decide.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// Reading, writing, renaming or deleting a file failed.
    #[error("cache I/O failed: {source}: {}", path.display())]
    Io {
        /// The underlying error.
        #[source]
        source: std::io::Error,
        /// The file or directory involved.
        path: PathBuf,
    },
    /// No cache directory: `BEATCUT_CACHE_DIR` is unset and the platform has no user cache dir.
    #[error("no cache directory: set BEATCUT_CACHE_DIR or a home directory")]
    NoCacheDir,
    /// A value could not be encoded as msgpack.
    #[error("cannot encode cache entry: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    /// An entry exists but is damaged, truncated or from another format version.
    #[error("malformed cache entry ({reason}): {}", path.display())]
    Malformed {
        /// Why it was rejected.
        reason: String,
        /// The entry file.
        path: PathBuf,
    },
    /// The cache is disabled (`--no-cache`), so there is nothing to clear or read.
    #[error("the cache is disabled")]
    Disabled,
}

impl CacheError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(source: std::io::Error, path: impl Into<PathBuf>) -> Self {
        Self::Io {
            source,
            path: path.into(),
        }
    }
}
