//! Interchange writers checked against the real readers: OpenTimelineIO (with its CMX3600
//! and FCPXML adapter plug-ins) in a cached venv under `target/py-otio`, and Python's
//! `xml.etree`. `make deps` makes the venv; without it a check that needs it fails under CI
//! and elsewhere is listed as not run at the end of `make test`.

// In a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use beatcut::render::interchange::{
    InterchangeClip, InterchangeError, InterchangeEvent, InterchangeTimeline, write_edl,
    write_fcpxml, write_otio, write_timeline_file,
};
use beatcut::time::{FrameRate, Ticks};

const NTSC: FrameRate = FrameRate {
    num: 30000,
    den: 1001,
};

fn clip(path: &str, fps: FrameRate, secs: i64) -> InterchangeClip {
    InterchangeClip {
        path: PathBuf::from(path),
        name: Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        duration: secs * beatcut::time::TICKS_PER_SECOND,
        fps,
        width: 1920,
        height: 1080,
        has_audio: true,
    }
}

/// (clip, source in, record in, record out, crossfade) in timeline frames.
type Ev = (usize, i64, i64, i64, u32);

fn build(fps: FrameRate, events: &[Ev], duration_frames: i64) -> InterchangeTimeline {
    let f = |i: i64| -> Ticks { fps.ticks_of_frame(i) };
    InterchangeTimeline {
        name: "Beach & Song".to_string(),
        fps,
        width: 1920,
        height: 1080,
        duration: f(duration_frames),
        clips: vec![
            clip("/media/trip/beach.mov", FrameRate::whole(30), 120),
            clip("/media/trip/city night.mp4", FrameRate::whole(24), 120),
            clip("/media/trip/été #3.mov", NTSC, 120),
        ],
        events: events
            .iter()
            .map(|&(clip, src, start, end, xf)| InterchangeEvent {
                clip,
                src_in: f(src),
                src_out: f(src + end - start),
                start: f(start),
                end: f(end),
                crossfade_frames: xf,
            })
            .collect(),
        music_start: 0,
        clip_sound: false,
        music: Some(InterchangeClip {
            width: 0,
            height: 0,
            ..clip("/media/music/song.wav", fps, 180)
        }),
    }
}

/// Four events on three clips, a 12-frame crossfade into the second, 300 frames long.
const EVENTS: &[Ev] = &[
    (0, 30, 0, 60, 0),
    (1, 48, 60, 150, 12),
    (2, 0, 150, 200, 0),
    (0, 150, 200, 300, 0),
];

fn standard(fps: FrameRate) -> InterchangeTimeline {
    build(fps, EVENTS, 300)
}

