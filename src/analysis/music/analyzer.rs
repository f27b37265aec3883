//! The streaming analyser and the detection pipeline shared with `redetect`:
//! curves (waveform, energy, onset features) are built while audio arrives; tempo, beats,
//! bars, onsets and sections are derived from the curves alone.

use rayon::prelude::*;

use crate::jobs::CancelToken;
use crate::time::{TICKS_PER_SECOND, Ticks, ticks_from_samples, ticks_from_secs};

use super::beats::{BeatRun, parity_balance, track_segment};
use super::dsp::{mean, moving_average, quantile};
use super::energy::EnergyAccumulator;
use super::meter::{AccentFeatures, assign_bars};
use super::onset::OnsetFrontEnd;
use super::params::{MusicError, MusicParams};
use super::peaks::pick_peaks;
use super::sections::sections;
use super::tempo::{TempoPath, tempo_path};
use super::types::{Beat, Curve, MusicAnalysis, WaveformPyramid};
use super::waveform::WaveformBuilder;

/// Shortest audio the analysis accepts, seconds.
const MIN_SECS: f64 = 1.0;
/// Where a beat sits relative to the centre of the onset frame that peaks on it, seconds
/// (the log spectral flux rises as soon as an attack enters the window; measured on clicks).
const ONSET_LAG_SECS: f64 = 0.0085;
/// A stretch whose onset level stays under this share of the song's busy level (its 75th
/// percentile) has no attacks to find a beat in.
const BEATLESS_LEVEL: f32 = 0.15;
/// Shortest beatless stretch, seconds (a held chord between two bars is not one).
const BEATLESS_MIN_SECS: f64 = 4.0;
/// Parity balance under which a level is taken for a subdivision of the beat.
const SUBDIVISION_BALANCE: f32 = 0.35;
/// The same over the full-band onsets (beats 0.7-0.99 on the generated and real songs,
/// subdivisions 0.36-0.44).
const SUBDIVISION_FULL_BALANCE: f32 = 0.6;
/// How much more low-band (kick, bass) onset the half-beat positions must carry than the
/// tracked beats before the grid is moved onto them.
const OFFBEAT_LOW_RATIO: f32 = 1.25;

/// Mean low-band onset half-way between tracked beats over the mean on them (1 when alike).
fn low_band_offbeat_ratio(runs: &[BeatRun], low: &[f32]) -> f32 {
    let (mut on, mut off) = (0f32, 0f32);
    for run in runs {
        for pair in run.windows(2) {
            let n = pair[0].round().max(0.0) as usize;
            let m = ((pair[0] + pair[1]) / 2.0).round().max(0.0) as usize;
            on += super::dsp::max_around(low, n, 2, 2);
            off += super::dsp::max_around(low, m, 2, 2);
        }
    }
    if on <= 1e-6 { 1.0 } else { off / on }
}

/// Every beat of `run` moved half-way to the next (the last by half the interval before).
fn shift_half_beat(run: &BeatRun) -> BeatRun {
    run.iter()
        .enumerate()
        .map(|(i, &f)| {
            let gap = match (run.get(i + 1), i.checked_sub(1).and_then(|p| run.get(p))) {
                (Some(&next), _) => next - f,
                (None, Some(&prev)) => f - prev,
                (None, None) => 0.0,
            };
            f + gap / 2.0
        })
        .collect()
}

/// Streaming analyser: feed mono samples at `params.analysis_rate` as they are decoded,
/// then call [`MusicAnalyzer::finish`].
pub struct MusicAnalyzer {
    params: MusicParams,
    waveform: WaveformBuilder,
    energy: EnergyAccumulator,
    onset: OnsetFrontEnd,
    samples: u64,
    clean: Vec<f32>,
}

impl std::fmt::Debug for MusicAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MusicAnalyzer")
            .field("params", &self.params)
            .field("samples", &self.samples)
            .finish_non_exhaustive()
    }
}

impl MusicAnalyzer {
    /// A fresh analyser (parameters are sanitised first).
    pub fn new(params: MusicParams) -> Self {
        let params = params.sanitized();
        Self {
            waveform: WaveformBuilder::new(params.analysis_rate, params.waveform_bucket),
            energy: EnergyAccumulator::new(params.energy_window, params.energy_hop),
            onset: OnsetFrontEnd::new(
                params.analysis_rate,
                params.fft_size as usize,
                params.onset_hop as usize,
                params.mel_bands as usize,
            ),
            params,
            samples: 0,
            clean: Vec::new(),
        }
    }

