//! Decoding for analysis: the accurate every-frame scan and what both modes share.

use std::path::Path;

use crate::jobs::{CancelToken, Progress};
use crate::media::{PixelLayout, VideoDecodeOptions, VideoDecoder};
use crate::time::{FrameRate, Ticks, secs_from_ticks};

use super::features::FrameFeatures;
use super::scorer::Scorer;
use super::{ClipError, ClipParams, FrameScore, TimedThumbnail};

/// Frames between progress reports.
pub(crate) const PROGRESS_EVERY: u64 = 16;

/// What a scan hands to detection.
#[derive(Debug, Default)]
pub(crate) struct RawScan {
    pub scores: Vec<FrameScore>,
    pub pool: Vec<TimedThumbnail>,
    pub warnings: Vec<String>,
    /// End of the last frame.
    pub duration: Ticks,
}

/// Small YUV frames for scoring: scaled by swscale, deblocking skipped.
pub(crate) fn open_decoder(
    path: &Path,
    params: &ClipParams,
    keyframes_only: bool,
) -> Result<VideoDecoder, ClipError> {
    crate::media::init();
    let options = VideoDecodeOptions {
        width: params.analysis_size,
        height: params.analysis_size,
        exact_size: false,
        layout: PixelLayout::Yuv420p,
        keyframes_only,
        skip_loop_filter: true,
        threads: params.threads,
    };
    Ok(VideoDecoder::open(path, options)?)
}

/// Estimated number of frames, for progress.
pub(crate) fn frame_estimate(decoder: &VideoDecoder) -> u64 {
    let rate: FrameRate = decoder.frame_rate();
    (secs_from_ticks(decoder.duration()) * rate.as_f64())
        .round()
        .max(0.0) as u64
}

/// Decodes and scores every frame.
pub(crate) fn scan_accurate(
    path: &Path,
    params: &ClipParams,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<RawScan, ClipError> {
    let mut decoder = open_decoder(path, params, false)?;
    let total = frame_estimate(&decoder);
    let mut scorer = Scorer::default();
    let mut done: u64 = 0;
    while let Some(frame) = decoder.next_frame()? {
        if cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        if let Some(features) = FrameFeatures::from_frame(&frame) {
            scorer.push(features, true);
        }
        done += 1;
        if done.is_multiple_of(PROGRESS_EVERY) {
            progress(Progress {
                done,
                total: total.max(done),
                stage: "scanning frames",
            });
        }
    }
    progress(Progress {
        done,
        total: done,
        stage: "scanning frames",
    });
    let warnings = decoder.warnings().to_vec();
    finish(path, scorer, warnings, decoder.frame_rate())
}

/// Closes a scan: the scores, the pool and the duration to the end of the last frame.
pub(crate) fn finish(
    path: &Path,
    scorer: Scorer,
    warnings: Vec<String>,
    rate: FrameRate,
) -> Result<RawScan, ClipError> {
    let (scores, pool) = scorer.finish();
    let Some(last) = scores.last() else {
        return Err(ClipError::NoFrames {
            path: path.to_path_buf(),
        });
    };
    // The last frame lasts as long as the one before it (or one nominal frame).
    let last_len = match scores.len().checked_sub(2).and_then(|i| scores.get(i)) {
        Some(prev) if last.adjacent && last.time > prev.time => last.time - prev.time,
        _ => rate.frame_ticks(),
    };
    Ok(RawScan {
        duration: last.time + last_len.max(1),
        scores,
        pool,
        warnings,
    })
}
