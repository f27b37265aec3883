//! Beatcut's side of `make bench`: one stage per invocation, timed here, one JSON line per
//! measurement on stdout (`{"stage", "runs_ms", "extra"}`, or `{"stage", "error"}`).
//!
//! `benches/run.sh` drives it (`cargo bench --bench stages -- STAGE --key value ...`),
//! runs the peer tools with `benches/baselines.py` on the same inputs and `benches/report.py`
//! turns both into `bench/report.md` and `bench/report.json`.
//!
//! Method: release build (cargo's `bench` profile). Slow stages are timed one call per run
//! after one untimed warm-up call; fast stages (well under 100 ms) time a batch of calls
//! lasting at least `BATCH_MS` per run and report the mean per call of each batch. The
//! report takes the median and the min-max of the runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beatcut::analysis::music::{
    Beat, Curve, EnergyCurve, MusicAnalysis, MusicParams, Section, SectionLabel, energy_curve,
};
use beatcut::analysis::video::{ClipAnalysis, ClipParams, DetectMode, Scene, SceneFeatures};
use beatcut::cache::{Cache, CacheKey, CacheLimits, ContentKey};
use beatcut::jobs::CancelToken;
use beatcut::media::{Mp4Writer, VideoEncodeSettings};
use beatcut::plan::{
    ClipInput, Constraints, PlanIndex, PlanSettings, Style, plan, plan_with_index,
};
use beatcut::render::{Aspect, Preset, RenderJob, RenderSegment, RenderSettings};
use beatcut::time::{FrameRate, TICKS_PER_SECOND, Ticks, secs_from_ticks, ticks_from_secs};
use serde_json::{Value, json};

/// Shortest batch of calls timed as one run of a fast stage.
const BATCH_MS: f64 = 200.0;

type StageResult = Result<(), String>;

/// `--key value` options after the stage name (a bare `--flag` is "1").
struct Args {
    stage: String,
    opts: HashMap<String, String>,
}

impl Args {
    fn parse() -> Self {
        let mut stage = String::new();
        let mut opts = HashMap::new();
        let raw: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < raw.len() {
            let a = &raw[i];
            if a == "--bench" || a == "--nocapture" {
                // Added by `cargo bench`.
            } else if let Some(key) = a.strip_prefix("--") {
                match raw.get(i + 1).filter(|v| !v.starts_with("--")) {
                    Some(v) => {
                        opts.insert(key.to_string(), v.clone());
                        i += 1;
                    }
                    None => {
                        opts.insert(key.to_string(), "1".into());
                    }
                }
            } else if stage.is_empty() {
                stage = a.clone();
            }
            i += 1;
        }
        Self { stage, opts }
    }

    fn get(&self, key: &str) -> Result<String, String> {
        self.opts
            .get(key)
            .cloned()
            .ok_or_else(|| format!("missing --{key}"))
    }

    fn path(&self, key: &str) -> Result<PathBuf, String> {
        self.get(key).map(PathBuf::from)
    }

    fn paths(&self, key: &str) -> Result<Vec<PathBuf>, String> {
        Ok(self
            .get(key)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect())
    }

    fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        self.opts
            .get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

fn emit(stage: &str, runs_ms: &[f64], extra: Value) {
    println!(
        "{}",
        json!({ "stage": stage, "runs_ms": runs_ms, "extra": extra })
    );
}

fn emit_error(stage: &str, error: &str) {
    println!("{}", json!({ "stage": stage, "error": error }));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Times `runs` calls of a slow operation after one untimed warm-up call.
fn time_slow<T>(
    runs: usize,
    warmup: bool,
    mut f: impl FnMut() -> Result<T, String>,
) -> Result<(Vec<f64>, T), String> {
    if warmup {
        f()?;
    }
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let out = f()?;
        times.push(ms(t.elapsed()));
        last = Some(out);
    }
    Ok((times, last.expect("at least one run")))
}

/// Times `runs` batches of a fast operation (each at least `BATCH_MS`), ms per call.
fn time_fast(runs: usize, mut f: impl FnMut()) -> (Vec<f64>, u64) {
    let probe = Instant::now();
    f();
    let once = ms(probe.elapsed()).max(1e-6);
    let per_batch = ((BATCH_MS / once).ceil() as u64).clamp(1, 10_000_000);
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        for _ in 0..per_batch {
            f();
        }
        times.push(ms(t.elapsed()) / per_batch as f64);
    }
    (times, per_batch)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

// ---------------------------------------------------------------- media generation

/// Writes the demo song as a WAV (for the MP3) and as raw f32 mono at 22.05 kHz (energy).
fn gen_song(args: &Args) -> StageResult {
    let secs: f64 = args.num("secs", 180.0);
    let bpm: f64 = args.num("bpm", 120.0);
    let wav = args.path("wav")?;
    let samples = beatcut::analysis::music::synth::demo_song(44_100, secs, bpm);
    beatcut::demo::write_wav(&wav, &samples, 44_100).map_err(|e| e.to_string())?;
    if let Ok(raw) = args.path("f32") {
        let mono = beatcut::analysis::music::synth::demo_song(22_050, secs, bpm);
        let bytes: Vec<u8> = mono.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&raw, bytes).map_err(|e| format!("{e}: {}", raw.display()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- audio

fn read_f32(path: &Path) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{e}: {}", path.display()))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn stage_energy(args: &Args) -> StageResult {
    let x = read_f32(&args.path("f32")?)?;
    let runs = args.num("runs", 5);
    let (times, batch) = time_fast(runs, || {
        black_box(energy_curve(black_box(&x), 22_050, 2048, 512));
    });
    let windows = energy_curve(&x, 22_050, 2048, 512).rms.values.len();
    emit(
        "energy",
        &times,
        json!({ "samples": x.len(), "windows": windows, "calls_per_run": batch }),
    );
    Ok(())
}

fn stage_music(args: &Args) -> StageResult {
    let mp3 = args.path("mp3")?;
    let runs = args.num("runs", 5);
    let cancel = CancelToken::new();
    let params = MusicParams::default();
    let result = time_slow(runs, true, || {
        beatcut::media::decode_audio(&mp3, params.analysis_rate, 1, &cancel, &mut |c| {
            black_box(c);
        })
        .map_err(|e| e.to_string())
    });
    match result {
        Ok((times, audio)) => emit(
            "music_decode",
            &times,
            json!({ "decoder": audio.decoder, "rate": audio.rate, "frames": audio.frames() }),
        ),
        Err(e) => emit_error("music_decode", &e),
    }
    let cache = Cache::disabled();
    let mut first_waveform = Vec::new();
    let result = time_slow(runs, true, || {
        let started = Instant::now();
        let mut first = None;
        let out = beatcut::montage::analyze_music(&mp3, &params, &cache, &cancel, &mut |_| {
            first.get_or_insert_with(|| ms(started.elapsed()));
        })
        .map_err(|e| e.to_string())?;
        first_waveform.push(first.unwrap_or(f64::NAN));
        Ok(out.0)
    });
    match result {
        Ok((times, analysis)) => emit(
            "music_analysis",
            &times,
            json!({
                "tempo_bpm": analysis.tempo_bpm,
                "beats": analysis.beats.len(),
                "first_waveform_ms": first_waveform.get(1..).unwrap_or(&[]),
            }),
        ),
        Err(e) => emit_error("music_analysis", &e),
    }
    Ok(())
}

// ---------------------------------------------------------------- file I/O

fn stage_fileio(args: &Args) -> StageResult {
    let dir = args.path("dir")?;
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let size = args.num::<usize>("size-mb", 10) << 20;
    let runs = args.num("runs", 5);
    let path = dir.join("rust-io.bin");
    let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let (times, _) = time_slow(runs, true, || {
        std::fs::write(&path, &data).map_err(|e| e.to_string())?;
        let back = std::fs::read(&path).map_err(|e| e.to_string())?;
        if back.len() != data.len() {
            return Err("short read".into());
        }
        Ok(())
    })?;
    let _ = std::fs::remove_file(&path);
    emit("fileio", &times, json!({ "bytes": size }));
    Ok(())
}

/// A moving colour-bar and gradient picture (like lavfi `testsrc`), YUV 4:2:0.
fn test_frame(w: usize, h: usize, n: usize, buf: &mut [u8]) {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (y, rest) = buf.split_at_mut(w * h);
    let (u, v) = rest.split_at_mut(cw * ch);
    for row in 0..h {
        for col in 0..w {
            let bar = ((col + n * 8) * 8 / w) % 8;
            y[row * w + col] = (16 + bar * 28 + (row * 16 / h)) as u8;
        }
    }
    for row in 0..ch {
        for col in 0..cw {
            u[row * cw + col] = ((col * 224 / cw) + 16) as u8;
            v[row * cw + col] = ((row * 224 / ch + n * 4) % 224 + 16) as u8;
        }
    }
}

fn stage_mp4writer(args: &Args) -> StageResult {
    let out = args.path("out")?;
    let (w, h) = (args.num("width", 1280usize), args.num("height", 720usize));
    let frames = args.num("frames", 30usize);
    let runs = args.num("runs", 5);
    let preset = args.get("preset").unwrap_or_else(|_| "veryfast".into());
    let crf = args.num("crf", 23u8);
    let mut buf = vec![0u8; w * h + 2 * w.div_ceil(2) * h.div_ceil(2)];
    let (times, _) = time_slow(runs, true, || {
        let mut writer = Mp4Writer::create(
            &out,
            VideoEncodeSettings {
                width: w as u32,
                height: h as u32,
                fps: FrameRate::whole(30),
                crf,
                preset: preset.clone(),
                threads: 0,
                gop: 0,
            },
            None,
        )
        .map_err(|e| e.to_string())?;
        for n in 0..frames {
            test_frame(w, h, n, &mut buf);
            writer.push_video_yuv420p(&buf).map_err(|e| e.to_string())?;
        }
        writer.finish().map_err(|e| e.to_string())
    })?;
    emit(
        "mp4writer",
        &times,
        json!({ "width": w, "height": h, "frames": frames, "preset": preset, "crf": crf }),
    );
    Ok(())
}

// ---------------------------------------------------------------- cache

/// 1,000 scenes as a clip analysis holds them (features and a look vector, no thumbnails),
/// the same values `baselines.py` builds as dicts.
fn thousand_scenes() -> Vec<Scene> {
    (0..1000)
        .map(|i| {
            let f = i as f32;
            Scene {
                start: i as i64 * 90_000,
                end: (i as i64 + 1) * 90_000,
                features: SceneFeatures {
                    brightness: (f * 0.37).fract(),
                    contrast: (f * 0.11).fract(),
                    colorfulness: (f * 0.23).fract(),
                    dominant_rgb: [(i % 256) as u8, (i * 7 % 256) as u8, (i * 13 % 256) as u8],
                    sharpness: (f * 0.05).fract(),
                    motion: (f * 0.71).fract(),
                    vector: (0..16).map(|k| ((f + k as f32) * 0.013).fract()).collect(),
                    thumbnails: Vec::new(),
                    action: None,
                },
            }
        })
        .collect()
}

fn cache_key(n: u64) -> CacheKey {
    CacheKey::new(
        ContentKey {
            size: n,
            hash: u128::from(n) << 64 | 1,
        },
        "clip-fast",
        1,
        0,
    )
}

fn stage_cache(args: &Args) -> StageResult {
    let dir = args.path("dir")?;
    let _ = std::fs::remove_dir_all(&dir);
    let runs = args.num("runs", 5);
    let limits = CacheLimits {
        memory_entries: 0,
        ..CacheLimits::default()
    };
    let cache = Cache::open(&dir, limits).map_err(|e| e.to_string())?;
    let data = Arc::new(thousand_scenes());
    let bytes = rmp_serde_len(&data);
    let mut next = 1u64;
    let (write, batch) = time_fast(runs, || {
        next += 1;
        cache.put(&cache_key(next), data.clone());
    });
    emit(
        "cache_write",
        &write,
        json!({ "scenes": 1000, "entry": "one entry, disk only, new key each call", "msgpack_bytes": bytes, "calls_per_run": batch }),
    );
    let k = cache_key(1);
    cache.put(&k, data.clone());
    let mut ok = true;
    let (read, batch) = time_fast(runs, || {
        ok &= cache.get::<Vec<Scene>>(&k).is_some_and(|v| v.len() == 1000);
    });
    if !ok {
        emit_error("cache_read", "cache returned no entry");
    } else {
        emit(
            "cache_read",
            &read,
            json!({ "scenes": 1000, "entry": "read + check + decode from disk (page cache), memory layer off", "calls_per_run": batch }),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Size of the value as named-field msgpack, as the cache stores it.
fn rmp_serde_len(data: &[Scene]) -> usize {
    rmp_serde::to_vec_named(data).map_or(0, |v| v.len())
}

// ---------------------------------------------------------------- selection

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// A planned 3-minute 120 BPM song (as `benches/plan.rs`): beats, four sections, energy.
fn song(secs: f64) -> MusicAnalysis {
    let period = 0.5;
    let beats = (0..(secs / period) as u32)
        .map(|i| Beat {
            time: ticks_from_secs(f64::from(i) * period),
            bar: i / 4,
            beat_in_bar: (i % 4) as u8,
            confidence: 0.9,
        })
        .collect();
    let bounds = [0.0, 0.15, 0.4, 0.8, 1.0];
    let labels = [
        SectionLabel::Intro,
        SectionLabel::Build,
        SectionLabel::Climax,
        SectionLabel::Outro,
    ];
    let energies = [0.25, 0.5, 0.95, 0.3];
    let sections: Vec<Section> = (0..4)
        .map(|k| Section {
            start: ticks_from_secs(bounds[k] * secs),
            end: ticks_from_secs(bounds[k + 1] * secs),
            label: labels[k],
            energy: energies[k],
        })
        .collect();
    let hop = TICKS_PER_SECOND / 10;
    let duration = ticks_from_secs(secs);
    let values = (0..duration / hop + 1)
        .map(|h| {
            sections
                .iter()
                .find(|s| s.start <= h * hop && h * hop < s.end)
                .map_or(0.3, |s| s.energy)
        })
        .collect();
    MusicAnalysis {
        duration,
        tempo_bpm: 120.0,
        beats_per_bar: 4,
        beats,
        energy: EnergyCurve {
            smoothed: Curve { hop, values },
            ..EnergyCurve::default()
        },
        sections,
        ..MusicAnalysis::default()
    }
}

/// `clips` clips of `scenes` synthetic scenes each (0.5-12 s, random features, 16-d vectors).
fn library(clips: usize, scenes: usize) -> Vec<ClipAnalysis> {
    let mut rng = Lcg(7);
    (0..clips)
        .map(|_| {
            let mut t: Ticks = 0;
            let scenes = (0..scenes)
                .map(|_| {
                    let len = ticks_from_secs(0.5 + 11.5 * f64::from(rng.next()));
                    let s = Scene {
                        start: t,
                        end: t + len,
                        features: SceneFeatures {
                            brightness: rng.next(),
                            contrast: rng.next(),
                            sharpness: rng.next(),
                            motion: rng.next() * 0.3,
                            vector: (0..16).map(|_| rng.next()).collect(),
                            ..SceneFeatures::default()
                        },
                    };
                    t += len;
                    s
                })
                .collect();
            ClipAnalysis {
                duration: t,
                fps: 30.0,
                scenes,
                ..ClipAnalysis::default()
            }
        })
        .collect()
}

fn inputs(analyses: &[ClipAnalysis]) -> Vec<ClipInput<'_>> {
    analyses
        .iter()
        .enumerate()
        .map(|(id, analysis)| ClipInput {
            id,
            name: "",
            analysis,
        })
        .collect()
}

fn stage_select(args: &Args) -> StageResult {
    let runs = args.num("runs", 5);
    let music = song(180.0);
    let settings = PlanSettings::new("dynamic", 1, FrameRate::whole(30));
    let style = Style::builtin("dynamic").unwrap_or_default();
    let none = Constraints::default();
    for (name, clips, scenes) in [("select_1k", 50, 20), ("select_100k", 500, 200)] {
        let analyses = library(clips, scenes);
        let index = PlanIndex::new(&inputs(&analyses));
        let segments = match plan_with_index(&index, &music, &style, &settings, &none) {
            Ok(t) => t.segments.len(),
            Err(e) => {
                emit_error(name, &e.to_string());
                continue;
            }
        };
        let (times, batch) = time_fast(runs, || {
            black_box(plan_with_index(&index, &music, &style, &settings, &none).ok());
        });
        emit(
            name,
            &times,
            json!({ "scenes": clips * scenes, "clips": clips, "slots": segments, "calls_per_run": batch, "what": "plan_with_index (pacing + selection), index built once" }),
        );
    }
    let analyses = library(200, 20);
    let clips = inputs(&analyses);
    let (times, batch) = time_fast(runs, || {
        black_box(plan(&music, &clips, &settings, &none).ok());
    });
    emit(
        "replan_200",
        &times,
        json!({ "clips": 200, "scenes": 4000, "calls_per_run": batch, "what": "plan (index build + pacing + selection)" }),
    );
    Ok(())
}

// ---------------------------------------------------------------- scene detection

fn stage_scenes(args: &Args) -> StageResult {
    let clip = args.path("clip")?;
    let runs = args.num("runs", 3);
    let label = args.get("label").unwrap_or_else(|_| "scenes".into());
    // `--fast-only 1`: skip the accurate pass (a clip whose accurate figure adds nothing).
    let modes: &[DetectMode] = if args.num("fast-only", 0) == 1 {
        &[DetectMode::Fast]
    } else {
        &[DetectMode::Accurate, DetectMode::Fast]
    };
    let cancel = CancelToken::new();
    // Accurate mode also runs without subject tracking: what reframing adds to analysis.
    let mut passes: Vec<(String, DetectMode, bool)> = modes
        .iter()
        .map(|&m| (format!("{label}_{}", m.as_str()), m, true))
        .collect();
    if modes.contains(&DetectMode::Accurate) && args.num("reframe-cost", 0) == 1 {
        passes.push((
            format!("{label}_accurate_plain"),
            DetectMode::Accurate,
            false,
        ));
    }
    for (name, mode, track_subject) in passes {
        let params = ClipParams {
            mode,
            track_subject,
            ..ClipParams::default()
        };
        let result = time_slow(runs, true, || {
            beatcut::analysis::video::analyze_clip(&clip, &params, &cancel, &mut |_| {})
                .map_err(|e| e.to_string())
        });
        match result {
            Ok((times, a)) => {
                let frames = (secs_from_ticks(a.duration) * a.fps).round();
                emit(
                    &name,
                    &times,
                    json!({
                        "frames": frames,
                        "scored_frames": a.frame_scores.len(),
                        "cuts_secs": a.cuts.iter().map(|&c| (secs_from_ticks(c) * 1000.0).round() / 1000.0).collect::<Vec<_>>(),
                        "transitions": a.transitions.len(),
                        "width": a.width, "height": a.height,
                    }),
                )
            }
            Err(e) => emit_error(&name, &e),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- rendering

/// A deterministic montage of `count` segments (1-2 s, on the 30 fps grid) cycling through
/// the clips and jumping around inside each, written as JSON for the ffmpeg CLI baseline.
fn render_plan(clips: &[PathBuf], count: usize) -> Result<(Vec<RenderSegment>, Ticks), String> {
    let fps = FrameRate::whole(30);
    let mut durations = Vec::new();
    for c in clips {
        let info = beatcut::media::probe(c).map_err(|e| e.to_string())?;
        durations.push(info.duration);
    }
    let mut rng = Lcg(11);
    let mut segments = Vec::new();
    let mut frame = 0i64;
    for k in 0..count {
        let clip = k % clips.len();
        let len_frames = 30 + (rng.next() * 30.0) as i64;
        let max_in = fps.nearest_frame(durations[clip]) - len_frames - 2;
        if max_in < 0 {
            return Err(format!("clip too short: {}", clips[clip].display()));
        }
        let in_frame = (rng.next() * max_in as f32) as i64;
        segments.push(RenderSegment {
            clip,
            src_in: fps.ticks_of_frame(in_frame),
            src_out: fps.ticks_of_frame(in_frame + len_frames),
            start: fps.ticks_of_frame(frame),
            end: fps.ticks_of_frame(frame + len_frames),
            crossfade_frames: 0,
            crop: None,
        });
        frame += len_frames;
    }
    Ok((segments, fps.ticks_of_frame(frame)))
}

fn stage_render_plan(args: &Args) -> StageResult {
    let clips = args.paths("clips")?;
    let count = args.num("segments", 16usize);
    let (segments, duration) = render_plan(&clips, count)?;
    let out = args.path("out")?;
    let value = json!({
        "clips": clips.iter().map(|c| c.display().to_string()).collect::<Vec<_>>(),
        "fps": 30,
        "duration_secs": secs_from_ticks(duration),
        "frames": FrameRate::whole(30).nearest_frame(duration),
        "segments": segments.iter().map(|s| json!({
            "clip": s.clip,
            "in_frame": FrameRate::whole(30).nearest_frame(s.src_in),
            "frames": FrameRate::whole(30).nearest_frame(s.end - s.start),
        })).collect::<Vec<_>>(),
    });
    std::fs::write(&out, value.to_string()).map_err(|e| e.to_string())?;
    emit(
        "render-plan",
        &[],
        json!({ "path": out.display().to_string() }),
    );
    Ok(())
}

fn render_job(args: &Args) -> Result<RenderJob, String> {
    let clips = args.paths("clips")?;
    let (segments, duration) = render_plan(&clips, args.num("segments", 16usize))?;
    Ok(RenderJob {
        clips,
        music: args.path("music")?,
        segments,
        duration,
        music_start: 0,
        music_fade_out: 0,
    })
}

fn stage_render(args: &Args) -> StageResult {
    let job = render_job(args)?;
    let out = args.path("out")?;
    let runs = args.num("runs", 3);
    let settings = RenderSettings::new(Preset::Final, Aspect::Landscape, FrameRate::whole(30));
    let cancel = CancelToken::new();
    let (times, report) = time_slow(runs, false, || {
        beatcut::render::render(&job, &settings, &out, &cancel, &mut |_| {})
            .map_err(|e| e.to_string())
    })?;
    emit(
        "render",
        &times,
        json!({
            "frames": report.frames,
            "segments": job.segments.len(),
            "encoder": report.encoder,
            "settings": format!("{}x{} {} fps, libx264 {} crf {}, AAC 192k", settings.width, settings.height, settings.fps.as_f64(), settings.speed_preset, settings.crf),
        }),
    );
    // Cancel latency: cancel a running export and time how long `render` takes to return.
    let cancel_after = Duration::from_millis(args.num("cancel-after-ms", 1500));
    let mut latencies = Vec::new();
    let mut leftovers = 0;
    for _ in 0..args.num("cancel-runs", 5usize) {
        let cancel = CancelToken::new();
        let cancelled_at: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let (token, at) = (cancel.clone(), cancelled_at.clone());
        let timer = std::thread::spawn(move || {
            std::thread::sleep(cancel_after);
            *at.lock().unwrap() = Some(Instant::now());
            token.cancel();
        });
        let result = beatcut::render::render(
            &job,
            &settings,
            &out.with_extension("cancel.mp4"),
            &cancel,
            &mut |_| {},
        );
        let returned = Instant::now();
        let _ = timer.join();
        match (result, *cancelled_at.lock().unwrap()) {
            (Err(beatcut::render::RenderError::Cancelled), Some(at)) => {
                latencies.push(ms(returned.duration_since(at)))
            }
            (Ok(_), _) => return Err("render finished before the cancel arrived".into()),
            (Err(e), _) => return Err(format!("cancel run failed: {e}")),
        }
        if out.with_extension("cancel.mp4").exists() {
            leftovers += 1;
        }
    }
    emit(
        "render_cancel",
        &latencies,
        json!({ "cancel_after_ms": ms(cancel_after), "partial_files_left": leftovers }),
    );
    Ok(())
}

/// The render plan reframed for a 9:16 1080x1920 export: each segment's crop follows the
/// subject its clip's analysis tracked. Writes the plan with each segment's crop window in
/// source pixels (left edge per point, segment-relative seconds) for the ffmpeg baseline.
fn reframed_job(args: &Args, settings: &RenderSettings) -> Result<RenderJob, String> {
    let mut job = render_job(args)?;
    let cancel = CancelToken::new();
    let params = ClipParams {
        mode: DetectMode::Accurate,
        ..ClipParams::default()
    };
    let mut analyses = Vec::new();
    for clip in &job.clips {
        analyses.push(
            beatcut::analysis::video::analyze_clip(clip, &params, &cancel, &mut |_| {})
                .map_err(|e| e.to_string())?,
        );
    }
    let fps = FrameRate::whole(30);
    let mut planned = Vec::new();
    for segment in &mut job.segments {
        let a = &analyses[segment.clip];
        let window =
            beatcut::reframe::window_share(a.width, a.height, settings.width, settings.height);
        let path =
            beatcut::reframe::follow_subject(&a.subject, segment.src_in, segment.src_out, window);
        let (ww, wh) = (
            ((window.0 * a.width as f32).round() as u32).min(a.width) & !1,
            ((window.1 * a.height as f32).round() as u32).min(a.height) & !1,
        );
        // The renderer's own placement: the window's left edge at each path point.
        let left = |x: f32| {
            let cx = beatcut::reframe::clamp_centre((x, 0.5), window).0;
            ((cx * a.width as f32 - ww as f32 / 2.0).round().max(0.0) as u32).min(a.width - ww) & !1
        };
        let points: Vec<Value> = path
            .points
            .iter()
            .map(|p| json!([secs_from_ticks((p.time - segment.src_in).max(0)), left(p.x)]))
            .collect();
        planned.push(json!({
            "clip": segment.clip,
            "in_frame": fps.nearest_frame(segment.src_in),
            "frames": fps.nearest_frame(segment.end - segment.start),
            "crop_w": ww, "crop_h": wh, "crop_x": points,
        }));
        segment.crop = Some(path);
    }
    let value = json!({
        "clips": job.clips.iter().map(|c| c.display().to_string()).collect::<Vec<_>>(),
        "fps": 30,
        "width": settings.width, "height": settings.height,
        "frames": fps.nearest_frame(job.duration),
        "segments": planned,
    });
    std::fs::write(args.path("plan-out")?, value.to_string()).map_err(|e| e.to_string())?;
    Ok(job)
}

fn stage_render_reframe(args: &Args) -> StageResult {
    let mut settings = RenderSettings::new(Preset::Final, Aspect::Portrait, FrameRate::whole(30));
    settings.fit = beatcut::render::Fit::Reframe;
    let job = reframed_job(args, &settings)?;
    let out = args.path("out")?;
    let cancel = CancelToken::new();
    let (times, report) = time_slow(args.num("runs", 3), false, || {
        beatcut::render::render(&job, &settings, &out, &cancel, &mut |_| {})
            .map_err(|e| e.to_string())
    })?;
    let travel: f32 = job
        .segments
        .iter()
        .filter_map(|s| s.crop.as_ref().map(|c| c.travel()))
        .sum();
    emit(
        "render_reframe",
        &times,
        json!({
            "frames": report.frames,
            "segments": job.segments.len(),
            "crop_travel": travel,
            "settings": format!("{}x{} reframed, libx264 {} crf {}, AAC 192k", settings.width, settings.height, settings.speed_preset, settings.crf),
        }),
    );
    Ok(())
}

// ---------------------------------------------------------------- end to end

/// Planner inputs for analyses in clip order (ids by position, no names).
fn clip_inputs(analyses: &[Arc<ClipAnalysis>]) -> Vec<ClipInput<'_>> {
    analyses
        .iter()
        .enumerate()
        .map(|(id, a)| ClipInput {
            id,
            name: "",
            analysis: a,
        })
        .collect()
}

/// One clip's analysis in the end-to-end run, `None` until it lands.
type ClipSlot = Option<Result<Arc<ClipAnalysis>, String>>;

/// Drop the clips and the song (cold or warm cache): analyses on the rayon pool as the
/// editor runs them (music first), then the plan, then the 1080p export.
fn stage_e2e(args: &Args) -> StageResult {
    let clips = args.paths("clips")?;
    let music = args.path("music")?;
    let out = args.path("out")?;
    let label = args.get("label").unwrap_or_else(|_| "e2e".into());
    let cache = Arc::new(
        Cache::open(args.path("cache-dir")?, CacheLimits::default()).map_err(|e| e.to_string())?,
    );
    let cancel = CancelToken::new();
    let started = Instant::now();
    let first_waveform: Mutex<Option<f64>> = Mutex::new(None);
    let music_done: Mutex<Option<f64>> = Mutex::new(None);
    let music_result: Mutex<Option<Result<Arc<MusicAnalysis>, String>>> = Mutex::new(None);
    let clip_results: Mutex<Vec<ClipSlot>> = Mutex::new(vec![None; clips.len()]);
    let clips_done = Mutex::new(0usize);
    let music_params = MusicParams::default();
    let clip_params = ClipParams::default();
    let clips_ref = &clips;
    // The editor's first look: keyframes only, ahead of the full analyses; the first plan
    // is made as soon as the music and every first look are in.
    let first_looks: Mutex<Vec<Option<Arc<ClipAnalysis>>>> = Mutex::new(vec![None; clips.len()]);
    let first_plan: Mutex<Option<(f64, usize)>> = Mutex::new(None);
    let first_look_params = ClipParams {
        mode: DetectMode::Keyframes,
        ..clip_params.clone()
    };
    let try_first_plan = || {
        let music = music_result.lock().unwrap();
        let Some(Ok(music)) = music.as_ref() else {
            return;
        };
        let looks = first_looks.lock().unwrap();
        let mut planned = first_plan.lock().unwrap();
        if planned.is_some() || looks.iter().any(Option::is_none) {
            return;
        }
        let looks: Vec<Arc<ClipAnalysis>> = looks.iter().flatten().cloned().collect();
        let inputs = clip_inputs(&looks);
        if let Ok(t) = plan(
            music,
            &inputs,
            &PlanSettings::default(),
            &Constraints::default(),
        ) {
            let at = ms(started.elapsed());
            eprintln!(
                "  [{label}] first plan (first looks) at {:.1} s",
                at / 1000.0
            );
            *planned = Some((at, t.segments.len()));
        }
    };
    rayon::scope_fifo(|s| {
        s.spawn_fifo(|_| {
            let r = beatcut::montage::analyze_music(
                &music,
                &music_params,
                &cache,
                &cancel,
                &mut |_| {
                    let mut f = first_waveform.lock().unwrap();
                    if f.is_none() {
                        *f = Some(ms(started.elapsed()));
                    }
                },
            );
            *music_done.lock().unwrap() = Some(ms(started.elapsed()));
            *music_result.lock().unwrap() = Some(r.map(|(a, _)| a).map_err(|e| e.to_string()));
            try_first_plan();
        });
        for (i, path) in clips_ref.iter().enumerate() {
            let (looks, cache, cancel, clip_params, first_look_params, try_first_plan) = (
                &first_looks,
                &cache,
                &cancel,
                &clip_params,
                &first_look_params,
                &try_first_plan,
            );
            s.spawn_fifo(move |_| {
                // As the editor does: no first look when the full analysis is cached.
                let params = if beatcut::montage::clip_is_cached(path, clip_params, cache) {
                    clip_params
                } else {
                    first_look_params
                };
                let look = beatcut::montage::analyze_clip(path, params, cache, cancel, &mut |_| {})
                    .ok()
                    .map(|(a, _)| a);
                // An unreadable clip fails in its full analysis below; stand in an empty one.
                looks.lock().unwrap()[i] = Some(look.unwrap_or_default());
                try_first_plan();
            });
        }
        for (i, path) in clips_ref.iter().enumerate() {
            let (results, done, cache, cancel, clip_params) =
                (&clip_results, &clips_done, &cache, &cancel, &clip_params);
            let (label, total) = (&label, clips.len());
            s.spawn_fifo(move |_| {
                let r =
                    beatcut::montage::analyze_clip(path, clip_params, cache, cancel, &mut |_| {})
                        .map(|(a, _)| a)
                        .map_err(|e| e.to_string());
                results.lock().unwrap()[i] = Some(r);
                let mut d = done.lock().unwrap();
                *d += 1;
                eprintln!(
                    "  [{label}] clip {}/{} analysed at {:.1} s",
                    *d,
                    total,
                    started.elapsed().as_secs_f64()
                );
            });
        }
    });
    cache.flush_stats();
    let analyses_ms = ms(started.elapsed());
    let music_analysis = music_result
        .into_inner()
        .unwrap()
        .ok_or("music analysis did not run")??;
    let analyses: Vec<Arc<ClipAnalysis>> = clip_results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.ok_or_else(|| "clip analysis did not run".to_string())?)
        .collect::<Result<_, _>>()?;
    let inputs = clip_inputs(&analyses);
    let settings = PlanSettings::default();
    let timeline = plan(&music_analysis, &inputs, &settings, &Constraints::default())
        .map_err(|e| e.to_string())?;
    let plan_ms = ms(started.elapsed());
    eprintln!(
        "  [{label}] playable plan at {:.1} s; exporting",
        plan_ms / 1000.0
    );
    let project_clips = beatcut::project::Project::with_media(&clips, None).clips;
    let job = beatcut::montage::render_job(&timeline, &project_clips, &music)
        .map_err(|e| e.to_string())?;
    let render_settings = RenderSettings::new(Preset::Final, Aspect::Landscape, timeline.fps);
    let report = beatcut::render::render(&job, &render_settings, &out, &cancel, &mut |_| {})
        .map_err(|e| e.to_string())?;
    let export_ms = ms(started.elapsed());
    // The sync report of the written file, timed against the export itself.
    let verify_plan = beatcut::render::VerifyPlan::from_timeline(
        &timeline,
        music_analysis.beats.iter().map(|b| b.time).collect(),
        &music,
    );
    let verify_started = Instant::now();
    let sync = beatcut::render::verify_export(&out, &verify_plan, &cancel, &mut |_| {})
        .map_err(|e| e.to_string())?;
    let verify_ms = ms(verify_started.elapsed());
    let stats = cache.stats();
    emit(
        &label,
        &[export_ms],
        json!({
            "verify_ms": verify_ms,
            "verify_cuts": sync.cuts.len(),
            "verify_cuts_on_frame": sync.cuts_on_frame(),
            "verify_av_offset_ms": sync.av_offset_ms,
            "verify_problems": sync.problems().len(),
            "first_waveform_ms": *first_waveform.lock().unwrap(),
            "music_done_ms": *music_done.lock().unwrap(),
            "analyses_ms": analyses_ms,
            "first_plan_ms": first_plan.lock().unwrap().map(|(at, _)| at),
            "first_plan_segments": first_plan.lock().unwrap().map(|(_, n)| n),
            "plan_ms": plan_ms,
            "export_ms": export_ms,
            "render_wall_ms": report.wall_secs * 1000.0,
            "frames": report.frames,
            "segments": timeline.segments.len(),
            "clips": clips.len(),
            "scenes": analyses.iter().map(|a| a.scenes.len()).sum::<usize>(),
            "peak_rss_kib": peak_rss_kib(),
            "cache_hits": format!("{stats:?}"),
        }),
    );
    Ok(())
}

fn main() {
    beatcut::media::init();
    let args = Args::parse();
    let result = match args.stage.as_str() {
        "" => {
            eprintln!(
                "usage: stages STAGE [--key value ...]; stages: gen-song energy music fileio \
                 mp4writer cache select scenes render-plan render render-reframe e2e"
            );
            Ok(())
        }
        "gen-song" => gen_song(&args),
        "energy" => stage_energy(&args),
        "music" => stage_music(&args),
        "fileio" => stage_fileio(&args),
        "mp4writer" => stage_mp4writer(&args),
        "cache" => stage_cache(&args),
        "select" => stage_select(&args),
        "scenes" => stage_scenes(&args),
        "render-plan" => stage_render_plan(&args),
        "render" => stage_render(&args),
        "render-reframe" => stage_render_reframe(&args),
        "e2e" => stage_e2e(&args),
        other => Err(format!("unknown stage {other}")),
    };
    if let Err(e) = result {
        emit_error(&args.stage, &e);
        std::process::exit(1);
    }
}
