//! Short-form montages: a 30 s montage from a 3-minute song lasts 30 s to the frame, holds
//! the drop, ends on a downbeat (the music decays to silence or is cut at a section end), its
//! cuts sit on the song's beats with the sound on the picture, and the timeline files take
//! the music from the same place. The editing session places and moves the stretch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use beatcut::cache::{Cache, CacheLimits};
use beatcut::editor::Session;
use beatcut::time::{TICKS_PER_SECOND, ticks_from_secs};

/// A 3-minute song at 120 BPM: quiet clicks, a loud stretch with hats from 90 s to 135 s
/// (the drop), quiet again.
fn song_with_a_drop(dir: &Path) -> PathBuf {
    let path = dir.join("song.mp3");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='(if(between(t,90,135),0.9,0.2))*sin(2*PI*60*t)*exp(-25*mod(t,0.5)) + (if(between(t,90,135),0.5,0.05))*sin(2*PI*3000*t)*exp(-60*mod(t,0.25)) + 0.05*sin(2*PI*220*t)':s=44100:d=180",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "192k",
        path.to_str().unwrap(),
    ]);
    path
}

fn clips(dir: &Path) -> Vec<PathBuf> {
    (0..3)
        .map(|i| {
            let path = dir.join(format!("clip{i}.mp4"));
            let video = format!("testsrc2=s=640x360:r=30:d=12,hue=h={}", i * 120);
            common::ffmpeg(&[
                "-f",
                "lavfi",
                "-i",
                &video,
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                path.to_str().unwrap(),
            ]);
            path
        })
        .collect()
}

