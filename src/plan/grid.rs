//! The beat grid: beats snapped to the output frame grid, and fractional beat positions.

use super::error::PlanError;
use crate::analysis::music::MusicAnalysis;
use crate::time::{FrameRate, TICKS_PER_SECOND, Ticks};

/// One beat as a possible cut point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GridBeat {
    /// When the beat falls (analysis time).
    pub time: Ticks,
    /// The output frame nearest the beat: where a cut on it is placed.
    pub cut: Ticks,
    /// First beat of a bar.
    pub downbeat: bool,
    /// Tracker confidence, 0..=1.
    pub confidence: f32,
}

/// Beats of the song on the output frame grid, plus the snapped end of the music.
#[derive(Debug, Clone)]
pub(crate) struct BeatGrid {
    /// Output frame rate.
    pub fps: FrameRate,
    /// Music duration snapped to the nearest output frame.
    pub end: Ticks,
    /// Beats strictly inside `(0, end)`, one per output frame at most, in time order.
    pub beats: Vec<GridBeat>,
    /// Beats per bar (3 or 4).
    pub beats_per_bar: u8,
    /// Ticks per beat, for extrapolating before the first and after the last beat.
    period: f64,
    /// `pos(end)`.
    end_pos: f64,
}

impl BeatGrid {
    /// Snaps the beats of `music` to `fps`; fails on a bad rate, silence or no beats.
    pub fn new(music: &MusicAnalysis, fps: FrameRate) -> Result<Self, PlanError> {
        if fps.num <= 0 || fps.den <= 0 {
            return Err(PlanError::InvalidFrameRate {
                num: fps.num,
                den: fps.den,
            });
        }
        if music.duration <= 0 {
            return Err(PlanError::NoMusic);
        }
        let end = ticks_of_frame(fps, nearest_frame(fps, music.duration));
        if end <= 0 {
            return Err(PlanError::NoMusic);
        }
        let mut raw: Vec<_> = music
            .beats
            .iter()
            .filter(|b| b.time >= 0 && b.time <= music.duration)
            .collect();
        raw.sort_by_key(|b| b.time);
        let mut beats: Vec<GridBeat> = Vec::with_capacity(raw.len());
        for b in raw {
            let cut = ticks_of_frame(fps, nearest_frame(fps, b.time));
            if cut <= 0 || cut >= end || beats.last().is_some_and(|p| p.cut >= cut) {
                continue;
            }
            let confidence = if b.confidence.is_finite() {
                b.confidence.clamp(0.0, 1.0)
            } else {
                0.0
            };
            beats.push(GridBeat {
                time: b.time,
                cut,
                downbeat: b.beat_in_bar == 0,
                confidence,
            });
        }
        if beats.is_empty() {
            return Err(PlanError::NoBeats);
        }
        let period = if music.tempo_bpm.is_finite() && music.tempo_bpm > 1.0 {
            TICKS_PER_SECOND as f64 * 60.0 / music.tempo_bpm
        } else {
            median_gap(&beats).unwrap_or(TICKS_PER_SECOND as f64 / 2.0)
        };
        let beats_per_bar = match music.beats_per_bar {
            0 => 4,
            n => n,
        };
        let mut grid = Self {
            fps,
            end,
            beats,
            beats_per_bar,
            period,
            end_pos: 0.0,
        };
        grid.end_pos = grid.pos(end);
        Ok(grid)
    }

    /// Fractional beat index at `t`: beat `i` is at `i`, linear in between, extrapolated
    /// with the local beat period outside the tracked beats. Shot lengths "in beats" are
    /// differences of this, so a shot from 0 to the first beat is measured too.
    pub fn pos(&self, t: Ticks) -> f64 {
        let i = self.beats.partition_point(|b| b.time <= t);
        let (Some(first), Some(last)) = (self.beats.first(), self.beats.last()) else {
            return t as f64 / self.period;
        };
        if i == 0 {
            let p = self.local_period(0);
            return (t - first.time) as f64 / p;
        }
        if i >= self.beats.len() {
            let p = self.local_period(self.beats.len().saturating_sub(2));
            return (self.beats.len() - 1) as f64 + (t - last.time) as f64 / p;
        }
        match (self.beats.get(i - 1), self.beats.get(i)) {
            (Some(a), Some(b)) if b.time > a.time => {
                (i - 1) as f64 + (t - a.time) as f64 / (b.time - a.time) as f64
            }
            _ => (i - 1) as f64,
        }
    }

    /// `pos(end)`, the length of the timeline in beats.
    pub fn end_pos(&self) -> f64 {
        self.end_pos
    }

    /// Ticks per beat around beat `i` (the gap to the next beat, or the tempo).
    fn local_period(&self, i: usize) -> f64 {
        match (self.beats.get(i), self.beats.get(i + 1)) {
            (Some(a), Some(b)) if b.time > a.time => (b.time - a.time) as f64,
            _ => self.period,
        }
    }

    /// Ticks per beat from the tempo (or the median beat gap).
    pub fn period(&self) -> f64 {
        self.period
    }
}

// `FrameRate`'s conversions in 64-bit arithmetic where nothing overflows, else by
// `FrameRate` itself in 128 bits: the same integers, without a 128-bit division (about a
// hundred instructions) per beat and per cut.

/// `fr.nearest_frame(t)`.
pub(crate) fn nearest_frame(fr: FrameRate, t: Ticks) -> i64 {
    i64::from(fr.den)
        .checked_mul(TICKS_PER_SECOND)
        .filter(|&denom| denom != 0)
        .and_then(|denom| {
            t.checked_mul(i64::from(fr.num))?
                .checked_add(denom / 2)?
                .checked_div_euclid(denom)
        })
        .unwrap_or_else(|| fr.nearest_frame(t))
}

