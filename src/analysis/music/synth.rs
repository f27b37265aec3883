//! Test signal synthesis with known beats; used by tests, benches and the demo.
//!
//! Drums (kick, snare, hats, clap, click), chord pads and bass are rendered from simple
//! formulas with a deterministic noise source, so every signal and its ground truth (beat
//! and downbeat times) is reproducible and nothing needs to be committed as media.

use std::f32::consts::TAU;

/// Deterministic xorshift noise.
#[derive(Debug, Clone)]
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> f32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        (x as f32 / u32::MAX as f32) * 2.0 - 1.0
    }
}

/// How the tempo moves over a test signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TempoShape {
    /// Fixed BPM.
    Constant(f64),
    /// Linear change from the first to the second BPM over the whole signal.
    Ramp(f64, f64),
    /// The first BPM until `at_secs`, then the second.
    Step(f64, f64, f64),
}

impl TempoShape {
    fn bpm_at(self, t: f64, secs: f64) -> f64 {
        match self {
            Self::Constant(b) => b,
            Self::Ramp(a, b) => a + (b - a) * (t / secs.max(1e-9)).clamp(0.0, 1.0),
            Self::Step(a, b, at) => {
                if t < at {
                    a
                } else {
                    b
                }
            }
        }
    }

    /// Beat times from `start` until `secs` (each interval uses the tempo at its middle).
    pub fn beat_times(self, start: f64, secs: f64) -> Vec<f64> {
        let mut out = Vec::new();
        let mut t = start;
        while t < secs {
            out.push(t);
            let next = match self {
                // A step takes effect from the first beat at or after its time.
                Self::Step(..) => t + 60.0 / self.bpm_at(t, secs),
                _ => {
                    let guess = 60.0 / self.bpm_at(t, secs);
                    t + 60.0 / self.bpm_at(t + guess / 2.0, secs)
                }
            };
            t = next;
        }
        out
    }
}

/// Drum pattern and arrangement of a test signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Clicks on every beat, higher and louder on the downbeat; nothing else.
    Clicks,
    /// Kick on 1 and 3, snare on 2 and 4, closed hats on eighths, pad and bass.
    Rock,
    /// Kick on every beat, clap on 2 and 4, open hat on the off-beats, off-beat bass.
    FourFloor,
    /// Drum'n'bass two-step: kick on 1 and the "and" of 3, snare on 2 and 4, eighth hats.
    DrumAndBass,
    /// Rock with shuffled (swung, 2:1) eighth hats.
    Swing,
    /// 3/4: accented kick on 1, soft snare on 2 and 3, eighth hats, a chord per bar.
    Waltz,
    /// Soft kick and hats 24 dB under a loud sustained pad.
    SoftUnderPad,
    /// Off-beat heavy (ska, reggae, some punk riffs): a kick and a bass note on every beat,
    /// loud bright chord stabs with a clap and an open hat on every off-beat. The loudest
    /// onsets of the song fall between the beats.
    OffbeatStabs,
    /// No drums at all (a piano ballad): a soft chord on every beat, a single arpeggio note
    /// between beats, a bass note on 1 and 3.
    Ballad,
}

/// A synthesised signal with its ground truth.
#[derive(Debug, Clone)]
pub struct TestSignal {
    /// Short identifier for tables.
    pub name: String,
    /// Sample rate.
    pub rate: u32,
    /// Mono samples, peak about 0.9.
    pub samples: Vec<f32>,
    /// Times of the played beats, seconds.
    pub beats: Vec<f64>,
    /// Times of the downbeats, seconds.
    pub downbeats: Vec<f64>,
    /// 3 or 4.
    pub beats_per_bar: u8,
    /// The tempo when it is constant.
    pub tempo_bpm: Option<f64>,
}

/// Mixes drum hits and tones into a buffer.
struct Mixer {
    rate: f32,
    buf: Vec<f32>,
    rng: Rng,
}

const CHORDS: [[f32; 3]; 4] = [
    [261.63, 329.63, 392.00],
    [196.00, 246.94, 293.66],
    [220.00, 261.63, 329.63],
    [174.61, 220.00, 261.63],
];
const ROOTS: [f32; 4] = [65.41, 49.00, 55.00, 43.65];

