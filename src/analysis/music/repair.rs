//! User repairs of the beat grid: a wrong tempo level (x2, /2), a grid on the off-beat (half
//! a beat, everywhere or in one stretch: a tracker can lose the beat for a section), a small
//! lag (nudge), a tempo the user knows (typed or tapped), single beats or the downbeat dragged,
//! stretches with no beat, or a beat file. Stored in the project as data and applied to the
//! analysis before every plan, so they survive replans, undo and reopening, and the same
//! repairs come from the editor and the CLI.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::types::{Beat, MusicAnalysis};
use crate::time::{TICKS_PER_SECOND, Ticks, ticks_from_secs};

/// The repairs, applied in this order: replace (beat file, else constant tempo), metrical
/// level, half-beat shift (everywhere, then in stretches), offset, single moves, bars, then
/// the beatless stretches.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct BeatGridEdits {
    /// Beats the user supplied (a beat file): they replace the tracked grid.
    pub beats: Option<Vec<Ticks>>,
    /// A constant tempo the user set (typed or tapped), BPM: replaces the tracked grid with
    /// one at this tempo whose phase best fits the song's onsets.
    pub bpm: Option<f64>,
    /// Metrical level, in octaves: +1 puts a beat between every two (x2), -1 keeps every
    /// other beat, the downbeats among them (/2).
    pub level: i8,
    /// Moves every beat half-way to the next one (a grid sitting on the off-beat).
    pub half_beat_shift: bool,
    /// Stretches where the grid sits on the off-beat: their beats move half a beat later,
    /// `(start, end)`. Marking a stretch again takes it back.
    pub half_beat_spans: Vec<(Ticks, Ticks)>,
    /// Moves every beat by this much (the nudge), ticks.
    pub offset: Ticks,
    /// Single beats dragged by the user: the beat nearest `from` (after the edits above)
    /// moves to `to`.
    pub moved: Vec<(Ticks, Ticks)>,
    /// The beat nearest this time starts a bar; bars are renumbered from it.
    pub downbeat: Option<Ticks>,
    /// Stretches where the song has no beat the user wants cut on: `(start, end)`.
    pub no_beats: Vec<(Ticks, Ticks)>,
}

/// A beat on its way through the repairs.
#[derive(Debug, Clone, Copy)]
struct Mark {
    time: Ticks,
    downbeat: bool,
    confidence: f32,
}

impl BeatGridEdits {
    /// True when there is nothing to repair (the tracked grid is used as it is).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `music` with its beats, bars and tempo repaired (borrowed unchanged when there are
    /// no edits).
    pub fn apply<'a>(&self, music: &'a MusicAnalysis) -> Cow<'a, MusicAnalysis> {
        if self.is_empty() {
            return Cow::Borrowed(music);
        }
        let mut out = music.clone();
        let beats = self.repaired_beats(music);
        out.tempo_bpm = tempo_of(&beats).unwrap_or(0.0);
        if out.beats_per_bar == 0 {
            out.beats_per_bar = 4;
        }
        out.beats = beats;
        Cow::Owned(out)
    }

    /// The repaired beats of `music`, numbered in bars.
    pub fn repaired_beats(&self, music: &MusicAnalysis) -> Vec<Beat> {
        let duration = music.duration.max(0);
        let mut marks = self.base(music);
        marks = change_level(marks, self.level);
        if self.half_beat_shift {
            marks = shift_half(&marks);
        }
        if !self.half_beat_spans.is_empty() {
            marks = shift_half_within(&marks, &self.half_beat_spans);
        }
        for m in &mut marks {
            m.time += self.offset;
        }
        marks.retain(|m| m.time >= 0 && m.time <= duration);
        for &(from, to) in &self.moved {
            move_nearest(&mut marks, from, to);
        }
        let per_bar = i64::from(music.beats_per_bar.max(1));
        let anchor = match self.downbeat {
            Some(t) => nearest(&marks, t),
            None => marks.iter().position(|m| m.downbeat),
        }
        .unwrap_or(0) as i64;
        let first_bar = (-anchor).div_euclid(per_bar);
        let mut beats: Vec<Beat> = marks
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let rel = i as i64 - anchor;
                Beat {
                    time: m.time,
                    bar: (rel.div_euclid(per_bar) - first_bar).max(0) as u32,
                    beat_in_bar: rel.rem_euclid(per_bar) as u8,
                    confidence: m.confidence,
                }
            })
            .collect();
        beats.retain(|b| {
            !self
                .no_beats
                .iter()
                .any(|&(a, z)| b.time >= a.min(z) && b.time < a.max(z))
        });
        beats
    }

    /// The grid the other repairs start from: the user's beats, a constant tempo, or the
    /// tracked beats.
    fn base(&self, music: &MusicAnalysis) -> Vec<Mark> {
        let tracked: Vec<Mark> = music
            .beats
            .iter()
            .map(|b| Mark {
                time: b.time,
                downbeat: b.beat_in_bar == 0,
                confidence: b.confidence,
            })
            .collect();
        if let Some(user) = &self.beats {
            let mut times: Vec<Ticks> = user
                .iter()
                .copied()
                .filter(|&t| t >= 0 && t <= music.duration)
                .collect();
            times.sort_unstable();
            times.dedup();
            return times
                .into_iter()
                .map(|time| Mark {
                    time,
                    downbeat: false,
                    confidence: 1.0,
                })
                .collect();
        }
        match self.bpm {
            Some(bpm) if bpm.is_finite() && bpm >= 10.0 => constant_grid(music, bpm, &tracked),
            _ => tracked,
        }
    }
}

