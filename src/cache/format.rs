//! The on-disk entry format: a fixed header, then the msgpack payload.
//!
//! ```text
//! offset size  field
//! 0      4     magic b"BCUT"
//! 4      4     format version, u32 little-endian
//! 8      8     payload length in bytes, u64 LE
//! 16     8     xxh3-64 of the payload, u64 LE
//! 24     8     compute time of the value in nanoseconds, u64 LE ("time saved" on a hit)
//! 32     ...   payload: rmp_serde::to_vec_named of the value
//! ```

use xxhash_rust::xxh3::xxh3_64;

/// First four bytes of every entry.
pub const MAGIC: [u8; 4] = *b"BCUT";
/// Version of the layout above; entries of any other version are discarded.
pub const FORMAT_VERSION: u32 = 1;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 32;

/// Why an entry's bytes were rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Shorter than the header or than the length it announces.
    Truncated,
    /// Does not start with `BCUT`.
    BadMagic,
    /// Written by an older layout.
    OldVersion(u32),
    /// Written by a newer Beatcut; left alone for it.
    NewerVersion(u32),
    /// Longer than announced.
    TrailingBytes,
    /// Payload checksum mismatch.
    Checksum,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated"),
            Self::BadMagic => f.write_str("wrong magic"),
            Self::OldVersion(v) => write!(f, "old format version {v}, now {FORMAT_VERSION}"),
            Self::NewerVersion(v) => {
                write!(
                    f,
                    "newer format version {v}, this build reads {FORMAT_VERSION}"
                )
            }
            Self::TrailingBytes => f.write_str("trailing bytes after the payload"),
            Self::Checksum => f.write_str("payload checksum mismatch"),
        }
    }
}

/// A checked entry: the payload and the compute time stored with it.
#[derive(Debug, Clone, Copy)]
pub struct Decoded<'a> {
    /// The msgpack payload.
    pub payload: &'a [u8],
    /// How long the value took to compute, in nanoseconds.
    pub compute_nanos: u64,
}

/// Builds a whole entry file from a payload.
pub fn encode(payload: &[u8], compute_nanos: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&xxh3_64(payload).to_le_bytes());
    out.extend_from_slice(&compute_nanos.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// Checks an entry file's bytes and returns its payload; never trusts a damaged entry.
pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>, Rejection> {
    if bytes.get(..4).is_some_and(|m| m != MAGIC) {
        return Err(Rejection::BadMagic);
    }
    let (Some(version), Some(len), Some(checksum), Some(compute_nanos)) = (
        u32_at(bytes, 4),
        u64_at(bytes, 8),
        u64_at(bytes, 16),
        u64_at(bytes, 24),
    ) else {
        return Err(Rejection::Truncated);
    };
    if version < FORMAT_VERSION {
        return Err(Rejection::OldVersion(version));
    }
    if version > FORMAT_VERSION {
        return Err(Rejection::NewerVersion(version));
    }
    let body = bytes.get(HEADER_LEN..).unwrap_or_default();
    let len = usize::try_from(len).map_err(|_| Rejection::Truncated)?;
    let payload = body.get(..len).ok_or(Rejection::Truncated)?;
    if body.len() > len {
        return Err(Rejection::TrailingBytes);
    }
    if xxh3_64(payload) != checksum {
        return Err(Rejection::Checksum);
    }
    Ok(Decoded {
        payload,
        compute_nanos,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let file = encode(b"payload", 42);
        let d = decode(&file).unwrap();
        assert_eq!(d.payload, b"payload");
        assert_eq!(d.compute_nanos, 42);
        assert_eq!(decode(&file[..10]).unwrap_err(), Rejection::Truncated);
        assert_eq!(
            decode(&file[..file.len() - 1]).unwrap_err(),
            Rejection::Truncated
        );
        assert_eq!(decode(&[]).unwrap_err(), Rejection::Truncated);
        let mut longer = file.clone();
        longer.push(0);
        assert_eq!(decode(&longer).unwrap_err(), Rejection::TrailingBytes);
        let mut flipped = file.clone();
        flipped[HEADER_LEN + 2] ^= 0xff;
        assert_eq!(decode(&flipped).unwrap_err(), Rejection::Checksum);
        let mut magic = file.clone();
        magic[0] = b'X';
        assert_eq!(decode(&magic).unwrap_err(), Rejection::BadMagic);
        let mut old = file.clone();
        old[4..8].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(decode(&old).unwrap_err(), Rejection::OldVersion(0));
        let mut newer = file;
        newer[4..8].copy_from_slice(&99u32.to_le_bytes());
        assert_eq!(decode(&newer).unwrap_err(), Rejection::NewerVersion(99));
    }
}
