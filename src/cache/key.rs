//! Content keys: a file's identity by what it holds, not where it lives.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs::{File, Metadata};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use super::error::CacheError;

/// Bytes hashed from the start and from the end of a file.
const EDGE_BYTES: u64 = 1 << 20;
/// How many blocks are sampled evenly between the two edges.
const MIDDLE_BLOCKS: u64 = 16;
/// Size of each middle block.
const BLOCK_BYTES: u64 = 64 << 10;
/// Files up to this size are hashed whole: sampling would read nearly all of them anyway.
const WHOLE_FILE_LIMIT: u64 = 2 * EDGE_BYTES + MIDDLE_BLOCKS * BLOCK_BYTES;

/// Identity of a media file's content: its size and a 128-bit xxh3 hash of sampled bytes.
///
/// The path takes no part, so a renamed or moved file keeps its key and its cached analyses;
/// an edit anywhere in the first or last MiB, in a sampled block, or any change of size gives
/// a new key.
///
/// Why sampling: a clip can be several GB. Even at xxh3's ~10 GB/s, hashing 4 GB costs 0.4 s
/// of CPU on top of reading 4 GB from disk (tens of seconds on a spinning disk or a network
/// share), on every project open. Sampling reads a fixed 3 MiB whatever the size, so it is
/// O(1) in the file length. Container formats put their headers (moov/index) at one end, and
/// any re-encode or trim changes the size or those headers, so sampled bytes catch real edits;
/// an in-place change of a few payload bytes between samples, size unchanged, is the accepted
/// blind spot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentKey {
    /// File length in bytes.
    pub size: u64,
    /// xxh3-128 of the sampled bytes and the size.
    pub hash: u128,
}

impl ContentKey {
    /// Computes the key of the file at `path` (a few MiB of reads, whatever its size).
    pub fn from_path(path: &Path) -> Result<Self, CacheError> {
        let mut file = File::open(path).map_err(|e| CacheError::io(e, path))?;
        let size = file.metadata().map_err(|e| CacheError::io(e, path))?.len();
        Self::from_reader(&mut file, size).map_err(|e| CacheError::io(e, path))
    }

    /// Computes the key of `size` bytes readable from `reader` (a file, or a cursor in tests).
    pub fn from_reader<R: Read + Seek>(reader: &mut R, size: u64) -> std::io::Result<Self> {
        let mut hasher = Xxh3::new();
        hasher.update(&size.to_le_bytes());
        let mut buf = Vec::new();
        if size <= WHOLE_FILE_LIMIT {
            reader.seek(SeekFrom::Start(0))?;
            reader.take(size).read_to_end(&mut buf)?;
            hasher.update(&buf);
        } else {
            let mut sample = |offset: u64, len: u64, hasher: &mut Xxh3| -> std::io::Result<()> {
                buf.clear();
                reader.seek(SeekFrom::Start(offset))?;
                reader.by_ref().take(len).read_to_end(&mut buf)?;
                hasher.update(&offset.to_le_bytes());
                hasher.update(&buf);
                Ok(())
            };
            sample(0, EDGE_BYTES, &mut hasher)?;
            // Blocks evenly spaced over the middle, between the two edges.
            let middle = size - 2 * EDGE_BYTES - BLOCK_BYTES;
            for i in 0..MIDDLE_BLOCKS {
                let offset = EDGE_BYTES + middle * i / (MIDDLE_BLOCKS - 1);
                sample(offset, BLOCK_BYTES, &mut hasher)?;
            }
            sample(size - EDGE_BYTES, EDGE_BYTES, &mut hasher)?;
        }
        Ok(Self {
            size,
            hash: hasher.digest128(),
        })
    }

    /// Key of an in-memory buffer (same sampling as a file of those bytes).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut cursor = std::io::Cursor::new(bytes);
        // Reading from a cursor over a slice cannot fail.
        Self::from_reader(&mut cursor, bytes.len() as u64).unwrap_or(Self {
            size: bytes.len() as u64,
            hash: 0,
        })
    }
}

impl fmt::Display for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}-{:x}", self.hash, self.size)
    }
}

/// Key of one cached result: which content, which analysis, with which parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// The analysed file's content.
    pub content: ContentKey,
    /// The analysis, e.g. `"music"`, `"clip-fast"`, `"clip-accurate"`.
    pub kind: Cow<'static, str>,
    /// Bumped by the analysis code whenever its algorithm or output type changes.
    pub params_version: u32,
    /// Hash of the parameters that shape the result (see [`CacheKey::hash_params`]).
    pub params_hash: u64,
}

