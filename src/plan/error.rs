//! Why planning can fail.

use std::path::PathBuf;

/// A reason the planner could not produce a timeline. Bad input is reported here, never by a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// No clip has any footage (no clips, or every clip is empty).
    #[error("cannot plan: no clips with footage")]
    NoClips,
    /// Every usable source range was excluded by the user.
    #[error("cannot plan: every source range is excluded")]
    NoUsableFootage,
    /// The music analysis has no beats to cut on.
    #[error("cannot plan: the music has no beats")]
    NoBeats,
    /// The music is shorter than half an output frame.
    #[error("cannot plan: the music has no duration")]
    NoMusic,
    /// The output frame rate is zero or negative.
    #[error("cannot plan: invalid output frame rate {num}/{den}")]
    InvalidFrameRate {
        /// Frames.
        num: i32,
        /// Per this many seconds.
        den: i32,
    },
    /// The style name is neither built in nor a readable `.toml`/`.json` file.
    #[error("unknown style {0:?} (built-in: {list})", list = super::Style::builtin_names().join(", "))]
    UnknownStyle(String),
    /// A style file could not be read or parsed.
    #[error("cannot load style: {message}: {}", path.display())]
    StyleFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A style's values are out of range.
    #[error("invalid style {name:?}: {message}")]
    InvalidStyle {
        /// Style name.
        name: String,
        /// Which value and why.
        message: String,
    },
}
