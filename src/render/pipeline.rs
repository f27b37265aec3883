//! The render pipeline: decode each segment's source frames ahead on a worker thread,
//! fit them to the output frame, and encode H.264 + AAC into an MP4 written atomically.
//!
//! A source frame that already is the output's size and format goes from the decoder to the
//! encoder as a shared [`Picture`], never copied; only letterboxed, cropped, scaled and
//! crossfaded frames are composed into new pictures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::bounded;

use super::RenderSettings;
use super::settings::Fit;
use crate::jobs::CancelToken;
use crate::media::{
    AudioEncodeSettings, CropScaler, DecodedAudio, MediaError, Mp4Writer, Picture, PixelLayout,
    VideoDecodeOptions, VideoDecoder, VideoEncodeSettings, decode_audio,
};
use crate::reframe::{CropPath, clamp_centre, window_share};
use crate::time::{Ticks, samples_from_ticks, secs_from_ticks};

/// Output frames decoded ahead of the encoder.
const DECODE_AHEAD_FRAMES: usize = 16;
/// Jumps further than this inside a clip seek instead of decoding forward.
const MAX_DECODE_FORWARD: Ticks = crate::time::TICKS_PER_SECOND * 2;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// Reading a source or writing the output failed.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The timeline is empty or inconsistent.
    #[error("nothing to render: {0}")]
    EmptyTimeline(String),
    /// The user cancelled; the partial file was removed.
    #[error("export cancelled; no file written")]
    Cancelled,
    /// The worker thread died.
    #[error("render worker failed: {0}")]
    Worker(String),
}

/// One edit to render: a source range placed on the output timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSegment {
    /// Index into `RenderJob::clips`.
    pub clip: usize,
    /// Source in point (from the clip's first frame).
    pub src_in: Ticks,
    /// Source out point.
    pub src_out: Ticks,
    /// Timeline start.
    pub start: Ticks,
    /// Timeline end (exclusive).
    pub end: Ticks,
    /// Crossfade from the previous segment over this many output frames (0: hard cut).
    pub crossfade_frames: u32,
    /// Where the crop window sits when the picture is cropped to fill the output
    /// ([`Fit::Crop`] or [`Fit::Reframe`]); `None` keeps the middle.
    pub crop: Option<CropPath>,
}

/// Everything to render.
#[derive(Debug, Clone)]
pub struct RenderJob {
    /// Source clips.
    pub clips: Vec<PathBuf>,
    /// The music track.
    pub music: PathBuf,
    /// Edits in timeline order, covering `0..duration`.
    pub segments: Vec<RenderSegment>,
    /// Timeline length.
    pub duration: Ticks,
    /// Where in the song the timeline starts (0: its beginning).
    pub music_start: Ticks,
    /// The music fades out over at least this long at the end (the final bar of a montage
    /// shorter than the song), whatever the settings' own fade.
    pub music_fade_out: Ticks,
}

/// How far an export has got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderProgress {
    /// Frames encoded.
    pub frames_done: u64,
    /// Frames in the whole export.
    pub frames_total: u64,
    /// Encoding speed, frames per second.
    pub fps: f64,
    /// Estimated seconds left.
    pub eta_secs: f64,
}

/// What an export produced.
#[derive(Debug, Clone)]
pub struct RenderReport {
    /// The finished file.
    pub path: PathBuf,
    /// Frames written.
    pub frames: u64,
    /// Wall time.
    pub wall_secs: f64,
    /// Video encoder used.
    pub encoder: String,
    /// Problems that did not stop the export.
    pub warnings: Vec<String>,
}

/// A decoder positioned inside one clip, serving frames for increasing source times.
struct ClipReader {
    decoder: VideoDecoder,
    current: Option<Picture>,
    upcoming: Option<Picture>,
    ended: bool,
    /// Cuts the crop window out and scales it, built for the first picture's size.
    crop: Option<CropScaler>,
}

