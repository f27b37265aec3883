//! Pictures in FFmpeg's reference-counted memory: 8-bit YUV 4:2:0 frames that pass from a
//! decoder to the encoder without a copy, and that the render pipeline composes into when a
//! frame has to be built (letterbox, crop, crossfade).

use std::ptr::NonNull;

use ffmpeg::format::Pixel;
use ffmpeg_next as ffmpeg;

use super::MediaError;
use crate::time::Ticks;

/// Luma of black in limited-range YUV.
const BLACK_LUMA: u8 = 16;
/// Chroma of any grey.
const NEUTRAL_CHROMA: u8 = 128;

/// One plane of a [`Picture`]: `height` rows of `width` bytes, each `stride` bytes after the
/// one before.
#[derive(Debug)]
pub struct Plane<'a> {
    data: &'a [u8],
    stride: usize,
    width: usize,
    height: usize,
}

impl<'a> Plane<'a> {
    /// Bytes per row that carry pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Row `y` (its `width` pixels), `None` below the last row.
    pub fn row(&self, y: usize) -> Option<&'a [u8]> {
        if y >= self.height {
            return None;
        }
        let start = y * self.stride;
        self.data.get(start..start + self.width)
    }
}

/// One plane of a [`Picture`] being written.
#[derive(Debug)]
pub struct PlaneMut<'a> {
    data: &'a mut [u8],
    stride: usize,
    width: usize,
    height: usize,
}

impl PlaneMut<'_> {
    /// Bytes per row that carry pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Row `y` (its `width` pixels), `None` below the last row.
    pub fn row_mut(&mut self, y: usize) -> Option<&mut [u8]> {
        if y >= self.height {
            return None;
        }
        let start = y * self.stride;
        self.data.get_mut(start..start + self.width)
    }

    /// Sets every pixel of the plane to `value`.
    pub fn fill(&mut self, value: u8) {
        for y in 0..self.height {
            if let Some(row) = self.row_mut(y) {
                row.fill(value);
            }
        }
    }
}

/// An upright 8-bit planar YUV 4:2:0 picture held in FFmpeg memory. [`Picture::share`] is a
/// new reference to the same pixels, not a copy; writing ([`Picture::planes_mut`]) first
/// copies the pixels if anything else still refers to them.
pub struct Picture {
    frame: ffmpeg::frame::Video,
    time: Ticks,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Picture")
            .field("width", &self.width())
            .field("height", &self.height())
            .field("time", &self.time)
            .finish()
    }
}

fn out_of_memory(width: u32, height: u32) -> MediaError {
    MediaError::OutOfMemory {
        what: format!("a {width}x{height} picture"),
    }
}

impl Picture {
    /// A black picture (limited-range black, neutral chroma) at time 0.
    pub fn black(width: u32, height: u32) -> Result<Self, MediaError> {
        let mut picture = Self::alloc(width, height)?;
        let [mut y, mut u, mut v] = picture.planes_mut()?;
        y.fill(BLACK_LUMA);
        u.fill(NEUTRAL_CHROMA);
        v.fill(NEUTRAL_CHROMA);
        Ok(picture)
    }

    /// A picture with undefined pixels, for the caller to fill.
    fn alloc(width: u32, height: u32) -> Result<Self, MediaError> {
        if width == 0 || height == 0 {
            return Err(out_of_memory(width, height));
        }
        let mut frame = ffmpeg::frame::Video::empty();
        frame.set_format(Pixel::YUV420P);
        frame.set_width(width);
        frame.set_height(height);
        // SAFETY: the frame is freshly allocated with no buffers; format and size are set, as
        // av_frame_get_buffer requires.
        let status = unsafe { ffmpeg::ffi::av_frame_get_buffer(frame.as_mut_ptr(), 0) };
        if status < 0 {
            return Err(out_of_memory(width, height));
        }
        Self::checked(frame, 0).ok_or_else(|| out_of_memory(width, height))
    }

