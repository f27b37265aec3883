//! Seek proxies: an all-intra, low-resolution copy of a clip, so the preview can show the
//! exact frame at any time after decoding one small picture instead of a whole long GOP.
//!
//! A proxy is two files in the proxy directory, named by the source's content key (so a
//! renamed or moved clip still finds its proxy) and the proxy settings:
//! - `<key>-<settings>.mp4`: H.264, every frame a keyframe, frames in source order;
//! - `<key>-<settings>.idx`: a [`ProxyIndex`] (MessagePack) with the source time of every
//!   proxy frame. The writer stamps frames on its own frame grid, so the index is what ties
//!   proxy frame `i` to the source frame it shows, for VFR sources too.
//!
//! Both are written under temporary names and renamed when complete (the index first, the
//! video last), and a proxy counts as present only when both load: a cancelled or failed
//! generation never leaves a file that looks finished.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    MediaError, Mp4Writer, PixelLayout, VideoDecodeOptions, VideoDecoder, VideoEncodeSettings,
    VideoFrame, temporary_path_for,
};
use crate::cache::ContentKey;
use crate::jobs::JobContext;
use crate::time::{FrameRate, Ticks};

/// Bumped whenever the proxy files change meaning; older proxies are then regenerated
/// (the version is part of the file name).
pub const PROXY_FORMAT_VERSION: u32 = 1;

/// Index files larger than this are refused as damaged (an hour at 240 fps is ~7 MB).
const MAX_INDEX_BYTES: u64 = 64 << 20;

/// How long generation sleeps between checks while the preview is busy decoding.
const YIELD_SLEEP: Duration = Duration::from_millis(5);

/// How a proxy is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySettings {
    /// Box the proxy frames are scaled to fit (aspect kept, never scaled up).
    pub box_size: (u32, u32),
    /// x264 constant rate factor.
    pub crf: u8,
    /// x264 speed preset.
    pub preset: String,
    /// Decoder threads for the source (0: FFmpeg chooses).
    pub decode_threads: usize,
    /// Encoder threads (0: automatic).
    pub encode_threads: usize,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            box_size: (640, 360),
            crf: 23,
            preset: "ultrafast".into(),
            decode_threads: 2,
            encode_threads: 1,
        }
    }
}

impl ProxySettings {
    /// The part of the file name that changes with the settings.
    fn tag(&self) -> String {
        format!(
            "v{PROXY_FORMAT_VERSION}-{}x{}-crf{}",
            self.box_size.0, self.box_size.1, self.crf
        )
    }
}

/// Which source time each proxy frame shows (the `.idx` file of a proxy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyIndex {
    /// Format version ([`PROXY_FORMAT_VERSION`] when written).
    #[serde(default)]
    pub version: u32,
    /// The proxy's frame grid as (frames, per seconds): proxy frame `i` starts at
    /// `FrameRate { num, den }.ticks_of_frame(i)` in the proxy file.
    pub grid: (i32, i32),
    /// Proxy picture width.
    pub width: u32,
    /// Proxy picture height.
    pub height: u32,
    /// Start time in the source of each proxy frame, strictly increasing.
    pub source_times: Vec<Ticks>,
}

impl ProxyIndex {
    /// The proxy's frame grid.
    pub fn grid(&self) -> FrameRate {
        FrameRate {
            num: self.grid.0,
            den: self.grid.1,
        }
    }

    /// The proxy frame shown at source time `time` (the last one starting at or before
    /// it); `None` before the first frame.
    pub fn frame_for(&self, time: Ticks) -> Option<usize> {
        self.source_times
            .partition_point(|&t| t <= time)
            .checked_sub(1)
    }

    /// The proxy frame index of a frame decoded from the proxy at proxy time `time`.
    pub fn frame_of_proxy_time(&self, time: Ticks) -> Option<usize> {
        usize::try_from(self.grid().nearest_frame(time))
            .ok()
            .filter(|&i| i < self.source_times.len())
    }

    /// Start time in the proxy file of proxy frame `index`.
    pub fn proxy_time_of(&self, index: usize) -> Ticks {
        self.grid().ticks_of_frame(index as i64)
    }

    /// Source start time of proxy frame `index`.
    pub fn source_time_of(&self, index: usize) -> Option<Ticks> {
        self.source_times.get(index).copied()
    }
}

/// A finished proxy on disk.
#[derive(Debug, Clone)]
pub struct Proxy {
    /// The all-intra video file.
    pub video: PathBuf,
    /// Its frame-to-source-time index.
    pub index: Arc<ProxyIndex>,
}

/// Where proxies live and how they are made.
#[derive(Debug, Clone)]
pub struct ProxyStore {
    dir: PathBuf,
    settings: ProxySettings,
}

impl ProxyStore {
    /// Proxies in `dir` (created when the first one is written), made with `settings`.
    pub fn new(dir: impl Into<PathBuf>, settings: ProxySettings) -> Self {
        Self {
            dir: dir.into(),
            settings,
        }
    }

    /// The `proxies` folder of the analysis cache directory (see
    /// [`crate::cache::Cache::default_dir`]); `None` when there is no cache directory.
    pub fn default_dir() -> Option<PathBuf> {
        crate::cache::Cache::default_dir()
            .ok()
            .map(|dir| dir.join("proxies"))
    }

    /// The proxy directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings proxies are made with.
    pub fn settings(&self) -> &ProxySettings {
        &self.settings
    }

    /// Paths of the video and index files of the proxy for content `key`.
    pub fn paths(&self, key: &ContentKey) -> (PathBuf, PathBuf) {
        let stem = format!("{key}-{}", self.settings.tag());
        (
            self.dir.join(format!("{stem}.mp4")),
            self.dir.join(format!("{stem}.idx")),
        )
    }

