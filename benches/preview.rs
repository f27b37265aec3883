//! Preview decode path benchmark (GUI-free `FrameServer`), on a 1080p25 H.264 clip with a
//! long GOP (`-g 250`, 20 s) made at bench time with the ffmpeg CLI.
//!
//! Method: one server (decoders stay open, as in the editor), frames scaled into the
//! 960×540 preview box as planar 4:2:0.
//! - seek: 40 requests at pseudo-random times (fixed seed) over the clip; p50/p95 latency.
//!   Target p95 ≤ 250 ms without proxies (≤ 100 ms with proxies).
//! - proxy: generation of the clip's seek proxy (all-intra, 640×360, ultrafast) from
//!   scratch into a temp dir: source frames per second and size; then the same 40 seeks
//!   through `quick_frame_at` with the proxy known (each checked to be a proxy frame at the
//!   source time asked for).
//! - scrub: a drag back and forth over the same 2 s (one output frame per step); p50/p95.
//! - playback: every output frame at 30 fps for 10 s in order; frames per second, which
//!   must reach 30.
//!
//! Run: `cargo bench --bench preview` (needs `[[bench]] name = "preview" harness = false`).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use beatcut::cache::ContentKey;
use beatcut::jobs::{CancelToken, JobContext};
use beatcut::media::{ProxySettings, ProxyStore};
use beatcut::preview::frame_server::{FrameServer, FrameServerOptions};
use beatcut::time::{FrameRate, TICKS_PER_SECOND, Ticks};

const CLIP_SECS: i64 = 20;

fn clip() -> Option<PathBuf> {
    let path = std::env::temp_dir().join("beatcut-bench-preview-1080p25-g250.mp4");
    if path.exists() {
        return Some(path);
    }
    eprintln!("making {} with the ffmpeg CLI…", path.display());
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!(
            "testsrc2=s=1920x1080:r=25:d={CLIP_SECS},noise=alls=12:allf=t+u"
        ))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "250",
            "-keyint_min",
            "250",
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&path)
        .status();
    match status {
        Ok(s) if s.success() => Some(path),
        other => {
            eprintln!("cannot make the bench clip ({other:?}); is the ffmpeg CLI installed?");
            let _ = std::fs::remove_file(&path);
            None
        }
    }
}

fn percentiles(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len().saturating_sub(1)) as f64 * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    (at(0.5), at(0.95), at(1.0))
}