    /// A copy of tightly packed YUV 4:2:0 pixels (Y, then U, then V).
    pub fn from_yuv420p(data: &[u8], width: u32, height: u32) -> Result<Self, MediaError> {
        let mut picture = Self::alloc(width, height)?;
        let mut offset = 0;
        for mut plane in picture.planes_mut()? {
            for y in 0..plane.height() {
                let w = plane.width();
                if let (Some(src), Some(dst)) = (data.get(offset..offset + w), plane.row_mut(y)) {
                    dst.copy_from_slice(src);
                }
                offset += w;
            }
        }
        Ok(picture)
    }

    /// Wraps a YUV 4:2:0 frame we own; `None` if it is not one.
    pub(crate) fn from_frame(frame: ffmpeg::frame::Video, time: Ticks) -> Option<Self> {
        Self::checked(frame, time)
    }

    /// A new reference to the pixels of a decoded YUV 4:2:0 frame, without its side data or
    /// picture type (the encoder would otherwise take the decoder's frame types as orders);
    /// `None` if it is not such a frame.
    pub(crate) fn share_frame(
        frame: &ffmpeg::frame::Video,
        time: Ticks,
    ) -> Result<Option<Self>, MediaError> {
        let mut shared = ffmpeg::frame::Video::empty();
        // SAFETY: `shared` is a fresh frame and `frame` a valid one; av_frame_ref only adds
        // references to `frame`'s buffers and copies its properties.
        let status = unsafe { ffmpeg::ffi::av_frame_ref(shared.as_mut_ptr(), frame.as_ptr()) };
        if status < 0 {
            return Err(out_of_memory(frame.width(), frame.height()));
        }
        // SAFETY: `shared` is valid and ours alone; this resets plain fields, reads the types
        // of its `nb_side_data` side data entries, then removes those entries.
        unsafe {
            let raw = shared.as_mut_ptr();
            (*raw).pict_type = ffmpeg::ffi::AVPictureType::AV_PICTURE_TYPE_NONE;
            (*raw).pts = ffmpeg::ffi::AV_NOPTS_VALUE;
            let count = usize::try_from((*raw).nb_side_data).unwrap_or(0);
            let kinds: Vec<_> = (0..count)
                .filter_map(|i| {
                    let entry = *(*raw).side_data.add(i);
                    (!entry.is_null()).then(|| (*entry).type_)
                })
                .collect();
            for kind in kinds {
                ffmpeg::ffi::av_frame_remove_side_data(raw, kind);
            }
        }
        Ok(Self::checked(shared, time))
    }

    /// Accepts `frame` only if it is 8-bit YUV 4:2:0 with three planes whose rows fit their
    /// strides: the layout every plane accessor checks again before reading.
    fn checked(frame: ffmpeg::frame::Video, time: Ticks) -> Option<Self> {
        let picture = Self { frame, time };
        (0..3)
            .all(|index| picture.plane_parts(index).is_some())
            .then_some(picture)
    }

    /// Width and height of plane `index` in bytes and rows.
    fn plane_size(&self, index: usize) -> (usize, usize) {
        let (w, h) = (self.width() as usize, self.height() as usize);
        if index == 0 {
            (w, h)
        } else {
            (w.div_ceil(2), h.div_ceil(2))
        }
    }

    /// Pointer, stride, width and height of plane `index` (0..3); `None` unless the frame
    /// is YUV 4:2:0 with a buffer for the plane whose stride holds a row.
    fn plane_parts(&self, index: usize) -> Option<(NonNull<u8>, usize, usize, usize)> {
        if self.frame.format() != Pixel::YUV420P || index >= 3 {
            return None;
        }
        let (width, height) = self.plane_size(index);
        // SAFETY: the frame is valid; only its pointer and stride arrays are read.
        let (data, stride) = unsafe {
            let raw = self.frame.as_ptr();
            ((*raw).data[index], (*raw).linesize[index])
        };
        let stride = usize::try_from(stride).ok()?;
        if width == 0 || height == 0 || stride < width {
            return None;
        }
        Some((NonNull::new(data)?, stride, width, height))
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.frame.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.frame.height()
    }

