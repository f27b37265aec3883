//! Export: every cut lands on its planned frame, duration and streams are exact, audio
//! stays in sync, mixed inputs (VFR, rotated, 9:16, 24/60 fps, no audio) work, and a
//! cancelled export leaves no file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use beatcut::jobs::CancelToken;
use beatcut::media::{self, PixelLayout, VideoDecodeOptions, VideoDecoder};
use beatcut::render::{RenderJob, RenderSegment, RenderSettings, render};
use beatcut::time::{FrameRate, TICKS_PER_SECOND, secs_from_ticks};
use common::*;

fn small_settings(fps: i32) -> RenderSettings {
    let mut settings = RenderSettings::new(
        beatcut::render::Preset::Draft,
        beatcut::render::Aspect::Landscape,
        FrameRate::whole(fps),
    );
    settings.width = 320;
    settings.height = 180;
    settings.fade_out = 0;
    settings
}

/// Click track: a short 1 kHz burst every `period` seconds.
fn click_track(dir: &Path, secs: f32, period: f32) -> std::path::PathBuf {
    let path = dir.join("clicks.wav");
    let expr = format!(
        "aevalsrc='if(lt(mod(t\\,{period})\\,0.01)\\,0.9*sin(2*PI*1000*t)\\,0)':s=48000:d={secs}"
    );
    ffmpeg(&["-f", "lavfi", "-i", &expr, path.to_str().expect("utf8")]);
    path
}

fn frame_index_at(decoder: &mut VideoDecoder, t: i64) -> u32 {
    let frame = decoder.seek_exact(t).expect("seek").expect("frame");
    index_of_gray(&frame.data, frame.width as usize, frame.height as usize)
}

#[test]
fn cuts_land_on_their_frames_and_duration_is_exact() {
    let dir = temp_dir();
    let d = dir.path();
    // Sources at 25, 24 and 60 fps (re-timed to the 25 fps output grid by the renderer).
    let a = indexed_clip(
        d,
        "a.mp4",
        25,
        150,
        &["-c:v", "libx264", "-crf", "10", "-g", "48"],
    );
    let b = indexed_clip(
        d,
        "b.mp4",
        24,
        150,
        &["-c:v", "libx264", "-crf", "10", "-g", "48"],
    );
    let c = indexed_clip(
        d,
        "c.mp4",
        60,
        300,
        &["-c:v", "libx264", "-crf", "10", "-g", "120"],
    );
    let music = click_track(d, 6.0, 0.5);
    let out_fps = FrameRate::whole(25);
    let f = |n: i64| out_fps.ticks_of_frame(n);
    let src = |fps: i64, n: i64| FrameRate::whole(fps as i32).ticks_of_frame(n);
    // Cuts at output frames 25, 60, 100; the last segment ends at frame 150 (6 s).
    let segments = vec![
        RenderSegment {
            clip: 0,
            src_in: src(25, 40),
            src_out: src(25, 65),
            start: f(0),
            end: f(25),
            crossfade_frames: 0,
            crop: None,
        },
        RenderSegment {
            clip: 1,
            src_in: src(24, 10),
            src_out: src(24, 10) + f(35),
            start: f(25),
            end: f(60),
            crossfade_frames: 0,
            crop: None,
        },
        RenderSegment {
            clip: 2,
            src_in: src(60, 100),
            src_out: src(60, 100) + f(40),
            start: f(60),
            end: f(100),
            crossfade_frames: 0,
            crop: None,
        },
        RenderSegment {
            clip: 0,
            src_in: src(25, 0),
            src_out: src(25, 50),
            start: f(100),
            end: f(150),
            crossfade_frames: 0,
            crop: None,
        },
    ];
    let job = RenderJob {
        clips: vec![a, b, c],
        music,
        segments: segments.clone(),
        duration: f(150),
        music_start: 0,
        music_fade_out: 0,
    };
    let output = d.join("out.mp4");
    let mut last_progress = None;
    let report = render(
        &job,
        &small_settings(25),
        &output,
        &CancelToken::new(),
        &mut |p| last_progress = Some(p),
    )
    .expect("render");
    assert_eq!(report.frames, 150);
    assert_eq!(last_progress.map(|p| p.frames_done), Some(150));

    let info = media::probe(&output).expect("probe output");
    let video = info.video().expect("video");
    let audio = info.audio().expect("audio");
    assert_eq!(video.codec, "h264");
    assert_eq!(audio.codec, "aac");
    assert_eq!(video.frame_count, 150);
    assert!(
        (secs_from_ticks(video.duration) - 6.0).abs() <= 1.0 / 25.0,
        "video {}",
        secs_from_ticks(video.duration)
    );
    assert!(
        (secs_from_ticks(audio.duration) - 6.0).abs() <= 1.0 / 25.0,
        "audio {}",
        secs_from_ticks(audio.duration)
    );

    // Each output frame shows the planned source frame: check both sides of every cut.
    let mut decoder = VideoDecoder::open(
        &output,
        VideoDecodeOptions {
            layout: PixelLayout::Gray8,
            ..Default::default()
        },
    )
    .expect("open output");
    let expected = |seg: &RenderSegment, fps: i64, out_frame: i64| -> u32 {
        let t = seg.src_in + (f(out_frame) - seg.start);
        FrameRate::whole(fps as i32).frame_at(t + 1) as u32
    };
    let rates = [25, 24, 60, 25];
    for (k, seg) in segments.iter().enumerate() {
        let first = out_fps.nearest_frame(seg.start);
        let last = out_fps.nearest_frame(seg.end) - 1;
        for n in [first, first + 1, last] {
            let want = expected(seg, rates[k], n);
            assert_eq!(
                frame_index_at(&mut decoder, f(n)),
                want,
                "segment {k}, output frame {n}"
            );
        }
    }
}

