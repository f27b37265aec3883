//! Music analysis benchmarks: the energy profile of 3 min of mono 22.05 kHz audio (the NumPy
//! loop it is held against runs beside it in `make bench`, section audio), the whole
//! analysis of a 3-min synthesised song (target well under 100 ms, decode excluded), and its
//! two halves as `montage::analyze_music` runs them: the streaming part fed in the decoder
//! thread's batches (hidden behind decoding on a second core) and the tail left after the
//! last sample (`finish`, which adds to the decode time). And the waveform lane's query: the
//! buckets of a 1,920-pixel view of a 10-minute song (target well under 1 ms per call).

use std::hint::black_box;

use beatcut::analysis::music::synth::demo_song;
use beatcut::analysis::music::{MusicAnalyzer, MusicParams, analyze_samples, energy_curve};
use beatcut::jobs::CancelToken;
use beatcut::time::ticks_from_secs;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const RATE: u32 = 22_050;
/// Samples per push, as `montage::analyze_music` batches the decoder's output.
const BATCH: usize = 16_384;

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
    let streamed = || {
        let mut analyzer = MusicAnalyzer::new(params.clone());
        for batch in song.chunks(BATCH) {
            analyzer.push(black_box(batch));
        }
        analyzer
    };
    group.bench_function("streaming push 3 min song (16k-sample batches)", |b| {
        b.iter(streamed)
    });
    group.bench_function("tail after the last sample (finish) 3 min song", |b| {
        b.iter_batched(streamed, |a| a.finish(&cancel), BatchSize::PerIteration)
    });
    group.finish();
}

fn waveform_view(c: &mut Criterion) {
    let mut analyzer = MusicAnalyzer::new(MusicParams::default());
    for batch in demo_song(RATE, 600.0, 124.0).chunks(BATCH) {
        analyzer.push(batch);
    }
    let waveform = analyzer.waveform_so_far();
    let mut k = 0u32;
    c.bench_function("waveform buckets of a 1920 px view, 10 min song", |b| {
        b.iter(|| {
            // A different one-minute-or-longer view each call, as scrolling and zooming ask.
            k = (k + 1) % 100;
            let start = ticks_from_secs(f64::from(k) * 5.0);
            waveform.buckets(start, start + ticks_from_secs(60.0 + f64::from(k)), 1920)
        })
    });
}

criterion_group!(benches, energy, analysis, waveform_view);
criterion_main!(benches);
