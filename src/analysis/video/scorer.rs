//! Turns a time-ordered stream of frame features into stored per-frame scores, keeping
//! thumbnails around every candidate cut and at regular intervals.

use crate::time::{TICKS_PER_SECOND, Ticks};

use super::features::FrameFeatures;
use super::subject::{SUBJECT_INTERVAL, locate};
use super::{FrameScore, SubjectSample, TimedThumbnail};

/// Change at or above which both frames around it keep a thumbnail: below any threshold the
/// editor's slider reaches, so re-detected scenes still start on a stored picture.
const POOL_DIFF_FLOOR: f32 = 0.12;
/// A thumbnail is kept at least this often, for scene middles.
const POOL_INTERVAL: Ticks = 2 * TICKS_PER_SECOND;

/// Streaming scorer: feed frames in presentation order, then `finish`.
#[derive(Default)]
pub(crate) struct Scorer {
    prev: Option<(FrameFeatures, bool)>,
    prev2: Option<FrameFeatures>,
    scores: Vec<FrameScore>,
    pool: Vec<TimedThumbnail>,
    last_pooled: Option<Ticks>,
    subject: Vec<SubjectSample>,
    /// Whether subject samples are taken (for reframing).
    track_subject: bool,
}

impl Scorer {
    /// A scorer that also tracks the subject when `track_subject` is set.
    pub fn new(track_subject: bool) -> Self {
        Self {
            track_subject,
            ..Self::default()
        }
    }

    /// Adds the next frame; `adjacent` says whether it directly follows the previous one.
    pub fn push(&mut self, frame: FrameFeatures, adjacent: bool) {
        let mut score = frame.score();
        if let Some((prev, prev_pooled)) = &self.prev {
            let (diff, shift) = frame.diff_and_shift(prev);
            score.diff = diff;
            score.adjacent = adjacent;
            if adjacent {
                score.motion = frame.motion(prev);
                score.shift = frame.shift_per_mille(shift);
            }
            score.skip_diff = match &self.prev2 {
                Some(p2) => frame.diff(p2),
                None => score.diff,
            };
            if score.diff >= POOL_DIFF_FLOOR && !prev_pooled {
                let thumb = TimedThumbnail {
                    time: prev.time,
                    thumbnail: prev.thumbnail(),
                };
                self.pool.push(thumb);
            }
        }
        let due = self
            .last_pooled
            .is_none_or(|t| frame.time - t >= POOL_INTERVAL);
        let pooled = due || score.diff >= POOL_DIFF_FLOOR;
        if pooled {
            self.pool.push(TimedThumbnail {
                time: frame.time,
                thumbnail: frame.thumbnail(),
            });
            self.last_pooled = Some(frame.time);
        }
        let sample_due = self.track_subject
            && self
                .subject
                .last()
                .is_none_or(|s| frame.time - s.time >= SUBJECT_INTERVAL);
        if sample_due {
            // Motion only within a shot: across a cut every cell changes.
            let moving_from = self
                .prev
                .as_ref()
                .filter(|_| adjacent && score.diff < POOL_DIFF_FLOOR)
                .map(|(p, _)| (p, shift_of(&score, &frame)));
            self.subject.push(locate(&frame, moving_from));
        }
        self.scores.push(score);
        self.prev2 = self.prev.take().map(|(f, _)| f);
        self.prev = Some((frame, pooled));
    }

    /// The scores and the thumbnail pool (sorted by time), the last frame always included.
    pub fn finish(mut self) -> (Vec<FrameScore>, Vec<TimedThumbnail>, Vec<SubjectSample>) {
        if let Some((last, false)) = &self.prev {
            self.pool.push(TimedThumbnail {
                time: last.time,
                thumbnail: last.thumbnail(),
            });
        }
        self.pool.sort_by_key(|t| t.time);
        self.pool.dedup_by_key(|t| t.time);
        (self.scores, self.pool, self.subject)
    }
}

/// The camera's shift in analysis pixels, back from the stored thousandths.
fn shift_of(score: &FrameScore, frame: &FrameFeatures) -> (i32, i32) {
    let back =
        |per_mille: i16, size: usize| (f64::from(per_mille) * size as f64 / 1000.0).round() as i32;
    (
        back(score.shift[0], frame.width),
        back(score.shift[1], frame.height),
    )
}
