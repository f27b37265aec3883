//! Reframing wide footage for a portrait or square export: which part of each source frame
//! the output shows.
//!
//! The output's shape cut from the source at its largest is the crop window; it slides along
//! the axis where the source is wider (or taller) than the output. Per segment it follows the
//! subject that clip analysis tracked ([`SubjectSample`]) like a camera operator would: it
//! starts where the subject is, ignores moves inside a dead zone, never pans faster than a
//! speed limit, and stays put when nothing stands out. The user can lock a segment to the
//! centre or place the crop by hand ([`Framing`]); that choice is kept per source range, so
//! replanning keeps it wherever the same shot is used.

use serde::{Deserialize, Serialize};

use crate::analysis::video::SubjectSample;
use crate::time::{TICKS_PER_SECOND, Ticks};

/// A sample whose subject stands out less than this (robust z-score) says nothing stands out.
pub const MIN_STRENGTH: f32 = 4.0;
/// Moves of the subject within this share of the crop window leave the crop where it is.
const DEAD_ZONE_SHARE: f32 = 0.15;
/// The crop pans at most this many of its own widths per second.
const MAX_SPEED_SHARE: f32 = 0.8;
/// The crop starts where the subject is over this first stretch of the segment.
const SETTLE: Ticks = TICKS_PER_SECOND;
/// Targets are the median over this many samples (about 0.6 s): one stray sample never pans.
const MEDIAN_SAMPLES: usize = 3;
/// The crop aims where the subject will be this much later: a camera operator leads a
/// moving subject, so it stays near the middle instead of trailing by the dead zone.
const LOOK_AHEAD: Ticks = TICKS_PER_SECOND * 2 / 5;
/// Paths are evaluated at this step.
const STEP: Ticks = TICKS_PER_SECOND / 10;

/// How one segment is framed when the output's shape differs from the source's.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Framing {
    /// Follow the subject (the default).
    #[default]
    Follow,
    /// The middle of the picture.
    Centre,
    /// Placed by hand: the crop window's centre as shares of the source's width and height.
    Fixed {
        /// Centre, share of the width.
        x: f32,
        /// Centre, share of the height.
        y: f32,
    },
}

impl Framing {
    /// Words for the inspector and the CLI report.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Follow => "follows the subject",
            Self::Centre => "locked to the centre",
            Self::Fixed { .. } => "placed by hand",
        }
    }
}

/// The user's framing of one source range of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FramingOverride {
    /// The clip, by its persistent id.
    pub clip: usize,
    /// Start of the source range.
    pub src_in: Ticks,
    /// End of the source range (exclusive).
    pub src_out: Ticks,
    /// How it is framed.
    pub framing: Framing,
}

impl FramingOverride {
    /// True when this override covers the middle of `src_in..src_out` of `clip`.
    pub fn covers(&self, clip: usize, src_in: Ticks, src_out: Ticks) -> bool {
        let middle = src_in + (src_out - src_in) / 2;
        self.clip == clip && (self.src_in..self.src_out).contains(&middle)
    }
}

/// The framing the user chose for a segment's source range (`Follow` when none).
pub fn framing_for(
    overrides: &[FramingOverride],
    clip: usize,
    src_in: Ticks,
    src_out: Ticks,
) -> Framing {
    overrides
        .iter()
        .rev()
        .find(|o| o.covers(clip, src_in, src_out))
        .map_or(Framing::Follow, |o| o.framing)
}

/// Sets the framing of `clip`'s `src_in..src_out`, replacing whatever covered it (`Follow`
/// simply removes the override).
pub fn set_framing(
    overrides: &mut Vec<FramingOverride>,
    clip: usize,
    src_in: Ticks,
    src_out: Ticks,
    framing: Framing,
) {
    overrides.retain(|o| !(o.clip == clip && o.src_in < src_out && src_in < o.src_out));
    if framing != Framing::Follow {
        overrides.push(FramingOverride {
            clip,
            src_in,
            src_out,
            framing,
        });
    }
}

