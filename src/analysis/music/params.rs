//! Tunable parameters of the music analysis and its error type.

use serde::{Deserialize, Serialize};

/// Tunable parameters of the music analysis; part of the cache key (with [`MusicParams::VERSION`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MusicParams {
    /// Sample rate the mono input is delivered at (the decoder resamples to it).
    pub analysis_rate: u32,
    /// Samples per RMS energy window (made even).
    pub energy_window: u32,
    /// Samples between RMS energy windows.
    pub energy_hop: u32,
    /// 0..=1: higher finds more onsets and keeps beats in quieter passages.
    pub beat_sensitivity: f32,
    /// Slowest tempo the beat tracker reports.
    pub min_bpm: f64,
    /// Fastest tempo the beat tracker reports.
    pub max_bpm: f64,
    /// Samples between onset (STFT) frames.
    pub onset_hop: u32,
    /// STFT length in samples (a power of two).
    pub fft_size: u32,
    /// Mel bands of the onset spectrogram.
    pub mel_bands: u32,
    /// Samples per waveform bucket at pyramid level 0.
    pub waveform_bucket: u32,
    /// How strongly the beat tracker holds the local tempo (Ellis' tightness).
    pub beat_tightness: f64,
    /// Length of the tempogram window used to follow the local tempo, seconds.
    pub tempo_window_secs: f64,
}

impl MusicParams {
    /// Version of the analysis results; bump when results change (used in cache keys).
    pub const VERSION: u32 = 7;

    /// A copy with every value forced into a workable range (zero hops, odd windows,
    /// swapped tempo bounds and the like never reach the analysis).
    pub fn sanitized(&self) -> Self {
        let analysis_rate = self.analysis_rate.clamp(4_000, 192_000);
        let energy_window = (self.energy_window.clamp(16, 1 << 16) / 2) * 2;
        let energy_hop = self.energy_hop.clamp(1, energy_window);
        let fft_size = self.fft_size.clamp(256, 8192).next_power_of_two();
        let onset_hop = self.onset_hop.clamp(32, fft_size);
        let min_bpm = if self.min_bpm.is_finite() {
            self.min_bpm.clamp(20.0, 400.0)
        } else {
            60.0
        };
        let max_bpm = if self.max_bpm.is_finite() {
            self.max_bpm.clamp(20.0, 400.0)
        } else {
            200.0
        };
        let (min_bpm, max_bpm) = if max_bpm < min_bpm * 1.5 {
            (
                min_bpm.min(max_bpm),
                (min_bpm.min(max_bpm) * 1.5).max(min_bpm.max(max_bpm)),
            )
        } else {
            (min_bpm, max_bpm)
        };
        let beat_sensitivity = if self.beat_sensitivity.is_finite() {
            self.beat_sensitivity.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let beat_tightness = if self.beat_tightness.is_finite() {
            self.beat_tightness.clamp(1.0, 10_000.0)
        } else {
            100.0
        };
        let tempo_window_secs = if self.tempo_window_secs.is_finite() {
            self.tempo_window_secs.clamp(3.0, 30.0)
        } else {
            7.0
        };
        Self {
            analysis_rate,
            energy_window,
            energy_hop,
            beat_sensitivity,
            min_bpm,
            max_bpm,
            onset_hop,
            fft_size,
            mel_bands: self.mel_bands.clamp(8, 256),
            waveform_bucket: self.waveform_bucket.clamp(16, 1 << 16),
            beat_tightness,
            tempo_window_secs,
        }
    }
}

impl Default for MusicParams {
    fn default() -> Self {
        Self {
            analysis_rate: 22_050,
            energy_window: 2048,
            energy_hop: 512,
            beat_sensitivity: 0.5,
            min_bpm: 60.0,
            max_bpm: 200.0,
            onset_hop: 256,
            fft_size: 1024,
            mel_bands: 64,
            waveform_bucket: 256,
            beat_tightness: 100.0,
            tempo_window_secs: 7.0,
        }
    }
}

/// Why a music analysis produced no result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MusicError {
    /// The cancellation token was set.
    #[error("music analysis cancelled")]
    Cancelled,
    /// Too little audio to find a tempo.
    #[error("audio too short for music analysis: {secs:.2} s, need at least {min_secs:.2} s")]
    TooShort {
        /// Length of the audio that was pushed.
        secs: f64,
        /// Shortest length the analysis accepts.
        min_secs: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitized_keeps_defaults_and_fixes_nonsense() {
        let p = MusicParams::default();
        assert_eq!(p.sanitized(), p);
        let bad = MusicParams {
            energy_window: 0,
            energy_hop: 0,
            fft_size: 1000,
            min_bpm: 300.0,
            max_bpm: 100.0,
            beat_sensitivity: f32::NAN,
            ..MusicParams::default()
        };
        let s = bad.sanitized();
        assert!(s.energy_window >= 16 && s.energy_hop >= 1);
        assert_eq!(s.fft_size, 1024);
        assert!(s.max_bpm >= s.min_bpm * 1.5);
        assert_eq!(s.beat_sensitivity, 0.5);
    }
}