/// A grid at `bpm` over the stretch the tracker found beats in (the whole song if none),
/// its phase where the onset strength summed over the beats is largest; downbeats are
/// taken from the tracked beats they fall near.
fn constant_grid(music: &MusicAnalysis, bpm: f64, tracked: &[Mark]) -> Vec<Mark> {
    let period = TICKS_PER_SECOND as f64 * 60.0 / bpm;
    let (start, end) = match (tracked.first(), tracked.last()) {
        (Some(a), Some(z)) => (
            (a.time as f64 - period).max(0.0),
            (z.time as f64 + period).min(music.duration as f64),
        ),
        _ => (0.0, music.duration as f64),
    };
    let onset = &music.onset_strength;
    let steps = 64usize;
    let strength = |phase: f64| -> f64 {
        let mut t = start + phase;
        let mut total = 0.0;
        while t <= end {
            total += f64::from(onset.at(t.round() as Ticks));
            t += period;
        }
        total
    };
    let best_phase = (0..steps)
        .map(|k| k as f64 * period / steps as f64)
        .max_by(|a, b| strength(*a).total_cmp(&strength(*b)))
        .unwrap_or(0.0);
    let mut marks = Vec::new();
    let mut t = start + best_phase;
    while t <= end {
        let time = t.round() as Ticks;
        let near = tracked
            .iter()
            .min_by_key(|m| (m.time - time).abs())
            .filter(|m| ((m.time - time).abs() as f64) < 0.25 * period);
        marks.push(Mark {
            time,
            downbeat: near.is_some_and(|m| m.downbeat),
            confidence: 1.0,
        });
        t += period;
    }
    marks
}

/// x2 (`level` > 0: a beat between every two) or /2 (`level` < 0: every other beat, the
/// half holding more downbeats), `level.abs()` times.
fn change_level(mut marks: Vec<Mark>, level: i8) -> Vec<Mark> {
    for _ in 0..level.unsigned_abs().min(3) {
        if level > 0 {
            let mut out = Vec::with_capacity(marks.len() * 2);
            for pair in marks.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                out.push(a);
                out.push(Mark {
                    time: a.time + (b.time - a.time) / 2,
                    downbeat: false,
                    confidence: a.confidence.min(b.confidence),
                });
            }
            out.extend(marks.last().copied());
            marks = out;
        } else {
            let even = marks.iter().step_by(2).filter(|m| m.downbeat).count();
            let odd = marks
                .iter()
                .skip(1)
                .step_by(2)
                .filter(|m| m.downbeat)
                .count();
            let skip = usize::from(odd > even);
            marks = marks.into_iter().skip(skip).step_by(2).collect();
        }
    }
    marks
}

