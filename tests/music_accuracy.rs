//! Accuracy of the music analysis against synthesised signals with known beats
//! (`beatcut::analysis::music::synth`), scored like mir_eval.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use beatcut::analysis::music::synth::{TestSignal, demo_song, test_set};
use beatcut::analysis::music::{
    MusicAnalysis, MusicAnalyzer, MusicParams, analyze_samples, redetect,
};
use beatcut::jobs::CancelToken;
use beatcut::time::{secs_from_ticks, ticks_from_secs};
use rayon::prelude::*;

const RATE: u32 = 22_050;
const SECS: f64 = 24.0;
const WINDOW: f64 = 0.07;

/// mir_eval's `trim_beats`: beats before 5 s are ignored.
fn trim(b: &[f64]) -> Vec<f64> {
    b.iter().copied().filter(|&t| t >= 5.0).collect()
}

/// Matched pairs (reference, estimate) within `WINDOW`, one-to-one, greedy in time order
/// (the same as mir_eval's maximum matching when beats are further apart than 2 windows).
fn matches(reference: &[f64], estimate: &[f64]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut j = 0;
    for &r in reference {
        while j < estimate.len() && estimate[j] < r - WINDOW {
            j += 1;
        }
        if j < estimate.len() && (estimate[j] - r).abs() <= WINDOW {
            out.push((r, estimate[j]));
            j += 1;
        }
    }
    out
}

/// mir_eval beat F-measure with a 70 ms window after trimming the first 5 s.
fn f_measure(reference: &[f64], estimate: &[f64]) -> f64 {
    let (r, e) = (trim(reference), trim(estimate));
    if r.is_empty() || e.is_empty() {
        return 0.0;
    }
    let hits = matches(&r, &e).len() as f64;
    let (p, rc) = (hits / e.len() as f64, hits / r.len() as f64);
    if p + rc == 0.0 {
        0.0
    } else {
        2.0 * p * rc / (p + rc)
    }
}

/// mir_eval's CMLt after trimming: the share of reference beats whose nearest estimate is
/// within 17.5 % of the local beat period and whose estimated interval matches the reference
/// interval within 17.5 % (continuity at the right metrical level and phase).
fn cmlt(reference: &[f64], estimate: &[f64]) -> f64 {
    let (r, e) = (trim(reference), trim(estimate));
    if r.len() < 2 || e.len() < 2 {
        return 0.0;
    }
    let mut correct = 0usize;
    for i in 1..r.len() {
        let period = r[i] - r[i - 1];
        let j = (0..e.len())
            .min_by(|&a, &b| (e[a] - r[i]).abs().total_cmp(&(e[b] - r[i]).abs()))
            .unwrap();
        if j == 0 {
            continue;
        }
        let phase_ok = (e[j] - r[i]).abs() <= 0.175 * period;
        let period_ok = ((e[j] - e[j - 1]) - period).abs() <= 0.175 * period;
        if phase_ok && period_ok {
            correct += 1;
        }
    }
    correct as f64 / r.len() as f64
}

struct Row {
    name: String,
    f: f64,
    cmlt: f64,
    down_f: f64,
    tempo: f64,
    truth_tempo: Option<f64>,
    meter: (u8, u8),
    offset_ms: f64,
    ms: f64,
}

fn evaluate(sig: &TestSignal) -> (Row, MusicAnalysis) {
    let start = Instant::now();
    let a = analyze_samples(&sig.samples, &MusicParams::default(), &CancelToken::new()).unwrap();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let est: Vec<f64> = a.beats.iter().map(|b| secs_from_ticks(b.time)).collect();
    let down: Vec<f64> = a.downbeats().map(secs_from_ticks).collect();
    let m = matches(&trim(&sig.beats), &trim(&est));
    let offset_ms = if m.is_empty() {
        0.0
    } else {
        m.iter().map(|(r, e)| e - r).sum::<f64>() / m.len() as f64 * 1000.0
    };
    (
        Row {
            name: sig.name.clone(),
            f: f_measure(&sig.beats, &est),
            cmlt: cmlt(&sig.beats, &est),
            down_f: f_measure(&sig.downbeats, &down),
            tempo: a.tempo_bpm,
            truth_tempo: sig.tempo_bpm,
            meter: (a.beats_per_bar, sig.beats_per_bar),
            offset_ms,
            ms,
        },
        a,
    )
}

