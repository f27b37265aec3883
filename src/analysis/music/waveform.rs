//! Waveform pyramid: min/max/RMS buckets built incrementally, read back at any zoom.

use crate::time::{Ticks, samples_from_ticks, ticks_from_samples};

use super::types::{WaveBucket, WaveformPyramid};

/// Summary of a run of samples inside one unfinished bucket.
#[derive(Debug, Clone, Copy)]
struct Partial {
    min: f32,
    max: f32,
    sum_sq: f64,
    count: usize,
}

impl Partial {
    const EMPTY: Self = Self {
        min: f32::MAX,
        max: f32::MIN,
        sum_sq: 0.0,
        count: 0,
    };

    fn add(&mut self, samples: &[f32]) {
        // Eight independent lanes so the loop vectorises; inputs are finite (sanitised upstream).
        let mut mn = [f32::MAX; 8];
        let mut mx = [f32::MIN; 8];
        let mut sq = [0f32; 8];
        let (chunks, rest) = samples.as_chunks::<8>();
        for c in chunks {
            for j in 0..8 {
                mn[j] = mn[j].min(c[j]);
                mx[j] = mx[j].max(c[j]);
                sq[j] += c[j] * c[j];
            }
        }
        for &v in rest {
            mn[0] = mn[0].min(v);
            mx[0] = mx[0].max(v);
            sq[0] += v * v;
        }
        self.min = mn.iter().copied().fold(self.min, f32::min);
        self.max = mx.iter().copied().fold(self.max, f32::max);
        self.sum_sq += sq.iter().map(|&v| v as f64).sum::<f64>();
        self.count += samples.len();
    }

    fn bucket(&self) -> WaveBucket {
        if self.count == 0 {
            return WaveBucket::default();
        }
        WaveBucket {
            min: self.min,
            max: self.max,
            rms: (self.sum_sq / self.count as f64).sqrt() as f32,
        }
    }
}

/// Merges two neighbouring buckets of equal length into one of the next level.
fn merge(a: WaveBucket, b: WaveBucket) -> WaveBucket {
    WaveBucket {
        min: a.min.min(b.min),
        max: a.max.max(b.max),
        rms: ((a.rms * a.rms + b.rms * b.rms) * 0.5).sqrt(),
    }
}

/// Builds a [`WaveformPyramid`] as samples arrive; every level is kept up to date.
#[derive(Debug, Clone)]
pub(crate) struct WaveformBuilder {
    sample_rate: u32,
    bucket_samples: usize,
    levels: Vec<Vec<WaveBucket>>,
    partial: Partial,
}

impl WaveformBuilder {
    /// An empty pyramid with `bucket_samples` per level-0 bucket.
    pub(crate) fn new(sample_rate: u32, bucket_samples: u32) -> Self {
        Self {
            sample_rate,
            bucket_samples: bucket_samples.max(1) as usize,
            levels: vec![Vec::new()],
            partial: Partial::EMPTY,
        }
    }

    /// Adds samples (finite values).
    pub(crate) fn push(&mut self, mut samples: &[f32]) {
        let before = self.levels.first().map_or(0, Vec::len);
        while !samples.is_empty() {
            let room = self.bucket_samples - self.partial.count;
            let (head, tail) = samples.split_at(room.min(samples.len()));
            self.partial.add(head);
            samples = tail;
            if self.partial.count == self.bucket_samples {
                let b = self.partial.bucket();
                if let Some(level0) = self.levels.first_mut() {
                    level0.push(b);
                }
                self.partial = Partial::EMPTY;
            }
        }
        if self.levels.first().map_or(0, Vec::len) != before {
            self.cascade();
        }
    }

    /// Merges completed pairs upward so every level stays current.
    fn cascade(&mut self) {
        let mut k = 0;
        while let Some(level) = self.levels.get(k) {
            let complete = level.len() / 2;
            if complete == 0 {
                break;
            }
            let pairs: Vec<WaveBucket> = {
                let have = self.levels.get(k + 1).map_or(0, Vec::len);
                level
                    .chunks_exact(2)
                    .skip(have)
                    .map(|p| merge(p[0], p[1]))
                    .collect()
            };
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            if let Some(next) = self.levels.get_mut(k + 1) {
                next.extend(pairs);
            }
            k += 1;
        }
    }

