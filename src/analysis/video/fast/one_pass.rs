//! Fast mode in one pass, for a stream that decodes in presentation order (no B-frames) in a
//! container whose index lists every sample (MP4/MOV, as phones and most cameras write).
//!
//! The two-phase scan decodes every keyframe first and then the stretches to refine, each
//! from its keyframe again. Here workers take a few stretches at a time in order, decode
//! their keyframes, and decode a stretch that needs it right on from the decoder that has
//! just decoded its opening keyframe: no keyframe is decoded twice, and no core waits for
//! the last keyframe of the clip before refining. A batch's closing keyframe is the next
//! batch's first, which the worker on that batch decodes before anything else.
//!
//! The packet index is read beside, and stretches are planned as the two-phase scan plans
//! them once the index and the keyframes at both ends are in. A stretch the encoder closed
//! early is decoded in full: without reordering, confirming a key cut decodes the whole
//! stretch anyway (every picture before the cut is a reference picture), and so is the
//! stretch after it, as the two-phase scan does when such a keyframe is no hard cut. Should
//! the index show reordered pictures, or other keyframes than the container's index, the
//! pass stops and the two-phase scan takes over. Should the index call for one straight
//! pass, or the stretches planned for decoding pass the share of the clip at which the
//! two-phase scan would make one, the pass stops and one straight pass is done.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

use crossbeam_channel::{Receiver, Sender};

use crate::media::{StreamOpener, VideoDecodeOptions, keyframe_seek_target};

use super::*;

/// Stretches a worker takes at a time: few, so the work ends evenly across cores; the
/// keyframe closing a batch is nearly always decoded already by the worker on the next.
/// A worker holds one decoder per keyframe of its batch.
const BATCH: usize = 4;

/// How long a worker waiting for a keyframe or the index sleeps between looks at whether
/// the pass was stopped (a publication wakes it at once).
const WAIT_SLICE: std::time::Duration = std::time::Duration::from_millis(20);

/// What a one-pass scan came to.
pub(super) enum OnePass {
    /// The scan.
    Done(RawScan),
    /// The packet index calls for one straight pass over every frame (why).
    FullPass(String),
    /// The stream does not suit the pass after all (why): scan it in two phases.
    Unsuitable(String),
}

/// What the packet index says about the pass.
enum Verdict {
    /// Go on, planning by this.
    Plan(Box<Planning>),
    /// One straight pass is cheaper (why).
    FullPass(String),
    /// The pass does not suit the stream (why).
    Unsuitable(String),
}

/// What stretches are planned by, from the packet index.
struct Planning {
    gops: Vec<Gop>,
    keyframing: Keyframing,
    tail: Tail,
    thresholds: Thresholds,
    settle: SettleRule,
    /// When each keyframe shows, by the index.
    key_times: Vec<Ticks>,
    /// The end of the last frame, by the index.
    duration_hint: Ticks,
    /// Frames in the index.
    total_frames: usize,
    /// How long reading the index took (for the `-vv` log).
    read_in: std::time::Duration,
    /// What went wrong reading it that did not stop it.
    warnings: Vec<String>,
}

/// What a worker hands over for a batch, in presentation order.
enum Item {
    /// A stretch begins: its keyframe, and whether the stretch is decoded (its frames
    /// follow, then [`Decoded::Done`]).
    Opens {
        key: Box<FrameFeatures>,
        refined: bool,
    },
    /// A frame of the stretch, its end, or why it failed.
    Decoded(Decoded),
}

/// What the workers, the index reader and the scoring side share.
struct Shared<'a> {
    /// Where to seek for each keyframe: halfway from its decode time to the next one's (the
    /// demuxer takes a seek target for a presentation time, later than the decode time by
    /// any delay the container adds, and lands on the keyframe at or before it).
    seek_to: Vec<Ticks>,
    /// Each keyframe's features once decoded.
    keys: Vec<OnceLock<FrameFeatures>>,
    /// The next batch nobody has claimed.
    next_batch: AtomicUsize,
    batches: usize,
    /// The packet index's verdict once read.
    verdict: OnceLock<Verdict>,
    /// Set when the pass stops early (a failure, a verdict against it, the scoring side
    /// gone): every wait ends.
    stopped: AtomicBool,
    wake: (Mutex<()>, Condvar),
    /// Each batch's sender, taken by the worker that claims the batch; dropped when the
    /// pass stops so the scoring side hears of it.
    senders: Mutex<Vec<Option<Sender<Item>>>>,
    cancel: &'a CancelToken,
    /// Frames the plans so far refine, as the two-phase scan counts them.
    refined_frames: AtomicUsize,
    /// Set when they pass the share above which one straight pass is cheaper.
    too_much: AtomicBool,
}

