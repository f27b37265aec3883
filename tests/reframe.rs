//! Reframing to the subject: clip analysis tracks a bright object moving across a textured
//! background (and one standing still) in every scan mode, the crop path for a 9:16 export
//! keeps it in frame without wobbling, a portrait export shows it where a centre crop loses
//! it, and the editing session's framing choices (centre, by hand) reach the crop and undo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use beatcut::analysis::video::{ClipAnalysis, ClipParams, DetectMode, analyze_clip};
use beatcut::cache::{Cache, CacheLimits};
use beatcut::editor::Session;
use beatcut::jobs::CancelToken;
use beatcut::reframe::{Framing, MIN_STRENGTH, follow_subject, window_share};
use beatcut::time::{TICKS_PER_SECOND, secs_from_ticks};

/// The box moves 90 px a second from x = 40: its centre is at (65 + 90 t) / 640.
const MOVING: &str = "40+t*90";
fn moving_truth(t: f64) -> f32 {
    ((65.0 + 90.0 * t) / 640.0) as f32
}
/// The still box's centre: (480 + 25) / 640.
const STILL_X: f32 = 505.0 / 640.0;
const SUBJECT_Y: f32 = 185.0 / 360.0;

fn analyse(path: &Path, mode: DetectMode) -> ClipAnalysis {
    let params = ClipParams {
        mode,
        ..ClipParams::default()
    };
    analyze_clip(path, &params, &CancelToken::new(), &mut |_| {}).expect("analysis")
}

/// The 9:16 crop window of a 640x360 clip, as shares.
fn portrait_window() -> (f32, f32) {
    window_share(640, 360, 1080, 1920)
}

#[test]
fn the_subject_track_follows_a_moving_box_in_every_mode() {
    let dir = common::temp_dir();
    // A phone-like GOP of one second, so fast mode's keyframes are a second apart.
    let clip = common::subject_clip(dir.path(), "moving.mp4", MOVING, 6, 30);
    for mode in [
        DetectMode::Accurate,
        DetectMode::Fast,
        DetectMode::Keyframes,
    ] {
        let analysis = analyse(&clip, mode);
        let samples = &analysis.subject;
        assert!(
            samples.len() >= 5,
            "{mode:?}: at least one sample a second, got {}",
            samples.len()
        );
        if mode == DetectMode::Accurate {
            assert!(
                samples.len() >= 25,
                "accurate mode samples five times a second"
            );
        }
        for s in samples {
            let t = secs_from_ticks(s.time);
            assert!(s.strength >= MIN_STRENGTH, "{mode:?} at {t:.2}: {s:?}");
            assert!(
                (s.x - moving_truth(t)).abs() < 0.03,
                "{mode:?} at {t:.2} s: x {} against {}",
                s.x,
                moving_truth(t)
            );
            assert!(
                (s.y - SUBJECT_Y).abs() < 0.04,
                "{mode:?} at {t:.2} s: y {}",
                s.y
            );
        }
        // The 9:16 crop keeps the box (50 px = 0.078 of the width) inside its window.
        let window = portrait_window();
        let path = follow_subject(samples, 0, analysis.duration, window);
        for s in samples {
            let t = secs_from_ticks(s.time);
            let (cx, _) = path.centre_at(s.time);
            let margin = window.0 / 2.0 - (moving_truth(t) - cx).abs();
            assert!(
                margin > 0.039,
                "{mode:?} at {t:.2} s: the box leaves the crop (centre {cx}, box {})",
                moving_truth(t)
            );
        }
        assert!(path.travel() > 0.4, "{mode:?}: the crop pans with the box");
    }
}

#[test]
fn a_still_subject_gets_a_still_crop_and_an_empty_picture_is_centred() {
    let dir = common::temp_dir();
    let still = common::subject_clip(dir.path(), "still.mp4", "480", 4, 30);
    let analysis = analyse(&still, DetectMode::Accurate);
    let window = portrait_window();
    let path = follow_subject(&analysis.subject, 0, analysis.duration, window);
    assert_eq!(path.travel(), 0.0, "the crop never moves: {path:?}");
    let (cx, cy) = path.centre_at(TICKS_PER_SECOND);
    assert!((cx - STILL_X).abs() < 0.02, "on the box: {cx}");
    assert_eq!(cy, 0.5, "a 9:16 crop of 16:9 uses the full height");

    // The same texture with nothing on it: nothing stands out, the crop is the middle.
    let empty = dir.path().join("empty.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0x606060:s=640x360:r=30:d=3,noise=c0s=80:allf=u,format=yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        empty.to_str().unwrap(),
    ]);
    let analysis = analyse(&empty, DetectMode::Accurate);
    assert!(
        analysis.subject.iter().all(|s| s.strength < MIN_STRENGTH),
        "texture is no subject: {:?}",
        analysis
            .subject
            .iter()
            .map(|s| s.strength)
            .collect::<Vec<_>>()
    );
    let path = follow_subject(&analysis.subject, 0, analysis.duration, window);
    assert_eq!(path.centre_at(TICKS_PER_SECOND), (0.5, 0.5));
    assert_eq!(path.travel(), 0.0);
}

/// The horizontal centre of the yellow box in the exported frame at `secs`, as a share of
/// the frame's width (`None`: no box in the picture).
fn box_in_export(video: &Path, secs: f64) -> Option<f32> {
    let output = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &format!("{secs:.3}"), "-i"])
        .arg(video)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale=360:640",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .expect("ffmpeg");
    let (w, h) = (360usize, 640usize);
    let rgb = output.stdout;
    assert_eq!(rgb.len(), w * h * 3, "a 360x640 frame");
    let (mut sum, mut count) = (0.0f64, 0usize);
    for y in 0..h {
        for x in 0..w {
            let p = &rgb[(y * w + x) * 3..(y * w + x) * 3 + 3];
            let yellow = p[0] > 170 && p[1] > 150 && (p[2] as i32) < p[0] as i32 - 90;
            if yellow {
                sum += x as f64;
                count += 1;
            }
        }
    }
    (count > 400).then(|| (sum / count as f64 / w as f64) as f32)
}

