//! Per-frame features of a small YUV 4:2:0 frame and the change score between two frames.
//!
//! The score mixes structure (gain- and offset-invariant correlation of luma at two scales
//! and of the gradient magnitude: a light switched on changes none of them) with colour
//! layout (chroma grid and a saturation-weighted hue histogram: the same under brightness
//! steps). Flat frames (black, white, a flash) carry no structure, so for them the score
//! falls back to the change of mean luma and colour.

use crate::media::{PixelLayout, VideoFrame};
use crate::time::Ticks;

use super::{FrameScore, Thumbnail};

/// Hue histogram bins (plus one bin for grey pixels).
pub(crate) const HUE_BINS: usize = 12;
/// The luma layout kept per frame is `LAYOUT`×`LAYOUT` cells.
pub(crate) const LAYOUT: usize = 12;
/// Colour layout grid is `GRID`×`GRID` cells.
pub(crate) const GRID: usize = 4;
const CELLS: usize = GRID * GRID;
/// Box size of the coarse luma scale.
const COARSE_BOX: usize = 4;
/// Largest global shift searched between two frames, as a share of the picture's width and
/// height: a handheld camera or a pan moves the picture a few percent a frame.
const MAX_SHIFT_SHARE: f32 = 0.08;
/// Chroma magnitude below which a pixel counts as grey for the hue histogram.
const GREY_CHROMA: f32 = 8.0;

/// Everything the scorer needs from one decoded frame.
#[derive(Debug, Clone)]
pub(crate) struct FrameFeatures {
    /// Presentation time from the first frame.
    pub time: Ticks,
    /// Luma plane width and height.
    pub width: usize,
    pub height: usize,
    /// Planes as decoded (limited range).
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
    /// Mean and standard deviation of luma, 0..=1.
    pub luma_mean: f32,
    pub luma_std: f32,
    /// Zero-mean unit-norm luma at full, coarse scale and gradient magnitude (empty: flat).
    fine: Vec<f32>,
    /// Zero-mean luma at half size (2×2 box means), for the global shift search.
    half: Vec<f32>,
    coarse: Vec<f32>,
    grad: Vec<f32>,
    /// Saturation-weighted hue histogram, last bin grey, sums to 1.
    hue: [f32; HUE_BINS + 1],
    /// Grid means of the planes, 0..=255.
    pub grid_y: [f32; CELLS],
    pub grid_u: [f32; CELLS],
    pub grid_v: [f32; CELLS],
    /// `LAYOUT`×`LAYOUT` luma means, 0..=255.
    pub layout: Vec<f32>,
    pub colorfulness: f32,
    pub sharpness: f32,
}

