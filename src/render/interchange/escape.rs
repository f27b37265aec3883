//! Escaping for the text formats: XML attribute values, `file://` URLs, EDL fields.

use std::path::Path;

/// Escapes `text` for use inside a double-quoted XML attribute.
pub(crate) fn xml_attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            // Other control characters are not allowed in XML 1.0 at all.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An absolute `file://` URL for `path`, percent-encoded byte by byte (RFC 8089).
///
/// A relative path is resolved against the working directory first, because every
/// importer needs an absolute location.
pub(crate) fn file_url(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut bytes = path_bytes(&absolute);
    if cfg!(windows) {
        for b in &mut bytes {
            if *b == b'\\' {
                *b = b'/';
            }
        }
    }
    let mut url = String::from("file://");
    if bytes.first() != Some(&b'/') {
        url.push('/');
    }
    for b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            url.push(char::from(b));
        } else if cfg!(windows) && b == b':' {
            url.push(':');
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().as_bytes().to_vec()
}

/// `text` on one line of an EDL comment: control characters become spaces.
pub(crate) fn edl_comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// An 8-character CMX3600 reel name from a clip name: upper-case ASCII letters, digits
/// and `_`, never empty.
pub(crate) fn reel_name(name: &str) -> String {
    let reel: String = name
        .chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() {
                Some(c.to_ascii_uppercase())
            } else if matches!(c, '_' | '-' | ' ' | '.') {
                Some('_')
            } else {
                None
            }
        })
        .take(8)
        .collect();
    let reel = reel.trim_end_matches('_').to_string();
    if reel.is_empty() {
        "AX".to_string()
    } else {
        reel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_percent_encoded() {
        let url = file_url(Path::new("/media/My Clips/été #1.mov"));
        assert_eq!(url, "file:///media/My%20Clips/%C3%A9t%C3%A9%20%231.mov");
    }

    #[test]
    fn xml_attributes_are_escaped() {
        assert_eq!(
            xml_attr(r#"a&b<"c">'"#),
            "a&amp;b&lt;&quot;c&quot;&gt;&apos;"
        );
    }

    #[test]
    fn reels_are_short_and_safe() {
        assert_eq!(reel_name("beach day.mov"), "BEACH_DA");
        assert_eq!(reel_name("été"), "T");
        assert_eq!(reel_name("!!"), "AX");
    }
}