/// Every beat moved half-way to the next (the last by half the interval before it).
fn shift_half(marks: &[Mark]) -> Vec<Mark> {
    let mut out = Vec::with_capacity(marks.len());
    for (i, m) in marks.iter().enumerate() {
        let gap = match (
            marks.get(i + 1),
            i.checked_sub(1).and_then(|p| marks.get(p)),
        ) {
            (Some(next), _) => next.time - m.time,
            (None, Some(prev)) => m.time - prev.time,
            (None, None) => 0,
        };
        out.push(Mark {
            time: m.time + gap / 2,
            ..*m
        });
    }
    out
}

/// Gaps each side of a beat that make up its local beat period.
const PERIOD_NEIGHBOURS: usize = 4;

/// The beat period around `marks[i]`: the median of the gaps around it, so the odd gap of a
/// seam (half a beat, a beat and a half) does not set it.
fn local_period(marks: &[Mark], i: usize) -> Ticks {
    let lo = i.saturating_sub(PERIOD_NEIGHBOURS);
    let hi = (i + PERIOD_NEIGHBOURS + 1).min(marks.len());
    let mut gaps: Vec<Ticks> = marks
        .get(lo..hi)
        .unwrap_or_default()
        .windows(2)
        .map(|w| w[1].time - w[0].time)
        .filter(|&g| g > 0)
        .collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied().unwrap_or(0)
}

/// The beats inside `spans` moved half a beat later (half their local period); where a span
/// starts or ends the grid is made whole again: a beat that lands within three quarters of a
/// beat of the one before is dropped, and a gap of about two beats gets the beat it lacks. A
/// tracker that slipped onto the off-beat for a section slipped by half a beat at each end,
/// so the seams come out one beat apart, and bars keep counting through the stretch.
fn shift_half_within(marks: &[Mark], spans: &[(Ticks, Ticks)]) -> Vec<Mark> {
    let inside = |t: Ticks| spans.iter().any(|&(a, z)| t >= a.min(z) && t < a.max(z));
    let mut out: Vec<Mark> = Vec::with_capacity(marks.len() + 2);
    for (i, m) in marks.iter().enumerate() {
        let period = local_period(marks, i);
        let here = inside(m.time);
        let moved = if here {
            Mark {
                time: m.time + period / 2,
                ..*m
            }
        } else {
            *m
        };
        let seam = i
            .checked_sub(1)
            .and_then(|p| marks.get(p))
            .is_some_and(|prev| inside(prev.time) != here);
        if let (true, Some(last)) = (seam && period > 0, out.last().copied()) {
            let gap = moved.time - last.time;
            if gap < period * 3 / 4 {
                continue;
            }
            if gap > period * 3 / 2 && gap < period * 5 / 2 {
                out.push(Mark {
                    time: last.time + gap / 2,
                    downbeat: false,
                    confidence: last.confidence.min(moved.confidence),
                });
            }
        }
        out.push(moved);
    }
    out
}

/// Index of the beat nearest `t`.
fn nearest(marks: &[Mark], t: Ticks) -> Option<usize> {
    marks
        .iter()
        .enumerate()
        .min_by_key(|(_, m)| (m.time - t).abs())
        .map(|(i, _)| i)
}

/// Moves the beat nearest `from` to `to`, kept between its neighbours.
fn move_nearest(marks: &mut [Mark], from: Ticks, to: Ticks) {
    let Some(i) = nearest(marks, from) else {
        return;
    };
    let lo = i
        .checked_sub(1)
        .and_then(|p| marks.get(p))
        .map_or(Ticks::MIN, |m| m.time + 1);
    let hi = marks.get(i + 1).map_or(Ticks::MAX, |m| m.time - 1);
    if let Some(m) = marks.get_mut(i) {
        m.time = to.clamp(lo, hi.max(lo));
        m.confidence = 1.0;
    }
}

