//! Display rotation: reading it from a stream and applying it to decoded planes.

use ffmpeg_next as ffmpeg;

/// Clockwise rotation (0, 90, 180 or 270 degrees) a player applies to show the stream upright,
/// from the display matrix side data or the legacy `rotate` tag.
pub(crate) fn rotation_of_stream(stream: &ffmpeg::format::stream::Stream) -> u32 {
    for side in stream.side_data() {
        if side.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix {
            let data = side.data();
            if data.len() >= 36 {
                // SAFETY: the display matrix is nine i32 values (36 bytes), checked above;
                // `av_display_rotation_get` only reads them.
                let angle =
                    unsafe { ffmpeg::ffi::av_display_rotation_get(data.as_ptr() as *const i32) };
                if angle.is_finite() {
                    // The matrix gives a counter-clockwise angle; players rotate the other way.
                    return normalise(-angle.round() as i64);
                }
            }
        }
    }
    stream
        .metadata()
        .get("rotate")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(normalise)
        .unwrap_or(0)
}

fn normalise(degrees: i64) -> u32 {
    let snapped = ((degrees as f64 / 90.0).round() as i64 * 90).rem_euclid(360);
    snapped as u32
}

/// Rotates a tightly packed plane of `width`×`height` pixels of `bpp` bytes each clockwise
/// by `rotation` degrees, returning the new plane and its dimensions.
pub(crate) fn rotate_plane(
    src: &[u8],
    width: usize,
    height: usize,
    bpp: usize,
    rotation: u32,
) -> (Vec<u8>, usize, usize) {
    if rotation == 0 || src.len() < width * height * bpp {
        return (src.to_vec(), width, height);
    }
    let mut out = vec![0u8; width * height * bpp];
    match rotation {
        90 => {
            // Output is height×width; output (x, y) comes from input (y, height-1-x).
            let out_w = height;
            for y in 0..height {
                let row = &src[y * width * bpp..(y + 1) * width * bpp];
                let x_out = height - 1 - y;
                for (x, px) in row.chunks_exact(bpp).enumerate() {
                    let o = (x * out_w + x_out) * bpp;
                    out[o..o + bpp].copy_from_slice(px);
                }
            }
            (out, height, width)
        }
        180 => {
            for (i, px) in src[..width * height * bpp].chunks_exact(bpp).enumerate() {
                let o = (width * height - 1 - i) * bpp;
                out[o..o + bpp].copy_from_slice(px);
            }
            (out, width, height)
        }
        270 => {
            let out_w = height;
            for y in 0..height {
                let row = &src[y * width * bpp..(y + 1) * width * bpp];
                for (x, px) in row.chunks_exact(bpp).enumerate() {
                    let o = ((width - 1 - x) * out_w + y) * bpp;
                    out[o..o + bpp].copy_from_slice(px);
                }
            }
            (out, height, width)
        }
        _ => (src.to_vec(), width, height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotating_four_times_is_identity() {
        let src: Vec<u8> = (0..12).collect();
        let (a, w, h) = rotate_plane(&src, 4, 3, 1, 90);
        assert_eq!((w, h), (3, 4));
        // Top-left of the rotated image is the bottom-left of the source.
        assert_eq!(a[0], 8);
        let (b, w, h) = rotate_plane(&a, w, h, 1, 90);
        let (c, w, h) = rotate_plane(&b, w, h, 1, 180);
        assert_eq!((c, w, h), (src.clone(), 4, 3));
        let (d, w, h) = rotate_plane(&src, 4, 3, 1, 270);
        let (e, _, _) = rotate_plane(&d, w, h, 1, 90);
        assert_eq!(e, src);
    }
}