impl Mixer {
    fn new(rate: u32, secs: f64, seed: u32) -> Self {
        Self {
            rate: rate as f32,
            buf: vec![0.0; (secs * rate as f64).ceil() as usize],
            rng: Rng(seed.max(1)),
        }
    }

    /// Adds `len` seconds of `f(time since start, noise)` at `t`, scaled by `gain`.
    fn add(&mut self, t: f64, len: f32, gain: f32, mut f: impl FnMut(f32, f32) -> f32) {
        if gain <= 0.0 || t < 0.0 {
            return;
        }
        let start = (t * self.rate as f64).round() as usize;
        let n = (len * self.rate) as usize;
        let end = (start + n).min(self.buf.len());
        let rate = self.rate;
        for (i, s) in self
            .buf
            .get_mut(start..end)
            .unwrap_or(&mut [])
            .iter_mut()
            .enumerate()
        {
            let noise = self.rng.next();
            *s += gain * f(i as f32 / rate, noise);
        }
    }

    fn kick(&mut self, t: f64, gain: f32) {
        let mut phase = 0.0f32;
        let dt = 1.0 / self.rate;
        self.add(t, 0.35, gain, move |x, n| {
            let f = 50.0 + 90.0 * (-x / 0.03).exp();
            phase += TAU * f * dt;
            let click = if x < 0.003 { 0.3 * n } else { 0.0 };
            phase.sin() * (-x / 0.14).exp() + click
        });
    }

    fn snare(&mut self, t: f64, gain: f32) {
        let mut prev = 0.0f32;
        self.add(t, 0.22, gain, move |x, n| {
            let hp = n - prev;
            prev = n;
            0.5 * hp * (-x / 0.06).exp() + 0.45 * (TAU * 190.0 * x).sin() * (-x / 0.05).exp()
        });
    }

    fn hat(&mut self, t: f64, gain: f32, decay: f32) {
        // Third difference of noise: +18 dB/octave, so the energy sits above ~5 kHz.
        let (mut p1, mut p2, mut p3) = (0.0f32, 0.0f32, 0.0f32);
        self.add(t, decay * 5.0, gain, move |x, n| {
            let hp = n - 3.0 * p1 + 3.0 * p2 - p3;
            (p3, p2, p1) = (p2, p1, n);
            0.2 * hp * (-x / decay).exp()
        });
    }

    fn clap(&mut self, t: f64, gain: f32) {
        let mut prev = 0.0f32;
        self.add(t, 0.2, gain, move |x, n| {
            let hp = n - prev;
            prev = n;
            let bursts = (-(x % 0.011) / 0.003).exp() * if x < 0.033 { 1.0 } else { 0.0 };
            0.6 * hp * (bursts + (-x / 0.05).exp() * 0.6)
        });
    }

    fn click(&mut self, t: f64, gain: f32, freq: f32) {
        self.add(t, 0.03, gain, move |x, _| {
            (TAU * freq * x).sin() * (-x / 0.006).exp()
        });
    }

    /// A tone with a few harmonics, linear attack, exponential-ish release at the end.
    fn tone(&mut self, t: f64, len: f32, freq: f32, gain: f32, attack: f32, harmonics: usize) {
        let release = 0.08f32.min(len / 2.0);
        self.add(t, len, gain, move |x, _| {
            let env = (x / attack.max(1e-4)).min(1.0) * ((len - x) / release).clamp(0.0, 1.0);
            let mut v = 0.0;
            let mut amp = 1.0;
            for h in 1..=harmonics {
                v += amp * (TAU * freq * h as f32 * x).sin();
                amp *= 0.5;
            }
            env * v
        });
    }
}