impl FrameFeatures {
    /// Features of a `Yuv420p` frame; `None` for any other layout or a truncated buffer.
    pub fn from_frame(frame: &VideoFrame) -> Option<Self> {
        if frame.layout != PixelLayout::Yuv420p {
            return None;
        }
        let (w, h) = (frame.width as usize, frame.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let y = frame.data.get(..w * h)?.to_vec();
        let u = frame.data.get(w * h..w * h + cw * ch)?.to_vec();
        let v = frame
            .data
            .get(w * h + cw * ch..w * h + 2 * cw * ch)?
            .to_vec();
        Some(Self::from_planes(frame.time, w, h, y, u, v))
    }

    fn from_planes(time: Ticks, w: usize, h: usize, y: Vec<u8>, u: Vec<u8>, v: Vec<u8>) -> Self {
        let n = (w * h).max(1) as f32;
        let sum: f32 = y.iter().map(|&p| f32::from(p)).sum();
        let mean = sum / n;
        let var: f32 = y
            .iter()
            .map(|&p| (f32::from(p) - mean).powi(2))
            .sum::<f32>()
            / n;
        let luma_mean = ((mean - 16.0) / 219.0).clamp(0.0, 1.0);
        let luma_std = var.sqrt() / 219.0;
        let fine = normalized(y.iter().map(|&p| f32::from(p)).collect());
        let coarse = normalized(box_down(&y, w, h, COARSE_BOX));
        let mut half = box_down(&y, w, h, 2);
        let half_mean = half.iter().sum::<f32>() / half.len().max(1) as f32;
        half.iter_mut().for_each(|v| *v -= half_mean);
        let (grad, sharpness) = gradients(&y, w, h);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let (hue, colorfulness) = chroma_stats(&u, &v);
        Self {
            time,
            width: w,
            height: h,
            grid_y: grid_means(&y, w, h),
            layout: grid_means_n(&y, w, h, LAYOUT),
            grid_u: grid_means(&u, cw, ch),
            grid_v: grid_means(&v, cw, ch),
            y,
            u,
            v,
            luma_mean,
            luma_std,
            fine,
            half,
            coarse,
            grad: normalized(grad),
            hue,
            colorfulness,
            sharpness,
        }
    }

    /// The change score from `prev` to `self`, 0..=1.
    pub fn diff(&self, prev: &Self) -> f32 {
        self.change_score(prev, false, None).0
    }

    /// The change score from `prev` to `self` and the camera's global shift between them
    /// (pixels of the analysis picture, see [`Self::global_shift`]).
    pub fn diff_and_shift(&self, prev: &Self) -> (f32, (i32, i32)) {
        self.change_score(prev, false, None)
    }

    /// A shift in pixels as thousandths of the picture's width and height.
    pub fn shift_per_mille(&self, (dx, dy): (i32, i32)) -> [i16; 2] {
        let scale = |d: i32, size: usize| {
            (f64::from(d) * 1000.0 / size.max(1) as f64)
                .round()
                .clamp(-1000.0, 1000.0) as i16
        };
        [scale(dx, self.width), scale(dy, self.height)]
    }

    /// How `self` differs from an earlier frame `prev` seconds away once the camera's global
    /// shift between them is taken out of the colour and brightness too, not only out of
    /// the structure: a handheld camera moves coloured areas across the picture's grid and
    /// in or out of its edges, which changes neither the shot nor its light. The shift is
    /// the one [`Self::global_shift`] finds (a few percent of the picture), so a cut, which
    /// no shift lines up, still changes everything.
    pub(crate) fn aligned_change(&self, prev: &Self) -> AlignedChange {
        if self.width != prev.width || self.height != prev.height {
            return AlignedChange {
                coarse: 1.0,
                detail: 1.0,
                colour: 1.0,
                brightness: 1.0,
            };
        }
        let shift = self.global_shift(prev);
        let (colour, brightness) = self.overlap_colour_change(prev, shift);
        let on_overlap = Overlap {
            colour,
            brightness,
            shift,
        };
        AlignedChange {
            coarse: self.change_score(prev, true, Some(on_overlap)).0,
            detail: self.change_score(prev, false, Some(on_overlap)).0,
            colour,
            brightness,
        }
    }

    /// The colour change (as [`Self::color_diff`] scores it) and the mean-luma change
    /// (0..=1, signed) between `self` and `prev` over the part of the picture both show when
    /// `prev` is moved by `shift`.
    fn overlap_colour_change(&self, prev: &Self, (dx, dy): (i32, i32)) -> (f32, f32) {
        let (w, h) = (self.width, self.height);
        let luma = |frame: &Self, moved: bool| {
            let (ox, oy) = if moved { (-dx, -dy) } else { (0, 0) };
            region_mean(&frame.y, w, overlap_rect(w, h, (dx, dy), (ox, oy)))
        };
        let brightness = (luma(self, false) - luma(prev, true)) / 219.0;
        // Chroma planes are half size: half the shift, rounded towards zero.
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let chroma_shift = (dx / 2, dy / 2);
        let stats = |frame: &Self, moved: bool| {
            let (ox, oy) = if moved {
                (-chroma_shift.0, -chroma_shift.1)
            } else {
                (0, 0)
            };
            ColourStats::of_region(
                &frame.u,
                &frame.v,
                cw,
                overlap_rect(cw, ch, chroma_shift, (ox, oy)),
            )
        };
        (
            stats(self, false).change_from(&stats(prev, true)),
            brightness,
        )
    }

    /// The change score; `on_overlap` replaces the colour and brightness change (and the
    /// shift) with those measured where the two pictures overlap.
    fn change_score(
        &self,
        prev: &Self,
        coarse_only: bool,
        on_overlap: Option<Overlap>,
    ) -> (f32, (i32, i32)) {
        if self.width != prev.width || self.height != prev.height {
            return (1.0, (0, 0));
        }
        // How much structure both frames have: below ~0.3 % luma deviation correlation is
        // noise, and so it is in near-black frames (sensor noise, the bottom of a fade).
        let deviation = ((self.luma_std.min(prev.luma_std) - 0.002) / 0.006).clamp(0.0, 1.0);
        let lit = ((self.luma_mean.min(prev.luma_mean) - 0.02) / 0.06).clamp(0.0, 1.0);
        let w_struct = deviation * lit;
        let (d_color, luma_step) = match on_overlap {
            Some(o) => (o.colour, o.brightness),
            None => (self.color_diff(prev), self.luma_mean - prev.luma_mean),
        };
        let d_mean = (luma_step.abs() * 3.0).min(1.0);
        let flat = d_mean.max(d_color);
        if w_struct <= 0.0 {
            return (flat, (0, 0));
        }
        // Handheld shake and pans move the whole picture between frames: structure is
        // compared at the global shift that best lines the two pictures up as well as in
        // place, so a moving camera changes little and a cut (no shift lines up two shots)
        // still changes everything.
        let (dx, dy) = match on_overlap {
            Some(o) => o.shift,
            None => self.global_shift(prev),
        };
        let aligned = |a: &[f32], b: &[f32], scale: usize, border: usize| {
            let (w, h) = (
                (self.width / scale).saturating_sub(border),
                (self.height / scale).saturating_sub(border),
            );
            let shift = (
                (dx as f32 / scale as f32).round() as i32,
                (dy as f32 / scale as f32).round() as i32,
            );
            corr_dist(a, b).min(shifted_corr_dist(a, b, w, h, shift))
        };
        let d_coarse = aligned(&self.coarse, &prev.coarse, COARSE_BOX, 0);
        let d_struct = if coarse_only {
            d_coarse
        } else {
            (aligned(&self.fine, &prev.fine, 1, 0)
                + d_coarse
                + aligned(&self.grad, &prev.grad, 1, 2))
                / 3.0
        };
        let structured = 0.65 * d_struct + 0.35 * d_color;
        let score = (w_struct * structured + (1.0 - w_struct) * flat).clamp(0.0, 1.0);
        (score, (dx, dy))
    }

    /// The global translation `(dx, dy)` in pixels that best maps `prev` onto `self`
    /// (`self(x, y) ≈ prev(x − dx, y − dy)`): a search on the half-size luma for the least
    /// mean absolute difference over the overlap, refined by one pixel at full size.
    pub(crate) fn global_shift(&self, prev: &Self) -> (i32, i32) {
        let (hw, hh) = (self.width / 2, self.height / 2);
        if self.half.len() != hw * hh || prev.half.len() != hw * hh || hw < 8 || hh < 8 {
            return (0, 0);
        }
        let reach = ((hw as f32 * MAX_SHIFT_SHARE).ceil() as i32).max(1);
        let mut best = (
            (0, 0),
            mean_abs_shifted(&self.half, &prev.half, hw, hh, (0, 0)),
        );
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let cost = mean_abs_shifted(&self.half, &prev.half, hw, hh, (dx, dy));
                if cost < best.1 {
                    best = ((dx, dy), cost);
                }
            }
        }
        if best.0 == (0, 0) {
            return (0, 0);
        }
        // One pixel either way at full size, on the mean-free luma.
        let (w, h) = (self.width, self.height);
        let (cx, cy) = (2 * best.0.0, 2 * best.0.1);
        let mut fine_best = ((cx, cy), f32::INFINITY);
        if self.fine.len() == w * h && prev.fine.len() == w * h {
            for dy in cy - 1..=cy + 1 {
                for dx in cx - 1..=cx + 1 {
                    let cost = mean_abs_shifted(&self.fine, &prev.fine, w, h, (dx, dy));
                    if cost < fine_best.1 {
                        fine_best = ((dx, dy), cost);
                    }
                }
            }
        }
        fine_best.0
    }

    pub(crate) fn color_diff(&self, prev: &Self) -> f32 {
        colour_change(
            (&self.hue, &self.grid_u, &self.grid_v),
            (&prev.hue, &prev.grid_u, &prev.grid_v),
        )
    }

    /// Mean absolute luma difference to `prev`, 0..=1.
    pub fn motion(&self, prev: &Self) -> f32 {
        if self.y.len() != prev.y.len() || self.y.is_empty() {
            return 0.0;
        }
        let sum: u64 = self
            .y
            .iter()
            .zip(&prev.y)
            .map(|(&a, &b)| u64::from(a.abs_diff(b)))
            .sum();
        (sum as f32 / self.y.len() as f32 / 219.0).min(1.0)
    }

    /// The stored per-frame score (change scores filled in by the caller).
    pub fn score(&self) -> FrameScore {
        let q = |v: f32| v.round().clamp(0.0, 255.0) as u8;
        let mut hue = [0u8; HUE_BINS];
        for (out, &h) in hue.iter_mut().zip(&self.hue) {
            *out = q(h * 255.0);
        }
        let mut layout = [[0u8; LAYOUT]; LAYOUT];
        for (row, values) in layout.iter_mut().zip(self.layout.chunks_exact(LAYOUT)) {
            for (cell, &v) in row.iter_mut().zip(values) {
                *cell = q(v);
            }
        }
        FrameScore {
            time: self.time,
            layout,
            diff: 0.0,
            luma: self.luma_mean,
            skip_diff: 0.0,
            contrast: self.luma_std,
            colorfulness: self.colorfulness,
            sharpness: self.sharpness,
            motion: 0.0,
            shift: [0, 0],
            adjacent: false,
            grid_y: self.grid_y.map(q),
            grid_u: self.grid_u.map(q),
            grid_v: self.grid_v.map(q),
            hue,
        }
    }

    /// The frame as a small RGB picture (BT.601, limited range).
    pub fn thumbnail(&self) -> Thumbnail {
        let (w, h) = (self.width, self.height);
        let cw = w.div_ceil(2);
        let mut rgb = Vec::with_capacity(w * h * 3);
        for (row, luma_row) in self.y.chunks_exact(w.max(1)).enumerate().take(h) {
            let c_start = (row / 2) * cw;
            let (Some(u_row), Some(v_row)) = (
                self.u.get(c_start..c_start + cw),
                self.v.get(c_start..c_start + cw),
            ) else {
                break;
            };
            for (x, &yv) in luma_row.iter().enumerate() {
                let (Some(&uv), Some(&vv)) = (u_row.get(x / 2), v_row.get(x / 2)) else {
                    break;
                };
                let c = 1.164 * (f32::from(yv) - 16.0);
                let d = f32::from(uv) - 128.0;
                let e = f32::from(vv) - 128.0;
                let px = |v: f32| v.round().clamp(0.0, 255.0) as u8;
                rgb.push(px(c + 1.596 * e));
                rgb.push(px(c - 0.392 * d - 0.813 * e));
                rgb.push(px(c + 2.017 * d));
            }
        }
        Thumbnail {
            width: w as u32,
            height: h as u32,
            rgb,
        }
    }
}

