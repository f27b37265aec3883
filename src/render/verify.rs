//! The sync report: what an exported file really does, measured on the file.
//!
//! The written video is decoded again and its cuts found the way clip analysis finds them.
//! Each planned hard cut is set against the frame where the picture really changes, and
//! against the nearest beat. The written sound is set against the song. Both are measured
//! as onset envelopes, and the lag that lines them up, plus where the sound starts against
//! the picture, is the A/V offset. Nothing here trusts the plan: a muxer that shifted a
//! stream, an encoder that dropped a frame, or a seek that landed a frame late shows up.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::video::{ClipParams, DetectMode, analyze_clip};
use crate::jobs::CancelToken;
use crate::media::{self, MediaError};
use crate::plan::{Timeline, Transition};
use crate::time::{FrameRate, TICKS_PER_SECOND, Ticks, secs_from_ticks};

/// A planned cut farther than this from any picture change counts as not seen.
const SEARCH_FRAMES: i64 = 5;
/// Sample rate both soundtracks are compared at.
const COMPARE_RATE: u32 = 22_050;
/// Samples per onset-envelope step (2.9 ms at `COMPARE_RATE`).
const HOP: usize = 64;
/// Largest A/V offset looked for, seconds.
const MAX_OFFSET_SECS: f64 = 0.5;

/// Why verification could not run.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The export or the song could not be read.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// Decoding the export's picture failed.
    #[error("cannot scan the picture of {path}: {reason}")]
    Picture {
        /// The export.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The user cancelled.
    #[error("verification cancelled")]
    Cancelled,
}

/// What a verification is checked against: the planned cuts, the beats and the song.
#[derive(Debug, Clone)]
pub struct VerifyPlan {
    /// Frame rate of the timeline (and the export).
    pub fps: FrameRate,
    /// Planned cuts in timeline order (the start of every shot after the first).
    pub cuts: Vec<PlannedCut>,
    /// The beats of the song, timeline time.
    pub beats: Vec<Ticks>,
    /// The song the export's sound should be.
    pub music: PathBuf,
    /// Where in the song the timeline starts (a montage shorter than the song).
    pub music_start: Ticks,
}

/// One planned cut.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlannedCut {
    /// Timeline time of the cut.
    pub time: Ticks,
    /// What the picture does there.
    pub kind: CutKind,
}

/// How a planned cut shows in the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CutKind {
    /// A hard cut: the picture changes on one frame.
    Hard,
    /// A crossfade: the change is spread over frames (not measured to the frame).
    Crossfade,
    /// The next shot continues the same footage: nothing changes in the picture.
    Continuous,
}

impl VerifyPlan {
    /// The cuts of `timeline` (hard, crossfaded, or continuing the same footage).
    pub fn from_timeline(timeline: &Timeline, beats: Vec<Ticks>, music: &Path) -> Self {
        let cuts = timeline
            .segments
            .windows(2)
            .map(|w| {
                let (prev, next) = (&w[0], &w[1]);
                let kind = if prev.clip == next.clip && prev.src_out == next.src_in {
                    CutKind::Continuous
                } else if matches!(next.transition, Transition::Crossfade { frames } if frames > 0)
                {
                    CutKind::Crossfade
                } else {
                    CutKind::Hard
                };
                PlannedCut {
                    time: next.start,
                    kind,
                }
            })
            .collect();
        Self {
            fps: timeline.fps,
            cuts,
            beats,
            music: music.to_path_buf(),
            music_start: timeline.music_start(),
        }
    }
}

/// One planned hard cut, checked on the file.
#[derive(Debug, Clone, Serialize)]
pub struct CutCheck {
    /// The planned cut frame.
    pub planned_frame: i64,
    /// The frame where the picture changes, when a change was found near the plan.
    pub found_frame: Option<i64>,
    /// Found minus planned, frames.
    pub off_frames: Option<i64>,
    /// From the frame the picture changes on (or the planned one) to the nearest beat, ms.
    pub beat_offset_ms: f64,
}

