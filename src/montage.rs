//! High-level operations over the stages (analyse with the cache, plan, render), shared by
//! the CLI and the editor so both do exactly the same thing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::analysis::music::{
    MusicAnalysis, MusicAnalyzer, MusicError, MusicParams, WaveformPyramid,
};
use crate::analysis::video::{ClipAnalysis, ClipError, ClipParams};
use crate::cache::{Cache, CacheKey};
use crate::jobs::CancelToken;
use crate::media::{self, MediaError};
use crate::plan::{Timeline, Transition};
use crate::project::ProjectClip;
use crate::render::interchange::{InterchangeClip, InterchangeEvent, InterchangeTimeline};
use crate::render::{RenderJob, RenderSegment, RenderSettings};

/// Audio decoded between waveform snapshots sent to the caller (seconds at the analysis rate).
const WAVEFORM_SNAPSHOT_SECS: u32 = 4;
/// Shortest wall time between waveform snapshots: decoding runs at hundreds of times real
/// time, and a redraw rate's worth of snapshots is all a viewer can show.
const WAVEFORM_SNAPSHOT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(30);
/// Samples handed from the decoder to the music analysis thread at a time.
const BATCH_SAMPLES: usize = 16_384;
/// Batches queued for the analysis thread before the decoder waits (about 6 s of audio).
const BATCHES_IN_FLIGHT: usize = 8;

/// Why a high-level operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MontageError {
    /// Reading or writing media failed.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// Music analysis failed.
    #[error("{source}: {}", path.display())]
    Music {
        /// The song.
        path: PathBuf,
        /// Why.
        source: MusicError,
    },
    /// Clip analysis failed.
    #[error(transparent)]
    Clip(#[from] ClipError),
    /// A worker thread died (a bug; reported, never a crash of the caller).
    #[error("{0}")]
    Worker(String),
    /// The work was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// A planned segment refers to a clip the project no longer has.
    #[error("the plan uses clip {0}, which is not in the project (replan first)")]
    UnknownClip(usize),
}

/// The parameters that shape the expensive part of music analysis; detection knobs the
/// editor exposes (sensitivity, tempo range) are reset so changing them reuses the entry.
fn music_cache_params(params: &MusicParams) -> MusicParams {
    let defaults = MusicParams::default();
    MusicParams {
        beat_sensitivity: defaults.beat_sensitivity,
        min_bpm: defaults.min_bpm,
        max_bpm: defaults.max_bpm,
        ..params.clone()
    }
}

/// Analyses the song at `path` (or fetches it from `cache`), applying the detection knobs of
/// `params`. `on_waveform` receives the waveform as it grows while decoding. Returns the
/// analysis and whether it came from the cache.
pub fn analyze_music(
    path: &Path,
    params: &MusicParams,
    cache: &Cache,
    cancel: &CancelToken,
    on_waveform: &mut dyn FnMut(&WaveformPyramid),
) -> Result<(Arc<MusicAnalysis>, bool), MontageError> {
    let base_params = music_cache_params(params);
    let key = cache.content_key(path).ok().map(|content| {
        CacheKey::new(
            content,
            "music",
            MusicParams::VERSION,
            CacheKey::hash_params(&base_params),
        )
    });
    let mut from_cache = true;
    let mut compute = || -> Result<MusicAnalysis, MontageError> {
        from_cache = false;
        decode_and_analyze(path, &base_params, cancel, on_waveform)
    };
    let base = match &key {
        Some(key) => cache.get_or_compute(key, compute)?,
        None => Arc::new(compute()?),
    };
    if *params == base_params {
        return Ok((base, from_cache));
    }
    let tuned = crate::analysis::music::redetect(&base, params);
    Ok((Arc::new(tuned), from_cache))
}