/// How a frame differs from an earlier one with the camera's global shift taken out: see
/// [`FrameFeatures::aligned_change`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AlignedChange {
    /// The motion-tolerant change score (coarse structure and colour).
    pub coarse: f32,
    /// The full change score.
    pub detail: f32,
    /// The colour change alone.
    pub colour: f32,
    /// The change of mean luma (0..=1, signed).
    pub brightness: f32,
}

/// Colour and brightness change measured on the overlap, and the shift behind it.
#[derive(Debug, Clone, Copy)]
struct Overlap {
    colour: f32,
    brightness: f32,
    shift: (i32, i32),
}

/// A rectangle of a plane: columns `x0..x1`, rows `y0..y1`.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
}

/// The part of a `w`×`h` plane that overlaps its copy moved by `shift`, in the coordinates
/// of the copy moved by `offset` (`(0, 0)`: the unmoved plane; `-shift`: the moved one).
fn overlap_rect(w: usize, h: usize, (dx, dy): (i32, i32), (ox, oy): (i32, i32)) -> Rect {
    let clamp = |v: i32, size: usize| v.clamp(0, size as i32) as usize;
    let (x0, x1) = (dx.max(0), w as i32 + dx.min(0));
    let (y0, y1) = (dy.max(0), h as i32 + dy.min(0));
    Rect {
        x0: clamp(x0 + ox, w),
        x1: clamp(x1 + ox, w),
        y0: clamp(y0 + oy, h),
        y1: clamp(y1 + oy, h),
    }
}

