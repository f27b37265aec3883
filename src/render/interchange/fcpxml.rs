//! Final Cut Pro XML 1.10 (also read by DaVinci Resolve and Premiere through converters).
//!
//! The cuts sit on the primary storyline (`spine`) with gaps where nothing plays, dissolves
//! are `<transition>`s overlapping the cut, and the song is a connected audio clip on lane
//! -1 anchored to the first spine item. Every timeline time is an exact multiple of the
//! sequence frame duration, written as a rational number of seconds.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use super::InterchangeTimeline;
use super::cuts;
use super::escape::{file_url, xml_attr};
use super::timecode::TimecodeFormat;
use crate::time::{FrameRate, TICKS_PER_SECOND, Ticks};

/// Final Cut Pro's built-in Cross Dissolve.
const CROSS_DISSOLVE_UID: &str = "FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265";

/// Renders `timeline` as an FCPXML 1.10 document.
pub fn write_fcpxml(timeline: &InterchangeTimeline) -> String {
    let grid = cuts::snap(timeline);
    let fps = timeline.fps;
    let mut res = Resources::default();
    let seq_format = res.format(fps, timeline.width, timeline.height);
    let clip_assets: Vec<String> = timeline
        .clips
        .iter()
        .map(|clip| {
            let format = res.format(clip.fps, clip.width, clip.height);
            let duration = frames_time(clip.fps.frame_at(clip.duration), clip.fps);
            res.asset(
                &clip.path,
                &clip.name,
                &duration,
                Some(&format),
                clip.has_audio,
            )
        })
        .collect();
    let dissolve = grid
        .cuts
        .iter()
        .any(|c| c.fade_len() > 0)
        .then(|| res.effect("Cross Dissolve", CROSS_DISSOLVE_UID));
    let music = timeline
        .music
        .as_ref()
        .filter(|_| grid.duration > 0)
        .map(|m| {
            (
                m,
                res.asset(&m.path, &m.name, &ticks_time(m.duration), None, true),
            )
        });

    // The spine: (element, its `start`) in record order; the song anchors to the first one.
    let mut spine: Vec<String> = Vec::new();
    let mut first_start: Option<String> = None;
    let mut cursor = 0i64;
    for cut in &grid.cuts {
        let Some(clip) = timeline.clips.get(cut.clip) else {
            continue;
        };
        let asset = clip_assets.get(cut.clip).map_or("", String::as_str);
        if cut.rec_in > cursor {
            spine.push(gap(cursor, cut.rec_in - cursor, fps));
            first_start.get_or_insert_with(|| "0s".to_string());
        }
        if let Some(effect) = &dissolve
            && cut.fade_len() > 0
        {
            spine.push(format!(
                "<transition name=\"Cross Dissolve\" offset=\"{}\" duration=\"{}\">\
                 <filter-video ref=\"{effect}\" name=\"Cross Dissolve\"/></transition>",
                frames_time(cut.rec_in - cut.fade_head, fps),
                frames_time(cut.fade_len(), fps),
            ));
        }
        let start = frames_time(cut.src_in, fps);
        first_start.get_or_insert_with(|| start.clone());
        // The clip's own sound plays with its picture when it is part of the edit.
        let enable = if timeline.clip_sound && clip.has_audio {
            "all"
        } else {
            "video"
        };
        spine.push(format!(
            "<asset-clip ref=\"{asset}\" offset=\"{}\" name=\"{}\" start=\"{start}\" duration=\"{}\" srcEnable=\"{enable}\"/>",
            frames_time(cut.rec_in, fps),
            xml_attr(&clip.name),
            frames_time(cut.len(), fps),
        ));
        cursor = cut.rec_out;
    }
    if grid.duration > cursor {
        spine.push(gap(cursor, grid.duration - cursor, fps));
        first_start.get_or_insert_with(|| "0s".to_string());
    }
    if let (Some((song, asset)), Some(first), Some(anchor)) =
        (music, first_start, spine.first_mut())
    {
        let connected = format!(
            "<asset-clip ref=\"{asset}\" lane=\"-1\" offset=\"{first}\" name=\"{}\" start=\"{}\" duration=\"{}\" audioRole=\"music\"/>",
            xml_attr(&song.name),
            frames_time(fps.frame_at(timeline.music_start), fps),
            frames_time(grid.duration, fps),
        );
        // Turn the self-closing first item into a parent of the connected clip.
        if let Some(head) = anchor.strip_suffix("/>") {
            let tag = if anchor.starts_with("<gap") {
                "gap"
            } else {
                "asset-clip"
            };
            *anchor = format!("{head}>{connected}</{tag}>");
        }
    }

    let tc = TimecodeFormat::for_rate(fps);
    let tc_format = if tc.drop_frame { "DF" } else { "NDF" };
    let name = xml_attr(&timeline.name);
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE fcpxml>\n");
    out.push_str("<fcpxml version=\"1.10\">\n  <resources>\n");
    for line in &res.lines {
        let _ = writeln!(out, "    {line}");
    }
    out.push_str("  </resources>\n  <library>\n    <event name=\"Beatcut\">\n");
    let _ = writeln!(out, "      <project name=\"{name}\">");
    let _ = writeln!(
        out,
        "        <sequence format=\"{seq_format}\" duration=\"{}\" tcStart=\"0s\" tcFormat=\"{tc_format}\" audioLayout=\"stereo\" audioRate=\"48k\">",
        frames_time(grid.duration, fps)
    );
    out.push_str("          <spine>\n");
    for item in &spine {
        let _ = writeln!(out, "            {item}");
    }
    out.push_str("          </spine>\n        </sequence>\n      </project>\n    </event>\n  </library>\n</fcpxml>\n");
    out
}

