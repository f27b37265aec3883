//! Beat grid repair commands (the music lane's buttons and menu) and tap tempo.

use crate::analysis::music::BeatGridEdits;
use crate::time::{Ticks, ticks_from_secs};

/// One repair of the beat grid, as the user asks for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GridCommand {
    /// Twice as many beats (undoes a halving first).
    Double,
    /// Half as many beats, the downbeats kept (undoes a doubling first).
    Halve,
    /// Move the grid by half a beat (a grid on the off-beat); twice puts it back.
    ShiftHalfBeat,
    /// Move the beats of `start..end` by half a beat (the tracker lost the beat for a
    /// section); the same stretch again takes it back.
    HalfBeatIn {
        /// Start of the stretch.
        start: Ticks,
        /// End of the stretch.
        end: Ticks,
    },
    /// Move every beat by this many milliseconds (negative: earlier).
    Nudge {
        /// Milliseconds.
        millis: f64,
    },
    /// Rebuild the grid at a constant tempo (typed or tapped), phase fitted to the music.
    SetBpm(f64),
    /// Drag the beat nearest `from` to `to`.
    MoveBeat {
        /// Where the beat is now.
        from: Ticks,
        /// Where the user dropped it.
        to: Ticks,
    },
    /// The beat nearest this time starts a bar.
    SetDownbeat(Ticks),
    /// No beat in `start..end` (an intro, a breakdown, a spoken passage).
    NoBeats {
        /// Start of the stretch.
        start: Ticks,
        /// End of the stretch.
        end: Ticks,
    },
    /// Beats again in every stretch marked beatless.
    ClearNoBeats,
    /// Back to the grid the analysis found.
    Reset,
}

impl GridCommand {
    /// Applies the command to the project's grid repairs.
    pub fn apply(self, edits: &mut BeatGridEdits) {
        match self {
            Self::Double => edits.level = (edits.level + 1).min(2),
            Self::Halve => edits.level = (edits.level - 1).max(-2),
            Self::ShiftHalfBeat => edits.half_beat_shift = !edits.half_beat_shift,
            Self::HalfBeatIn { start, end } if end != start => {
                let span = (start.min(end), start.max(end));
                if let Some(i) = edits.half_beat_spans.iter().position(|&s| s == span) {
                    edits.half_beat_spans.remove(i);
                } else {
                    edits.half_beat_spans.push(span);
                }
            }
            Self::HalfBeatIn { .. } => {}
            Self::Nudge { millis } if millis.is_finite() => {
                edits.offset += ticks_from_secs(millis / 1000.0);
            }
            Self::Nudge { .. } => {}
            Self::SetBpm(bpm) if bpm.is_finite() && (10.0..=400.0).contains(&bpm) => {
                edits.bpm = Some(bpm);
                edits.beats = None;
                edits.level = 0;
                edits.half_beat_shift = false;
            }
            Self::SetBpm(_) => {}
            Self::MoveBeat { from, to } => edits.moved.push((from, to)),
            Self::SetDownbeat(t) => edits.downbeat = Some(t),
            Self::NoBeats { start, end } if end != start => {
                edits.no_beats.push((start.min(end), start.max(end)));
            }
            Self::NoBeats { .. } => {}
            Self::ClearNoBeats => edits.no_beats.clear(),
            Self::Reset => *edits = BeatGridEdits::default(),
        }
    }
}

/// Tap tempo: the tempo of the user's taps (seconds on any clock), from the fourth tap on.
/// A pause of more than two seconds starts a new count.
#[derive(Debug, Clone, Default)]
pub struct TapTempo {
    taps: Vec<f64>,
}

impl TapTempo {
    /// Taps needed before a tempo is given.
    pub const MIN_TAPS: usize = 4;
    /// Longest pause between taps of one count, seconds.
    pub const RESET_SECS: f64 = 2.0;

    /// Records a tap at `at_secs`; the tempo so far (median interval of the last eight taps),
    /// once there are enough.
    pub fn tap(&mut self, at_secs: f64) -> Option<f64> {
        if self
            .taps
            .last()
            .is_some_and(|&last| at_secs - last > Self::RESET_SECS || at_secs <= last)
        {
            self.taps.clear();
        }
        self.taps.push(at_secs);
        if self.taps.len() > 8 {
            self.taps.remove(0);
        }
        self.bpm()
    }

    /// Taps in the current count.
    pub fn count(&self) -> usize {
        self.taps.len()
    }

    /// The tempo of the current count, once there are enough taps.
    pub fn bpm(&self) -> Option<f64> {
        if self.taps.len() < Self::MIN_TAPS {
            return None;
        }
        let mut gaps: Vec<f64> = self.taps.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(f64::total_cmp);
        let median = gaps.get(gaps.len() / 2).copied()?;
        (median > 0.0).then(|| (600.0 / median).round() / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_and_halve_undo_each_other() {
        let mut e = BeatGridEdits::default();
        GridCommand::Double.apply(&mut e);
        assert_eq!(e.level, 1);
        GridCommand::Halve.apply(&mut e);
        assert!(e.is_empty());
        GridCommand::ShiftHalfBeat.apply(&mut e);
        GridCommand::ShiftHalfBeat.apply(&mut e);
        assert!(e.is_empty());
        GridCommand::Nudge { millis: 10.0 }.apply(&mut e);
        GridCommand::Nudge { millis: -10.0 }.apply(&mut e);
        assert!(e.is_empty());
        GridCommand::SetBpm(f64::NAN).apply(&mut e);
        GridCommand::NoBeats { start: 5, end: 5 }.apply(&mut e);
        assert!(e.is_empty());
        GridCommand::NoBeats { start: 9, end: 3 }.apply(&mut e);
        GridCommand::HalfBeatIn { start: 8, end: 2 }.apply(&mut e);
        assert_eq!(e.half_beat_spans, [(2, 8)]);
        GridCommand::HalfBeatIn { start: 2, end: 8 }.apply(&mut e);
        assert!(e.half_beat_spans.is_empty());
        assert_eq!(e.no_beats, [(3, 9)]);
        GridCommand::Reset.apply(&mut e);
        assert!(e.is_empty());
    }

    #[test]
    fn tap_tempo_needs_four_taps_and_restarts_after_a_pause() {
        let mut tap = TapTempo::default();
        assert_eq!(tap.tap(10.0), None);
        assert_eq!(tap.tap(10.5), None);
        assert_eq!(tap.tap(11.0), None);
        assert_eq!(tap.tap(11.5), Some(120.0));
        // One late tap does not move the median much.
        assert_eq!(tap.tap(12.1), Some(120.0));
        assert_eq!(tap.tap(20.0), None);
        assert_eq!(tap.count(), 1);
    }
}
