//! Test media made at test time with the ffmpeg CLI (lavfi sources, synthesised tones).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// True under CI (`CI` set, and not to `false` or `0`): there, a check that cannot run because
/// a tool is missing fails instead of passing unchecked.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The list of checks not run in this build's test runs (a tool missing): `target/test-skips.txt`, emptied and
/// printed by `make test` at the end (libtest's capture would swallow a message on stdout).
pub fn skip_log() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR has a parent")
        .join("test-skips.txt")
}

/// A check of `test` cannot run because `missing` is not on this machine (`install` says how
/// to get it). Under CI this fails the test, naming the tool; elsewhere the skip is recorded in
/// `skip_log()` and on stderr, and the caller returns.
pub fn skip_or_fail(test: &str, missing: &str, install: &str) {
    let line = format!("{test}: {missing} is missing ({install})");
    assert!(!under_ci(), "CI=true and a check cannot run: {line}");
    eprintln!("SKIPPED {line}");
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(skip_log())
        .and_then(|mut file| writeln!(file, "{line}"));
    if let Err(e) = appended {
        eprintln!("could not record the skip in {}: {e}", skip_log().display());
    }
}

/// Runs ffmpeg with `args` (quiet, overwrite) and panics with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg CLI is installed (make deps)");
    assert!(
        output.status.success(),
        "ffmpeg {:?} failed: {}",
        args,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs the `beatcut` binary with `args`, its analysis cache in `cache` (never the user's).
pub fn beatcut(cache: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_beatcut"))
        .env("BEATCUT_CACHE_DIR", cache)
        .args(args)
        .output()
        .expect("run beatcut")
}

/// A song of `secs` seconds at 120 BPM: kick-like clicks every 0.5 s with a high tick on
/// top, over a low tone; the container and codec follow `name`'s extension (`extra` adds
/// encoder options).
pub fn click_song(dir: &Path, name: &str, secs: u32, extra: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let source = format!(
        "aevalsrc='0.9*sin(2*PI*60*t)*exp(-25*mod(t\\,0.5))+0.6*sin(2*PI*1500*t)*exp(-80*mod(t\\,0.5))+0.05*sin(2*PI*220*t)':s=44100:d={secs}"
    );
    let mut args = vec!["-f", "lavfi", "-i", &source];
    args.extend_from_slice(extra);
    let out = path.to_string_lossy().to_string();
    args.push(&out);
    ffmpeg(&args);
    path
}

/// A temp dir that lives for the test.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A clip whose frames encode their index: the left half's luma is 20 + 13·(n mod 16),
/// the right half's 20 + 13·(n div 16). Lossless H.264 so the values survive.
pub fn indexed_clip(dir: &Path, name: &str, fps: u32, frames: u32, extra: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let source = format!(
        "color=black:s=160x96:r={fps},format=yuv420p,geq=lum='if(lt(X,W/2),20+13*mod(N,16),20+13*floor(N/16))':cb=128:cr=128"
    );
    let frames_s = frames.to_string();
    let mut args = vec!["-f", "lavfi", "-i", &source, "-frames:v", &frames_s];
    args.extend_from_slice(extra);
    let out = path.to_string_lossy().to_string();
    args.push(&out);
    ffmpeg(&args);
    path
}

/// Reads the frame index back from a Gray8 frame made by `indexed_clip` (any size).
pub fn index_of_gray(data: &[u8], width: usize, height: usize) -> u32 {
    let row = height / 2;
    // Gray output is full range; the clip's luma values are limited range (16..235).
    let to_limited = |g: u8| g as f32 * 219.0 / 255.0 + 16.0;
    let left = to_limited(data[row * width + width / 4]);
    let right = to_limited(data[row * width + 3 * width / 4]);
    let low = ((left - 20.0) / 13.0).round().max(0.0) as u32;
    let high = ((right - 20.0) / 13.0).round().max(0.0) as u32;
    high * 16 + low
}

/// A sine tone of `secs` seconds at `rate` Hz with `channels` channels, in the container
/// implied by the file extension (codec options in `extra`).
pub fn tone(
    dir: &Path,
    name: &str,
    rate: u32,
    channels: u32,
    secs: f32,
    extra: &[&str],
) -> PathBuf {
    let path = dir.join(name);
    let layout = if channels == 1 { "mono" } else { "stereo" };
    let source = format!(
        "sine=frequency=440:sample_rate={rate}:duration={secs},aformat=channel_layouts={layout}"
    );
    let mut args = vec!["-f", "lavfi", "-i", &source];
    args.extend_from_slice(extra);
    let out = path.to_string_lossy().to_string();
    args.push(&out);
    ffmpeg(&args);
    path
}

/// A short test pattern clip with audio, in the container implied by the extension.
pub fn pattern_clip(
    dir: &Path,
    name: &str,
    size: &str,
    fps: u32,
    secs: f32,
    extra: &[&str],
) -> PathBuf {
    let path = dir.join(name);
    let video = format!("testsrc2=s={size}:r={fps}:d={secs}");
    let audio = format!("sine=frequency=330:sample_rate=48000:duration={secs}");
    let mut args = vec!["-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &audio];
    args.extend_from_slice(extra);
    let out = path.to_string_lossy().to_string();
    args.push(&out);
    ffmpeg(&args);
    path
}

/// A 320x180 H.264 clip: a test card dissolving (1 s cross-fade from `offset` seconds) into
/// a fractal, `secs` seconds of each source before the blend shortens them.
pub fn dissolve_clip(dir: &Path, name: &str, fps: u32, secs: (u32, u32), offset: u32) -> PathBuf {
    let path = dir.join(name);
    let graph = format!(
        "testsrc2=s=320x180:r={fps},trim=duration={},setpts=PTS-STARTPTS[a];\
         mandelbrot=s=320x180:r={fps},trim=duration={},setpts=PTS-STARTPTS[b];\
         [a][b]xfade=transition=fade:duration=1:offset={offset},format=yuv420p[v]",
        secs.0, secs.1
    );
    ffmpeg(&[
        "-filter_complex",
        &graph,
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        path.to_str().expect("utf-8 path"),
    ]);
    path
}

/// `dst`: `src` stream-copied with a 90° display rotation (FFmpeg 5.1 writes the display
/// matrix from the rotate tag; 6.0+ has -display_rotation).
pub fn rotated_90(src: &Path, dst: &Path) {
    ffmpeg(&[
        "-i",
        src.to_str().expect("utf-8 path"),
        "-c",
        "copy",
        "-metadata:s:v",
        "rotate=90",
        dst.to_str().expect("utf-8 path"),
    ]);
}

/// A 320x180 H.264 clip at 25 fps: 3 s of lavfi source `a` cut to 3 s of `b` (one hard cut
/// at 3 s); `extra` adds encoder options.
pub fn two_shot_clip(dir: &Path, name: &str, a: &str, b: &str, extra: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let graph = format!(
        "{a}=s=320x180:r=25,trim=duration=3[a];{b}=s=320x180:r=25,trim=duration=3[b];[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]"
    );
    let mut args = vec!["-filter_complex", &graph, "-map", "[v]", "-c:v", "libx264"];
    args.extend_from_slice(extra);
    let out = path.to_string_lossy().to_string();
    args.push(&out);
    ffmpeg(&args);
    path
}

/// A 640x360 clip of `secs` seconds at 30 fps: a yellow 50x70 box over a still grey
/// texture (luma noise), its left edge at `x_expr` pixels (an FFmpeg expression of `t`) and
/// its top at 150 px, so its centre is at ((x + 25) / 640, 185 / 360). `gop` sets the
/// keyframe interval as a phone's encoder would.
pub fn subject_clip(dir: &Path, name: &str, x_expr: &str, secs: u32, gop: u32) -> PathBuf {
    let path = dir.join(name);
    let background =
        format!("color=c=0x606060:s=640x360:r=30:d={secs},noise=c0s=80:allf=u,format=yuv420p");
    let subject = format!("color=c=0xF0E040:s=50x70:r=30:d={secs}");
    let overlay = format!("[0][1]overlay=x='{x_expr}':y=150:eval=frame");
    let gop = gop.to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &background,
        "-f",
        "lavfi",
        "-i",
        &subject,
        "-filter_complex",
        &overlay,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-g",
        &gop,
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap_or_default(),
    ]);
    path
}