/// Tempo of a grid: 60 over the median inter-beat interval, BPM (one decimal).
fn tempo_of(beats: &[Beat]) -> Option<f64> {
    let mut gaps: Vec<Ticks> = beats.windows(2).map(|w| w[1].time - w[0].time).collect();
    gaps.retain(|&g| g > 0);
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2] as f64 / TICKS_PER_SECOND as f64;
    Some((600.0 / median).round() / 10.0)
}

/// Reads a beat file: one time in seconds per line (the first number of the line, so
/// Audacity labels, Sonic Visualiser and CSV exports work); `#` comments and blank lines are
/// skipped. Fails naming the first line that has no time.
pub fn parse_beat_file(text: &str) -> Result<Vec<Ticks>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .find(|s| !s.is_empty())
            .unwrap_or("");
        match first.parse::<f64>() {
            Ok(secs) if secs.is_finite() && secs >= 0.0 => out.push(ticks_from_secs(secs)),
            _ => {
                return Err(format!(
                    "line {}: {first:?} is not a time in seconds",
                    n + 1
                ));
            }
        }
    }
    if out.is_empty() {
        return Err("no beat times in the file".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::music::Curve;
    use crate::time::secs_from_ticks;

    /// A 20 s song with beats every 0.5 s from 0.25 s, bars of 4 from the first.
    fn song() -> MusicAnalysis {
        let beats = (0..40)
            .map(|k| Beat {
                time: ticks_from_secs(0.25 + 0.5 * k as f64),
                bar: k / 4,
                beat_in_bar: (k % 4) as u8,
                confidence: 0.8,
            })
            .collect();
        // Onsets on the true beats, which sit at 0.0 + 0.5 k (the tracked grid is off-beat).
        let hop = ticks_from_secs(0.01);
        let values = (0..2000)
            .map(|n| if n % 50 == 0 { 1.0 } else { 0.05 })
            .collect();
        MusicAnalysis {
            duration: ticks_from_secs(20.0),
            tempo_bpm: 120.0,
            beats_per_bar: 4,
            beats,
            onset_strength: Curve { hop, values },
            ..MusicAnalysis::default()
        }
    }

    fn secs(beats: &[Beat]) -> Vec<f64> {
        beats
            .iter()
            .map(|b| (secs_from_ticks(b.time) * 1000.0).round() / 1000.0)
            .collect()
    }

    #[test]
    fn no_edits_borrow_the_analysis() {
        let m = song();
        assert!(matches!(
            BeatGridEdits::default().apply(&m),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn double_and_halve_change_the_tempo_and_keep_downbeats() {
        let m = song();
        let double = BeatGridEdits {
            level: 1,
            ..Default::default()
        };
        let d = double.apply(&m);
        assert_eq!(d.tempo_bpm, 240.0);
        assert_eq!(d.beats.len(), 79);
        assert_eq!(secs(&d.beats)[..3], [0.25, 0.5, 0.75]);
        assert_eq!(d.beats[0].beat_in_bar, 0);
        let half = BeatGridEdits {
            level: -1,
            ..Default::default()
        };
        let h = half.apply(&m);
        assert_eq!(h.tempo_bpm, 60.0);
        assert_eq!(h.beats.len(), 20);
        // Every old downbeat (0.25, 2.25, ...) is still a beat, and still a downbeat.
        for b in m.beats.iter().filter(|b| b.beat_in_bar == 0) {
            let kept = h
                .beats
                .iter()
                .find(|x| x.time == b.time)
                .expect("downbeat kept");
            assert_eq!(kept.beat_in_bar % 2, 0);
        }
    }

    #[test]
    fn half_beat_shift_offset_and_moves() {
        let m = song();
        let e = BeatGridEdits {
            half_beat_shift: true,
            offset: ticks_from_secs(0.01),
            moved: vec![(ticks_from_secs(1.01), ticks_from_secs(1.1))],
            ..Default::default()
        };
        let b = secs(&e.apply(&m).beats);
        assert_eq!(b[..4], [0.51, 1.1, 1.51, 2.01]);
    }

    #[test]
    fn half_a_beat_in_one_stretch() {
        let m = song();
        // Beats every 0.5 s from 0.25 s; between 4 s and 8 s they move to whole half-seconds.
        let e = BeatGridEdits {
            half_beat_spans: vec![(ticks_from_secs(4.0), ticks_from_secs(8.0))],
            ..Default::default()
        };
        let a = e.apply(&m);
        let b = secs(&a.beats);
        let phase = |t: f64| ((t * 2.0).fract() * 100.0).round() / 100.0;
        for &t in &b {
            let expected = if (4.0..8.25).contains(&t) { 0.0 } else { 0.5 };
            assert_eq!(phase(t), expected, "{t}: {b:?}");
        }
        // On this grid (on the beat all along) the way in leaves three quarters of a beat
        // and the beat after the way out would sit a half beat on: it is dropped.
        assert!(b.windows(2).all(|w| w[1] - w[0] >= 0.49), "{b:?}");
        assert!(
            b.contains(&4.5) && b.contains(&8.0) && !b.contains(&8.25),
            "{b:?}"
        );

        // A grid that slipped onto the off-beat between 4 s and 8 s (a beat and a half at the
        // way in, half a beat at the way out) comes out whole: one beat every 0.5 s, bars of
        // four counted straight through.
        let mut slipped = song();
        for beat in &mut slipped.beats {
            let t = secs_from_ticks(beat.time);
            if (4.0..8.0).contains(&t) {
                beat.time += ticks_from_secs(0.25);
            }
        }
        slipped.beats.retain(|b| {
            let t = secs_from_ticks(b.time);
            !(4.0..4.5).contains(&t) || t > 4.4
        });
        let e = BeatGridEdits {
            half_beat_spans: vec![(ticks_from_secs(4.4), ticks_from_secs(8.1))],
            ..Default::default()
        };
        let fixed = e.apply(&slipped);
        let b = secs(&fixed.beats);
        assert!(
            b.windows(2).all(|w| (w[1] - w[0] - 0.5).abs() < 0.01),
            "{b:?}"
        );
        let counts: Vec<u8> = fixed.beats.iter().map(|b| b.beat_in_bar).collect();
        assert!(
            counts.windows(2).all(|w| w[1] == (w[0] + 1) % 4),
            "{counts:?}"
        );
    }

    #[test]
    fn constant_tempo_fits_the_onsets() {
        let m = song();
        let e = BeatGridEdits {
            bpm: Some(120.0),
            ..Default::default()
        };
        let a = e.apply(&m);
        assert_eq!(a.tempo_bpm, 120.0);
        // Onsets are at whole half-seconds: the grid moves onto them.
        for t in secs(&a.beats) {
            assert!((t * 2.0 - (t * 2.0).round()).abs() < 0.02, "{t}");
        }
    }

    #[test]
    fn downbeat_and_beatless_stretches() {
        let m = song();
        let e = BeatGridEdits {
            downbeat: Some(ticks_from_secs(0.75)),
            no_beats: vec![(ticks_from_secs(5.0), ticks_from_secs(10.0))],
            ..Default::default()
        };
        let a = e.apply(&m);
        let at = |s: f64| {
            a.beats
                .iter()
                .find(|b| b.time == ticks_from_secs(s))
                .copied()
        };
        assert_eq!(at(0.75).unwrap().beat_in_bar, 0);
        assert_eq!(at(0.25).unwrap().beat_in_bar, 3);
        assert_eq!(at(0.25).unwrap().bar, 0);
        assert_eq!(at(0.75).unwrap().bar, 1);
        assert!(at(5.25).is_none() && at(9.75).is_none());
        assert!(at(10.25).is_some());
    }

    #[test]
    fn beat_files_parse_and_replace_the_grid() {
        let beats = parse_beat_file("# tapped\n0.5\n1.0\tbeat\n1.5,x\n\n2.0 label\n").unwrap();
        assert_eq!(beats.len(), 4);
        assert!(
            parse_beat_file("0.5\nabc\n")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(parse_beat_file("# nothing\n").is_err());
        let e = BeatGridEdits {
            beats: Some(beats),
            ..Default::default()
        };
        let m = song();
        let a = e.apply(&m);
        assert_eq!(secs(&a.beats), [0.5, 1.0, 1.5, 2.0]);
        assert_eq!(a.tempo_bpm, 120.0);
    }
}
