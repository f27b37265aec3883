//! Fast mode: read the packet index (no decoding), decode the keyframes, and decode fully
//! only the stretches that may hold a cut, so every cut still lands on its exact frame.
//!
//! A keyframe-to-keyframe stretch (a GOP) is decoded fully when one of its packets is
//! unusually large for its neighbourhood (a predicted picture that had to be coded from
//! scratch: a scene change), when its packet sizes change level, or when its keyframes
//! differ in a way motion within one shot does not explain. Stretches whose keyframes
//! match are skipped. A stretch being decoded stops once its picture has changed in one
//! cut-sized step to the closing keyframe's and stayed there a few frames (after the last
//! packet its sizes hint at): the rest is vouched for as a skipped stretch is, so a cut
//! early in a long GOP costs the frames up to it, not the whole GOP. Keyframes a second
//! apart are compared with the camera's shift taken out of structure, colour and
//! brightness alike, so handheld shake does not count as a change. A jump cut (one take
//! going on from a step to the side) whose keyframes line up as well as a second of shake
//! does is out of reach: nothing short of decoding shows it.
//!
//! A stretch the encoder closed early (before its keyframe interval ran out: x264/x265
//! `scenecut` say so, otherwise the longest stretch stands in for the interval) may end at
//! a cut on its closing keyframe: the two frames before it (with the pre-roll they depend
//! on) and the two after it confirm a hard cut, tell a flash from a cut, and are scored in
//! place of the stretch; a keyframe inside a fade or dissolve has both stretches around it
//! decoded in full.
//!
//! Keyframes that differ are motion when nothing hints at a cut: an encoder that places
//! keyframes at scene changes vouches for a full-interval stretch without packet hints, so
//! only a brightness move (a fade) or a colour change the size of a cut (a dissolve to
//! another shot) has it decoded; with no such encoder only the packet sizes vouch, and the
//! change must also stay below a cut's and keep the colours.
//!
//! A stream without reordered pictures in a container that indexes every sample is
//! scanned in one pass instead of two phases (see [`one_pass`]): the same plans, without
//! decoding a refined stretch's keyframe twice.
//!
//! The stretch after the last keyframe has no keyframe to close it: when short, the clip's
//! last frame is decoded to close it (or, with no reordered pictures, where that costs as
//! much, the whole tail is refined); a long one rests on its packet sizes (and a first
//! look leaves it unresolved). When most of the clip needs decoding anyway, one straight
//! every-frame pass is cheaper.

use std::path::Path;

mod one_pass;

use crate::jobs::{CancelToken, Progress};
use crate::media::{MediaError, VideoDecoder};
use crate::time::Ticks;

use super::detect::{MIN_RATIO, stands_out};
use super::features::{AlignedChange, FrameFeatures};
use super::scan::{
    PROGRESS_EVERY, RawScan, ScoreSink, decode_options, empty_frame, finish, frame_estimate,
    open_decoder, score_all, with_scoring_thread,
};
use super::scorer::Scorer;
use super::{ClipError, ClipParams, FADE_LUMA_STEP};

/// A packet this many times the largest of the packets shortly before it marks a change.
const SPIKE_RATIO: f32 = 1.8;
/// Packets compared against for a spike (each side, presentation order).
const SPIKE_WINDOW: usize = 8;
/// Packets needed before one can count as a spike.
const SPIKE_MIN_HISTORY: usize = 4;
/// A spike is at least this share of its stretch's keyframe.
const SPIKE_KEY_SHARE: f32 = 0.125;
/// Packet sizes (rolling peaks) changing by this factor inside a stretch mark a change.
const LEVEL_RATIO: f32 = 2.5;
/// Above this share of frames to decode, one every-frame pass is cheaper than seeking.
const FULL_PASS_SHARE: f64 = 0.6;

/// One packet of the index, as this module uses it.
#[derive(Debug, Clone, Copy)]
struct Packet {
    time: Ticks,
    size: usize,
    key: bool,
    /// Position in decoding order.
    decode_index: usize,
}

/// What to do with the stretch from one keyframe to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Nothing changed: the keyframe stands for the whole stretch.
    Skip,
    /// Decode and score every frame.
    Refine,
    /// The encoder closed the stretch at a scene change: skip it, and score the next
    /// keyframe against this one, with the frames right after it.
    KeyCut,
}

/// A keyframe-to-keyframe stretch of the packet index.
#[derive(Debug, Clone, Copy, Default)]
struct Gop {
    /// Packets in it (the keyframe included).
    frames: usize,
    /// From its keyframe to the next one (0 for the last stretch, which no keyframe closes).
    span: Ticks,
    /// The latest packet a hint points at (a spike, or the end of the window after a level
    /// change), and how many frames of the stretch run up to it; `None` when no packet or
    /// stretch of packets hints at a change inside.
    hinted_to: Option<(Ticks, usize)>,
}

impl Gop {
    /// Some packet or stretch of packets hints at a change inside.
    fn suspicious(&self) -> bool {
        self.hinted_to.is_some()
    }

    /// Frames a refining decode is likely to need: up to the last hint and a few past it
    /// when packets hint (a stretch may stop once its picture settles after that), else
    /// all of them.
    fn likely_frames(&self) -> usize {
        match self.hinted_to {
            Some((_, upto)) => (upto + SPIKE_WINDOW).min(self.frames),
            None => self.frames,
        }
    }
}

/// The packet index as fast mode reads it: the stretches between keyframes, their packet
/// hints and how the encoder placed the keyframes.
struct Index {
    packets: Vec<Packet>,
    gops: Vec<Gop>,
    keyframing: Keyframing,
    /// How long reading it took (for the `-vv` log).
    read_in: std::time::Duration,
    /// What went wrong reading it that did not stop it.
    warnings: Vec<String>,
}

impl Index {
    /// The index `reader` has just read, `read_in` that long.
    fn of(packets: Vec<Packet>, reader: &VideoDecoder, read_in: std::time::Duration) -> Self {
        let gops = split_gops(&packets);
        let keyframing = Keyframing::of(reader.encoder_settings(), &gops);
        Self {
            packets,
            gops,
            keyframing,
            read_in,
            warnings: reader.warnings().to_vec(),
        }
    }

    /// Why one straight pass over every frame is the cheaper scan, if it is: a clip of one
    /// stretch, or one whose packet sizes flag most of it.
    fn full_pass(&self) -> Option<String> {
        let total_frames = self.packets.len().max(1);
        let suspicious_frames: usize = self
            .gops
            .iter()
            .filter(|g| g.suspicious())
            .map(Gop::likely_frames)
            .sum();
        (self.gops.len() < 2 || suspicious_frames as f64 > FULL_PASS_SHARE * total_frames as f64)
            .then(|| {
                format!(
                    "{} stretches, {suspicious_frames} of {total_frames} frames flagged by packet sizes",
                    self.gops.len()
                )
            })
    }
}

