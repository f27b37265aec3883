//! Onset curves from mel power frames, built as the frames arrive: log compression against
//! the local level, spectral flux (full band, low band, body band) and harmonic (chord)
//! change. Each stage runs as far as its look-ahead allows (about a second for the level),
//! so `finish` only has the last second of frames left to do.

use std::ops::Range;

use rayon::prelude::*;

use super::dsp::{fast_ln, max_around};

/// Frame ranges at least this long (a whole buffer pushed at once) are split over the rayon
/// pool. A streamed batch is done in place: it is cheap, and the decoder needs the other core.
pub(crate) const PAR_FRAMES: usize = 512;

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

/// Incremental onset curves over a growing spectrogram (`bands` mel powers per frame).
#[derive(Debug, Clone)]
pub(crate) struct FluxCurves {
    bands: usize,
    /// Half width of the level window, frames (about one second).
    level_half: usize,
    low_bands: usize,
    body_bands: usize,
    /// Bands of the harmonic change (150 Hz to 2.5 kHz; the centres rise, so a range).
    mid: Range<usize>,
    /// Frames between a harmonic-change frame and the windows before and after it.
    gap: usize,
    /// Frames per harmonic-change window (about 200 ms).
    span: usize,
    /// Frames each side a harmonic change must top to count.
    reach: usize,
    /// `frames * bands`: log mel for frames below `logged`, mel power above.
    spec: Vec<f32>,
    /// Prefix sums of the mean mel power per frame (`frames + 1` values).
    power_prefix: Vec<f64>,
    logged: usize,
    flux: Vec<f32>,
    low: Vec<f32>,
    body: Vec<f32>,
    /// Minimum over `span` frames from each frame of each mid band, `mid.len()` per frame.
    mins: Vec<f32>,
    raw: Vec<f32>,
    harmonic: Vec<f32>,
}

/// `f(i)` for every `i` of `range`, in order; in parallel when the range is long.
fn map_range<T: Send>(range: Range<usize>, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    if range.len() >= PAR_FRAMES {
        range.into_par_iter().map(f).collect()
    } else {
        range.map(f).collect()
    }
}

/// `f(first + i, row)` over the rows of `out` (`width` values each); parallel when many.
fn fill_rows(out: &mut [f32], width: usize, first: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    let width = width.max(1);
    if out.len() / width >= PAR_FRAMES {
        out.par_chunks_mut(width)
            .enumerate()
            .for_each(|(i, row)| f(first + i, row));
    } else {
        for (i, row) in out.chunks_mut(width).enumerate() {
            f(first + i, row);
        }
    }
}

impl FluxCurves {
    /// Curves for mel bands centred at `centres_hz` (rising), frames at `frame_rate`.
    pub(crate) fn new(centres_hz: &[f32], frame_rate: f32) -> Self {
        let bands = centres_hz.len().max(1);
        let low_bands = centres_hz.iter().take_while(|&&f| f < 150.0).count().max(1);
        let body_bands = centres_hz
            .iter()
            .take_while(|&&f| f < 1500.0)
            .count()
            .max(low_bands);
        let mid_start = centres_hz.iter().take_while(|&&f| f < 150.0).count();
        let mid_end = centres_hz.iter().take_while(|&&f| f < 2500.0).count();
        Self {
            bands,
            level_half: frame_rate.round() as usize,
            low_bands,
            body_bands,
            mid: mid_start..mid_end.max(mid_start),
            gap: ((0.03 * frame_rate).round() as usize).max(1),
            span: ((0.2 * frame_rate).round() as usize).max(2),
            reach: ((0.2 * frame_rate).round() as usize).max(2) / 2,
            spec: Vec::new(),
            power_prefix: vec![0.0],
            logged: 0,
            flux: Vec::new(),
            low: Vec::new(),
            body: Vec::new(),
            mins: Vec::new(),
            raw: Vec::new(),
            harmonic: Vec::new(),
        }
    }

    /// Mel bands per frame.
    pub(crate) fn bands(&self) -> usize {
        self.bands
    }

    /// Frames received so far.
    pub(crate) fn frames(&self) -> usize {
        self.spec.len() / self.bands
    }