#[test]
fn a_portrait_export_keeps_the_moving_subject_in_frame() {
    let dir = common::temp_dir();
    let clip = common::subject_clip(dir.path(), "moving.mp4", MOVING, 6, 30);
    let song = common::click_song(dir.path(), "song.wav", 6, &[]);
    let cache = dir.path().join("cache");
    let render = |fit: &str, name: &str| {
        let out = dir.path().join(name);
        let output = common::beatcut(
            &cache,
            &[
                "render",
                "--music",
                song.to_str().unwrap(),
                clip.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--aspect",
                "9:16",
                "--preset",
                "draft",
                "--fit",
                fit,
                "--mode",
                "accurate",
                "--timeline",
                dir.path().join(format!("{name}.json")).to_str().unwrap(),
            ],
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    };
    let reframed = render("reframe", "reframed.mp4");
    let centred = render("crop", "centred.mp4");
    // Where in the clip each sampled moment of the montage comes from.
    let timeline: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reframed.mp4.json")).unwrap(),
    )
    .unwrap();
    let source_time = |t: f64| -> f64 {
        let segments = timeline["segments"].as_array().unwrap();
        let s = segments
            .iter()
            .find(|s| s["start_s"].as_f64().unwrap() <= t && t < s["end_s"].as_f64().unwrap())
            .expect("a segment");
        s["src_in_s"].as_f64().unwrap() + (t - s["start_s"].as_f64().unwrap())
    };
    let half_window = portrait_window().0 / 2.0;
    let mut outside_centre = 0;
    for k in 0..12 {
        // Between frames of the output, away from cuts on the half second.
        let t = 0.2 + 0.5 * k as f64;
        let truth = moving_truth(source_time(t));
        let x = box_in_export(&reframed, t);
        assert!(
            x.is_some_and(|x| (0.12..=0.88).contains(&x)),
            "reframed export at {t} s (box at {truth} of the source): box at {x:?}"
        );
        if (truth - 0.5).abs() > half_window + 0.05 {
            outside_centre += 1;
            assert_eq!(
                box_in_export(&centred, t),
                None,
                "a centre crop cannot show the box at {truth} of the source"
            );
        }
    }
    assert!(
        outside_centre >= 2,
        "the montage shows the box away from the middle ({outside_centre} times)"
    );
}

fn session_with(dir: &Path, clip: &Path, song: &Path) -> Session {
    let cache = Cache::open(dir.join("cache"), CacheLimits::default()).expect("cache");
    let mut session = Session::batch(Arc::new(cache));
    let mut project =
        beatcut::project::Project::with_media(&[clip.to_path_buf()], Some(song.to_path_buf()));
    project.clip_params.mode = DetectMode::Accurate;
    session.open_unsaved(project);
    session.poll_until(Duration::from_secs(120), |s| {
        !s.is_busy() && s.timeline().is_some()
    });
    assert!(session.timeline().is_some(), "{}", session.plan_status());
    session
}

#[test]
fn framing_choices_reach_the_crop_and_undo() {
    let dir = common::temp_dir();
    let clip = common::subject_clip(dir.path(), "still.mp4", "60", 8, 30);
    let song = common::click_song(dir.path(), "song.wav", 8, &[]);
    let mut session = session_with(dir.path(), &clip, &song);
    let segment = session.timeline().unwrap().segments[0].clone();
    let at = segment.src_in + 1;

    // Landscape export of landscape footage: nothing is cropped.
    assert_eq!(session.crop_window(0, at), None);
    session.set_export_format(
        beatcut::render::Preset::Draft,
        beatcut::render::Aspect::Portrait,
        None,
    );
    let follow = session.crop_window(0, at).expect("9:16 reframes");
    let box_x = 85.0 / 640.0;
    // The box sits at the left edge; the crop goes as far left as the picture allows.
    assert!(
        (follow.centre.0 - follow.size.0 / 2.0).abs() < 0.01,
        "follows the box to the edge: {follow:?}"
    );
    assert!(follow.centre.0 - follow.size.0 / 2.0 <= box_x);

    session.set_framing(0, Framing::Centre);
    assert_eq!(session.framing(0), Framing::Centre);
    assert_eq!(session.crop_window(0, at).unwrap().centre, (0.5, 0.5));
    session.set_framing(0, Framing::Fixed { x: 0.7, y: 0.5 });
    let fixed = session.crop_window(0, at).unwrap();
    assert!((fixed.centre.0 - 0.7).abs() < 1e-4, "{fixed:?}");
    // The framing is saved with the project.
    let saved = session.project().to_json(dir.path());
    let reopened =
        beatcut::project::Project::from_json(&saved, &dir.path().join("p.json")).expect("reopen");
    assert_eq!(
        reopened.constraints.framing,
        session.project().constraints.framing
    );

    session.undo();
    assert_eq!(
        session.framing(0),
        Framing::Centre,
        "undo returns to centre"
    );
    session.undo();
    assert_eq!(session.framing(0), Framing::Follow);
    assert_eq!(session.crop_window(0, at), Some(follow));

    // A centre crop (not reframe) ignores the subject.
    session.set_export_format(
        beatcut::render::Preset::Draft,
        beatcut::render::Aspect::Portrait,
        Some(beatcut::render::Fit::Crop),
    );
    assert_eq!(session.crop_window(0, at).unwrap().centre, (0.5, 0.5));
    let _ = TICKS_PER_SECOND;
}