/// Scans with the packet index and keyframes, then refines the stretches that need it.
pub(crate) fn scan_fast(
    path: &Path,
    params: &ClipParams,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<RawScan, ClipError> {
    let mut decoder = open_decoder(path, params, false)?;
    // Without exact seeking (MPEG-TS) a refined stretch could start late and lose a cut:
    // one straight pass is the only exact one.
    if !decoder.seeks_exactly() {
        tracing::debug!("one full pass: the format cannot seek to a keyframe exactly");
        return score_all(path, decoder, params, cancel, progress);
    }
    // A stream without reordered pictures in a container that indexes every sample (MP4
    // from a phone, mostly): keyframes and refined stretches in one pass.
    if !decoder.announces_reordering()
        && let Some(key_times) = decoder.indexed_keyframe_times()
        && key_times.len() >= 2
    {
        match one_pass::scan_one_pass(&decoder, &key_times, params, cancel, progress)? {
            one_pass::OnePass::Done(scan) => return Ok(scan),
            one_pass::OnePass::FullPass(why) => {
                tracing::debug!("one full pass: {why}");
                decoder.seek_to_keyframe_before(0)?;
                return score_all(path, decoder, params, cancel, progress);
            }
            one_pass::OnePass::Unsuitable(why) => {
                tracing::debug!("fast scan in two phases: {why}");
            }
        }
    }
    let started = std::time::Instant::now();
    // The packet index is read by a second reader while the keyframes decode (both read the
    // whole file; the one that waits for the disk warms it for the other). Should the index
    // call for one full pass, the keyframe scan stops at once.
    let full_pass = std::sync::atomic::AtomicBool::new(false);
    let (index, keys) = std::thread::scope(|scope| {
        let opener = decoder.opener();
        let full_pass = &full_pass;
        let index = scope.spawn(move || -> Result<Index, ClipError> {
            // The reader decodes nothing: one thread.
            let reader_options = crate::media::VideoDecodeOptions {
                threads: 1,
                ..decode_options(params, false)
            };
            let index = opener
                .open(reader_options)
                .map_err(ClipError::from)
                .and_then(|mut reader| {
                    let packets = read_packets(&mut reader)?;
                    Ok(Index::of(packets, &reader, started.elapsed()))
                });
            // A failed index stops the keyframe scan too: the error is what counts.
            if index
                .as_ref()
                .map_or(true, |index| index.full_pass().is_some())
            {
                full_pass.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            index
        });
        let keys = scan_keyframes(&mut decoder, (cancel, full_pass), progress);
        let index = index.join().unwrap_or_else(|_| {
            Err(ClipError::NoFrames {
                path: path.to_path_buf(),
            })
        });
        (index, keys)
    });
    let index = index?;
    let indexed = index.read_in;
    decoder.add_warnings(&index.warnings);
    if let Some(why) = index.full_pass() {
        tracing::debug!("one full pass: {why}");
        decoder.seek_to_keyframe_before(0)?;
        return score_all(path, decoder, params, cancel, progress);
    }
    let keyframes = keys?;
    let keys = keyframes.features.as_slice();
    let Index {
        packets,
        gops,
        keyframing,
        ..
    } = index;
    let total_frames = packets.len().max(1);
    // The tail is closed by the clip's last frame when that is cheap; a tail the packet
    // sizes flag is decoded anyway, and a long one rests on its packet sizes (as before).
    // Without reordered pictures every frame of the tail is one the closing frame's
    // pre-roll decodes: refining the whole tail costs the same and decodes it only once.
    let tail = match tail_of(&gops) {
        Tail::Closable if !reorders(&packets) => Tail::Refined,
        tail => tail,
    };
    let closing = closing_frame(&mut decoder, &packets, keys, tail)?;
    let planned = started.elapsed();
    // The decoded keyframes are the authority on where stretches start; the index only
    // supplies sizes. Should the two disagree, fall back to decoding everything.
    if keys.len() != gops.len() {
        tracing::debug!(
            "one full pass: {} keyframes decoded, {} in the index",
            keys.len(),
            gops.len()
        );
        decoder.seek_to_keyframe_before(0)?;
        return score_all(path, decoder, params, cancel, progress);
    }
    let thresholds = Thresholds {
        refine: params.refine_threshold,
        cut: params.threshold,
    };
    let mut plans = plan_gops(
        &keyframes,
        (tail, closing.as_ref()),
        &gops,
        keyframing,
        thresholds,
    );
    let cut_frames = confirm_key_cuts(
        &mut decoder,
        keys,
        &mut plans,
        thresholds,
        keyframing.vouches(),
        cancel,
    )?;
    log_plans(&keyframes, &plans, &gops);
    let to_decode: usize = plans
        .iter()
        .zip(&gops)
        .map(|(p, g)| match p {
            Plan::Refine => g.likely_frames(),
            // A key cut's frames were decoded by its confirmation.
            Plan::KeyCut | Plan::Skip => 0,
        })
        .sum();
    if to_decode as f64 > FULL_PASS_SHARE * total_frames as f64 {
        tracing::debug!("one full pass: {to_decode} of {total_frames} frames to refine");
        decoder.seek_to_keyframe_before(0)?;
        return score_all(path, decoder, params, cancel, progress);
    }
    let duration_hint = index_end(&packets, decoder.frame_rate().frame_ticks());
    let settle = SettleRule {
        thresholds,
        vouched: keyframing.vouches(),
        hinted_to: gops.iter().map(|g| g.hinted_to.map(|(t, _)| t)).collect(),
        in_order: !reorders(&packets),
    };
    let mut scan = refine(
        &decoder,
        params,
        keys,
        (&plans, &settle),
        &cut_frames,
        cancel,
        progress,
    )?;
    scan.duration = scan.duration.max(duration_hint);
    tracing::debug!(
        "fast scan: packet index {indexed:.2?} (beside the keyframes), keyframes {planned:.2?}, \
         refining {to_decode} frames {:.2?}",
        started.elapsed() - planned
    );
    Ok(scan)
}

/// Keyframes mode: decodes and scores the keyframes only (no packet index, no refining).
pub(crate) fn scan_keyframes_only(
    path: &Path,
    params: &ClipParams,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<RawScan, ClipError> {
    let mut decoder = open_decoder(path, params, false)?;
    let packets = read_packets(&mut decoder)?;
    let gops = split_gops(&packets);
    let keys = scan_keyframes(&mut decoder, (cancel, &Default::default()), progress)?.features;
    // A first look vouches for the tail only when the clip's last frame closes it.
    let tail = tail_of(&gops);
    let closing = closing_frame(&mut decoder, &packets, &keys, tail)?;
    let duration_hint = index_end(&packets, decoder.frame_rate().frame_ticks());
    let starts: Vec<Ticks> = keys.iter().map(|k| k.time).collect();
    let closing_time = closing.as_ref().map(|c| c.time);
    let mut scorer = Scorer::new(params.track_subject);
    for key in keys.into_iter().chain(closing) {
        scorer.push(key, false);
    }
    let mut scan = finish(&decoder, scorer)?;
    scan.duration = scan.duration.max(duration_hint);
    let end = scan.duration;
    let stretch = |j: usize| {
        let from = starts.get(j).copied().unwrap_or(0);
        (from, starts.get(j + 1).copied().unwrap_or(end))
    };
    scan.packet_hints = if starts.len() == gops.len() {
        gops.iter()
            .enumerate()
            .filter(|&(j, g)| g.suspicious() || (j + 1 == gops.len() && tail == Tail::Long))
            .map(|(j, _)| stretch(j))
            .collect()
    } else {
        // The index and the decoded keyframes disagree: trust no stretch.
        (0..starts.len()).map(stretch).collect()
    };
    // The closing frame is the clip's last: nothing after it makes a scene.
    scan.packet_hints.extend(closing_time.map(|t| (t, end)));
    Ok(scan)
}

/// The container's packet index (read without decoding), as this module uses it.
fn read_packets(decoder: &mut VideoDecoder) -> Result<Vec<Packet>, ClipError> {
    Ok(decoder
        .packet_index()?
        .into_iter()
        .map(|p| Packet {
            time: p.time,
            size: p.size,
            key: p.key,
            decode_index: p.decode_index,
        })
        .collect())
}

/// Splits the index (presentation order) at keyframes and marks the stretches whose packet
/// sizes hint at a change.
fn split_gops(packets: &[Packet]) -> Vec<Gop> {
    let mut bounds: Vec<usize> = packets
        .iter()
        .enumerate()
        .filter(|(_, p)| p.key)
        .map(|(i, _)| i)
        .collect();
    // Leading pictures of an open GOP sort before the first keyframe: they belong to it.
    if let Some(first) = bounds.first_mut() {
        *first = 0;
    }
    bounds.push(packets.len());
    bounds
        .windows(2)
        .map(|w| match (w.first(), w.get(1)) {
            (Some(&a), Some(&b)) => {
                let sizes: Vec<f32> = packets
                    .get(a + 1..b)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| p.size as f32)
                    .collect();
                let key_size = packets
                    .get(a..b)
                    .unwrap_or_default()
                    .iter()
                    .filter(|p| p.key)
                    .map(|p| p.size as f32)
                    .fold(0.0f32, f32::max);
                let time = |i: usize| packets.get(i).map(|p| p.time);
                let span = match (time(a), time(b)) {
                    (Some(from), Some(to)) => to - from,
                    _ => 0,
                };
                // Positions in `sizes` (the packets after the keyframe): frames since it - 1.
                let hint = last_spike(&sizes, key_size).max(last_level_change(&sizes));
                let hinted_to = hint.and_then(|i| Some((packets.get(a + 1 + i)?.time, i + 2)));
                Gop {
                    frames: b - a,
                    span,
                    hinted_to,
                }
            }
            _ => Gop::default(),
        })
        .collect()
}

/// Whether some packet is far larger than every packet shortly before it and shortly after
/// it, and large enough next to the stretch's keyframe (`key_size`) to hold much of a
/// picture coded afresh. A cut's picture is coded afresh once, and the new shot's predicted
/// pictures that follow are small again; the first reference picture after the B-frames
/// that open a stretch is large only next to them, and as large as the ones after it.
#[cfg(test)]
fn has_spike(sizes: &[f32], key_size: f32) -> bool {
    last_spike(sizes, key_size).is_some()
}

/// The last packet of `sizes` that is a spike (see [`has_spike`]).
fn last_spike(sizes: &[f32], key_size: f32) -> Option<usize> {
    let peak = |window: &[f32]| window.iter().copied().fold(0.0f32, f32::max);
    // Right after a keyframe the window may hold only B-frames: wait for a reference frame.
    sizes
        .iter()
        .enumerate()
        .skip(SPIKE_MIN_HISTORY)
        .rfind(|&(i, &s)| {
            let before = peak(
                sizes
                    .get(i.saturating_sub(SPIKE_WINDOW)..i)
                    .unwrap_or_default(),
            );
            let after = peak(
                sizes
                    .get(i + 1..(i + 1 + SPIKE_WINDOW).min(sizes.len()))
                    .unwrap_or_default(),
            );
            // Tiny packets (a still picture) vary a lot relatively: ignore below a floor.
            before > 0.0
                && s > SPIKE_RATIO * before
                && s > SPIKE_RATIO * after
                && s > 512.0
                && s > key_size * SPIKE_KEY_SHARE
        })
        .map(|(i, _)| i)
}

/// Whether the typical packet size (rolling peaks, which even out the P/B alternation)
/// of some window differs from that of the window after it by `LEVEL_RATIO`.
#[cfg(test)]
fn has_level_change(sizes: &[f32]) -> bool {
    last_level_change(sizes).is_some()
}

/// The last packet of `sizes` a level change (see [`has_level_change`]) may lie at: the
/// end of the window after it.
fn last_level_change(sizes: &[f32]) -> Option<usize> {
    let peaks: Vec<f32> = sizes
        .windows(4)
        .map(|w| w.iter().copied().fold(0.0f32, f32::max))
        .collect();
    let median = |v: &[f32]| {
        let mut v = v.to_vec();
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let n = SPIKE_WINDOW;
    (n..peaks.len().saturating_sub(n))
        .rfind(|&i| {
            let (Some(a), Some(b)) = (peaks.get(i - n..i), peaks.get(i..i + n)) else {
                return false;
            };
            let (a, b) = (median(a).max(256.0), median(b).max(256.0));
            a.max(b) > LEVEL_RATIO * a.min(b)
        })
        // A peak window covers four packets: the change lies within the window after.
        .map(|i| (i + n + 3).min(sizes.len().saturating_sub(1)))
}

/// The encoder's maximum keyframe interval when it also places keyframes at scene changes
/// (x264/x265 settings with `scenecut` above 0); `None` when we cannot tell.
fn scenecut_keyint(settings: Option<&str>) -> Option<usize> {
    let settings = settings?;
    let value = |name: &str| -> Option<i64> {
        settings
            .split_whitespace()
            .find_map(|t| t.strip_prefix(name)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    let scenecut = value("scenecut")?;
    let keyint = value("keyint")?;
    (scenecut > 0 && keyint > 0).then_some(keyint as usize)
}

/// Whether the stream decodes pictures out of presentation order (B-frames).
fn reorders(packets: &[Packet]) -> bool {
    packets.iter().enumerate().any(|(i, p)| p.decode_index != i)
}

/// End of the last frame according to the index.
fn index_end(packets: &[Packet], frame_ticks: Ticks) -> Ticks {
    packets.last().map_or(0, |p| p.time + frame_ticks.max(1))
}

/// The decoded keyframes in presentation order, with the change from each to the next.
struct Keyframes {
    features: Vec<FrameFeatures>,
    /// `changes[j]`: from keyframe `j` to keyframe `j + 1`, the camera's shift taken out.
    changes: Vec<AlignedChange>,
}

/// Decodes the keyframes only, in presentation order; stops early (with the keyframes so
/// far) once `abandon` is set. The change between neighbours is measured as each keyframe
/// arrives, while the decoder's threads work on the next ones.
fn scan_keyframes(
    decoder: &mut VideoDecoder,
    (cancel, abandon): (&CancelToken, &std::sync::atomic::AtomicBool),
    progress: &mut dyn FnMut(Progress),
) -> Result<Keyframes, ClipError> {
    let total = frame_estimate(decoder).max(1);
    let rate = decoder.frame_rate().as_f64();
    decoder.set_keyframes_only(true);
    let mut keys: Vec<FrameFeatures> = Vec::new();
    let mut measured = std::collections::HashMap::new();
    while let Some(frame) = decoder.next_frame()? {
        if cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        if abandon.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        if let Some(f) = FrameFeatures::from_frame(&frame) {
            if let Some(last) = keys.last().filter(|last| last.time < f.time) {
                measured.insert((last.time, f.time), f.aligned_change(last));
            }
            keys.push(f);
        }
        progress(Progress {
            done: (crate::time::secs_from_ticks(frame.time) * rate).max(0.0) as u64 / 4,
            total,
            stage: "scanning keyframes",
        });
    }
    decoder.set_keyframes_only(false);
    // Fed keyframes only, a decoder with reordering delay may hand them out of order (two
    // IDR pictures both count as picture order 0): sort by time, not by arrival.
    keys.sort_by_key(|k| k.time);
    keys.dedup_by_key(|k| k.time);
    let changes = keys
        .windows(2)
        .filter_map(|pair| match pair {
            [from, to] => Some(
                measured
                    .get(&(from.time, to.time))
                    .copied()
                    .unwrap_or_else(|| to.aligned_change(from)),
            ),
            _ => None,
        })
        .collect();
    Ok(Keyframes {
        features: keys,
        changes,
    })
}

/// Longest tail (frames after the last keyframe) closed by decoding the clip's last frame:
/// the pre-roll decodes most of it.
const CLOSING_MAX_FRAMES: usize = 75;

/// The stretch after the last keyframe, as far as closing it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Short enough to decode its last frame.
    Closable,
    /// Its packet sizes hint at a change: decoded or left unresolved anyway.
    Flagged,
    /// Too long to close cheaply.
    Long,
    /// Decoded in full: as cheap as closing it, when every frame is a reference picture.
    Refined,
}

/// What the last stretch of the index is, as far as closing it goes.
fn tail_of(gops: &[Gop]) -> Tail {
    match gops.last() {
        Some(g) if g.suspicious() => Tail::Flagged,
        Some(g) if g.frames > CLOSING_MAX_FRAMES => Tail::Long,
        _ => Tail::Closable,
    }
}

/// The clip's last frame (decoded with the pre-roll it depends on) when it comes after the
/// last keyframe and the tail is `Tail::Closable`: it closes the stretch after that
/// keyframe, which no keyframe does, so a fade-out or a change there is seen.
fn closing_frame(
    decoder: &mut VideoDecoder,
    packets: &[Packet],
    keys: &[FrameFeatures],
    tail: Tail,
) -> Result<Option<FrameFeatures>, ClipError> {
    if tail != Tail::Closable {
        return Ok(None);
    }
    let Some(last) = packets.iter().map(|p| p.time).max() else {
        return Ok(None);
    };
    if keys.last().is_none_or(|k| k.time >= last) {
        return Ok(None);
    }
    let frame = decoder.seek_exact(last)?;
    Ok(frame
        .as_ref()
        .and_then(FrameFeatures::from_frame)
        .filter(|f| keys.last().is_some_and(|k| f.time > k.time)))
}

/// Whether a change moved the brightness as a fade does (the change score weighs
/// structure, which a fade keeps).
fn brightness_moved(change: &AlignedChange) -> bool {
    change.brightness.abs() > FADE_LUMA_STEP
}

/// The thresholds a change between keyframes is judged by.
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    /// Keyframe-to-keyframe change (coarse) above which a stretch may hold a cut.
    refine: f32,
    /// The detector's cut threshold.
    cut: f32,
}

/// How the encoder placed its keyframes, as far as we can tell.
#[derive(Debug, Clone, Copy)]
enum Keyframing {
    /// At scene changes, at most this many frames apart (x264/x265 `scenecut`): a stretch
    /// closed earlier ends at a scene change, and one that ran the full interval with no
    /// packet hint holds none.
    SceneCuts { interval: usize },
    /// Unknown: the longest stretch of the index (frames, span) stands in for the interval,
    /// so a stretch closed clearly earlier may end at a scene change.
    Unknown { longest: Option<(usize, Ticks)> },
}

impl Keyframing {
    /// From the encoder's settings, else from the stretches closed by a keyframe.
    fn of(settings: Option<&str>, gops: &[Gop]) -> Self {
        if let Some(interval) = scenecut_keyint(settings) {
            return Self::SceneCuts { interval };
        }
        let closed = gops.get(..gops.len().saturating_sub(1)).unwrap_or_default();
        let longest = (closed.len() >= 3).then(|| {
            let frames = closed.iter().map(|g| g.frames).max().unwrap_or(0);
            let span = closed.iter().map(|g| g.span).max().unwrap_or(0);
            (frames, span)
        });
        Self::Unknown { longest }
    }

    /// Whether the encoder vouches that stretches without packet hints hold no hard cut.
    fn vouches(self) -> bool {
        matches!(self, Self::SceneCuts { .. })
    }

    /// Whether `gop` was closed before the interval ran out (by a scene change, perhaps).
    fn closed_early(self, gop: &Gop) -> bool {
        match self {
            Self::SceneCuts { interval } => gop.frames + 1 < interval,
            Self::Unknown {
                longest: Some((frames, span)),
            } => gop.frames + 1 < frames && (gop.span as f64) < EARLY_SPAN_SHARE * span as f64,
            Self::Unknown { longest: None } => false,
        }
    }
}

/// A stretch of unknown keyframing is closed early when shorter than this share of the
/// longest one in time too (variable frame rate changes frame counts, not intervals).
const EARLY_SPAN_SHARE: f64 = 0.9;

/// Whether `to` shows the same shot as `from`, both coarsely and in detail (the full score
/// stays below what any cut needs), in the same brightness. Frames a second apart are
/// compared with the camera's shift between them taken out (see
/// [`FrameFeatures::aligned_change`]).
fn unchanged(from: &FrameFeatures, to: &FrameFeatures, t: Thresholds) -> bool {
    is_unchanged(&to.aligned_change(from), t)
}

/// [`unchanged`] for a change already measured.
fn is_unchanged(change: &AlignedChange, t: Thresholds) -> bool {
    change.coarse < t.refine && change.detail < t.cut && !brightness_moved(change)
}

/// Whether the change from `from` to a later frame `to` of a stretch without packet hints
/// is no cut's: unchanged, or motion within the shot. When the encoder vouches (no scene
/// change inside), any change that moved neither the brightness (a fade) nor the colours
/// as far as a cut does (a dissolve to another shot) is motion; otherwise the packet sizes
/// alone vouch, and the change must also stay below a cut's and keep the colours.
fn holds_no_cut(from: &FrameFeatures, to: &FrameFeatures, t: Thresholds, vouched: bool) -> bool {
    change_holds_no_cut(&to.aligned_change(from), t, vouched)
}

/// [`holds_no_cut`] for a change already measured.
fn change_holds_no_cut(change: &AlignedChange, t: Thresholds, vouched: bool) -> bool {
    if is_unchanged(change, t) {
        return true;
    }
    if brightness_moved(change) {
        return false;
    }
    if vouched {
        change.colour < t.cut
    } else {
        change.coarse < t.cut && change.detail < t.cut && change.colour < t.refine
    }
}

/// Decides per stretch from keyframe `j` to keyframe `j + 1` (see [`plan_stretch`]).
fn plan_gops(
    keys: &Keyframes,
    (tail, closing): (Tail, Option<&FrameFeatures>),
    gops: &[Gop],
    keyframing: Keyframing,
    thresholds: Thresholds,
) -> Vec<Plan> {
    keys.features
        .iter()
        .zip(gops)
        .enumerate()
        .map(|(j, (key, gop))| {
            plan_stretch(
                (key, keys.changes.get(j)),
                (tail, closing),
                gop,
                keyframing,
                thresholds,
            )
        })
        .collect()
}

/// Decides for the stretch from keyframe `key` on, given the `change` to the keyframe that
/// closes it (none for the last, the tail: refined when `Tail::Refined`, else judged
/// against `closing`, the clip's last frame, when known).
fn plan_stretch(
    (key, change): (&FrameFeatures, Option<&AlignedChange>),
    (tail, closing): (Tail, Option<&FrameFeatures>),
    gop: &Gop,
    keyframing: Keyframing,
    thresholds: Thresholds,
) -> Plan {
    if gop.suspicious() {
        return Plan::Refine;
    }
    let Some(change) = change else {
        // The tail: its last frame closes it when decoded; its packets showed nothing.
        return match closing {
            _ if tail == Tail::Refined => Plan::Refine,
            Some(last) if !unchanged(key, last, thresholds) => Plan::Refine,
            _ => Plan::Skip,
        };
    };
    if is_unchanged(change, thresholds) {
        Plan::Skip
    } else if keyframing.closed_early(gop) {
        // The encoder closed the stretch for a reason: a scene change, perhaps.
        Plan::KeyCut
    } else if change_holds_no_cut(change, thresholds, keyframing.vouches()) {
        Plan::Skip
    } else {
        Plan::Refine
    }
}

/// Logs each stretch's plan and the keyframe changes behind it (`-vv`), to tell why a clip
/// was decoded as it was.
fn log_plans(keys: &Keyframes, plans: &[Plan], gops: &[Gop]) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    for (j, ((key, plan), gop)) in keys.features.iter().zip(plans).zip(gops).enumerate() {
        let change = keys.changes.get(j);
        let of = |f: fn(&AlignedChange) -> f32| change.map_or(0.0, f);
        tracing::debug!(
            "stretch {j} at {:.2} s: {} frames, {plan:?}, packet hint {}, coarse change {:.3}, \
             change {:.3}, brightness {:+.3}, colour {:.3}",
            crate::time::secs_from_ticks(key.time),
            gop.frames,
            gop.suspicious(),
            of(|c| c.coarse),
            of(|c| c.detail),
            of(|c| c.brightness),
            of(|c| c.colour),
        );
    }
}

/// Frames after a keyframe looked at to confirm a key cut.
const CONFIRM_AFTER: usize = 2;

/// The frames decoded around a confirmed key cut (two before the keyframe, the keyframe
/// and two after it), per stretch: they stand for the stretch's end and the next one's
/// start, so nothing there is decoded twice.
type CutFrames = Vec<Option<Vec<FrameFeatures>>>;

/// Checks each stretch the encoder closed early (`Plan::KeyCut`) on the frames around the
/// closing keyframe: a hard cut changes everything from the frame before the keyframe to
/// the keyframe, and little on either side, and the stretch up to the frames before it
/// holds no cut of its own (judged as a skipped stretch is, `vouched` as there). Encoders
/// also place keyframes in the middle of fades and dissolves; there the change is spread
/// over many frames, so the stretch before the keyframe and the one after it are decoded in
/// full instead.
fn confirm_key_cuts(
    decoder: &mut VideoDecoder,
    keys: &[FrameFeatures],
    plans: &mut [Plan],
    thresholds: Thresholds,
    vouched: bool,
    cancel: &CancelToken,
) -> Result<CutFrames, ClipError> {
    let frame_ticks = decoder.frame_rate().frame_ticks().max(1);
    let mut confirmed: CutFrames = vec![None; plans.len()];
    for j in 0..plans.len() {
        if cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        if plans.get(j) != Some(&Plan::KeyCut) {
            continue;
        }
        let (Some(from), Some(key)) = (keys.get(j), keys.get(j + 1)) else {
            continue;
        };
        let frames = hard_cut_at(decoder, key.time, frame_ticks, thresholds.cut)?;
        // The stretch up to the frames before the cut must hold no cut of its own.
        if let Some(frames) = frames
            && frames
                .first()
                .is_some_and(|first| holds_no_cut(from, first, thresholds, vouched))
        {
            if let Some(slot) = confirmed.get_mut(j) {
                *slot = Some(frames);
            }
            continue;
        }
        if let Some(p) = plans.get_mut(j) {
            *p = Plan::Refine;
        }
        if let Some(p) = plans.get_mut(j + 1)
            && *p == Plan::Skip
        {
            *p = Plan::Refine;
        }
    }
    Ok(confirmed)
}

/// The frames around the keyframe at `key_time` when it is a hard cut: the change into it
/// reaches the cut threshold and stands out from the change of the two frames before it
/// and after it as the detector asks of a cut. `None` when it is not (or they cannot be
/// decoded).
fn hard_cut_at(
    decoder: &mut VideoDecoder,
    key_time: Ticks,
    frame_ticks: Ticks,
    cut_threshold: f32,
) -> Result<Option<Vec<FrameFeatures>>, ClipError> {
    // Two frames before the keyframe: the pre-roll decodes only what they depend on.
    let Some(first) = decoder.seek_exact(key_time - 2 * frame_ticks)? else {
        return Ok(None);
    };
    let mut frames: Vec<FrameFeatures> = FrameFeatures::from_frame(&first).into_iter().collect();
    while let Some(frame) = decoder.next_frame()? {
        let past_key = frame.time > key_time;
        if let Some(f) = FrameFeatures::from_frame(&frame) {
            frames.push(f);
        }
        let after = frames.iter().filter(|f| f.time > key_time).count();
        if past_key && after >= CONFIRM_AFTER {
            break;
        }
    }
    let Some(at) = frames.iter().position(|f| f.time == key_time) else {
        return Ok(None);
    };
    let change = |i: usize| match (frames.get(i.wrapping_sub(1)), frames.get(i)) {
        (Some(a), Some(b)) => Some(b.diff(a)),
        _ => None,
    };
    let Some(into_key) = change(at) else {
        return Ok(None);
    };
    // The detector's own test, against the frames on both sides at full weight: the cut
    // must stand clear of the change around it (a fade or dissolve spreads its change).
    let local = (1..frames.len())
        .filter(|&i| i != at)
        .filter_map(change)
        .fold(0.0f32, f32::max);
    let cut = into_key >= cut_threshold
        && into_key - local >= cut_threshold
        && into_key >= MIN_RATIO * local;
    Ok(cut.then_some(frames))
}

/// Frames one refining worker may decode ahead of the scorer in one stretch: a bound on
/// memory when a later stretch is done before an earlier one (frames are small).
const STRETCH_AHEAD_FRAMES: usize = 256;

/// Consecutive frames that must match the keyframe closing their stretch before the rest
/// of the stretch is left undecoded: a settled picture, not one frame of shake that
/// happens to line up.
const SETTLED_FRAMES: usize = 3;

/// When a refined stretch may stop early: once its pictures have settled on the keyframe
/// that closes it (judged as a skipped stretch's keyframes are) in one step the size of a
/// cut, the rest of the stretch holds no cut by the same test that skips a whole stretch.
/// A picture that crept towards the closing one (a dissolve or fade ending) is decoded to
/// the end: the transition's span needs the shot after it. Where the packet sizes hint at
/// a change, the settling must come at or after the last hinted packet: a spike may mark
/// a cut the keyframes cannot show.
struct SettleRule {
    thresholds: Thresholds,
    /// The encoder vouches that stretches without packet hints hold no hard cut.
    vouched: bool,
    /// Per stretch: the last packet its packet sizes hint at.
    hinted_to: Vec<Option<Ticks>>,
    /// Packets decode in presentation order (no B-frames): a stretch's decoder is fed up to
    /// its closing keyframe and not that keyframe itself (see
    /// [`VideoDecoder::stop_feeding_at`]).
    in_order: bool,
}

/// A stretch to decode: from the keyframe at `from` to the next one at `until` (to the end
/// of the clip for the last), stopping early once its pictures settle on the closing
/// keyframe (see [`SettleRule`]).
#[derive(Debug, Clone)]
struct Stretch {
    from: Ticks,
    until: Option<Ticks>,
    /// The keyframe opening the stretch and the one closing it, when the stretch may stop
    /// on reaching the closing picture.
    settle_on: Option<(FrameFeatures, FrameFeatures)>,
    /// The settling may start no earlier than this (the last packet hinted at).
    settle_from: Option<Ticks>,
}

/// What a refining worker hands over for its stretch, in presentation order.
enum Decoded {
    /// A frame after the keyframe, its features computed by the worker.
    Frame(Box<FrameFeatures>),
    /// The stretch is over: `complete` when decoded to its end, false when it stopped once
    /// its pictures settled on the closing keyframe (the frames up to it were not decoded).
    Done { complete: bool },
    /// The stretch could not be decoded.
    Failed(ClipError),
}

/// Scores the keyframes and decodes what the plans ask for; a confirmed key cut brings the
/// frames around it from its confirmation (`cut_frames`). Stretches are independent (each
/// starts at a keyframe), so they are decoded side by side, one single-threaded decoder
/// per core (frame threads gain little on a stretch of a second or two), and handed over
/// in order to one scoring thread. A stretch stops early as `settle` allows.
fn refine(
    decoder: &VideoDecoder,
    params: &ClipParams,
    keys: &[FrameFeatures],
    (plans, settle): (&[Plan], &SettleRule),
    cut_frames: &CutFrames,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<RawScan, ClipError> {
    let (scorer, refined) = with_scoring_thread(params.track_subject, |sink| {
        refine_into(
            decoder,
            params,
            keys,
            (plans, settle),
            cut_frames,
            sink,
            cancel,
            progress,
        )
    });
    let worker_warnings = refined?;
    let scorer = scorer.ok_or_else(|| ClipError::NoFrames {
        path: decoder.path().to_path_buf(),
    })?;
    let mut scan = finish(decoder, scorer)?;
    for warning in worker_warnings {
        if !scan.warnings.contains(&warning) {
            scan.warnings.push(warning);
        }
    }
    Ok(scan)
}

/// The ordering half of [`refine`]: starts the decoding workers and hands every frame to
/// score to `sink`, in order. Returns the workers' decoder warnings.
#[allow(clippy::too_many_arguments)]
fn refine_into(
    decoder: &VideoDecoder,
    params: &ClipParams,
    keys: &[FrameFeatures],
    (plans, settle): (&[Plan], &SettleRule),
    cut_frames: &CutFrames,
    sink: &ScoreSink,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<String>, ClipError> {
    let total = frame_estimate(decoder).max(1);
    let rate = decoder.frame_rate();
    let done_at = |t: Ticks| (crate::time::secs_from_ticks(t) * rate.as_f64()).max(0.0) as u64;
    let stretches: Vec<Stretch> = keys
        .iter()
        .enumerate()
        .filter(|&(j, _)| plans.get(j).copied().unwrap_or(Plan::Refine) == Plan::Refine)
        .map(|(j, key)| Stretch {
            from: key.time,
            until: keys.get(j + 1).map(|k| k.time),
            settle_on: keys
                .get(j + 1)
                .map(|closing| (key.clone(), closing.clone())),
            settle_from: settle.hinted_to.get(j).copied().flatten(),
        })
        .collect();
    let cores = if params.threads > 0 {
        params.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let workers = cores.min(stretches.len()).max(1);
    let worker_params = ClipParams {
        threads: (cores / workers).max(1),
        ..params.clone()
    };
    let (senders, mut receivers): (Vec<_>, Vec<_>) = stretches
        .iter()
        .map(|_| crossbeam_channel::bounded::<Decoded>(STRETCH_AHEAD_FRAMES))
        .unzip();
    // Workers claim stretches in order and own a stretch's sender while on it: a worker
    // that stops for any reason closes the channel, and the scorer's side hears of it.
    let queue = std::sync::Mutex::new(
        stretches
            .iter()
            .cloned()
            .zip(senders)
            .collect::<std::collections::VecDeque<_>>(),
    );
    let path = decoder.path();
    let options = decode_options(&worker_params, false);
    let queue = &queue;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (opener, options) = (decoder.opener(), options.clone());
                scope.spawn(move || refine_worker(opener.open(options), (queue, settle), cancel))
            })
            .collect();
        // The receivers live in this closure: returning early (an error) closes them, so
        // workers stop before the scope waits for them.
        let mut receivers = std::mem::take(&mut receivers).into_iter();
        let mut scored: u64 = 0;
        // Whether the last frame scored is the one right before the next keyframe: not
        // after a skipped stretch, nor after a refined one that stopped early.
        let mut adjacent = false;
        for (j, key) in keys.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(ClipError::Cancelled);
            }
            let plan = plans.get(j).copied().unwrap_or(Plan::Refine);
            let until = keys.get(j + 1).map(|k| k.time);
            if plan == Plan::Refine {
                sink.features(key.clone(), adjacent);
                let Some(frames) = receivers.next() else {
                    return Err(ClipError::NoFrames {
                        path: path.to_path_buf(),
                    });
                };
                loop {
                    match frames.recv() {
                        Ok(Decoded::Frame(features)) => {
                            let time = features.time;
                            if !sink.features(*features, true) {
                                break;
                            }
                            scored += 1;
                            if scored.is_multiple_of(PROGRESS_EVERY) {
                                progress(Progress {
                                    done: done_at(time),
                                    total,
                                    stage: "refining changed stretches",
                                });
                            }
                        }
                        Ok(Decoded::Done { complete }) => {
                            adjacent = complete;
                            break;
                        }
                        Ok(Decoded::Failed(error)) => return Err(error),
                        // The worker stopped without finishing (cancelled, or it failed).
                        Err(_) if cancel.is_cancelled() => return Err(ClipError::Cancelled),
                        Err(_) => {
                            return Err(ClipError::NoFrames {
                                path: path.to_path_buf(),
                            });
                        }
                    }
                }
                continue;
            }
            // A skipped stretch (or one the encoder closed at a confirmed cut): the keyframe
            // stands for it, with the frames its own confirmation decoded right after it (the
            // detector weighs a cut against the change of its neighbours, not another cut) and
            // the frames before the cut that closes it.
            let key_adjacent = adjacent;
            adjacent = plan == Plan::KeyCut;
            let around_this = j.checked_sub(1).and_then(|i| cut_frames.get(i)?.as_ref());
            let mut last_pushed = key.time;
            match around_this {
                Some(frames) => {
                    for f in frames.iter().filter(|f| f.time >= key.time) {
                        last_pushed = f.time;
                        sink.features(f.clone(), true);
                    }
                }
                None => {
                    sink.features(key.clone(), key_adjacent);
                }
            }
            if let Some(frames) = cut_frames.get(j).and_then(Option::as_ref) {
                let before_cut = frames
                    .iter()
                    .filter(|f| f.time > last_pushed && until.is_none_or(|u| f.time < u));
                for (i, f) in before_cut.enumerate() {
                    sink.features(f.clone(), i > 0);
                }
            }
        }
        progress(Progress {
            done: total,
            total,
            stage: "refining changed stretches",
        });
        drop(receivers);
        let mut warnings = Vec::new();
        for handle in handles {
            // A worker that panicked has closed its stretch: reported above.
            warnings.extend(handle.join().unwrap_or_default());
        }
        Ok(warnings)
    })
}