fn event_lines(edl: &str) -> Vec<&str> {
    edl.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

#[test]
fn edl_at_30_fps_has_exact_timecodes() {
    let edl = write_edl(&standard(FrameRate::whole(30)));
    println!("{edl}");
    assert!(edl.starts_with("TITLE: Beach & Song\nFCM: NON-DROP FRAME\n"));
    assert_eq!(
        event_lines(&edl),
        [
            "001  BEACH    V     C        00:00:01:00 00:00:02:24 01:00:00:00 01:00:01:24",
            "002  BEACH    V     C        00:00:02:24 00:00:02:24 01:00:01:24 01:00:01:24",
            "002  CITY_NIG V     D    012 00:00:01:12 00:00:04:18 01:00:01:24 01:00:05:00",
            "003  T_3      V     C        00:00:00:00 00:00:01:20 01:00:05:00 01:00:06:20",
            "004  BEACH    V     C        00:00:05:00 00:00:08:10 01:00:06:20 01:00:10:00",
            "005  SONG     AA    C        00:00:00:00 00:00:10:00 01:00:00:00 01:00:10:00",
        ]
    );
    assert!(edl.contains("* FROM CLIP NAME: beach.mov\n* TO CLIP NAME: city night.mp4\n"));
    assert!(edl.contains("* SOURCE FILE: /media/trip/été #3.mov\n"));
    assert!(edl.contains("* FROM CLIP NAME: song.wav\n* SOURCE FILE: /media/music/song.wav\n"));
}

#[test]
fn edl_at_29_97_uses_drop_frame() {
    // The last event crosses the first minute, where drop-frame skips labels ;00 and ;01.
    let events: &[Ev] = &[(0, 0, 0, 1000, 0), (1, 30, 1000, 1800, 0)];
    let edl = write_edl(&build(NTSC, events, 1800));
    println!("{edl}");
    assert!(edl.contains("FCM: DROP FRAME\n"));
    assert_eq!(
        event_lines(&edl),
        [
            "001  BEACH    V     C        00:00:00;00 00:00:33;10 01:00:00;00 01:00:33;10",
            "002  CITY_NIG V     C        00:00:01;00 00:00:27;20 01:00:33;10 01:01:00;02",
            "003  SONG     AA    C        00:00:00;00 00:01:00;02 01:00:00;00 01:01:00;02",
        ]
    );
}

#[test]
fn edl_at_24_fps_counts_24_frames_a_second() {
    let edl = write_edl(&standard(FrameRate::whole(24)));
    assert!(edl.contains("FCM: NON-DROP FRAME\n"));
    let lines = event_lines(&edl);
    assert_eq!(
        lines[0],
        "001  BEACH    V     C        00:00:01:06 00:00:03:12 01:00:00:00 01:00:02:06"
    );
    assert_eq!(
        lines[2],
        "002  CITY_NIG V     D    012 00:00:01:18 00:00:05:18 01:00:02:06 01:00:06:06"
    );
    assert_eq!(
        lines.last().copied(),
        Some("005  SONG     AA    C        00:00:00:00 00:00:12:12 01:00:00:00 01:00:12:12")
    );
}

#[test]
fn crossfade_without_handles_moves_off_centre() {
    // The incoming clip starts 2 frames into its media: 2 frames before the cut, 10 after.
    let events: &[Ev] = &[(0, 30, 0, 60, 0), (1, 2, 60, 150, 12)];
    let edl = write_edl(&build(FrameRate::whole(30), events, 150));
    let lines = event_lines(&edl);
    assert_eq!(
        lines[2],
        "002  CITY_NIG V     D    012 00:00:00:00 00:00:03:02 01:00:01:28 01:00:05:00"
    );
    let otio: serde_json::Value =
        serde_json::from_str(&write_otio(&build(FrameRate::whole(30), events, 150))).unwrap();
    let transition = &otio["tracks"]["children"][0]["children"][1];
    assert_eq!(transition["in_offset"]["value"], 2.0);
    assert_eq!(transition["out_offset"]["value"], 10.0);
}

/// Exporting the same edit again gives the same bytes (timelines can be diffed and kept in
/// version control): each write builds the edit and the writers' maps afresh on its own thread,
/// with new random hash keys, so output that followed a map's order would differ.
#[test]
fn output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["edl", "fcpxml", "otio"] {
        let written: Vec<Vec<u8>> = (0..8)
            .map(|k| {
                let path = dir.path().join(format!("montage-{k}.{ext}"));
                let target = path.clone();
                std::thread::spawn(move || write_timeline_file(&standard(NTSC), &target).unwrap())
                    .join()
                    .unwrap();
                std::fs::read(&path).unwrap()
            })
            .collect();
        assert!(
            written.windows(2).all(|w| w[0] == w[1]),
            "{ext}: two writes of the same edit differ"
        );
    }
}