/// Mean of a `w`-wide plane over `rect` (0 when empty).
fn region_mean(plane: &[u8], w: usize, rect: Rect) -> f32 {
    let (mut sum, mut count) = (0u64, 0u64);
    for row in plane
        .chunks_exact(w.max(1))
        .skip(rect.y0)
        .take(rect.y1.saturating_sub(rect.y0))
    {
        if let Some(part) = row.get(rect.x0..rect.x1) {
            sum += part.iter().map(|&p| u64::from(p)).sum::<u64>();
            count += part.len() as u64;
        }
    }
    sum as f32 / count.max(1) as f32
}

/// The colour statistics [`FrameFeatures::color_diff`] compares, over part of a picture.
struct ColourStats {
    hue: [f32; HUE_BINS + 1],
    grid_u: [f32; CELLS],
    grid_v: [f32; CELLS],
}

impl ColourStats {
    /// The statistics of the `rect` of two `cw`-wide chroma planes.
    fn of_region(u: &[u8], v: &[u8], cw: usize, rect: Rect) -> Self {
        let (w, h) = (
            rect.x1.saturating_sub(rect.x0),
            rect.y1.saturating_sub(rect.y0),
        );
        let crop = |plane: &[u8]| -> Vec<u8> {
            plane
                .chunks_exact(cw.max(1))
                .skip(rect.y0)
                .take(h)
                .filter_map(|row| row.get(rect.x0..rect.x1))
                .flatten()
                .copied()
                .collect()
        };
        let (u, v) = (crop(u), crop(v));
        Self {
            hue: chroma_stats(&u, &v).0,
            grid_u: grid_means(&u, w, h),
            grid_v: grid_means(&v, w, h),
        }
    }