/// Stretches waiting for a refining worker, each with the channel its frames go to.
type StretchQueue =
    std::sync::Mutex<std::collections::VecDeque<(Stretch, crossbeam_channel::Sender<Decoded>)>>;

/// One refining worker: with its own decoder (`opened` in the worker's thread, from the
/// stream facts the first open found, so nothing is probed twice) decodes the stretches it
/// claims from `queue` until none is left, the scorer's side stops listening, or decoding
/// fails. Returns its decoder's warnings.
fn refine_worker(
    opened: Result<VideoDecoder, MediaError>,
    (queue, settle): (&StretchQueue, &SettleRule),
    cancel: &CancelToken,
) -> Vec<String> {
    let claim = || queue.lock().ok().and_then(|mut q| q.pop_front());
    let mut decoder = match opened {
        Ok(decoder) => decoder,
        Err(error) => {
            if let Some((_, out)) = claim() {
                let _ = out.send(Decoded::Failed(error.into()));
            }
            return Vec::new();
        }
    };
    while let Some((stretch, out)) = claim() {
        match decode_stretch(&mut decoder, (&stretch, settle), &out, cancel) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let _ = out.send(Decoded::Failed(error));
                break;
            }
        }
    }
    decoder.warnings().to_vec()
}

/// Decodes the frames of `stretch` after its keyframe, scores them into features and sends
/// them to `out`, then `Done`; stops early once [`SETTLED_FRAMES`] frames in a row match
/// the closing keyframe, the first of them a cut's step from the frame before (see
/// [`SettleRule`]). False when nobody listens any more.
fn decode_stretch(
    decoder: &mut VideoDecoder,
    (stretch, settle): (&Stretch, &SettleRule),
    out: &crossbeam_channel::Sender<Decoded>,
    cancel: &CancelToken,
) -> Result<bool, ClipError> {
    decoder.seek_to_keyframe_before(stretch.from)?;
    if let (true, Some(until)) = (settle.in_order, stretch.until) {
        decoder.stop_feeding_at(until);
    }
    skip_before(decoder, stretch.from)?;
    decode_stretch_on(
        decoder,
        (stretch, settle),
        &|decoded| out.send(decoded).is_ok(),
        cancel,
    )
}