/// Renders `style` over `beats` (seconds) with `beats_per_bar`, scaling each event by
/// `gain(t)`; returns the buffer (not normalised).
fn render(
    style: Style,
    rate: u32,
    secs: f64,
    beats: &[f64],
    beats_per_bar: usize,
    gain: &dyn Fn(f64) -> f32,
    seed: u32,
) -> Vec<f32> {
    let mut m = Mixer::new(rate, secs, seed);
    let bpb = beats_per_bar.max(1);
    for (k, &t) in beats.iter().enumerate() {
        let prev = if k > 0 {
            beats.get(k - 1).copied()
        } else {
            None
        };
        let next = beats
            .get(k + 1)
            .copied()
            .unwrap_or(t + (t - prev.unwrap_or(t - 0.5)));
        let dur = (next - t).max(0.05);
        let pos = k % bpb;
        let bar = k / bpb;
        let g = gain(t);
        let half = t + dur / 2.0;
        let chord = CHORDS[bar % 4];
        let root = ROOTS[bar % 4];
        match style {
            Style::Clicks => {
                if pos == 0 {
                    m.click(t, 0.9 * g, 1600.0);
                } else {
                    m.click(t, 0.5 * g, 1000.0);
                }
            }
            Style::Rock | Style::Swing => {
                if pos.is_multiple_of(2) {
                    m.kick(t, 0.9 * g);
                } else {
                    m.snare(t, 0.7 * g);
                }
                m.hat(t, 0.25 * g, 0.02);
                let off = if style == Style::Swing {
                    t + dur * 2.0 / 3.0
                } else {
                    half
                };
                m.hat(off, 0.18 * gain(off), 0.02);
                if pos.is_multiple_of(2) {
                    m.tone(t, (dur * 1.8) as f32, root, 0.25 * g, 0.01, 2);
                }
            }
            Style::FourFloor => {
                m.kick(t, 0.9 * g);
                if pos % 2 == 1 {
                    m.clap(t, 0.6 * g);
                }
                m.hat(half, 0.3 * gain(half), 0.06);
                m.tone(
                    half,
                    (dur * 0.45) as f32,
                    root * 2.0,
                    0.22 * gain(half),
                    0.005,
                    2,
                );
            }
            Style::DrumAndBass => {
                if pos == 0 {
                    m.kick(t, 0.9 * g);
                }
                if pos == 2 {
                    m.kick(half, 0.8 * gain(half));
                }
                if pos % 2 == 1 {
                    m.snare(t, 0.8 * g);
                }
                m.hat(t, 0.2 * g, 0.015);
                m.hat(half, 0.14 * gain(half), 0.015);
                if pos == 0 {
                    m.tone(t, (dur * bpb as f64 * 0.95) as f32, root, 0.3 * g, 0.01, 1);
                }
            }
            Style::Waltz => {
                if pos == 0 {
                    m.kick(t, 1.0 * g);
                    m.tone(t, (dur * 0.9) as f32, root, 0.25 * g, 0.01, 2);
                } else {
                    m.snare(t, 0.3 * g);
                }
                m.hat(t, 0.2 * g, 0.02);
                m.hat(half, 0.12 * gain(half), 0.02);
            }
            Style::OffbeatStabs => {
                m.kick(t, 0.7 * g);
                m.tone(t, (dur * 0.45) as f32, root, 0.3 * g, 0.005, 1);
                let gh = gain(half);
                m.clap(half, 0.55 * gh);
                m.hat(half, 0.35 * gh, 0.05);
                for (i, &f) in chord.iter().enumerate() {
                    m.tone(
                        half,
                        (dur * 0.3) as f32,
                        f * 2.0,
                        (0.3 - 0.05 * i as f32) * gh,
                        0.002,
                        4,
                    );
                }
            }
            Style::Ballad => {
                for (i, &f) in chord.iter().enumerate() {
                    m.tone(
                        t,
                        (dur * 0.95) as f32,
                        f,
                        (0.16 - 0.02 * i as f32) * g,
                        0.004,
                        3,
                    );
                }
                let note = chord[(k + 1) % 3] * 2.0;
                m.tone(half, (dur * 0.45) as f32, note, 0.08 * gain(half), 0.004, 2);
                if pos.is_multiple_of(2) {
                    m.tone(t, (dur * 1.9) as f32, root, 0.25 * g, 0.006, 2);
                }
            }
            Style::SoftUnderPad => {
                let soft = 0.063 * g;
                if pos.is_multiple_of(2) {
                    m.kick(t, 0.9 * soft);
                } else {
                    m.snare(t, 0.7 * soft);
                }
                m.hat(t, 0.3 * soft, 0.02);
                m.hat(half, 0.2 * soft, 0.02);
            }
        }
        if pos == 0 && style != Style::Clicks {
            let bar_len = (dur * bpb as f64) as f32 + 0.05;
            let (level, attack) = if style == Style::SoftUnderPad {
                (0.22, 0.25)
            } else {
                (0.05, 0.04)
            };
            for &f in &chord {
                m.tone(t, bar_len, f, level * g, attack, 3);
            }
        }
    }
    m.buf
}