impl Shared<'_> {
    /// Claims the next batch, if any is left. The last batch goes first: the clip's tail,
    /// refined whole more often than not, would otherwise keep one core busy after the
    /// others are done. Then the rest, in order.
    fn claim(&self) -> Option<usize> {
        let turn = self.next_batch.fetch_add(1, Ordering::SeqCst);
        match turn {
            0 => self.batches.checked_sub(1),
            _ if turn < self.batches => Some(turn - 1),
            _ => None,
        }
    }

    /// Claims `batch` (not the last) if it is the next one in turn and nobody has it.
    fn claim_exactly(&self, batch: usize) -> bool {
        let turn = batch + 1;
        turn < self.batches
            && self
                .next_batch
                .compare_exchange(turn, turn + 1, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
    }

    /// The sender for a claimed batch (none once the pass stopped).
    fn sender(&self, batch: usize) -> Option<Sender<Item>> {
        self.senders.lock().ok()?.get_mut(batch)?.take()
    }

    /// Whether waiting is over for good.
    fn stopping(&self) -> bool {
        self.stopped.load(Ordering::SeqCst) || self.cancel.is_cancelled()
    }

    /// Stops the pass: waits end, unclaimed batches' channels close.
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Ok(mut senders) = self.senders.lock() {
            senders.clear();
        }
        self.notify();
    }

    fn notify(&self) {
        let _guard = self.wake.0.lock();
        self.wake.1.notify_all();
    }

    /// Waits until `get` gives something (none when the pass stops first).
    fn wait_for<T>(&self, get: impl Fn() -> Option<T>) -> Option<T> {
        loop {
            if let Some(value) = get() {
                return Some(value);
            }
            if self.stopping() {
                return None;
            }
            let Ok(guard) = self.wake.0.lock() else {
                return None;
            };
            // Looked at again under the lock: a publication in between has notified.
            if let Some(value) = get() {
                return Some(value);
            }
            let _ = self.wake.1.wait_timeout(guard, WAIT_SLICE);
        }
    }

    /// The planning, once the index is read (none when the pass stops).
    fn planning(&self) -> Option<&Planning> {
        self.wait_for(|| match self.verdict.get() {
            Some(Verdict::Plan(planning)) => Some(planning.as_ref()),
            _ => None,
        })
    }
}