    /// Presentation time from the first frame of the source (0 for pictures made here).
    pub fn time(&self) -> Ticks {
        self.time
    }

    /// Sets the presentation time.
    pub fn set_time(&mut self, time: Ticks) {
        self.time = time;
    }

    /// The Y, U and V planes (empty if the frame lost its buffers, which FFmpeg never does).
    pub fn planes(&self) -> [Plane<'_>; 3] {
        [0, 1, 2].map(|index| match self.plane_parts(index) {
            Some((data, stride, width, height)) => {
                let len = stride * (height - 1) + width;
                // SAFETY: FFmpeg allocates at least `stride * height` bytes for a plane; the
                // frame holds a reference to the buffer while `self` is borrowed, and nothing
                // writes to it meanwhile (writing goes through `planes_mut`, which copies
                // the pixels first if anything else refers to them).
                let data = unsafe { std::slice::from_raw_parts(data.as_ptr(), len) };
                Plane {
                    data,
                    stride,
                    width,
                    height,
                }
            }
            None => Plane {
                data: &[],
                stride: 0,
                width: 0,
                height: 0,
            },
        })
    }

    /// The Y, U and V planes for writing; copies the pixels first if another reference
    /// (another picture, the decoder, the encoder) still uses them.
    pub fn planes_mut(&mut self) -> Result<[PlaneMut<'_>; 3], MediaError> {
        let (w, h) = (self.width(), self.height());
        // SAFETY: the frame is valid; av_frame_make_writable leaves it with buffers only it
        // refers to (copying them if needed) in the same format and size.
        let status = unsafe { ffmpeg::ffi::av_frame_make_writable(self.frame.as_mut_ptr()) };
        if status < 0 {
            return Err(out_of_memory(w, h));
        }
        let parts = [0, 1, 2].map(|index| self.plane_parts(index));
        let [Some(y), Some(u), Some(v)] = parts else {
            return Err(out_of_memory(w, h));
        };
        Ok([y, u, v].map(|(data, stride, width, height)| {
            let len = stride * (height - 1) + width;
            // SAFETY: as in `planes`; the buffers are now referenced by this frame only, the
            // three planes are disjoint regions of them, and the returned borrows hold
            // `&mut self` so nothing else reads or shares the frame meanwhile.
            let data = unsafe { std::slice::from_raw_parts_mut(data.as_ptr(), len) };
            PlaneMut {
                data,
                stride,
                width,
                height,
            }
        }))
    }

    /// Another reference to the same pixels (no copy).
    pub fn share(&self) -> Result<Self, MediaError> {
        let mut shared = ffmpeg::frame::Video::empty();
        // SAFETY: `shared` is a fresh frame and `self.frame` a valid one.
        let status = unsafe { ffmpeg::ffi::av_frame_ref(shared.as_mut_ptr(), self.frame.as_ptr()) };
        if status < 0 {
            return Err(out_of_memory(self.width(), self.height()));
        }
        Ok(Self {
            frame: shared,
            time: self.time,
        })
    }

    /// The pixels tightly packed (Y, then U, then V), as [`super::VideoFrame`] holds them.
    pub fn to_yuv420p(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for plane in self.planes() {
            for y in 0..plane.height() {
                if let Some(row) = plane.row(y) {
                    out.extend_from_slice(row);
                }
            }
        }
        out
    }

    /// The frame to hand to an encoder (stamping its pts is the caller's business).
    pub(crate) fn frame_mut(&mut self) -> &mut ffmpeg::frame::Video {
        &mut self.frame
    }
}

