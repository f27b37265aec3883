//! Music analysis: waveform pyramid, energy, onsets, tempo, beats, downbeats, sections.

mod types;

pub use types::*;