impl ClipReader {
    /// Letterboxing decodes straight to the output's box; cropping decodes at the picture's
    /// own size and scales only the window it keeps.
    fn open(path: &Path, width: u32, height: u32, fit: Fit) -> Result<Self, MediaError> {
        let (w, h) = if fit.crops() { (0, 0) } else { (width, height) };
        let decoder = VideoDecoder::open(
            path,
            VideoDecodeOptions {
                width: w,
                height: h,
                exact_size: false,
                layout: PixelLayout::Yuv420p,
                keyframes_only: false,
                skip_loop_filter: false,
                threads: 0,
            },
        )?;
        Ok(Self {
            decoder,
            current: None,
            upcoming: None,
            ended: false,
            crop: None,
        })
    }

    /// `picture` cropped to the output's shape with the window centred at `centre` (shares
    /// of the picture) and scaled to `width`×`height`.
    fn cropped(
        &mut self,
        picture: &Picture,
        centre: (f32, f32),
        width: u32,
        height: u32,
    ) -> Result<Picture, MediaError> {
        let (pw, ph) = (picture.width(), picture.height());
        let share = window_share(pw, ph, width, height);
        let window = (
            ((share.0 * pw as f32).round() as u32).min(pw) & !1,
            ((share.1 * ph as f32).round() as u32).min(ph) & !1,
        );
        if window == (pw, ph) && (pw, ph) == (width, height) {
            return picture.share();
        }
        if self.crop.as_ref().is_none_or(|c| c.window() != window) {
            self.crop = Some(CropScaler::new(window, (width, height))?);
        }
        let (cx, cy) = clamp_centre(centre, share);
        let x = (cx * pw as f32 - window.0 as f32 / 2.0).round().max(0.0) as u32;
        let y = (cy * ph as f32 - window.1 as f32 / 2.0).round().max(0.0) as u32;
        match self.crop.as_mut() {
            Some(scaler) => scaler.run(picture, x, y),
            None => picture.share(),
        }
    }

    /// The frame shown at `time` in the clip (another reference to the decoder's pixels).
    fn frame_at(&mut self, time: Ticks) -> Result<Option<Picture>, MediaError> {
        let behind = self.current.as_ref().is_none_or(|c| time < c.time());
        let far = self
            .current
            .as_ref()
            .is_some_and(|c| time - c.time() > MAX_DECODE_FORWARD);
        if behind || far {
            self.current = self.decoder.seek_exact_picture(time)?;
            self.upcoming = None;
            self.ended = false;
        }
        loop {
            if self.upcoming.is_none() && !self.ended {
                self.upcoming = self.decoder.next_picture()?;
                if self.upcoming.is_none() {
                    self.ended = true;
                }
            }
            match &self.upcoming {
                Some(next) if next.time() <= time => {
                    self.current = self.upcoming.take();
                }
                _ => break,
            }
        }
        self.current.as_ref().map(Picture::share).transpose()
    }
}

/// Places `frame` centred on `canvas` (padding or cropping as needed).
fn paste_centred(canvas: &mut Picture, frame: &Picture) -> Result<(), MediaError> {
    for (src, mut dst) in frame.planes().into_iter().zip(canvas.planes_mut()?) {
        let (sw, sh, dw, dh) = (src.width(), src.height(), dst.width(), dst.height());
        let copy_w = sw.min(dw);
        let copy_h = sh.min(dh);
        let src_x = (sw - copy_w) / 2;
        let src_y = (sh - copy_h) / 2;
        let dst_x = (dw - copy_w) / 2;
        let dst_y = (dh - copy_h) / 2;
        for row in 0..copy_h {
            if let (Some(s), Some(d)) = (src.row(src_y + row), dst.row_mut(dst_y + row))
                && let (Some(s), Some(d)) = (
                    s.get(src_x..src_x + copy_w),
                    d.get_mut(dst_x..dst_x + copy_w),
                )
            {
                d.copy_from_slice(s);
            }
        }
    }
    Ok(())
}