#[test]
fn audio_stays_in_sync_with_clicks() {
    let dir = temp_dir();
    let d = dir.path();
    let clip = indexed_clip(d, "a.mp4", 30, 300, &["-c:v", "libx264", "-g", "30"]);
    let music = click_track(d, 10.0, 1.0);
    let fps = FrameRate::whole(30);
    let job = RenderJob {
        clips: vec![clip],
        music,
        segments: vec![RenderSegment {
            clip: 0,
            src_in: 0,
            src_out: 10 * TICKS_PER_SECOND,
            start: 0,
            end: 10 * TICKS_PER_SECOND,
            crossfade_frames: 0,
            crop: None,
        }],
        duration: 10 * TICKS_PER_SECOND,
        music_start: 0,
        music_fade_out: 0,
    };
    let output = d.join("sync.mp4");
    render(
        &job,
        &small_settings(30),
        &output,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect("render");
    let audio = media::decode_audio(&output, 48_000, 1, &CancelToken::new(), &mut |_| {})
        .expect("decode output audio");
    // Find each click's onset in the output and compare with where it was placed.
    let frame_secs = 1.0 / fps.as_f64();
    for k in 1..9 {
        let expect = k as f64;
        let from = ((expect - 0.2) * 48_000.0) as usize;
        let to = ((expect + 0.2) * 48_000.0) as usize;
        let onset = (from..to)
            .find(|&i| audio.samples[i].abs() > 0.3)
            .expect("click present");
        let got = onset as f64 / 48_000.0;
        assert!(
            (got - expect).abs() < frame_secs,
            "click {k} at {got:.4} s, expected {expect}"
        );
    }
}

#[test]
fn mixed_inputs_render_in_one_montage() {
    let dir = temp_dir();
    let d = dir.path();
    let portrait = pattern_clip(d, "portrait.mp4", "180x320", 30, 2.0, &["-c:v", "libx264"]);
    let plain = pattern_clip(d, "plain.mp4", "320x180", 60, 2.0, &["-c:v", "libx264"]);
    let rotated = d.join("rotated.mp4");
    ffmpeg(&[
        "-i",
        plain.to_str().expect("utf8"),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        rotated.to_str().expect("utf8"),
    ]);
    let silent = d.join("silent.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=640x360:r=24:d=2",
        "-c:v",
        "libx265",
        "-x265-params",
        "log-level=error",
        silent.to_str().expect("utf8"),
    ]);
    let vfr = d.join("vfr.mp4");
    ffmpeg(&[
        "-i",
        plain.to_str().expect("utf8"),
        "-vf",
        "select='not(mod(n\\,3))+gt(n\\,90)'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        vfr.to_str().expect("utf8"),
    ]);
    let music = click_track(d, 5.0, 0.5);
    let t = |s: f64| beatcut::time::ticks_from_secs(s);
    let segments: Vec<RenderSegment> = (0..5)
        .map(|i| RenderSegment {
            clip: i,
            src_in: t(0.2),
            src_out: t(1.2),
            start: t(i as f64),
            end: t(i as f64 + 1.0),
            crossfade_frames: if i == 2 { 6 } else { 0 },
            crop: None,
        })
        .collect();
    let job = RenderJob {
        clips: vec![portrait, plain, rotated, silent, vfr],
        music,
        segments,
        duration: t(5.0),
        music_start: 0,
        music_fade_out: 0,
    };
    let output = d.join("mixed.mp4");
    let report = render(
        &job,
        &small_settings(30),
        &output,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect("render");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let info = media::probe(&output).expect("probe");
    assert_eq!(info.video().expect("video").frame_count, 150);
    assert_eq!(
        (
            info.video().expect("v").width,
            info.video().expect("v").height
        ),
        (320, 180)
    );
}

#[test]
fn cancel_leaves_no_file_and_missing_clip_is_reported() {
    let dir = temp_dir();
    let d = dir.path();
    // 30 s (900 frames): long enough that an export going on after the cancel would report
    // progress again (every 100 ms).
    let clip = pattern_clip(d, "a.mp4", "320x180", 30, 30.0, &["-c:v", "libx264"]);
    let music = click_track(d, 30.0, 0.5);
    let job = RenderJob {
        clips: vec![clip],
        music: music.clone(),
        segments: vec![RenderSegment {
            clip: 0,
            src_in: 0,
            src_out: 30 * TICKS_PER_SECOND,
            start: 0,
            end: 30 * TICKS_PER_SECOND,
            crossfade_frames: 0,
            crop: None,
        }],
        duration: 30 * TICKS_PER_SECOND,
        music_start: 0,
        music_fade_out: 0,
    };
    let output = d.join("cancelled.mp4");
    let cancel = CancelToken::new();
    let mut reports = Vec::new();
    let result = render(&job, &small_settings(30), &output, &cancel, &mut |p| {
        reports.push(p.frames_done);
        cancel.cancel();
    });
    assert!(
        matches!(result, Err(beatcut::render::RenderError::Cancelled)),
        "{result:?}"
    );
    // The export stops at the next frame: no progress is reported after the cancel.
    assert_eq!(reports.len(), 1, "progress after the cancel: {reports:?}");
    assert!(reports[0] < 900, "{reports:?}");
    assert!(!output.exists());
    assert!(std::fs::read_dir(d).expect("dir").all(|e| {
        !e.expect("entry")
            .file_name()
            .to_string_lossy()
            .contains("partial")
    }));

    // A broken music file fails clearly, naming it, and writes nothing.
    let bad_music = d.join("bad.mp3");
    std::fs::write(&bad_music, b"nope").expect("write");
    let job = RenderJob {
        music: bad_music,
        ..job
    };
    let err = render(
        &job,
        &small_settings(30),
        &output,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect_err("bad music");
    assert!(err.to_string().contains("bad.mp3"), "{err}");
    assert!(!output.exists());
}

#[test]
fn clip_sound_is_mixed_under_the_music_when_asked() {
    let dir = temp_dir();
    let d = dir.path();
    // The clip carries a 330 Hz tone; the music is clicks with silence between them.
    let clip = pattern_clip(
        d,
        "toned.mp4",
        "320x180",
        25,
        3.0,
        &["-c:v", "libx264", "-c:a", "aac"],
    );
    let music = click_track(d, 3.0, 1.0);
    let t = |s: f64| beatcut::time::ticks_from_secs(s);
    let job = RenderJob {
        clips: vec![clip],
        music,
        segments: vec![RenderSegment {
            clip: 0,
            src_in: 0,
            src_out: t(3.0),
            start: 0,
            end: t(3.0),
            crossfade_frames: 0,
            crop: None,
        }],
        duration: t(3.0),
        music_start: 0,
        music_fade_out: 0,
    };
    let quiet_rms = |path: &Path| {
        let audio =
            media::decode_audio(path, 48_000, 1, &CancelToken::new(), &mut |_| {}).expect("decode");
        // Between clicks: 0.3 s .. 0.9 s.
        let part = &audio.samples[14_400..43_200];
        (part.iter().map(|s| s * s).sum::<f32>() / part.len() as f32).sqrt()
    };
    let without = d.join("without.mp4");
    render(
        &job,
        &small_settings(25),
        &without,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect("render");
    let mut settings = small_settings(25);
    settings.clip_audio_level = 0.5;
    let with = d.join("with.mp4");
    render(&job, &settings, &with, &CancelToken::new(), &mut |_| {}).expect("render");
    let (a, b) = (quiet_rms(&without), quiet_rms(&with));
    assert!(a < 0.01, "music alone is silent between clicks ({a})");
    assert!(b > 0.03, "the clip's tone is audible under the music ({b})");
}

/// The music's level (amplitude of its 80 Hz tone) around `t` seconds of `samples` (mono).
fn tone_level(samples: &[f32], rate: f32, t: f32, freq: f32) -> f32 {
    let start = (t * rate) as usize;
    let n = (0.25 * rate) as usize;
    let window = &samples[start..start + n];
    let (mut re, mut im) = (0.0f32, 0.0f32);
    for (k, x) in window.iter().enumerate() {
        let phase = 2.0 * std::f32::consts::PI * freq * k as f32 / rate;
        re += x * phase.cos();
        im += x * phase.sin();
    }
    2.0 * (re * re + im * im).sqrt() / n as f32
}

/// With clip sound on, the music ducks by the set depth while the clip's voice-like sound
/// plays (2-4 s), and keeps its level elsewhere; without ducking it never moves.
#[test]
fn music_ducks_under_clip_sound_by_the_set_depth() {
    let dir = temp_dir();
    let d = dir.path();
    let clip = d.join("talk.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=160x96:r=25:d=6",
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='0.4*sin(2*PI*300*t)*(0.6+0.4*sin(2*PI*4*t))*between(t\\,2\\,4)':s=48000:d=6",
        "-c:v",
        "libx264",
        "-c:a",
        "aac",
        "-shortest",
        clip.to_str().unwrap(),
    ]);
    let music = d.join("hum.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='0.3*sin(2*PI*80*t)':s=48000:d=6",
        music.to_str().unwrap(),
    ]);
    let fps = FrameRate::whole(25);
    let job = RenderJob {
        clips: vec![clip],
        music,
        segments: vec![RenderSegment {
            clip: 0,
            src_in: 0,
            src_out: fps.ticks_of_frame(150),
            start: 0,
            end: fps.ticks_of_frame(150),
            crossfade_frames: 0,
            crop: None,
        }],
        duration: fps.ticks_of_frame(150),
        music_start: 0,
        music_fade_out: 0,
    };
    let levels = |duck_db: f32, name: &str| -> [f32; 3] {
        let mut settings = small_settings(25);
        settings.fade_out = 0;
        settings.clip_audio_level = 1.0;
        settings.duck_db = duck_db;
        let out = d.join(name);
        render(&job, &settings, &out, &CancelToken::new(), &mut |_| {}).expect("render");
        let audio =
            media::decode_audio(&out, 48_000, 1, &CancelToken::new(), &mut |_| {}).expect("decode");
        [1.0, 3.0, 5.0].map(|t| tone_level(&audio.samples, 48_000.0, t, 80.0))
    };
    let [before, during, after] = levels(12.0, "ducked.mp4");
    let db = |x: f32, y: f32| 20.0 * (x / y).log10();
    let ducked = db(during, before);
    assert!(
        (ducked + 12.0).abs() < 1.5,
        "music under the voice: {ducked:.1} dB (asked -12)"
    );
    assert!(db(after, before).abs() < 1.0, "back after the voice");
    let [plain_before, plain_during, _] = levels(0.0, "plain.mp4");
    assert!(
        db(plain_during, plain_before).abs() < 1.0,
        "no ducking at 0 dB"
    );
    assert!(
        db(before, plain_before).abs() < 1.0,
        "no ducking without the voice"
    );
}