    /// The colour change from `prev` to `self`.
    fn change_from(&self, prev: &Self) -> f32 {
        colour_change(
            (&self.hue, &self.grid_u, &self.grid_v),
            (&prev.hue, &prev.grid_u, &prev.grid_v),
        )
    }
}

/// One picture's colour statistics: hue histogram and chroma grid means.
type ColourOf<'a> = (&'a [f32; HUE_BINS + 1], &'a [f32; CELLS], &'a [f32; CELLS]);

/// The colour change score, 0..=1: half the hue histogram's change, half the chroma grid's
/// (a chroma shift of 40 levels across the picture is a different shot).
fn colour_change((hue_a, u_a, v_a): ColourOf<'_>, (hue_b, u_b, v_b): ColourOf<'_>) -> f32 {
    let hue: f32 = hue_a
        .iter()
        .zip(hue_b)
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        * 0.5;
    let grid: f32 = u_a
        .iter()
        .zip(u_b)
        .chain(v_a.iter().zip(v_b))
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        / (2 * CELLS) as f32;
    (0.5 * hue + 0.5 * (grid / 40.0).min(1.0)).clamp(0.0, 1.0)
}

/// A row of one plane and the row of another it lines up with.
type RowPair<'p> = (&'p [f32], &'p [f32]);

