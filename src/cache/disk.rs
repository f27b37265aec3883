//! The on-disk layer: one file per entry, written atomically, bounded by size with LRU eviction.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::error::CacheError;
use super::format::{self, Rejection};

/// Extension of entry files.
pub const ENTRY_EXT: &str = "bcc";
/// Prefix of files being written; never read as entries.
const TMP_PREFIX: &str = ".tmp-";
/// Temp files older than this are leftovers of a crashed writer.
const STALE_TMP: Duration = Duration::from_secs(3600);
/// After eviction the store sits at this fraction of its bound, so a full cache is not
/// rescanned after every single write.
const EVICT_TO_PERCENT: u64 = 90;

/// Subdirectory holding the preview's seek proxies (see `crate::media::ProxyStore`): two
/// files per clip (`.mp4` and its `.idx`), counted, evicted and cleared with the entries so
/// one size bound covers all the cache holds.
pub const PROXY_DIR: &str = "proxies";
/// Extension of a proxy's video; its index sits beside it with `PROXY_INDEX_EXT`.
const PROXY_VIDEO_EXT: &str = "mp4";
const PROXY_INDEX_EXT: &str = "idx";

/// Distinguishes temp files of concurrent writers in one process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Outcome of reading an entry.
pub enum DiskRead {
    /// No such entry.
    Missing,
    /// A valid entry: the whole file (payload from `format::HEADER_LEN`) and compute time.
    Found { file: Vec<u8>, compute_nanos: u64 },
    /// The entry was damaged or of an old format, and has been deleted.
    Dropped(CacheError),
    /// A newer Beatcut wrote it: a miss, but left in place.
    Foreign,
    /// It exists but could not be read (permissions, I/O): a miss, left in place.
    Unreadable(CacheError),
}

/// One entry file (or seek proxy, with its index as `companion`) as seen by a scan.
struct Listed {
    path: PathBuf,
    companion: Option<PathBuf>,
    bytes: u64,
    used: SystemTime,
}

/// Totals of a directory scan.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Entry files and seek proxies.
    pub entries: u64,
    /// Their total size.
    pub bytes: u64,
    /// Seek proxies among the entries.
    pub proxies: u64,
    /// Their size (video and index).
    pub proxy_bytes: u64,
}

/// Entry files in one directory.
#[derive(Debug)]
pub struct DiskStore {
    dir: PathBuf,
    max_bytes: u64,
    /// Bytes on disk as far as this process knows: set by scans, grown by our writes.
    /// Other processes' writes are only seen at the next scan, which is fine for a soft bound.
    known_bytes: Mutex<Option<u64>>,
}