#[test]
fn fcpxml_times_are_rational_and_on_the_grid() {
    let xml = write_fcpxml(&standard(NTSC));
    println!("{xml}");
    assert!(xml.contains("<fcpxml version=\"1.10\">"));
    assert!(xml.contains("frameDuration=\"1001/30000s\""));
    assert!(xml.contains("src=\"file:///media/trip/%C3%A9t%C3%A9%20%233.mov\""));
    // Frame 60 at 29.97 is 60 * 1001/30000 s.
    assert!(xml.contains("offset=\"60060/30000s\""));
    assert!(xml.contains(
        "<transition name=\"Cross Dissolve\" offset=\"54054/30000s\" duration=\"12012/30000s\">"
    ));
    let xml = write_fcpxml(&standard(FrameRate::whole(30)));
    assert!(xml.contains("frameDuration=\"1/30s\""));
    assert!(xml.contains("duration=\"10s\""));
}

#[test]
fn fcpxml_parses_and_spine_is_contiguous() {
    for fps in [FrameRate::whole(30), NTSC, FrameRate::whole(24)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("montage.fcpxml");
        write_timeline_file(&standard(fps), &path).unwrap();
        let Some(python) = system_python() else {
            common::skip_or_fail(
                "fcpxml_parses_and_spine_is_contiguous",
                "python3 with xml.etree",
                "make deps installs python3",
            );
            return;
        };
        let out = run_python(&python, FCPXML_CHECK, &[path.to_str().unwrap(), "4", "1"]);
        println!("{fps}: {out}");
    }
}

#[test]
fn otio_json_has_the_schema_shape() {
    let json: serde_json::Value = serde_json::from_str(&write_otio(&standard(NTSC))).unwrap();
    assert_eq!(json["OTIO_SCHEMA"], "Timeline.1");
    assert_eq!(json["global_start_time"]["value"], 107_892.0);
    let tracks = json["tracks"]["children"].as_array().unwrap();
    assert_eq!(json["tracks"]["OTIO_SCHEMA"], "Stack.1");
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0]["kind"], "Video");
    assert_eq!(tracks[1]["kind"], "Audio");
    let items = tracks[0]["children"].as_array().unwrap();
    let schemas: Vec<&str> = items
        .iter()
        .map(|i| i["OTIO_SCHEMA"].as_str().unwrap())
        .collect();
    assert_eq!(
        schemas,
        ["Clip.1", "Transition.1", "Clip.1", "Clip.1", "Clip.1"]
    );
    let total: f64 = items
        .iter()
        .filter(|i| i["OTIO_SCHEMA"] != "Transition.1")
        .map(|i| i["source_range"]["duration"]["value"].as_f64().unwrap())
        .sum();
    assert_eq!(total, 300.0);
    assert_eq!(items[1]["transition_type"], "SMPTE_Dissolve");
    assert_eq!(
        items[0]["source_range"]["start_time"]["rate"],
        30000.0 / 1001.0
    );
    assert!(
        items[0]["media_reference"]["target_url"]
            .as_str()
            .unwrap()
            .starts_with("file:///media/trip/")
    );
}

#[test]
fn otio_loads_in_opentimelineio() {
    let Some(python) = otio_python("otio_loads_in_opentimelineio") else {
        return;
    };
    for fps in [FrameRate::whole(30), NTSC, FrameRate::whole(24)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("montage.otio");
        write_timeline_file(&standard(fps), &path).unwrap();
        let expect = expected_clips();
        let out = run_python(&python, OTIO_CHECK, &[path.to_str().unwrap(), &expect]);
        println!("{fps}: {out}");
    }
}