    /// Adds decoded samples: updates the waveform pyramid and energy sums and runs the STFT
    /// over every complete frame. Non-finite samples count as silence.
    pub fn push(&mut self, mono: &[f32]) {
        if mono.is_empty() {
            return;
        }
        self.clean.clear();
        self.clean
            .extend(mono.iter().map(|&x| if x.is_finite() { x } else { 0.0 }));
        self.samples += mono.len() as u64;
        self.waveform.push(&self.clean);
        self.energy.push(&self.clean);
        self.onset.push(&self.clean);
    }

    /// The waveform so far, for drawing while decoding continues.
    pub fn waveform_so_far(&self) -> WaveformPyramid {
        self.waveform.snapshot()
    }

    /// Samples pushed so far.
    pub fn samples_pushed(&self) -> u64 {
        self.samples
    }

    /// Finishes the curves and runs tempo, beat, bar, onset and section detection.
    pub fn finish(self, cancel: &CancelToken) -> Result<MusicAnalysis, MusicError> {
        let rate = self.params.analysis_rate;
        let secs = self.samples as f64 / rate as f64;
        if secs < MIN_SECS {
            return Err(MusicError::TooShort {
                secs,
                min_secs: MIN_SECS,
            });
        }
        if cancel.is_cancelled() {
            return Err(MusicError::Cancelled);
        }
        let hop = self.params.onset_hop as usize;
        let frame_rate = rate as f64 / hop as f64;
        let waveform = self.waveform.snapshot();
        let energy = self.energy.curve(rate);
        let feats = self.onset.finish();
        if cancel.is_cancelled() {
            return Err(MusicError::Cancelled);
        }
        let normalise = |x: &[f32]| adaptive_normalise(x, frame_rate);
        let ((strength, low), body) = rayon::join(
            || rayon::join(|| normalise(&feats.flux), || normalise(&feats.low)),
            || normalise(&feats.body),
        );
        let hop_ticks = ticks_from_samples(hop as i64, rate);
        let curve = |values: Vec<f32>| Curve {
            hop: hop_ticks,
            values,
        };
        let mut analysis = MusicAnalysis {
            duration: ticks_from_samples(self.samples as i64, rate),
            analysis_rate: rate,
            onset_strength: curve(strength),
            onset_low: curve(low),
            onset_body: curve(body),
            harmonic_change: curve(feats.harmonic.iter().map(|h| (h / 4.0).min(1.0)).collect()),
            onset_level: curve(moving_average(&feats.flux, frame_rate.round() as usize)),
            energy,
            waveform,
            ..MusicAnalysis::default()
        };
        detect(&mut analysis, &self.params, cancel)?;
        Ok(analysis)
    }
}

/// Analyses a whole buffer of mono samples at `params.analysis_rate`.
pub fn analyze_samples(
    mono: &[f32],
    params: &MusicParams,
    cancel: &CancelToken,
) -> Result<MusicAnalysis, MusicError> {
    let mut analyzer = MusicAnalyzer::new(params.clone());
    analyzer.push(mono);
    analyzer.finish(cancel)
}

/// Re-runs the cheap last steps (tempo path, beats, bars, onset picking, sections) over the
/// curves cached in `analysis` with new parameters; never needs the audio. Energy and
/// spectrogram settings of `params` cannot change here and are ignored.
pub fn redetect(analysis: &MusicAnalysis, params: &MusicParams) -> MusicAnalysis {
    let mut out = analysis.clone();
    match detect(&mut out, params, &CancelToken::new()) {
        Ok(()) => out,
        Err(_) => analysis.clone(),
    }
}

/// Local mean normalisation over ±2 s so quiet passages track like loud ones, then scaled so
/// the strong peaks sit near 1.
fn adaptive_normalise(x: &[f32], frame_rate: f64) -> Vec<f32> {
    let local = moving_average(x, (2.0 * frame_rate).round() as usize);
    let floor = 0.1 * mean(x) + 1e-9;
    let y: Vec<f32> = x.iter().zip(&local).map(|(v, m)| v / (m + floor)).collect();
    scale_to_unit(&y)
}

/// Divides by the 99.5th percentile of the non-zero values and clamps to 0..=1.
fn scale_to_unit(x: &[f32]) -> Vec<f32> {
    let nz: Vec<f32> = x.iter().copied().filter(|&v| v > 0.0).collect();
    let top = quantile(&nz, 0.995);
    if top <= 0.0 {
        return vec![0.0; x.len()];
    }
    x.iter().map(|v| (v / top).clamp(0.0, 1.0)).collect()
}