fn gap(from: i64, frames: i64, fps: FrameRate) -> String {
    format!(
        "<gap name=\"Gap\" offset=\"{}\" start=\"0s\" duration=\"{}\"/>",
        frames_time(from, fps),
        frames_time(frames, fps)
    )
}

/// `frames` frames at `fps` as FCPXML time: a multiple of the frame duration, kept over
/// the rate's numerator ("3003/30000s") unless it is whole seconds ("5s").
fn frames_time(frames: i64, fps: FrameRate) -> String {
    if frames == 0 || fps.num <= 0 || fps.den <= 0 {
        return "0s".to_string();
    }
    let num = frames * i64::from(fps.den);
    let den = i64::from(fps.num);
    if num % den == 0 {
        format!("{}s", num / den)
    } else {
        format!("{num}/{den}s")
    }
}

/// `ticks` as FCPXML time, reduced.
fn ticks_time(ticks: Ticks) -> String {
    let ticks = ticks.max(0);
    let g = gcd(ticks, TICKS_PER_SECOND).max(1);
    let (num, den) = (ticks / g, TICKS_PER_SECOND / g);
    if ticks == 0 {
        "0s".to_string()
    } else if den == 1 {
        format!("{num}s")
    } else {
        format!("{num}/{den}s")
    }
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

/// The `<resources>` list, with ids handed out in order of first use.
#[derive(Default)]
struct Resources {
    lines: Vec<String>,
    formats: HashMap<(i32, i32, u32, u32), String>,
    assets: HashMap<String, String>,
}

impl Resources {
    fn next_id(&self) -> String {
        format!("r{}", self.lines.len() + 1)
    }

    fn format(&mut self, fps: FrameRate, width: u32, height: u32) -> String {
        let key = (fps.num, fps.den, width, height);
        if let Some(id) = self.formats.get(&key) {
            return id.clone();
        }
        let id = self.next_id();
        let name = format_name(fps, width, height)
            .map(|n| format!(" name=\"{n}\""))
            .unwrap_or_default();
        self.lines.push(format!(
            "<format id=\"{id}\"{name} frameDuration=\"{}/{}s\" width=\"{width}\" height=\"{height}\"/>",
            fps.den, fps.num
        ));
        self.formats.insert(key, id.clone());
        id
    }

    fn effect(&mut self, name: &str, uid: &str) -> String {
        let id = self.next_id();
        self.lines.push(format!(
            "<effect id=\"{id}\" name=\"{name}\" uid=\"{uid}\"/>"
        ));
        id
    }

    /// One asset per media file; a file used by two clips is one asset.
    fn asset(
        &mut self,
        path: &Path,
        name: &str,
        duration: &str,
        format: Option<&str>,
        has_audio: bool,
    ) -> String {
        let url = file_url(path);
        if let Some(id) = self.assets.get(&url) {
            return id.clone();
        }
        let id = self.next_id();
        let video = match format {
            Some(f) => format!(" hasVideo=\"1\" format=\"{f}\" videoSources=\"1\""),
            None => " hasVideo=\"0\"".to_string(),
        };
        let audio = if has_audio {
            " hasAudio=\"1\" audioSources=\"1\""
        } else {
            " hasAudio=\"0\""
        };
        self.lines.push(format!(
            "<asset id=\"{id}\" name=\"{}\" start=\"0s\" duration=\"{duration}\"{video}{audio}>\
             <media-rep kind=\"original-media\" src=\"{}\"/></asset>",
            xml_attr(name),
            xml_attr(&url),
        ));
        self.assets.insert(url, id.clone());
        id
    }
}

/// Final Cut's name for the common HD/UHD progressive formats; others stay unnamed (custom).
fn format_name(fps: FrameRate, width: u32, height: u32) -> Option<String> {
    let size = match (width, height) {
        (1280, 720) => "720p",
        (1920, 1080) => "1080p",
        (3840, 2160) => "3840x2160p",
        _ => return None,
    };
    let rate = match (fps.num, fps.den) {
        (24000, 1001) => "2398",
        (30000, 1001) => "2997",
        (60000, 1001) => "5994",
        (n @ (24 | 25 | 30 | 50 | 60), 1) => return Some(format!("FFVideoFormat{size}{n}")),
        _ => return None,
    };
    Some(format!("FFVideoFormat{size}{rate}"))
}
