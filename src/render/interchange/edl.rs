//! CMX3600 edit decision list: the lowest common denominator every editor imports.
//!
//! Video events go on `V`, the song on `AA` (stereo A1+A2) as one event. Record timecode
//! starts at 01:00:00:00, source timecode counts from 00:00:00:00 at the timeline rate.
//! A dissolve is the CMX pair: a zero-length cut of the outgoing clip, then the incoming
//! clip with `D nnn`, starting where the dissolve starts.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use super::InterchangeTimeline;
use super::cuts::{self, Cut};
use super::escape::{edl_comment, reel_name};
use super::timecode::TimecodeFormat;

/// Renders `timeline` as a CMX3600 EDL (LF line endings).
pub fn write_edl(timeline: &InterchangeTimeline) -> String {
    let grid = cuts::snap(timeline);
    let tc = TimecodeFormat::for_rate(timeline.fps);
    let rec_start = tc.frame_of(1, 0, 0, 0);
    let reels = Reels::new(timeline);

    let mut out = String::new();
    let title = edl_comment(&timeline.name);
    let title: String = title.chars().take(70).collect();
    let _ = writeln!(out, "TITLE: {title}");
    let fcm = if tc.drop_frame {
        "DROP FRAME"
    } else {
        "NON-DROP FRAME"
    };
    let _ = writeln!(out, "FCM: {fcm}");

    // Picture only, or picture and the clip's own sound ("B") when that is in the edit.
    let channel = |clip: usize| {
        let sound = timeline.clip_sound && timeline.clips.get(clip).is_some_and(|c| c.has_audio);
        if sound { "B" } else { "V" }
    };
    let mut number = 0usize;
    for (i, cut) in grid.cuts.iter().enumerate() {
        let Some(clip) = timeline.clips.get(cut.clip) else {
            continue;
        };
        let next_head = grid
            .cuts
            .get(i + 1)
            .filter(|n| n.fade_len() > 0)
            .map_or(0, |n| n.fade_head);
        let rec_in = cut.rec_in - cut.fade_head;
        let rec_out = cut.rec_out - next_head;
        let times = [
            cut.src_at(rec_in),
            cut.src_at(rec_out),
            rec_start + rec_in,
            rec_start + rec_out,
        ]
        .map(|f| tc.format(f));
        number += 1;
        out.push('\n');
        let prev = i.checked_sub(1).and_then(|p| grid.cuts.get(p));
        match prev {
            Some(prev) if cut.fade_len() > 0 => {
                let prev_name = timeline
                    .clips
                    .get(prev.clip)
                    .map_or("", |c| c.name.as_str());
                let src = tc.format(prev.src_at(rec_in));
                let rec = tc.format(rec_start + rec_in);
                let line = Line {
                    number,
                    reel: reels.video(prev),
                    channel: channel(prev.clip),
                    kind: "C",
                    fade: None,
                    times: [src.clone(), src, rec.clone(), rec],
                };
                line.write(&mut out);
                let line = Line {
                    number,
                    reel: reels.video(cut),
                    channel: channel(cut.clip),
                    kind: "D",
                    fade: Some(cut.fade_len()),
                    times,
                };
                line.write(&mut out);
                comment(&mut out, "FROM CLIP NAME", prev_name);
                comment(&mut out, "TO CLIP NAME", &clip.name);
            }
            _ => {
                let line = Line {
                    number,
                    reel: reels.video(cut),
                    channel: channel(cut.clip),
                    kind: "C",
                    fade: None,
                    times,
                };
                line.write(&mut out);
                comment(&mut out, "FROM CLIP NAME", &clip.name);
            }
        }
        comment(&mut out, "SOURCE FILE", &clip.path.display().to_string());
    }

    if let Some(music) = &timeline.music
        && grid.duration > 0
    {
        let music_in = timeline.fps.frame_at(timeline.music_start);
        number += 1;
        out.push('\n');
        let line = Line {
            number,
            reel: &reels.music,
            channel: "AA",
            kind: "C",
            fade: None,
            times: [
                tc.format(music_in),
                tc.format(music_in + grid.duration),
                tc.format(rec_start),
                tc.format(rec_start + grid.duration),
            ],
        };
        line.write(&mut out);
        comment(&mut out, "FROM CLIP NAME", &music.name);
        comment(&mut out, "SOURCE FILE", &music.path.display().to_string());
    }
    out
}

/// One CMX3600 event line, in its fixed columns.
struct Line<'a> {
    number: usize,
    reel: &'a str,
    channel: &'a str,
    kind: &'a str,
    fade: Option<i64>,
    /// Source in, source out, record in, record out.
    times: [String; 4],
}

impl Line<'_> {
    fn write(&self, out: &mut String) {
        let fade = self.fade.map(|f| format!("{f:03}")).unwrap_or_default();
        let [src_in, src_out, rec_in, rec_out] = &self.times;
        let _ = writeln!(
            out,
            "{:03}  {:<8} {:<5} {:<4} {fade:>3} {src_in} {src_out} {rec_in} {rec_out}",
            self.number, self.reel, self.channel, self.kind
        );
    }
}

fn comment(out: &mut String, key: &str, text: &str) {
    let _ = writeln!(out, "* {key}: {}", edl_comment(text));
}

/// Reel names: one per media file, at most 8 characters, unique within the list.
struct Reels {
    by_clip: Vec<String>,
    music: String,
}

impl Reels {
    fn new(timeline: &InterchangeTimeline) -> Self {
        let mut by_path: HashMap<&Path, String> = HashMap::new();
        let mut taken: Vec<String> = Vec::new();
        let mut by_clip = Vec::with_capacity(timeline.clips.len());
        for clip in &timeline.clips {
            let reel = by_path
                .entry(clip.path.as_path())
                .or_insert_with(|| fresh_reel(&clip.path, &clip.name, &mut taken))
                .clone();
            by_clip.push(reel);
        }
        let music = match &timeline.music {
            Some(m) => by_path
                .get(m.path.as_path())
                .cloned()
                .unwrap_or_else(|| fresh_reel(&m.path, &m.name, &mut taken)),
            None => "AX".to_string(),
        };
        Self { by_clip, music }
    }

    fn video(&self, cut: &Cut) -> &str {
        self.by_clip.get(cut.clip).map_or("AX", String::as_str)
    }
}

/// A reel name for the media at `path` not yet in `taken` (digits replace its tail on a clash).
fn fresh_reel(path: &Path, name: &str, taken: &mut Vec<String>) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| name.to_string());
    let base = reel_name(&stem);
    let mut reel = base.clone();
    let mut n = 1usize;
    while taken.contains(&reel) {
        n += 1;
        let suffix = n.to_string();
        let keep = 8usize.saturating_sub(suffix.len()).min(base.len());
        reel = format!("{}{suffix}", base.get(..keep).unwrap_or(""));
    }
    taken.push(reel.clone());
    reel
}
