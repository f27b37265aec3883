//! Clip analysis: scene cuts, gradual transitions, per-scene features, thumbnails.

mod types;

pub use types::*;
