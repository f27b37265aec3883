//! Planner benchmarks (criterion). Method: a 3-minute, 120 BPM song with sections and an
//! energy curve; clips of synthetic scenes (0.5 to 12 s, random features, 16-d look
//! vectors). `select_*` time `plan_with_index` (pacing + selection) with the index built
//! once, as the editor replans; `replan_200_clips` times `plan` end to end, index included,
//! as after a detection-threshold change. Targets: 1,000 scenes < 0.2 ms,
//! 100,000 scenes < 5 ms, 200 clips < 16 ms.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use beatcut::analysis::music::{Beat, Curve, EnergyCurve, MusicAnalysis, Section, SectionLabel};
use beatcut::analysis::video::{ClipAnalysis, Scene, SceneFeatures};
use beatcut::plan::{
    ClipInput, Constraints, PlanIndex, PlanSettings, Style, plan, plan_with_index,
};
use beatcut::time::{FrameRate, TICKS_PER_SECOND, Ticks, ticks_from_secs};
use criterion::{Criterion, criterion_group, criterion_main};

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

fn bench(c: &mut Criterion) {
    let music = song(180.0);
    let settings = PlanSettings::new("dynamic", 1, FrameRate::whole(30));
    let style = Style::builtin("dynamic").unwrap_or_default();
    let none = Constraints::default();
    for (name, clips, scenes) in [
        ("select_1k_scenes", 50, 20),
        ("select_100k_scenes", 500, 200),
    ] {
        let analyses = library(clips, scenes);
        let index = PlanIndex::new(&inputs(&analyses));
        c.bench_function(name, |b| {
            b.iter(|| black_box(plan_with_index(&index, &music, &style, &settings, &none)))
        });
    }
    let analyses = library(200, 20);
    let clips = inputs(&analyses);
    c.bench_function("replan_200_clips", |b| {
        b.iter(|| black_box(plan(&music, &clips, &settings, &none)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
