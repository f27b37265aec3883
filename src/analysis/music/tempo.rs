//! Local tempo: autocorrelation tempogram over sliding windows, then a smooth tempo path by
//! Viterbi over log-spaced tempo bins (follows ramps; pays once for a sudden step).

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::jobs::CancelToken;

use super::dsp::{dot, sum};
use super::params::MusicError;

/// Tempo bins per octave of the tempogram.
const BINS_PER_OCTAVE: f64 = 48.0;
/// Seconds between tempogram windows.
const STEP_SECS: f64 = 0.5;
/// Multiples of the beat lag whose autocorrelations are averaged into a tempo's salience.
/// The first lag alone is blunt (a 7 s window puts 172 BPM where 170 is); four beats pin the
/// period four times finer, and a subdivision of the beat only gets half its multiples.
const LAG_MULTIPLES: usize = 4;
/// Centre of the log-normal tempo prior, BPM (the field's usual 120).
const PRIOR_CENTRE_BPM: f64 = 120.0;
/// Spread of the tempo prior, octaves (librosa's `std_bpm = 1`): wide enough that 85 and 170
/// weigh the same, so the music decides between them.
const PRIOR_OCTAVES: f64 = 1.0;

/// The log-normal tempo prior at `bpm`, 1 at its centre.
pub(crate) fn tempo_prior(bpm: f64) -> f64 {
    let x = (bpm / PRIOR_CENTRE_BPM).log2() / PRIOR_OCTAVES;
    (-0.5 * x * x).exp()
}

