//! The sync report measured on the export (`render --verify`, `beatcut verify`). On a good
//! export, every hard cut is on its planned frame and the sound is on the picture. On the same
//! export with its sound shifted 80 ms afterwards (ffmpeg `-itsoffset`, streams copied), the
//! report gives the offset to within one frame and flags it. On an export with its picture
//! shifted (frames dropped at the start), it flags the cuts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::beatcut;

/// A 12 s song: kick-like clicks every 0.5 s (120 BPM) over a low tone.
fn song(dir: &Path) -> PathBuf {
    common::click_song(dir, "song.wav", 12, &[])
}

/// Three clips, each 6 s of one distinct lavfi source (no cuts inside).
fn clips(dir: &Path) -> Vec<PathBuf> {
    ["testsrc2", "smptebars", "mandelbrot"]
        .iter()
        .map(|source| {
            let path = dir.join(format!("{source}.mp4"));
            let graph = format!("{source}=s=320x180:r=30,trim=duration=6,format=yuv420p");
            common::ffmpeg(&[
                "-filter_complex",
                &graph,
                "-c:v",
                "libx264",
                path.to_str().unwrap(),
            ]);
            path
        })
        .collect()
}

fn report(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no JSON report:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}

fn frame_ms(report: &serde_json::Value) -> f64 {
    report["frame_ms"].as_f64().unwrap()
}

#[test]
fn render_verify_reports_cuts_and_sound_and_catches_shifts() {
    let dir = common::temp_dir();
    let d = dir.path();
    let cache = d.join("cache");
    let song = song(d);
    let clips = clips(d);
    let output = d.join("montage.mp4");
    let timeline = d.join("montage.json");
    let mut args = vec![
        "render",
        "--music",
        song.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--preset",
        "draft",
        "--fps",
        "30",
        "--timeline",
        timeline.to_str().unwrap(),
        "--verify",
        "--json",
    ];
    for c in &clips {
        args.push(c.to_str().unwrap());
    }
    let out = beatcut(&cache, &args);
    let good = report(&out);
    assert!(
        out.status.success(),
        "{good}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every hard cut of the plan is on its frame, and the sound is on the picture.
    let cuts = good["cuts"].as_array().unwrap();
    assert!(cuts.len() >= 5, "{good}");
    for c in cuts {
        assert_eq!(c["off_frames"], 0, "{c}");
        assert!(
            c["beat_offset_ms"].as_f64().unwrap().abs() <= frame_ms(&good),
            "{c}"
        );
    }
    assert_eq!(good["cuts_on_frame"].as_u64(), Some(cuts.len() as u64));
    let av = good["av_offset_ms"].as_f64().expect("an A/V offset");
    assert!(av.abs() <= frame_ms(&good), "A/V {av} ms on a good export");
    assert_eq!(good["problems"].as_array().unwrap().len(), 0, "{good}");
    assert_eq!(
        good["unplanned_changes"].as_array().unwrap().len(),
        0,
        "{good}"
    );

    // The same file with its sound 80 ms late: measured, and flagged.
    let shifted = d.join("shifted.mp4");
    common::ffmpeg(&[
        "-i",
        output.to_str().unwrap(),
        "-itsoffset",
        "0.08",
        "-i",
        output.to_str().unwrap(),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c",
        "copy",
        shifted.to_str().unwrap(),
    ]);
    let out = beatcut(
        &cache,
        &[
            "verify",
            shifted.to_str().unwrap(),
            "--timeline",
            timeline.to_str().unwrap(),
            "--json",
        ],
    );
    let late = report(&out);
    let av = late["av_offset_ms"].as_f64().expect("an A/V offset");
    assert!(
        (av - 80.0).abs() <= frame_ms(&late),
        "A/V {av} ms for sound shifted 80 ms"
    );
    assert_eq!(out.status.code(), Some(3), "{late}");
    assert!(
        late["problems"].to_string().contains("late"),
        "{}",
        late["problems"]
    );
    // The picture is untouched: its cuts are still on their frames.
    for c in late["cuts"].as_array().unwrap() {
        assert_eq!(c["off_frames"], 0, "{c}");
    }

    // The picture three frames late (three frames of black first, sound kept): every cut is
    // reported three frames late, and the sound early against it.
    let late_picture = d.join("late-picture.mp4");
    common::ffmpeg(&[
        "-i",
        output.to_str().unwrap(),
        "-filter_complex",
        "[0:v]tpad=start=3:color=black,trim=end_frame=360[v]",
        "-map",
        "[v]",
        "-map",
        "0:a",
        "-c:a",
        "copy",
        "-c:v",
        "libx264",
        late_picture.to_str().unwrap(),
    ]);
    let out = beatcut(
        &cache,
        &[
            "verify",
            late_picture.to_str().unwrap(),
            "--timeline",
            timeline.to_str().unwrap(),
            "--json",
        ],
    );
    let off = report(&out);
    assert_eq!(out.status.code(), Some(3), "{off}");
    for c in off["cuts"].as_array().unwrap() {
        assert_eq!(c["off_frames"], 3, "{c}");
    }
}

#[test]
fn verify_names_a_missing_timeline() {
    let dir = common::temp_dir();
    let out = beatcut(
        &dir.path().join("cache"),
        &[
            "verify",
            "nothing.mp4",
            "--timeline",
            dir.path().join("missing.json").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing.json"), "{stderr}");
}
