//! Decoding for analysis: the accurate every-frame scan and what both modes share.

use std::path::Path;

use crate::jobs::{CancelToken, Progress};
use crate::media::{PixelLayout, VideoDecodeOptions, VideoDecoder, VideoFrame};
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
    /// The video stream's own duration as the container states it (0 when it states none,
    /// or only guesses it from the bit rate): see `VideoDecoder::stated_duration`.
    pub declared_duration: Ticks,
    /// Displayed width and height.
    pub display_size: (u32, u32),
    /// Average frame rate the container states.
    pub frame_rate: f64,
    /// Keyframes mode: stretches whose packet sizes hint at a change.
    pub packet_hints: Vec<(Ticks, Ticks)>,
    /// Where the subject is, a few times a second.
    pub subject: Vec<super::SubjectSample>,
}

/// Small YUV frames for scoring: scaled by swscale, deblocking skipped.
pub(crate) fn open_decoder(
    path: &Path,
    params: &ClipParams,
    keyframes_only: bool,
) -> Result<VideoDecoder, ClipError> {
    crate::media::init();
    Ok(VideoDecoder::open(
        path,
        decode_options(params, keyframes_only),
    )?)
}

/// How analysis decodes: small YUV pictures, no deblocking, `params.threads` threads.
pub(crate) fn decode_options(params: &ClipParams, keyframes_only: bool) -> VideoDecodeOptions {
    VideoDecodeOptions {
        width: params.analysis_size,
        height: params.analysis_size,
        exact_size: false,
        layout: PixelLayout::Yuv420p,
        keyframes_only,
        skip_loop_filter: true,
        threads: params.threads,
    }
}

/// Estimated number of frames, for progress.
pub(crate) fn frame_estimate(decoder: &VideoDecoder) -> u64 {
    let rate: FrameRate = decoder.frame_rate();
    (secs_from_ticks(decoder.duration()) * rate.as_f64())
        .round()
        .max(0.0) as u64
}

/// Frames in flight between the decoding and the scoring thread.
const PIPELINE_DEPTH: usize = 8;

/// Decodes and scores every frame.
pub(crate) fn scan_accurate(
    path: &Path,
    params: &ClipParams,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<RawScan, ClipError> {
    let decoder = open_decoder(path, params, false)?;
    score_all(path, decoder, params, cancel, progress)
}

/// What the decoding side hands to the scoring thread, in presentation order, with whether
/// it directly follows the previous one.
enum ToScore {
    /// A decoded frame, its features still to compute.
    Frame(VideoFrame, bool),
    /// Features computed already (keyframes, frames decoded to confirm a cut).
    Features(Box<FrameFeatures>, bool),
}

/// The decoding side's end of a scoring thread (see [`with_scoring_thread`]).
pub(crate) struct ScoreSink {
    items: crossbeam_channel::Sender<ToScore>,
    spent: crossbeam_channel::Receiver<Vec<u8>>,
}

impl ScoreSink {
    /// Hands a decoded frame over; false when the scoring thread has stopped.
    pub fn frame(&self, frame: VideoFrame, adjacent: bool) -> bool {
        self.items.send(ToScore::Frame(frame, adjacent)).is_ok()
    }

    /// Hands over a frame whose features are known; false when the scoring thread stopped.
    pub fn features(&self, features: FrameFeatures, adjacent: bool) -> bool {
        self.items
            .send(ToScore::Features(Box::new(features), adjacent))
            .is_ok()
    }

    /// A pixel buffer the scoring thread is done with (empty when none is back yet), to
    /// decode the next frame into.
    pub fn spare_buffer(&self) -> Vec<u8> {
        self.spent.try_recv().unwrap_or_default()
    }
}

/// Runs `decode` on this thread while a second thread turns what it hands over into
/// scores, so decoding never waits for scoring: a bounded channel carries the frames and
/// brings spent pixel buffers back. The scorer is `None` when its thread failed.
pub(crate) fn with_scoring_thread<T>(
    track_subject: bool,
    decode: impl FnOnce(&ScoreSink) -> T,
) -> (Option<Scorer>, T) {
    let (items_tx, items_rx) = crossbeam_channel::bounded::<ToScore>(PIPELINE_DEPTH);
    let (spent_tx, spent_rx) = crossbeam_channel::bounded::<Vec<u8>>(PIPELINE_DEPTH + 2);
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let mut scorer = Scorer::new(track_subject);
            for item in items_rx {
                match item {
                    ToScore::Frame(frame, adjacent) => {
                        if let Some(features) = FrameFeatures::from_frame(&frame) {
                            scorer.push(features, adjacent);
                        }
                        // The decoding side may have stopped: a lost buffer is only an
                        // allocation.
                        let _ = spent_tx.try_send(frame.data);
                    }
                    ToScore::Features(features, adjacent) => scorer.push(*features, adjacent),
                }
            }
            scorer
        });
        let sink = ScoreSink {
            items: items_tx,
            spent: spent_rx,
        };
        let decoded = decode(&sink);
        drop(sink);
        (worker.join().ok(), decoded)
    })
}

