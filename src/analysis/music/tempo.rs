//! Local tempo: autocorrelation tempogram over sliding windows, then a smooth tempo path by
//! Viterbi over log-spaced tempo bins (follows ramps; pays once for a sudden step).

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::jobs::CancelToken;

use super::dsp::{dot, first_max, sum};
use super::params::MusicError;

/// Tempo bins per octave of the tempogram.
const BINS_PER_OCTAVE: f64 = 48.0;
/// Seconds between tempogram windows.
const STEP_SECS: f64 = 0.5;

/// Local tempo over time at one metrical level.
#[derive(Debug, Clone)]
pub(crate) struct TempoPath {
    /// Onset frames between path points (point `j` sits at frame `j * step`).
    pub step: usize,
    /// Tempo at each point, BPM.
    pub bpm: Vec<f64>,
}

impl TempoPath {
    /// Beat period in frames at every onset frame (log-linear interpolation between points).
    pub(crate) fn periods(&self, frames: usize, frame_rate: f64, factor: f64) -> Vec<f32> {
        let step = self.step.max(1) as f64;
        let ln_bpm: Vec<f64> = self.bpm.iter().map(|b| b.ln()).collect();
        let fallback = 120f64.ln();
        (0..frames)
            .map(|n| {
                let pos = n as f64 / step;
                let j = pos.floor() as usize;
                let frac = pos - j as f64;
                let a = ln_bpm.get(j).or(ln_bpm.last()).copied().unwrap_or(fallback);
                let b = ln_bpm.get(j + 1).copied().unwrap_or(a);
                let bpm = (a * (1.0 - frac) + b * frac).exp() * factor;
                (60.0 * frame_rate / bpm.max(1.0)) as f32
            })
            .collect()
    }

    /// The path scaled by a metrical factor.
    pub(crate) fn scaled(&self, factor: f64) -> Self {
        Self {
            step: self.step,
            bpm: self.bpm.iter().map(|b| b * factor).collect(),
        }
    }
}

/// Autocorrelation through a real FFT: the power spectrum of the zero-padded signal,
/// transformed back. The padding keeps the wrap-around of the circular result off the lags
/// that are read.
struct Autocorrelation {
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    size: usize,
}

/// Per-worker buffers of an [`Autocorrelation`]; the signal goes into `input`.
struct AutocorrBuffers {
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    output: Vec<f32>,
    scratch: Vec<Complex<f32>>,
}

impl Autocorrelation {
    /// For signals plus the largest lag read adding up to at most `span` samples.
    fn new(span: usize) -> Self {
        let size = span.max(2).next_power_of_two();
        let mut planner = RealFftPlanner::<f32>::new();
        Self {
            forward: planner.plan_fft_forward(size),
            inverse: planner.plan_fft_inverse(size),
            size,
        }
    }

    fn buffers(&self) -> AutocorrBuffers {
        let scratch = self
            .forward
            .get_scratch_len()
            .max(self.inverse.get_scratch_len());
        AutocorrBuffers {
            input: self.forward.make_input_vec(),
            spectrum: self.forward.make_output_vec(),
            output: self.inverse.make_output_vec(),
            scratch: vec![Complex::default(); scratch],
        }
    }

    /// The sums `x[n] * x[n + l]` of `bufs.input` for the lags `lags`, in order (the input is
    /// used up). Empty if the transform fails.
    fn lags<'a>(&self, bufs: &'a mut AutocorrBuffers, lags: Range<usize>) -> &'a [f32] {
        if self
            .forward
            .process_with_scratch(&mut bufs.input, &mut bufs.spectrum, &mut bufs.scratch)
            .is_err()
        {
            return &[];
        }
        for c in bufs.spectrum.iter_mut() {
            *c = Complex::new(c.norm_sqr() / self.size as f32, 0.0);
        }
        if self
            .inverse
            .process_with_scratch(&mut bufs.spectrum, &mut bufs.output, &mut bufs.scratch)
            .is_err()
        {
            return &[];
        }
        bufs.output.get(lags).unwrap_or(&[])
    }
}

