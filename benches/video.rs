//! Clip analysis speed at 1080p against the ffmpeg CLI decoding the same clip to nowhere.
//!
//! Method: one 10 s 1080p30 H.264 clip (long GOP, `-g 250`, hard cuts) is made with the
//! ffmpeg CLI; `ffmpeg -i clip -f null -` (default threads), accurate mode and fast mode are
//! timed round-robin over the same number of runs in this process (so a shared machine's
//! changing load hits all three alike) and the medians printed as
//! frames per second (clip frames / wall time) with their ratio to decode-only (accurate's
//! target: ≥ 0.9 ×). PySceneDetect is not run here: `make bench` (section scenes) runs it side
//! by side on the same clips, and the fast-mode target against it is in bench/report.md; no
//! peer figure is typed in. Criterion then measures the two modes again for its report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use beatcut::analysis::video::{ClipParams, DetectMode, analyze_clip};
use beatcut::jobs::CancelToken;
use criterion::Criterion;

const FPS: u32 = 30;
const SECS: u32 = 10;
const RUNS: usize = 5;

fn make_clip(dir: &Path) -> PathBuf {
    let path = dir.join("bench_1080p.mp4");
    let seg = |src: &str| {
        let sep = if src.contains('=') { ":" } else { "=" };
        format!("{src}{sep}s=1920x1080:r={FPS}")
    };
    // Four shots of 2.5 s; x264's defaults (scene-cut keyframes on) with a 250-frame GOP.
    let graph = "[0:v]trim=end_frame=75,setpts=PTS-STARTPTS[a];[1:v]trim=end_frame=75,setpts=PTS-STARTPTS[b];\
                 [2:v]trim=end_frame=75,setpts=PTS-STARTPTS[c];[3:v]trim=end_frame=75,setpts=PTS-STARTPTS[d];\
                 [a][b][c][d]concat=n=4:v=1:a=0,format=yuv420p[out]";
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", &seg("testsrc2")])
        .args(["-f", "lavfi", "-i", &seg("smptehdbars")])
        .args(["-f", "lavfi", "-i", &seg("gradients=speed=0.02")])
        .args(["-f", "lavfi", "-i", &seg("testsrc")])
        .args(["-filter_complex", graph, "-map", "[out]"])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-g", "250",
        ])
        .arg(&path)
        .status()
        .expect("ffmpeg CLI is installed");
    assert!(status.success(), "making the bench clip failed");
    path
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times the jobs round-robin (one run of each per round, after a warm-up round) and returns
/// each job's median: on a shared machine load changes over seconds, and interleaving makes
/// every job see the same load instead of biasing whichever ran during a busy spell.
fn time_interleaved<const N: usize>(jobs: &mut [&mut dyn FnMut(); N]) -> [Duration; N] {
    for job in jobs.iter_mut() {
        job(); // warm the page cache and code paths
    }
    let mut samples: [Vec<Duration>; N] = std::array::from_fn(|_| Vec::new());
    for _ in 0..RUNS {
        for (job, times) in jobs.iter_mut().zip(samples.iter_mut()) {
            let t = Instant::now();
            job();
            times.push(t.elapsed());
        }
    }
    samples.map(median)
}

fn analyze(path: &Path, mode: DetectMode) -> usize {
    let params = ClipParams {
        mode,
        ..ClipParams::default()
    };
    let a = analyze_clip(path, &params, &CancelToken::new(), &mut |_| {}).expect("analysis");
    a.cuts.len()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = make_clip(dir.path());
    let frames = f64::from(FPS * SECS);

    let mut run_ffmpeg = || {
        let ok = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-i"])
            .arg(&clip)
            .args(["-f", "null", "-"])
            .status()
            .expect("ffmpeg")
            .success();
        assert!(ok);
    };
    let mut run_accurate = || {
        analyze(&clip, DetectMode::Accurate);
    };
    let mut run_fast = || {
        analyze(&clip, DetectMode::Fast);
    };
    let [ffmpeg, accurate, fast] =
        time_interleaved(&mut [&mut run_ffmpeg, &mut run_accurate, &mut run_fast]);
    let fps = |d: Duration| frames / d.as_secs_f64();
    let (f_ff, f_acc, f_fast) = (fps(ffmpeg), fps(accurate), fps(fast));
    println!("\n1080p H.264, {SECS} s at {FPS} fps, median of {RUNS} runs:");
    println!(
        "  ffmpeg -f null (decode only) {:8.1} fps  ({:.3} s)",
        f_ff,
        ffmpeg.as_secs_f64()
    );
    println!(
        "  accurate mode                {:8.1} fps  ({:.3} s)  {:.2}x decode-only (target >= 0.9), cuts {}",
        f_acc,
        accurate.as_secs_f64(),
        f_acc / f_ff,
        analyze(&clip, DetectMode::Accurate)
    );
    println!(
        "  fast mode                    {:8.1} fps  ({:.3} s)  {:.2}x decode-only, cuts {} \
         (against PySceneDetect: bench/report.md)",
        f_fast,
        fast.as_secs_f64(),
        f_fast / f_ff,
        analyze(&clip, DetectMode::Fast)
    );

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let mut group = c.benchmark_group("video_1080p");
    group.bench_function("accurate", |b| {
        b.iter(|| analyze(&clip, DetectMode::Accurate))
    });
    group.bench_function("fast", |b| b.iter(|| analyze(&clip, DetectMode::Fast)));
    group.finish();
    c.final_summary();
}