fn json(output: &std::process::Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

#[test]
fn a_30_second_montage_from_a_3_minute_song() {
    let dir = common::temp_dir();
    let d = dir.path();
    let cache = d.join("cache");
    let song = song_with_a_drop(d);
    let clips = clips(d);
    let analysis = json(&common::beatcut(
        &cache,
        &["analyze", "--json", song.to_str().unwrap()],
    ));
    let drop = analysis["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == "climax")
        .expect("the song's drop is found")["start_s"]
        .as_f64()
        .unwrap();
    let downbeats: Vec<f64> = analysis["downbeats"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    let section_ends: Vec<f64> = analysis["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["end_s"].as_f64())
        .collect();

    let out = d.join("short.mp4");
    let timeline_path = d.join("short.json");
    let mut args = vec![
        "render",
        "--music",
        song.to_str().unwrap(),
        "--length",
        "30",
        "--preset",
        "draft",
        "--verify",
        "-o",
        out.to_str().unwrap(),
        "--timeline",
        timeline_path.to_str().unwrap(),
        "--otio",
    ];
    let otio = d.join("short.otio");
    args.push(otio.to_str().unwrap());
    let clip_args: Vec<&str> = clips.iter().map(|c| c.to_str().unwrap()).collect();
    args.extend(&clip_args);
    let rendered = common::beatcut(&cache, &args);
    let stdout = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        rendered.status.success(),
        "render and its sync report: {stdout}\n{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    // The sound is the song from the stretch's start: the check finds it on the picture.
    assert!(
        stdout.contains("A/V +0 ms") || stdout.contains("A/V -0 ms"),
        "{stdout}"
    );

    // 30 s to the frame, picture and sound.
    let frames = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(&out)
        .output()
        .expect("ffprobe");
    assert_eq!(String::from_utf8_lossy(&frames.stdout).trim(), "900");
    let audio = beatcut::media::decode_audio(
        &out,
        44_100,
        1,
        &beatcut::jobs::CancelToken::new(),
        &mut |_| {},
    )
    .expect("decode the export's sound");
    let secs = audio.samples.len() as f64 / 44_100.0;
    assert!((secs - 30.0).abs() < 1.0 / 30.0, "{secs} s of sound");

    // The stretch holds the drop and starts on a downbeat of the song.
    let timeline: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&timeline_path).unwrap()).unwrap();
    let start = timeline["music_start_s"].as_f64().unwrap();
    assert!(
        start <= drop && drop < start + 30.0,
        "{start} s..+30 s holds the drop at {drop} s"
    );
    let near = |t: f64, set: &[f64]| set.iter().any(|&x| (x - t).abs() < 1.0 / 30.0);
    assert!(near(start, &downbeats), "starts on a downbeat: {start}");
    // It ends on a downbeat: the last cut is one, and the music is cut at a section end or
    // decays to silence over the final bar.
    let segments = timeline["segments"].as_array().unwrap();
    let last_cut = segments.last().unwrap()["start_s"].as_f64().unwrap() + start;
    assert!(
        near(last_cut, &downbeats),
        "last cut on a downbeat: {last_cut}"
    );
    let fade = timeline["music_fade_out_s"].as_f64().unwrap();
    let rms = |s: &[f32]| (s.iter().map(|x| x * x).sum::<f32>() / s.len().max(1) as f32).sqrt();
    let tail = rms(&audio.samples[audio.samples.len() - 441..]);
    let body = rms(&audio.samples[..audio.samples.len() / 2]);
    if fade < 0.1 {
        assert!(near(start + 30.0, &section_ends), "a cut at a section end");
    } else {
        assert!(
            tail < 0.05 * body,
            "the music decays to silence: {tail} vs {body}"
        );
    }

    // The timeline file takes the music from the same place.
    let otio: serde_json::Value = serde_json::from_slice(&std::fs::read(&otio).unwrap()).unwrap();
    let music_track = otio["tracks"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "Audio")
        .expect("a music track");
    let source_in = music_track["children"][0]["source_range"]["start_time"]["value"]
        .as_f64()
        .unwrap();
    assert!(
        (source_in / 30.0 - start).abs() <= 1.0 / 30.0,
        "{source_in} frames"
    );
}

#[test]
fn the_session_sets_the_length_and_moves_the_stretch() {
    let dir = common::temp_dir();
    let d = dir.path();
    let song = song_with_a_drop(d);
    let clips = clips(d);
    let cache = Cache::open(d.join("cache"), CacheLimits::default()).expect("cache");
    let mut session = Session::new(Arc::new(cache), Arc::new(|| {})).with_data_dir(d.join("data"));
    let mut files = clips.clone();
    files.push(song);
    session.add_paths(&files);
    let settle = |s: &mut Session| {
        assert!(s.poll_until(Duration::from_secs(180), |s| !s.is_busy()
            && s.timeline().is_some()
            && s.clips().len() == 3));
    };
    settle(&mut session);
    assert_eq!(
        session.timeline().unwrap().region,
        None,
        "the whole song by default"
    );
    let whole = session.timeline().unwrap().duration;

    session.set_length(Some(15.0));
    settle(&mut session);
    let timeline = session.timeline().unwrap().clone();
    assert_eq!(timeline.duration, 15 * TICKS_PER_SECOND);
    let region = timeline.region.expect("a stretch of the song");
    assert_eq!(region.end - region.start, 15 * TICKS_PER_SECOND);

    // Dragged near 40.3 s: it snaps to the downbeat there (120 BPM: bars every 2 s).
    session.place_region(Some(ticks_from_secs(40.3)));
    settle(&mut session);
    let placed = session.timeline().unwrap().region.expect("region");
    let grid = session.grid().expect("grid");
    let downbeat = grid
        .beats
        .iter()
        .filter(|b| b.beat_in_bar == 0)
        .min_by_key(|b| (b.time - ticks_from_secs(40.3)).abs())
        .unwrap()
        .time;
    assert_eq!(placed.start, downbeat);
    // Every cut of the plan is on a beat of the song, in the stretch.
    let fps = session.timeline().unwrap().fps;
    for segment in &session.timeline().unwrap().segments[1..] {
        let t = segment.start + placed.start;
        assert!(
            grid.beats
                .iter()
                .any(|b| (b.time - t).abs() <= fps.frame_ticks()),
            "cut at {t} on a beat"
        );
    }

    // Undo goes back to the chosen stretch, and the whole song again after that.
    session.undo();
    settle(&mut session);
    assert_eq!(session.timeline().unwrap().region, Some(region));
    session.undo();
    settle(&mut session);
    assert_eq!(session.timeline().unwrap().duration, whole);
}

/// The level of the `freq` Hz component of the `channel`-th channel of interleaved stereo
/// `samples` over `from..to` seconds (Hann-windowed, so a tone 80 Hz away does not leak in).
fn tone_level(samples: &[f32], rate: f32, from: f64, to: f64, freq: f32) -> f32 {
    let (a, b) = ((from * rate as f64) as usize, (to * rate as f64) as usize);
    let n = b.saturating_sub(a).max(1);
    let (mut re, mut im, mut weight) = (0.0f32, 0.0f32, 0.0f32);
    for k in 0..n {
        let x = samples.get((a + k) * 2).copied().unwrap_or(0.0);
        let w = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * k as f32 / n as f32).cos();
        let phase = 2.0 * std::f32::consts::PI * freq * (a + k) as f32 / rate;
        re += w * x * phase.cos();
        im += w * x * phase.sin();
        weight += w;
    }
    2.0 * (re * re + im * im).sqrt() / weight
}

/// With clip sound on, the editing session mixes the preview's sound as the export does:
/// the music ducks by the set depth under the shots of a talking clip and not under the
/// shots of a silent one, the export's sound has the same levels shot by shot, and with
/// clip sound off the preview plays the bare song again.
#[test]
fn the_preview_plays_the_clip_sound_ducked_as_the_export_does() {
    let dir = common::temp_dir();
    let d = dir.path();
    let talk = d.join("talk.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180:r=30:d=10",
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='0.4*sin(2*PI*300*t)*(0.6+0.4*sin(2*PI*4*t))':s=48000:d=10",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-c:a",
        "aac",
        "-shortest",
        talk.to_str().unwrap(),
    ]);
    let quiet = d.join("quiet.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=s=320x180:r=30,trim=duration=10",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        quiet.to_str().unwrap(),
    ]);
    let song = common::click_song(d, "song.wav", 12, &[]);
    let cache = Cache::open(d.join("cache"), CacheLimits::default()).expect("cache");
    let mut session = Session::new(Arc::new(cache), Arc::new(|| {})).with_data_dir(d.join("data"));
    let mut project =
        beatcut::project::Project::with_media(&[talk.clone(), quiet.clone()], Some(song));
    project.export.preset = beatcut::render::Preset::Draft;
    project.plan.min_shot_beats = Some(3.0);
    session.open_unsaved(project);
    session.set_clip_sound(0.8, 12.0);
    let patience = Duration::from_secs(120);
    assert!(session.poll_until(patience, |s| !s.is_busy() && s.soundtrack().is_some()));
    let mix = session.soundtrack().expect("the preview's mix");
    let timeline = session.timeline().expect("plan").clone();
    let talk_id = session
        .project()
        .clip_at_path(&talk)
        .expect("talk")
        .id
        .key();

    // The music's 220 Hz tone near the end of every long shot (the release has settled),
    // before the music's closing fade.
    let fade_starts = timeline.duration - ticks_from_secs(2.5);
    let levels = |samples: &[f32], rate: f32| -> Vec<(bool, f32)> {
        timeline
            .segments
            .iter()
            .filter(|s| s.len() >= ticks_from_secs(1.2) && s.end <= fade_starts)
            .map(|s| {
                let end = beatcut::time::secs_from_ticks(s.end);
                (
                    s.clip == talk_id,
                    tone_level(samples, rate, end - 0.45, end - 0.1, 220.0),
                )
            })
            .collect()
    };
    let preview = levels(&mix.samples, mix.rate as f32);
    let db = |x: f32, y: f32| 20.0 * (x / y).log10();
    let mean = |talking: bool, levels: &[(bool, f32)]| -> Option<f32> {
        let picked: Vec<f32> = levels
            .iter()
            .filter(|l| l.0 == talking)
            .map(|l| l.1)
            .collect();
        (!picked.is_empty()).then(|| picked.iter().sum::<f32>() / picked.len() as f32)
    };
    let (Some(under_talk), Some(alone)) = (mean(true, &preview), mean(false, &preview)) else {
        panic!("the plan needs long shots of both clips: {preview:?}");
    };
    let ducked = db(under_talk, alone);
    assert!(
        (ducked + 12.0).abs() < 2.0,
        "preview: the music under the talking clip is {ducked:.1} dB (asked -12): {preview:?}"
    );

    // The export's sound, shot by shot, is the preview's.
    let output = d.join("ducked.mp4");
    session
        .start_export(beatcut::editor::ExportChoice {
            output: output.clone(),
            clip_audio: 0.8,
            duck_db: 12.0,
            interchange: false,
        })
        .expect("export starts");
    assert!(session.poll_until(patience, |s| {
        s.export_job()
            .is_some_and(|j| j.phase() == beatcut::editor::ExportPhase::Ended)
    }));
    let audio = beatcut::media::decode_audio(
        &output,
        mix.rate,
        2,
        &beatcut::jobs::CancelToken::new(),
        &mut |_| {},
    )
    .expect("decode the export");
    let exported = levels(&audio.samples, mix.rate as f32);
    for ((talking, heard), (_, written)) in preview.iter().zip(&exported) {
        assert!(
            db(*written, *heard).abs() < 1.0,
            "a {} shot: preview {heard}, export {written}",
            if *talking { "talking" } else { "silent" }
        );
    }

    // Clip sound off: the preview goes back to the bare song.
    session.set_clip_sound(0.0, 12.0);
    session.poll_until(patience, |s| !s.is_busy());
    assert!(session.soundtrack().is_none());
}