/// Which onset frames carry sound: energy within `45 + 20 * sensitivity` dB of the loud level.
fn activity(
    analysis: &MusicAnalysis,
    frames: usize,
    hop_ticks: Ticks,
    sensitivity: f32,
) -> Vec<bool> {
    let db = &analysis.energy.db;
    if db.values.is_empty() || db.hop <= 0 {
        return vec![true; frames];
    }
    let loud = quantile(&db.values, 0.95);
    let threshold = (loud - (45.0 + 20.0 * sensitivity)).max(-85.0);
    (0..frames)
        .map(|n| db.at(n as Ticks * hop_ticks) > threshold)
        .collect()
}

/// Sounding stretches of at least `BEATLESS_MIN_SECS` whose onset level stays under
/// `BEATLESS_LEVEL` of the song's busy level (empty when the level curve is missing).
fn beatless_runs(level: &[f32], active: &[bool], frame_rate: f64) -> Vec<std::ops::Range<usize>> {
    if level.len() != active.len() {
        return Vec::new();
    }
    let sounding: Vec<f32> = level
        .iter()
        .zip(active)
        .filter(|(_, a)| **a)
        .map(|(v, _)| *v)
        .collect();
    let busy = quantile(&sounding, 0.75);
    if busy <= 0.0 {
        return Vec::new();
    }
    let quiet: Vec<bool> = level
        .iter()
        .zip(active)
        .map(|(&v, &a)| a && v < BEATLESS_LEVEL * busy)
        .collect();
    segments(&quiet, 1, (BEATLESS_MIN_SECS * frame_rate).round() as usize)
}

/// Stretches of sound long enough to track: gaps shorter than `bridge` frames are closed,
/// stretches shorter than `min_len` frames dropped.
fn segments(active: &[bool], bridge: usize, min_len: usize) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = None;
    for (n, &a) in active.iter().chain(std::iter::once(&false)).enumerate() {
        match (a, start) {
            (true, None) => start = Some(n),
            (false, Some(s)) => {
                runs.push(s..n);
                start = None;
            }
            _ => {}
        }
    }
    let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
    for r in runs {
        match merged.last_mut() {
            Some(last) if r.start - last.end < bridge => last.end = r.end,
            _ => merged.push(r),
        }
    }
    merged.retain(|r| r.len() >= min_len);
    merged
}

/// Beat period over every run, seconds: the mean of the inter-beat intervals within 25 % of
/// their median (a beat the tracker bridged, or a tempo step's seam, stays out of it).
fn typical_period(runs: &[Vec<f64>]) -> Option<f64> {
    let mut gaps: Vec<f32> = runs
        .iter()
        .flat_map(|r| r.windows(2).map(|w| (w[1] - w[0]) as f32))
        .filter(|g| *g > 0.0)
        .collect();
    if gaps.len() < 3 {
        return None;
    }
    let median = f64::from(quantile(&gaps, 0.5));
    gaps.retain(|&g| (f64::from(g) - median).abs() <= 0.25 * median);
    let period = gaps.iter().map(|&g| f64::from(g)).sum::<f64>() / gaps.len().max(1) as f64;
    (period > 0.0).then_some(period)
}