/// Blends `other` over `canvas` with weight `alpha` for `other` (same size).
fn blend(canvas: &mut Picture, other: &Picture, alpha: f32) -> Result<(), MediaError> {
    let a = (alpha.clamp(0.0, 1.0) * 256.0) as u32;
    for (src, mut dst) in other.planes().into_iter().zip(canvas.planes_mut()?) {
        for y in 0..dst.height() {
            if let (Some(s), Some(d)) = (src.row(y), dst.row_mut(y)) {
                for (d, s) in d.iter_mut().zip(s) {
                    *d = ((*d as u32 * (256 - a) + *s as u32 * a) >> 8) as u8;
                }
            }
        }
    }
    Ok(())
}

/// The output picture for a source picture (`None`: black): the source itself, shared, when
/// it already fills the frame exactly; else a new picture with it centred on black.
fn fit_to_output(
    source: Option<&Picture>,
    black: &Picture,
    width: u32,
    height: u32,
) -> Result<Picture, MediaError> {
    match source {
        Some(p) if p.width() == width && p.height() == height => p.share(),
        Some(p) => {
            let mut canvas = Picture::black(width, height)?;
            paste_centred(&mut canvas, p)?;
            Ok(canvas)
        }
        None => black.share(),
    }
}

/// Renders `job` to `output`, calling `progress` about ten times a second.
pub fn render(
    job: &RenderJob,
    settings: &RenderSettings,
    output: &Path,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(RenderProgress),
) -> Result<RenderReport, RenderError> {
    let started = Instant::now();
    if job.segments.is_empty() || job.duration <= 0 {
        return Err(RenderError::EmptyTimeline(
            "the plan has no segments".into(),
        ));
    }
    let fps = settings.fps;
    let frames_total = fps.nearest_frame(job.duration).max(1) as u64;

    // Decoding starts at once, so the first segment's seek overlaps the music decode; nothing
    // is encoded until the music has decoded.
    let (frame_tx, frame_rx) = bounded::<Result<Picture, RenderError>>(DECODE_AHEAD_FRAMES);
    let producer_job = job.clone();
    let producer_settings = settings.clone();
    let producer_cancel = cancel.clone();
    let producer = std::thread::Builder::new()
        .name("render-decode".into())
        .spawn(move || {
            produce_frames(
                &producer_job,
                &producer_settings,
                frames_total,
                &producer_cancel,
                &frame_tx,
            )
        })
        .map_err(|e| RenderError::Worker(e.to_string()))?;
    let (audio, mut warnings, mut writer) = match open_output(job, settings, output, cancel) {
        Ok(opened) => opened,
        Err(error) => {
            drop(frame_rx);
            let _ = producer.join();
            return Err(error);
        }
    };
    let encoder = writer.encoder_name().to_string();

    let mut last_report = Instant::now();
    let mut audio_pos = 0usize;
    let mut frames_done = 0u64;
    let mut failure = None;
    for message in frame_rx.iter() {
        if cancel.is_cancelled() {
            break;
        }
        // Keep the audio written up to the end of this frame so the streams interleave.
        let frame_end = fps.ticks_of_frame(frames_done as i64 + 1);
        let audio_end =
            (samples_from_ticks(frame_end, settings.audio_rate) as usize * 2).min(audio.len());
        let pushed = message.and_then(|picture| {
            writer.push_picture(picture)?;
            if audio_end > audio_pos {
                writer.push_audio(&audio[audio_pos..audio_end])?;
            }
            Ok(())
        });
        if let Err(error) = pushed {
            failure = Some(error);
            break;
        }
        frames_done += 1;
        audio_pos = audio_pos.max(audio_end);
        if last_report.elapsed().as_millis() >= 100 {
            last_report = Instant::now();
            let elapsed = started.elapsed().as_secs_f64().max(1e-6);
            let speed = frames_done as f64 / elapsed;
            progress(RenderProgress {
                frames_done,
                frames_total,
                fps: speed,
                eta_secs: (frames_total - frames_done.min(frames_total)) as f64 / speed.max(1e-6),
            });
        }
    }
    drop(frame_rx);
    let produced = producer
        .join()
        .map_err(|_| RenderError::Worker("decode thread panicked".into()))?;
    if cancel.is_cancelled() {
        return Err(RenderError::Cancelled);
    }
    if let Some(error) = failure {
        return Err(error);
    }
    warnings.extend(produced?);
    if audio_pos < audio.len() {
        writer.push_audio(&audio[audio_pos..])?;
    }
    let path = writer.finish()?;
    let elapsed = started.elapsed().as_secs_f64();
    progress(RenderProgress {
        frames_done,
        frames_total,
        fps: frames_done as f64 / elapsed.max(1e-6),
        eta_secs: 0.0,
    });
    Ok(RenderReport {
        path,
        frames: frames_done,
        wall_secs: elapsed,
        encoder,
        warnings,
    })
}