/// `fr.frame_at(t)`.
pub(crate) fn frame_at(fr: FrameRate, t: Ticks) -> i64 {
    i64::from(fr.den)
        .checked_mul(TICKS_PER_SECOND)
        .filter(|&denom| denom != 0)
        .and_then(|denom| t.checked_mul(i64::from(fr.num))?.checked_div_euclid(denom))
        .unwrap_or_else(|| fr.frame_at(t))
}

/// `fr.ticks_of_frame(index)`.
pub(crate) fn ticks_of_frame(fr: FrameRate, index: i64) -> Ticks {
    index
        .checked_mul(i64::from(fr.den))
        .and_then(|x| x.checked_mul(TICKS_PER_SECOND))
        .filter(|_| fr.num != 0)
        .and_then(|x| x.checked_div(i64::from(fr.num)))
        .unwrap_or_else(|| fr.ticks_of_frame(index))
}

fn median_gap(beats: &[GridBeat]) -> Option<f64> {
    let mut gaps: Vec<Ticks> = beats
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some(b.time - a.time),
            _ => None,
        })
        .collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).map(|&g| g as f64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::music::Beat;

    fn music(times_ms: &[i64], duration_ms: i64) -> MusicAnalysis {
        MusicAnalysis {
            duration: duration_ms * TICKS_PER_SECOND / 1000,
            tempo_bpm: 120.0,
            beats_per_bar: 4,
            beats: times_ms
                .iter()
                .enumerate()
                .map(|(i, &ms)| Beat {
                    time: ms * TICKS_PER_SECOND / 1000,
                    bar: (i / 4) as u32,
                    beat_in_bar: (i % 4) as u8,
                    confidence: 1.0,
                })
                .collect(),
            ..MusicAnalysis::default()
        }
    }

    #[test]
    fn snaps_beats_and_end_to_frames() {
        let m = music(&[0, 510, 1010, 1490], 2003);
        let fps = FrameRate::whole(30);
        let g = BeatGrid::new(&m, fps).unwrap();
        // The beat at 0 is the timeline start, not a cut.
        assert_eq!(g.beats.len(), 3);
        for b in &g.beats {
            assert_eq!(b.cut, fps.ticks_of_frame(fps.nearest_frame(b.time)));
            assert!((b.cut - b.time).abs() <= fps.frame_ticks() / 2);
        }
        assert_eq!(g.end, fps.ticks_of_frame(60));
    }

    #[test]
    fn positions_are_beat_indices() {
        let m = music(&[250, 750, 1250], 2000);
        let g = BeatGrid::new(&m, FrameRate::whole(25)).unwrap();
        let tps = TICKS_PER_SECOND;
        assert!((g.pos(tps / 4) - 0.0).abs() < 1e-9);
        assert!((g.pos(tps) - 1.5).abs() < 1e-9);
        assert!((g.pos(0) + 0.5).abs() < 1e-9);
        assert!((g.pos(tps * 2) - 3.5).abs() < 1e-9);
    }

    #[test]
    fn each_beat_sits_exactly_at_its_index() {
        // pacing relies on this to skip the search for a beat's position
        let m = music(&[0, 333, 510, 1010, 1490, 1999, 2400], 2600);
        let g = BeatGrid::new(&m, FrameRate::whole(30)).unwrap();
        for (k, b) in g.beats.iter().enumerate() {
            assert_eq!(g.pos(b.time), k as f64);
        }
    }

    #[test]
    fn end_pos_is_the_position_of_the_end() {
        let m = music(&[0, 333, 510, 1010, 1490, 1999, 2400], 2600);
        let g = BeatGrid::new(&m, FrameRate::whole(30)).unwrap();
        assert_eq!(g.end_pos(), g.pos(g.end));
    }

    #[test]
    fn frame_math_matches_frame_rate() {
        let rates = [
            FrameRate::whole(30),
            FrameRate {
                num: 24000,
                den: 1001,
            },
            FrameRate { num: -25, den: 1 },
            FrameRate { num: 30, den: -1 },
            FrameRate { num: 0, den: 1 },
            FrameRate { num: 25, den: 0 },
            FrameRate {
                num: i32::MAX,
                den: i32::MAX,
            },
        ];
        let times = [
            0,
            1,
            -1,
            12_345_678_901,
            -987_654_321,
            i64::MAX / 3,
            i64::MIN / 2,
            i64::MAX,
            i64::MIN,
        ];
        for fr in rates {
            for t in times {
                assert_eq!(nearest_frame(fr, t), fr.nearest_frame(t), "{fr:?} {t}");
                assert_eq!(frame_at(fr, t), fr.frame_at(t), "{fr:?} {t}");
                assert_eq!(ticks_of_frame(fr, t), fr.ticks_of_frame(t), "{fr:?} {t}");
            }
        }
    }

    #[test]
    fn degenerate_music_is_an_error() {
        let fps = FrameRate::whole(30);
        assert!(matches!(
            BeatGrid::new(&music(&[], 1000), fps),
            Err(PlanError::NoBeats)
        ));
        assert!(matches!(
            BeatGrid::new(&music(&[100], 0), fps),
            Err(PlanError::NoMusic)
        ));
        assert!(matches!(
            BeatGrid::new(&music(&[100], 1000), FrameRate { num: 0, den: 1 }),
            Err(PlanError::InvalidFrameRate { .. })
        ));
    }
}