/// Decodes every frame from the decoder's current position (the start, for a fresh or
/// freshly indexed decoder) and scores them on a second thread.
pub(crate) fn score_all(
    path: &Path,
    mut decoder: VideoDecoder,
    params: &ClipParams,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<RawScan, ClipError> {
    let total = frame_estimate(&decoder);
    let (scorer, decoded) = with_scoring_thread(params.track_subject, |sink| {
        decode_into(&mut decoder, sink, cancel, total, progress)
    });
    let done = decoded?;
    let scorer = scorer.ok_or_else(|| ClipError::NoFrames {
        path: path.to_path_buf(),
    })?;
    progress(Progress {
        done,
        total: done,
        stage: "scanning frames",
    });
    finish(&decoder, scorer)
}

/// The decoding half of [`score_all`]: returns the number of frames sent.
fn decode_into(
    decoder: &mut VideoDecoder,
    sink: &ScoreSink,
    cancel: &CancelToken,
    total: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<u64, ClipError> {
    let mut done: u64 = 0;
    let mut frame = empty_frame();
    loop {
        if cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        frame.data = sink.spare_buffer();
        if !decoder.next_frame_into(&mut frame)? {
            break;
        }
        if !sink.frame(std::mem::replace(&mut frame, empty_frame()), true) {
            break;
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
    Ok(done)
}

/// A frame without pixels, to decode into.
pub(crate) fn empty_frame() -> VideoFrame {
    VideoFrame {
        time: 0,
        width: 0,
        height: 0,
        layout: PixelLayout::Yuv420p,
        data: Vec::new(),
        key: false,
    }
}

/// Closes a scan: the scores, the pool, the duration to the end of the last frame and what
/// the decoder knows about the stream.
pub(crate) fn finish(decoder: &VideoDecoder, scorer: Scorer) -> Result<RawScan, ClipError> {
    let rate = decoder.frame_rate();
    let (scores, pool, subject) = scorer.finish();
    let Some(last) = scores.last() else {
        return Err(ClipError::NoFrames {
            path: decoder.path().to_path_buf(),
        });
    };
    // The last frame lasts as long as the one before it (or one nominal frame).
    let last_len = match scores.len().checked_sub(2).and_then(|i| scores.get(i)) {
        Some(prev) if last.adjacent && last.time > prev.time => last.time - prev.time,
        _ => rate.frame_ticks(),
    };
    Ok(RawScan {
        duration: last.time + last_len.max(1),
        declared_duration: decoder.stated_duration().unwrap_or(0),
        scores,
        pool,
        warnings: decoder.warnings().to_vec(),
        display_size: decoder.display_size(),
        frame_rate: rate.as_f64(),
        packet_hints: Vec::new(),
        subject,
    })
}
