//! Onset front end: STFT (realfft, planned once) → mel power per frame as audio arrives,
//! handed to [`FluxCurves`] for the onset and harmonic-change curves.

use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::dsp::dot;
use super::flux::{FluxCurves, OnsetFeatures, PAR_FRAMES};

/// Triangular mel filters over the bins of one FFT (a sparse matrix: each band's non-zero
/// weights from its first bin on).
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
                let trail = weights.iter().rev().take_while(|&&v| v <= 0.0).count();
                weights.truncate(weights.len() - trail);
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

    /// Mel power of each band from the power spectrum `power`.
    fn apply(&self, power: &[f32], row: &mut [f32]) {
        for (o, (first, weights)) in row.iter_mut().zip(&self.bands) {
            *o = dot(weights, power.get(*first..).unwrap_or(&[]));
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

/// The STFT of one frame and its mel power: plan, window and filters, shared by workers.
struct Stft {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    mel: MelBank,
    fft_size: usize,
}

impl Stft {
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
        self.mel.apply(&bufs.power, row);
    }
}

/// Streaming STFT → mel power frames → onset curves; frame `i` is centred on sample
/// `i * hop`.
pub(crate) struct OnsetFrontEnd {
    stft: Stft,
    bufs: FftBufs,
    hop: usize,
    /// Not yet consumed samples of the zero-padded signal, starting at padded index `base`.
    pending: Vec<f32>,
    base: usize,
    curves: FluxCurves,
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
        let mel = MelBank::new(rate, fft_size, bands);
        let curves = FluxCurves::new(&mel.centres_hz, rate as f32 / hop.max(1) as f32);
        let stft = Stft {
            fft,
            window,
            mel,
            fft_size,
        };
        Self {
            bufs: stft.bufs(),
            stft,
            hop,
            pending: vec![0.0; fft_size / 2],
            base: 0,
            curves,
            samples: 0,
        }
    }

    /// Adds samples, turns every complete frame into a mel row (in parallel when there are
    /// many) and advances the onset curves.
    pub(crate) fn push(&mut self, x: &[f32]) {
        self.samples += x.len() as u64;
        self.pending.extend_from_slice(x);
        self.process_ready(true);
    }

    /// Runs the STFT over every complete frame; `advance` also moves the curves on (not for
    /// the padding at the end, whose frames past the audio are dropped first).
    fn process_ready(&mut self, advance: bool) {
        let (hop, fft_size) = (self.hop, self.stft.fft_size);
        let available = self.base + self.pending.len();
        let first = self.curves.frames();
        let end = if available >= fft_size {
            ((available - fft_size) / hop + 1).max(first)
        } else {
            first
        };
        let count = end - first;
        if count == 0 {
            return;
        }
        let bands = self.curves.bands();
        let (stft, pending, base) = (&self.stft, &self.pending, self.base);
        let rows = self.curves.new_frames(count);
        let run = |bufs: &mut FftBufs, (j, row): (usize, &mut [f32])| {
            let start = (first + j) * hop - base;
            if let Some(s) = pending.get(start..start + fft_size) {
                stft.frame(s, bufs, row);
            }
        };
        if count >= PAR_FRAMES {
            rows.par_chunks_mut(bands)
                .enumerate()
                .for_each_init(|| stft.bufs(), run);
        } else {
            for item in rows.chunks_mut(bands).enumerate() {
                run(&mut self.bufs, item);
            }
        }
        self.curves.frames_added(advance);
        let keep_from = (end * hop)
            .saturating_sub(self.base)
            .min(self.pending.len());
        self.pending.drain(..keep_from);
        self.base += keep_from;
    }

    /// Pads the end, processes the last frames and completes the onset curves.
    pub(crate) fn finish(mut self) -> OnsetFeatures {
        let total_frames = (self.samples as usize).div_ceil(self.hop).max(1);
        self.pending
            .extend(std::iter::repeat_n(0.0, self.stft.fft_size));
        self.process_ready(false);
        self.curves.finish(total_frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let f = fe.finish();
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