#[test]
fn beat_tracking_accuracy_on_the_synthetic_set() {
    let set = test_set(RATE, SECS);
    let rows: Vec<Row> = set.par_iter().map(|s| evaluate(s).0).collect();
    println!(
        "\n{:<14} {:>6} {:>6} {:>7} {:>8} {:>8} {:>7} {:>6} {:>8} {:>7}",
        "item", "F", "CMLt", "down F", "tempo", "truth", "err %", "meter", "off ms", "ms"
    );
    for r in &rows {
        let err = r.truth_tempo.map(|t| (r.tempo - t) / t * 100.0);
        println!(
            "{:<14} {:>6.3} {:>6.3} {:>7.3} {:>8.1} {:>8} {:>7} {:>3}/{} {:>8.1} {:>7.0}",
            r.name,
            r.f,
            r.cmlt,
            r.down_f,
            r.tempo,
            r.truth_tempo.map_or("-".into(), |t| format!("{t:.1}")),
            err.map_or("-".into(), |e| format!("{e:+.2}")),
            r.meter.0,
            r.meter.1,
            r.offset_ms,
            r.ms
        );
    }
    let mean_f = rows.iter().map(|r| r.f).sum::<f64>() / rows.len() as f64;
    let mean_down = rows.iter().map(|r| r.down_f).sum::<f64>() / rows.len() as f64;
    println!("mean F {mean_f:.3}, mean downbeat F {mean_down:.3}");
    assert!(mean_f >= 0.95, "mean F-measure {mean_f:.3} < 0.95");
    for r in &rows {
        if let Some(t) = r.truth_tempo {
            assert!(
                (r.tempo - t).abs() / t <= 0.01,
                "{}: tempo {} vs {t}",
                r.name,
                r.tempo
            );
        }
        assert!(r.f >= 0.85, "{}: F {:.3}", r.name, r.f);
        // Downbeats per item too: one style's bars must not hide under the mean.
        assert!(r.down_f >= 0.9, "{}: downbeat F {:.3}", r.name, r.down_f);
        assert_eq!(r.meter.0, r.meter.1, "{}: meter", r.name);
    }
    // Tempo changes are followed without losing the beat.
    for name in ["ramp_100_140", "step_100_130"] {
        let r = rows.iter().find(|r| r.name == name).unwrap();
        assert!(r.cmlt >= 0.8, "{name}: CMLt {:.3}", r.cmlt);
    }
    // Off-beat heavy music: the grid sits on the kick and bass, not on the loud stabs.
    let offbeat = rows.iter().find(|r| r.name == "offbeat_150").unwrap();
    assert!(offbeat.f >= 0.9, "offbeat_150: F {:.3}", offbeat.f);
    assert!(mean_down >= 0.85, "mean downbeat F {mean_down:.3}");
}

#[test]
fn energy_correlates_with_exact_rms() {
    let x = demo_song(RATE, 30.0, 120.0);
    let a = analyze_samples(&x, &MusicParams::default(), &CancelToken::new()).unwrap();
    let ours = &a.energy.rms.values;
    let (w, hop) = (2048i64, 512i64);
    let exact: Vec<f64> = (0..ours.len() as i64)
        .map(|i| {
            let c = i * hop;
            let s: f64 = (c - w / 2..c + w / 2)
                .filter_map(|k| usize::try_from(k).ok().and_then(|k| x.get(k)))
                .map(|&v| (v as f64).powi(2))
                .sum();
            (s / w as f64).sqrt()
        })
        .collect();
    let n = exact.len() as f64;
    let (ma, mb) = (
        ours.iter().map(|&v| v as f64).sum::<f64>() / n,
        exact.iter().sum::<f64>() / n,
    );
    let cov: f64 = ours
        .iter()
        .zip(&exact)
        .map(|(&a, b)| (a as f64 - ma) * (b - mb))
        .sum();
    let va: f64 = ours.iter().map(|&a| (a as f64 - ma).powi(2)).sum();
    let vb: f64 = exact.iter().map(|b| (b - mb).powi(2)).sum();
    let corr = cov / (va * vb).sqrt();
    println!("energy correlation {corr:.6}");
    assert!(corr >= 0.98);
    assert!(!a.sections.is_empty());
}

#[test]
fn streaming_equals_whole_buffer_and_redetect_reuses_curves() {
    let x = demo_song(RATE, 20.0, 126.0);
    let p = MusicParams::default();
    let whole = analyze_samples(&x, &p, &CancelToken::new()).unwrap();
    let mut an = MusicAnalyzer::new(p.clone());
    for chunk in x.chunks(4096 + 17) {
        an.push(chunk);
        let w = an.waveform_so_far();
        assert!(!w.levels.is_empty());
    }
    let streamed = an.finish(&CancelToken::new()).unwrap();
    assert_eq!(whole.beats, streamed.beats);
    assert_eq!(whole.onsets, streamed.onsets);
    assert_eq!(whole.waveform.levels.len(), streamed.waveform.levels.len());
    for (a, b) in whole.waveform.levels.iter().zip(&streamed.waveform.levels) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!(x.min == y.min && x.max == y.max && (x.rms - y.rms).abs() < 1e-5);
        }
    }
    // Within 1 % (DESIGN.md's tempo goal).
    assert!(
        (whole.tempo_bpm / 126.0 - 1.0).abs() <= 0.01,
        "tempo {}",
        whole.tempo_bpm
    );

    let same = redetect(&whole, &p);
    assert_eq!(same.beats, whole.beats);
    // A tempo range that excludes 126 forces the half-time level.
    let slow = redetect(
        &whole,
        &MusicParams {
            min_bpm: 40.0,
            max_bpm: 90.0,
            ..p.clone()
        },
    );
    assert!(
        (slow.tempo_bpm / 63.0 - 1.0).abs() <= 0.01,
        "tempo {}",
        slow.tempo_bpm
    );
    // More sensitivity never finds fewer onsets.
    let eager = redetect(
        &whole,
        &MusicParams {
            beat_sensitivity: 1.0,
            ..p
        },
    );
    assert!(eager.onsets.len() >= whole.onsets.len());
    // Round trip through serde keeps what redetect needs.
    let json = serde_json::to_string(&whole).unwrap();
    let back: MusicAnalysis = serde_json::from_str(&json).unwrap();
    assert_eq!(
        redetect(&back, &MusicParams::default()).beats.len(),
        whole.beats.len()
    );
}