    /// The pyramid so far, including the unfinished last bucket; odd tails are carried
    /// upward alone so every level covers all samples.
    pub(crate) fn snapshot(&self) -> WaveformPyramid {
        let mut levels = self.levels.clone();
        if self.partial.count > 0
            && let Some(level0) = levels.first_mut()
        {
            level0.push(self.partial.bucket());
        }
        let mut k = 0;
        while levels.get(k).is_some_and(|l| l.len() > 1) {
            if levels.len() == k + 1 {
                levels.push(Vec::new());
            }
            let (lower, upper) = levels.split_at_mut(k + 1);
            if let (Some(level), Some(next)) = (lower.last(), upper.first_mut()) {
                while next.len() < level.len().div_ceil(2) {
                    let i = next.len() * 2;
                    match (level.get(i), level.get(i + 1)) {
                        (Some(&a), Some(&b)) => next.push(merge(a, b)),
                        (Some(&a), None) => next.push(a),
                        _ => break,
                    }
                }
            }
            k += 1;
        }
        WaveformPyramid {
            sample_rate: self.sample_rate,
            base_bucket_samples: self.bucket_samples as u32,
            levels,
        }
    }
}

impl WaveformPyramid {
    /// Samples per bucket at `level`.
    pub fn bucket_samples(&self, level: usize) -> u64 {
        (self.base_bucket_samples as u64) << level.min(40)
    }

    /// Duration of one bucket at `level`.
    pub fn bucket_ticks(&self, level: usize) -> Ticks {
        ticks_from_samples(self.bucket_samples(level) as i64, self.sample_rate)
    }

    /// The finest level showing `start..end` in at most `max_buckets` buckets, with the index
    /// range of those buckets in that level: `(level, first, end)`.
    pub fn level_for(
        &self,
        start: Ticks,
        end: Ticks,
        max_buckets: usize,
    ) -> Option<(usize, usize, usize)> {
        if max_buckets == 0
            || end <= start
            || self.sample_rate == 0
            || self.base_bucket_samples == 0
        {
            return None;
        }
        let s0 = samples_from_ticks(start, self.sample_rate).max(0) as u64;
        let s1 = samples_from_ticks(end, self.sample_rate).max(0) as u64;
        let mut last = None;
        for (k, level) in self.levels.iter().enumerate() {
            let size = self.bucket_samples(k).max(1);
            let first = ((s0 / size) as usize).min(level.len());
            let stop = (s1.div_ceil(size) as usize).clamp(first, level.len());
            last = Some((k, first, stop));
            if stop - first <= max_buckets {
                break;
            }
        }
        last
    }

    /// Buckets covering `start..end` at the finest level that needs at most `max_buckets`
    /// of them (the first starts at or before `start`); a copy of a slice, so cheap at any zoom.
    pub fn buckets(&self, start: Ticks, end: Ticks, max_buckets: usize) -> Vec<WaveBucket> {
        let Some((k, first, stop)) = self.level_for(start, end, max_buckets) else {
            return Vec::new();
        };
        let slice = self
            .levels
            .get(k)
            .and_then(|l| l.get(first..stop))
            .unwrap_or(&[]);
        slice.iter().take(max_buckets).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ticks_from_secs;

    #[test]
    fn pyramid_levels_halve_and_cover_everything() {
        let samples: Vec<f32> = (0..10_000).map(|i| ((i as f32) * 0.01).sin()).collect();
        let mut b = WaveformBuilder::new(1000, 100);
        for chunk in samples.chunks(333) {
            b.push(chunk);
        }
        let p = b.snapshot();
        assert_eq!(p.levels[0].len(), 100);
        assert_eq!(p.levels[1].len(), 50);
        assert_eq!(p.levels[2].len(), 25);
        assert_eq!(p.levels[3].len(), 13);
        assert_eq!(p.levels.last().map(Vec::len), Some(1));
        let top = p.levels.last().unwrap()[0];
        assert!((top.max - 1.0).abs() < 1e-3 && (top.min + 1.0).abs() < 1e-3);
        assert!((top.rms - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.02);
    }

    #[test]
    fn buckets_pick_a_level_within_budget() {
        let samples = vec![0.5f32; 22_050 * 60];
        let mut b = WaveformBuilder::new(22_050, 256);
        b.push(&samples);
        let p = b.snapshot();
        let all = p.buckets(0, ticks_from_secs(60.0), 1000);
        assert!(!all.is_empty() && all.len() <= 1000);
        let zoomed = p.buckets(ticks_from_secs(10.0), ticks_from_secs(10.5), 10_000);
        assert_eq!(zoomed.len(), 44);
        assert!(p.buckets(0, 0, 10).is_empty());
        assert!(
            p.buckets(ticks_from_secs(100.0), ticks_from_secs(200.0), 10)
                .is_empty()
        );
    }
}