/// [`decode_stretch`] for a decoder that has just handed out the stretch's keyframe (and
/// been told where to stop feeding, if anywhere); what it decodes goes to `send`, which
/// says false when nobody listens any more.
fn decode_stretch_on(
    decoder: &mut VideoDecoder,
    (stretch, settle): (&Stretch, &SettleRule),
    send: &dyn Fn(Decoded) -> bool,
    cancel: &CancelToken,
) -> Result<bool, ClipError> {
    let mut frame = empty_frame();
    let mut settled = 0;
    let mut stepped = false;
    let mut previous = stretch
        .settle_on
        .as_ref()
        .map(|(opening, _)| opening.clone());
    // The change into the previous frame (unknown for the first: taken as none, so the
    // step into it must be a clear cut's).
    let mut previous_step = 0.0f32;
    let mut complete = true;
    loop {
        if cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        if !decoder.next_frame_into(&mut frame)? {
            break;
        }
        if stretch.until.is_some_and(|end| frame.time >= end) {
            break;
        }
        let Some(features) = FrameFeatures::from_frame(&frame) else {
            continue;
        };
        if let (Some((_, closing)), Some(before)) = (&stretch.settle_on, &previous) {
            let step = features.diff(before);
            // Judged as a whole stretch is skipped (see `plan_gops`).
            if !holds_no_cut(&features, closing, settle.thresholds, settle.vouched) {
                settled = 0;
            } else {
                if settled == 0 {
                    // The step into it stands out as the detector asks of a cut: the
                    // picture changed in one frame, not by a dissolve's or fade's creep.
                    stepped = stands_out(step, previous_step, settle.thresholds.cut)
                        && stretch.settle_from.is_none_or(|t| features.time >= t);
                }
                settled += 1;
            }
            previous = Some(features.clone());
            previous_step = step;
        }
        if !send(Decoded::Frame(Box::new(features))) {
            return Ok(false);
        }
        if stepped && settled >= SETTLED_FRAMES {
            tracing::debug!(
                "stretch at {:.2} s settled on its closing keyframe at {:.2} s: the rest is skipped",
                crate::time::secs_from_ticks(stretch.from),
                crate::time::secs_from_ticks(frame.time)
            );
            complete = false;
            break;
        }
    }
    Ok(send(Decoded::Done { complete }))
}