#[test]
fn waveform_buckets_cover_any_view_of_ten_minutes() {
    let x: Vec<f32> = (0..RATE as usize * 60)
        .map(|i| ((i as f32) * 0.05).sin() * 0.5)
        .collect();
    let mut an = MusicAnalyzer::new(MusicParams::default());
    for _ in 0..10 {
        an.push(&x);
    }
    let w = an.waveform_so_far();
    let start = Instant::now();
    let mut total = 0;
    for k in 0..100 {
        let a = ticks_from_secs(k as f64 * 5.0);
        total += w
            .buckets(a, a + ticks_from_secs(60.0 + k as f64), 1920)
            .len();
    }
    // Speed is `make bench`'s business (benches/music.rs, "waveform buckets"); this checks
    // the answers.
    println!(
        "waveform buckets: {:.1} us per call",
        start.elapsed().as_secs_f64() / 100.0 * 1e6
    );
    assert!(total > 0);
    let all = w.buckets(0, ticks_from_secs(600.0), 1000);
    assert!(!all.is_empty() && all.len() <= 1000);
}

#[test]
#[ignore]
fn debug_one_item() {
    let want = std::env::var("ITEM").expect("ITEM=name[,name] of the test set items to show");
    for sig in test_set(RATE, SECS)
        .iter()
        .filter(|s| want.split(',').any(|w| w == s.name))
    {
        eprintln!("== {}", sig.name);
        let (r, a) = evaluate(sig);
        eprintln!(
            "F {:.3} down {:.3} tempo {} meter {:?}",
            r.f, r.down_f, r.tempo, r.meter
        );
        eprintln!(
            "local tempo {:?}",
            a.local_tempo.values.iter().step_by(4).collect::<Vec<_>>()
        );
    }
}

/// Drums, then 12 s of a sustained pad with no attack (chords swelling slowly), then drums:
/// the pad is reported beatless and holds no beat; the drums keep theirs.
#[test]
fn beatless_passage_gets_no_invented_beats() {
    use beatcut::analysis::music::synth::{Style, TempoShape, signal};
    let drums = signal("rock", Style::Rock, TempoShape::Constant(120.0), 10.0, RATE).samples;
    let rms = (drums.iter().map(|x| x * x).sum::<f32>() / drums.len() as f32).sqrt();
    let pad: Vec<f32> = (0..(12.0 * RATE as f64) as usize)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let swell = 0.6 + 0.4 * (std::f32::consts::TAU * 0.13 * t).sin();
            let chord: f32 = [220.0f32, 277.2, 329.6]
                .iter()
                .map(|f| (std::f32::consts::TAU * f * t).sin())
                .sum();
            rms * 1.4 * swell * chord / 3.0
        })
        .collect();
    let mut song = drums.clone();
    song.extend_from_slice(&pad);
    song.extend_from_slice(&drums);
    let a = analyze_samples(&song, &MusicParams::default(), &CancelToken::new()).unwrap();
    let beats: Vec<f64> = a.beats.iter().map(|b| secs_from_ticks(b.time)).collect();
    let inside = beats.iter().filter(|&&t| (11.0..21.0).contains(&t)).count();
    assert_eq!(inside, 0, "beats invented in the pad: {beats:?}");
    let before = beats.iter().filter(|&&t| (1.0..9.5).contains(&t)).count();
    let after = beats.iter().filter(|&&t| (23.0..31.5).contains(&t)).count();
    assert!(
        before >= 15 && after >= 15,
        "{before} and {after} beats in the drums"
    );
    assert_eq!(a.beatless.len(), 1, "{:?}", a.beatless);
    let (s, e) = (
        secs_from_ticks(a.beatless[0].0),
        secs_from_ticks(a.beatless[0].1),
    );
    assert!(
        s < 12.0 && e > 20.0,
        "beatless {s:.1}..{e:.1} s covers the pad"
    );
    // And a song that has a beat throughout reports no beatless stretch.
    let whole = analyze_samples(&drums, &MusicParams::default(), &CancelToken::new()).unwrap();
    assert!(whole.beatless.is_empty(), "{:?}", whole.beatless);
}
