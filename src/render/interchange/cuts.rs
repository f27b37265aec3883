//! The timeline snapped to its frame grid: the one reading of the events that all three
//! writers share, so an EDL, an FCPXML and an OTIO file of one montage always agree.

use super::InterchangeTimeline;

/// One event on the timeline's frame grid. Every field counts frames at the timeline rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cut {
    /// Index into `InterchangeTimeline::clips` (checked to be in range).
    pub clip: usize,
    /// Source frame shown at `rec_in`, counted from the start of the clip.
    pub src_in: i64,
    /// First record frame (inclusive).
    pub rec_in: i64,
    /// End record frame (exclusive); always greater than `rec_in`.
    pub rec_out: i64,
    /// Frames of the dissolve into this cut that lie before `rec_in` (drawn from the
    /// incoming clip's media before `src_in`).
    pub fade_head: i64,
    /// Frames of the dissolve into this cut that lie after `rec_in` (drawn from the
    /// outgoing clip's media after its out point).
    pub fade_tail: i64,
}

impl Cut {
    /// Length on the record timeline in frames.
    pub fn len(&self) -> i64 {
        self.rec_out - self.rec_in
    }

    /// Frames in the dissolve into this cut (0 for a hard cut).
    pub fn fade_len(&self) -> i64 {
        self.fade_head + self.fade_tail
    }

    /// Source frame shown at record frame `rec`.
    pub fn src_at(&self, rec: i64) -> i64 {
        self.src_in + (rec - self.rec_in)
    }
}

/// The whole timeline on its frame grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grid {
    /// Cuts in record order, never overlapping (gaps allowed).
    pub cuts: Vec<Cut>,
    /// Timeline length in frames: the music's length, or the last cut's end if later.
    pub duration: i64,
}

/// Snaps `timeline` to its frame grid.
///
/// Events whose clip index is out of range or that shrink to nothing are dropped with a
/// warning; an event starting before the previous one ends is trimmed at its head. A
/// crossfade is centred on the cut as the renderer draws it, moved off-centre or shortened
/// where a source has too little media beyond the edit, and never overlaps another one.
pub(crate) fn snap(timeline: &InterchangeTimeline) -> Grid {
    let fps = timeline.fps;
    let mut events: Vec<(usize, &super::InterchangeEvent)> =
        timeline.events.iter().enumerate().collect();
    events.sort_by_key(|(i, e)| (e.start, *i));

    let mut cuts: Vec<Cut> = Vec::with_capacity(events.len());
    for (index, event) in events {
        let Some(clip) = timeline.clips.get(event.clip) else {
            tracing::warn!(
                event = index,
                clip = event.clip,
                "interchange: event refers to no clip; left out"
            );
            continue;
        };
        let start = fps.nearest_frame(event.start).max(0);
        let prev_out = cuts.last().map_or(0, |c| c.rec_out);
        let rec_in = start.max(prev_out);
        let rec_out = fps.nearest_frame(event.end);
        if rec_out <= rec_in {
            tracing::warn!(
                event = index,
                "interchange: event is shorter than a frame; left out"
            );
            continue;
        }
        let src_in = (fps.nearest_frame(event.src_in) + (rec_in - start)).max(0);
        let mut cut = Cut {
            clip: event.clip,
            src_in,
            rec_in,
            rec_out,
            fade_head: 0,
            fade_tail: 0,
        };
        if let Some(prev) = cuts.last()
            && event.crossfade_frames > 0
            && prev.rec_out == cut.rec_in
        {
            let wanted = i64::from(event.crossfade_frames);
            // Media before the incoming in point, and room in the outgoing cut left over
            // after its own incoming dissolve.
            let head_max = cut.src_in.min(prev.len() - prev.fade_tail).max(0);
            let prev_clip_frames = timeline
                .clips
                .get(prev.clip)
                .map_or(0, |c| fps.frame_at(c.duration));
            let tail_media = if prev_clip_frames > 0 {
                prev_clip_frames - prev.src_at(prev.rec_out)
            } else {
                i64::MAX
            };
            let tail_max = tail_media.min(cut.len()).max(0);
            let mut head = (wanted / 2).min(head_max);
            let tail = (wanted - head).min(tail_max);
            head = (wanted - tail).min(head_max);
            cut.fade_head = head;
            cut.fade_tail = tail;
            if head + tail < wanted {
                tracing::warn!(
                    event = index,
                    clip = %clip.name,
                    wanted,
                    kept = head + tail,
                    "interchange: crossfade shortened for lack of handles"
                );
            }
        }
        cuts.push(cut);
    }
    let last_out = cuts.last().map_or(0, |c| c.rec_out);
    let duration = fps.nearest_frame(timeline.duration).max(last_out);
    Grid { cuts, duration }
}
