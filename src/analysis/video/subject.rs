//! Where the subject of a shot is: a low-rate track of what stands out in the picture, so a
//! portrait or square export of wide footage can crop to it ([`crate::reframe`]).
//!
//! Two cues, both on the small analysis picture: what moves against the camera's own motion
//! (the frame difference after the global shift is taken out), and what differs in colour or
//! brightness from the rest of the picture. Each cell of a coarse grid scores how far it
//! stands above the picture's typical cell; the subject is the centroid of the cells near the
//! peak, and its strength says how far that peak stands out (a textured or empty picture has
//! no subject, and the crop stays where it is).

use crate::time::{TICKS_PER_SECOND, Ticks};

use super::SubjectSample;
use super::features::FrameFeatures;

/// A subject sample is taken at most this often: a crop path needs a few points a second.
pub(crate) const SUBJECT_INTERVAL: Ticks = TICKS_PER_SECOND / 5;
/// Side of one grid cell, analysis pixels (about 1/24 of the picture's width).
const CELL: usize = 4;
/// Motion counts this much more than colour: a moving subject is what a viewer follows.
const MOTION_WEIGHT: f32 = 2.0;
/// Chroma differences count this much against luma ones (chroma planes are flatter).
const CHROMA_WEIGHT: f32 = 1.5;
/// Cells at or above this share of the peak make up the subject.
const PEAK_SHARE: f32 = 0.5;
/// How much less the corners count than the centre: framing puts subjects near the middle,
/// and an even tie goes to the centre.
const CENTRE_BIAS: f32 = 0.25;
/// Noise floor of a cell's score, luma levels: sensor noise and compression never stand out.
const NOISE_LEVELS: f32 = 2.0;

/// Where the subject of `frame` is, `prev` being the frame before it and the camera's shift
/// since (when the two are adjacent frames of one shot): a centred sample of strength 0 when
/// the picture is too small or nothing stands out.
pub(crate) fn locate(
    frame: &FrameFeatures,
    prev: Option<(&FrameFeatures, (i32, i32))>,
) -> SubjectSample {
    let centred = SubjectSample {
        time: frame.time,
        x: 0.5,
        y: 0.5,
        strength: 0.0,
    };
    let (w, h) = (frame.width, frame.height);
    let (gw, gh) = (w / CELL, h / CELL);
    if gw < 3 || gh < 3 || frame.y.len() < w * h {
        return centred;
    }
    let colour = colour_distinctness(frame, gw, gh);
    let motion = prev
        .filter(|(p, _)| p.width == w && p.height == h && p.y.len() >= w * h)
        .map(|(p, shift)| moving_cells(frame, p, shift, gw, gh))
        .unwrap_or_default();
    let mut scores: Vec<f32> = colour
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let m = motion.get(i).copied().unwrap_or(0.0);
            let (cx, cy) = ((i % gw) as f32 + 0.5, (i / gw) as f32 + 0.5);
            let dx = cx / gw as f32 - 0.5;
            let dy = cy / gh as f32 - 0.5;
            let prior = 1.0 - CENTRE_BIAS * 2.0 * (dx * dx + dy * dy);
            (c + MOTION_WEIGHT * m) * prior
        })
        .collect();
    let typical = median(&mut scores.clone());
    let spread = median(
        &mut scores
            .iter()
            .map(|s| (s - typical).abs())
            .collect::<Vec<_>>(),
    );
    let peak = scores.iter().copied().fold(0.0f32, f32::max);
    let strength = (peak - typical - NOISE_LEVELS).max(0.0) / (1.4826 * spread + NOISE_LEVELS);
    if strength <= 0.0 {
        return centred;
    }
    // The centroid of the cells near the peak, weighted by how far above the cut they are.
    let cut = typical + PEAK_SHARE * (peak - typical);
    let (mut sx, mut sy, mut sw) = (0.0f32, 0.0f32, 0.0f32);
    for (i, s) in scores.iter_mut().enumerate() {
        let weight = *s - cut;
        if weight > 0.0 {
            sx += weight * ((i % gw) as f32 + 0.5);
            sy += weight * ((i / gw) as f32 + 0.5);
            sw += weight;
        }
    }
    if sw <= 0.0 {
        return centred;
    }
    // Cell centres in analysis pixels, as shares of the whole picture.
    SubjectSample {
        time: frame.time,
        x: (sx / sw * CELL as f32 / w as f32).clamp(0.0, 1.0),
        y: (sy / sw * CELL as f32 / h as f32).clamp(0.0, 1.0),
        strength,
    }
}

