//! The result of analysing a clip: scene cuts, gradual transitions and per-scene features.

use serde::{Deserialize, Serialize};

use crate::time::Ticks;

/// How a clip was scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectMode {
    /// Keyframes first, full decode only where something changed.
    #[default]
    Fast,
    /// Every frame decoded and scored.
    Accurate,
    /// A first look in a fraction of fast mode's time: keyframes only. Scenes cover only the
    /// stretches whose bounding keyframes look alike; a stretch whose keyframes differ holds
    /// a change somewhere inside and is left out (see [`ClipAnalysis::unresolved`]), so a
    /// plan made from it never shows a cut it does not know about. Exact cuts come from a
    /// later fast or accurate pass.
    Keyframes,
}

impl DetectMode {
    /// Lower-case name, as on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fast => "fast",
            Self::Accurate => "accurate",
            Self::Keyframes => "keyframes",
        }
    }

    /// The mode named `name` (as [`Self::as_str`] spells it), if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Fast, Self::Accurate, Self::Keyframes]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }

    /// True for the keyframes-only first look, which a full pass later replaces.
    pub fn is_first_look(self) -> bool {
        self == Self::Keyframes
    }
}

/// Everything the planner and editor know about one clip.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClipAnalysis {
    /// Time from the first frame to the end of the last frame.
    pub duration: Ticks,
    /// Average frame rate (frames per second).
    pub fps: f64,
    /// Displayed width after rotation, pixels.
    pub width: u32,
    /// Displayed height after rotation, pixels.
    pub height: u32,
    /// Scan mode that produced this.
    pub mode: DetectMode,
    /// Per-frame change scores kept so a new threshold never needs a new decode.
    pub frame_scores: Vec<FrameScore>,
    /// Hard cuts: the presentation time of the first frame of each new shot.
    pub cuts: Vec<Ticks>,
    /// Gradual transitions (fades, dissolves, wipes) as spans with their kind; no scene
    /// starts or ends inside one.
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// The shots between cuts, with features.
    pub scenes: Vec<Scene>,
    /// Problems met while reading the clip that did not stop analysis.
    pub warnings: Vec<String>,
    /// Thumbnails kept from the scan (around every candidate cut and at regular intervals)
    /// so scenes re-detected with a new threshold still get pictures without decoding.
    #[serde(default)]
    pub thumbnail_pool: Vec<TimedThumbnail>,
    /// Keyframes mode only: stretches between two keyframes that differ, so a cut or
    /// transition lies somewhere inside; no scene covers them until a full pass.
    #[serde(default)]
    pub unresolved: Vec<(Ticks, Ticks)>,
    /// Keyframes mode only: stretches whose packet sizes (read from the container, not
    /// decoded) hint at a change; always part of [`Self::unresolved`].
    #[serde(default)]
    pub packet_hints: Vec<(Ticks, Ticks)>,
    /// Where the subject is, a few times a second (fewer where fast mode decoded only
    /// keyframes): what a portrait or square crop follows ([`crate::reframe`]).
    #[serde(default)]
    pub subject: Vec<SubjectSample>,
}

/// Where the picture's subject is at one frame: what moves against the camera or stands out
/// in colour and brightness.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SubjectSample {
    /// Presentation time of the frame from the first frame.
    pub time: Ticks,
    /// Centre of the subject, share of the displayed width (0 left, 1 right).
    pub x: f32,
    /// Centre of the subject, share of the displayed height (0 top, 1 bottom).
    pub y: f32,
    /// How far the subject stands out of the rest of the picture (robust z-score of its
    /// peak; 0: nothing does, the sample is the centre).
    pub strength: f32,
}

/// How one picture gives way to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransitionKind {
    /// The picture fades to black or white.
    FadeOut,
    /// The picture fades in from black or white.
    FadeIn,
    /// Two pictures blend into each other (a cross-dissolve).
    Dissolve,
    /// The new picture sweeps across the old one.
    Wipe,
}

impl TransitionKind {
    /// Kebab-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FadeOut => "fade-out",
            Self::FadeIn => "fade-in",
            Self::Dissolve => "dissolve",
            Self::Wipe => "wipe",
        }
    }
}