/// Scans `decoder`'s stream in one pass, given when its keyframes decode by the container's
/// index (`key_times`, at least two).
pub(super) fn scan_one_pass(
    decoder: &VideoDecoder,
    key_times: &[Ticks],
    params: &ClipParams,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<OnePass, ClipError> {
    let started = std::time::Instant::now();
    let n = key_times.len();
    let frame_ticks = decoder.frame_rate().frame_ticks().max(1);
    let seek_to = (0..n)
        .map(|j| keyframe_seek_target(key_times, j).unwrap_or(0))
        .collect();
    let batches = n.div_ceil(BATCH);
    // The last batch, decoded first, waits whole for the scoring side: its channel is not
    // bounded (a tail is at most a stretch of frames; features are small).
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..batches)
        .map(|b| match b + 1 == batches {
            true => crossbeam_channel::unbounded::<Item>(),
            false => crossbeam_channel::bounded::<Item>(STRETCH_AHEAD_FRAMES),
        })
        .unzip();
    let shared = Shared {
        seek_to,
        keys: (0..n).map(|_| OnceLock::new()).collect(),
        next_batch: AtomicUsize::new(0),
        batches,
        verdict: OnceLock::new(),
        stopped: AtomicBool::new(false),
        wake: (Mutex::new(()), Condvar::new()),
        senders: Mutex::new(senders.into_iter().map(Some).collect()),
        cancel,
        refined_frames: AtomicUsize::new(0),
        too_much: AtomicBool::new(false),
    };
    let cores = if params.threads > 0 {
        params.threads
    } else {
        std::thread::available_parallelism().map_or(1, |c| c.get())
    };
    let workers = cores.min(batches).max(1);
    let worker_options = VideoDecodeOptions {
        threads: 1,
        ..decode_options(params, false)
    };
    let thresholds = Thresholds {
        refine: params.refine_threshold,
        cut: params.threshold,
    };
    let total = frame_estimate(decoder).max(1);
    let rate = decoder.frame_rate().as_f64();
    let (scorer, consumed) = with_scoring_thread(params.track_subject, |sink| {
        std::thread::scope(|scope| {
            let shared = &shared;
            let reader = decoder.opener();
            // The reader decodes nothing: one thread.
            let reader_options = worker_options.clone();
            scope.spawn(move || {
                let verdict = read_verdict(&reader, reader_options, (n, frame_ticks), thresholds);
                let go_on = matches!(verdict, Verdict::Plan(_));
                let _ = shared.verdict.set(verdict);
                if go_on {
                    shared.notify();
                } else {
                    shared.stop();
                }
            });
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let (opener, options) = (decoder.opener(), worker_options.clone());
                    // Decoders stay on the thread that opens them.
                    scope.spawn(move || {
                        Worker {
                            shared,
                            opener,
                            options,
                            spare: Vec::new(),
                            out: None,
                        }
                        .run()
                    })
                })
                .collect();
            let consumed = consume(shared, receivers, sink, &mut |time| {
                progress(Progress {
                    done: (crate::time::secs_from_ticks(time) * rate).max(0.0) as u64,
                    total,
                    stage: "scanning keyframes and changed stretches",
                });
            });
            // Whatever ended the consuming (the end, an error, a stop) ends the workers.
            shared.stop();
            let warnings: Vec<String> = handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect();
            consumed.map(|complete| (complete, warnings))
        })
    });
    if shared.too_much.load(Ordering::SeqCst) {
        return Ok(OnePass::FullPass(format!(
            "over {:.0} % of the frames to refine",
            FULL_PASS_SHARE * 100.0
        )));
    }
    let (complete, worker_warnings) = consumed?;
    let planning = match shared.verdict.into_inner() {
        Some(Verdict::Plan(planning)) => planning,
        Some(Verdict::FullPass(why)) => return Ok(OnePass::FullPass(why)),
        Some(Verdict::Unsuitable(why)) => return Ok(OnePass::Unsuitable(why)),
        None => return Ok(OnePass::Unsuitable("the packet index was not read".into())),
    };
    if !complete {
        if cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        return Err(ClipError::NoFrames {
            path: decoder.path().to_path_buf(),
        });
    }
    let decoded: Vec<Ticks> = shared
        .keys
        .iter()
        .filter_map(|k| k.get().map(|f| f.time))
        .collect();
    if decoded != planning.key_times {
        return Ok(OnePass::Unsuitable(format!(
            "the keyframes decoded ({}) are not the packet index's ({})",
            decoded.len(),
            planning.key_times.len()
        )));
    }
    let scorer = scorer.ok_or_else(|| ClipError::NoFrames {
        path: decoder.path().to_path_buf(),
    })?;
    let mut scan = finish(decoder, scorer)?;
    scan.duration = scan.duration.max(planning.duration_hint);
    for warning in planning.warnings.iter().chain(&worker_warnings) {
        if !scan.warnings.contains(warning) {
            scan.warnings.push(warning.clone());
        }
    }
    tracing::debug!(
        "one-pass fast scan: {n} keyframes, packet index {:.2?} (beside), {:.2?} in all",
        planning.read_in,
        started.elapsed()
    );
    Ok(OnePass::Done(scan))
}

/// Reads the packet index with a reader of its own and judges whether the pass goes on.
fn read_verdict(
    opener: &StreamOpener,
    options: VideoDecodeOptions,
    (keyframes, frame_ticks): (usize, Ticks),
    thresholds: Thresholds,
) -> Verdict {
    let started = std::time::Instant::now();
    let index = opener
        .open(options)
        .map_err(ClipError::from)
        .and_then(|mut reader| {
            let packets = read_packets(&mut reader)?;
            Ok(Index::of(packets, &reader, started.elapsed()))
        });
    let index = match index {
        Ok(index) => index,
        Err(error) => return Verdict::Unsuitable(format!("packet index: {error}")),
    };
    if let Some(why) = index.full_pass() {
        return Verdict::FullPass(why);
    }
    if reorders(&index.packets) {
        return Verdict::Unsuitable("the packet index shows reordered pictures".into());
    }
    if index.gops.len() != keyframes {
        return Verdict::Unsuitable(format!(
            "{} keyframes in the packet index, {keyframes} in the container's",
            index.gops.len()
        ));
    }
    // Without reordering, every frame of a short tail is one decoding its last frame
    // needs: the tail is refined (as in the two-phase scan).
    let tail = match tail_of(&index.gops) {
        Tail::Closable => Tail::Refined,
        tail => tail,
    };
    let settle = SettleRule {
        thresholds,
        vouched: index.keyframing.vouches(),
        hinted_to: index
            .gops
            .iter()
            .map(|g| g.hinted_to.map(|(t, _)| t))
            .collect(),
        in_order: true,
    };
    let key_times = index
        .packets
        .iter()
        .filter(|p| p.key)
        .map(|p| p.time)
        .collect();
    Verdict::Plan(Box::new(Planning {
        duration_hint: index_end(&index.packets, frame_ticks),
        total_frames: index.packets.len().max(1),
        gops: index.gops,
        keyframing: index.keyframing,
        tail,
        thresholds,
        settle,
        key_times,
        read_in: index.read_in,
        warnings: index.warnings,
    }))
}