/// The crop window's size as shares of the source's width and height: the output's shape at
/// its largest inside the source (1 on the axis where they match).
pub fn window_share(src_w: u32, src_h: u32, out_w: u32, out_h: u32) -> (f32, f32) {
    if src_w == 0 || src_h == 0 || out_w == 0 || out_h == 0 {
        return (1.0, 1.0);
    }
    let src_aspect = f64::from(src_w) / f64::from(src_h);
    let out_aspect = f64::from(out_w) / f64::from(out_h);
    if src_aspect > out_aspect {
        ((out_aspect / src_aspect) as f32, 1.0)
    } else {
        (1.0, (src_aspect / out_aspect) as f32)
    }
}

/// A crop window centre kept so the window stays inside the picture.
pub fn clamp_centre((x, y): (f32, f32), (share_w, share_h): (f32, f32)) -> (f32, f32) {
    let keep = |c: f32, share: f32| {
        let half = (share / 2.0).min(0.5);
        if c.is_finite() {
            c.clamp(half, 1.0 - half)
        } else {
            0.5
        }
    };
    (keep(x, share_w), keep(y, share_h))
}

/// One point of a crop path: where the window's centre is at a source time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropPoint {
    /// Source time from the clip's first frame.
    pub time: Ticks,
    /// Centre, share of the source's width.
    pub x: f32,
    /// Centre, share of the source's height.
    pub y: f32,
}

/// Where the crop window's centre is over a stretch of one clip, as points in source time;
/// between them it moves in a straight line, before the first and after the last it holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CropPath {
    /// Points in time order.
    pub points: Vec<CropPoint>,
}

impl CropPath {
    /// A crop that stays at one place.
    pub fn fixed(x: f32, y: f32) -> Self {
        Self {
            points: vec![CropPoint { time: 0, x, y }],
        }
    }

    /// The window's centre at source time `time` (the middle when the path is empty).
    pub fn centre_at(&self, time: Ticks) -> (f32, f32) {
        let points = &self.points;
        let after = points.partition_point(|p| p.time <= time);
        match (
            after.checked_sub(1).and_then(|i| points.get(i)),
            points.get(after),
        ) {
            (Some(a), Some(b)) if b.time > a.time => {
                let k = (time - a.time) as f32 / (b.time - a.time) as f32;
                (a.x + (b.x - a.x) * k, a.y + (b.y - a.y) * k)
            }
            (Some(a), _) => (a.x, a.y),
            (None, Some(b)) => (b.x, b.y),
            (None, None) => (0.5, 0.5),
        }
    }

    /// How far the centre travels over the path, shares of the picture (both axes added).
    pub fn travel(&self) -> f32 {
        self.points
            .windows(2)
            .map(|w| (w[1].x - w[0].x).abs() + (w[1].y - w[0].y).abs())
            .sum()
    }
}

/// The crop path that follows the subject over `from..to` of a clip whose subject track is
/// `samples`, for a crop window of `window` (shares, [`window_share`]).
///
/// The path starts on the subject, holds while it moves less than the dead zone, pans no
/// faster than the speed limit, and stays where it is while nothing stands out; a stretch
/// where nothing ever stands out is centred.
pub fn follow_subject(
    samples: &[SubjectSample],
    from: Ticks,
    to: Ticks,
    window: (f32, f32),
) -> CropPath {
    let centre = clamp_centre((0.5, 0.5), window);
    if window.0 >= 0.999 && window.1 >= 0.999 {
        return CropPath::fixed(centre.0, centre.1);
    }
    let first = samples.partition_point(|s| s.time < from);
    let last = samples.partition_point(|s| s.time < to);
    let stretch = samples.get(first..last).unwrap_or(&[]);
    // Targets: where the subject is, held through samples where nothing stands out.
    let mut targets: Vec<CropPoint> = Vec::with_capacity(stretch.len());
    let mut held: Option<(f32, f32)> = None;
    for s in stretch {
        if s.strength >= MIN_STRENGTH {
            held = Some((s.x, s.y));
        }
        if let Some((x, y)) = held {
            targets.push(CropPoint { time: s.time, x, y });
        }
    }
    if targets.is_empty() {
        return CropPath::fixed(centre.0, centre.1);
    }
    let targets = CropPath {
        points: median_filtered(&targets),
    };
    let start = settled_start(&targets.points, window);
    let dead = (DEAD_ZONE_SHARE * window.0, DEAD_ZONE_SHARE * window.1);
    let speed = (MAX_SPEED_SHARE * window.0, MAX_SPEED_SHARE * window.1);
    let mut camera = start;
    let mut points = vec![CropPoint {
        time: from,
        x: camera.0,
        y: camera.1,
    }];
    let mut time = from;
    while time < to {
        time = (time + STEP).min(to);
        let wanted = targets.centre_at(time + LOOK_AHEAD);
        let (tx, ty) = clamp_centre(wanted, window);
        // A subject at the picture's edge takes the crop all the way there.
        let dead_x = if tx != wanted.0 { 0.0 } else { dead.0 };
        let dead_y = if ty != wanted.1 { 0.0 } else { dead.1 };
        let dt = STEP as f32 / TICKS_PER_SECOND as f32;
        camera.0 = approach(camera.0, tx, dead_x, speed.0 * dt);
        camera.1 = approach(camera.1, ty, dead_y, speed.1 * dt);
        points.push(CropPoint {
            time,
            x: camera.0,
            y: camera.1,
        });
    }
    CropPath {
        points: without_redundant_points(points),
    }
}

