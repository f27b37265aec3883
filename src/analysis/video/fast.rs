//! Fast mode: score keyframes only, then decode fully just the stretches between keyframes
//! whose pictures changed (and the tail after the last keyframe, which no keyframe closes),
//! so every cut still lands on its exact frame.

use std::path::Path;

use crate::jobs::{CancelToken, Progress};
use crate::media::VideoDecoder;
use crate::time::Ticks;

use super::features::FrameFeatures;
use super::scan::{PROGRESS_EVERY, RawScan, finish, frame_estimate, open_decoder};
use super::scorer::Scorer;
use super::{ClipError, ClipParams};

/// Scans keyframes, then refines the changed stretches.
pub(crate) fn scan_fast(
    path: &Path,
    params: &ClipParams,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<RawScan, ClipError> {
    let mut decoder = open_decoder(path, params, true)?;
    let total = frame_estimate(&decoder).max(1);
    let rate = decoder.frame_rate();
    let done_at = |t: Ticks| (crate::time::secs_from_ticks(t) * rate.as_f64()).max(0.0) as u64;
    let mut keys: Vec<FrameFeatures> = Vec::new();
    while let Some(frame) = decoder.next_frame()? {
        if cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        if std::env::var("BC_DEBUG").is_ok() {
            eprintln!("keyscan frame t={} key={}", frame.time, frame.key);
        }
        // Leading pictures of an open GOP can come out before the first keyframe's time.
        if keys.last().is_some_and(|k| frame.time <= k.time) {
            continue;
        }
        if let Some(f) = FrameFeatures::from_frame(&frame) {
            keys.push(f);
        }
        progress(Progress {
            done: done_at(frame.time) / 4,
            total,
            stage: "scanning keyframes",
        });
    }
    // changed[j]: the stretch after keyframe j must be decoded; the tail always is.
    let changed: Vec<bool> = keys
        .iter()
        .enumerate()
        .map(|(j, k)| {
            keys.get(j + 1)
                .is_none_or(|next| next.coarse_diff(k) >= params.refine_threshold)
        })
        .collect();
    if std::env::var("BC_DEBUG").is_ok() {
        for (j, k) in keys.iter().enumerate() {
            let d = keys.get(j + 1).map(|n| (n.coarse_diff(k), n.diff(k)));
            eprintln!("key {} t={} next {:?}", j, k.time, d);
        }
    }
    decoder.set_keyframes_only(false);
    let mut scorer = Scorer::default();
    // True when the decoder's next frame is the one right after the last pushed keyframe.
    let mut positioned = false;
    let mut previous_refined = false;
    for (j, key) in keys.iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        let refine = changed.get(j).copied().unwrap_or(true);
        if refine && !positioned {
            decoder.seek_to_keyframe_before(key.time)?;
            skip_through(&mut decoder, key.time)?;
        }
        scorer.push(key.clone(), previous_refined);
        if !refine {
            positioned = false;
            previous_refined = false;
            continue;
        }
        let until = keys.get(j + 1).map(|k| k.time);
        positioned = refine_stretch(&mut decoder, &mut scorer, until, cancel, &mut |t| {
            progress(Progress {
                done: done_at(t),
                total,
                stage: "refining changed stretches",
            })
        })?;
        previous_refined = true;
    }
    progress(Progress {
        done: total,
        total,
        stage: "refining changed stretches",
    });
    let warnings = decoder.warnings().to_vec();
    finish(path, scorer, warnings, rate)
}

/// Consumes frames up to and including the one at `time` without converting them.
fn skip_through(decoder: &mut VideoDecoder, time: Ticks) -> Result<(), ClipError> {
    while let Some(t) = decoder.skip_frame()? {
        if t >= time {
            break;
        }
    }
    Ok(())
}

/// Scores every frame before `until` (or to the end). Returns true when it stopped having
/// consumed exactly the frame at `until`, so the next stretch needs no seek.
fn refine_stretch(
    decoder: &mut VideoDecoder,
    scorer: &mut Scorer,
    until: Option<Ticks>,
    cancel: &CancelToken,
    report: &mut dyn FnMut(Ticks),
) -> Result<bool, ClipError> {
    let mut count: u64 = 0;
    loop {
        if cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        // Past the frames we need, only timestamps matter: no scaling.
        let Some(frame) = decoder.next_frame()? else {
            return Ok(false);
        };
        if let Some(end) = until
            && frame.time >= end
        {
            return Ok(frame.time == end);
        }
        if let Some(f) = FrameFeatures::from_frame(&frame) {
            scorer.push(f, true);
        }
        count += 1;
        if count.is_multiple_of(PROGRESS_EVERY) {
            report(frame.time);
        }
    }
}
