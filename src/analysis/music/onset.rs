//! Onset front end: STFT (realfft, planned once) → mel power per frame as audio arrives;
//! at the end, log compression and spectral flux (full band, low band) plus a harmonic
//! (chord change) novelty curve.

use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::dsp::{fast_ln, max_around, mean, moving_average};

/// Triangular mel filters over the bins of one FFT.
#[derive(Debug, Clone)]
struct MelBank {
    /// First FFT bin and weights of each band.
    bands: Vec<(usize, Vec<f32>)>,
    /// Centre frequency of each band, Hz.
    centres_hz: Vec<f32>,
}

fn hz_to_mel(f: f32) -> f32 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f32) -> f32 {
    700.0 * (10f32.powf(m / 2595.0) - 1.0)
}

impl MelBank {
    fn new(rate: u32, fft_size: usize, bands: usize) -> Self {
        let nyquist = rate as f32 / 2.0;
        let (lo, hi) = (hz_to_mel(30.0), hz_to_mel((nyquist * 0.95).min(11_000.0)));
        let points: Vec<f32> = (0..bands + 2)
            .map(|i| mel_to_hz(lo + (hi - lo) * i as f32 / (bands + 1) as f32))
            .collect();
        let bin_hz = rate as f32 / fft_size as f32;
        let n_bins = fft_size / 2 + 1;
        let mut out = Vec::with_capacity(bands);
        let mut centres_hz = Vec::with_capacity(bands);
        for w in points.windows(3) {
            let (f0, f1, f2) = (w[0], w[1], w[2]);
            let first = ((f0 / bin_hz).ceil() as usize).min(n_bins - 1);
            let last = ((f2 / bin_hz).floor() as usize).min(n_bins - 1);
            let mut weights: Vec<f32> = (first..=last.max(first))
                .map(|k| {
                    let f = k as f32 * bin_hz;
                    if f <= f1 {
                        ((f - f0) / (f1 - f0).max(1e-6)).max(0.0)
                    } else {
                        ((f2 - f) / (f2 - f1).max(1e-6)).max(0.0)
                    }
                })
                .collect();
            // A band narrower than a bin still gets the nearest bin.
            if weights.iter().all(|&v| v <= 0.0) {
                let k = ((f1 / bin_hz).round() as usize).min(n_bins - 1);
                out.push((k, vec![1.0]));
            } else {
                let lead = weights.iter().take_while(|&&v| v <= 0.0).count();
                weights.drain(..lead);
                out.push((first + lead, weights));
            }
            centres_hz.push(f1);
        }
        Self {
            bands: out,
            centres_hz,
        }
    }
}

/// Per-worker FFT buffers.
struct FftBufs {
    input: Vec<f32>,
    output: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
}

/// Streaming STFT → mel power frames; frame `i` is centred on sample `i * hop`.
pub(crate) struct OnsetFrontEnd {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    mel: MelBank,
    fft_size: usize,
    hop: usize,
    /// Not yet consumed samples of the zero-padded signal, starting at padded index `base`.
    pending: Vec<f32>,
    base: usize,
    /// Mel power, `frames * bands` row-major.
    rows: Vec<f32>,
    frames: usize,
    samples: u64,
}

