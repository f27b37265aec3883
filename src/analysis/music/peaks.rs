//! Adaptive peak picking of an onset strength curve.

use super::dsp::{max_around, moving_average};

/// Frames of the peaks of `o` (0..=1 curve at `frame_rate`): local maxima over ±30 ms that
/// rise above the mean of the surrounding ±100 ms by a margin that shrinks as
/// `sensitivity` (0..=1) grows, at least 30 ms apart.
pub(crate) fn pick_peaks(o: &[f32], frame_rate: f64, sensitivity: f32) -> Vec<usize> {
    let reach = ((0.03 * frame_rate).round() as usize).max(1);
    let avg_half = ((0.1 * frame_rate).round() as usize).max(1);
    let wait = reach;
    let delta = 0.02 + 0.2 * (1.0 - sensitivity.clamp(0.0, 1.0));
    let local_mean = moving_average(o, avg_half);
    let mut out: Vec<usize> = Vec::new();
    for (n, (&v, &m)) in o.iter().zip(&local_mean).enumerate() {
        if v <= 0.0 || v < max_around(o, n, reach, reach) || v < m + delta {
            continue;
        }
        if out.last().is_some_and(|&last| n - last < wait) {
            continue;
        }
        out.push(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_clear_peaks_and_skips_small_ones() {
        let mut o = vec![0.0f32; 300];
        o[50] = 1.0;
        o[150] = 0.6;
        o[250] = 0.05;
        assert_eq!(pick_peaks(&o, 86.0, 0.5), vec![50, 150]);
        assert_eq!(pick_peaks(&o, 86.0, 1.0), vec![50, 150, 250]);
    }
}
