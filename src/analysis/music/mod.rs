//! Music analysis: waveform pyramid, energy, onsets, tempo, beats, downbeats, sections.
//!
//! [`MusicAnalyzer`] takes mono samples as they are decoded (waveform, energy and STFT work
//! happen in `push`), and `finish` derives tempo, beats, bars, onsets and sections from the
//! curves. [`redetect`] re-runs that last part from the curves kept in [`MusicAnalysis`].

mod analyzer;
mod beats;
mod dsp;
mod energy;
mod meter;
mod onset;
mod params;
mod peaks;
mod sections;
pub mod synth;
mod tempo;
mod types;
mod waveform;

pub use analyzer::{MusicAnalyzer, analyze_samples, redetect};
pub use energy::energy_curve;
pub use params::{MusicError, MusicParams};
pub use types::*;