impl OnsetFrontEnd {
    /// A front end for `rate` with the given FFT length, hop and mel band count.
    pub(crate) fn new(rate: u32, fft_size: usize, hop: usize, bands: usize) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(fft_size);
        let window = (0..fft_size)
            .map(|i| {
                let x = std::f32::consts::PI * 2.0 * i as f32 / fft_size as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        Self {
            fft,
            window,
            mel: MelBank::new(rate, fft_size, bands),
            fft_size,
            hop,
            pending: vec![0.0; fft_size / 2],
            base: 0,
            rows: Vec::new(),
            frames: 0,
            samples: 0,
        }
    }

    fn bands(&self) -> usize {
        self.mel.bands.len()
    }

    fn bufs(&self) -> FftBufs {
        FftBufs {
            input: self.fft.make_input_vec(),
            output: self.fft.make_output_vec(),
            scratch: self.fft.make_scratch_vec(),
            power: vec![0.0; self.fft_size / 2 + 1],
        }
    }

    fn frame(&self, samples: &[f32], bufs: &mut FftBufs, row: &mut [f32]) {
        for ((d, s), w) in bufs.input.iter_mut().zip(samples).zip(&self.window) {
            *d = s * w;
        }
        if self
            .fft
            .process_with_scratch(&mut bufs.input, &mut bufs.output, &mut bufs.scratch)
            .is_err()
        {
            row.fill(0.0);
            return;
        }
        for (p, c) in bufs.power.iter_mut().zip(&bufs.output) {
            *p = c.norm_sqr();
        }
        for (o, (first, weights)) in row.iter_mut().zip(&self.mel.bands) {
            let bins = bufs.power.get(*first..).unwrap_or(&[]);
            *o = weights.iter().zip(bins).map(|(w, p)| w * p).sum();
        }
    }

    /// Adds samples and turns every complete frame into a mel row (in parallel when many).
    pub(crate) fn push(&mut self, x: &[f32]) {
        self.samples += x.len() as u64;
        self.pending.extend_from_slice(x);
        self.process_ready();
    }

    fn process_ready(&mut self) {
        let available = self.base + self.pending.len();
        let first = self.frames;
        let mut end = first;
        while end * self.hop + self.fft_size <= available {
            end += 1;
        }
        let count = end - first;
        if count == 0 {
            return;
        }
        let bands = self.bands();
        let mut rows = vec![0f32; count * bands];
        let this = &*self;
        let run = |bufs: &mut FftBufs, (j, row): (usize, &mut [f32])| {
            let start = (first + j) * this.hop - this.base;
            if let Some(s) = this.pending.get(start..start + this.fft_size) {
                this.frame(s, bufs, row);
            }
        };
        if count >= 16 {
            rows.par_chunks_mut(bands)
                .enumerate()
                .for_each_init(|| this.bufs(), run);
        } else {
            let mut bufs = this.bufs();
            for item in rows.chunks_mut(bands).enumerate() {
                run(&mut bufs, item);
            }
        }
        self.rows.extend_from_slice(&rows);
        self.frames = end;
        let keep_from = (end * self.hop)
            .saturating_sub(self.base)
            .min(self.pending.len());
        self.pending.drain(..keep_from);
        self.base += keep_from;
    }

    /// Pads the end, processes the last frames and derives the onset curves.
    pub(crate) fn finish(mut self, rate: u32) -> OnsetFeatures {
        let total_frames = (self.samples as usize).div_ceil(self.hop).max(1);
        self.pending.extend(std::iter::repeat_n(0.0, self.fft_size));
        self.process_ready();
        self.rows.truncate(total_frames * self.bands());
        self.frames = self.frames.min(total_frames);
        features(
            &self.rows,
            self.frames,
            &self.mel.centres_hz,
            rate,
            self.hop,
        )
    }
}

/// Onset curves at the STFT hop, before adaptive normalisation.
#[derive(Debug, Clone, Default)]
pub(crate) struct OnsetFeatures {
    /// Spectral flux of the log mel spectrogram, all bands.
    pub flux: Vec<f32>,
    /// Spectral flux of the bands below 150 Hz (kick, bass).
    pub low: Vec<f32>,
    /// Spectral flux of the bands below 1.5 kHz (kick, snare and clap bodies, bass; not hats).
    pub body: Vec<f32>,
    /// Change of the mid-band spectrum from before to after each frame (chords).
    pub harmonic: Vec<f32>,
}

fn features(rows: &[f32], frames: usize, centres: &[f32], rate: u32, hop: usize) -> OnsetFeatures {
    let bands = centres.len().max(1);
    let frame_rate = rate as f32 / hop.max(1) as f32;
    // A floor 40 dB under the local level (about 1 s around) keeps the log from magnifying
    // faint tails and makes the flux independent of the overall gain.
    let frame_power: Vec<f32> = rows.chunks_exact(bands).map(mean).collect();
    let level = moving_average(&frame_power, frame_rate.round() as usize);
    let mut logs = rows.to_vec();
    logs.par_chunks_mut(bands)
        .zip(level.par_iter())
        .for_each(|(row, &lvl)| {
            let floor = (lvl * 1e-4).max(1e-12);
            for v in row.iter_mut() {
                *v = fast_ln(*v + floor);
            }
        });
    let low_bands = centres.iter().take_while(|&&f| f < 150.0).count().max(1);
    let body_bands = centres
        .iter()
        .take_while(|&&f| f < 1500.0)
        .count()
        .max(low_bands);
    let mid: Vec<usize> = centres
        .iter()
        .enumerate()
        .filter(|(_, f)| (150.0..2500.0).contains(*f))
        .map(|(i, _)| i)
        .collect();
    let mut flux = vec![0f32; frames];
    let mut low = vec![0f32; frames];
    let mut body = vec![0f32; frames];
    flux.par_iter_mut()
        .zip(low.par_iter_mut())
        .zip(body.par_iter_mut())
        .enumerate()
        .skip(1)
        .for_each(|(n, ((f, l), bo))| {
            let (Some(cur), Some(prev)) = (
                logs.get(n * bands..(n + 1) * bands),
                logs.get((n - 1) * bands..n * bands),
            ) else {
                return;
            };
            let mut all = 0f32;
            let mut lo = 0f32;
            let mut mid = 0f32;
            for (b, (c, p)) in cur.iter().zip(prev).enumerate() {
                let d = (c - p).max(0.0);
                all += d;
                if b < low_bands {
                    lo += d;
                }
                if b < body_bands {
                    mid += d;
                }
            }
            *f = all / bands as f32;
            *l = lo / low_bands as f32;
            *bo = mid / body_bands as f32;
        });
    let harmonic = harmonic_change(&logs, frames, bands, &mid, frame_rate);
    OnsetFeatures {
        flux,
        low,
        body,
        harmonic,
    }
}

/// Running minimum of `x` over windows `[i, i + w)` for every `i` (van Herk / Gil-Werman:
/// block prefix and suffix minima, linear time); the tail uses the shorter window.
fn running_min(x: &[f32], w: usize) -> Vec<f32> {
    let n = x.len();
    let w = w.max(1);
    let mut prefix = x.to_vec();
    let mut suffix = x.to_vec();
    for i in 1..n {
        if i % w != 0 {
            prefix[i] = prefix[i].min(prefix[i - 1]);
        }
    }
    for i in (0..n.saturating_sub(1)).rev() {
        if (i + 1) % w != 0 {
            suffix[i] = suffix[i].min(suffix[i + 1]);
        }
    }
    (0..n)
        .map(|i| {
            let last = (i + w - 1).min(n - 1);
            // A window cut short by the end can sit inside one block: the suffix covers it.
            if last / w == i / w {
                suffix[i]
            } else {
                suffix[i].min(prefix[last])
            }
        })
        .collect()
}

/// Harmonic (chord) change: mean absolute difference over the mid bands between the running
/// minimum of the log spectrum over ~200 ms after a frame and over ~200 ms before it. The
/// minimum ignores drum hits (short peaks) and keeps what sustains: pads, chords, bass.
fn harmonic_change(
    logs: &[f32],
    frames: usize,
    bands: usize,
    mid: &[usize],
    frame_rate: f32,
) -> Vec<f32> {
    if mid.is_empty() || frames == 0 {
        return vec![0.0; frames];
    }
    let gap = ((0.03 * frame_rate).round() as usize).max(1);
    let span = ((0.2 * frame_rate).round() as usize).max(2);
    let mins: Vec<Vec<f32>> = mid
        .par_iter()
        .map(|&b| {
            let band: Vec<f32> = (0..frames)
                .map(|n| logs.get(n * bands + b).copied().unwrap_or(0.0))
                .collect();
            running_min(&band, span)
        })
        .collect();
    let m = mins.len() as f32;
    let raw: Vec<f32> = (0..frames)
        .map(|n| {
            if n < gap + span || n + gap + span > frames {
                return 0.0;
            }
            let (before, after) = (n - gap - span, n + gap);
            mins.iter()
                .map(|mb| {
                    let a = mb.get(after).copied().unwrap_or(0.0);
                    let b = mb.get(before).copied().unwrap_or(0.0);
                    (a - b).abs()
                })
                .sum::<f32>()
                / m
        })
        .collect();
    // Keep only local maxima so a change registers at one place.
    let reach = span / 2;
    raw.iter()
        .enumerate()
        .map(|(n, &v)| {
            if v >= max_around(&raw, n, reach, reach) {
                v
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_min_matches_naive() {
        let x: Vec<f32> = (0..50).map(|i| ((i * 37 % 11) as f32) - 5.0).collect();
        for w in [1, 3, 7] {
            let fast = running_min(&x, w);
            for i in 0..x.len() {
                let naive = x[i..(i + w).min(x.len())]
                    .iter()
                    .copied()
                    .fold(f32::MAX, f32::min);
                assert_eq!(fast[i], naive, "w {w} i {i}");
            }
        }
    }

    #[test]
    fn flux_peaks_at_a_click() {
        let rate = 22_050;
        let mut x = vec![0f32; rate as usize * 2];
        for i in 0..200 {
            x[22_050 + i] = ((i as f32) * 0.3).sin() * (1.0 - i as f32 / 200.0);
        }
        let mut fe = OnsetFrontEnd::new(rate, 1024, 256, 64);
        for c in x.chunks(1000) {
            fe.push(c);
        }
        let f = fe.finish(rate);
        assert_eq!(f.flux.len(), x.len().div_ceil(256));
        let peak = f
            .flux
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap();
        let expected = 22_050 / 256;
        assert!((peak as i64 - expected as i64).abs() <= 3, "peak {peak}");
    }
}