/// xorshift64*: reproducible times without a rand dependency.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn main() {
    let Some(clip) = clip() else {
        return;
    };
    let options = FrameServerOptions::default();
    println!(
        "preview bench: {} (1080p25 H.264, GOP 250, {CLIP_SECS} s) into a {}x{} box, {} decoder threads",
        clip.display(),
        options.box_size.0,
        options.box_size.1,
        options.threads
    );

    // Opening (probe + decoder) is not part of a seek.
    let mut server = FrameServer::new(options.clone());
    let open_started = Instant::now();
    let _ = server.frame_at(&clip, 0);
    println!(
        "open + first frame: {:.1} ms",
        open_started.elapsed().as_secs_f64() * 1000.0
    );

    // Seeks to random times.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut seeks = Vec::new();
    let span = (CLIP_SECS * TICKS_PER_SECOND) - TICKS_PER_SECOND / 5;
    for _ in 0..40 {
        let t = (next_random(&mut state) % span as u64) as Ticks;
        let started = Instant::now();
        match server.frame_at(&clip, t) {
            Ok(Some(_)) => seeks.push(started.elapsed()),
            Ok(None) => eprintln!("no frame at {t}"),
            Err(e) => eprintln!("seek failed: {e}"),
        }
    }
    let stats = server.stats();
    let (p50, p95, max) = percentiles(&mut seeks);
    println!(
        "seek to random time: p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms over {} ({} seeks, {} forward, {} cache hits); target p95 <= 250 ms without proxies, <= 100 ms with proxies: {}",
        seeks.len(),
        stats.seeks,
        stats.forward,
        stats.hits,
        if p95 <= 250.0 {
            "MET (no proxy)"
        } else {
            "NOT MET without proxies"
        }
    );

    // Seek proxy: generation from scratch, then the same seeks answered from it.
    let proxy_dir =
        std::env::temp_dir().join(format!("beatcut-bench-proxies-{}", std::process::id()));
    let store = ProxyStore::new(&proxy_dir, ProxySettings::default());
    let proxy = match ContentKey::from_path(&clip) {
        Ok(key) => {
            let ctx = JobContext::detached("proxy", CancelToken::new(), |_| {});
            let started = Instant::now();
            match store.generate(&clip, &key, &ctx, None) {
                Ok(proxy) => {
                    let secs = started.elapsed().as_secs_f64();
                    let frames = proxy.index.source_times.len();
                    let bytes = std::fs::metadata(&proxy.video).map_or(0, |m| m.len());
                    let source_bytes = std::fs::metadata(&clip).map_or(0, |m| m.len());
                    println!(
                        "proxy generation ({}x{}, all-intra, crf {}, {}): {frames} frames in {secs:.2} s = {:.0} source frames/s ({:.1}x realtime); {:.1} MB ({:.0} kbit/s; source {:.1} MB)",
                        proxy.index.width,
                        proxy.index.height,
                        store.settings().crf,
                        store.settings().preset,
                        frames as f64 / secs,
                        frames as f64 / secs / 25.0,
                        bytes as f64 / 1e6,
                        bytes as f64 * 8.0 / 1000.0 / CLIP_SECS as f64,
                        source_bytes as f64 / 1e6,
                    );
                    Some(proxy)
                }
                Err(e) => {
                    eprintln!("proxy generation failed: {e}");
                    None
                }
            }
        }
        Err(e) => {
            eprintln!("cannot key the clip: {e}");
            None
        }
    };
    if let Some(proxy) = proxy {
        let mut proxied = FrameServer::new(options.clone());
        let _ = proxied.frame_at(&clip, 0);
        proxied.set_proxy(&clip, proxy);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut samples = Vec::new();
        let mut from_proxy = 0;
        for _ in 0..40 {
            let t = (next_random(&mut state) % span as u64) as Ticks;
            let started = Instant::now();
            match proxied.quick_frame_at(&clip, t) {
                Ok(Some(served)) => {
                    samples.push(started.elapsed());
                    if served.proxy {
                        from_proxy += 1;
                    }
                    if served.frame.time > t || t - served.frame.time >= TICKS_PER_SECOND / 25 {
                        eprintln!("wrong frame for {t}: starts at {}", served.frame.time);
                    }
                }
                Ok(None) => eprintln!("no frame at {t}"),
                Err(e) => eprintln!("seek failed: {e}"),
            }
        }
        let (p50, p95, max) = percentiles(&mut samples);
        println!(
            "seek to random time with proxy: p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms over {} ({from_proxy} from the proxy); target p95 <= 100 ms: {}",
            samples.len(),
            if p95 <= 100.0 { "MET" } else { "NOT MET" }
        );
    }
    let _ = std::fs::remove_dir_all(&proxy_dir);

    // Scrubbing back and forth over 2 s at one output frame per step.
    let fps = FrameRate::whole(30);
    let base = 7 * TICKS_PER_SECOND;
    let steps: Vec<Ticks> = (0..60)
        .chain((0..60).rev())
        .chain(0..60)
        .chain((0..60).rev())
        .map(|i| base + fps.ticks_of_frame(i))
        .collect();
    let before = server.stats();
    let mut scrub = Vec::new();
    for &t in &steps {
        let started = Instant::now();
        if let Ok(Some(_)) = server.frame_at(&clip, t) {
            scrub.push(started.elapsed());
        }
    }
    let after = server.stats();
    let (p50, p95, max) = percentiles(&mut scrub);
    println!(
        "scrub back and forth over 2 s (240 steps): p50 {p50:.2} ms, p95 {p95:.1} ms, max {max:.1} ms ({} cache hits, {} forward, {} seeks)",
        after.hits - before.hits,
        after.forward - before.forward,
        after.seeks - before.seeks
    );

    // Playback: every output frame in order at 30 fps (decode-forward path, no look-ahead).
    let mut server = FrameServer::new(options);
    let start = 2 * TICKS_PER_SECOND;
    let _ = server.frame_at(&clip, start);
    let frames = 300;
    let started = Instant::now();
    let mut per_frame = Vec::new();
    for i in 1..=frames {
        let t0 = Instant::now();
        let _ = server.frame_at(&clip, start + fps.ticks_of_frame(i));
        per_frame.push(t0.elapsed());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = frames as f64 / elapsed;
    let (p50, p95, max) = percentiles(&mut per_frame);
    println!(
        "playback at 30 fps output (1080p source → 960x540): {rate:.1} output frames/s ({:.0} source frames/s), per frame p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms; target >= 30: {}",
        rate * 25.0 / 30.0,
        if rate >= 30.0 { "MET" } else { "NOT MET" }
    );
}