/// Hands what the workers decode to `sink` in presentation order, batch by batch; `at` hears
/// of each stretch's start. False when the pass stopped before the end.
fn consume(
    shared: &Shared<'_>,
    receivers: Vec<Receiver<Item>>,
    sink: &ScoreSink,
    at: &mut dyn FnMut(Ticks),
) -> Result<bool, ClipError> {
    // Whether the last frame scored is the one right before the next keyframe.
    let mut adjacent = false;
    for j in 0..shared.keys.len() {
        if shared.cancel.is_cancelled() {
            return Err(ClipError::Cancelled);
        }
        let Some(items) = receivers.get(j / BATCH) else {
            return Ok(false);
        };
        let refined = match items.recv() {
            Ok(Item::Opens { key, refined }) => {
                at(key.time);
                if !sink.features(*key, adjacent) {
                    return Ok(false);
                }
                refined
            }
            Ok(Item::Decoded(Decoded::Failed(error))) => return Err(error),
            Ok(Item::Decoded(_)) | Err(_) => return stopped(&receivers),
        };
        adjacent = false;
        if !refined {
            continue;
        }
        loop {
            match items.recv() {
                Ok(Item::Decoded(Decoded::Frame(features))) => {
                    if !sink.features(*features, true) {
                        return Ok(false);
                    }
                }
                Ok(Item::Decoded(Decoded::Done { complete })) => {
                    adjacent = complete;
                    break;
                }
                Ok(Item::Decoded(Decoded::Failed(error))) => return Err(error),
                Ok(Item::Opens { .. }) | Err(_) => return stopped(&receivers),
            }
        }
    }
    Ok(true)
}

/// The pass stopped before the end: a worker's failure (handed over in whichever batch it
/// was on) if that is why, else false.
fn stopped(receivers: &[Receiver<Item>]) -> Result<bool, ClipError> {
    for items in receivers {
        for item in items.try_iter() {
            if let Item::Decoded(Decoded::Failed(error)) = item {
                return Err(error);
            }
        }
    }
    Ok(false)
}

/// One worker of the pass, with its decoders.
struct Worker<'s, 'a> {
    shared: &'s Shared<'a>,
    opener: StreamOpener,
    options: VideoDecodeOptions,
    /// Decoders not holding a keyframe that a stretch may need.
    spare: Vec<VideoDecoder>,
    /// The sender of the batch being worked on.
    out: Option<Sender<Item>>,
}

impl Worker<'_, '_> {
    /// Works through batches until none is left or the pass stops; returns the decoders'
    /// warnings. A failure is handed over in the batch's place and stops the pass.
    fn run(&mut self) -> Vec<String> {
        if let Err(error) = self.work() {
            if let Some(out) = self.out.take() {
                let _ = out.send(Item::Decoded(Decoded::Failed(error)));
            }
            self.shared.stop();
        }
        self.out = None;
        self.spare
            .iter()
            .flat_map(|d| d.warnings().iter().cloned())
            .collect()
    }

