//! OpenTimelineIO JSON (`.otio`), read by DaVinci Resolve and the OTIO tool chain.
//!
//! A `Timeline.1` whose `Stack.1` holds a video `Track.1` (clips, gaps and
//! `SMPTE_Dissolve` transitions) and, with a song, an audio track. Clips are written as
//! `Clip.1` with one `media_reference`, which every OTIO release reads. Every time is a
//! whole frame count at the timeline rate; the timeline starts at 01:00:00:00 like the EDL.

use serde_json::{Value, json};

use super::InterchangeTimeline;
use super::cuts;
use super::escape::file_url;
use super::timecode::TimecodeFormat;
use crate::time::FrameRate;

/// Renders `timeline` as OpenTimelineIO JSON (pretty-printed, keys sorted).
pub fn write_otio(timeline: &InterchangeTimeline) -> String {
    let grid = cuts::snap(timeline);
    let rate = rate_of(timeline.fps);
    let tc = TimecodeFormat::for_rate(timeline.fps);

    let mut video: Vec<Value> = Vec::new();
    // The clips' own sound, cut with the pictures (no transitions), when it is in the edit.
    let mut sound: Vec<Value> = Vec::new();
    let mut sound_cursor = 0i64;
    let mut cursor = 0i64;
    for cut in &grid.cuts {
        let Some(clip) = timeline.clips.get(cut.clip) else {
            continue;
        };
        if cut.rec_in > cursor {
            video.push(gap(cut.rec_in - cursor, rate));
        }
        if cut.fade_len() > 0 {
            video.push(json!({
                "OTIO_SCHEMA": "Transition.1",
                "metadata": {},
                "name": "Cross Dissolve",
                "transition_type": "SMPTE_Dissolve",
                "in_offset": time(cut.fade_head, rate),
                "out_offset": time(cut.fade_tail, rate),
            }));
        }
        let available = timeline.fps.frame_at(clip.duration);
        let shot = clip_json(
            &clip.name,
            &file_url(&clip.path),
            cut.src_in,
            cut.len(),
            available,
            rate,
        );
        if timeline.clip_sound && clip.has_audio {
            if cut.rec_in > sound_cursor {
                sound.push(gap(cut.rec_in - sound_cursor, rate));
            }
            sound.push(shot.clone());
            sound_cursor = cut.rec_out;
        }
        video.push(shot);
        cursor = cut.rec_out;
    }
    if grid.duration > cursor {
        video.push(gap(grid.duration - cursor, rate));
    }

    let mut tracks = vec![track("Video 1", "Video", video)];
    if !sound.is_empty() {
        tracks.push(track("Clip sound", "Audio", sound));
    }
    if let Some(music) = timeline.music.as_ref().filter(|_| grid.duration > 0) {
        let available = timeline.fps.frame_at(music.duration);
        let song = clip_json(
            &music.name,
            &file_url(&music.path),
            timeline.fps.frame_at(timeline.music_start),
            grid.duration,
            available,
            rate,
        );
        tracks.push(track("Music", "Audio", vec![song]));
    }

    let doc = json!({
        "OTIO_SCHEMA": "Timeline.1",
        "metadata": {},
        "name": timeline.name,
        "global_start_time": time(tc.frame_of(1, 0, 0, 0), rate),
        "tracks": {
            "OTIO_SCHEMA": "Stack.1",
            "metadata": {},
            "name": "tracks",
            "source_range": null,
            "effects": [],
            "markers": [],
            "enabled": true,
            "children": tracks,
        },
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// The rate as OTIO stores it: frames per second as a double (30000/1001 = 29.97002997…).
fn rate_of(fps: FrameRate) -> f64 {
    if fps.den == 0 { 0.0 } else { fps.as_f64() }
}

fn time(frames: i64, rate: f64) -> Value {
    json!({ "OTIO_SCHEMA": "RationalTime.1", "rate": rate, "value": frames as f64 })
}

fn range(start: i64, frames: i64, rate: f64) -> Value {
    json!({
        "OTIO_SCHEMA": "TimeRange.1",
        "start_time": time(start, rate),
        "duration": time(frames, rate),
    })
}

fn gap(frames: i64, rate: f64) -> Value {
    json!({
        "OTIO_SCHEMA": "Gap.1",
        "metadata": {},
        "name": "",
        "source_range": range(0, frames, rate),
        "effects": [],
        "markers": [],
        "enabled": true,
    })
}

fn clip_json(name: &str, url: &str, start: i64, frames: i64, available: i64, rate: f64) -> Value {
    let available_range = if available > 0 {
        range(0, available, rate)
    } else {
        Value::Null
    };
    json!({
        "OTIO_SCHEMA": "Clip.1",
        "metadata": {},
        "name": name,
        "source_range": range(start, frames, rate),
        "effects": [],
        "markers": [],
        "enabled": true,
        "media_reference": {
            "OTIO_SCHEMA": "ExternalReference.1",
            "metadata": {},
            "name": "",
            "available_range": available_range,
            "target_url": url,
        },
    })
}

fn track(name: &str, kind: &str, children: Vec<Value>) -> Value {
    json!({
        "OTIO_SCHEMA": "Track.1",
        "metadata": {},
        "name": name,
        "kind": kind,
        "source_range": null,
        "effects": [],
        "markers": [],
        "enabled": true,
        "children": children,
    })
}