/// The detection pipeline over the curves in `analysis`; fills tempo, beats, onsets, sections.
pub(crate) fn detect(
    analysis: &mut MusicAnalysis,
    params: &MusicParams,
    cancel: &CancelToken,
) -> Result<(), MusicError> {
    let p = params.sanitized();
    let hop_ticks = analysis.onset_strength.hop.max(1);
    let hop_secs = hop_ticks as f64 / TICKS_PER_SECOND as f64;
    let frame_rate = 1.0 / hop_secs;
    let o = analysis.onset_strength.values.clone();
    let frames = o.len();
    let low = if analysis.onset_low.values.len() == frames {
        analysis.onset_low.values.clone()
    } else {
        vec![0.0; frames]
    };
    let body = if analysis.onset_body.values.len() == frames {
        analysis.onset_body.values.clone()
    } else {
        o.clone()
    };
    let harmonic = if analysis.harmonic_change.values.len() == frames {
        analysis.harmonic_change.values.clone()
    } else {
        vec![0.0; frames]
    };

    let mut active = activity(analysis, frames, hop_ticks, p.beat_sensitivity);
    let beatless = beatless_runs(&analysis.onset_level.values, &active, frame_rate);
    for r in &beatless {
        if let Some(a) = active.get_mut(r.clone()) {
            a.fill(false);
        }
    }
    analysis.beatless = beatless
        .iter()
        .map(|r| {
            (
                (r.start as Ticks * hop_ticks).min(analysis.duration),
                (r.end as Ticks * hop_ticks).min(analysis.duration),
            )
        })
        .collect();
    let reach = (0.75 * frame_rate).round() as usize;
    let near_sound: Vec<bool> = {
        let f: Vec<f32> = active.iter().map(|&a| f32::from(u8::from(a))).collect();
        moving_average(&f, reach).iter().map(|&v| v > 0.0).collect()
    };
    let bridge = ((1.5 * 60.0 / p.min_bpm).max(1.2) * frame_rate).round() as usize;
    let segs = segments(&active, bridge, (1.5 * frame_rate).round() as usize);
    let path = tempo_path(
        &o,
        &near_sound,
        frame_rate,
        p.min_bpm,
        p.max_bpm,
        p.tempo_window_secs,
        cancel,
    )?;
    if cancel.is_cancelled() {
        return Err(MusicError::Cancelled);
    }

    // Onset envelope at unit standard deviation over the sounding frames, for the DP.
    let sounding: Vec<f32> = o
        .iter()
        .zip(&active)
        .filter(|(_, a)| **a)
        .map(|(v, _)| *v)
        .collect();
    let mu = mean(&sounding);
    let sd = (sounding.iter().map(|v| (v - mu) * (v - mu)).sum::<f32>()
        / sounding.len().max(1) as f32)
        .sqrt()
        .max(1e-6);
    let local: Vec<f32> = o.iter().map(|v| v / sd).collect();

    // Metrical level: the path sits where the tempogram (autocorrelation times Fourier, under
    // the tempo prior) is strongest; the levels at twice and half its tempo are scored the
    // same way, and the runner-up is kept for the user. A level whose alternate beats differ
    // in the drum-body band (a hi-hat subdivision: every other "beat" has no body at all) is
    // halved.
    let in_range = |f: f64| {
        let ok = path
            .bpm
            .iter()
            .filter(|&&b| b * f >= p.min_bpm * 0.97 && b * f <= p.max_bpm * 1.03)
            .count();
        ok as f64 >= 0.8 * path.bpm.len() as f64
    };
    let mut levels: Vec<(f64, f64)> = [4.0, 2.0, 1.0, 0.5]
        .into_iter()
        .filter(|&f| in_range(f))
        .map(|f| (f, path.level_score(f)))
        .collect();
    levels.sort_by(|a, b| b.1.total_cmp(&a.1));
    let tightness = p.beat_tightness as f32;
    let track = |f: f64| -> Vec<BeatRun> {
        let periods = path.periods(frames, frame_rate, f);
        segs.par_iter()
            .map(|s| track_segment(&local, &periods, s.clone(), tightness))
            .collect()
    };
    let mut factor = levels
        .first()
        .map_or_else(|| if in_range(2.0) { 2.0 } else { 1.0 }, |l| l.0);
    let mut runs = track(factor);
    if cancel.is_cancelled() {
        return Err(MusicError::Cancelled);
    }
    // A subdivision alternates a strong and a weak "beat": in the drum-body band (hats between
    // kick and snare) or in the whole spectrum (a single arpeggio note between chords, with
    // no drums at all). At the beat itself both halves are alike (kick and snare, or chords).
    let subdivision = parity_balance(&runs, &body) < SUBDIVISION_BALANCE
        || parity_balance(&runs, &o) < SUBDIVISION_FULL_BALANCE;
    if subdivision && in_range(factor * 0.5) {
        factor *= 0.5;
        runs = track(factor);
    }
    // Phase: the tracker follows the strongest onsets, and in off-beat heavy music (ska and
    // reggae stabs, some riffs) those fall between the beats. Kick and bass mark the beat:
    // when the low band is clearly stronger half-way between the tracked beats than on them,
    // the grid moves there.
    if low_band_offbeat_ratio(&runs, &low) > OFFBEAT_LOW_RATIO {
        runs = runs.iter().map(shift_half_beat).collect();
    }
    let runner_up = levels
        .iter()
        .find(|l| (l.0 - factor).abs() > 1e-9)
        .map(|l| l.0);
    let runs: Vec<BeatRun> = runs.into_iter().filter(|r| !r.is_empty()).collect();

    // Bars.
    // Loudness per onset frame relative to its mean over about two seconds.
    let rms: Vec<f32> = (0..frames)
        .map(|n| analysis.energy.rms.at(n as Ticks * hop_ticks))
        .collect();
    let rms_local = moving_average(&rms, (2.0 * frame_rate).round() as usize);
    let loudness: Vec<f32> = rms
        .iter()
        .zip(&rms_local)
        .map(|(r, m)| if *m > 1e-9 { r / m } else { 0.0 })
        .collect();
    let bars = assign_bars(
        &runs,
        &AccentFeatures {
            onset: &o,
            low: &low,
            harmonic: &harmonic,
            loudness: &loudness,
        },
    );

    // Beats with confidence (strength relative to the local mean strength).
    let local_mean = moving_average(&o, (2.0 * frame_rate).round() as usize);
    let mut beats = Vec::new();
    for (run, pos) in runs.iter().zip(&bars.positions) {
        for (&f, &(bar, beat_in_bar)) in run.iter().zip(pos) {
            let n = f.round().max(0.0) as usize;
            let strength = super::dsp::max_around(&o, n, 1, 1);
            let m = local_mean.get(n).copied().unwrap_or(0.0);
            let confidence = if m > 0.0 {
                (strength / (3.0 * m)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            beats.push(Beat {
                time: ticks_from_secs(f * hop_secs + ONSET_LAG_SECS).clamp(0, analysis.duration),
                bar,
                beat_in_bar,
                confidence,
            });
        }
    }

    let run_secs: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| r.iter().map(|f| f * hop_secs).collect())
        .collect();
    let tempo = match typical_period(&run_secs) {
        Some(period) => 60.0 / period,
        None => {
            let mut b: Vec<f32> = path.bpm.iter().map(|&x| (x * factor) as f32).collect();
            b.retain(|x| x.is_finite());
            quantile(&b, 0.5) as f64
        }
    };

    let onsets = pick_peaks(&o, frame_rate, p.beat_sensitivity)
        .into_iter()
        .filter(|&n| active.get(n).copied().unwrap_or(false))
        .map(|n| ticks_from_secs(n as f64 * hop_secs + ONSET_LAG_SECS).clamp(0, analysis.duration))
        .collect();

    let downbeats: Vec<Ticks> = beats
        .iter()
        .filter(|b| b.beat_in_bar == 0)
        .map(|b| b.time)
        .collect();
    analysis.sections = sections(&analysis.energy, &downbeats, analysis.duration);
    // No beat, no tempo (silence would otherwise report the fastest tempo allowed).
    analysis.tempo_bpm = if beats.is_empty() {
        0.0
    } else {
        (tempo * 10.0).round() / 10.0
    };
    analysis.tempo_alternative_bpm = match runner_up {
        Some(f) if analysis.tempo_bpm > 0.0 => {
            (analysis.tempo_bpm * f / factor * 10.0).round() / 10.0
        }
        _ => 0.0,
    };
    analysis.beats_per_bar = bars.beats_per_bar;
    analysis.beats = beats;
    analysis.onsets = onsets;
    analysis.local_tempo = local_tempo_curve(&path, factor, hop_ticks);
    Ok(())
}

fn local_tempo_curve(path: &TempoPath, factor: f64, hop_ticks: Ticks) -> Curve {
    let scaled = path.scaled(factor);
    Curve {
        hop: hop_ticks * scaled.step as Ticks,
        values: scaled
            .bpm
            .iter()
            .map(|&b| ((b * 10.0).round() / 10.0) as f32)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_short_and_cancelled() {
        let p = MusicParams::default();
        let r = analyze_samples(&[0.0; 100], &p, &CancelToken::new());
        assert!(matches!(r, Err(MusicError::TooShort { .. })));
        let c = CancelToken::new();
        c.cancel();
        let r = analyze_samples(&vec![0.0; 22_050 * 3], &p, &c);
        assert!(matches!(r, Err(MusicError::Cancelled)));
    }

    #[test]
    fn silence_gives_no_beats_and_no_panic() {
        let a = analyze_samples(
            &vec![0.0; 22_050 * 5],
            &MusicParams::default(),
            &CancelToken::new(),
        )
        .unwrap();
        assert!(a.beats.is_empty());
        assert!(a.onsets.is_empty());
        let b = redetect(&a, &MusicParams::default());
        assert!(b.beats.is_empty());
    }

    #[test]
    fn segments_bridge_short_gaps() {
        let mut a = vec![true; 100];
        a[40..45].fill(false);
        a[70..100].fill(false);
        assert_eq!(segments(&a, 10, 5), vec![0..70]);
        assert_eq!(segments(&a, 3, 5), vec![0..40, 45..70]);
    }
}
