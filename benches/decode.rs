//! Decoding throughput: audio samples per second and video frames per second at 360p, 720p
//! and 1080p, each next to the ffmpeg CLI decoding the same file in the same run.
//!
//! Run with `cargo bench --bench decode`. Media is generated with the ffmpeg CLI into
//! `target/bench-media` on first use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use beatcut::jobs::CancelToken;
use beatcut::media::{PixelLayout, VideoDecodeOptions, VideoDecoder, decode_audio};
use criterion::{Criterion, Throughput};

fn media_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-media");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg CLI");
    assert!(status.success(), "ffmpeg {args:?}");
}

fn video_file(height: u32) -> PathBuf {
    let path = media_dir().join(format!("decode-{height}p.mp4"));
    if !path.exists() {
        let width = height * 16 / 9;
        let source = format!("testsrc2=s={width}x{height}:r=30:d=10");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &source,
            "-c:v",
            "libx264",
            "-preset",
            "fast",
            "-g",
            "250",
            "-pix_fmt",
            "yuv420p",
            path.to_str().expect("utf8"),
        ]);
    }
    path
}

fn audio_file() -> PathBuf {
    let path = media_dir().join("decode-180s.mp3");
    if !path.exists() {
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100:duration=180",
            "-ac",
            "2",
            "-b:a",
            "192k",
            path.to_str().expect("utf8"),
        ]);
    }
    path
}

/// Median wall time of `runs` ffmpeg CLI decodes of `path` to the null muxer.
fn ffmpeg_decode_secs(path: &Path, extra: &[&str], runs: usize) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let mut args = vec!["-i", path.to_str().expect("utf8")];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["-f", "null", "-"]);
            ffmpeg(&args);
            started.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

fn decode_all_frames(path: &Path, layout: PixelLayout) -> u64 {
    let mut decoder = VideoDecoder::open(
        path,
        VideoDecodeOptions {
            layout,
            ..Default::default()
        },
    )
    .expect("open");
    let mut frames = 0;
    while decoder.next_frame().expect("decode").is_some() {
        frames += 1;
    }
    frames
}

fn bench(c: &mut Criterion) {
    let mut report = Vec::new();
    let audio = audio_file();
    {
        let mut group = c.benchmark_group("audio-decode");
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(8));
        let samples = 180 * 44_100u64;
        group.throughput(Throughput::Elements(samples));
        group.bench_function("mp3-180s-to-22k-mono", |b| {
            b.iter(|| {
                decode_audio(&audio, 22_050, 1, &CancelToken::new(), &mut |_| {}).expect("decode")
            })
        });
        group.finish();
        let started = Instant::now();
        let runs = 3;
        for _ in 0..runs {
            decode_audio(&audio, 44_100, 2, &CancelToken::new(), &mut |_| {}).expect("decode");
        }
        let ours = started.elapsed().as_secs_f64() / runs as f64;
        let theirs = ffmpeg_decode_secs(&audio, &["-threads", "1"], runs);
        report.push(format!(
            "audio mp3 180 s: beatcut {:.1} M samples/s, ffmpeg CLI {:.1} M samples/s, ratio {:.2}",
            samples as f64 / ours / 1e6,
            samples as f64 / theirs / 1e6,
            theirs / ours
        ));
    }
    for height in [360u32, 720, 1080] {
        let path = video_file(height);
        let frames = decode_all_frames(&path, PixelLayout::Yuv420p);
        let mut group = c.benchmark_group(format!("video-decode-{height}p"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(10));
        group.throughput(Throughput::Elements(frames));
        group.bench_function("yuv420p", |b| {
            b.iter(|| decode_all_frames(&path, PixelLayout::Yuv420p))
        });
        group.finish();
        let runs = 3;
        let started = Instant::now();
        for _ in 0..runs {
            decode_all_frames(&path, PixelLayout::Yuv420p);
        }
        let ours = started.elapsed().as_secs_f64() / runs as f64;
        let theirs = ffmpeg_decode_secs(&path, &[], runs);
        report.push(format!(
            "video {height}p H.264: beatcut {:.0} fps, ffmpeg CLI {:.0} fps, ratio {:.2}",
            frames as f64 / ours,
            frames as f64 / theirs,
            theirs / ours
        ));
    }
    println!("\ndecode throughput against the ffmpeg CLI (same files, same run):");
    for line in report {
        println!("  {line}");
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