fn normalise(mut x: Vec<f32>) -> Vec<f32> {
    let peak = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    if peak > 0.0 {
        let k = 0.9 / peak;
        x.iter_mut().for_each(|v| *v *= k);
    }
    x
}

/// One test signal: `style` at `tempo` for `secs`, beats from 0.2 s on.
pub fn signal(name: &str, style: Style, tempo: TempoShape, secs: f64, rate: u32) -> TestSignal {
    let beats_per_bar = if style == Style::Waltz { 3 } else { 4 };
    let beats = tempo.beat_times(0.2, secs - 0.3);
    let seed = name
        .bytes()
        .fold(17u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
    let samples = normalise(render(
        style,
        rate,
        secs,
        &beats,
        beats_per_bar,
        &|_| 1.0,
        seed,
    ));
    let downbeats = beats.iter().step_by(beats_per_bar).copied().collect();
    TestSignal {
        name: name.to_string(),
        rate,
        samples,
        beats,
        downbeats,
        beats_per_bar: beats_per_bar as u8,
        tempo_bpm: match tempo {
            TempoShape::Constant(b) => Some(b),
            _ => None,
        },
    }
}

/// Rock at 124 BPM through sections at -36, -24, -12 and 0 dB, a 2 s silence, then a loud
/// part fading out to -60 dB; beats in the silence are not part of the truth.
pub fn dynamics_signal(secs: f64, rate: u32) -> TestSignal {
    let bpm = 124.0;
    let all = TempoShape::Constant(bpm).beat_times(0.2, secs - 0.3);
    let (sil0, sil1) = (secs * 0.5, secs * 0.5 + 2.0);
    let fade0 = secs - 6.0;
    let db_at = move |t: f64| -> f64 {
        if t < secs * 0.125 {
            -36.0
        } else if t < secs * 0.25 {
            -24.0
        } else if t < secs * 0.375 {
            -12.0
        } else if t < fade0 {
            0.0
        } else {
            -60.0 * ((t - fade0) / (secs - fade0)).clamp(0.0, 1.0)
        }
    };
    let in_gap = move |t: f64| t >= sil0 - 0.05 && t < sil1;
    let gain = move |t: f64| {
        if in_gap(t) {
            0.0
        } else {
            10f64.powf(db_at(t) / 20.0) as f32
        }
    };
    let mut samples = render(Style::Rock, rate, secs, &all, 4, &gain, 99);
    // Hard silence in the gap (pads and tails from before it are cut).
    let r = rate as f64;
    let (a, b) = (
        (sil0 * r) as usize,
        ((sil1 * r) as usize).min(samples.len()),
    );
    if let Some(gap) = samples.get_mut(a.min(b)..b) {
        gap.fill(0.0);
    }
    let samples = normalise(samples);
    // Truth: beats that sound, down to -45 dB in the fade.
    let keep = |t: &f64| !in_gap(*t) && db_at(*t) > -45.0;
    let beats: Vec<f64> = all.iter().copied().filter(keep).collect();
    let downbeats = all.iter().step_by(4).copied().filter(keep).collect();
    TestSignal {
        name: "dynamics_124".into(),
        rate,
        samples,
        beats,
        downbeats,
        beats_per_bar: 4,
        tempo_bpm: Some(bpm),
    }
}

/// The accuracy test set: clicks, rock and four-on-the-floor at 80/100/128/150 BPM,
/// drum'n'bass at 174, a ramp 100→140, a step 100→130, swing, 3/4 at 90, a soft beat
/// under a loud pad and a -36..0 dB dynamics track with a silence and a fade-out.
pub fn test_set(rate: u32, secs: f64) -> Vec<TestSignal> {
    use Style::*;
    use TempoShape::*;
    let items: Vec<(&str, Style, TempoShape)> = vec![
        ("clicks_120", Clicks, Constant(120.0)),
        ("rock_80", Rock, Constant(80.0)),
        ("rock_100", Rock, Constant(100.0)),
        ("rock_128", Rock, Constant(128.0)),
        ("rock_150", Rock, Constant(150.0)),
        ("house_80", FourFloor, Constant(80.0)),
        ("house_100", FourFloor, Constant(100.0)),
        ("house_128", FourFloor, Constant(128.0)),
        ("house_150", FourFloor, Constant(150.0)),
        ("dnb_174", DrumAndBass, Constant(174.0)),
        ("ramp_100_140", Rock, Ramp(100.0, 140.0)),
        ("step_100_130", Rock, Step(100.0, 130.0, secs * 0.5)),
        ("swing_116", Swing, Constant(116.0)),
        ("waltz_90", Waltz, Constant(90.0)),
        ("soft_pad_110", SoftUnderPad, Constant(110.0)),
        ("offbeat_150", OffbeatStabs, Constant(150.0)),
        ("ballad_72", Ballad, Constant(72.0)),
    ];
    let mut out: Vec<TestSignal> = items
        .into_iter()
        .map(|(name, style, tempo)| signal(name, style, tempo, secs, rate))
        .collect();
    out.push(dynamics_signal(secs, rate));
    out
}

/// A pleasant-ish demo track: drums, chords and bass through a quiet intro, a build, a loud
/// climax, a breakdown and a fading outro, at `bpm`.
pub fn demo_song(rate: u32, secs: f64, bpm: f64) -> Vec<f32> {
    let beats = TempoShape::Constant(bpm.clamp(40.0, 300.0)).beat_times(0.1, (secs - 0.3).max(0.2));
    let secs_f = secs.max(1.0);
    let part = move |t: f64| t / secs_f;
    let mut m = Mixer::new(rate, secs.max(0.0), 7);
    for (k, &t) in beats.iter().enumerate() {
        let dur = 60.0 / bpm;
        let pos = k % 4;
        let bar = k / 4;
        let half = t + dur / 2.0;
        let x = part(t);
        // Arrangement: intro < 0.15, build < 0.35, climax < 0.7, breakdown < 0.8, outro fade.
        let level: f32 = if x < 0.15 {
            0.3
        } else if x < 0.35 {
            0.45 + 0.55 * ((x - 0.15) / 0.2) as f32
        } else if x < 0.7 {
            1.0
        } else if x < 0.8 {
            0.4
        } else {
            (1.0 - (x - 0.8) / 0.2).max(0.0) as f32
        };
        let drums = x >= 0.15 && !(0.7..0.8).contains(&x);
        let full = (0.35..0.7).contains(&x) || x >= 0.8;
        if drums || (0.7..0.8).contains(&x) && pos == 0 {
            m.kick(t, 0.9 * level);
        }
        if drums && pos % 2 == 1 {
            if full {
                m.snare(t, 0.7 * level);
                m.clap(t, 0.3 * level);
            } else {
                m.snare(t, 0.4 * level);
            }
        }
        m.hat(t, 0.2 * level, 0.02);
        m.hat(
            half,
            if full { 0.25 } else { 0.12 } * level,
            if full { 0.06 } else { 0.02 },
        );
        if drums {
            m.tone(
                half,
                (dur * 0.45) as f32,
                ROOTS[bar % 4] * 2.0,
                0.22 * level,
                0.005,
                2,
            );
        }
        if pos == 0 {
            for &f in &CHORDS[bar % 4] {
                m.tone(
                    t,
                    (dur * 4.0) as f32 + 0.05,
                    f,
                    0.06 * level.max(0.3),
                    0.05,
                    3,
                );
                if full {
                    m.tone(t, (dur * 4.0) as f32 + 0.05, f * 2.0, 0.02 * level, 0.05, 2);
                }
            }
        }
    }
    normalise(m.buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beat_grids_follow_the_shape() {
        let c = TempoShape::Constant(120.0).beat_times(0.0, 10.0);
        assert_eq!(c.len(), 20);
        let s = TempoShape::Step(100.0, 130.0, 6.0).beat_times(0.0, 12.0);
        assert!(s.iter().any(|&t| (t - 6.0).abs() < 1e-6));
        let r = TempoShape::Ramp(100.0, 140.0).beat_times(0.0, 20.0);
        let first = r[1] - r[0];
        let last = r[r.len() - 1] - r[r.len() - 2];
        assert!(first > 0.58 && last < 0.44);
    }

    #[test]
    fn demo_song_is_bounded() {
        let x = demo_song(8000, 4.0, 120.0);
        assert_eq!(x.len(), 32_000);
        assert!(x.iter().all(|v| v.abs() <= 0.91));
    }
}