/// Decodes a file's sound in stereo at the export's rate: the export decodes each file once
/// per export; the editor's preview keeps what it decoded between mixes.
pub type AudioSource<'a> = dyn FnMut(&Path) -> Result<Arc<DecodedAudio>, MediaError> + 'a;

/// The montage's sound as the export writes it, interleaved stereo at `settings.audio_rate`:
/// the music from the job's place in the song, trimmed and faded to the timeline, with the
/// clips' own sound mixed under it at `settings.clip_audio_level` and the music ducked under
/// that sound by `settings.duck_db`. The editor plays the same mix, so what the preview
/// sounds like is what the export writes. Returns the samples and warnings.
pub fn mix_soundtrack(
    job: &RenderJob,
    settings: &RenderSettings,
    cancel: &CancelToken,
    audio_of: &mut AudioSource<'_>,
) -> Result<(Vec<f32>, Vec<String>), RenderError> {
    let mut warnings = Vec::new();
    let music = audio_of(&job.music).map_err(|e| match e {
        MediaError::Cancelled => RenderError::Cancelled,
        other => RenderError::Media(other),
    })?;
    warnings.extend(music.warnings.iter().map(|w| format!("music: {w}")));
    let skip = (samples_from_ticks(job.music_start, settings.audio_rate).max(0) as usize * 2)
        .min(music.samples.len());
    let mut shaping = settings.clone();
    shaping.fade_out = shaping.fade_out.max(job.music_fade_out);
    let mut audio = shape_music(&music.samples[skip..], &shaping, job.duration);
    if settings.clip_audio_level > 0.0 {
        warnings.extend(mix_clip_audio(&mut audio, job, settings, cancel, audio_of)?);
    }
    Ok((audio, warnings))
}

/// Mixes the sound (see [`mix_soundtrack`]) and opens the writer: the audio, warnings so
/// far, and the writer.
fn open_output(
    job: &RenderJob,
    settings: &RenderSettings,
    output: &Path,
    cancel: &CancelToken,
) -> Result<(Vec<f32>, Vec<String>, Mp4Writer), RenderError> {
    let rate = settings.audio_rate;
    let (audio, warnings) = mix_soundtrack(job, settings, cancel, &mut |path| {
        decode_audio(path, rate, 2, cancel, &mut |_| {}).map(Arc::new)
    })?;
    let writer = Mp4Writer::create(
        output,
        VideoEncodeSettings {
            width: settings.width & !1,
            height: settings.height & !1,
            fps: settings.fps,
            crf: settings.crf,
            preset: settings.speed_preset.clone(),
            threads: 0,
            gop: 0,
        },
        Some(AudioEncodeSettings {
            rate: settings.audio_rate,
            channels: 2,
            bitrate: 192_000,
        }),
    )?;
    Ok((audio, warnings, writer))
}

