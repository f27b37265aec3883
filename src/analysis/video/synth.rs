//! Clip analyses made up from a seed, without any footage: what the bin, the planner and the
//! timeline need, for editor snapshots and UI benchmarks that must look the same on every run.

use super::{ClipAnalysis, Scene, SceneFeatures, Thumbnail};
use crate::time::ticks_from_secs;

/// A 30 s 1080p30 clip of six 5 s scenes whose look, motion and flat-colour thumbnails follow
/// from `seed`.
pub fn clip_analysis(seed: usize) -> ClipAnalysis {
    let scenes: Vec<Scene> = (0..6)
        .map(|k| {
            let x = ((seed * 7 + k * 13) % 97) as f32 / 97.0;
            Scene {
                start: ticks_from_secs(k as f64 * 5.0),
                end: ticks_from_secs(k as f64 * 5.0 + 5.0),
                features: SceneFeatures {
                    brightness: 0.3 + 0.4 * x,
                    contrast: 0.2 + 0.3 * x,
                    colorfulness: x,
                    dominant_rgb: [(x * 255.0) as u8, 100, 150],
                    sharpness: 0.5,
                    motion: x,
                    vector: (0..16)
                        .map(|i| ((i * seed + k) % 11) as f32 / 11.0)
                        .collect(),
                    thumbnails: vec![Thumbnail {
                        width: 96,
                        height: 54,
                        rgb: [(x * 255.0) as u8, 90, 160].repeat(96 * 54),
                    }],
                    action: None,
                },
            }
        })
        .collect();
    ClipAnalysis {
        duration: ticks_from_secs(30.0),
        fps: 30.0,
        width: 1920,
        height: 1080,
        cuts: scenes.iter().skip(1).map(|s| s.start).collect(),
        scenes,
        ..Default::default()
    }
}
