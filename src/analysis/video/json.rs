//! JSON summary of a clip analysis for the CLI (seconds at the edge, no thumbnails), from
//! `Serialize` structs so the shape is written down once.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::time::secs_from_ticks;

use super::ClipAnalysis;

/// What `beatcut analyze --json` prints for a clip.
#[derive(Serialize)]
struct ClipReport<'a> {
    path: String,
    duration_s: f64,
    fps: f64,
    width: u32,
    height: u32,
    cuts: Vec<f64>,
    transitions: Vec<TransitionReport>,
    unresolved: Vec<[f64; 2]>,
    scenes: Vec<SceneReport<'a>>,
    mode: &'static str,
    frames_scored: usize,
    wall_s: f64,
    warnings: &'a [String],
    subject: Vec<SubjectReport>,
}

/// Where the subject is at one sampled frame (what a portrait crop follows).
#[derive(Serialize)]
struct SubjectReport {
    time_s: f64,
    x: f32,
    y: f32,
    strength: f32,
}

#[derive(Serialize)]
struct TransitionReport {
    start: f64,
    end: f64,
    kind: &'static str,
}

#[derive(Serialize)]
struct SceneReport<'a> {
    start_s: f64,
    end_s: f64,
    duration_s: f64,
    brightness: f32,
    contrast: f32,
    colorfulness: f32,
    dominant_rgb: [u8; 3],
    sharpness: f32,
    motion: f32,
    vector: &'a [f32],
    action: Option<ActionReport>,
}

#[derive(Serialize)]
struct ActionReport {
    time_s: f64,
    strength: f32,
}

impl ClipAnalysis {
    /// Summary as JSON: path, duration, fps, cut times, transitions (start, end, kind),
    /// unresolved spans (keyframes mode), scenes with their features (thumbnails left out),
    /// mode, wall time, warnings and the subject track (centre shares and strength). Times
    /// in seconds.
    pub fn to_json(&self, path: &Path, wall_secs: f64) -> Value {
        let report = ClipReport {
            path: path.display().to_string(),
            duration_s: secs_from_ticks(self.duration),
            fps: self.fps,
            width: self.width,
            height: self.height,
            cuts: self.cuts.iter().map(|&t| secs_from_ticks(t)).collect(),
            transitions: self
                .transitions
                .iter()
                .map(|t| TransitionReport {
                    start: secs_from_ticks(t.start),
                    end: secs_from_ticks(t.end),
                    kind: t.kind.as_str(),
                })
                .collect(),
            unresolved: self
                .unresolved
                .iter()
                .map(|&(s, e)| [secs_from_ticks(s), secs_from_ticks(e)])
                .collect(),
            scenes: self
                .scenes
                .iter()
                .map(|s| {
                    let f = &s.features;
                    SceneReport {
                        start_s: secs_from_ticks(s.start),
                        end_s: secs_from_ticks(s.end),
                        duration_s: secs_from_ticks(s.end - s.start),
                        brightness: f.brightness,
                        contrast: f.contrast,
                        colorfulness: f.colorfulness,
                        dominant_rgb: f.dominant_rgb,
                        sharpness: f.sharpness,
                        motion: f.motion,
                        vector: &f.vector,
                        action: f.action.map(|a| ActionReport {
                            time_s: secs_from_ticks(a.time),
                            strength: a.strength,
                        }),
                    }
                })
                .collect(),
            mode: self.mode.as_str(),
            frames_scored: self.frame_scores.len(),
            wall_s: wall_secs,
            warnings: &self.warnings,
            subject: self
                .subject
                .iter()
                .map(|s| SubjectReport {
                    time_s: secs_from_ticks(s.time),
                    x: s.x,
                    y: s.y,
                    strength: s.strength,
                })
                .collect(),
        };
        serde_json::to_value(report).unwrap_or_default()
    }
}
