//! Cache speed against the targets in DESIGN.md:
//! - the data of 1,000 scenes written and read in under 1 ms each way;
//! - a cached 50-clip project (50 clip analyses and a song) back from disk in under 100 ms.
//!
//! Method: criterion, release build, a temporary directory on the local disk. Disk reads hit
//! the OS page cache (the files were just written), so "from disk" means from the cache
//! directory through the file system, decode included, not from a cold platter.
//! Clip analyses are stored one entry per clip holding all its scenes, so "1,000 scenes"
//! is measured both as one entry (how they are stored) and as 1,000 separate entries
//! (the worst case: a file per value), reported side by side.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use beatcut::cache::{Cache, CacheKey, CacheLimits, ContentKey};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};

/// A scene as clip analyses hold it: times, ten features and a 16-bin histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SceneLike {
    start: i64,
    end: i64,
    brightness: f32,
    contrast: f32,
    saturation: f32,
    colourfulness: f32,
    sharpness: f32,
    motion: f32,
    faces: f32,
    stability: f32,
    noise: f32,
    score: f32,
    histogram: Vec<f32>,
}

fn scene(i: usize) -> SceneLike {
    let f = i as f32;
    SceneLike {
        start: i as i64 * 90_000,
        end: (i as i64 + 1) * 90_000,
        brightness: f * 0.001,
        contrast: 0.5 + f * 1e-4,
        saturation: 0.3,
        colourfulness: 0.7,
        sharpness: f.sin(),
        motion: f.cos(),
        faces: 0.0,
        stability: 0.9,
        noise: 0.01,
        score: 0.5,
        histogram: (0..16).map(|b| (b as f32 + f) / 1000.0).collect(),
    }
}

fn scenes(n: usize) -> Vec<SceneLike> {
    (0..n).map(scene).collect()
}

/// A one-minute 30 fps clip analysis: per-frame scores kept for re-thresholding, ~30 scenes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClipLike {
    duration: i64,
    fps: f64,
    frame_scores: Vec<(i64, f32, f32)>,
    cuts: Vec<i64>,
    scenes: Vec<SceneLike>,
}

fn clip(seed: usize) -> ClipLike {
    ClipLike {
        duration: 60 * 90_000,
        fps: 30.0,
        frame_scores: (0..1800)
            .map(|f| (f as i64 * 3000, (f + seed) as f32 * 1e-3, 0.5))
            .collect(),
        cuts: (0..30).map(|c| c * 180_000).collect(),
        scenes: (0..30).map(|i| scene(i + seed)).collect(),
    }
}

/// A three-minute song: beats, onset and energy curves (~86 values a second), a waveform
/// pyramid (min/max buckets down from 512 samples a bucket).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SongLike {
    tempo_bpm: f64,
    beats: Vec<(i64, u32, u8, f32)>,
    onset_strength: Vec<f32>,
    rms: Vec<f32>,
    db: Vec<f32>,
    smoothed: Vec<f32>,
    waveform: Vec<Vec<(f32, f32)>>,
}

fn song() -> SongLike {
    let frames = 180 * 86;
    let curve = |k: f32| {
        (0..frames)
            .map(|i| (i as f32 * k).sin())
            .collect::<Vec<f32>>()
    };
    SongLike {
        tempo_bpm: 128.0,
        beats: (0..384)
            .map(|b| (b as i64 * 42_187, b / 4, (b % 4) as u8, 0.9))
            .collect(),
        onset_strength: curve(0.1),
        rms: curve(0.2),
        db: curve(0.3),
        smoothed: curve(0.4),
        waveform: (0..6)
            .map(|level| {
                let n = (180 * 22_050 / 512) >> level;
                (0..n).map(|i| (-(i as f32 % 1.0), 0.5)).collect()
            })
            .collect(),
    }
}

fn key(i: u64, kind: &'static str) -> CacheKey {
    CacheKey::new(
        ContentKey {
            size: i,
            hash: u128::from(i) << 64 | 1,
        },
        kind,
        1,
        0,
    )
}