    fn work(&mut self) -> Result<(), ClipError> {
        let shared = self.shared;
        let n = shared.keys.len();
        // A batch claimed at the end of the one before, with the decoder holding its
        // first keyframe.
        let mut carried: Option<(usize, VideoDecoder)> = None;
        loop {
            let (batch, mut first) = match carried.take() {
                Some((batch, decoder)) => (batch, Some(decoder)),
                None => match shared.claim() {
                    Some(batch) => (batch, None),
                    None => return Ok(()),
                },
            };
            self.out = shared.sender(batch);
            if self.out.is_none() {
                // The pass stopped.
                return Ok(());
            }
            let (start, end) = (batch * BATCH, ((batch + 1) * BATCH).min(n));
            // The batch's keyframes first, each left in its decoder: the stretches after
            // them are refined on from there. (Meanwhile the packet index comes in.)
            let mut holding = Vec::with_capacity(end - start);
            for j in start..end {
                match first.take() {
                    Some(decoder) => holding.push(decoder),
                    None => holding.push(self.decode_key(j)?),
                }
            }
            // The keyframe closing the batch: the next batch's worker decodes it first of
            // all; unclaimed, that batch is this worker's next.
            let closing = if end >= n {
                None
            } else if let Some(published) = self.published(end) {
                Some(published)
            } else if shared.claim_exactly(batch + 1) {
                carried = Some((batch + 1, self.decode_key(end)?));
                self.published(end)
            } else {
                let Some(published) = shared.wait_for(|| self.published(end)) else {
                    return Ok(());
                };
                Some(published)
            };
            for (j, current) in (start..end).zip(holding) {
                let next = if j + 1 < end {
                    self.published(j + 1)
                } else {
                    closing.clone()
                };
                if !self.plan_and_refine(j, current, next)? {
                    return Ok(());
                }
            }
        }
    }

    /// Plans the stretch after keyframe `j` (closed by `next`, none for the tail) once the
    /// packet index is in, hands its keyframe over and refines it with `current` (the
    /// decoder that has just decoded that keyframe) if the plan says so. False when the
    /// pass stopped or nobody listens any more.
    fn plan_and_refine(
        &mut self,
        j: usize,
        mut current: VideoDecoder,
        next: Option<FrameFeatures>,
    ) -> Result<bool, ClipError> {
        let shared = self.shared;
        let Some(key) = self.published(j) else {
            return Ok(false);
        };
        let Some(planning) = shared.planning() else {
            return Ok(false);
        };
        let Some(gop) = planning.gops.get(j) else {
            return Ok(false);
        };
        let change = next.as_ref().map(|closing| closing.aligned_change(&key));
        let plan = plan_stretch(
            (&key, change.as_ref()),
            (planning.tail, None),
            gop,
            planning.keyframing,
            planning.thresholds,
        );
        // The stretch before ends at a keyframe the encoder placed early: this stretch is
        // decoded too, as the two-phase scan does when such a keyframe is no hard cut (it
        // may sit inside a fade or dissolve).
        let after_early_key = plan == Plan::Skip && self.closed_early_before(j, &key, planning)?;
        tracing::debug!(
            "stretch {j} at {:.2} s: {} frames, {plan:?}{}, packet hint {}, change {:?}",
            crate::time::secs_from_ticks(key.time),
            gop.frames,
            if after_early_key {
                " (after an early keyframe: refined)"
            } else {
                ""
            },
            gop.suspicious(),
            change
        );
        // A key cut is confirmed by decoding the whole stretch here (see above).
        let refined = plan != Plan::Skip || after_early_key;
        if refined && plan != Plan::KeyCut {
            // The two-phase scan's measure: the frames the plans refine, key cuts aside.
            let planned = shared
                .refined_frames
                .fetch_add(gop.likely_frames(), Ordering::SeqCst)
                + gop.likely_frames();
            if planned as f64 > FULL_PASS_SHARE * planning.total_frames as f64 {
                shared.too_much.store(true, Ordering::SeqCst);
                shared.stop();
                return Ok(false);
            }
        }
        let stretch = Stretch {
            from: key.time,
            until: next.as_ref().map(|k| k.time),
            settle_on: next.map(|closing| (key.clone(), closing)),
            settle_from: planning.settle.hinted_to.get(j).copied().flatten(),
        };
        let Some(out) = self.out.as_ref() else {
            return Ok(false);
        };
        let opens = Item::Opens {
            key: Box::new(key),
            refined,
        };
        if out.send(opens).is_err() {
            return Ok(false);
        }
        if refined {
            if let Some(until) = stretch.until {
                current.stop_feeding_at(until);
            }
            let listening = decode_stretch_on(
                &mut current,
                (&stretch, &planning.settle),
                &|decoded| out.send(Item::Decoded(decoded)).is_ok(),
                shared.cancel,
            )?;
            if !listening {
                return Ok(false);
            }
        }
        self.spare.push(current);
        Ok(true)
    }

