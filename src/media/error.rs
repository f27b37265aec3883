//! Errors of the media layer, one variant per kind of failure.

use std::path::PathBuf;

/// Why a media file could not be read, decoded or written. Messages say what failed and
/// why, with the path last.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The file could not be opened or read.
    #[error("cannot read file ({source}): {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file has no bytes.
    #[error("empty file (0 bytes): {}", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The bytes are not a media container any decoder recognises.
    #[error("not a readable media file ({reason}): {}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What the demuxer said.
        reason: String,
    },
    /// A stream of the needed kind is missing.
    #[error("no {kind} stream in file: {}", path.display())]
    NoStream {
        /// The file.
        path: PathBuf,
        /// "audio" or "video".
        kind: &'static str,
    },
    /// The codec or format is recognised but cannot be decoded here.
    #[error("unsupported {what}: {}", path.display())]
    Unsupported {
        /// The codec or feature.
        what: String,
        /// The file.
        path: PathBuf,
    },
    /// Decoding failed beyond recovery.
    #[error("decoding failed ({reason}): {}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Seeking failed.
    #[error("seek to {secs:.3} s failed ({reason}): {}", path.display())]
    Seek {
        /// The file.
        path: PathBuf,
        /// Requested position.
        secs: f64,
        /// What went wrong.
        reason: String,
    },
    /// Encoding or writing the output failed.
    #[error("writing failed ({reason}): {}", path.display())]
    Encode {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A buffer could not be allocated (a limit of the machine, not of the file).
    #[error("out of memory allocating {what}")]
    OutOfMemory {
        /// What was being allocated.
        what: String,
    },
    /// The caller cancelled the work.
    #[error("cancelled")]
    Cancelled,
}

impl MediaError {
    /// The reason alone, without the path (for messages that combine two decoders' verdicts).
    pub fn reason(&self) -> String {
        match self {
            Self::Malformed { reason, .. } | Self::Decode { reason, .. } => reason.clone(),
            Self::Unsupported { what, .. } => format!("unsupported {what}"),
            Self::NoStream { kind, .. } => format!("no {kind} stream"),
            Self::Empty { .. } => "empty file".into(),
            Self::Io { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }

    /// Checks the file exists, is readable and is not empty, giving the precise error when not.
    pub fn check_readable(path: &std::path::Path) -> Result<u64, MediaError> {
        let meta = std::fs::metadata(path).map_err(|source| MediaError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            return Err(MediaError::Malformed {
                path: path.to_path_buf(),
                reason: "is a directory".into(),
            });
        }
        if meta.len() == 0 {
            return Err(MediaError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(meta.len())
    }
}
