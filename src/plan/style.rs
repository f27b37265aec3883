//! Editing styles as data: pacing, arc, selection preferences and transitions.
//!
//! Built-in presets live here; users add their own as TOML or JSON files with the same
//! fields (any field left out takes the `dynamic` preset's value).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::PlanError;
use super::settings::PlanSettings;
use super::timeline::Transition;

/// How a montage is cut: every number the planner's taste depends on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct Style {
    /// Name shown in the UI and stored in the timeline.
    pub name: String,
    /// One line for the style picker.
    pub description: String,
    /// Typical shot length in beats at medium energy (the pacing speed).
    pub beats_per_shot: f32,
    /// Shortest shot in beats (at least 1: cuts only fall on beats).
    pub min_shot_beats: f32,
    /// Longest shot in beats.
    pub max_shot_beats: f32,
    /// Random variation of shot lengths, 0 (metronomic) to 1 (loose).
    pub variation: f32,
    /// Optional cyclic multipliers of the shot length, one per bar (e.g. `[1, 1, 0.5, 2]`).
    pub pattern: Vec<f32>,
    /// Prefer shot lengths of 1, 2, 3, 5, 8, 13 beats.
    pub fibonacci: bool,
    /// The opening shot aims to last this many beats (0 = no special intro).
    pub intro_beats: f32,
    /// How much climaxes shorten shots and raise motion, 0 to 1.
    pub climax_intensity: f32,
    /// How strongly loud, dense music shortens shots and asks for motion, 0 to 1.
    pub energy_response: f32,
    /// Preference for action (+1, high motion) or calm (-1, steady) footage.
    pub action_bias: f32,
    /// Weight of variety: fresh clips, no recent clip, no similar-looking shot, 0 to 1.
    pub variety: f32,
    /// Weight of image quality (sharpness, exposure, contrast), 0 to 1.
    pub quality: f32,
    /// Weight of keeping clips in their input order along the song (story order), 0 to 1.
    pub chronology: f32,
    /// How much long shots prefer to end on a downbeat, 0 to 1.
    pub downbeat_preference: f32,
    /// Make occasional match cuts (next shot looks like the previous one).
    pub match_cuts: bool,
    /// Transition at ordinary cuts.
    pub transition: Transition,
    /// Transition where the song changes section.
    pub section_transition: Transition,
    /// How strongly a shot is slid inside its scene so that its strongest moment (an impact,
    /// a flash, a sudden move) lands on a beat of the shot, the downbeat or the climax's
    /// first beat preferred, 0 (off: in-points as before) to 1.
    pub action_sync: f32,
}

impl Default for Style {
    fn default() -> Self {
        Self {
            name: "dynamic".to_owned(),
            description: "Balanced: follows the energy of the song, varied shot lengths".to_owned(),
            beats_per_shot: 2.0,
            min_shot_beats: 1.0,
            max_shot_beats: 8.0,
            variation: 0.5,
            pattern: Vec::new(),
            fibonacci: false,
            intro_beats: 4.0,
            climax_intensity: 0.7,
            energy_response: 0.8,
            action_bias: 0.2,
            variety: 0.7,
            quality: 0.6,
            chronology: 0.0,
            downbeat_preference: 0.6,
            match_cuts: true,
            transition: Transition::Cut,
            section_transition: Transition::Cut,
            action_sync: 0.0,
        }
    }
}

const BUILTIN_NAMES: &[&str] = &[
    "dynamic",
    "fast",
    "slow",
    "mtv",
    "action",
    "documentary",
    "minimalist",
    "travel",
    "vlog",
];

fn crossfade(frames: u32) -> Transition {
    Transition::Crossfade { frames }
}

