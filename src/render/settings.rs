//! Export settings: presets, aspect ratios, frame rates, quality.

use serde::{Deserialize, Serialize};

use crate::time::{FrameRate, TICKS_PER_SECOND, Ticks};

/// Output size class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// 720p, fast encode, for checking the cut.
    Draft,
    /// 1080p, good quality.
    #[default]
    Final,
    /// 2160p.
    #[serde(rename = "4k")]
    Uhd,
}

impl Preset {
    /// Parses "draft", "final" or "4k".
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "draft" => Some(Self::Draft),
            "final" => Some(Self::Final),
            "4k" | "uhd" => Some(Self::Uhd),
            _ => None,
        }
    }

    /// Name as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Final => "final",
            Self::Uhd => "4k",
        }
    }

    /// Every preset, for menus.
    pub const ALL: [Preset; 3] = [Self::Draft, Self::Final, Self::Uhd];
}

/// Output picture shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Aspect {
    /// 16:9 landscape.
    #[default]
    #[serde(rename = "16:9")]
    Landscape,
    /// 9:16 portrait (phones, stories).
    #[serde(rename = "9:16")]
    Portrait,
    /// 1:1 square.
    #[serde(rename = "1:1")]
    Square,
}

impl Aspect {
    /// Parses "16:9", "9:16" or "1:1".
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "16:9" => Some(Self::Landscape),
            "9:16" => Some(Self::Portrait),
            "1:1" => Some(Self::Square),
            _ => None,
        }
    }

    /// Name as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Landscape => "16:9",
            Self::Portrait => "9:16",
            Self::Square => "1:1",
        }
    }

    /// Every aspect, for menus.
    pub const ALL: [Aspect; 3] = [Self::Landscape, Self::Portrait, Self::Square];
}

/// How frames that do not match the output shape are fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Scale to fit inside and pad with black (nothing cut off).
    #[default]
    Letterbox,
    /// Scale to fill and crop the overflow, keeping the middle.
    Crop,
    /// Scale to fill and crop the overflow, the crop following each shot's subject (or as
    /// the user framed the segment): see [`crate::reframe`].
    Reframe,
}

impl Fit {
    /// Parses "letterbox", "crop" or "reframe".
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "letterbox" => Some(Self::Letterbox),
            "crop" | "centre" | "center" => Some(Self::Crop),
            "reframe" => Some(Self::Reframe),
            _ => None,
        }
    }

    /// Name as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Letterbox => "letterbox",
            Self::Crop => "crop",
            Self::Reframe => "reframe",
        }
    }

    /// The fit an aspect gets unless the user picks one: portrait and square exports are
    /// made to be posted full-screen, so they crop to the subject; landscape ones keep the
    /// whole picture.
    pub fn for_aspect(aspect: Aspect) -> Self {
        match aspect {
            Aspect::Landscape => Self::Letterbox,
            Aspect::Portrait | Aspect::Square => Self::Reframe,
        }
    }

    /// True when the picture is cropped to fill the output (centred or following).
    pub fn crops(self) -> bool {
        self != Self::Letterbox
    }

    /// Every fit, for menus.
    pub const ALL: [Fit; 3] = [Self::Letterbox, Self::Crop, Self::Reframe];
}

/// Everything the render pipeline needs to know about the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderSettings {
    /// Output width in pixels (even).
    pub width: u32,
    /// Output height in pixels (even).
    pub height: u32,
    /// Output frame rate: the timeline's frame grid.
    pub fps: FrameRate,
    /// x264 constant rate factor.
    pub crf: u8,
    /// x264 speed preset.
    pub speed_preset: String,
    /// How mismatched shapes are fitted.
    pub fit: Fit,
    /// Music fade-in length.
    pub fade_in: Ticks,
    /// Music fade-out length at the end.
    pub fade_out: Ticks,
    /// Level of the clips' own sound mixed under the music (0 = off).
    pub clip_audio_level: f32,
    /// How far the music ducks (dB) while the clips' own sound is loud (speech, a crowd),
    /// sidechain-style with a quick attack and a slower release; 0 = never.
    #[serde(default)]
    pub duck_db: f32,
    /// Audio sample rate of the output.
    pub audio_rate: u32,
}

impl RenderSettings {
    /// Settings for a preset, aspect and frame rate.
    pub fn new(preset: Preset, aspect: Aspect, fps: FrameRate) -> Self {
        let short_side: u32 = match preset {
            Preset::Draft => 720,
            Preset::Final => 1080,
            Preset::Uhd => 2160,
        };
        let long_side = short_side * 16 / 9;
        let (width, height) = match aspect {
            Aspect::Landscape => (long_side, short_side),
            Aspect::Portrait => (short_side, long_side),
            Aspect::Square => (short_side, short_side),
        };
        let (crf, speed) = match preset {
            Preset::Draft => (26, "veryfast"),
            Preset::Final => (20, "veryfast"),
            Preset::Uhd => (20, "veryfast"),
        };
        Self {
            width,
            height,
            fps,
            crf,
            speed_preset: speed.into(),
            fit: Fit::for_aspect(aspect),
            fade_in: 0,
            fade_out: TICKS_PER_SECOND * 2,
            clip_audio_level: 0.0,
            duck_db: 0.0,
            audio_rate: 48_000,
        }
    }
}