/// A cache that always goes to disk (memory layer off).
fn disk_only(dir: &Path) -> Cache {
    let limits = CacheLimits {
        memory_entries: 0,
        ..CacheLimits::default()
    };
    Cache::open(dir, limits).unwrap()
}

fn bench_codec(c: &mut Criterion) {
    let data = scenes(1000);
    let blob = rmp_serde::to_vec_named(&data).unwrap();
    eprintln!("1,000 scenes: {} bytes of msgpack", blob.len());
    let mut g = c.benchmark_group("msgpack 1000 scenes");
    g.bench_function("encode", |b| {
        b.iter(|| rmp_serde::to_vec_named(black_box(&data)).unwrap())
    });
    g.bench_function("decode", |b| {
        b.iter(|| rmp_serde::from_slice::<Vec<SceneLike>>(black_box(&blob)).unwrap())
    });
    g.finish();
}

fn bench_one_entry(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // Bounded so the stream of new entries below also pays for eviction, as in real use.
    let cache = Cache::open(
        dir.path(),
        CacheLimits {
            memory_entries: 0,
            disk_bytes: 64 << 20,
            ..CacheLimits::default()
        },
    )
    .unwrap();
    let data = Arc::new(scenes(1000));
    let k = key(1, "clip-fast");
    let mut g = c.benchmark_group("1000 scenes as one entry");
    // A new analysis is a new key: each put makes a new file (overwriting an existing entry
    // costs more on ext4, which flushes a file renamed over another).
    let mut next = 10_000;
    g.bench_function("put new entry (encode + atomic file write)", |b| {
        b.iter(|| {
            next += 1;
            cache.put(&key(next, "clip-fast"), data.clone())
        })
    });
    cache.put(&k, data.clone());
    g.bench_function("get from disk (read + check + decode)", |b| {
        b.iter(|| cache.get::<Vec<SceneLike>>(&k).unwrap())
    });
    let memory = Cache::open(dir.path(), CacheLimits::default()).unwrap();
    let _ = memory.get::<Vec<SceneLike>>(&k).unwrap();
    g.bench_function("get from memory", |b| {
        b.iter(|| memory.get::<Vec<SceneLike>>(&k).unwrap())
    });
    g.finish();
}

fn bench_separate_entries(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let cache = disk_only(dir.path());
    let keys: Vec<CacheKey> = (0..1000).map(|i| key(i, "scene")).collect();
    let data: Vec<Arc<SceneLike>> = (0..1000).map(|i| Arc::new(scene(i))).collect();
    let mut g = c.benchmark_group("1000 scenes as 1000 entries");
    g.sample_size(10);
    g.bench_function("put each (1000 files)", |b| {
        b.iter(|| {
            for (k, v) in keys.iter().zip(&data) {
                cache.put(k, v.clone());
            }
        })
    });
    g.bench_function("get each from disk", |b| {
        b.iter(|| {
            for k in &keys {
                black_box(cache.get::<SceneLike>(k).unwrap());
            }
        })
    });
    g.finish();
}

fn bench_project(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    {
        let cache = Cache::open(dir.path(), CacheLimits::default()).unwrap();
        for i in 0..50 {
            cache.put(&key(i, "clip-fast"), Arc::new(clip(i as usize)));
        }
        cache.put(&key(1000, "music"), Arc::new(song()));
        let s = cache.stats();
        eprintln!(
            "50-clip project: {} entries, {} bytes on disk",
            s.entries, s.bytes_on_disk
        );
    }
    let mut g = c.benchmark_group("cached 50-clip project");
    g.sample_size(20);
    g.bench_function("open a new Cache, get 50 clips + song", |b| {
        b.iter_batched(
            || (),
            |()| {
                let cache = Cache::open(dir.path(), CacheLimits::default()).unwrap();
                for i in 0..50 {
                    black_box(cache.get::<ClipLike>(&key(i, "clip-fast")).unwrap());
                }
                black_box(cache.get::<SongLike>(&key(1000, "music")).unwrap());
                cache
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_codec, bench_one_entry, bench_separate_entries, bench_project
}
criterion_main!(benches);