/// Cuts a fixed-size window out of pictures and scales it to a fixed output size: how a
/// portrait or square export is made from wider footage, with the window placed per frame.
/// Cropping first means only the window is scaled, as an FFmpeg `crop,scale` chain does.
pub struct CropScaler {
    context: ffmpeg::software::scaling::Context,
    staging: Picture,
    window: (u32, u32),
}

impl CropScaler {
    /// A scaler from a `window` (even width and height) to `output`.
    pub fn new(window: (u32, u32), output: (u32, u32)) -> Result<Self, MediaError> {
        let window = ((window.0 & !1).max(2), (window.1 & !1).max(2));
        let context = ffmpeg::software::scaling::Context::get(
            Pixel::YUV420P,
            window.0,
            window.1,
            Pixel::YUV420P,
            output.0,
            output.1,
            ffmpeg::software::scaling::Flags::BILINEAR,
        )
        .map_err(|e| MediaError::Unsupported {
            what: format!(
                "scaling {}x{} to {}x{} ({e})",
                window.0, window.1, output.0, output.1
            ),
            path: std::path::PathBuf::new(),
        })?;
        Ok(Self {
            context,
            staging: Picture::alloc(window.0, window.1)?,
            window,
        })
    }

    /// The window's width and height.
    pub fn window(&self) -> (u32, u32) {
        self.window
    }

    /// The window of `picture` whose top-left corner is at `(x, y)` (moved inside the
    /// picture and to even pixels), scaled to the output size, at the picture's time.
    pub fn run(&mut self, picture: &Picture, x: u32, y: u32) -> Result<Picture, MediaError> {
        let (ww, wh) = self.window;
        let x = x.min(picture.width().saturating_sub(ww)) & !1;
        let y = y.min(picture.height().saturating_sub(wh)) & !1;
        let sources = picture.planes();
        for (index, (src, mut dst)) in sources
            .into_iter()
            .zip(self.staging.planes_mut()?)
            .enumerate()
        {
            let (ox, oy) = if index == 0 {
                (x as usize, y as usize)
            } else {
                (x as usize / 2, y as usize / 2)
            };
            let width = dst.width();
            for row in 0..dst.height() {
                if let (Some(s), Some(d)) = (src.row(oy + row), dst.row_mut(row))
                    && let Some(s) = s.get(ox..ox + width)
                {
                    d.copy_from_slice(s);
                }
            }
        }
        let mut scaled = ffmpeg::frame::Video::empty();
        self.context
            .run(&self.staging.frame, &mut scaled)
            .map_err(|e| MediaError::OutOfMemory {
                what: format!("a scaled crop ({e})"),
            })?;
        Self::checked_output(scaled, picture.time())
    }

    fn checked_output(frame: ffmpeg::frame::Video, time: Ticks) -> Result<Picture, MediaError> {
        let (w, h) = (frame.width(), frame.height());
        Picture::checked(frame, time).ok_or_else(|| out_of_memory(w, h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_is_black_and_round_trips() {
        crate::media::init();
        let black = Picture::black(6, 4).expect("alloc");
        let packed = black.to_yuv420p();
        assert_eq!(packed.len(), 6 * 4 + 2 * 3 * 2);
        assert!(packed[..24].iter().all(|&v| v == BLACK_LUMA));
        assert!(packed[24..].iter().all(|&v| v == NEUTRAL_CHROMA));
        let data: Vec<u8> = (0..36).collect();
        let picture = Picture::from_yuv420p(&data, 6, 4).expect("alloc");
        assert_eq!(picture.to_yuv420p(), data);
    }

    #[test]
    fn writing_a_shared_picture_leaves_the_other_alone() {
        crate::media::init();
        let original = Picture::black(4, 2).expect("alloc");
        let mut copy = original.share().expect("share");
        let [mut y, _, _] = copy.planes_mut().expect("writable");
        if let Some(row) = y.row_mut(0) {
            row.fill(200);
        }
        assert_eq!(original.to_yuv420p()[0], BLACK_LUMA);
        assert_eq!(copy.to_yuv420p()[0], 200);
    }
}