/// The row pairs of two `w`×`h` planes that overlap when `b` is moved by `shift`
/// (`a(x, y)` against `b(x − dx, y − dy)`), and the number of pixels they hold; `None` when
/// nothing overlaps or the planes are shorter than `w`×`h`.
fn overlapping_rows<'p>(
    a: &'p [f32],
    b: &'p [f32],
    w: usize,
    h: usize,
    (dx, dy): (i32, i32),
) -> Option<(Vec<RowPair<'p>>, usize)> {
    let Rect { x0, x1, y0, y1 } = overlap_rect(w, h, (dx, dy), (0, 0));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let bx = (x0 as i32 - dx) as usize;
    let rows = (y0..y1)
        .map(|y| {
            let by = (y as i32 - dy) as usize;
            Some((
                a.get(y * w + x0..y * w + x1)?,
                b.get(by * w + bx..by * w + bx + (x1 - x0))?,
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((rows, (x1 - x0) * (y1 - y0)))
}

/// Mean absolute difference of two `w`×`h` planes over their overlap when `b` is moved by
/// `shift`; infinite when nothing overlaps.
fn mean_abs_shifted(a: &[f32], b: &[f32], w: usize, h: usize, shift: (i32, i32)) -> f32 {
    let Some((rows, n)) = overlapping_rows(a, b, w, h, shift) else {
        return f32::INFINITY;
    };
    let sum: f32 = rows
        .iter()
        .map(|(ra, rb)| ra.iter().zip(*rb).map(|(p, q)| (p - q).abs()).sum::<f32>())
        .sum();
    sum / n as f32
}

/// 1 − Pearson correlation (clamped to 0..=1) of two `w`×`h` planes over their overlap when
/// `b` is moved by `shift`; 1 when either is flat there or the planes do not fit `w`×`h`.
fn shifted_corr_dist(a: &[f32], b: &[f32], w: usize, h: usize, shift: (i32, i32)) -> f32 {
    if a.len() != w * h || b.len() != w * h || shift == (0, 0) {
        return 1.0;
    }
    let Some((rows, n)) = overlapping_rows(a, b, w, h, shift) else {
        return 1.0;
    };
    let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (ra, rb) in rows {
        for (&p, &q) in ra.iter().zip(rb) {
            let (p, q) = (f64::from(p), f64::from(q));
            sa += p;
            sb += q;
            saa += p * p;
            sbb += q * q;
            sab += p * q;
        }
    }
    let n = n as f64;
    let va = saa - sa * sa / n;
    let vb = sbb - sb * sb / n;
    if va <= 1e-12 || vb <= 1e-12 {
        return 1.0;
    }
    let r = (sab - sa * sb / n) / (va * vb).sqrt();
    (1.0 - r as f32).clamp(0.0, 1.0)
}

/// 1 − Pearson correlation (clamped to 0..=1) of two zero-mean unit-norm vectors;
/// 1 when either is flat.
fn corr_dist(a: &[f32], b: &[f32]) -> f32 {
    if a.is_empty() || b.is_empty() || a.len() != b.len() {
        return 1.0;
    }
    let r: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    (1.0 - r).clamp(0.0, 1.0)
}

/// Zero-mean, unit-norm copy; empty when the values are (nearly) constant.
fn normalized(mut values: Vec<f32>) -> Vec<f32> {
    if values.is_empty() {
        return values;
    }
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    let mut norm = 0.0f32;
    for v in &mut values {
        *v -= mean;
        norm += *v * *v;
    }
    // RMS below half a grey level: flat.
    if norm / (values.len() as f32) < 0.25 {
        return Vec::new();
    }
    let inv = 1.0 / norm.sqrt();
    for v in &mut values {
        *v *= inv;
    }
    values
}

/// Means over `size`×`size` boxes (partial boxes at the edges dropped).
fn box_down(plane: &[u8], w: usize, h: usize, size: usize) -> Vec<f32> {
    let (bw, bh) = (w / size, h / size);
    let mut out = vec![0.0f32; bw * bh];
    if bw == 0 {
        return out;
    }
    for (row, line) in plane.chunks_exact(w).enumerate().take(bh * size) {
        let Some(out_row) = out.get_mut((row / size) * bw..(row / size + 1) * bw) else {
            break;
        };
        for (cell, chunk) in out_row.iter_mut().zip(line.chunks_exact(size)) {
            *cell += chunk.iter().map(|&p| f32::from(p)).sum::<f32>();
        }
    }
    let inv = 1.0 / (size * size) as f32;
    out.iter_mut().for_each(|v| *v *= inv);
    out
}

/// Sobel gradient magnitude of the interior and the Laplacian-variance sharpness (0..=1).
fn gradients(plane: &[u8], w: usize, h: usize) -> (Vec<f32>, f32) {
    let mut grad = Vec::with_capacity(w.saturating_sub(2) * h.saturating_sub(2));
    let (mut lap_sum, mut lap_sq, mut count) = (0.0f64, 0.0f64, 0usize);
    let rows: Vec<&[u8]> = plane.chunks_exact(w.max(1)).take(h).collect();
    for three in rows.windows(3) {
        let [up, mid, down] = three else { continue };
        for ((a, b), c) in up.windows(3).zip(mid.windows(3)).zip(down.windows(3)) {
            let (&[a0, a1, a2], &[b0, b1, b2], &[c0, c1, c2]) = (a, b, c) else {
                continue;
            };
            let f = |p: u8| f32::from(p);
            let gx = (f(a2) + 2.0 * f(b2) + f(c2)) - (f(a0) + 2.0 * f(b0) + f(c0));
            let gy = (f(c0) + 2.0 * f(c1) + f(c2)) - (f(a0) + 2.0 * f(a1) + f(a2));
            grad.push((gx * gx + gy * gy).sqrt());
            let lap = f64::from(4.0 * f(b1) - f(a1) - f(c1) - f(b0) - f(b2)) / 219.0;
            lap_sum += lap;
            lap_sq += lap * lap;
            count += 1;
        }
    }
    let sharpness = if count == 0 {
        0.0
    } else {
        let mean = lap_sum / count as f64;
        let var = (lap_sq / count as f64 - mean * mean).max(0.0);
        (var / (var + 0.002)) as f32
    };
    (grad, sharpness)
}

/// Means over a `GRID`×`GRID` grid of cells.
fn grid_means(plane: &[u8], w: usize, h: usize) -> [f32; CELLS] {
    let mut out = [0.0f32; CELLS];
    out.copy_from_slice(&grid_means_n(plane, w, h, GRID));
    out
}

/// Means over an `n`×`n` grid of cells, row by row.
fn grid_means_n(plane: &[u8], w: usize, h: usize, n: usize) -> Vec<f32> {
    let mut sums = vec![0.0f32; n * n];
    let mut counts = vec![0u32; n * n];
    if w == 0 || h == 0 {
        return sums;
    }
    for (row, line) in plane.chunks_exact(w).enumerate().take(h) {
        let gy = (row * n / h).min(n - 1);
        for (x, &p) in line.iter().enumerate() {
            let cell = gy * n + (x * n / w).min(n - 1);
            if let (Some(s), Some(c)) = (sums.get_mut(cell), counts.get_mut(cell)) {
                *s += f32::from(p);
                *c += 1;
            }
        }
    }
    for (s, &c) in sums.iter_mut().zip(&counts) {
        *s /= c.max(1) as f32;
    }
    sums
}

/// Saturation-weighted hue histogram (last bin grey) and Hasler-Süsstrunk colourfulness.
fn chroma_stats(u: &[u8], v: &[u8]) -> ([f32; HUE_BINS + 1], f32) {
    let mut hist = [0.0f32; HUE_BINS + 1];
    let (mut rg_s, mut rg_q, mut yb_s, mut yb_q) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let n = u.len().min(v.len());
    for (&uu, &vv) in u.iter().zip(v) {
        // Limited-range chroma to full-range scale.
        let cu = (f32::from(uu) - 128.0) * (255.0 / 224.0);
        let cv = (f32::from(vv) - 128.0) * (255.0 / 224.0);
        let mag = (cu * cu + cv * cv).sqrt();
        let angle = cv.atan2(cu) + std::f32::consts::PI;
        let bin = ((angle / std::f32::consts::TAU * HUE_BINS as f32) as usize).min(HUE_BINS - 1);
        if let Some(b) = hist.get_mut(bin) {
            *b += mag;
        }
        if let Some(g) = hist.get_mut(HUE_BINS) {
            *g += (GREY_CHROMA - mag).max(0.0);
        }
        let rg = f64::from(0.344 * cu + 2.116 * cv);
        let yb = f64::from(0.344 * cv - 1.944 * cu);
        rg_s += rg;
        rg_q += rg * rg;
        yb_s += yb;
        yb_q += yb * yb;
    }
    let total: f32 = hist.iter().sum();
    if total > 0.0 {
        hist.iter_mut().for_each(|b| *b /= total);
    }
    let colorfulness = if n == 0 {
        0.0
    } else {
        let nf = n as f64;
        let (rg_m, yb_m) = (rg_s / nf, yb_s / nf);
        let rg_var = (rg_q / nf - rg_m * rg_m).max(0.0);
        let yb_var = (yb_q / nf - yb_m * yb_m).max(0.0);
        let c = (rg_var + yb_var).sqrt() + 0.3 * (rg_m * rg_m + yb_m * yb_m).sqrt();
        (c / 150.0).min(1.0) as f32
    };
    (hist, colorfulness)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 96×54 picture of a textured, colour-barred scene seen through a window moved by
    /// `(dx, dy)` pixels (even, so the chroma planes move by whole samples); `scene` picks
    /// one of two unrelated scenes.
    fn view(scene: u32, (dx, dy): (i32, i32)) -> FrameFeatures {
        let (w, h) = (96usize, 54usize);
        let hash = |x: i32, y: i32| -> u32 {
            let mut v = (x as u32).wrapping_mul(73_856_093) ^ (y as u32).wrapping_mul(19_349_663);
            v ^= scene.wrapping_mul(83_492_791);
            v ^= v >> 13;
            v.wrapping_mul(0x5bd1_e995) >> 24
        };
        let mut y = Vec::with_capacity(w * h);
        for row in 0..h as i32 {
            for col in 0..w as i32 {
                let (x, yy) = (col - dx, row - dy);
                // Blocks of 4×4 so the half-size shift search sees the texture too.
                y.push(40 + (hash(x.div_euclid(4), yy.div_euclid(4)) % 160) as u8);
            }
        }
        let (cw, ch) = (w / 2, h / 2);
        let bar = |x: i32| -> (u8, u8) {
            // Bars 10 chroma samples wide, cycling through four colours.
            match x.div_euclid(10).rem_euclid(4) + scene as i32 {
                0 | 4 => (90, 200),
                1 | 5 => (200, 90),
                2 | 6 => (160, 160),
                _ => (70, 80),
            }
        };
        let (mut u, mut v) = (Vec::new(), Vec::new());
        for _ in 0..ch {
            for col in 0..cw as i32 {
                let (bu, bv) = bar(col - dx / 2);
                u.push(bu);
                v.push(bv);
            }
        }
        FrameFeatures::from_planes(0, w, h, y, u, v)
    }

    #[test]
    fn a_moved_view_keeps_its_colour_and_light_once_lined_up() {
        let first = view(0, (0, 0));
        let moved = view(0, (8, 4));
        assert_eq!(moved.global_shift(&first), (8, 4));
        let change = moved.aligned_change(&first);
        // On the grid the bars moved: the plain colour score sees a change.
        assert!(
            moved.color_diff(&first) > 0.1,
            "{}",
            moved.color_diff(&first)
        );
        assert!(change.colour < 0.03, "{change:?}");
        assert!(change.brightness.abs() < 0.01, "{change:?}");
        assert!(change.coarse < 0.05 && change.detail < 0.1, "{change:?}");
    }

    #[test]
    fn another_scene_changes_everything_at_any_shift() {
        let first = view(0, (0, 0));
        let other = view(1, (6, 2));
        let change = other.aligned_change(&first);
        assert!(change.colour > 0.3, "{change:?}");
        assert!(change.coarse > 0.3 && change.detail > 0.3, "{change:?}");
    }
}
