//! Probing: what a file holds (container, duration, streams) without decoding it.

use std::path::{Path, PathBuf};

use ffmpeg::media::Type as MediaType;
use ffmpeg_next as ffmpeg;
use serde::Serialize;

use super::MediaError;
use super::rotate::rotation_of_stream;
use crate::time::{FrameRate, Ticks, secs_from_ticks, ticks_from_timebase};

/// Video packets inspected to decide whether the frame rate varies.
const VFR_SCAN_PACKETS: usize = 300;

/// Everything known about a media file before decoding.
#[derive(Debug, Clone, Serialize)]
pub struct MediaInfo {
    /// The probed file.
    pub path: PathBuf,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Container short name as FFmpeg calls it (for example `mov,mp4,m4a,3gp,3g2,mj2`).
    pub container: String,
    /// Container long name.
    pub container_long: String,
    /// Duration of the longest stream.
    pub duration: Ticks,
    /// Start time of the container (non-zero in MPEG-TS, for example).
    pub start_time: Ticks,
    /// Every stream in file order.
    pub streams: Vec<StreamInfo>,
    /// Problems found that did not stop probing.
    pub warnings: Vec<String>,
}

/// One stream of a file.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StreamInfo {
    /// A picture stream.
    Video(VideoStreamInfo),
    /// A sound stream.
    Audio(AudioStreamInfo),
    /// Subtitles, data, attachments.
    Other {
        /// Stream index in the container.
        index: usize,
        /// Codec name.
        codec: String,
    },
}

/// A video stream's properties.
#[derive(Debug, Clone, Serialize)]
pub struct VideoStreamInfo {
    /// Stream index in the container.
    pub index: usize,
    /// Codec short name (h264, hevc, vp9 ...).
    pub codec: String,
    /// Coded width in pixels.
    pub width: u32,
    /// Coded height in pixels.
    pub height: u32,
    /// Width as displayed (rotation and sample aspect applied).
    pub display_width: u32,
    /// Height as displayed (rotation and sample aspect applied).
    pub display_height: u32,
    /// Clockwise rotation to apply for display, degrees (0, 90, 180, 270).
    pub rotation: u32,
    /// Real (average) frame rate.
    pub frame_rate: FrameRate,
    /// True when frame durations vary (phone footage, screen recordings).
    pub variable_frame_rate: bool,
    /// Number of frames (from the container, or estimated from duration).
    pub frame_count: u64,
    /// First presentation time in the container's clock.
    pub start_time: Ticks,
    /// Stream duration.
    pub duration: Ticks,
    /// Pixel format name.
    pub pixel_format: String,
    /// A picture attached to the file (an album cover), not footage.
    pub attached_picture: bool,
}

impl VideoStreamInfo {
    /// Display aspect ratio (width / height) after rotation.
    pub fn display_aspect(&self) -> f64 {
        if self.display_height == 0 {
            0.0
        } else {
            self.display_width as f64 / self.display_height as f64
        }
    }
}

/// An audio stream's properties.
#[derive(Debug, Clone, Serialize)]
pub struct AudioStreamInfo {
    /// Stream index in the container.
    pub index: usize,
    /// Codec short name.
    pub codec: String,
    /// Samples per second.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u16,
    /// First presentation time in the container's clock.
    pub start_time: Ticks,
    /// Stream duration.
    pub duration: Ticks,
}

impl MediaInfo {
    /// The main video stream, if any: the first that is footage, else an attached picture.
    pub fn video(&self) -> Option<&VideoStreamInfo> {
        let mut videos = self.streams.iter().filter_map(|s| match s {
            StreamInfo::Video(v) => Some(v),
            _ => None,
        });
        let first = videos.clone().next();
        videos.find(|v| !v.attached_picture).or(first)
    }

    /// The main audio stream, if any.
    pub fn audio(&self) -> Option<&AudioStreamInfo> {
        self.streams.iter().find_map(|s| match s {
            StreamInfo::Audio(a) => Some(a),
            _ => None,
        })
    }

    /// Whether the file is footage: it has a picture stream that is not an audio file's
    /// cover art (MP3s and M4As often carry album art as a one-picture "video" stream). A
    /// still image on its own is footage, held as one shot.
    pub fn is_footage(&self) -> bool {
        self.video().is_some_and(|v| {
            let one_picture = v.attached_picture
                || (matches!(v.codec.as_str(), "mjpeg" | "png" | "bmp") && v.frame_count <= 1);
            v.width > 0 && !(one_picture && self.audio().is_some())
        })
    }