/// Decodes the song to mono at the analysis rate, streaming it into the analyser.
fn decode_and_analyze(
    path: &Path,
    params: &MusicParams,
    cancel: &CancelToken,
    on_waveform: &mut dyn FnMut(&WaveformPyramid),
) -> Result<MusicAnalysis, MontageError> {
    // Decoding and the streaming analysis (waveform, energy, STFT and onset curves) run on
    // two threads at once, so the analysis hides behind the decode instead of adding to it.
    // The decoder's chunks (about 50 ms of audio each) cross in batches of about 0.75 s:
    // waking the analysis thread for every chunk costs the decoder more than the copy.
    // Emptied batches come back for reuse.
    let snapshot_every = (params.analysis_rate * WAVEFORM_SNAPSHOT_SECS) as u64;
    let (chunk_tx, chunk_rx) = crossbeam_channel::bounded::<Vec<f32>>(BATCHES_IN_FLIGHT);
    let (free_tx, free_rx) = crossbeam_channel::bounded::<Vec<f32>>(BATCHES_IN_FLIGHT + 1);
    let (wave_tx, wave_rx) = crossbeam_channel::bounded::<WaveformPyramid>(4);
    let analyzer_params = params.clone();
    let (decoded, analyzer) = std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let mut analyzer = MusicAnalyzer::new(analyzer_params);
            let mut next_snapshot = snapshot_every;
            let mut last_sent: Option<std::time::Instant> = None;
            for mut batch in chunk_rx {
                analyzer.push(&batch);
                if analyzer.samples_pushed() >= next_snapshot
                    && last_sent.is_none_or(|t| t.elapsed() >= WAVEFORM_SNAPSHOT_INTERVAL)
                {
                    next_snapshot = analyzer.samples_pushed() + snapshot_every;
                    last_sent = Some(std::time::Instant::now());
                    let _ = wave_tx.try_send(analyzer.waveform_so_far());
                }
                batch.clear();
                let _ = free_tx.try_send(batch);
            }
            analyzer
        });
        let mut batch = Vec::with_capacity(BATCH_SAMPLES);
        let decoded = media::decode_audio(path, params.analysis_rate, 1, cancel, &mut |chunk| {
            batch.extend_from_slice(chunk);
            if batch.len() >= BATCH_SAMPLES {
                let next = free_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BATCH_SAMPLES));
                let _ = chunk_tx.send(std::mem::replace(&mut batch, next));
            }
            while let Ok(waveform) = wave_rx.try_recv() {
                on_waveform(&waveform);
            }
        });
        if !batch.is_empty() {
            let _ = chunk_tx.send(batch);
        }
        drop(chunk_tx);
        (decoded, worker.join())
    });
    let decoded = decoded.map_err(|e| match e {
        MediaError::Cancelled => MontageError::Cancelled,
        other => MontageError::Media(other),
    })?;
    let analyzer = analyzer.map_err(|_| {
        MontageError::Worker(format!(
            "music analysis thread panicked: {}",
            path.display()
        ))
    })?;
    on_waveform(&analyzer.waveform_so_far());
    let mut analysis = analyzer.finish(cancel).map_err(|source| match source {
        MusicError::Cancelled => MontageError::Cancelled,
        source => MontageError::Music {
            path: path.to_path_buf(),
            source,
        },
    })?;
    analysis.warnings = decoded.warnings;
    Ok(analysis)
}

/// The clip parameters that shape decoding and scoring: the threshold knobs act after
/// decoding (see `analysis::video::redetect`) and the decoder's thread count changes only
/// the speed, so they are left out of the cache key.
fn clip_cache_params(params: &ClipParams) -> ClipParams {
    let defaults = ClipParams::default();
    ClipParams {
        threshold: defaults.threshold,
        min_scene_secs: defaults.min_scene_secs,
        window_secs: defaults.window_secs,
        gradual: defaults.gradual,
        threads: defaults.threads,
        ..params.clone()
    }
}

/// The cache key of a clip's analysis with `base_params` (the decode-shaping parameters).
fn clip_key(path: &Path, base_params: &ClipParams, cache: &Cache) -> Option<CacheKey> {
    let kind = format!("clip-{}", base_params.mode.as_str());
    cache.content_key(path).ok().map(|content| {
        CacheKey::new(
            content,
            kind,
            ClipParams::VERSION,
            CacheKey::hash_params(base_params),
        )
    })
}

/// Whether the cache already holds the clip's analysis with `params` (nothing is read or
/// counted): lets a quick first look step aside when the full answer is at hand.
pub fn clip_is_cached(path: &Path, params: &ClipParams, cache: &Cache) -> bool {
    clip_key(path, &clip_cache_params(params), cache).is_some_and(|key| cache.contains(&key))
}

/// Analyses a clip's scenes (or fetches them from `cache`), applying the threshold knobs of
/// `params`. Returns the analysis and whether it came from the cache.
pub fn analyze_clip(
    path: &Path,
    params: &ClipParams,
    cache: &Cache,
    cancel: &CancelToken,
    on_progress: &mut dyn FnMut(f32),
) -> Result<(Arc<ClipAnalysis>, bool), MontageError> {
    let base_params = clip_cache_params(params);
    let key = clip_key(path, &base_params, cache);
    let mut from_cache = true;
    let mut compute = || -> Result<ClipAnalysis, MontageError> {
        from_cache = false;
        crate::analysis::video::analyze_clip(path, &base_params, cancel, &mut |p| {
            on_progress(p.fraction())
        })
        .map_err(|e| match e {
            ClipError::Cancelled => MontageError::Cancelled,
            other => MontageError::Clip(other),
        })
    };
    let base = match &key {
        Some(key) => cache.get_or_compute(key, compute)?,
        None => Arc::new(compute()?),
    };
    if *params == base_params {
        return Ok((base, from_cache));
    }
    let tuned = crate::analysis::video::redetect(&base, params);
    Ok((Arc::new(tuned), from_cache))
}

/// Crossfade length in frames of a planned transition.
fn crossfade_frames(transition: Transition) -> u32 {
    match transition {
        Transition::Cut => 0,
        Transition::Crossfade { frames } => frames,
    }
}

