//! Short-form montages: which stretch of the song a montage of a set length uses. The
//! planner then plans that stretch as if it were the whole song (cuts, pacing and the story
//! arc follow it), and the export takes the music from there, fading over the final bar.

use serde::{Deserialize, Serialize};

use crate::analysis::music::{MusicAnalysis, SectionLabel};
use crate::time::{FrameRate, TICKS_PER_SECOND, Ticks};

/// Bars in a phrase: starts on a phrase boundary are preferred.
const PHRASE_BARS: usize = 4;
/// The shortest music fade at the end, even when the end falls on a downbeat (no click).
const MIN_FADE: Ticks = TICKS_PER_SECOND / 20;

/// The stretch of the song a montage uses.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MusicRegion {
    /// Where in the song the montage starts (a downbeat).
    pub start: Ticks,
    /// Where it ends (`start` + the length, on the output frame grid).
    pub end: Ticks,
    /// How long the music fades out before `end`: the final bar when the end falls inside
    /// one, a few frames when it falls on a downbeat or a section end.
    pub fade_out: Ticks,
}

impl MusicRegion {
    /// When the music decays to silence over the final bar (rather than being cut at a
    /// section end): the downbeat the decay starts on, song time. The montage's last cut
    /// falls there and no cut comes after it.
    pub fn final_downbeat(&self) -> Option<Ticks> {
        (self.fade_out > MIN_FADE).then_some(self.end - self.fade_out)
    }
}

/// Picks the stretch of `music` (with the user's grid repairs applied) for a montage lasting
/// `length`: `None` when the whole song fits. Starts on a downbeat; by default the one that
/// starts a phrase or section and gives the best stretch (the drop inside it, loud, ending on
/// a downbeat or a section end); with `start_hint` (the user dragged the region) the
/// downbeat nearest to it.
pub fn choose_region(
    music: &MusicAnalysis,
    length: Ticks,
    start_hint: Option<Ticks>,
    fps: FrameRate,
) -> Option<MusicRegion> {
    let length = fps.ticks_of_frame(fps.nearest_frame(length));
    if length <= 0 || length >= music.duration {
        return None;
    }
    let latest_start = music.duration - length;
    let downbeats: Vec<Ticks> = music.downbeats().filter(|&t| t <= latest_start).collect();
    let bar = typical_bar(music);
    let start = match start_hint {
        Some(hint) => downbeats
            .iter()
            .copied()
            .min_by_key(|&d| (d - hint).abs())
            .unwrap_or_else(|| hint.clamp(0, latest_start)),
        None => best_start(music, &downbeats, length, bar).unwrap_or(0),
    };
    let end = start + length;
    Some(MusicRegion {
        start,
        end,
        fade_out: ending_fade(music, start, end, bar),
    })
}

/// The median bar length (4 beats at 120 BPM when the song has no beats).
fn typical_bar(music: &MusicAnalysis) -> Ticks {
    let downbeats: Vec<Ticks> = music.downbeats().collect();
    let mut bars: Vec<Ticks> = downbeats.windows(2).map(|w| w[1] - w[0]).collect();
    bars.sort_unstable();
    bars.get(bars.len() / 2)
        .copied()
        .unwrap_or(2 * TICKS_PER_SECOND)
}

/// The best downbeat to start on: phrase and section starts first, scored by whether the
/// stretch holds the drop, how loud it is, and whether it ends on a downbeat.
fn best_start(
    music: &MusicAnalysis,
    downbeats: &[Ticks],
    length: Ticks,
    bar: Ticks,
) -> Option<Ticks> {
    let section_starts: Vec<Ticks> = music.sections.iter().map(|s| s.start).collect();
    let drops: Vec<Ticks> = music
        .sections
        .iter()
        .filter(|s| s.label == SectionLabel::Climax)
        .map(|s| s.start)
        .collect();
    let all_downbeats: Vec<Ticks> = music.downbeats().collect();
    let section_ends: Vec<Ticks> = music.sections.iter().map(|s| s.end).collect();
    let energy = &music.energy.smoothed;
    let score = |index: usize, start: Ticks| -> f64 {
        let end = start + length;
        let phrase = index.is_multiple_of(PHRASE_BARS)
            || section_starts.iter().any(|&s| (s - start).abs() <= bar / 2);
        // The drop well inside: at least two bars of it are heard.
        let holds_drop = drops.iter().any(|&d| d >= start && d + 2 * bar <= end);
        let loudness = mean_over(energy, start, end);
        // Ending on a section end (a clean cut) is best, on a downbeat next.
        let near = |times: &[Ticks]| times.iter().map(|&t| (t - end).abs()).min().unwrap_or(bar);
        let fit = |distance: Ticks| 1.0 - distance.min(bar) as f64 / bar as f64;
        let end_fit = (0.5 * fit(near(&section_ends))).max(0.25 * fit(near(&all_downbeats)));
        2.0 * f64::from(u8::from(holds_drop))
            + 0.5 * f64::from(u8::from(phrase))
            + f64::from(loudness)
            + end_fit
    };
    downbeats
        .iter()
        .enumerate()
        .map(|(i, &d)| (d, score(i, d)))
        // Ties go to the earlier start.
        .fold(None, |best: Option<(Ticks, f64)>, (d, s)| match best {
            Some((_, b)) if b >= s - 1e-9 => best,
            _ => Some((d, s)),
        })
        .map(|(d, _)| d)
}