/// Local tempo over time at one metrical level.
#[derive(Debug, Clone)]
pub(crate) struct TempoPath {
    /// Onset frames between path points (point `j` sits at frame `j * step`).
    pub step: usize,
    /// Tempo at each point, BPM.
    pub bpm: Vec<f64>,
    /// The tempogram: salience of every tempo bin at every point, for the metrical-level choice.
    pub tempogram: Vec<Vec<f32>>,
    /// Slowest tempo of the tempogram's bins, BPM.
    pub min_bpm: f64,
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
            tempogram: Vec::new(),
            min_bpm: self.min_bpm,
        }
    }

    /// Mean tempogram salience along the path scaled by `factor` (0 where the scaled tempo
    /// leaves the tempogram's range), weighted by the tempo prior: how well that metrical
    /// level explains the onsets.
    pub(crate) fn level_score(&self, factor: f64) -> f64 {
        let mut total = 0.0;
        let mut count = 0usize;
        for (bpm, row) in self.bpm.iter().zip(&self.tempogram) {
            let b = bpm * factor;
            let pos = (b / self.min_bpm).log2() * BINS_PER_OCTAVE;
            count += 1;
            if pos < -0.5 || pos > row.len() as f64 - 0.5 {
                continue;
            }
            total += f64::from(interp(row, pos.max(0.0))) * tempo_prior(b);
        }
        if count == 0 {
            0.0
        } else {
            total / count as f64
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
    /// Power spectrum of the last input (`size / 2 + 1` bins): its Fourier tempogram.
    power: Vec<f32>,
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
            power: vec![0.0; self.size / 2 + 1],
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
        for (c, p) in bufs.spectrum.iter_mut().zip(bufs.power.iter_mut()) {
            *p = c.norm_sqr();
            *c = Complex::new(*p / self.size as f32, 0.0);
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
    let max_lag = lags.first().map_or(1, |l| l.floor().max(0.0) as usize + 1);
    // Lags read: up to LAG_MULTIPLES beats of the slowest tempo.
    let read_lag = LAG_MULTIPLES * max_lag + 1;
    // Windows cut shorter than about four periods of the slowest tempo (at the ends) are skipped.
    let min_len = 2 * ((lags.first().copied().unwrap_or(1.0) * 2.0).ceil() as usize + 2).min(half);
    let n_points = o.len().div_ceil(step).max(1);
    let window: Vec<f32> = (0..2 * half)
        .map(|i| {
            let x = std::f32::consts::PI * 2.0 * i as f32 / (2 * half) as f32;
            0.5 - 0.5 * x.cos()
        })
        .collect();
    let priors: Vec<f32> = bins.iter().map(|&b| tempo_prior(b) as f32).collect();

    let autocorr = Autocorrelation::new(2 * half + read_lag + 1);
    // Where each bin's beat frequency falls in the autocorrelation's power spectrum (the
    // zero-padded transform samples the window's spectrum finely enough to interpolate).
    let spectrum_pos: Vec<f64> = bins
        .iter()
        .map(|b| b / 60.0 / frame_rate * autocorr.size as f64)
        .collect();

    // Salience per point and bin: the autocorrelation of the windowed envelope averaged over
    // the first multiples of the bin's beat lag (interpolated between whole lags), times the
    // Fourier tempogram at the bin's frequency. The autocorrelation also peaks at multiples of
    // the period (half tempo), the Fourier transform at its harmonics (double tempo); their
    // product keeps the level both agree on (Peeters 2007).
    let tempogram: Vec<Vec<f32>> = (0..n_points)
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
                let a0 = {
                    let x = bufs.input.get(..seg.len()).unwrap_or(&[]);
                    dot(x, x)
                };
                if a0 <= 1e-9 {
                    return vec![0.0; n_bins];
                }
                let top = read_lag.min(seg.len().saturating_sub(1));
                let ac: Vec<f32> = autocorr
                    .lags(bufs, 0..top + 1)
                    .iter()
                    .map(|r| r / a0)
                    .collect();
                let fourier: Vec<f32> = spectrum_pos
                    .iter()
                    .map(|&pos| interp(&bufs.power, pos).max(0.0).sqrt())
                    .collect();
                let f_top = fourier.iter().copied().fold(1e-12f32, f32::max);
                let row: Vec<f32> = lags
                    .iter()
                    .zip(&fourier)
                    .map(|(&l, &f)| {
                        let mut acc = 0f32;
                        let mut n = 0f32;
                        for k in 1..=LAG_MULTIPLES {
                            let lag = l * k as f64;
                            if k > 1 && lag > top as f64 {
                                break;
                            }
                            acc += interp(&ac, lag);
                            n += 1.0;
                        }
                        (acc / n.max(1.0)).max(0.0) * (f / f_top)
                    })
                    .collect();
                row
            },
        )
        .collect();
    let salience: Vec<Vec<f32>> = tempogram
        .iter()
        .map(|row| row.iter().zip(&priors).map(|(v, p)| v * p).collect())
        .collect();
    if cancel.is_cancelled() {
        return Err(MusicError::Cancelled);
    }
    // The path is found in tempo classes: the tempogram folded into one octave (each class
    // takes its best bin), so a level change of the tempogram's peak (100 BPM rock peaking at
    // its 200 BPM hats, then at 130 after a step) does not break the path; the octave is
    // chosen afterwards for the whole song (`TempoPath::level_score`).
    let classes = BINS_PER_OCTAVE as usize;
    let folded: Vec<Vec<f32>> = salience
        .iter()
        .map(|row| {
            let mut f = vec![0f32; classes];
            for (k, &v) in row.iter().enumerate() {
                if let Some(c) = f.get_mut(k % classes) {
                    *c = c.max(v);
                }
            }
            f
        })
        .collect();
    // Viterbi around the octave circle: smooth moves cost a little (quadratic in classes),
    // any jump at most a fixed toll.
    const SLOPE: f32 = 0.004;
    const TOLL: f32 = 0.5;
    const BAND: i64 = 12;
    let wrap = |k: i64| k.rem_euclid(classes as i64) as usize;
    let mut score: Vec<f32> = folded
        .first()
        .cloned()
        .unwrap_or_else(|| vec![0.0; classes]);
    let mut back: Vec<Vec<u16>> = Vec::with_capacity(n_points);
    back.push(vec![0; classes]);
    for sal in folded.iter().skip(1) {
        let (top_k, top) = score
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |b, (k, v)| if v > b.1 { (k, v) } else { b });
        let mut next = vec![0f32; classes];
        let mut from = vec![0u16; classes];
        for (k, (nx, fr)) in next.iter_mut().zip(from.iter_mut()).enumerate() {
            let mut best = top - TOLL;
            let mut arg = top_k;
            for d in -BAND..=BAND {
                let j = wrap(k as i64 + d);
                let cost = (SLOPE * (d * d) as f32).min(TOLL);
                let v = score.get(j).copied().unwrap_or(f32::MIN) - cost;
                if v > best {
                    best = v;
                    arg = j;
                }
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
    // Unwrap around the circle (a ramp across the fold keeps going up), refine each point by
    // parabolic interpolation of its class's salience, and put the median in the first octave.
    let mut unwrapped: Vec<f64> = Vec::with_capacity(n_points);
    let mut turns = 0i64;
    let mut prev: Option<usize> = None;
    for (&c, sal) in path.iter().zip(&folded) {
        if let Some(p) = prev {
            let d = c as i64 - p as i64;
            if d > classes as i64 / 2 {
                turns -= 1;
            } else if d < -(classes as i64) / 2 {
                turns += 1;
            }
        }
        prev = Some(c);
        let centre = sal.get(c).copied().unwrap_or(0.0);
        let l = sal.get(wrap(c as i64 - 1)).copied().unwrap_or(centre);
        let r = sal.get(wrap(c as i64 + 1)).copied().unwrap_or(centre);
        let off = if centre >= l && centre >= r {
            f64::from(super::dsp::parabolic_offset(l, centre, r))
        } else {
            0.0
        };
        unwrapped.push(c as f64 + off + (turns * classes as i64) as f64);
    }
    let mut sorted = unwrapped.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let shift = (median / classes as f64).floor() * classes as f64;
    let bpm = unwrapped
        .iter()
        .map(|u| {
            let b = min_bpm * 2f64.powf((u - shift) / BINS_PER_OCTAVE);
            b.clamp(min_bpm / 2.0, max_bpm * 2.0)
        })
        .collect();
    Ok(TempoPath {
        step,
        bpm,
        tempogram,
        min_bpm,
    })
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