impl Style {
    /// Names of the built-in presets, in menu order.
    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// A built-in preset by name (case-insensitive).
    pub fn builtin(name: &str) -> Option<Style> {
        let base = Style::default();
        let named = |n: &str, d: &str| Style {
            name: n.to_owned(),
            description: d.to_owned(),
            ..base.clone()
        };
        let style = match name.to_ascii_lowercase().as_str() {
            "dynamic" => base.clone(),
            "fast" => Style {
                beats_per_shot: 1.5,
                min_shot_beats: 1.0,
                max_shot_beats: 2.0,
                variation: 0.4,
                intro_beats: 2.0,
                climax_intensity: 0.6,
                energy_response: 0.5,
                action_bias: 0.6,
                variety: 0.8,
                match_cuts: false,
                ..named("fast", "A cut every one or two beats")
            },
            "slow" => Style {
                beats_per_shot: 6.0,
                min_shot_beats: 4.0,
                max_shot_beats: 8.0,
                variation: 0.3,
                intro_beats: 8.0,
                climax_intensity: 0.3,
                energy_response: 0.3,
                action_bias: -0.5,
                variety: 0.5,
                downbeat_preference: 0.9,
                match_cuts: false,
                transition: crossfade(8),
                section_transition: crossfade(15),
                ..named("slow", "Long shots of four to eight beats, soft crossfades")
            },
            "mtv" => Style {
                beats_per_shot: 2.0,
                min_shot_beats: 1.0,
                max_shot_beats: 4.0,
                variation: 0.6,
                pattern: vec![1.0, 1.0, 0.5, 2.0],
                intro_beats: 4.0,
                climax_intensity: 0.9,
                energy_response: 0.9,
                action_bias: 0.5,
                variety: 0.9,
                match_cuts: true,
                ..named(
                    "mtv",
                    "Music-video rhythm: patterned bursts, lots of variety",
                )
            },
            "action" => Style {
                beats_per_shot: 1.5,
                min_shot_beats: 1.0,
                max_shot_beats: 4.0,
                variation: 0.4,
                intro_beats: 4.0,
                climax_intensity: 1.0,
                energy_response: 1.0,
                action_bias: 1.0,
                variety: 0.6,
                quality: 0.4,
                match_cuts: true,
                action_sync: 0.8,
                ..named(
                    "action",
                    "Short shots with the most motion, hardest on climaxes",
                )
            },
            "documentary" => Style {
                beats_per_shot: 8.0,
                min_shot_beats: 4.0,
                max_shot_beats: 16.0,
                variation: 0.2,
                intro_beats: 8.0,
                climax_intensity: 0.2,
                energy_response: 0.2,
                action_bias: -0.3,
                variety: 0.4,
                quality: 0.9,
                chronology: 0.6,
                downbeat_preference: 1.0,
                match_cuts: false,
                section_transition: crossfade(12),
                ..named("documentary", "Long, steady shots in story order")
            },
            "minimalist" => Style {
                beats_per_shot: 8.0,
                min_shot_beats: 8.0,
                max_shot_beats: 16.0,
                variation: 0.1,
                intro_beats: 8.0,
                climax_intensity: 0.1,
                energy_response: 0.1,
                action_bias: -0.6,
                variety: 0.5,
                quality: 1.0,
                downbeat_preference: 1.0,
                match_cuts: true,
                ..named("minimalist", "Few long, calm shots, cut on bar lines")
            },
            "travel" => Style {
                beats_per_shot: 4.0,
                min_shot_beats: 2.0,
                max_shot_beats: 8.0,
                variation: 0.4,
                fibonacci: true,
                intro_beats: 8.0,
                climax_intensity: 0.6,
                energy_response: 0.5,
                action_bias: 0.0,
                variety: 1.0,
                quality: 0.8,
                chronology: 0.4,
                match_cuts: true,
                section_transition: crossfade(8),
                ..named("travel", "Many places, Fibonacci rhythm, journey order")
            },
            "vlog" => Style {
                beats_per_shot: 3.0,
                min_shot_beats: 2.0,
                max_shot_beats: 6.0,
                variation: 0.4,
                intro_beats: 4.0,
                climax_intensity: 0.4,
                energy_response: 0.4,
                action_bias: 0.1,
                variety: 0.6,
                chronology: 0.9,
                match_cuts: false,
                section_transition: crossfade(6),
                ..named("vlog", "Relaxed pace in the order things happened")
            },
            _ => return None,
        };
        Some(style)
    }

