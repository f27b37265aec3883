//! Dynamic-programming beat tracker (Ellis 2007) with the transition cost centred on a local
//! period, run per stretch of non-silent audio, and the choice of metrical level.

use std::ops::Range;

use super::dsp::{first_max, max_around, mean, parabolic_offset};

/// Beats of one stretch of audio, as fractional onset frames.
pub(crate) type BeatRun = Vec<f64>;

/// Tracks beats in `o` over `segment`, with beat period `period[n]` (frames) at frame `n`.
/// `local` is the onset envelope scaled to unit standard deviation.
pub(crate) fn track_segment(
    local: &[f32],
    period: &[f32],
    segment: Range<usize>,
    tightness: f32,
) -> BeatRun {
    let Range { start, end } = segment;
    let end = end.min(local.len()).min(period.len());
    if end <= start + 2 {
        return Vec::new();
    }
    let len = end - start;
    let max_period = period
        .get(start..end)
        .map_or(1.0, |p| p.iter().copied().fold(1.0f32, f32::max));
    // `ln_rev[top - d]` is ln(d), so for a fixed frame the candidates' logs run forward
    // alongside their scores and the inner loops vectorise.
    let top = (2.0 * max_period).ceil() as usize + 2;
    let ln_rev: Vec<f32> = (0..=top).map(|k| ((top - k).max(1) as f32).ln()).collect();
    let mut cum = vec![0f32; len];
    let mut back = vec![usize::MAX; len];
    for i in 0..len {
        let t = start + i;
        let p = period.get(t).copied().unwrap_or(1.0).max(1.0);
        let ln_p = p.ln();
        let far = ((2.0 * p).round() as usize).min(top);
        let near = ((0.5 * p).round() as usize).max(1);
        let here = local.get(t).copied().unwrap_or(0.0);
        let best = if i >= near && i - near >= i.saturating_sub(far) {
            let lo = i.saturating_sub(far);
            let hi = i - near;
            // Candidate j scores cum[j] - tightness * (ln(i - j) - ln p)^2.
            let scores = cum.get(lo..=hi).unwrap_or(&[]);
            let lns = ln_rev.get(top + lo - i..=top + hi - i).unwrap_or(&[]);
            first_max(scores, lns, |s, l| {
                let x = l - ln_p;
                s - tightness * x * x
            })
            .map(|(v, k)| (v, lo + k))
        } else {
            None
        };
        if let (Some(c), Some(b)) = (cum.get_mut(i), back.get_mut(i)) {
            match best {
                Some((v, j)) => {
                    *c = here + v;
                    *b = j;
                }
                None => *c = here,
            }
        }
    }
    // Last beat: the best cumulative score within the final period.
    let p_end = period.get(end - 1).copied().unwrap_or(1.0).max(1.0);
    let tail = (p_end.round() as usize).clamp(1, len);
    let mut i = (len - tail..len)
        .max_by(|&a, &b| {
            let va = cum.get(a).copied().unwrap_or(f32::MIN)
                + local.get(start + a).copied().unwrap_or(0.0);
            let vb = cum.get(b).copied().unwrap_or(f32::MIN)
                + local.get(start + b).copied().unwrap_or(0.0);
            va.total_cmp(&vb)
        })
        .unwrap_or(len - 1);
    let mut frames = Vec::new();
    loop {
        frames.push(start + i);
        match back.get(i) {
            Some(&j) if j != usize::MAX && j < i => i = j,
            _ => break,
        }
    }
    frames.reverse();
    trim_weak_ends(&mut frames, local);
    frames
        .into_iter()
        .map(|n| {
            let c = local.get(n).copied().unwrap_or(0.0);
            let l = if n > 0 {
                local.get(n - 1).copied().unwrap_or(c)
            } else {
                c
            };
            let r = local.get(n + 1).copied().unwrap_or(c);
            let off = if c >= l && c >= r {
                parabolic_offset(l, c, r)
            } else {
                0.0
            };
            n as f64 + off as f64
        })
        .collect()
}

/// Drops leading and trailing beats that sit on nothing (the DP pads the ends of a stretch).
fn trim_weak_ends(frames: &mut Vec<usize>, local: &[f32]) {
    let strengths: Vec<f32> = frames.iter().map(|&n| max_around(local, n, 2, 2)).collect();
    let threshold = 0.2 * mean(&strengths);
    let first = strengths
        .iter()
        .position(|&s| s >= threshold)
        .unwrap_or(frames.len());
    let last = strengths
        .iter()
        .rposition(|&s| s >= threshold)
        .map_or(first, |i| i + 1);
    let kept: Vec<usize> = frames.get(first..last.max(first)).unwrap_or(&[]).to_vec();
    *frames = kept;
}

/// How alike alternate beats are: min/max of the mean accent on even and odd beats
/// (1 = every beat equally strong; near 0 = every other "beat" is an off-beat subdivision).
pub(crate) fn parity_balance(runs: &[BeatRun], accent: &[f32]) -> f32 {
    let mut total = 0.0f32;
    let mut weight = 0.0f32;
    for run in runs {
        if run.len() < 4 {
            continue;
        }
        let mut sums = [0f32; 2];
        let mut counts = [0f32; 2];
        for (i, &f) in run.iter().enumerate() {
            let n = f.round().max(0.0) as usize;
            sums[i % 2] += max_around(accent, n, 2, 2);
            counts[i % 2] += 1.0;
        }
        let e = sums[0] / counts[0].max(1.0);
        let o = sums[1] / counts[1].max(1.0);
        let hi = e.max(o);
        if hi > 0.0 {
            total += e.min(o) / hi * run.len() as f32;
            weight += run.len() as f32;
        }
    }
    if weight > 0.0 { total / weight } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_a_pulse_train_and_bridges_a_missing_pulse() {
        let n = 2000;
        let mut o = vec![0f32; n];
        for k in 0..45 {
            if k != 20 {
                o[10 + k * 43] = 1.0;
            }
        }
        let period = vec![43.0f32; n];
        let beats = track_segment(&o, &period, 0..n, 100.0);
        assert_eq!(beats.len(), 45);
        for (k, b) in beats.iter().enumerate() {
            assert!((b - (10 + k * 43) as f64).abs() < 1.0);
        }
        assert!(parity_balance(&[beats], &o) > 0.9);
    }
}
