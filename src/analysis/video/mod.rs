//! Clip analysis: scene cuts, gradual transitions, per-scene features, thumbnails.
//!
//! Frames are scored small (about 96 px wide, YUV from swscale, deblocking skipped): each
//! frame's change against the previous one mixes brightness-invariant structure and colour
//! layout ([`features`]). Detection then runs on the kept scores only, so [`redetect`] gives
//! new cuts for a new threshold without decoding. [`DetectMode::Fast`] decodes keyframes
//! first and fully decodes only the stretches between keyframes that changed.

mod detect;
mod fast;
mod features;
mod gradual;
mod json;
mod params;
mod scan;
mod scenes;
mod scorer;
mod subject;
pub mod synth;
mod types;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::jobs::{CancelToken, Progress};
use crate::time::Ticks;

pub use params::{ClipError, ClipParams};
pub use scenes::VECTOR_LEN;
pub use types::*;

/// Analyses one clip: decodes (all frames or keyframes first, per `params.mode`), scores
/// every decoded frame, detects cuts and gradual transitions and describes each scene.
///
/// Corrupt packets become warnings in the result; a file without video is
/// `ClipError::Media(MediaError::NoStream)`. `cancel` is checked once per frame.
pub fn analyze_clip(
    path: &Path,
    params: &ClipParams,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<ClipAnalysis, ClipError> {
    let params = params.sanitized();
    crate::media::MediaError::check_readable(path)?;
    // No probe: the decoder reads the stream headers once and knows what analysis needs.
    let mut raw = match params.mode {
        DetectMode::Fast => fast::scan_fast(path, &params, cancel, progress)?,
        DetectMode::Accurate => scan::scan_accurate(path, &params, cancel, progress)?,
        DetectMode::Keyframes => fast::scan_keyframes_only(path, &params, cancel, progress)?,
    };
    if let Some(warning) = cut_short(raw.duration, raw.declared_duration) {
        raw.warnings.push(warning);
    }
    let fps = match params.mode {
        DetectMode::Accurate if raw.duration > 0 => {
            raw.scores.len() as f64 / crate::time::secs_from_ticks(raw.duration)
        }
        _ => raw.frame_rate,
    };
    let (width, height) = raw.display_size;
    let analysis = ClipAnalysis {
        duration: raw.duration,
        fps,
        width,
        height,
        mode: params.mode,
        frame_scores: raw.scores,
        warnings: raw.warnings,
        thumbnail_pool: raw.pool,
        packet_hints: raw.packet_hints,
        subject: raw.subject,
        ..ClipAnalysis::default()
    };
    Ok(redetect(&analysis, &params))
}

/// A file whose pictures end well before the duration its header states was cut short (a
/// copy or a recording that stopped): worth telling, since the missing part is not there to
/// edit. Short by a second and by 2 % of the stated length, so rounding and a last frame's
/// length never count.
fn cut_short(decoded: Ticks, declared: Ticks) -> Option<String> {
    let missing = declared - decoded;
    let tolerance = crate::time::TICKS_PER_SECOND.max(declared / 50);
    (declared > 0 && missing > tolerance).then(|| {
        format!(
            "the pictures end at {:.1} s although the file's header says {:.1} s: the file \
             looks cut short (truncated) or damaged",
            crate::time::secs_from_ticks(decoded),
            crate::time::secs_from_ticks(declared)
        )
    })
}

/// Re-detects cuts, gradual transitions and scenes from the kept per-frame scores with new
/// parameters: no decoding, fast enough for a live slider. Decode-time parameters (`mode`,
/// `analysis_size`, `threads`, `refine_threshold`) are ignored.
pub fn redetect(analysis: &ClipAnalysis, params: &ClipParams) -> ClipAnalysis {
    let params = params.sanitized();
    let scores = &analysis.frame_scores;
    if analysis.mode.is_first_look() {
        return first_look_scenes(analysis, &params);
    }
    let mut gradual = if params.gradual {
        gradual::find_gradual(scores, analysis.fps)
    } else {
        Vec::new()
    };
    // A short shot between two hard cuts can sit between its neighbours in colour and
    // look like a blend of them: a span holding two cuts is that shot, not a transition.
    if !gradual.is_empty() {
        let every_cut = ClipParams {
            min_scene_secs: 0.0,
            ..params.clone()
        };
        let cuts = detect::find_cuts(scores, &every_cut, &[]);
        gradual.retain(|g| {
            let inside = cuts
                .iter()
                .filter(|&&c| c + 1 >= g.start && c <= g.end + 1)
                .count();
            inside < 2
        });
    }
    let spans: Vec<(usize, usize)> = gradual.iter().map(|g| (g.start, g.end)).collect();
    let cuts = detect::find_cuts(scores, &params, &spans);
    let scenes = scenes::build_scenes(
        scores,
        &cuts,
        &spans,
        analysis.duration,
        &analysis.thumbnail_pool,
    );
    // An index past the last entry is the clip's end (a fade-out that runs to it).
    let time = |i: usize| scores.get(i).map_or(analysis.duration, |s| s.time);
    ClipAnalysis {
        cuts: cuts.iter().map(|&i| time(i)).collect(),
        transitions: gradual
            .iter()
            .map(|g| Transition {
                start: time(g.start),
                end: time(g.end),
                kind: g.kind,
            })
            .collect(),
        scenes,
        ..analysis.clone()
    }
}

/// Mean luma change between two pictures seconds apart that may be a fade (the change
/// score weighs structure, which a fade keeps). Used by fast mode and the first look.
pub(crate) const FADE_LUMA_STEP: f32 = 0.03;
/// Contrast ratio between two keyframes that may be a fade.
const FADE_CONTRAST_RATIO: f32 = 1.25;

/// Contrast (luma deviation) below which a picture is blank: black, white or one colour.
const BLANK_CONTRAST: f32 = 0.02;

/// Whether brightness or contrast moved between two keyframes as a fade or dissolve moves
/// them, even when the picture's structure stayed, or both are blank (the middle of a fade
/// through black or white, which is no shot to vouch for).
fn fades_between(a: &FrameScore, b: &FrameScore) -> bool {
    let (lo, hi) = (a.contrast.min(b.contrast), a.contrast.max(b.contrast));
    (a.luma - b.luma).abs() > FADE_LUMA_STEP
        || hi > FADE_CONTRAST_RATIO * lo.max(0.01)
        || hi < BLANK_CONTRAST
}

/// Scenes of a keyframes-only scan: consecutive keyframes whose change reaches what a cut
/// between look-alike shots needs, or whose brightness moved as in a fade, bound an
/// unresolved stretch, which no scene covers.
fn first_look_scenes(analysis: &ClipAnalysis, params: &ClipParams) -> ClipAnalysis {
    let scores = &analysis.frame_scores;
    let time = |i: usize| scores.get(i).map_or(0, |s| s.time);
    let mut unresolved: Vec<(Ticks, Ticks)> = scores
        .iter()
        .enumerate()
        .skip(1)
        .filter(|&(i, s)| {
            // A cut between look-alike shots changes as little as the detector's quiet
            // path allows.
            s.diff >= detect::QUIET_SHARE * params.threshold
                || scores.get(i - 1).is_some_and(|p| fades_between(p, s))
        })
        .map(|(i, _)| (time(i - 1), time(i)))
        .chain(analysis.packet_hints.iter().copied())
        .collect();
    unresolved.sort_unstable();
    unresolved.dedup();
    // Scene boundaries are frame indices: each span from the first frame at or after its
    // start to the first at or after its end (the end's keyframe opens the next scene).
    let index_at = |t: Ticks| scores.partition_point(|s| s.time < t);
    let spans: Vec<(usize, usize)> = unresolved
        .iter()
        .map(|&(a, b)| (index_at(a), index_at(b)))
        .collect();
    let mut scenes = scenes::build_scenes(
        scores,
        &[],
        &spans,
        analysis.duration,
        &analysis.thumbnail_pool,
    );
    // A span reaching the end of the clip leaves no scene after it.
    if let Some(&(a, b)) = unresolved.last()
        && b >= analysis.duration
    {
        scenes.retain(|s| s.end <= a);
    }
    ClipAnalysis {
        cuts: Vec::new(),
        transitions: Vec::new(),
        unresolved,
        scenes,
        ..analysis.clone()
    }
}

/// Analyses many clips in parallel on the rayon pool (results in input order). Each clip's
/// failure is its own; `cancel` stops them all.
pub fn analyze_clips(
    paths: &[PathBuf],
    params: &ClipParams,
    cancel: &CancelToken,
) -> Vec<Result<ClipAnalysis, ClipError>> {
    paths
        .par_iter()
        .map(|path| {
            if cancel.is_cancelled() {
                return Err(ClipError::Cancelled);
            }
            analyze_clip(path, params, cancel, &mut |_| {})
        })
        .collect()
}