    /// Room for `count` more frames of mel power, to be filled by the caller; call
    /// [`FluxCurves::frames_added`] afterwards.
    pub(crate) fn new_frames(&mut self, count: usize) -> &mut [f32] {
        let start = self.spec.len();
        self.spec.resize(start + count * self.bands, 0.0);
        self.spec.get_mut(start..).unwrap_or(&mut [])
    }

    /// Takes in the frames written since the last call and, with `advance`, moves every
    /// curve on as far as the frames so far allow.
    pub(crate) fn frames_added(&mut self, advance: bool) {
        let done = self.power_prefix.len() - 1;
        let frames = self.frames();
        let mut acc = self.power_prefix.last().copied().unwrap_or(0.0);
        for row in self
            .spec
            .get(done * self.bands..frames * self.bands)
            .unwrap_or(&[])
            .chunks_exact(self.bands)
        {
            acc += super::dsp::mean(row) as f64;
            self.power_prefix.push(acc);
        }
        if advance {
            self.advance(None);
        }
    }

    /// Drops frames from `total` on (the padding past the end of the audio), completes every
    /// curve and returns them.
    pub(crate) fn finish(mut self, total: usize) -> OnsetFeatures {
        let total = total.min(self.frames());
        self.spec.truncate(total * self.bands);
        self.power_prefix.truncate(total + 1);
        self.advance(Some(total));
        OnsetFeatures {
            flux: self.flux,
            low: self.low,
            body: self.body,
            harmonic: self.harmonic,
        }
    }

    /// Runs every stage up to what its look-ahead allows; `end` is the final frame count once
    /// known (windows are then clipped there).
    fn advance(&mut self, end: Option<usize>) {
        let frames = self.frames();
        let logs_to = end.unwrap_or_else(|| frames.saturating_sub(self.level_half));
        self.log_compress(logs_to, end.unwrap_or(frames));
        self.spectral_flux();
        self.harmonic_change(end);
    }

    /// Log mel with a floor 40 dB under the local level (about 1 s around), which keeps the
    /// log from magnifying faint tails and makes the flux independent of the overall gain.
    fn log_compress(&mut self, to: usize, frames: usize) {
        let from = self.logged;
        if to <= from {
            return;
        }
        let (bands, half) = (self.bands, self.level_half);
        let prefix = &self.power_prefix;
        let rows = self
            .spec
            .get_mut(from * bands..to * bands)
            .unwrap_or(&mut []);
        fill_rows(rows, bands, from, |n, row| {
            let lo = n.saturating_sub(half);
            let hi = (n + half + 1).min(frames);
            let sum =
                prefix.get(hi).copied().unwrap_or(0.0) - prefix.get(lo).copied().unwrap_or(0.0);
            let level = (sum / (hi - lo).max(1) as f64) as f32;
            let floor = (level * 1e-4).max(1e-12);
            for v in row.iter_mut() {
                *v = fast_ln(*v + floor);
            }
        });
        self.logged = to;
    }

    fn log_row(&self, n: usize) -> &[f32] {
        self.spec
            .get(n * self.bands..(n + 1) * self.bands)
            .unwrap_or(&[])
    }

    /// Rectified log-mel differences to the previous frame, averaged per band group.
    fn spectral_flux(&mut self) {
        let from = self.flux.len();
        let to = self.logged;
        if to <= from {
            return;
        }
        let (low_bands, body_bands, bands) = (self.low_bands, self.body_bands, self.bands);
        let this = &*self;
        let values = map_range(from..to, |n| {
            if n == 0 {
                return [0.0; 3];
            }
            let (cur, prev) = (this.log_row(n), this.log_row(n - 1));
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
            [
                all / bands as f32,
                lo / low_bands as f32,
                mid / body_bands as f32,
            ]
        });
        for [f, l, b] in values {
            self.flux.push(f);
            self.low.push(l);
            self.body.push(b);
        }
    }