/// Moves `camera` towards `target` until the target is back inside the dead zone, at most
/// `max_step`.
fn approach(camera: f32, target: f32, dead_zone: f32, max_step: f32) -> f32 {
    let gap = target - camera;
    if gap.abs() <= dead_zone {
        return camera;
    }
    let wanted = gap - dead_zone.copysign(gap);
    camera + wanted.clamp(-max_step, max_step)
}

/// Each target replaced by the median of it and its neighbours (per axis).
fn median_filtered(targets: &[CropPoint]) -> Vec<CropPoint> {
    let half = MEDIAN_SAMPLES / 2;
    (0..targets.len())
        .map(|i| {
            // Symmetric around the sample, narrower at the ends.
            let reach = half.min(i).min(targets.len() - 1 - i);
            let around = &targets[i - reach..=i + reach];
            CropPoint {
                time: targets[i].time,
                x: median(around.iter().map(|t| t.x).collect()),
                y: median(around.iter().map(|t| t.y).collect()),
            }
        })
        .collect()
}

/// Where the crop starts: the median target over the first [`SETTLE`] of the stretch.
fn settled_start(targets: &[CropPoint], window: (f32, f32)) -> (f32, f32) {
    let begin = targets.first().map_or(0, |t| t.time);
    let first: Vec<&CropPoint> = targets
        .iter()
        .take_while(|t| t.time < begin + SETTLE)
        .collect();
    let x = median(first.iter().map(|t| t.x).collect());
    let y = median(first.iter().map(|t| t.y).collect());
    clamp_centre((x, y), window)
}

/// The middle value (the upper one of an even count; 0.5, the centre, of none).
fn median(mut values: Vec<f32>) -> f32 {
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.5)
}

/// Drops points in the middle of a stretch where the crop holds still.
fn without_redundant_points(points: Vec<CropPoint>) -> Vec<CropPoint> {
    let mut kept: Vec<CropPoint> = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        let same_as_before = kept.last().is_some_and(|k| k.x == p.x && k.y == p.y);
        let same_as_next = points.get(i + 1).is_some_and(|n| n.x == p.x && n.y == p.y);
        if !(same_as_before && same_as_next) {
            kept.push(*p);
        }
    }
    kept
}

