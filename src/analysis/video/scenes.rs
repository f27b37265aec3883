//! Scenes between cuts and gradual transitions, with their look and quality features.

use crate::time::{TICKS_PER_SECOND, Ticks};

use super::{ActionPeak, FrameScore, Scene, SceneFeatures, Thumbnail, TimedThumbnail};

/// Length of the scene look vector: 16 luma layout cells, 12 hue bins, 4 colour stats.
pub const VECTOR_LEN: usize = 32;

/// Splits `[0, duration)` at the cuts and around the gradual spans (entry indices) and
/// describes each piece.
pub(crate) fn build_scenes(
    scores: &[FrameScore],
    cuts: &[usize],
    gradual: &[(usize, usize)],
    duration: Ticks,
    pool: &[TimedThumbnail],
) -> Vec<Scene> {
    // An index past the last entry is the clip's end (a fade-out that runs to it).
    let time = |i: usize| scores.get(i).map_or(duration, |s| s.time);
    // (end of the current scene, start of the next one)
    let mut breaks: Vec<(Ticks, Ticks)> = cuts.iter().map(|&c| (time(c), time(c))).collect();
    breaks.extend(gradual.iter().map(|&(s, e)| (time(s), time(e))));
    breaks.sort_unstable();
    let mut scenes = Vec::new();
    let mut start: Ticks = 0;
    for (end, next) in breaks
        .into_iter()
        .chain(std::iter::once((duration, duration)))
    {
        if end > start {
            scenes.push(Scene {
                start,
                end,
                features: describe(scores, start, end, pool),
            });
        }
        start = start.max(next);
    }
    scenes
}

/// Features of the entries in `[start, end)`.
fn describe(
    scores: &[FrameScore],
    start: Ticks,
    end: Ticks,
    pool: &[TimedThumbnail],
) -> SceneFeatures {
    let frames: Vec<&FrameScore> = scores
        .iter()
        .filter(|s| s.time >= start && s.time < end)
        .collect();
    let n = frames.len().max(1) as f32;
    let mean = |f: &dyn Fn(&FrameScore) -> f32| frames.iter().map(|s| f(s)).sum::<f32>() / n;
    // The first frame's change is the cut into the scene, not motion within it.
    let moving: Vec<f32> = frames
        .iter()
        .skip(1)
        .filter(|s| s.adjacent)
        .map(|s| s.motion)
        .collect();
    let motion = if moving.is_empty() {
        0.0
    } else {
        moving.iter().sum::<f32>() / moving.len() as f32
    };
    SceneFeatures {
        brightness: mean(&|s| s.luma),
        contrast: mean(&|s| s.contrast),
        colorfulness: mean(&|s| s.colorfulness),
        dominant_rgb: dominant(&frames),
        sharpness: mean(&|s| s.sharpness),
        motion,
        vector: look_vector(&frames),
        thumbnails: thumbnails(pool, start, end),
        action: action_peak(&frames, start, end),
    }
}

/// Frames this close to a scene's start or end are left out of its action peak: the change
/// there is the cut or the transition, not something happening in the shot.
const ACTION_EDGE: Ticks = TICKS_PER_SECOND / 4;
/// Fewest adjacent frames (frame-to-frame changes) a peak is looked for among.
const ACTION_MIN_FRAMES: usize = 8;
/// A peak must stand this many times above the scene's median change to count.
const ACTION_MIN_STRENGTH: f32 = 3.0;
/// Floor of the median change (luma 0..=1): a still shot's grain is not its typical change.
const ACTION_NOISE_FLOOR: f32 = 0.004;
/// Changes this close before the strongest one that come near it (`ACTION_NEAR`) belong to
/// one event, which starts at the earliest: a flash or an object is as strong going as
/// coming, and the coming is the moment.
const ACTION_EVENT: Ticks = TICKS_PER_SECOND / 2;
const ACTION_NEAR: f32 = 0.7;