/// A gradual transition: the frames from `start` (the first that changed) up to `end` (the
/// first of the new picture, or the clip's end for a final fade-out) belong to no scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Presentation time of the first frame that changed.
    pub start: Ticks,
    /// Presentation time of the first frame of the new picture (exclusive end).
    pub end: Ticks,
    /// Fade-out, fade-in, dissolve or wipe.
    pub kind: TransitionKind,
}

/// A thumbnail and the presentation time of its frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimedThumbnail {
    /// Presentation time of the frame from the first frame.
    pub time: Ticks,
    /// The picture.
    pub thumbnail: Thumbnail,
}

/// Change score of one frame against its predecessor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameScore {
    /// Presentation time of the frame from the first frame.
    pub time: Ticks,
    /// Content difference to the previous frame, 0..=1.
    pub diff: f32,
    /// Mean luma, 0..=1.
    pub luma: f32,
    /// Content difference to the frame two entries back, 0..=1 (tells a flash from a cut:
    /// after a flash the picture matches the one before it again).
    #[serde(default)]
    pub skip_diff: f32,
    /// Luma standard deviation, 0..=1.
    #[serde(default)]
    pub contrast: f32,
    /// Hasler-Suesstrunk colourfulness, roughly 0..=1.
    #[serde(default)]
    pub colorfulness: f32,
    /// Laplacian-variance sharpness, 0..=1.
    #[serde(default)]
    pub sharpness: f32,
    /// Mean absolute luma difference to the previous frame, 0..=1 (0 when not adjacent).
    #[serde(default)]
    pub motion: f32,
    /// The camera's global shift from the previous frame (0 when not adjacent), thousandths
    /// of the picture's width and height: tells a pan or a swing from a transition.
    #[serde(default)]
    pub shift: [i16; 2],
    /// True when the previous entry is the previous frame of the stream (fast mode leaves
    /// gaps between keyframes where nothing changed).
    #[serde(default)]
    pub adjacent: bool,
    /// 4×4 grid means of luma (limited range, as decoded).
    #[serde(default)]
    pub grid_y: [u8; 16],
    /// 4×4 grid means of Cb.
    #[serde(default)]
    pub grid_u: [u8; 16],
    /// 4×4 grid means of Cr.
    #[serde(default)]
    pub grid_v: [u8; 16],
    /// 12×12 grid means of luma (limited range, as decoded), row by row: with [`Self::shift`]
    /// it tells a camera that moved to another view of the same scene from a transition
    /// to another picture.
    #[serde(default)]
    pub layout: [[u8; 12]; 12],
    /// Saturation-weighted hue histogram, 12 bins, 0..=255 (the grey share is the rest).
    #[serde(default)]
    pub hue: [u8; 12],
}

/// A shot: a continuous stretch between two cuts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    /// First frame time.
    pub start: Ticks,
    /// End (exclusive): the next scene's start, the start of a gradual transition, or the
    /// clip end. Frames inside a fade or dissolve belong to no scene.
    pub end: Ticks,
    /// Visual features for selection.
    pub features: SceneFeatures,
}

/// Per-scene features: quality and look measures for the planner.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SceneFeatures {
    /// Mean luma 0..=1.
    pub brightness: f32,
    /// Luma standard deviation 0..=1.
    pub contrast: f32,
    /// Hasler-Suesstrunk colourfulness, roughly 0..=1.
    pub colorfulness: f32,
    /// Dominant colour as sRGB.
    pub dominant_rgb: [u8; 3],
    /// Sharpness (variance of the Laplacian, normalised 0..=1).
    pub sharpness: f32,
    /// Mean absolute frame difference, 0..=1: how much moves.
    pub motion: f32,
    /// Compact look descriptor (colour layout) for variety and match cuts.
    pub vector: Vec<f32>,
    /// Small RGB thumbnails of the first, middle and last frame.
    pub thumbnails: Vec<Thumbnail>,
    /// The scene's strongest moment (an impact, a flash, a sudden move), when one stands out
    /// of its steady motion: the planner can slide the shot so that it lands on a beat.
    #[serde(default)]
    pub action: Option<ActionPeak>,
}

/// The frame where a scene changes most within itself, and by how much that stands out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActionPeak {
    /// Presentation time of the frame the change starts on.
    pub time: Ticks,
    /// The change there over the scene's typical frame-to-frame change (1 = nothing stands
    /// out; a flash in a calm shot is tens).
    pub strength: f32,
}

/// A small RGB image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Thumbnail {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Packed RGB8 rows.
    pub rgb: Vec<u8>,
}