/// What the exported file does: its cuts against the plan and the beats, its sound against
/// its picture.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// The export that was checked.
    pub path: PathBuf,
    /// One output frame, ms (the tolerance of every check).
    pub frame_ms: f64,
    /// Every planned hard cut.
    pub cuts: Vec<CutCheck>,
    /// Planned crossfades (not measured to the frame).
    pub crossfades: usize,
    /// Planned cuts between two stretches of the same footage (no picture change).
    pub continuous: usize,
    /// Picture changes that match no planned cut (a frame dropped or repeated, a glitch).
    pub unplanned_changes: Vec<i64>,
    /// Sound against picture, ms: positive when the sound is late. `None` without sound.
    pub av_offset_ms: Option<f64>,
    /// How clearly the soundtrack lines up with the song, 0..=1 (`None` without sound).
    pub av_match: Option<f32>,
}

impl SyncReport {
    /// Hard cuts found on their planned frame.
    pub fn cuts_on_frame(&self) -> usize {
        self.cuts.iter().filter(|c| c.off_frames == Some(0)).count()
    }

    /// Hard cuts with no picture change near them: the shots either side look alike (the same
    /// footage at another moment, say), so where the cut falls cannot be measured.
    pub fn cuts_not_seen(&self) -> usize {
        self.cuts.iter().filter(|c| c.found_frame.is_none()).count()
    }

    /// What is wrong with the file, one line each: cuts more than one frame off (or off the
    /// beat), A/V off by more than a frame, and most cuts showing no change near their frame
    /// (the picture shifted further than the search). Empty when all is well.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let not_seen = self.cuts_not_seen();
        if not_seen * 2 > self.cuts.len() {
            out.push(format!(
                "{not_seen} of {} cuts show no picture change within {SEARCH_FRAMES} frames of \
                 their plan: the picture may be shifted further than that",
                self.cuts.len()
            ));
        }
        for c in &self.cuts {
            if let Some(off) = c.off_frames.filter(|off| off.abs() > 1) {
                out.push(format!(
                    "cut at frame {} lands on frame {} ({off:+} frames)",
                    c.planned_frame,
                    c.planned_frame + off
                ));
            }
            if c.beat_offset_ms.abs() > self.frame_ms {
                out.push(format!(
                    "cut at frame {} is {:+.0} ms off the nearest beat",
                    c.found_frame.unwrap_or(c.planned_frame),
                    c.beat_offset_ms
                ));
            }
        }
        if let Some(av) = self.av_offset_ms.filter(|av| av.abs() > self.frame_ms) {
            let late = if av > 0.0 { "late" } else { "early" };
            out.push(format!(
                "sound is {:.0} ms {late} against the picture (more than one frame)",
                av.abs()
            ));
        }
        out
    }

    /// One line for the export dialog and the CLI.
    pub fn summary(&self) -> String {
        let on = self.cuts_on_frame();
        let av = self
            .av_offset_ms
            .map_or("no sound".to_owned(), |ms| format!("A/V {ms:+.0} ms"));
        let problems = self.problems();
        let not_seen = self.cuts_not_seen();
        let unmeasured = if not_seen > 0 {
            format!(" ({not_seen} between look-alike shots, not measurable)")
        } else {
            String::new()
        };
        if problems.is_empty() {
            format!(
                "all {} measurable cuts on their frame and on the beat{unmeasured}; {av}",
                self.cuts.len() - not_seen
            )
        } else {
            format!(
                "{on} of {} cuts on their frame{unmeasured}; {av}; {} problem(s)",
                self.cuts.len(),
                problems.len()
            )
        }
    }
}

