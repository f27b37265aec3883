//! `Reason`: why the planner chose a segment, kept as a few numbers and formatted into text
//! only when someone reads it (the inspector, `--explain`, JSON), so a replan builds no strings.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::pacing::CutKind;
use super::select::ActionHit;
use crate::analysis::music::SectionLabel;
use crate::time::{Ticks, secs_from_ticks};

/// Why a segment was chosen. Reads as text: it derefs to `str`, displays, and serialises
/// as a plain string (so saved projects keep their `"reason": "..."` field). Text loaded
/// from a file or given by the caller is kept as is.
#[derive(Clone, Default)]
pub struct Reason {
    /// The planner's facts, when the planner made this reason.
    facts: Option<Facts>,
    /// The text: given, or rendered from `facts` on first read.
    text: OnceLock<String>,
}

/// What the selection knew when it picked a scene: everything the reason text says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Facts {
    /// Caller's clip id.
    pub clip_id: usize,
    /// Scene number inside the clip.
    pub scene_no: u32,
    /// Motion percentile of the scene.
    pub motion: f32,
    /// The motion is within 0.15 of what the slot asked for.
    pub motion_fits: bool,
    /// Mean music energy of the slot.
    pub energy: f32,
    /// Story-arc label of the slot.
    pub arc: Option<SectionLabel>,
    /// Image quality of the scene.
    pub quality: f32,
    /// Shots since the clip was last used, `None` for a fresh clip.
    pub clip_age: Option<u32>,
    /// The cut into the slot.
    pub cut: CutKind,
    /// Selection score.
    pub score: f32,
    /// Why the usual choice was overridden, if it was.
    pub note: Option<Note>,
    /// The beat the shot's action was put on, if it was.
    pub action: Option<ActionHit>,
}

/// A remark appended to a reason.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Note {
    /// A match cut won over the best shot.
    MatchCut,
    /// Unused footage ran out; the least recently used range was reused.
    Reused,
    /// No scene was long enough; the longest was held.
    Held {
        /// Longest allowed range of the scene.
        longest: Ticks,
        /// Length of the slot.
        slot: Ticks,
    },
    /// Offered as a replacement.
    Alternative,
}

impl Reason {
    /// A reason from the planner's facts; the text is made on first read.
    pub(crate) fn planned(facts: Facts) -> Self {
        Self {
            facts: Some(facts),
            text: OnceLock::new(),
        }
    }

    /// The text of the reason.
    pub fn as_str(&self) -> &str {
        self.text
            .get_or_init(|| self.facts.as_ref().map(render).unwrap_or_default())
    }
}

fn render(f: &Facts) -> String {
    use fmt::Write;
    let mut r = String::with_capacity(160);
    let fit = if f.motion_fits { "matches" } else { "for" };
    // Writing to a String cannot fail.
    let _ = write!(
        r,
        "clip {} scene {}: motion {:.2} {fit} energy {:.2}",
        f.clip_id, f.scene_no, f.motion, f.energy
    );
    if let Some(label) = f.arc {
        let _ = write!(r, " ({})", label.as_str());
    }
    let _ = write!(r, "; quality {:.2}; ", f.quality);
    match f.clip_age {
        None => r.push_str("fresh clip"),
        Some(age) => {
            let _ = write!(r, "clip last seen {age} shots ago");
        }
    }
    let _ = write!(r, "; {}; score {:.2}", f.cut.describe(), f.score);
    match f.note {
        None => {}
        Some(Note::MatchCut) => r.push_str("; match cut: looks like the previous shot"),
        Some(Note::Reused) => {
            r.push_str("; reused: unused footage ran out, least recently used range");
        }
        Some(Note::Held { longest, slot }) => {
            let _ = write!(
                r,
                "; held: longest scene ({:.2} s) is shorter than the {:.2} s slot",
                secs_from_ticks(longest),
                secs_from_ticks(slot)
            );
        }
        Some(Note::Alternative) => r.push_str("; alternative"),
    }
    if let Some(a) = f.action {
        let _ = write!(
            r,
            "; action ({:.0}x the shot's motion) hits {} at {:.2} s",
            a.strength,
            a.hit.kind.as_str(),
            secs_from_ticks(a.hit.time)
        );
    }
    r
}

impl Deref for Reason {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Reason {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Equal when the texts are equal (same facts give the same text without formatting it).
impl PartialEq for Reason {
    fn eq(&self, other: &Self) -> bool {
        match (&self.facts, &other.facts) {
            (Some(a), Some(b)) if a == b => true,
            _ => self.as_str() == other.as_str(),
        }
    }
}

impl From<String> for Reason {
    fn from(text: String) -> Self {
        Self {
            facts: None,
            text: OnceLock::from(text),
        }
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Self {
        Self::from(text.to_owned())
    }
}

impl From<&Reason> for String {
    fn from(reason: &Reason) -> Self {
        reason.as_str().to_owned()
    }
}

impl From<Reason> for String {
    fn from(reason: Reason) -> Self {
        match reason.text.into_inner() {
            Some(text) => text,
            None => reason.facts.as_ref().map(render).unwrap_or_default(),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            clip_id: 3,
            scene_no: 7,
            motion: 0.456,
            motion_fits: true,
            energy: 0.5,
            arc: Some(SectionLabel::Climax),
            quality: 0.8,
            clip_age: Some(4),
            cut: CutKind::Downbeat,
            score: -0.125,
            note: Some(Note::Held {
                longest: crate::time::TICKS_PER_SECOND,
                slot: 2 * crate::time::TICKS_PER_SECOND,
            }),
            action: None,
        }
    }

    #[test]
    fn renders_the_facts_once_as_text() {
        let r = Reason::planned(facts());
        let want = format!(
            "clip 3 scene 7: motion {:.2} matches energy 0.50 (climax); quality 0.80; \
             clip last seen 4 shots ago; downbeat cut; score {:.2}; held: longest scene \
             (1.00 s) is shorter than the 2.00 s slot",
            0.456f32, -0.125f32
        );
        assert_eq!(r.as_str(), want);
        assert_eq!(r.to_string(), want);
        assert!(r.contains("held"));
        assert_eq!(String::from(r.clone()), want);
    }

    #[test]
    fn serialises_as_a_string_and_compares_by_text() {
        let r = Reason::planned(facts());
        let json = serde_json::to_string(&r).unwrap();
        let back: Reason = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(r, Reason::from(r.as_str()));
        assert_ne!(r, Reason::from("other"));
        assert!(Reason::default().is_empty());
        assert_eq!(format!("{:?}", Reason::from("a\"b")), "\"a\\\"b\"");
    }
}