impl CacheKey {
    /// A key for `kind` analysis of `content`, at algorithm version `params_version`,
    /// with parameters hashing to `params_hash`.
    pub fn new(
        content: ContentKey,
        kind: impl Into<Cow<'static, str>>,
        params_version: u32,
        params_hash: u64,
    ) -> Self {
        Self {
            content,
            kind: kind.into(),
            params_version,
            params_hash,
        }
    }

    /// A stable hash of analysis parameters: xxh3 of their msgpack form, so it is the same
    /// across runs, builds and Rust versions (unlike `std::hash`). 0 if they do not serialise.
    pub fn hash_params<P: Serialize + ?Sized>(params: &P) -> u64 {
        rmp_serde::to_vec_named(params)
            .map(|bytes| xxh3_64(&bytes))
            .unwrap_or(0)
    }

    /// The stable, file-name-safe hex form, e.g.
    /// `clip-fast-<hash>-<size>-v3-<params>`; it is the entry's file stem on disk.
    pub fn to_hex(&self) -> String {
        let mut kind: String = self
            .kind
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        if kind != self.kind {
            // Sanitising could merge two kinds; the hash of the original keeps them apart.
            kind = format!("{kind}_{:08x}", xxh3_64(self.kind.as_bytes()) as u32);
        }
        format!(
            "{kind}-{}-v{}-{:016x}",
            self.content, self.params_version, self.params_hash
        )
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// What a file looked like when its key was computed; if it still looks the same the key is
/// reused without reading the file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    /// Inode change time: updated by every write and not settable by `touch`, so an edit that
    /// restores the mtime still shows.
    #[cfg(unix)]
    ctime: (i64, i64),
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Fingerprint {
    fn of(meta: &Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            ctime: (meta.ctime(), meta.ctime_nsec()),
            #[cfg(unix)]
            inode: (meta.dev(), meta.ino()),
        }
    }
}

/// Remembers path → content key for files already hashed, checked against the file's size,
/// mtime (and on Unix inode and ctime) so a lookup of an unchanged file costs one `stat`.
/// The memo is an accelerator only: the key itself never depends on the path.
#[derive(Debug, Default)]
pub struct KeyMemo {
    map: Mutex<HashMap<PathBuf, (Fingerprint, ContentKey)>>,
}

impl KeyMemo {
    /// An empty memo.
    pub fn new() -> Self {
        Self::default()
    }

    /// The content key of `path`, rehashing only if the file changed since the last call.
    pub fn key_for(&self, path: &Path) -> Result<ContentKey, CacheError> {
        let meta = std::fs::metadata(path).map_err(|e| CacheError::io(e, path))?;
        let fingerprint = Fingerprint::of(&meta);
        if let Ok(map) = self.map.lock()
            && let Some((seen, key)) = map.get(path)
            && *seen == fingerprint
        {
            return Ok(*key);
        }
        let key = ContentKey::from_path(path)?;
        // The file may have changed while we hashed it; only memoise a stable fingerprint.
        let after = std::fs::metadata(path).map(|m| Fingerprint::of(&m));
        if after.as_ref().ok() == Some(&fingerprint)
            && let Ok(mut map) = self.map.lock()
        {
            map.insert(path.to_path_buf(), (fingerprint, key));
        }
        Ok(key)
    }

    /// Forgets every remembered path.
    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_buffers_differ_on_edit() {
        let mut big = vec![0u8; 8 << 20];
        for (i, b) in big.iter_mut().enumerate() {
            *b = (i * 31 % 251) as u8;
        }
        let a = ContentKey::from_bytes(&big);
        // The key is of the bytes, not of where they are.
        assert_eq!(a, ContentKey::from_bytes(&big.clone()));
        big[10] ^= 1;
        assert_ne!(a, ContentKey::from_bytes(&big));
        big[10] ^= 1;
        let last = big.len() - 5;
        big[last] ^= 1;
        assert_ne!(a, ContentKey::from_bytes(&big));
        let small = ContentKey::from_bytes(b"hello");
        assert_ne!(small, ContentKey::from_bytes(b"hellp"));
        assert_ne!(small, ContentKey::from_bytes(b"hello\0"));
    }

    #[test]
    fn hex_form_is_stable_and_safe() {
        let key = CacheKey::new(ContentKey { size: 255, hash: 1 }, "clip-fast", 3, 0xabc);
        assert_eq!(
            key.to_hex(),
            "clip-fast-00000000000000000000000000000001-ff-v3-0000000000000abc"
        );
        let odd = CacheKey::new(key.content, "a/b", 3, 0);
        assert!(odd.to_hex().starts_with("a_b_"));
        assert!(!odd.to_hex().contains('/'));
    }
}