#[test]
fn edl_and_fcpxml_load_through_otio_adapters() {
    let Some(python) = otio_python("edl_and_fcpxml_load_through_otio_adapters") else {
        return;
    };
    for fps in [FrameRate::whole(30), NTSC, FrameRate::whole(24)] {
        let dir = tempfile::tempdir().unwrap();
        let edl = dir.path().join("montage.edl");
        write_timeline_file(&standard(fps), &edl).unwrap();
        let rate = fps.as_f64().to_string();
        let out = run_python(&python, EDL_ADAPTER_CHECK, &[edl.to_str().unwrap(), &rate]);
        println!("EDL {fps}: {out}");
    }
    // The FCPXML adapter counts each clip in its own format's frames and truncates rates to
    // integers (29.97 -> 29), so it is given whole rates and clips at the timeline rate.
    for fps in [FrameRate::whole(30), FrameRate::whole(24)] {
        let dir = tempfile::tempdir().unwrap();
        let xml = dir.path().join("montage.fcpxml");
        let mut t = standard(fps);
        for c in &mut t.clips {
            c.fps = fps;
        }
        write_timeline_file(&t, &xml).unwrap();
        let out = run_python(&python, FCPXML_ADAPTER_CHECK, &[xml.to_str().unwrap()]);
        println!("FCPXML {fps}: {out}");
    }
}