/// Trims the music to the timeline, pads silence if it is shorter, and applies the fades.
fn shape_music(samples: &[f32], settings: &RenderSettings, duration: Ticks) -> Vec<f32> {
    let rate = settings.audio_rate;
    let total_frames = samples_from_ticks(duration, rate).max(0) as usize;
    let mut out = vec![0.0f32; total_frames * 2];
    let n = out.len().min(samples.len());
    out[..n].copy_from_slice(&samples[..n]);
    let fade_in = samples_from_ticks(settings.fade_in, rate).max(0) as usize;
    let fade_out = samples_from_ticks(settings.fade_out, rate).max(0) as usize;
    for i in 0..fade_in.min(total_frames) {
        let g = i as f32 / fade_in as f32;
        out[2 * i] *= g;
        out[2 * i + 1] *= g;
    }
    let fade_out = fade_out.min(total_frames);
    for k in 0..fade_out {
        let i = total_frames - fade_out + k;
        let g = 1.0 - (k + 1) as f32 / fade_out as f32;
        out[2 * i] *= g;
        out[2 * i + 1] *= g;
    }
    out
}

/// Mixes each segment's own sound (from its source range) under the music at
/// `settings.clip_audio_level`. Clips without sound are skipped with a warning.
fn mix_clip_audio(
    audio: &mut [f32],
    job: &RenderJob,
    settings: &RenderSettings,
    cancel: &CancelToken,
    audio_of: &mut AudioSource<'_>,
) -> Result<Vec<String>, RenderError> {
    let rate = settings.audio_rate;
    let level = settings.clip_audio_level.clamp(0.0, 2.0);
    let mut decoded: HashMap<usize, Option<Arc<DecodedAudio>>> = HashMap::new();
    let mut warnings = Vec::new();
    // The clips' sound on a track of its own first, so the music can duck under it.
    let mut clip_track = vec![0.0f32; audio.len()];
    for segment in &job.segments {
        let samples = decoded.entry(segment.clip).or_insert_with(|| {
            let path = job.clips.get(segment.clip)?;
            match audio_of(path) {
                Ok(a) => Some(a),
                Err(MediaError::NoStream { .. }) => None,
                Err(e) => {
                    warnings.push(format!("clip sound skipped: {e}"));
                    None
                }
            }
        });
        if cancel.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        let Some(samples) = samples.as_ref().map(|a| &a.samples) else {
            continue;
        };
        let out_start = samples_from_ticks(segment.start, rate).max(0) as usize;
        let out_end = samples_from_ticks(segment.end, rate).max(0) as usize;
        let src_start = samples_from_ticks(segment.src_in, rate).max(0) as usize;
        for (k, frame) in (out_start..out_end).enumerate() {
            let (o, s) = (frame * 2, (src_start + k) * 2);
            let (Some(out), Some(src)) = (clip_track.get_mut(o..o + 2), samples.get(s..s + 2))
            else {
                break;
            };
            out[0] += src[0] * level;
            out[1] += src[1] * level;
        }
    }
    if settings.duck_db > 0.0 {
        duck(audio, &clip_track, rate, settings.duck_db);
    }
    for (sample, clip) in audio.iter_mut().zip(&clip_track) {
        *sample = (*sample + clip).clamp(-1.0, 1.0);
    }
    Ok(warnings)
}

/// Window over which the clips' sound level is measured for ducking.
const DUCK_WINDOW_SECS: f64 = 0.010;
/// Clip sound above this level (dBFS, after its mix level) ducks the music: speech and
/// crowds, not room tone.
const DUCK_THRESHOLD_DB: f32 = -40.0;
/// How fast the music goes down when the clip sound starts, and comes back after.
const DUCK_ATTACK_SECS: f64 = 0.030;
const DUCK_RELEASE_SECS: f64 = 0.300;