    /// The finished proxy for content `key`, if both its files are there and the index
    /// reads back; a damaged index is treated as missing (generation replaces it).
    pub fn find(&self, key: &ContentKey) -> Option<Proxy> {
        let (video, index_path) = self.paths(key);
        if !video.is_file() {
            return None;
        }
        let index = read_index(&index_path)?;
        // Marks it used: the cache evicts the least recently used proxies first.
        if let Ok(file) = std::fs::File::options().append(true).open(&index_path) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
        Some(Proxy {
            video,
            index: Arc::new(index),
        })
    }

    /// Makes the proxy of `source` (content `key`): decodes every frame into the proxy box,
    /// encodes it all-intra and writes both files atomically. Checks `ctx` for cancellation
    /// once per frame (a cancelled run leaves no file behind) and reports progress in
    /// frames. While `busy` is set (the preview is decoding), it pauses so interactive
    /// decoding gets the cores.
    pub fn generate(
        &self,
        source: &Path,
        key: &ContentKey,
        ctx: &JobContext,
        busy: Option<&AtomicBool>,
    ) -> Result<Proxy, MediaError> {
        let (video_path, index_path) = self.paths(key);
        let mut decoder = VideoDecoder::open(
            source,
            VideoDecodeOptions {
                width: self.settings.box_size.0,
                height: self.settings.box_size.1,
                layout: PixelLayout::Yuv420p,
                threads: self.settings.decode_threads,
                ..Default::default()
            },
        )?;
        let grid = decoder.frame_rate();
        if grid.num <= 0 || grid.den <= 0 {
            return Err(MediaError::Unsupported {
                what: format!("frame rate {}/{}", grid.num, grid.den),
                path: source.to_path_buf(),
            });
        }
        let total = u64::try_from(decoder.duration() / grid.frame_ticks().max(1)).unwrap_or(0);
        let mut writer: Option<(Mp4Writer, (u32, u32))> = None;
        let mut frame = VideoFrame {
            time: 0,
            width: 0,
            height: 0,
            layout: PixelLayout::Yuv420p,
            data: Vec::new(),
            key: false,
        };
        let mut source_times: Vec<Ticks> = Vec::new();
        loop {
            while busy.is_some_and(|b| b.load(Ordering::Relaxed)) && !ctx.is_cancelled() {
                std::thread::sleep(YIELD_SLEEP);
            }
            if ctx.is_cancelled() {
                return Err(MediaError::Cancelled);
            }
            if !decoder.next_frame_into(&mut frame)? {
                break;
            }
            // The index must increase strictly to map times to frames; a repeated or
            // backwards timestamp (a broken stream) shows the previous frame instead.
            if source_times.last().is_some_and(|&last| frame.time <= last) {
                continue;
            }
            let (writer, size) = match &mut writer {
                Some(open) => open,
                None => writer.insert((
                    Mp4Writer::create(
                        &video_path,
                        VideoEncodeSettings {
                            width: frame.width,
                            height: frame.height,
                            fps: grid,
                            crf: self.settings.crf,
                            preset: self.settings.preset.clone(),
                            threads: self.settings.encode_threads,
                            gop: 1,
                        },
                        None,
                    )?,
                    (frame.width, frame.height),
                )),
            };
            if (frame.width, frame.height) != *size {
                return Err(MediaError::Unsupported {
                    what: "picture size change mid-stream in a proxy".into(),
                    path: source.to_path_buf(),
                });
            }
            writer.push_video_yuv420p(&frame.data)?;
            source_times.push(frame.time);
            ctx.progress(source_times.len() as u64, total, "proxy");
        }
        let Some((writer, (width, height))) = writer else {
            return Err(MediaError::Decode {
                path: source.to_path_buf(),
                reason: "no frame decoded for the proxy".into(),
            });
        };
        let index = ProxyIndex {
            version: PROXY_FORMAT_VERSION,
            grid: (grid.num, grid.den),
            width,
            height,
            source_times,
        };
        write_index(&index_path, &index)?;
        if let Err(e) = writer.finish() {
            let _ = std::fs::remove_file(&index_path);
            return Err(e);
        }
        Ok(Proxy {
            video: video_path,
            index: Arc::new(index),
        })
    }
}

fn read_index(path: &Path) -> Option<ProxyIndex> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_INDEX_BYTES {
        tracing::warn!("proxy index too large, ignored: {}", path.display());
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    match rmp_serde::from_slice::<ProxyIndex>(&bytes) {
        Ok(index)
            if index.version == PROXY_FORMAT_VERSION
                && !index.source_times.is_empty()
                && index.grid.0 > 0
                && index.grid.1 > 0
                && index
                    .source_times
                    .windows(2)
                    .all(|w| matches!(w, [a, b] if a < b)) =>
        {
            Some(index)
        }
        Ok(_) => {
            tracing::warn!(
                "proxy index of another version or damaged, ignored: {}",
                path.display()
            );
            None
        }
        Err(e) => {
            tracing::warn!("proxy index unreadable ({e}), ignored: {}", path.display());
            None
        }
    }
}

fn write_index(path: &Path, index: &ProxyIndex) -> Result<(), MediaError> {
    let fail = |reason: String| MediaError::Encode {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = rmp_serde::to_vec_named(index).map_err(|e| fail(format!("cannot encode ({e})")))?;
    let temp = temporary_path_for(path);
    std::fs::write(&temp, bytes).map_err(|e| fail(format!("cannot write ({e})")))?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        fail(format!("cannot rename ({e})"))
    })
}