    /// The flat JSON object `beatcut probe --json` prints (seconds at the edge).
    pub fn to_json(&self) -> serde_json::Value {
        let report = ProbeReport {
            path: self.path.display().to_string(),
            size_bytes: self.size_bytes,
            container: &self.container,
            duration_s: secs_from_ticks(self.duration),
            start_s: secs_from_ticks(self.start_time),
            streams: self.streams.iter().map(StreamReport::of).collect(),
            warnings: &self.warnings,
        };
        serde_json::to_value(report).unwrap_or_default()
    }
}

/// What `beatcut probe --json` prints for a file.
#[derive(serde::Serialize)]
struct ProbeReport<'a> {
    path: String,
    size_bytes: u64,
    container: &'a str,
    duration_s: f64,
    start_s: f64,
    streams: Vec<StreamReport<'a>>,
    warnings: &'a [String],
}

/// One stream in [`ProbeReport`], tagged by `kind`.
#[derive(serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum StreamReport<'a> {
    Video {
        index: usize,
        codec: &'a str,
        width: u32,
        height: u32,
        display_width: u32,
        display_height: u32,
        display_aspect: f64,
        rotation: u32,
        fps: f64,
        variable_frame_rate: bool,
        frame_count: u64,
        start_s: f64,
        duration_s: f64,
        pixel_format: &'a str,
        attached_picture: bool,
    },
    Audio {
        index: usize,
        codec: &'a str,
        sample_rate: u32,
        channels: u16,
        start_s: f64,
        duration_s: f64,
    },
    Other {
        index: usize,
        codec: &'a str,
    },
}