    /// Harmonic (chord) change: mean absolute difference over the mid bands between the
    /// minimum of the log spectrum over ~200 ms after a frame and over ~200 ms before it. The
    /// minimum ignores drum hits (short peaks) and keeps what sustains: pads, chords, bass.
    /// Only local maxima are kept, so a change registers at one place.
    fn harmonic_change(&mut self, end: Option<usize>) {
        let (gap, span, reach) = (self.gap, self.span, self.reach);
        let width = self.mid.len();
        let logged = self.logged;
        if width == 0 {
            let to = end.unwrap_or(0);
            self.harmonic.resize(to.max(self.harmonic.len()), 0.0);
            return;
        }
        // Minima over whole windows only: a change is never read from a window cut short.
        let mins_from = self.mins.len() / width;
        let mins_to = (logged + 1).saturating_sub(span);
        if mins_to > mins_from {
            let mut mins = vec![0f32; (mins_to - mins_from) * width];
            let (spec, bands, mid) = (&self.spec, self.bands, self.mid.clone());
            fill_rows(&mut mins, width, mins_from, |i, out| {
                out.fill(f32::MAX);
                for k in i..i + span {
                    let row = spec.get(k * bands..(k + 1) * bands).unwrap_or(&[]);
                    for (o, &v) in out.iter_mut().zip(row.get(mid.clone()).unwrap_or(&[])) {
                        *o = if v < *o { v } else { *o };
                    }
                }
            });
            self.mins.extend_from_slice(&mins);
        }
        // A change at `n` reads the minima from `n + gap` and from `n - gap - span`; it is 0
        // where either window would leave the audio.
        let raw_from = self.raw.len();
        let (raw_to, limit) = match end {
            Some(total) => (total, total),
            None => ((logged + 1).saturating_sub(gap + span), logged),
        };
        if raw_to > raw_from {
            let this = &*self;
            let m = width as f32;
            let row = |i: usize| this.mins.get(i * width..(i + 1) * width).unwrap_or(&[]);
            let raw = map_range(raw_from..raw_to, |n| {
                if n < gap + span || n + gap + span > limit {
                    return 0.0;
                }
                let (after, before) = (row(n + gap), row(n - gap - span));
                after
                    .iter()
                    .zip(before)
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f32>()
                    / m
            });
            self.raw.extend(raw);
        }
        let from = self.harmonic.len();
        let to = match end {
            Some(total) => total,
            None => self.raw.len().saturating_sub(reach),
        };
        if to > from {
            let raw = &self.raw;
            let peaks = map_range(from..to, |n| {
                let v = raw.get(n).copied().unwrap_or(0.0);
                if v >= max_around(raw, n, reach, reach) {
                    v
                } else {
                    0.0
                }
            });
            self.harmonic.extend(peaks);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_rows(frames: usize, bands: usize) -> Vec<f32> {
        let mut seed = 1u64;
        (0..frames * bands)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((seed >> 33) as f32 / (1u64 << 31) as f32).powi(4) * 10.0
            })
            .collect()
    }

    fn run(rows: &[f32], centres: &[f32], frames_per_push: usize, total: usize) -> OnsetFeatures {
        let bands = centres.len();
        let mut curves = FluxCurves::new(centres, 22_050.0 / 256.0);
        for chunk in rows.chunks(bands * frames_per_push) {
            curves
                .new_frames(chunk.len() / bands)
                .copy_from_slice(chunk);
            curves.frames_added(true);
        }
        curves.finish(total)
    }

    #[test]
    fn any_chunking_gives_the_same_curves() {
        let centres: Vec<f32> = (0..64).map(|b| 40.0 * 1.09f32.powi(b)).collect();
        let frames = 3000;
        let rows = random_rows(frames, centres.len());
        // One push (the stages run in parallel), a frame at a time, and odd chunks.
        let whole = run(&rows, &centres, frames, frames);
        assert_eq!(whole.flux.len(), frames);
        assert_eq!(whole.harmonic.len(), frames);
        for per_push in [1, 7, 100] {
            let streamed = run(&rows, &centres, per_push, frames);
            assert_eq!(streamed.flux, whole.flux, "{per_push}");
            assert_eq!(streamed.low, whole.low, "{per_push}");
            assert_eq!(streamed.body, whole.body, "{per_push}");
            assert_eq!(streamed.harmonic, whole.harmonic, "{per_push}");
        }
        assert!(whole.harmonic.iter().any(|&h| h > 0.0));
        assert!(whole.flux.iter().skip(1).all(|&f| f > 0.0));
    }
}