/// Checks the export at `path` against `plan`. `progress` gets 0..=1.
pub fn verify_export(
    path: &Path,
    plan: &VerifyPlan,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(f32),
) -> Result<SyncReport, VerifyError> {
    let info = media::probe(path)?;
    let video_start = info.video().map_or(0, |v| v.start_time);
    // The picture: every frame decoded and scored small, as clip analysis does.
    let params = ClipParams {
        mode: DetectMode::Accurate,
        gradual: true,
        track_subject: false,
        ..ClipParams::default()
    };
    let scan = analyze_clip(path, &params, cancel, &mut |p| progress(0.9 * p.fraction())).map_err(
        |e| {
            if cancel.is_cancelled() {
                VerifyError::Cancelled
            } else {
                VerifyError::Picture {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                }
            }
        },
    )?;
    let fps = plan.fps;
    let found: Vec<i64> = scan.cuts.iter().map(|&t| fps.nearest_frame(t)).collect();
    let mut matched = vec![false; found.len()];
    let mut cuts = Vec::new();
    for cut in plan.cuts.iter().filter(|c| c.kind == CutKind::Hard) {
        let planned_frame = fps.nearest_frame(cut.time);
        let nearest = found
            .iter()
            .enumerate()
            .filter(|(_, f)| (**f - planned_frame).abs() <= SEARCH_FRAMES)
            .min_by_key(|(_, f)| (**f - planned_frame).abs());
        let found_frame = nearest.map(|(i, &f)| {
            if let Some(m) = matched.get_mut(i) {
                *m = true;
            }
            f
        });
        let at = fps.ticks_of_frame(found_frame.unwrap_or(planned_frame));
        let beat_offset = plan.beats.iter().map(|&b| at - b).min_by_key(|d| d.abs());
        cuts.push(CutCheck {
            planned_frame,
            found_frame,
            off_frames: found_frame.map(|f| f - planned_frame),
            beat_offset_ms: beat_offset.map_or(f64::NAN, |d| secs_from_ticks(d) * 1000.0),
        });
    }
    // Changes near a crossfade or a continuing shot are not unplanned.
    let expected_near = |f: i64| {
        plan.cuts
            .iter()
            .any(|c| (fps.nearest_frame(c.time) - f).abs() <= SEARCH_FRAMES)
    };
    let unplanned_changes = found
        .iter()
        .zip(&matched)
        .filter(|(f, m)| !**m && !expected_near(**f))
        .map(|(f, _)| *f)
        .collect();
    if cancel.is_cancelled() {
        return Err(VerifyError::Cancelled);
    }
    // The sound against the song.
    let (av_offset_ms, av_match) = if info.audio().is_some() {
        match sound_offset(path, &plan.music, plan.music_start, video_start, cancel)? {
            Some((ms, m)) => (Some(ms), Some(m)),
            None => (None, None),
        }
    } else {
        (None, None)
    };
    progress(1.0);
    Ok(SyncReport {
        path: path.to_path_buf(),
        frame_ms: secs_from_ticks(fps.frame_ticks()) * 1000.0,
        crossfades: plan
            .cuts
            .iter()
            .filter(|c| c.kind == CutKind::Crossfade)
            .count(),
        continuous: plan
            .cuts
            .iter()
            .filter(|c| c.kind == CutKind::Continuous)
            .count(),
        cuts,
        unplanned_changes,
        av_offset_ms,
        av_match,
    })
}

/// Where the export's sound sits against its picture, ms (positive: late), and how well it
/// lines up with the song: the lag that best aligns the two onset envelopes, plus where the
/// sound starts in the file against the picture.
fn sound_offset(
    export: &Path,
    music: &Path,
    music_start: Ticks,
    video_start: Ticks,
    cancel: &CancelToken,
) -> Result<Option<(f64, f32)>, VerifyError> {
    let written = media::decode_audio(export, COMPARE_RATE, 1, cancel, &mut |_| {})?;
    let song = media::decode_audio(music, COMPARE_RATE, 1, cancel, &mut |_| {})?;
    let starts_at = written.first_pts.unwrap_or(video_start) - video_start;
    let skip = (crate::time::samples_from_ticks(music_start, COMPARE_RATE).max(0) as usize)
        .min(song.samples.len());
    let probe = onset_envelope(&written.samples);
    let reference = onset_envelope(&song.samples[skip..]);
    let max_lag = (MAX_OFFSET_SECS * f64::from(COMPARE_RATE) / HOP as f64) as isize;
    let Some((lag, strength)) = best_lag(&reference, &probe, max_lag) else {
        return Ok(None);
    };
    let lag_ticks = lag as i64 * HOP as i64 * TICKS_PER_SECOND / i64::from(COMPARE_RATE);
    Ok(Some((
        secs_from_ticks(starts_at + lag_ticks) * 1000.0,
        strength,
    )))
}

/// Samples each energy is measured over (46 ms at `COMPARE_RATE`): longer than a low
/// note's period, so the envelope does not depend on where a hop falls in the waveform.
const ENERGY_WINDOW: usize = 1024;

/// Rises of log energy every `HOP` samples, each energy over `ENERGY_WINDOW`: where sounds
/// start.
fn onset_envelope(samples: &[f32]) -> Vec<f32> {
    let mut prefix = Vec::with_capacity(samples.len() + 1);
    let mut sum = 0.0f64;
    prefix.push(0.0);
    for x in samples {
        sum += f64::from(x * x);
        prefix.push(sum);
    }
    let steps = samples.len().saturating_sub(ENERGY_WINDOW) / HOP;
    let energy: Vec<f32> = (0..steps)
        .map(|k| {
            let (a, b) = (k * HOP, k * HOP + ENERGY_WINDOW);
            ((prefix[b] - prefix[a]) / ENERGY_WINDOW as f64 + 1e-8).ln() as f32
        })
        .collect();
    let mut out = vec![0.0; energy.len()];
    for (o, w) in out.iter_mut().skip(1).zip(energy.windows(2)) {
        *o = (w[1] - w[0]).max(0.0);
    }
    out
}

