//! JSON summary of a clip analysis for the CLI (seconds at the edge, no thumbnails).

use std::path::Path;

use serde_json::{Value, json};

use crate::time::secs_from_ticks;

use super::ClipAnalysis;

impl ClipAnalysis {
    /// Summary as JSON: path, duration, fps, cut times, transitions (start, end, kind), unresolved spans (keyframes
    /// mode), scenes with their
    /// features (thumbnails left out), mode, wall time and warnings. Times in seconds.
    pub fn to_json(&self, path: &Path, wall_secs: f64) -> Value {
        let scenes: Vec<Value> = self
            .scenes
            .iter()
            .map(|s| {
                let f = &s.features;
                json!({
                    "start_s": secs_from_ticks(s.start),
                    "end_s": secs_from_ticks(s.end),
                    "duration_s": secs_from_ticks(s.end - s.start),
                    "brightness": f.brightness,
                    "contrast": f.contrast,
                    "colorfulness": f.colorfulness,
                    "dominant_rgb": f.dominant_rgb,
                    "sharpness": f.sharpness,
                    "motion": f.motion,
                    "vector": f.vector,
                    "action": f.action.map(|a| json!({
                        "time_s": secs_from_ticks(a.time),
                        "strength": a.strength,
                    })),
                })
            })
            .collect();
        json!({
            "path": path.display().to_string(),
            "duration_s": secs_from_ticks(self.duration),
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "cuts": self.cuts.iter().map(|&t| secs_from_ticks(t)).collect::<Vec<_>>(),
            "transitions": self
                .transitions
                .iter()
                .map(|t| json!({
                    "start": secs_from_ticks(t.start),
                    "end": secs_from_ticks(t.end),
                    "kind": t.kind.as_str(),
                }))
                .collect::<Vec<_>>(),
            "unresolved": self
                .unresolved
                .iter()
                .map(|&(s, e)| [secs_from_ticks(s), secs_from_ticks(e)])
                .collect::<Vec<_>>(),
            "scenes": scenes,
            "mode": self.mode.as_str(),
            "frames_scored": self.frame_scores.len(),
            "wall_s": wall_secs,
            "warnings": self.warnings,
        })
    }
}