/// Positions in `clips` of each segment's clip (segments know clips by their persistent
/// id; the render job and timeline files by their place in a file list).
fn clip_positions(timeline: &Timeline, clips: &[ProjectClip]) -> Result<Vec<usize>, MontageError> {
    timeline
        .segments
        .iter()
        .map(|s| {
            clips
                .iter()
                .position(|c| c.id.key() == s.clip)
                .ok_or(MontageError::UnknownClip(s.clip))
        })
        .collect()
}

/// The render job for a planned timeline over the project's clips and song.
pub fn render_job(
    timeline: &Timeline,
    clips: &[ProjectClip],
    music: &Path,
) -> Result<RenderJob, MontageError> {
    let positions = clip_positions(timeline, clips)?;
    Ok(RenderJob {
        clips: clips.iter().map(|c| c.path.clone()).collect(),
        music: music.to_path_buf(),
        segments: timeline
            .segments
            .iter()
            .zip(positions)
            .map(|(s, clip)| RenderSegment {
                clip,
                src_in: s.src_in,
                src_out: s.src_out,
                start: s.start,
                end: s.end,
                crossfade_frames: crossfade_frames(s.transition),
                crop: None,
            })
            .collect(),
        duration: timeline.duration,
        music_start: timeline.music_start(),
        music_fade_out: timeline.music_fade_out(),
    })
}

/// Places each segment's crop window for an export that reframes ([`crate::render::Fit::Reframe`]):
/// the framing the user chose for its source range, else a path following the subject the
/// clip's analysis tracked (`analysis_of` looks a clip up by its persistent id; a clip
/// without one is centred). Other fits leave the job as it is.
pub fn reframe_job(
    job: &mut RenderJob,
    timeline: &Timeline,
    settings: &RenderSettings,
    overrides: &[crate::reframe::FramingOverride],
    analysis_of: impl Fn(usize) -> Option<Arc<ClipAnalysis>>,
) {
    if settings.fit != crate::render::Fit::Reframe {
        return;
    }
    for (segment, planned) in job.segments.iter_mut().zip(&timeline.segments) {
        segment.crop = segment_crop(planned, settings, overrides, &analysis_of);
    }
}

/// The crop path of one planned segment for an export of `settings`' size.
pub fn segment_crop(
    segment: &crate::plan::Segment,
    settings: &RenderSettings,
    overrides: &[crate::reframe::FramingOverride],
    analysis_of: &impl Fn(usize) -> Option<Arc<ClipAnalysis>>,
) -> Option<crate::reframe::CropPath> {
    let framing =
        crate::reframe::framing_for(overrides, segment.clip, segment.src_in, segment.src_out);
    let analysis = analysis_of(segment.clip);
    let (samples, source) = match &analysis {
        Some(a) => (a.subject.as_slice(), (a.width, a.height)),
        None => (&[][..], (0, 0)),
    };
    if analysis.is_none() && framing == crate::reframe::Framing::Follow {
        return None;
    }
    crate::reframe::segment_path(
        framing,
        samples,
        source,
        (settings.width, settings.height),
        (segment.src_in, segment.src_out),
    )
}

/// The timeline in the form the EDL / FCPXML / OTIO writers take (probing the clips for
/// their frame rates and sizes; unreadable ones get the timeline's).
pub fn interchange_timeline(
    timeline: &Timeline,
    clips: &[ProjectClip],
    music: Option<&Path>,
    settings: &RenderSettings,
) -> Result<InterchangeTimeline, MontageError> {
    let positions = clip_positions(timeline, clips)?;
    let describe = |path: &Path| -> InterchangeClip {
        let info = media::probe(path).ok();
        let video = info.as_ref().and_then(|i| i.video().cloned());
        InterchangeClip {
            path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            duration: info.as_ref().map_or(0, |i| i.duration),
            fps: video.as_ref().map_or(timeline.fps, |v| v.frame_rate),
            width: video.as_ref().map_or(settings.width, |v| v.display_width),
            height: video.as_ref().map_or(settings.height, |v| v.display_height),
            has_audio: info.as_ref().is_some_and(|i| i.audio().is_some()),
        }
    };
    Ok(InterchangeTimeline {
        name: "Beatcut montage".into(),
        fps: timeline.fps,
        width: settings.width,
        height: settings.height,
        duration: timeline.duration,
        clips: clips.iter().map(|c| describe(&c.path)).collect(),
        events: timeline
            .segments
            .iter()
            .zip(positions)
            .map(|(s, clip)| InterchangeEvent {
                clip,
                src_in: s.src_in,
                src_out: s.src_out,
                start: s.start,
                end: s.end,
                crossfade_frames: crossfade_frames(s.transition),
            })
            .collect(),
        music: music.map(describe),
        music_start: timeline.music_start(),
        clip_sound: settings.clip_audio_level > 0.0,
    })
}
