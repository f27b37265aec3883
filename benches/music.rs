//! Music analysis benchmarks: the energy profile of 3 min of mono 22.05 kHz audio (anchor: the
//! NumPy loop, 33 ms on this class of machine, target at least 30 times faster) and the whole
//! analysis of a 3-min synthesised song (target well under 100 ms, decode excluded).

use std::hint::black_box;

use beatcut::analysis::music::synth::demo_song;
use beatcut::analysis::music::{MusicParams, analyze_samples, energy_curve};
use beatcut::jobs::CancelToken;
use criterion::{Criterion, criterion_group, criterion_main};

const RATE: u32 = 22_050;

fn energy(c: &mut Criterion) {
    let song = demo_song(RATE, 180.0, 124.0);
    c.bench_function("energy profile 3 min (2048/512)", |b| {
        b.iter(|| energy_curve(black_box(&song), RATE, 2048, 512))
    });
    // The NumPy loop's algorithm (a fresh sum of squares per window), for the ratio.
    c.bench_function("energy naive per-window sums 3 min", |b| {
        b.iter(|| {
            let x = black_box(&song);
            let mut out = Vec::with_capacity(x.len() / 512);
            let mut i = 0;
            while i + 2048 < x.len() {
                out.push(x[i..i + 2048].iter().map(|v| v * v).sum::<f32>());
                i += 512;
            }
            out
        })
    });
}

fn analysis(c: &mut Criterion) {
    let song = demo_song(RATE, 180.0, 124.0);
    let params = MusicParams::default();
    let cancel = CancelToken::new();
    let mut group = c.benchmark_group("music analysis");
    group.sample_size(10);
    group.bench_function("whole analysis 3 min song", |b| {
        b.iter(|| analyze_samples(black_box(&song), &params, &cancel))
    });
    group.finish();
}

criterion_group!(benches, energy, analysis);
criterion_main!(benches);
