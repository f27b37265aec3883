//! The media layer: probe files, decode audio to PCM, decode and seek video frames, encode MP4.
//!
//! Everything here talks to FFmpeg (through `ffmpeg-next`) or Symphonia; the rest of the
//! engine sees plain Rust values with integer tick timestamps measured from the first frame.

mod audio;
mod encode;
mod error;
mod picture;
mod probe;
pub mod proxy;
mod rotate;
mod video;

pub use audio::{DecodedAudio, decode_audio};
pub use encode::{AudioEncodeSettings, Mp4Writer, VideoEncodeSettings, temporary_path_for};
pub use error::MediaError;
pub use picture::{CropScaler, Picture, Plane, PlaneMut};
pub use probe::{
    AudioStreamInfo, MediaInfo, StreamInfo, VideoStreamInfo, probe, probe_with_symphonia,
};
pub use proxy::{Proxy, ProxyIndex, ProxySettings, ProxyStore};
pub use video::{
    PixelLayout, StreamOpener, VideoDecodeOptions, VideoDecoder, VideoFrame, keyframe_seek_target,
};

use std::sync::Once;

/// Initialises FFmpeg once per process and keeps its console logging quiet
/// (we report problems ourselves, naming the file).
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if let Err(error) = ffmpeg_next::init() {
            tracing::error!("FFmpeg failed to initialise: {error}");
        }
        let level = if tracing::enabled!(tracing::Level::DEBUG) {
            ffmpeg_next::log::Level::Warning
        } else {
            ffmpeg_next::log::Level::Fatal
        };
        ffmpeg_next::log::set_level(level);
    });
}
