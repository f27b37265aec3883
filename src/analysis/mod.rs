//! Analysis of music tracks and video clips into immutable, cacheable values.

pub mod music;
pub mod video;