/// Consumes the frames before `time` and the one at it, without converting them.
fn skip_before(decoder: &mut VideoDecoder, time: Ticks) -> Result<(), ClipError> {
    while let Some(t) = decoder.skip_frame()? {
        if t >= time {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spikes_and_levels() {
        let steady: Vec<f32> = (0..40)
            .map(|i| if i % 3 == 0 { 4000.0 } else { 1500.0 })
            .collect();
        assert!(!has_spike(&steady, 20_000.0));
        assert!(!has_level_change(&steady));
        let mut cut = steady.clone();
        if let Some(s) = cut.get_mut(20) {
            *s = 12_000.0;
        }
        assert!(has_spike(&cut, 20_000.0));
        assert!(!has_spike(&cut, 200_000.0));
        // A second spike later: the last one is where settling may begin.
        let mut two = cut.clone();
        if let Some(s) = two.get_mut(31) {
            *s = 12_000.0;
        }
        assert_eq!(last_spike(&cut, 20_000.0), Some(20));
        assert_eq!(last_spike(&two, 20_000.0), Some(31));
        // A stretch opening with four B-frames before its first P-frame (x265): that P-frame
        // is as large as the ones after it, no spike.
        let opening: Vec<f32> = (0..40)
            .map(|i| if i % 5 == 4 { 4000.0 } else { 1500.0 })
            .collect();
        assert!(!has_spike(&opening, 20_000.0));
        let drop: Vec<f32> = steady
            .iter()
            .enumerate()
            .map(|(i, &s)| if i >= 20 { s / 4.0 } else { s })
            .collect();
        assert!(has_level_change(&drop));
        // The change lies within the window after the boundary found: the hint covers it.
        assert!(last_level_change(&drop).is_some_and(|i| i >= 20));
    }

    #[test]
    fn settling_needs_a_cut_sized_step() {
        // A hard cut: one big step after the shake-level change of the frame before.
        assert!(stands_out(0.9, 0.03, 0.3));
        // A cut between two framings of one scene: smaller, far above the shake.
        assert!(stands_out(0.26, 0.02, 0.3));
        // A dissolve or a fade ending: steps of about the same size frame after frame.
        assert!(!stands_out(0.12, 0.10, 0.3));
        assert!(!stands_out(0.2, 0.15, 0.3));
        // Right after the keyframe (no step known before): only a clear cut's step.
        assert!(stands_out(0.35, 0.0, 0.3));
        assert!(!stands_out(0.1, 0.0, 0.3));
    }

    #[test]
    fn infers_early_keyframes_without_settings() {
        let gop = |frames: usize, secs: i64| Gop {
            frames,
            span: secs * crate::time::TICKS_PER_SECOND / 100,
            hinted_to: None,
        };
        // Two-second GOPs, one closed after 25 frames (a scene change), and the tail.
        let gops = [
            gop(60, 200),
            gop(60, 200),
            gop(25, 83),
            gop(60, 200),
            gop(15, 0),
        ];
        let keyframing = Keyframing::of(None, &gops);
        assert!(!keyframing.vouches());
        let early: Vec<bool> = gops[..4]
            .iter()
            .map(|g| keyframing.closed_early(g))
            .collect();
        assert_eq!(early, [false, false, true, false]);
        // Variable frame rate: fewer frames in the same time is not an early close.
        assert!(!keyframing.closed_early(&gop(48, 200)));
        // Too few stretches to tell an interval.
        assert!(!Keyframing::of(None, &gops[..3]).closed_early(&gop(25, 83)));
        let x264 = Keyframing::of(Some("keyint=60 scenecut=40"), &gops);
        assert!(x264.vouches() && x264.closed_early(&gop(25, 83)));
    }

    #[test]
    fn tells_reordered_streams() {
        let packet = |time: Ticks, decode_index: usize| Packet {
            time,
            size: 1000,
            key: decode_index == 0,
            decode_index,
        };
        // I P P P: decoded as shown.
        let in_order: Vec<Packet> = (0..4).map(|i| packet(i, i as usize)).collect();
        assert!(!reorders(&in_order));
        // I B B P shown, decoded I P B B: the P comes second.
        let reordered = [packet(0, 0), packet(1, 2), packet(2, 3), packet(3, 1)];
        assert!(reorders(&reordered));
    }

    #[test]
    fn reads_scenecut_settings() {
        let x264 = "x264 - core 164 - H.264/MPEG-4 AVC codec - options: cabac=1 \
                    keyint=250 keyint_min=25 scenecut=40 intra_refresh=0";
        assert_eq!(scenecut_keyint(Some(x264)), Some(250));
        assert_eq!(scenecut_keyint(Some("keyint=90 scenecut=0")), None);
        assert_eq!(scenecut_keyint(None), None);
    }
}