/// Mean of `curve` over `start..end` (0 when it has no values there).
fn mean_over(curve: &crate::analysis::music::Curve, start: Ticks, end: Ticks) -> f32 {
    if curve.hop <= 0 {
        return 0.0;
    }
    let from = (start / curve.hop).max(0) as usize;
    let to = ((end / curve.hop).max(0) as usize).min(curve.values.len());
    let values = curve.values.get(from..to).unwrap_or(&[]);
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f32>() / values.len() as f32
    }
}

/// How the music ends at `end`: a cut (a few frames of fade, no click) when `end` falls on a
/// section end; otherwise it decays to silence over the final bar, from the last downbeat at
/// least a beat before the end (where the last cut falls).
fn ending_fade(music: &MusicAnalysis, start: Ticks, end: Ticks, bar: Ticks) -> Ticks {
    let beat = bar / Ticks::from(music.beats_per_bar.max(1));
    let at_section_end = music
        .sections
        .iter()
        .any(|s| (s.end - end).abs() <= MIN_FADE);
    if at_section_end {
        return MIN_FADE;
    }
    let last_downbeat = music
        .downbeats()
        .filter(|&t| t > start && t <= end - beat)
        .last()
        .unwrap_or(end - bar);
    (end - last_downbeat).clamp(MIN_FADE, end - start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::music::{Beat, Curve, EnergyCurve, Section};

    /// A 180 s song at 120 BPM in 4/4 with a quiet intro, a climax from 90 s to 120 s.
    fn song() -> MusicAnalysis {
        let beat = TICKS_PER_SECOND / 2;
        let beats = (0..360)
            .map(|i| Beat {
                time: i * beat,
                bar: (i / 4) as u32,
                beat_in_bar: (i % 4) as u8,
                confidence: 1.0,
            })
            .collect();
        let s = TICKS_PER_SECOND;
        let section = |start: i64, end: i64, label, energy| Section {
            start: start * s,
            end: end * s,
            label,
            energy,
        };
        let hop = TICKS_PER_SECOND / 10;
        let smoothed = Curve {
            hop,
            values: (0..1800)
                .map(|i| if (900..1200).contains(&i) { 0.9 } else { 0.3 })
                .collect(),
        };
        MusicAnalysis {
            duration: 180 * s,
            tempo_bpm: 120.0,
            beats_per_bar: 4,
            beats,
            sections: vec![
                section(0, 30, SectionLabel::Intro, 0.2),
                section(30, 90, SectionLabel::Build, 0.4),
                section(90, 120, SectionLabel::Climax, 0.9),
                section(120, 180, SectionLabel::Outro, 0.3),
            ],
            energy: EnergyCurve {
                smoothed,
                ..EnergyCurve::default()
            },
            ..MusicAnalysis::default()
        }
    }

    #[test]
    fn a_short_montage_holds_the_drop_and_starts_on_a_phrase() {
        let music = song();
        let fps = FrameRate::whole(30);
        let region = choose_region(&music, 30 * TICKS_PER_SECOND, None, fps).expect("region");
        assert_eq!(region.end - region.start, 30 * TICKS_PER_SECOND);
        let drop = 90 * TICKS_PER_SECOND;
        assert!(region.start <= drop && drop < region.end, "{region:?}");
        let bar = 2 * TICKS_PER_SECOND;
        assert_eq!(region.start % bar, 0, "starts on a downbeat");
        // The best 30 s is the climax itself: it starts the section and is cut at its end.
        assert_eq!(region.start, drop);
        assert_eq!(region.end, 120 * TICKS_PER_SECOND);
        assert_eq!(region.fade_out, MIN_FADE);
        // Ending mid-section, the music decays over the final bar (30 s is 15 bars).
        let placed = choose_region(
            &music,
            30 * TICKS_PER_SECOND,
            Some(62 * TICKS_PER_SECOND),
            fps,
        )
        .expect("region");
        assert_eq!(placed.start, 62 * TICKS_PER_SECOND);
        assert_eq!(placed.fade_out, bar);
        // A length off the bar grid fades over the final bar.
        let odd = choose_region(&music, 31 * TICKS_PER_SECOND, None, fps).expect("region");
        assert!(
            odd.fade_out >= TICKS_PER_SECOND / 2 && odd.fade_out <= 2 * bar,
            "{odd:?}"
        );
        // The whole song fits: no region.
        assert_eq!(
            choose_region(&music, 200 * TICKS_PER_SECOND, None, fps),
            None
        );
        // A dragged region snaps to the nearest downbeat.
        let hint = crate::time::ticks_from_secs(41.3);
        let dragged =
            choose_region(&music, 15 * TICKS_PER_SECOND, Some(hint), fps).expect("region");
        assert_eq!(dragged.start, 42 * TICKS_PER_SECOND);
    }
}