/// Linear interpolation of `a` at fractional index `x` (0 outside).
fn interp(a: &[f32], x: f64) -> f32 {
    let i = x.floor() as usize;
    let f = (x - i as f64) as f32;
    match (a.get(i), a.get(i + 1)) {
        (Some(&p), Some(&q)) => p * (1.0 - f) + q * f,
        (Some(&p), None) => p,
        _ => 0.0,
    }
}

/// Finds the local tempo path of onset envelope `o` (one value per frame at `frame_rate`).
/// `active[n]` is false in silence, where the path just holds its tempo.
pub(crate) fn tempo_path(
    o: &[f32],
    active: &[bool],
    frame_rate: f64,
    min_bpm: f64,
    max_bpm: f64,
    window_secs: f64,
    cancel: &CancelToken,
) -> Result<TempoPath, MusicError> {
    let step = ((STEP_SECS * frame_rate).round() as usize).max(1);
    let half = ((window_secs * frame_rate / 2.0).round() as usize).max(4);
    let n_bins = ((max_bpm / min_bpm).log2() * BINS_PER_OCTAVE).ceil() as usize + 1;
    let bins: Vec<f64> = (0..n_bins)
        .map(|k| (min_bpm * 2f64.powf(k as f64 / BINS_PER_OCTAVE)).min(max_bpm))
        .collect();
    let lags: Vec<f64> = bins.iter().map(|b| 60.0 * frame_rate / b).collect();
    // Only the lags the bins interpolate between are computed (`lag_lo..=max_lag`).
    let lag_lo = lags.last().map_or(0, |l| l.floor().max(0.0) as usize);
    let max_lag = lags.first().map_or(1, |l| l.floor().max(0.0) as usize + 1);
    let bin_lags: Vec<f64> = lags.iter().map(|l| l - lag_lo as f64).collect();
    // Windows cut shorter than about four periods of the slowest tempo (at the ends) are skipped.
    let min_len = 2 * ((lags.first().copied().unwrap_or(1.0) * 2.0).ceil() as usize + 2).min(half);
    let n_points = o.len().div_ceil(step).max(1);
    let window: Vec<f32> = (0..2 * half)
        .map(|i| {
            let x = std::f32::consts::PI * 2.0 * i as f32 / (2 * half) as f32;
            0.5 - 0.5 * x.cos()
        })
        .collect();

    let autocorr = Autocorrelation::new(2 * half + max_lag + 1);

    // Salience per point and bin: the autocorrelation of the windowed envelope at the bin's
    // beat lag (interpolated between whole lags).
    let salience: Vec<Vec<f32>> = (0..n_points)
        .into_par_iter()
        .map_init(
            || autocorr.buffers(),
            |bufs, j| {
                if cancel.is_cancelled() {
                    return Vec::new();
                }
                let centre = j * step;
                let lo = centre.saturating_sub(half);
                let hi = (centre + half).min(o.len());
                let seg = o.get(lo..hi).unwrap_or(&[]);
                let act = active.get(lo..hi).unwrap_or(&[]);
                let active_share =
                    act.iter().filter(|&&a| a).count() as f32 / act.len().max(1) as f32;
                if seg.len() < min_len || active_share < 0.5 {
                    return vec![0.0; n_bins];
                }
                let m = sum(seg) / seg.len() as f32;
                let w_off = lo + half - centre;
                bufs.input.fill(0.0);
                for ((x, v), w) in bufs
                    .input
                    .iter_mut()
                    .zip(seg)
                    .zip(window.get(w_off..).unwrap_or(&[]))
                {
                    *x = (v - m) * w;
                }
                let x = bufs.input.get(..seg.len()).unwrap_or(&[]);
                let a0 = dot(x, x);
                if a0 <= 1e-9 {
                    return vec![0.0; n_bins];
                }
                let top = max_lag.min(seg.len().saturating_sub(1));
                let ac: Vec<f32> = autocorr
                    .lags(bufs, lag_lo..top + 1)
                    .iter()
                    .map(|r| r / a0)
                    .collect();
                bin_lags.iter().map(|&l| interp(&ac, l)).collect()
            },
        )
        .collect();
    if cancel.is_cancelled() {
        return Err(MusicError::Cancelled);
    }
    // Viterbi: smooth moves cost a little (quadratic in bins), any jump at most a fixed toll.
    // The quadratic reaches the toll at BAND bins, so the exact maximum is the best within the
    // band or the best anywhere minus the toll.
    const SLOPE: f32 = 0.004;
    const TOLL: f32 = 0.5;
    const BAND: usize = 12;
    // Cost of a move from bin `k` to bin `kp`, at `BAND + kp - k`.
    let penalty: Vec<f32> = (0..=2 * BAND)
        .map(|i| {
            let d = i.abs_diff(BAND) as f32;
            (SLOPE * d * d).min(TOLL)
        })
        .collect();
    let mut score: Vec<f32> = salience
        .first()
        .cloned()
        .unwrap_or_else(|| vec![0.0; n_bins]);
    let mut back: Vec<Vec<u16>> = Vec::with_capacity(n_points);
    back.push(vec![0; n_bins]);
    for sal in salience.iter().skip(1) {
        let (top_k, top) = score
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |b, (k, v)| if v > b.1 { (k, v) } else { b });
        let mut next = vec![0f32; n_bins];
        let mut from = vec![0u16; n_bins];
        for (k, (nx, fr)) in next.iter_mut().zip(from.iter_mut()).enumerate() {
            let mut best = top - TOLL;
            let mut arg = top_k;
            let lo = k.saturating_sub(BAND);
            let hi = (k + BAND + 1).min(n_bins);
            let near = score.get(lo..hi).unwrap_or(&[]);
            let cost = penalty.get(BAND + lo - k..BAND + hi - k).unwrap_or(&[]);
            if let Some((v, i)) = first_max(near, cost, |s, c| s - c)
                && v > best
            {
                best = v;
                arg = lo + i;
            }
            *nx = best + sal.get(k).copied().unwrap_or(0.0);
            *fr = arg as u16;
        }
        // Keep scores bounded.
        let top = next.iter().copied().fold(f32::MIN, f32::max);
        next.iter_mut().for_each(|v| *v -= top);
        score = next;
        back.push(from);
    }
    let mut k = score
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    let mut path = vec![0usize; n_points];
    for j in (0..n_points).rev() {
        if let Some(p) = path.get_mut(j) {
            *p = k;
        }
        k = back
            .get(j)
            .and_then(|b| b.get(k))
            .map_or(k, |&v| v as usize);
    }
    // Refine each point's tempo by parabolic interpolation of its salience peak.
    let bpm = path
        .iter()
        .zip(&salience)
        .map(|(&k, sal)| {
            let c = sal.get(k).copied().unwrap_or(0.0);
            let l = if k > 0 {
                sal.get(k - 1).copied().unwrap_or(c)
            } else {
                c
            };
            let r = sal.get(k + 1).copied().unwrap_or(c);
            let off = if c >= l && c >= r {
                super::dsp::parabolic_offset(l, c, r) as f64
            } else {
                0.0
            };
            let b = min_bpm * 2f64.powf((k as f64 + off) / BINS_PER_OCTAVE);
            b.clamp(min_bpm, max_bpm)
        })
        .collect();
    Ok(TempoPath { step, bpm })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_pulse_train_tempo() {
        let fr = 22_050.0 / 256.0;
        let n = (fr * 20.0) as usize;
        let period = 60.0 * fr / 120.0;
        let mut o = vec![0f32; n];
        let mut t = 0.0;
        while (t as usize) < n {
            o[t as usize] = 1.0;
            t += period;
        }
        let active = vec![true; n];
        let p = tempo_path(&o, &active, fr, 60.0, 200.0, 7.0, &CancelToken::new()).unwrap();
        let mid = p.bpm[p.bpm.len() / 2];
        // 120 or its half (the salience favours the slower consistent level).
        assert!(
            (mid - 120.0).abs() < 3.0 || (mid - 60.0).abs() < 1.5,
            "{mid}"
        );
    }
}