/// Lowers `music` (interleaved stereo) by `depth_db` wherever `sidechain` (the clips' sound,
/// same layout) is louder than [`DUCK_THRESHOLD_DB`], with attack and release so the music
/// neither pumps nor clicks.
fn duck(music: &mut [f32], sidechain: &[f32], rate: u32, depth_db: f32) {
    let window = ((f64::from(rate) * DUCK_WINDOW_SECS) as usize).max(1);
    let frames = music.len() / 2;
    let windows = frames.div_ceil(window);
    let ducked = 10f32.powf(-depth_db / 20.0);
    let attack = (-(DUCK_WINDOW_SECS / DUCK_ATTACK_SECS)).exp() as f32;
    let release = (-(DUCK_WINDOW_SECS / DUCK_RELEASE_SECS)).exp() as f32;
    let mut gain = 1.0f32;
    let mut gains = Vec::with_capacity(windows);
    for w in 0..windows {
        let (a, b) = (w * window * 2, ((w + 1) * window * 2).min(sidechain.len()));
        let chunk = sidechain.get(a..b).unwrap_or(&[]);
        let power = chunk.iter().map(|x| x * x).sum::<f32>() / chunk.len().max(1) as f32;
        let db = 10.0 * (power + 1e-12).log10();
        let target = if db > DUCK_THRESHOLD_DB { ducked } else { 1.0 };
        let coeff = if target < gain { attack } else { release };
        gain = target + (gain - target) * coeff;
        gains.push(gain);
    }
    // Per sample, between the gains of neighbouring windows (no steps, no clicks).
    for frame in 0..frames {
        let pos = frame as f32 / window as f32;
        let w = pos as usize;
        let g0 = gains.get(w).copied().unwrap_or(1.0);
        let g1 = gains.get(w + 1).copied().unwrap_or(g0);
        let g = g0 + (g1 - g0) * (pos - w as f32);
        music[2 * frame] *= g;
        music[2 * frame + 1] *= g;
    }
}

/// Index of the segment covering timeline time `t`.
fn segment_at(segments: &[RenderSegment], t: Ticks) -> Option<usize> {
    let idx = segments.partition_point(|s| s.end <= t);
    (idx < segments.len())
        .then_some(idx)
        .or(segments.len().checked_sub(1))
}