    /// Loads a style file: TOML for `.toml`, JSON for `.json`. Missing fields take the
    /// `dynamic` values; a missing name takes the file stem.
    pub fn load(path: &Path) -> Result<Style, PlanError> {
        let file_error = |message: String| PlanError::StyleFile {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let (mut style, named): (Style, bool) = match ext.as_deref() {
            Some("toml") => {
                let table: toml::Table =
                    toml::from_str(&text).map_err(|e| file_error(e.to_string()))?;
                let named = table.contains_key("name");
                let style = table.try_into().map_err(|e| file_error(e.to_string()))?;
                (style, named)
            }
            Some("json") => {
                let value: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| file_error(e.to_string()))?;
                let named = value.get("name").is_some();
                let style = serde_json::from_value(value).map_err(|e| file_error(e.to_string()))?;
                (style, named)
            }
            _ => {
                return Err(file_error(
                    "unsupported extension (use .toml or .json)".to_owned(),
                ));
            }
        };
        // A file that does not name itself is named after the file.
        if !named && let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
            style.name = stem.to_owned();
        }
        style.validate()?;
        Ok(style)
    }

    /// A built-in name, or else a path to a `.toml`/`.json` style file.
    pub fn resolve(name_or_path: &str) -> Result<Style, PlanError> {
        if let Some(style) = Style::builtin(name_or_path) {
            return Ok(style);
        }
        let path = Path::new(name_or_path);
        let is_file_name = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("toml" | "json" | "TOML" | "JSON")
        );
        if is_file_name {
            Style::load(path)
        } else {
            Err(PlanError::UnknownStyle(name_or_path.to_owned()))
        }
    }

    /// Checks that every value is finite and in range.
    pub fn validate(&self) -> Result<(), PlanError> {
        let bad = |message: String| {
            Err(PlanError::InvalidStyle {
                name: self.name.clone(),
                message,
            })
        };
        let numbers = [
            ("beats_per_shot", self.beats_per_shot),
            ("min_shot_beats", self.min_shot_beats),
            ("max_shot_beats", self.max_shot_beats),
            ("variation", self.variation),
            ("intro_beats", self.intro_beats),
            ("climax_intensity", self.climax_intensity),
            ("energy_response", self.energy_response),
            ("action_bias", self.action_bias),
            ("variety", self.variety),
            ("quality", self.quality),
            ("chronology", self.chronology),
            ("downbeat_preference", self.downbeat_preference),
            ("action_sync", self.action_sync),
        ];
        for (field, value) in numbers {
            if !value.is_finite() {
                return bad(format!("{field} is not a number"));
            }
        }
        if self.pattern.iter().any(|m| !m.is_finite() || *m <= 0.0) {
            return bad("pattern multipliers must be positive".to_owned());
        }
        if self.min_shot_beats < 1.0 {
            return bad(format!(
                "min_shot_beats {} is below 1 (cuts only fall on beats)",
                self.min_shot_beats
            ));
        }
        if self.max_shot_beats < self.min_shot_beats {
            return bad(format!(
                "max_shot_beats {} is below min_shot_beats {}",
                self.max_shot_beats, self.min_shot_beats
            ));
        }
        if !(0.0..=1.0).contains(&self.action_sync) {
            return bad(format!("action_sync {} is outside 0..=1", self.action_sync));
        }
        if self.max_shot_beats > 256.0 || self.beats_per_shot <= 0.0 || self.intro_beats < 0.0 {
            return bad("shot lengths out of range".to_owned());
        }
        Ok(())
    }

    /// This style with the overrides of `settings` applied and validated.
    pub fn with_settings(&self, settings: &PlanSettings) -> Result<Style, PlanError> {
        let mut style = self.clone();
        if let Some(min) = settings.min_shot_beats {
            style.min_shot_beats = min;
            style.max_shot_beats = style.max_shot_beats.max(min);
        }
        if let Some(max) = settings.max_shot_beats {
            style.max_shot_beats = max;
            if settings.min_shot_beats.is_none() {
                style.min_shot_beats = style.min_shot_beats.min(max);
            }
        }
        let influence = if settings.energy_influence.is_finite() {
            settings.energy_influence.clamp(0.0, 2.0)
        } else {
            1.0
        };
        style.energy_response = (style.energy_response * influence).clamp(0.0, 2.0);
        if let Some(transition) = settings.transition {
            style.transition = transition;
        }
        if let Some(match_cuts) = settings.match_cuts {
            style.match_cuts = match_cuts;
        }
        if let Some(sync) = settings.action_sync {
            style.action_sync = if sync.is_finite() {
                sync.clamp(0.0, 1.0)
            } else {
                0.0
            };
        }
        style.validate()?;
        Ok(style)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_exists_and_validates() {
        for name in Style::builtin_names() {
            let style = Style::builtin(name).unwrap();
            assert_eq!(&style.name, name);
            style.validate().unwrap();
        }
        assert!(Style::builtin("nope").is_none());
        assert!(matches!(
            Style::resolve("nope"),
            Err(PlanError::UnknownStyle(_))
        ));
    }

    #[test]
    fn loads_partial_toml_and_json() {
        let dir = std::env::temp_dir().join(format!("beatcut-style-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let toml_path = dir.join("mine.toml");
        std::fs::write(
            &toml_path,
            "beats_per_shot = 3.0\nmin_shot_beats = 2.0\ntransition = { kind = \"crossfade\", frames = 5 }\n",
        )
        .unwrap();
        let style = Style::load(&toml_path).unwrap();
        assert_eq!(style.name, "mine");
        assert_eq!(style.min_shot_beats, 2.0);
        assert_eq!(style.transition, Transition::Crossfade { frames: 5 });
        let json_path = dir.join("other.json");
        std::fs::write(&json_path, r#"{"name":"x","max_shot_beats":0.5}"#).unwrap();
        assert!(matches!(
            Style::load(&json_path),
            Err(PlanError::InvalidStyle { .. })
        ));
        assert!(matches!(
            Style::load(&dir.join("missing.toml")),
            Err(PlanError::StyleFile { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn overrides_apply() {
        let mut settings = PlanSettings {
            min_shot_beats: Some(3.0),
            max_shot_beats: Some(2.0),
            ..PlanSettings::default()
        };
        assert!(Style::default().with_settings(&settings).is_err());
        settings.max_shot_beats = Some(5.0);
        let style = Style::default().with_settings(&settings).unwrap();
        assert_eq!((style.min_shot_beats, style.max_shot_beats), (3.0, 5.0));
    }
}