/// The strongest frame-to-frame change inside `[start, end)` away from its edges, when it
/// stands out of the scene's typical change: where the action is. Only adjacent frames
/// count (fast mode's skipped stretches show no motion to place).
fn action_peak(frames: &[&FrameScore], start: Ticks, end: Ticks) -> Option<ActionPeak> {
    let inner: Vec<&FrameScore> = frames
        .iter()
        .skip(1)
        .filter(|s| s.adjacent && s.time >= start + ACTION_EDGE && s.time < end - ACTION_EDGE)
        .copied()
        .collect();
    if inner.len() < ACTION_MIN_FRAMES {
        return None;
    }
    let mut sorted: Vec<f32> = inner.iter().map(|s| s.motion).collect();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[sorted.len() / 2].max(ACTION_NOISE_FLOOR);
    let (peak_at, peak) = inner
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.motion.total_cmp(&b.1.motion))
        .map(|(i, s)| (i, s.motion))?;
    let strength = peak / median;
    if strength < ACTION_MIN_STRENGTH {
        return None;
    }
    let event_start = inner[peak_at].time - ACTION_EVENT;
    let first = (0..peak_at)
        .find(|&i| inner[i].time >= event_start && inner[i].motion >= ACTION_NEAR * peak)
        .unwrap_or(peak_at);
    Some(ActionPeak {
        time: inner[first].time,
        strength,
    })
}

fn rgb_of(y: u8, u: u8, v: u8) -> [f32; 3] {
    let c = 1.164 * (f32::from(y) - 16.0);
    let d = f32::from(u) - 128.0;
    let e = f32::from(v) - 128.0;
    [
        (c + 1.596 * e).clamp(0.0, 255.0),
        (c - 0.392 * d - 0.813 * e).clamp(0.0, 255.0),
        (c + 2.017 * d).clamp(0.0, 255.0),
    ]
}

/// The most common colour among the grid cells of the scene's frames (3 bits a channel),
/// as the mean of the cells in that bin.
fn dominant(frames: &[&FrameScore]) -> [u8; 3] {
    let mut counts = vec![0u32; 512];
    let mut sums = vec![[0.0f32; 3]; 512];
    for s in frames {
        for ((&y, &u), &v) in s.grid_y.iter().zip(&s.grid_u).zip(&s.grid_v) {
            let rgb = rgb_of(y, u, v);
            let bin = rgb
                .iter()
                .fold(0usize, |acc, &c| acc * 8 + ((c as usize) >> 5).min(7));
            if let (Some(n), Some(sum)) = (counts.get_mut(bin), sums.get_mut(bin)) {
                *n += 1;
                for (t, c) in sum.iter_mut().zip(rgb) {
                    *t += c;
                }
            }
        }
    }
    let best = counts
        .iter()
        .enumerate()
        .max_by_key(|&(_, &n)| n)
        .map_or(0, |(i, _)| i);
    match (counts.get(best), sums.get(best)) {
        (Some(&n), Some(sum)) if n > 0 => {
            sum.map(|t| (t / n as f32).round().clamp(0.0, 255.0) as u8)
        }
        _ => [0, 0, 0],
    }
}

/// Unit-length look vector: zero-mean luma layout, hue histogram, mean chroma,
/// brightness and colourfulness, averaged over the scene.
fn look_vector(frames: &[&FrameScore]) -> Vec<f32> {
    let mut v = vec![0.0f32; VECTOR_LEN];
    if frames.is_empty() {
        return v;
    }
    let n = frames.len() as f32;
    for s in frames {
        let luma_mean = s.grid_y.iter().map(|&y| f32::from(y)).sum::<f32>() / 16.0;
        for (o, &y) in v.iter_mut().zip(&s.grid_y) {
            *o += (f32::from(y) - luma_mean) / 64.0 / n;
        }
        for (o, &h) in v.iter_mut().skip(16).zip(&s.hue) {
            *o += f32::from(h) / 255.0 / n;
        }
        let mean_of =
            |g: &[u8; 16]| g.iter().map(|&c| f32::from(c) - 128.0).sum::<f32>() / 16.0 / 64.0;
        let extra = [
            mean_of(&s.grid_u),
            mean_of(&s.grid_v),
            s.luma,
            s.colorfulness,
        ];
        for (o, e) in v.iter_mut().skip(28).zip(extra) {
            *o += e / n;
        }
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-6 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Pool thumbnails nearest the first, middle and last frame of `[start, end)`.
fn thumbnails(pool: &[TimedThumbnail], start: Ticks, end: Ticks) -> Vec<Thumbnail> {
    let inside: Vec<&TimedThumbnail> = pool
        .iter()
        .filter(|t| t.time >= start && t.time < end)
        .collect();
    let candidates = if inside.is_empty() {
        pool.iter().collect()
    } else {
        inside
    };
    let nearest = |target: Ticks| {
        candidates
            .iter()
            .min_by_key(|t| (t.time - target).abs())
            .map(|t| t.thumbnail.clone())
    };
    let middle = start + (end - start) / 2;
    [nearest(start), nearest(middle), nearest(end - 1)]
        .into_iter()
        .flatten()
        .collect()
}