/// The crop path of one segment: its framing, the clip's subject track and size, and the
/// output's size. `None` when the crop is the middle of the picture.
pub fn segment_path(
    framing: Framing,
    samples: &[SubjectSample],
    source: (u32, u32),
    output: (u32, u32),
    range: (Ticks, Ticks),
) -> Option<CropPath> {
    let window = window_share(source.0, source.1, output.0, output.1);
    match framing {
        Framing::Centre => None,
        Framing::Fixed { x, y } => {
            let (x, y) = clamp_centre((x, y), window);
            Some(CropPath::fixed(x, y))
        }
        Framing::Follow => Some(follow_subject(samples, range.0, range.1, window)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(xs: &[f32]) -> Vec<SubjectSample> {
        xs.iter()
            .enumerate()
            .map(|(i, &x)| SubjectSample {
                time: i as Ticks * TICKS_PER_SECOND / 5,
                x,
                y: 0.5,
                strength: 10.0,
            })
            .collect()
    }

    const PORTRAIT: (f32, f32) = (0.316, 1.0);

    #[test]
    fn window_is_the_output_shape_at_its_largest() {
        let (w, h) = window_share(1920, 1080, 1080, 1920);
        assert!((w - 0.3164).abs() < 1e-3 && h == 1.0, "{w} {h}");
        let (w, h) = window_share(1080, 1920, 1080, 1080);
        assert!(w == 1.0 && (h - 0.5625).abs() < 1e-3, "{w} {h}");
        assert_eq!(window_share(1920, 1080, 1920, 1080), (1.0, 1.0));
    }

    #[test]
    fn a_still_subject_gives_a_still_crop_on_it() {
        let samples = track(&[0.2; 50]);
        let path = follow_subject(&samples, 0, 10 * TICKS_PER_SECOND, PORTRAIT);
        assert_eq!(path.travel(), 0.0);
        let (x, _) = path.centre_at(5 * TICKS_PER_SECOND);
        assert!((x - 0.2).abs() < 1e-3, "{x}");
    }

    #[test]
    fn small_moves_stay_inside_the_dead_zone() {
        let xs: Vec<f32> = (0..50)
            .map(|i| 0.5 + 0.02 * ((i % 2) as f32 - 0.5))
            .collect();
        let path = follow_subject(&track(&xs), 0, 10 * TICKS_PER_SECOND, PORTRAIT);
        assert_eq!(path.travel(), 0.0, "jitter never moves the crop");
    }

    #[test]
    fn a_moving_subject_is_followed_no_faster_than_the_limit() {
        // From 0.2 to 0.8 in 4 s.
        let xs: Vec<f32> = (0..25).map(|i| 0.2 + 0.6 * i as f32 / 20.0).collect();
        let xs: Vec<f32> = xs.into_iter().map(|x| x.min(0.8)).collect();
        let samples = track(&xs);
        let path = follow_subject(&samples, 0, 5 * TICKS_PER_SECOND, PORTRAIT);
        for s in &samples {
            let (x, _) = path.centre_at(s.time);
            assert!(
                (x - s.x).abs() < PORTRAIT.0 / 2.0,
                "subject in frame at {}",
                s.time
            );
        }
        for w in path.points.windows(2) {
            let secs = (w[1].time - w[0].time) as f32 / TICKS_PER_SECOND as f32;
            assert!((w[1].x - w[0].x).abs() <= MAX_SPEED_SHARE * PORTRAIT.0 * secs + 1e-4);
        }
    }

    #[test]
    fn nothing_standing_out_is_centred_and_weak_samples_hold() {
        let mut samples = track(&[0.1; 20]);
        samples.iter_mut().for_each(|s| s.strength = 0.5);
        let path = follow_subject(&samples, 0, 4 * TICKS_PER_SECOND, PORTRAIT);
        assert_eq!(path.centre_at(TICKS_PER_SECOND), (0.5, 0.5));
        let mut samples = track(&[0.3; 20]);
        samples[10..].iter_mut().for_each(|s| {
            s.strength = 0.5;
            s.x = 0.9;
        });
        let path = follow_subject(&samples, 0, 4 * TICKS_PER_SECOND, PORTRAIT);
        assert_eq!(path.travel(), 0.0, "a lost subject holds the crop");
    }

    #[test]
    fn overrides_follow_the_source_range() {
        let mut overrides = Vec::new();
        set_framing(&mut overrides, 3, 0, 100, Framing::Centre);
        assert_eq!(framing_for(&overrides, 3, 10, 90), Framing::Centre);
        assert_eq!(framing_for(&overrides, 3, 200, 300), Framing::Follow);
        assert_eq!(framing_for(&overrides, 4, 10, 90), Framing::Follow);
        set_framing(&mut overrides, 3, 20, 80, Framing::Fixed { x: 0.2, y: 0.5 });
        assert_eq!(overrides.len(), 1, "the new framing replaces the old");
        set_framing(&mut overrides, 3, 20, 80, Framing::Follow);
        assert!(overrides.is_empty());
    }
}