    /// Whether the stretch before keyframe `j` (at `key`) is one the encoder closed early
    /// (planned as a key cut). Its opening keyframe is decoded here if nobody has yet (the
    /// last batch goes first: waiting for it could take the whole scan).
    fn closed_early_before(
        &mut self,
        j: usize,
        key: &FrameFeatures,
        planning: &Planning,
    ) -> Result<bool, ClipError> {
        let Some(before) = j.checked_sub(1) else {
            return Ok(false);
        };
        let Some(gop) = planning.gops.get(before) else {
            return Ok(false);
        };
        if !planning.keyframing.closed_early(gop) {
            return Ok(false);
        }
        let opening = match self.published(before) {
            Some(opening) => opening,
            None => {
                let decoder = self.decode_key(before)?;
                self.spare.push(decoder);
                let Some(opening) = self.published(before) else {
                    return Ok(false);
                };
                opening
            }
        };
        let change = key.aligned_change(&opening);
        Ok(plan_stretch(
            (&opening, Some(&change)),
            (planning.tail, None),
            gop,
            planning.keyframing,
            planning.thresholds,
        ) == Plan::KeyCut)
    }

    /// Keyframe `j`'s features, if decoded.
    fn published(&self, j: usize) -> Option<FrameFeatures> {
        self.shared.keys.get(j)?.get().cloned()
    }

    /// Decodes keyframe `j` and makes it known; returns the decoder, which has handed out
    /// the keyframe and nothing after it.
    fn decode_key(&mut self, j: usize) -> Result<VideoDecoder, ClipError> {
        let mut decoder = match self.spare.pop() {
            Some(decoder) => decoder,
            None => self.opener.open(self.options.clone())?,
        };
        let seek_to = self.shared.seek_to.get(j).copied().unwrap_or(0);
        decoder.seek_to_keyframe_before(seek_to)?;
        let frame = decoder.next_frame()?;
        let features = frame.as_ref().and_then(FrameFeatures::from_frame);
        let Some(features) = features else {
            self.spare.push(decoder);
            return Err(ClipError::NoFrames {
                path: self.opener.path().to_path_buf(),
            });
        };
        if let Some(slot) = self.shared.keys.get(j) {
            let _ = slot.set(features);
        }
        self.shared.notify();
        Ok(decoder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(batches: usize, cancel: &CancelToken) -> Shared<'_> {
        Shared {
            seek_to: Vec::new(),
            keys: Vec::new(),
            next_batch: AtomicUsize::new(0),
            batches,
            verdict: OnceLock::new(),
            stopped: AtomicBool::new(false),
            wake: (Mutex::new(()), Condvar::new()),
            senders: Mutex::new(Vec::new()),
            cancel,
            refined_frames: AtomicUsize::new(0),
            too_much: AtomicBool::new(false),
        }
    }

    #[test]
    fn the_last_batch_goes_first_then_the_rest_in_order() {
        let cancel = CancelToken::new();
        let shared = shared(4, &cancel);
        let order: Vec<usize> = std::iter::from_fn(|| shared.claim()).collect();
        assert_eq!(order, [3, 0, 1, 2]);
        // One batch only: it is the last.
        let single = self::shared(1, &cancel);
        assert_eq!(single.claim(), Some(0));
        assert_eq!(single.claim(), None);
    }

    #[test]
    fn a_batch_is_claimed_exactly_only_when_next_in_turn() {
        let cancel = CancelToken::new();
        let shared = shared(4, &cancel);
        assert_eq!(shared.claim(), Some(3));
        assert_eq!(shared.claim(), Some(0));
        // Batch 1 is next: claimed at the end of batch 0; batch 2 is not next yet.
        assert!(!shared.claim_exactly(2));
        assert!(shared.claim_exactly(1));
        assert!(!shared.claim_exactly(1));
        // The last batch went first: never claimed again.
        assert!(shared.claim_exactly(2));
        assert!(!shared.claim_exactly(3));
        assert_eq!(shared.claim(), None);
    }

    #[test]
    fn waiting_ends_when_the_pass_stops() {
        let cancel = CancelToken::new();
        let shared = shared(1, &cancel);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(30));
                shared.stop();
            });
            assert_eq!(shared.wait_for(|| None::<u8>), None);
        });
        assert!(shared.stopping());
    }
}