impl<'a> StreamReport<'a> {
    fn of(stream: &'a StreamInfo) -> Self {
        match stream {
            StreamInfo::Video(v) => Self::Video {
                index: v.index,
                codec: &v.codec,
                width: v.width,
                height: v.height,
                display_width: v.display_width,
                display_height: v.display_height,
                display_aspect: round3(v.display_aspect()),
                rotation: v.rotation,
                fps: round3(v.frame_rate.as_f64()),
                variable_frame_rate: v.variable_frame_rate,
                frame_count: v.frame_count,
                start_s: secs_from_ticks(v.start_time),
                duration_s: secs_from_ticks(v.duration),
                pixel_format: &v.pixel_format,
                attached_picture: v.attached_picture,
            },
            StreamInfo::Audio(a) => Self::Audio {
                index: a.index,
                codec: &a.codec,
                sample_rate: a.sample_rate,
                channels: a.channels,
                start_s: secs_from_ticks(a.start_time),
                duration_s: secs_from_ticks(a.duration),
            },
            StreamInfo::Other { index, codec } => Self::Other {
                index: *index,
                codec,
            },
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Opens `path` with FFmpeg's demuxer and probes its streams, mapping failures to a precise
/// error.
pub(crate) fn open_input(path: &Path) -> Result<ffmpeg::format::context::Input, MediaError> {
    super::init();
    MediaError::check_readable(path)?;
    probe_streams(path, open_header_only(path)?)
}

/// Opens `path` to decode its video stream: an MP4/MOV whose header states all the video
/// stream's facts a decoder needs (a sample index, size, time base, start, duration, frame
/// rate, reordering delay) is not probed (probing decodes the first frames of every stream:
/// for an H.264 stream without B-frames, seven pictures); any other file is, as
/// [`open_input`] does.
pub(crate) fn open_input_for_video(
    path: &Path,
) -> Result<ffmpeg::format::context::Input, MediaError> {
    super::init();
    MediaError::check_readable(path)?;
    let input = open_header_only(path)?;
    if header_states_video(&input) {
        return Ok(input);
    }
    probe_streams(path, input)
}

/// Whether `input` is an MP4/MOV whose best video stream's facts are all in the header.
fn header_states_video(input: &ffmpeg::format::context::Input) -> bool {
    if !input.format().name().split(',').any(|name| name == "mov") {
        return false;
    }
    let Some(stream) = input.streams().best(ffmpeg::media::Type::Video) else {
        return false;
    };
    let rate = stream.avg_frame_rate();
    let parameters = stream.parameters();
    // SAFETY: the parameters live as long as `input`; these read fields.
    let (width, height) = unsafe {
        let raw = parameters.as_ptr();
        ((*raw).width, (*raw).height)
    };
    indexes_every_sample(&stream)
        && width > 0
        && height > 0
        && rate.numerator() > 0
        && rate.denominator() > 0
        && valid_ts(stream.start_time()).is_some()
        && valid_ts(stream.duration()).is_some()
        && parameters.id() != ffmpeg::codec::Id::None
}

/// Whether the demuxer's index of `stream` lists every sample (as MP4/MOV's does once the
/// header is read): each picture can be sought to, and no keyframe hides between entries.
pub(crate) fn indexes_every_sample(stream: &ffmpeg::format::stream::Stream) -> bool {
    // SAFETY: the stream pointer is valid while its input lives; this reads a count.
    let entries = unsafe { ffmpeg::ffi::avformat_index_get_entries_count(stream.as_ptr()) };
    let samples = stream.frames();
    samples > 0 && i64::from(entries) >= samples
}

/// Probes the streams of an input opened header-only.
fn probe_streams(
    path: &Path,
    mut input: ffmpeg::format::context::Input,
) -> Result<ffmpeg::format::context::Input, MediaError> {
    // SAFETY: the context is open and owned by `input`, which closes it when dropped (also
    // when probing fails).
    let probed =
        unsafe { ffmpeg::ffi::avformat_find_stream_info(input.as_mut_ptr(), std::ptr::null_mut()) };
    if probed < 0 {
        return Err(MediaError::Malformed {
            path: path.to_path_buf(),
            reason: describe_ffmpeg_error(&ffmpeg::Error::from(probed)),
        });
    }
    Ok(input)
}

/// Opens `path` and reads its container header without probing the streams (no frame is
/// decoded).
pub(crate) fn open_header_only(path: &Path) -> Result<ffmpeg::format::context::Input, MediaError> {
    let name = ffmpeg_path(path).ok_or_else(|| MediaError::Malformed {
        path: path.to_path_buf(),
        reason: "its name holds a NUL byte".into(),
    })?;
    let mut context = std::ptr::null_mut();
    // SAFETY: `name` outlives the call. On success FFmpeg hands over an opened context that
    // `Input::wrap` owns and closes on drop; a failed open frees what it allocated.
    let opened = unsafe {
        ffmpeg::ffi::avformat_open_input(
            &mut context,
            name.as_ptr(),
            std::ptr::null(),
            std::ptr::null_mut(),
        )
    };
    if opened < 0 || context.is_null() {
        return Err(MediaError::Malformed {
            path: path.to_path_buf(),
            reason: describe_ffmpeg_error(&ffmpeg::Error::from(opened.min(-1))),
        });
    }
    // SAFETY: as above: an opened context, owned from here on.
    Ok(unsafe { ffmpeg::format::context::Input::wrap(context) })
}

/// `path` as FFmpeg takes it: the bytes of the name as they are on Unix, where a file name
/// need not be UTF-8 (FFmpeg's Rust wrapper would panic on such a name); `None` for a name
/// with a NUL byte, which no C API can take.
fn ffmpeg_path(path: &Path) -> Option<std::ffi::CString> {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_str()?.as_bytes().to_vec();
    std::ffi::CString::new(bytes).ok()
}

/// A short human reason for an FFmpeg error.
pub(crate) fn describe_ffmpeg_error(error: &ffmpeg::Error) -> String {
    match error {
        ffmpeg::Error::InvalidData => "invalid data found when processing input".into(),
        ffmpeg::Error::Eof => "unexpected end of file".into(),
        other => other.to_string(),
    }
}

/// Reads the container and stream headers of `path` and describes every stream.
pub fn probe(path: &Path) -> Result<MediaInfo, MediaError> {
    let size_bytes = MediaError::check_readable(path)?;
    match probe_with_ffmpeg(path, size_bytes) {
        Ok(info) => Ok(info),
        // FFmpeg refuses some files symphonia reads (a Vorbis setup header FFmpeg 5.1 fails
        // on, for one): symphonia gets its turn, and when both refuse the message names both.
        Err(
            ffmpeg_error @ (MediaError::Malformed { .. }
            | MediaError::Unsupported { .. }
            | MediaError::Decode { .. }),
        ) => match probe_with_symphonia(path, size_bytes) {
            Ok(mut info) => {
                info.warnings.push(format!(
                    "FFmpeg could not read the file ({}); read with symphonia",
                    ffmpeg_error.reason()
                ));
                Ok(info)
            }
            Err(symphonia_error) => Err(MediaError::Malformed {
                path: path.to_path_buf(),
                reason: format!(
                    "FFmpeg: {}; symphonia: {}",
                    ffmpeg_error.reason(),
                    symphonia_error.reason()
                ),
            }),
        },
        Err(other) => Err(other),
    }
}

/// Audio-only description of `path` from symphonia's demuxer: the fallback when FFmpeg
/// cannot open a file.
pub fn probe_with_symphonia(path: &Path, size_bytes: u64) -> Result<MediaInfo, MediaError> {
    use symphonia::core::formats::TrackType;

    let format = super::audio::open_with_symphonia(path)?;
    let no_audio = || MediaError::NoStream {
        path: path.to_path_buf(),
        kind: "audio",
    };
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(no_audio)?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(no_audio)?;
    let codec = symphonia::default::get_codecs()
        .get_audio_decoder(params.codec)
        .map_or_else(
            || format!("{:?}", params.codec),
            |d| d.codec.info.short_name.to_string(),
        );
    let sample_rate = params.sample_rate.unwrap_or(0);
    let duration = match (track.num_frames, sample_rate) {
        (Some(frames), rate) if rate > 0 => crate::time::ticks_from_samples(frames as i64, rate),
        _ => 0,
    };
    let info = format.format_info();
    Ok(MediaInfo {
        path: path.to_path_buf(),
        size_bytes,
        container: info.short_name.to_string(),
        container_long: info.long_name.to_string(),
        duration,
        start_time: 0,
        streams: vec![StreamInfo::Audio(AudioStreamInfo {
            index: track.id as usize,
            codec,
            sample_rate,
            channels: params.channels.as_ref().map_or(0, |c| c.count() as u16),
            start_time: 0,
            duration,
        })],
        warnings: Vec::new(),
    })
}

/// Describes `path` with FFmpeg's demuxer.
fn probe_with_ffmpeg(path: &Path, size_bytes: u64) -> Result<MediaInfo, MediaError> {
    let mut input = open_input(path)?;
    let mut warnings = Vec::new();
    let mut streams = Vec::new();
    let mut first_video = None;
    for stream in input.streams() {
        let params = stream.parameters();
        let codec = params.id().name().to_string();
        let tb = stream.time_base();
        let start_time = valid_ts(stream.start_time())
            .map(|t| ticks_from_timebase(t, tb.numerator(), tb.denominator()))
            .unwrap_or(0);
        let duration = valid_ts(stream.duration())
            .map(|t| ticks_from_timebase(t, tb.numerator(), tb.denominator()))
            .unwrap_or(0);
        match params.medium() {
            MediaType::Video => {
                let context = ffmpeg::codec::context::Context::from_parameters(params.clone());
                let decoder = context.and_then(|c| c.decoder().video());
                let (width, height, pixel_format, sar) = match &decoder {
                    Ok(d) => (
                        d.width(),
                        d.height(),
                        format!("{:?}", d.format()).to_lowercase(),
                        d.aspect_ratio(),
                    ),
                    Err(e) => {
                        warnings.push(format!("video stream {}: {e}", stream.index()));
                        (0, 0, String::new(), ffmpeg::Rational(1, 1))
                    }
                };
                if ffmpeg::decoder::find(params.id()).is_none() {
                    warnings.push(format!("no decoder for video codec {codec}"));
                }
                let rotation = rotation_of_stream(&stream);
                let avg = stream.avg_frame_rate();
                let real = stream.rate();
                let rate = if avg.numerator() > 0 && avg.denominator() > 0 {
                    avg
                } else {
                    real
                };
                let frame_rate = if rate.denominator() > 0 && rate.numerator() > 0 {
                    FrameRate::from_f64(rate.numerator() as f64 / rate.denominator() as f64)
                } else {
                    FrameRate::whole(0)
                };
                let sar_f = if sar.numerator() > 0 && sar.denominator() > 0 {
                    sar.numerator() as f64 / sar.denominator() as f64
                } else {
                    1.0
                };
                let shown_width = (width as f64 * sar_f).round() as u32;
                let (display_width, display_height) = if rotation % 180 == 90 {
                    (height, shown_width)
                } else {
                    (shown_width, height)
                };
                let frame_count = match stream.frames() {
                    n if n > 0 => n as u64,
                    _ => (crate::time::secs_from_ticks(duration) * frame_rate.as_f64()).round()
                        as u64,
                };
                let attached_picture = stream
                    .disposition()
                    .contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC);
                if first_video.is_none() && !attached_picture {
                    first_video = Some(streams.len());
                }
                streams.push(StreamInfo::Video(VideoStreamInfo {
                    index: stream.index(),
                    codec,
                    width,
                    height,
                    display_width,
                    display_height,
                    rotation,
                    frame_rate,
                    variable_frame_rate: false,
                    frame_count,
                    start_time,
                    duration,
                    pixel_format,
                    attached_picture,
                }));
            }
            MediaType::Audio => {
                let context = ffmpeg::codec::context::Context::from_parameters(params.clone());
                let (sample_rate, channels) = match context.and_then(|c| c.decoder().audio()) {
                    Ok(d) => (d.rate(), d.channels()),
                    Err(e) => {
                        warnings.push(format!("audio stream {}: {e}", stream.index()));
                        (0, 0)
                    }
                };
                streams.push(StreamInfo::Audio(AudioStreamInfo {
                    index: stream.index(),
                    codec,
                    sample_rate,
                    channels,
                    start_time,
                    duration,
                }));
            }
            _ => streams.push(StreamInfo::Other {
                index: stream.index(),
                codec,
            }),
        }
    }
    let container = input.format().name().to_string();
    let container_long = input.format().description().to_string();
    let container_duration = valid_ts(input.duration())
        .map(|d| ticks_from_timebase(d, 1, ffmpeg::ffi::AV_TIME_BASE))
        .unwrap_or(0);
    // SAFETY: `input` owns a valid AVFormatContext for its whole lifetime.
    let raw_start = unsafe { (*input.as_ptr()).start_time };
    let start_time = valid_ts(raw_start)
        .map(|t| ticks_from_timebase(t, 1, ffmpeg::ffi::AV_TIME_BASE))
        .unwrap_or(0);
    if let Some(slot) = first_video
        && let Some(StreamInfo::Video(video)) = streams.get_mut(slot)
    {
        let (vfr, measured_frames) = scan_frame_timing(&mut input, video.index);
        video.variable_frame_rate = vfr;
        if video.frame_count == 0 {
            video.frame_count = measured_frames;
        }
        if video.duration == 0 {
            video.duration = container_duration;
            video.frame_count =
                (secs_from_ticks(container_duration) * video.frame_rate.as_f64()).round() as u64;
        }
    }
    let duration = streams
        .iter()
        .map(|s| match s {
            StreamInfo::Video(v) => v.duration,
            StreamInfo::Audio(a) => a.duration,
            StreamInfo::Other { .. } => 0,
        })
        .max()
        .unwrap_or(0)
        .max(container_duration);
    if streams.is_empty() {
        return Err(MediaError::Malformed {
            path: path.to_path_buf(),
            reason: "no streams found".into(),
        });
    }
    Ok(MediaInfo {
        path: path.to_path_buf(),
        size_bytes,
        container,
        container_long,
        duration,
        start_time,
        streams,
        warnings,
    })
}

/// `None` for FFmpeg's "no timestamp" marker.
pub(crate) fn valid_ts(value: i64) -> Option<i64> {
    (value != ffmpeg::ffi::AV_NOPTS_VALUE).then_some(value)
}

/// Reads the first packets of the video stream and decides whether frame durations vary.
/// Returns (variable, packets seen).
fn scan_frame_timing(input: &mut ffmpeg::format::context::Input, index: usize) -> (bool, u64) {
    let mut pts = Vec::with_capacity(VFR_SCAN_PACKETS);
    for (stream, packet) in input.packets() {
        if stream.index() != index {
            continue;
        }
        if let Some(p) = packet.pts() {
            pts.push(p);
        }
        if pts.len() >= VFR_SCAN_PACKETS {
            break;
        }
    }
    let seen = pts.len() as u64;
    pts.sort_unstable();
    pts.dedup();
    let mut deltas: Vec<i64> = pts
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0)
        .collect();
    if deltas.len() < 4 {
        return (false, seen);
    }
    deltas.sort_unstable();
    let median = deltas[deltas.len() / 2] as f64;
    let low = deltas[deltas.len() / 20] as f64;
    let high = deltas[deltas.len() - 1 - deltas.len() / 20] as f64;
    // Container rounding jitters constant-rate timestamps by a tick or two; real VFR
    // footage has durations that differ by far more than that.
    let variable = (high - low) > (median * 0.25).max(2.0);
    (variable, seen)
}