impl DiskStore {
    /// Opens (creating if needed) the store in `dir`, bounded to `max_bytes`.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Self, CacheError> {
        fs::create_dir_all(dir).map_err(|e| CacheError::io(e, dir))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            max_bytes,
            known_bytes: Mutex::new(None),
        })
    }

    /// The directory holding the entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the entry named `stem`.
    pub fn path_of(&self, stem: &str) -> PathBuf {
        self.dir.join(format!("{stem}.{ENTRY_EXT}"))
    }

    /// Reads and checks the entry `stem`, touching its mtime (the LRU clock) on success.
    pub fn read(&self, stem: &str) -> DiskRead {
        let path = self.path_of(stem);
        let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return DiskRead::Missing,
            // A read-only cache dir still serves hits; it just cannot age entries.
            Err(_) => match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::NotFound => return DiskRead::Missing,
                Err(e) => return DiskRead::Unreadable(CacheError::io(e, path)),
            },
        };
        let mut bytes = Vec::new();
        if let Err(e) = file.read_to_end(&mut bytes) {
            return DiskRead::Unreadable(CacheError::io(e, path));
        }
        match format::decode(&bytes) {
            Ok(decoded) => {
                let compute_nanos = decoded.compute_nanos;
                let _ = file.set_modified(SystemTime::now());
                DiskRead::Found {
                    file: bytes,
                    compute_nanos,
                }
            }
            Err(Rejection::NewerVersion(_)) => DiskRead::Foreign,
            Err(reason) => {
                drop(file);
                let error = CacheError::Malformed {
                    reason: reason.to_string(),
                    path: path.clone(),
                };
                self.remove(&path);
                DiskRead::Dropped(error)
            }
        }
    }

    /// Deletes a rejected entry (payload did not decode as the requested type, or bad header).
    pub fn discard(&self, stem: &str) {
        self.remove(&self.path_of(stem));
    }

    fn remove(&self, path: &Path) {
        if let Ok(meta) = fs::metadata(path)
            && fs::remove_file(path).is_ok()
            && let Ok(mut known) = self.known_bytes.lock()
            && let Some(b) = known.as_mut()
        {
            *b = b.saturating_sub(meta.len());
        }
    }

    /// Writes the entry `stem` atomically: a temp file in the same directory, then a rename,
    /// so readers (in any process) see the old entry or the whole new one, never a part.
    /// Returns the bytes written.
    ///
    /// No fsync: after a power cut the entry may be empty or torn, which its checksum catches;
    /// a cache can lose entries but must not pay a disk flush per write.
    pub fn write(&self, stem: &str, payload: &[u8], compute_nanos: u64) -> Result<u64, CacheError> {
        let path = self.path_of(stem);
        let tmp = self.dir.join(format!(
            "{TMP_PREFIX}{}-{}-{stem}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let bytes = format::encode(payload, compute_nanos);
        let written = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(&bytes)?;
            drop(file);
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(CacheError::io(e, path));
        }
        let len = bytes.len() as u64;
        if let Ok(mut known) = self.known_bytes.lock()
            && let Some(b) = known.as_mut()
        {
            // An overwrite is counted twice until the next scan; that only makes eviction
            // scan a little early.
            *b += len;
        }
        Ok(len)
    }

    /// Lists entry files; removes stale temp files on the way.
    fn list(&self) -> Result<Vec<Listed>, CacheError> {
        let read_dir = fs::read_dir(&self.dir).map_err(|e| CacheError::io(e, &self.dir))?;
        let now = SystemTime::now();
        let mut out = Vec::new();
        for item in read_dir.flatten() {
            let path = item.path();
            let Ok(meta) = item.metadata() else { continue };
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let name = item.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TMP_PREFIX) {
                if now.duration_since(used).is_ok_and(|age| age > STALE_TMP) {
                    let _ = fs::remove_file(&path);
                }
                continue;
            }
            if meta.is_file() && path.extension().is_some_and(|e| e == ENTRY_EXT) {
                out.push(Listed {
                    path,
                    companion: None,
                    bytes: meta.len(),
                    used,
                });
            }
        }
        out.extend(self.list_proxies());
        Ok(out)
    }

    /// Seek proxies in the proxy subdirectory: each video with its index, sized together,
    /// last used when either was last touched.
    fn list_proxies(&self) -> Vec<Listed> {
        let dir = self.dir.join(PROXY_DIR);
        let Ok(read_dir) = fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in read_dir.flatten() {
            let path = item.path();
            let Ok(meta) = item.metadata() else { continue };
            if !meta.is_file() || path.extension().is_none_or(|e| e != PROXY_VIDEO_EXT) {
                continue;
            }
            let index = path.with_extension(PROXY_INDEX_EXT);
            let index_meta = fs::metadata(&index).ok();
            let modified = |m: &fs::Metadata| m.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let used = index_meta
                .as_ref()
                .map_or(modified(&meta), |m| modified(m).max(modified(&meta)));
            out.push(Listed {
                path,
                bytes: meta.len() + index_meta.as_ref().map_or(0, fs::Metadata::len),
                companion: index_meta.map(|_| index),
                used,
            });
        }
        out
    }

    /// Counts entries and bytes on disk (what `beatcut cache stats` shows in a new process).
    pub fn usage(&self) -> Result<Usage, CacheError> {
        let listed = self.list()?;
        let proxies: Vec<&Listed> = listed.iter().filter(|l| l.companion.is_some()).collect();
        let usage = Usage {
            entries: listed.len() as u64,
            bytes: listed.iter().map(|l| l.bytes).sum(),
            proxies: proxies.len() as u64,
            proxy_bytes: proxies.iter().map(|l| l.bytes).sum(),
        };
        if let Ok(mut known) = self.known_bytes.lock() {
            *known = Some(usage.bytes);
        }
        Ok(usage)
    }

    /// If the store is over its bound, deletes least recently used entries until it is under
    /// 90 % of it. Returns how many entries were evicted.
    pub fn evict_if_needed(&self) -> Result<u64, CacheError> {
        let known = self.known_bytes.lock().ok().and_then(|k| *k);
        let known = match known {
            Some(b) => b,
            None => self.usage()?.bytes,
        };
        if known <= self.max_bytes {
            return Ok(0);
        }
        let mut listed = self.list()?;
        let mut total: u64 = listed.iter().map(|l| l.bytes).sum();
        let target = self.max_bytes / 100 * EVICT_TO_PERCENT;
        let mut evicted = 0;
        if total > self.max_bytes {
            // Oldest first: mtime is touched on every read, so it is the last use.
            listed.sort_by_key(|l| l.used);
            for entry in &listed {
                if total <= target {
                    break;
                }
                if let Some(companion) = &entry.companion {
                    let _ = fs::remove_file(companion);
                }
                match fs::remove_file(&entry.path) {
                    Ok(()) => {
                        total = total.saturating_sub(entry.bytes);
                        evicted += 1;
                    }
                    // Another process evicted it first.
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        total = total.saturating_sub(entry.bytes);
                    }
                    Err(e) => {
                        tracing::warn!("cannot evict cache entry: {e}: {}", entry.path.display())
                    }
                }
            }
        }
        if let Ok(mut k) = self.known_bytes.lock() {
            *k = Some(total);
        }
        Ok(evicted)
    }

    /// Deletes every entry and temp file; returns the bytes freed.
    pub fn clear(&self) -> Result<u64, CacheError> {
        let read_dir = fs::read_dir(&self.dir).map_err(|e| CacheError::io(e, &self.dir))?;
        let mut freed = 0;
        for item in read_dir.flatten() {
            let path = item.path();
            let name = item.file_name();
            let is_ours = name.to_string_lossy().starts_with(TMP_PREFIX)
                || path.extension().is_some_and(|e| e == ENTRY_EXT);
            if !is_ours {
                continue;
            }
            let len = item.metadata().map(|m| m.len()).unwrap_or(0);
            match fs::remove_file(&path) {
                Ok(()) => freed += len,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(CacheError::io(e, path)),
            }
        }
        for proxy in self.list_proxies() {
            for path in std::iter::once(&proxy.path).chain(proxy.companion.as_ref()) {
                let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                match fs::remove_file(path) {
                    Ok(()) => freed += len,
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(CacheError::io(e, path)),
                }
            }
        }
        if let Ok(mut known) = self.known_bytes.lock() {
            *known = Some(0);
        }
        Ok(freed)
    }
}