/// Decodes and fits every output frame in order, sending them to the encoder.
/// Returns warnings (per-clip problems that did not stop the export).
fn produce_frames(
    job: &RenderJob,
    settings: &RenderSettings,
    frames_total: u64,
    cancel: &CancelToken,
    tx: &crossbeam_channel::Sender<Result<Picture, RenderError>>,
) -> Result<Vec<String>, RenderError> {
    let (width, height) = (settings.width & !1, settings.height & !1);
    // Shared by every frame with nothing to show.
    let black = Picture::black(width, height)?;
    // Two readers per clip so a crossfade between two parts of the same clip works.
    let mut sources = Sources {
        readers: HashMap::new(),
        failed: HashMap::new(),
        black: &black,
    };
    let fps = settings.fps;
    for k in 0..frames_total {
        if cancel.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        let t = fps.ticks_of_frame(k as i64);
        let Some(seg_index) = segment_at(&job.segments, t) else {
            break;
        };
        let segment = &job.segments[seg_index];
        let src_time = segment.src_in + (t - segment.start);
        let mut picture = source_frame(
            &mut sources,
            job,
            settings,
            (segment.clip, seg_index % 2),
            src_time,
            segment.crop.as_ref(),
        )?;
        // Crossfades are centred on the cut: half before it (blending towards the next
        // segment's source, read ahead of its in point), half after it (blending away from
        // the previous segment's source, read past its out point).
        let frame = fps.frame_ticks();
        let next = job
            .segments
            .get(seg_index + 1)
            .filter(|n| n.crossfade_frames > 0);
        let blend_with = if let Some(next) = next
            && t >= next.start - frame * (next.crossfade_frames as i64 / 2)
        {
            let len = frame * next.crossfade_frames as i64;
            let window_start = next.start - frame * (next.crossfade_frames as i64 / 2);
            let alpha = ((t - window_start + frame) as f32 / (len + frame) as f32).clamp(0.0, 1.0);
            Some((
                next.clip,
                (seg_index + 1) % 2,
                next.src_in - (next.start - t),
                alpha,
                next.crop.as_ref(),
            ))
        } else if segment.crossfade_frames > 0
            && seg_index > 0
            && t < segment.start
                + frame * (segment.crossfade_frames as i64 - segment.crossfade_frames as i64 / 2)
        {
            let previous = &job.segments[seg_index - 1];
            let len = frame * segment.crossfade_frames as i64;
            let window_start = segment.start - frame * (segment.crossfade_frames as i64 / 2);
            let alpha = ((t - window_start + frame) as f32 / (len + frame) as f32).clamp(0.0, 1.0);
            // `alpha` weighs the incoming picture, which is `picture` here.
            Some((
                previous.clip,
                (seg_index - 1) % 2,
                previous.src_out + (t - segment.start),
                1.0 - alpha,
                previous.crop.as_ref(),
            ))
        } else {
            None
        };
        if let Some((clip, slot, src, weight, crop)) = blend_with {
            let other = source_frame(&mut sources, job, settings, (clip, slot), src.max(0), crop)?;
            // Writing copies `picture` first when it still shares the decoder's pixels.
            blend(&mut picture, &other, weight)?;
        }
        if tx.send(Ok(picture)).is_err() {
            // The encoder side stopped (cancel or error); nothing more to do.
            break;
        }
    }
    Ok(sources
        .failed
        .into_iter()
        .map(|(clip, reason)| format!("clip {clip}: {reason} (shown as black)"))
        .collect())
}

/// The clip readers of one export, the clips that failed (and why), and the black picture
/// shown in their place.
struct Sources<'b> {
    readers: HashMap<(usize, usize), ClipReader>,
    failed: HashMap<usize, String>,
    black: &'b Picture,
}

/// The output picture of clip `key.0` (read by its reader `key.1`) at `src_time`, fitted to
/// the output (letterboxed, or cropped at `crop`'s window), or black when the clip failed,
/// failing it now if its reader cannot open or read.
fn source_frame(
    sources: &mut Sources<'_>,
    job: &RenderJob,
    settings: &RenderSettings,
    key: (usize, usize),
    src_time: Ticks,
    crop: Option<&CropPath>,
) -> Result<Picture, MediaError> {
    let Sources {
        readers,
        failed,
        black,
    } = sources;
    let (width, height) = (settings.width & !1, settings.height & !1);
    if failed.contains_key(&key.0) {
        return black.share();
    }
    let Some(path) = job.clips.get(key.0) else {
        failed.insert(key.0, "no such clip".into());
        return black.share();
    };
    let reader = match readers.entry(key) {
        std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
        std::collections::hash_map::Entry::Vacant(entry) => {
            match ClipReader::open(path, settings.width, settings.height, settings.fit) {
                Ok(reader) => entry.insert(reader),
                Err(e) => {
                    failed.insert(key.0, e.to_string());
                    return black.share();
                }
            }
        }
    };
    let frame = match reader.frame_at(src_time) {
        Ok(frame) => frame,
        Err(e) => {
            tracing::warn!(
                "{} at {:.3} s: {e}",
                path.display(),
                secs_from_ticks(src_time)
            );
            failed.insert(key.0, e.to_string());
            None
        }
    };
    match frame {
        Some(picture) if settings.fit.crops() => {
            let centre = crop.map_or((0.5, 0.5), |c| c.centre_at(src_time));
            reader.cropped(&picture, centre, width, height)
        }
        picture => fit_to_output(picture.as_ref(), black, width, height),
    }
}