#[test]
fn files_are_chosen_by_extension_and_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let t = standard(FrameRate::whole(30));
    for (name, head) in [
        ("a.edl", "TITLE:"),
        ("a.FCPXML", "<?xml"),
        ("a.otio", "{"),
        ("a.json", "{"),
    ] {
        let path = dir.path().join(name);
        write_timeline_file(&t, &path).unwrap();
        assert!(
            std::fs::read_to_string(&path).unwrap().starts_with(head),
            "{name}"
        );
    }
    let err = write_timeline_file(&t, &dir.path().join("a.xml")).unwrap_err();
    assert!(
        matches!(err, InterchangeError::UnknownFormat { .. }),
        "{err}"
    );
    let err = write_timeline_file(&t, &dir.path().join("missing/a.edl")).unwrap_err();
    assert!(matches!(err, InterchangeError::Io { .. }), "{err}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

/// `[[source start, duration], ...]` of the standard timeline's clips, in frames.
fn expected_clips() -> String {
    let clips: Vec<String> = EVENTS
        .iter()
        .map(|&(_, src, start, end, _)| format!("[{src}, {}]", end - start))
        .collect();
    format!(
        "{{\"tracks\": 2, \"clips\": [{}], \"duration\": 300, \"transitions\": 1}}",
        clips.join(", ")
    )
}

// ---- Python plumbing --------------------------------------------------------------------

fn system_python() -> Option<PathBuf> {
    let python = PathBuf::from("python3");
    python_ok(&python, "import xml.etree.ElementTree").then_some(python)
}

fn python_ok(python: &Path, code: &str) -> bool {
    Command::new(python)
        .args(["-c", code])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_python(python: &Path, code: &str, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The Python of the venv `make deps` makes under `target/py-otio`, with `opentimelineio` and
/// its CMX3600 and FCPXML adapter plug-ins importable; `None` (after `common::skip_or_fail`,
/// which fails under CI) when it is missing.
fn otio_python(test: &str) -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()?
        .join("py-otio")
        .join("bin")
        .join("python");
    let ready = python_ok(
        &python,
        "import opentimelineio, otio_cmx3600_adapter, otio_fcpx_xml_adapter",
    );
    if !ready {
        common::skip_or_fail(
            test,
            "OpenTimelineIO with the cmx_3600 and fcpx_xml adapters in target/py-otio",
            "make deps installs them",
        );
    }
    ready.then_some(python)
}

const FCPXML_CHECK: &str = r#"
import re, sys
import xml.etree.ElementTree as ET
from fractions import Fraction
path, want_clips, want_transitions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
root = ET.parse(path).getroot()
assert root.tag == "fcpxml" and root.get("version") == "1.10", root.attrib
TIME = re.compile(r"^(\d+/[1-9]\d*|\d+)s$")
def t(v):
    assert TIME.match(v), "not a rational time: %r" % v
    v = v[:-1]
    return Fraction(v) if "/" in v else Fraction(int(v))
for el in root.iter():
    for key in ("offset", "start", "duration", "tcStart", "frameDuration"):
        if key in el.attrib:
            t(el.get(key))
res = root.find("resources")
formats = {f.get("id"): f for f in res.findall("format")}
assets = {a.get("id"): a for a in res.findall("asset")}
for a in assets.values():
    rep = a.find("media-rep")
    assert rep is not None and rep.get("src", "").startswith("file:///"), a.attrib
    assert " " not in rep.get("src")
seq = root.find("library/event/project/sequence")
frame = t(formats[seq.get("format")].get("frameDuration"))
spine = seq.find("spine")
cursor = Fraction(0)
clips = transitions = 0
for el in spine:
    off, dur = t(el.get("offset")), t(el.get("duration"))
    assert off % frame == 0 and dur % frame == 0, ("off grid", el.tag, el.attrib)
    if el.tag == "transition":
        transitions += 1
        assert off < cursor < off + dur, ("transition not over a cut", el.attrib)
        assert el.find("filter-video").get("ref") in {e.get("id") for e in res.findall("effect")}
        continue
    assert off == cursor, ("spine not contiguous", el.attrib, cursor)
    assert el.get("ref") is None or el.get("ref") in assets
    if el.tag == "asset-clip":
        clips += 1
        assert t(el.get("start")) % frame == 0
    cursor += dur
total = t(seq.get("duration"))
assert cursor == total, (cursor, total)
assert (clips, transitions) == (want_clips, want_transitions), (clips, transitions)
music = spine[0].find("asset-clip[@lane='-1']")
assert music is not None and t(music.get("duration")) == total
assert assets[music.get("ref")].get("hasVideo") == "0"
print("xml.etree: ok, %d clips, %d transition(s), spine %s s = %d frames, music on lane -1" % (clips, transitions, total, total / frame))
"#;

const OTIO_CHECK: &str = r#"
import json, sys
import opentimelineio as otio
path, want = sys.argv[1], json.loads(sys.argv[2])
tl = otio.adapters.read_from_file(path)
assert len(tl.tracks) == want["tracks"], len(tl.tracks)
video, audio = tl.video_tracks(), tl.audio_tracks()
assert len(video) == 1 and len(audio) == 1
clips = list(video[0].find_clips())
assert len(clips) == len(want["clips"]), len(clips)
rate = video[0].duration().rate
for c, (start, dur) in zip(clips, want["clips"]):
    r = c.source_range
    assert (r.start_time.value, r.duration.value) == (start, dur), (c.name, r)
    assert c.media_reference.target_url.startswith("file:///")
trans = [t for t in video[0] if isinstance(t, otio.schema.Transition)]
assert len(trans) == want["transitions"]
assert tl.duration().value == want["duration"], tl.duration()
assert audio[0].duration().value == want["duration"]
print("opentimelineio %s: %d tracks, %d clips, %d transition (%s+%s), duration %s frames at %.3f fps, start %s" % (
    otio.__version__, len(tl.tracks), len(clips), len(trans), trans[0].in_offset.value, trans[0].out_offset.value,
    tl.duration().value, rate, otio.opentime.to_timecode(tl.global_start_time, rate)))
print("  clips:", [(c.name, c.source_range.start_time.value, c.source_range.duration.value) for c in clips])
"#;

const EDL_ADAPTER_CHECK: &str = r#"
import sys
import opentimelineio as otio
path, rate = sys.argv[1], float(sys.argv[2])
tl = otio.adapters.read_from_file(path, adapter_name="cmx_3600", rate=rate)
v = tl.video_tracks()[0]
clips = list(v.find_clips())
trans = [t for t in v if isinstance(t, otio.schema.Transition)]
assert len(clips) == 4 and len(trans) == 1, (len(clips), len(trans))
assert trans[0].out_offset.value == 12, trans[0]
assert v.duration().value == 300, v.duration()
for a in tl.audio_tracks():
    assert a.duration().value == 300
    assert [c.name for c in a.find_clips()] == ["song.wav"]
print("cmx_3600 adapter: %d tracks, clips %s, dissolve %d frames, V duration %d" % (
    len(tl.tracks), [(c.name, c.source_range.start_time.value, c.source_range.duration.value) for c in clips],
    trans[0].out_offset.value, v.duration().value))
"#;

const FCPXML_ADAPTER_CHECK: &str = r#"
import sys
import opentimelineio as otio
coll = otio.adapters.read_from_file(sys.argv[1], adapter_name="fcpx_xml")
tl = coll[0]
tracks = {t.name: t for t in tl.tracks}
main, music = tracks["0"], tracks["-1"]
clips = list(main.find_clips())
assert len(clips) == 4, len(clips)
assert main.duration().value == 300, main.duration()
assert music.kind == otio.schema.TrackKind.Audio and music.duration().value == 300, music.duration()
print("fcpx_xml adapter: %d tracks, clips %s, main %d frames, music %d frames" % (
    len(tl.tracks), [(c.name, c.source_range.start_time.value, c.source_range.duration.value) for c in clips],
    main.duration().value, music.duration().value))
"#;

/// With the clips' own sound in the edit and a montage starting 90 s into the song: the EDL
/// cuts picture and sound together (channel B) and takes the song from 90 s, the FCPXML
/// enables each clip's audio and starts the song there, and the OTIO holds the clip sound as
/// an audio track of its own, cut like the pictures, which OpenTimelineIO reads back.
#[test]
fn clip_sound_and_a_song_stretch_reach_every_timeline_file() {
    let fps = FrameRate::whole(30);
    let mut t = standard(fps);
    t.clip_sound = true;
    t.music_start = 90 * beatcut::time::TICKS_PER_SECOND;
    let edl = write_edl(&t);
    let lines = event_lines(&edl);
    let clip_lines: Vec<&&str> = lines.iter().filter(|l| !l.contains(" AA ")).collect();
    assert!(!clip_lines.is_empty());
    assert!(
        clip_lines
            .iter()
            .all(|l| l.split_whitespace().nth(2) == Some("B")),
        "{edl}"
    );
    let music = lines
        .iter()
        .find(|l| l.contains(" AA "))
        .expect("music event");
    assert_eq!(
        music.split_whitespace().nth(4),
        Some("00:01:30:00"),
        "{music}"
    );
    let fcpxml = write_fcpxml(&t);
    assert!(fcpxml.contains("srcEnable=\"all\"") && !fcpxml.contains("srcEnable=\"video\""));
    assert!(
        fcpxml.contains("start=\"90s\"") || fcpxml.contains("start=\"2700/30s\""),
        "{fcpxml}"
    );
    let otio: serde_json::Value = serde_json::from_str(&write_otio(&t)).unwrap();
    let tracks = otio["tracks"]["children"].as_array().unwrap();
    let clips_of = |name: &str| {
        tracks
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("track {name}"))["children"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["OTIO_SCHEMA"] == "Clip.1")
            .count()
    };
    assert_eq!(clips_of("Clip sound"), clips_of("Video 1"));
    // Without clip sound, pictures only.
    t.clip_sound = false;
    assert!(
        !write_edl(&t)
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some("B"))
    );
    assert!(!write_otio(&t).contains("Clip sound"));

    t.clip_sound = true;
    let Some(python) = otio_python("clip_sound_and_a_song_stretch_reach_every_timeline_file")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("montage.otio");
    write_timeline_file(&t, &path).unwrap();
    let out = run_python(
        &python,
        "import sys, opentimelineio as otio\n\
         t = otio.adapters.read_from_file(sys.argv[1])\n\
         kinds = [tr.kind for tr in t.tracks]\n\
         assert kinds == ['Video', 'Audio', 'Audio'], kinds\n\
         v = len(list(t.tracks[0].find_clips())); a = len(list(t.tracks[1].find_clips()))\n\
         assert v == a, (v, a)\n\
         print('tracks', kinds, v)\n",
        &[path.to_str().unwrap()],
    );
    println!("{out}");
}
