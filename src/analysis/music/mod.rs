//! Music analysis: waveform pyramid, energy, onsets, tempo, beats, downbeats, sections.
//!
//! [`MusicAnalyzer`] takes mono samples as they are decoded (waveform, energy, the STFT and
//! the onset curves are built in `push`, each as far as its look-ahead allows), and `finish`
//! completes the last second of curves and derives tempo, beats, bars, onsets and sections
//! from them. [`redetect`] re-runs that last part from the curves kept in [`MusicAnalysis`].

mod analyzer;
mod beats;
mod dsp;
mod energy;
mod flux;
mod meter;
mod onset;
mod params;
mod peaks;
mod repair;
mod sections;
pub mod synth;
mod tempo;
mod types;
mod waveform;

pub use analyzer::{MusicAnalyzer, analyze_samples, redetect};
pub use energy::energy_curve;
pub use params::{MusicError, MusicParams};
pub use repair::{BeatGridEdits, parse_beat_file};
pub use types::*;