/// Per cell, how far its mean colour (luma and weighted chroma) lies from the picture's
/// median colour: a bright, dark or saturated thing against the rest.
fn colour_distinctness(frame: &FrameFeatures, gw: usize, gh: usize) -> Vec<f32> {
    let (w, cw) = (frame.width, frame.width.div_ceil(2));
    let mut cells = vec![[0.0f32; 3]; gw * gh];
    let half = CELL / 2;
    for (gy, row_cells) in cells.chunks_exact_mut(gw).enumerate() {
        for (gx, cell) in row_cells.iter_mut().enumerate() {
            let mut sum = [0.0f32; 3];
            for y in gy * CELL..(gy + 1) * CELL {
                let start = y * w + gx * CELL;
                if let Some(row) = frame.y.get(start..start + CELL) {
                    sum[0] += row.iter().map(|&p| f32::from(p)).sum::<f32>();
                }
            }
            for y in gy * half..(gy + 1) * half {
                let start = y * cw + gx * half;
                if let (Some(u), Some(v)) = (
                    frame.u.get(start..start + half),
                    frame.v.get(start..start + half),
                ) {
                    sum[1] += u.iter().map(|&p| f32::from(p)).sum::<f32>();
                    sum[2] += v.iter().map(|&p| f32::from(p)).sum::<f32>();
                }
            }
            *cell = [
                sum[0] / (CELL * CELL) as f32,
                sum[1] / (half * half) as f32,
                sum[2] / (half * half) as f32,
            ];
        }
    }
    let reference: [f32; 3] =
        std::array::from_fn(|c| median(&mut cells.iter().map(|v| v[c]).collect::<Vec<_>>()));
    cells
        .iter()
        .map(|v| {
            let dy = v[0] - reference[0];
            let du = CHROMA_WEIGHT * (v[1] - reference[1]);
            let dv = CHROMA_WEIGHT * (v[2] - reference[2]);
            (dy * dy + du * du + dv * dv).sqrt()
        })
        .collect()
}

/// Per cell, the mean absolute luma change from `prev` once the camera's `shift` is taken
/// out, above the picture's typical change (what still moves: the subject, not the camera).
fn moving_cells(
    frame: &FrameFeatures,
    prev: &FrameFeatures,
    (dx, dy): (i32, i32),
    gw: usize,
    gh: usize,
) -> Vec<f32> {
    let w = frame.width;
    let mut sums = vec![0.0f32; gw * gh];
    let mut counts = vec![0u32; gw * gh];
    for y in 0..gh * CELL {
        let py = y as i32 - dy;
        if py < 0 || py >= frame.height as i32 {
            continue;
        }
        let (Some(row), Some(prev_row)) = (
            frame.y.get(y * w..(y + 1) * w),
            prev.y.get(py as usize * w..(py as usize + 1) * w),
        ) else {
            continue;
        };
        let row_cells = (y / CELL) * gw;
        for (x, &now) in row.iter().enumerate().take(gw * CELL) {
            let px = x as i32 - dx;
            let Some(&before) = usize::try_from(px).ok().and_then(|px| prev_row.get(px)) else {
                continue;
            };
            let cell = row_cells + x / CELL;
            sums[cell] += f32::from(now.abs_diff(before));
            counts[cell] += 1;
        }
    }
    let mut means: Vec<f32> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| if c == 0 { 0.0 } else { s / c as f32 })
        .collect();
    let floor = median(&mut means.clone());
    means.iter_mut().for_each(|m| *m = (*m - floor).max(0.0));
    means
}

/// The median of `values` (0 for none); reorders them.
fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, f32::total_cmp);
    *m
}
