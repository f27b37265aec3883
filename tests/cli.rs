//! The command line end to end: analyze (music and clips, JSON), the cache across runs,
//! plan and render, and clear errors for bad files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::beatcut;

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A 16 s song: kick-like clicks every 0.5 s (120 BPM) over a low tone.
fn song(dir: &Path) -> std::path::PathBuf {
    common::click_song(dir, "song.mp3", 16, &["-b:a", "192k"])
}

/// A clip with hard cuts at 2 s and 4 s (25 fps).
fn clip(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    common::ffmpeg(&[
        "-filter_complex",
        "testsrc2=s=320x180:r=25,trim=duration=2[a];smptebars=s=320x180:r=25,trim=duration=2[b];mandelbrot=s=320x180:r=25,trim=duration=2[c];[a][b][c]concat=n=3:v=1:a=0,format=yuv420p[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-g",
        "50",
        path.to_str().unwrap(),
    ]);
    path
}

#[test]
fn analyze_music_and_clips_as_json() {
    let dir = common::temp_dir();
    let cache = dir.path().join("cache");
    let song = song(dir.path());
    let clip = clip(dir.path(), "clip.mp4");
    let out = beatcut(
        &cache,
        &[
            "analyze",
            "--json",
            song.to_str().unwrap(),
            clip.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let music = &lines[0];
    let tempo = music["tempo_bpm"].as_f64().unwrap();
    assert!((tempo - 120.0).abs() < 1.2, "tempo {tempo}");
    let beats = music["beats"].as_array().unwrap();
    assert!(beats.len() >= 28, "{} beats", beats.len());
    for pair in beats.windows(2) {
        let gap = pair[1].as_f64().unwrap() - pair[0].as_f64().unwrap();
        assert!((gap - 0.5).abs() < 0.05, "beat gap {gap}");
    }
    assert!(music["energy"]["values"].as_array().unwrap().len() > 100);
    assert!(!music["sections"].as_array().unwrap().is_empty());
    let clip_json = &lines[1];
    let cuts: Vec<f64> = clip_json["cuts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_f64().unwrap())
        .collect();
    assert_eq!(cuts.len(), 2, "{cuts:?}");
    assert!(
        (cuts[0] - 2.0).abs() < 0.041 && (cuts[1] - 4.0).abs() < 0.041,
        "{cuts:?}"
    );
    assert_eq!(clip_json["scenes"].as_array().unwrap().len(), 3);

    // The first look: keyframes only, no exact cuts, and no scene across a change.
    let out = beatcut(
        &cache,
        &[
            "analyze",
            "--json",
            "--mode",
            "keyframes",
            clip.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let look = &json_lines(&out)[0];
    assert_eq!(look["mode"], "keyframes");
    assert!(look["cuts"].as_array().unwrap().is_empty());
    assert!(look["frames_scored"].as_u64().unwrap() < clip_json["frames_scored"].as_u64().unwrap());
    for scene in look["scenes"].as_array().unwrap() {
        let (a, b) = (
            scene["start_s"].as_f64().unwrap(),
            scene["end_s"].as_f64().unwrap(),
        );
        for cut in &cuts {
            assert!(
                !(cut - 0.02 > a && cut + 0.02 < b),
                "cut {cut} inside {a}-{b}"
            );
        }
    }
}

#[test]
fn second_run_is_served_from_the_cache_and_edits_miss() {
    let dir = common::temp_dir();
    let cache = dir.path().join("cache");
    let clip = clip(dir.path(), "clip.mp4");
    let first = beatcut(&cache, &["analyze", "--json", clip.to_str().unwrap()]);
    assert!(first.status.success());
    let stats = String::from_utf8_lossy(&beatcut(&cache, &["cache", "stats"]).stdout).to_string();
    assert!(stats.contains("entries: 1"), "{stats}");
    let second = beatcut(&cache, &["analyze", "--json", clip.to_str().unwrap()]);
    assert_eq!(
        json_lines(&first)[0]["cuts"],
        json_lines(&second)[0]["cuts"]
    );
    let stats = String::from_utf8_lossy(&beatcut(&cache, &["cache", "stats"]).stdout).to_string();
    assert!(stats.contains("1 hits"), "{stats}");
    // A moved file still hits; a file changed in place misses.
    let moved = dir.path().join("moved.mp4");
    std::fs::rename(&clip, &moved).unwrap();
    beatcut(&cache, &["analyze", "--json", moved.to_str().unwrap()]);
    let stats = String::from_utf8_lossy(&beatcut(&cache, &["cache", "stats"]).stdout).to_string();
    assert!(stats.contains("2 hits"), "{stats}");
    let other = clip_variant(dir.path());
    std::fs::copy(&other, &moved).unwrap();
    beatcut(&cache, &["analyze", "--json", moved.to_str().unwrap()]);
    let stats = String::from_utf8_lossy(&beatcut(&cache, &["cache", "stats"]).stdout).to_string();
    assert!(stats.contains("entries: 2"), "{stats}");
    // --no-cache neither reads nor writes: the cache's counters and entries stay as they were.
    let stats_before = beatcut(&cache, &["cache", "stats"]).stdout;
    let out = beatcut(
        &cache,
        &["analyze", "--no-cache", "--json", moved.to_str().unwrap()],
    );
    assert!(out.status.success());
    let stats_after = beatcut(&cache, &["cache", "stats"]).stdout;
    assert_eq!(
        String::from_utf8_lossy(&stats_after),
        String::from_utf8_lossy(&stats_before),
        "--no-cache touched the cache"
    );
    let cleared = beatcut(&cache, &["cache", "clear"]);
    assert!(cleared.status.success());
    let stats = String::from_utf8_lossy(&beatcut(&cache, &["cache", "stats"]).stdout).to_string();
    assert!(stats.contains("entries: 0"), "{stats}");
}

fn clip_variant(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("variant.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=320x180:r=25:d=3",
        "-c:v",
        "libx264",
        path.to_str().unwrap(),
    ]);
    path
}

#[test]
fn plan_and_render_from_the_command_line() {
    let dir = common::temp_dir();
    let cache = dir.path().join("cache");
    let song = song(dir.path());
    let a = clip(dir.path(), "a.mp4");
    let b = clip_variant(dir.path());
    let plan = beatcut(
        &cache,
        &[
            "plan",
            "--json",
            "--music",
            song.to_str().unwrap(),
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--style",
            "fast",
            "--seed",
            "7",
            "--fps",
            "25",
        ],
    );
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let timeline = &json_lines(&plan)[0];
    let segments = timeline["segments"].as_array().unwrap();
    assert!(segments.len() >= 8);
    let beats: Vec<f64> = timeline["beats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_f64().unwrap())
        .collect();
    for seg in &segments[1..] {
        let start = seg["start_s"].as_f64().unwrap();
        assert!(
            beats
                .iter()
                .any(|b| (b - start).abs() <= 0.5 / 25.0 + 0.001),
            "cut at {start} is on a beat"
        );
    }
    let again = beatcut(
        &cache,
        &[
            "plan",
            "--json",
            "--music",
            song.to_str().unwrap(),
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--style",
            "fast",
            "--seed",
            "7",
            "--fps",
            "25",
        ],
    );
    assert_eq!(plan.stdout, again.stdout, "same seed, same plan");

    let out = dir.path().join("montage.mp4");
    let edl = dir.path().join("montage.edl");
    let render = beatcut(
        &cache,
        &[
            "render",
            "--music",
            song.to_str().unwrap(),
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--style",
            "fast",
            "--seed",
            "7",
            "--fps",
            "25",
            "--preset",
            "draft",
            "-o",
            out.to_str().unwrap(),
            "--edl",
            edl.to_str().unwrap(),
        ],
    );
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    let info = beatcut::media::probe(&out).unwrap();
    let duration = timeline["duration_s"].as_f64().unwrap();
    assert!(
        (beatcut::time::secs_from_ticks(info.video().unwrap().duration) - duration).abs()
            <= 1.0 / 25.0
    );
    assert_eq!(
        (info.video().unwrap().width, info.video().unwrap().height),
        (1280, 720)
    );
    assert!(std::fs::read_to_string(&edl).unwrap().contains("TITLE:"));
}

#[test]
fn bad_files_fail_clearly() {
    let dir = common::temp_dir();
    let cache = dir.path().join("cache");
    let empty = dir.path().join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    let junk = dir.path().join("junk.mp4");
    std::fs::write(&junk, vec![7u8; 5000]).unwrap();
    let out = beatcut(
        &cache,
        &[
            "analyze",
            "--json",
            empty.to_str().unwrap(),
            junk.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert!(lines[0]["error"].as_str().unwrap().contains("empty.mp3"));
    assert!(lines[1]["error"].as_str().unwrap().contains("junk.mp4"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    let render = beatcut(
        &cache,
        &[
            "render",
            "--music",
            empty.to_str().unwrap(),
            junk.to_str().unwrap(),
            "-o",
            dir.path().join("x.mp4").to_str().unwrap(),
        ],
    );
    assert_eq!(render.status.code(), Some(1));
    assert!(!dir.path().join("x.mp4").exists());
    assert!(String::from_utf8_lossy(&render.stderr).contains("error"));
}

/// A still picture on its own is footage (one held shot); the same picture attached to an
/// MP3 as cover art leaves the MP3 a song.
#[test]
fn still_image_is_a_clip_and_cover_art_is_not() {
    let dir = common::temp_dir();
    let cache = dir.path().join("cache");
    let still = dir.path().join("still.png");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180",
        "-frames:v",
        "1",
        still.to_str().unwrap(),
    ]);
    let song = song(dir.path());
    let with_art = dir.path().join("with-art.mp3");
    common::ffmpeg(&[
        "-i",
        song.to_str().unwrap(),
        "-i",
        still.to_str().unwrap(),
        "-map",
        "0:a",
        "-map",
        "1:v",
        "-c",
        "copy",
        "-disposition:v",
        "attached_pic",
        with_art.to_str().unwrap(),
    ]);
    let out = beatcut(
        &cache,
        &[
            "analyze",
            "--json",
            still.to_str().unwrap(),
            with_art.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let picture = &lines[0];
    assert!(picture.get("error").is_none(), "{picture}");
    assert!(picture["cuts"].as_array().unwrap().is_empty(), "{picture}");
    assert_eq!(picture["scenes"].as_array().unwrap().len(), 1, "{picture}");
    assert_eq!(lines[1]["kind"], "music", "{}", lines[1]);
}

/// A silent song: no beats and no tempo, its sections quiet (not a "climax" at its own
/// level), and planning on it says why it cannot.
#[test]
fn silent_song_has_no_beat_and_no_climax() {
    let dir = common::temp_dir();
    let cache = dir.path().join("cache");
    let silent = dir.path().join("silent.wav");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=44100:cl=stereo",
        "-t",
        "6",
        silent.to_str().unwrap(),
    ]);
    let out = beatcut(&cache, &["analyze", "--json", silent.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let music = &json_lines(&out)[0];
    assert_eq!(music["tempo_bpm"].as_f64(), Some(0.0), "{music}");
    assert!(music["beats"].as_array().unwrap().is_empty());
    let sections = music["sections"].as_array().unwrap();
    assert!(!sections.is_empty());
    assert!(
        sections.iter().all(|s| s["label"] == "quiet"),
        "{sections:?}"
    );
    let clip = clip(dir.path(), "clip.mp4");
    let out = beatcut(
        &cache,
        &[
            "plan",
            "--music",
            silent.to_str().unwrap(),
            clip.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no beats"), "{stderr}");
}

/// The beat grid repairs on the command line: every cut follows the repaired grid, and a
/// bad beat file is named.
#[test]
fn beat_grid_repairs_from_the_command_line() {
    let dir = common::temp_dir();
    let cache = dir.path().join("cache");
    let song = song(dir.path());
    let a = clip(dir.path(), "a.mp4");
    let plan = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "plan",
            "--json",
            "--music",
            song.to_str().unwrap(),
            a.to_str().unwrap(),
            "--fps",
            "25",
        ];
        args.extend_from_slice(extra);
        let out = beatcut(&cache, &args);
        assert!(
            out.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        json_lines(&out).remove(0)
    };
    let beats_of = |t: &serde_json::Value| -> Vec<f64> {
        t["beats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_f64().unwrap())
            .collect()
    };
    let cuts_on_beats = |t: &serde_json::Value, what: &str| {
        let beats = beats_of(t);
        for seg in &t["segments"].as_array().unwrap()[1..] {
            let start = seg["start_s"].as_f64().unwrap();
            assert!(
                beats
                    .iter()
                    .any(|b| (b - start).abs() <= 0.5 / 25.0 + 0.001),
                "{what}: cut at {start} is not on a repaired beat"
            );
        }
    };
    let tracked = plan(&[]);
    let base = beats_of(&tracked);
    assert!(base.len() >= 25, "{base:?}");

    let nudged = plan(&["--beat-offset", "100ms"]);
    let moved = beats_of(&nudged);
    assert_eq!(moved.len(), base.len());
    for (m, b) in moved.iter().zip(&base) {
        assert!((m - b - 0.1).abs() < 0.002, "{m} vs {b}");
    }
    cuts_on_beats(&nudged, "nudged");

    let halved = plan(&["--tempo-level", "/2"]);
    assert!(beats_of(&halved).len().abs_diff(base.len() / 2) <= 1);
    cuts_on_beats(&halved, "halved");

    let shifted = plan(&["--half-beat-shift"]);
    let off = beats_of(&shifted);
    assert!(
        (off[0] - base[0] - 0.25).abs() < 0.01,
        "{} vs {}",
        off[0],
        base[0]
    );
    cuts_on_beats(&shifted, "half-beat shift");

    // Half a beat in one stretch only: the beats there move, the others stay, and the seams
    // keep the beats at least three quarters of a beat apart.
    let period = base.windows(2).map(|w| w[1] - w[0]).sum::<f64>() / (base.len() - 1) as f64;
    let (from, to) = (base[4] - 0.01, base[12] + 0.01);
    let stretch = plan(&["--half-beat-in", &format!("{from:.3}-{to:.3}")]);
    let partly = beats_of(&stretch);
    // This grid was on the beat all along, so the beat right after the stretch falls half a
    // beat after the last moved one: the seam drops it.
    for (i, b) in base.iter().enumerate() {
        let kept = partly.iter().any(|p| (p - b).abs() < 0.01);
        let expected = !(from..to).contains(b) && i != 13;
        assert_eq!(kept, expected, "beat {i} at {b}: {partly:?}");
    }
    assert!(
        partly
            .iter()
            .any(|p| (p - base[4] - period / 2.0).abs() < 0.02),
        "{partly:?}"
    );
    assert!(
        partly.windows(2).all(|w| w[1] - w[0] > 0.74 * period),
        "{partly:?}"
    );
    cuts_on_beats(&stretch, "half-beat stretch");

    let file = dir.path().join("beats.txt");
    std::fs::write(&file, "# tapped\n1.0\n2.0\n3.0\n4.0\n5.0\n6.0\n7.0\n8.0\n").unwrap();
    let given = plan(&["--beats", file.to_str().unwrap()]);
    assert_eq!(beats_of(&given), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    cuts_on_beats(&given, "beat file");

    let bad = dir.path().join("bad-beats.txt");
    std::fs::write(&bad, "0.5\nnot a time\n").unwrap();
    let out = beatcut(
        &cache,
        &[
            "plan",
            "--music",
            song.to_str().unwrap(),
            a.to_str().unwrap(),
            "--beats",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("bad-beats.txt"),
        "{stderr}"
    );
}

/// `analyze` reports a gradual transition as a span with its kind, in JSON and in text.
#[test]
fn analyze_reports_transitions_with_their_kind() {
    let dir = common::temp_dir();
    let cache = dir.path().join("cache");
    let clip = common::dissolve_clip(dir.path(), "dissolve.mp4", 30, (3, 3), 2);
    let out = beatcut(&cache, &["analyze", "--json", clip.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let transitions = lines[0]["transitions"].as_array().unwrap();
    assert_eq!(transitions.len(), 1, "{transitions:?}");
    let t = &transitions[0];
    assert_eq!(t["kind"], "dissolve");
    let (start, end) = (t["start"].as_f64().unwrap(), t["end"].as_f64().unwrap());
    assert!(
        (start - 2.0).abs() < 0.25 && (end - 3.0).abs() < 0.25,
        "{t}"
    );
    assert!(
        lines[0]["cuts"].as_array().unwrap().is_empty(),
        "{}",
        lines[0]
    );
    let text = beatcut(&cache, &["analyze", clip.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("1 transition (dissolve "), "{text}");
}