/// Lags whose correlation comes this close to the best one are as good: music repeats every
/// beat, so a lag a whole beat away can line up nearly as well, and the smallest wins (an
/// offset of more than half a beat on steady music cannot be told from the smaller one).
const LAG_TIE: f32 = 0.85;

/// The lag (in envelope steps, positive when `probe` is late) within `max_lag` at which
/// `probe` lines up best with `reference`, and the normalised correlation there. Of lags
/// that line up about as well (a beat apart), the smallest.
fn best_lag(reference: &[f32], probe: &[f32], max_lag: isize) -> Option<(isize, f32)> {
    let n = reference.len().min(probe.len());
    if n < 16 {
        return None;
    }
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let mut scored: Vec<(isize, f32)> = Vec::new();
    for lag in -max_lag..=max_lag {
        // probe[i + lag] against reference[i]
        let (r0, p0) = if lag >= 0 {
            (0, lag as usize)
        } else {
            ((-lag) as usize, 0)
        };
        let len = n.saturating_sub(r0.max(p0));
        if len < 16 {
            continue;
        }
        let (r, p) = (&reference[r0..r0 + len], &probe[p0..p0 + len]);
        let denominator = norm(r) * norm(p);
        if denominator <= 0.0 {
            continue;
        }
        let corr = r.iter().zip(p).map(|(a, b)| a * b).sum::<f32>() / denominator;
        scored.push((lag, corr));
    }
    let top = scored
        .iter()
        .map(|&(_, c)| c)
        .fold(f32::NEG_INFINITY, f32::max);
    scored
        .into_iter()
        .filter(|&(_, c)| c >= LAG_TIE * top)
        .min_by_key(|&(lag, _)| lag.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(found: &[Option<i64>], av: f64) -> SyncReport {
        SyncReport {
            path: PathBuf::from("x.mp4"),
            frame_ms: 1000.0 / 30.0,
            cuts: found
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    let planned_frame = 30 * (k as i64 + 1);
                    CutCheck {
                        planned_frame,
                        found_frame: f.map(|off| planned_frame + off),
                        off_frames: *f,
                        beat_offset_ms: 0.0,
                    }
                })
                .collect(),
            crossfades: 0,
            continuous: 0,
            unplanned_changes: Vec::new(),
            av_offset_ms: Some(av),
            av_match: Some(1.0),
        }
    }

    #[test]
    fn problems_are_cuts_off_sound_off_or_a_picture_lost() {
        // On frame, one a frame off, one between look-alike shots: all is well.
        assert!(
            report(&[Some(0), Some(1), None, Some(0)], 10.0)
                .problems()
                .is_empty()
        );
        // Two frames off, and sound 40 ms late: two problems.
        let off = report(&[Some(0), Some(2), Some(0)], 40.0).problems();
        assert_eq!(off.len(), 2, "{off:?}");
        assert!(off[0].contains("+2 frames"), "{off:?}");
        assert!(off[1].contains("40 ms late"), "{off:?}");
        // Most cuts nowhere near their frame: the picture moved further than the search.
        let lost = report(&[None, None, Some(0)], 0.0).problems();
        assert_eq!(lost.len(), 1, "{lost:?}");
        assert!(lost[0].contains("2 of 3 cuts"), "{lost:?}");
    }

    #[test]
    fn best_lag_finds_a_shift_either_way() {
        let reference: Vec<f32> = (0..2000)
            .map(|i| {
                if i % 37 == 0 || i % 101 == 0 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        for shift in [-12isize, 0, 7, 30] {
            let probe: Vec<f32> = (0..2000isize)
                .map(|i| {
                    let j = i - shift;
                    if (0..2000).contains(&j) {
                        reference[j as usize]
                    } else {
                        0.0
                    }
                })
                .collect();
            let (lag, corr) = best_lag(&reference, &probe, 50).expect("a lag");
            assert_eq!(lag, shift);
            assert!(corr > 0.9, "{corr}");
        }
    }
}
