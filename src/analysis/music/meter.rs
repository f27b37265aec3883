//! Meter (3 or 4 beats per bar) and downbeat phase from accents accumulated at each beat
//! position: low-frequency onsets (kick, bass) and harmonic change (chords move on the one).

use super::beats::BeatRun;
use super::dsp::{max_around, mean};

/// Bar numbering of every beat, run by run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bars {
    /// 3 or 4.
    pub beats_per_bar: u8,
    /// `(bar, beat_in_bar)` for each beat of each run.
    pub positions: Vec<Vec<(u32, u8)>>,
}

/// Accent of every beat of `run`: low-band onset + harmonic change + a little full-band onset
/// and local loudness, each scaled by its mean over all beats.
fn accents(runs: &[BeatRun], features: &AccentFeatures<'_>) -> Vec<Vec<f32>> {
    let AccentFeatures {
        onset,
        low,
        harmonic,
        loudness,
    } = *features;
    let at = |curve: &[f32], f: f64, reach: usize| {
        max_around(curve, f.round().max(0.0) as usize, reach, reach)
    };
    let all: Vec<f64> = runs.iter().flatten().copied().collect();
    // Floors keep a feature that is (almost) absent from being blown up to full weight.
    let norm = |curve: &[f32], reach: usize, floor: f32| {
        let m = mean(&all.iter().map(|&f| at(curve, f, reach)).collect::<Vec<_>>());
        1.0 / m.max(floor)
    };
    let (no, nl) = (norm(onset, 2, 1e-3), norm(low, 2, 1e-3));
    // Harmonic change is on an absolute scale: 0.15 is about 0.6 nats (5 dB) mean change.
    let (nh, nd) = (norm(harmonic, 4, 0.15), norm(loudness, 3, 1e-3));
    runs.iter()
        .map(|run| {
            run.iter()
                .map(|&f| {
                    0.5 * no * at(onset, f, 2)
                        + nl * at(low, f, 2)
                        + 1.5 * nh * at(harmonic, f, 4)
                        + 0.5 * nd * at(loudness, f, 3)
                })
                .collect()
        })
        .collect()
}

/// Contrast of the best phase for bars of `m` beats: (mean accent on that phase minus mean
/// elsewhere) over the standard deviation, and the phase.
fn best_phase(acc: &[f32], m: usize) -> (f32, usize) {
    if acc.len() < 2 * m {
        return (0.0, 0);
    }
    let mu = mean(acc);
    let sd = (acc.iter().map(|a| (a - mu) * (a - mu)).sum::<f32>() / acc.len() as f32).sqrt();
    if sd <= 1e-9 {
        return (0.0, 0);
    }
    (0..m)
        .map(|phase| {
            let on: Vec<f32> = acc.iter().skip(phase).step_by(m).copied().collect();
            let off: Vec<f32> = acc
                .iter()
                .enumerate()
                .filter(|(i, _)| i % m != phase)
                .map(|(_, &a)| a)
                .collect();
            ((mean(&on) - mean(&off)) / sd, phase)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or((0.0, 0))
}

/// Per-frame curves that accent downbeats.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AccentFeatures<'a> {
    /// Full-band onset strength.
    pub onset: &'a [f32],
    /// Low-band (kick, bass) onset strength.
    pub low: &'a [f32],
    /// Harmonic change.
    pub harmonic: &'a [f32],
    /// Loudness relative to its local mean (accented beats are louder).
    pub loudness: &'a [f32],
}

/// Chooses the meter over the whole song and the downbeat phase per run, and numbers bars.
pub(crate) fn assign_bars(runs: &[BeatRun], features: &AccentFeatures<'_>) -> Bars {
    let acc = accents(runs, features);
    let score = |m: usize| -> f32 {
        acc.iter()
            .map(|a| best_phase(a, m).0 * a.len() as f32)
            .sum::<f32>()
    };
    // 4/4 unless 3/4 is clearly better (a 4/4 song scores near zero for threes and vice versa).
    let m = if score(3) > 1.15 * score(4).max(0.0) + 1e-3 {
        3
    } else {
        4
    };
    let mut bar = 0u32;
    let mut positions = Vec::with_capacity(runs.len());
    for a in &acc {
        let (_, phase) = best_phase(a, m);
        let mut run_pos = Vec::with_capacity(a.len());
        let pickup = u32::from(phase > 0);
        for i in 0..a.len() {
            let rel = i as i64 - phase as i64;
            let beat_in_bar = rel.rem_euclid(m as i64) as u8;
            let bar_in_run = rel.div_euclid(m as i64) + pickup as i64;
            run_pos.push((bar + bar_in_run.max(0) as u32, beat_in_bar));
        }
        if let Some(&(last, _)) = run_pos.last() {
            bar = last + 1;
        }
        positions.push(run_pos);
    }
    Bars {
        beats_per_bar: m as u8,
        positions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_three_four_from_accents() {
        let n = 3000;
        let mut onset = vec![0f32; n];
        let mut low = vec![0f32; n];
        let harmonic = vec![0f32; n];
        let run: BeatRun = (0..60).map(|k| (10 + k * 40) as f64).collect();
        for (k, &f) in run.iter().enumerate() {
            onset[f as usize] = 1.0;
            low[f as usize] = if k % 3 == 1 { 1.0 } else { 0.2 };
        }
        let features = AccentFeatures {
            onset: &onset,
            low: &low,
            harmonic: &harmonic,
            loudness: &harmonic,
        };
        let bars = assign_bars(&[run], &features);
        assert_eq!(bars.beats_per_bar, 3);
        assert_eq!(bars.positions[0][1].1, 0);
        assert_eq!(bars.positions[0][0], (0, 2));
        assert_eq!(bars.positions[0][4], (2, 0));
    }
}
