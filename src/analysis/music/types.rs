//! The result of analysing a music track: immutable, cached, drawn by the editor, used by the planner.

use serde::{Deserialize, Serialize};

use crate::time::Ticks;

/// Everything the editor and planner know about the song.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MusicAnalysis {
    /// Length of the decoded audio.
    pub duration: Ticks,
    /// Sample rate the analysis ran at (22,050 Hz by default).
    pub analysis_rate: u32,
    /// Global tempo at the tracked metrical level, beats per minute (0.1 BPM resolution);
    /// 0 when no beat was found (silence, a spoken word recording).
    pub tempo_bpm: f64,
    /// The runner-up metrical level: the tempo at twice or half `tempo_bpm` the tempogram
    /// rates next best, BPM (0 when none is in range); what "x2" or "/2" would give.
    #[serde(default)]
    pub tempo_alternative_bpm: f64,
    /// Beats per bar detected (4 or 3).
    pub beats_per_bar: u8,
    /// Every beat, in time order.
    pub beats: Vec<Beat>,
    /// Detected note onsets (peaks of the onset strength curve).
    pub onsets: Vec<Ticks>,
    /// Onset strength envelope, one value per hop, normalised to 0..=1.
    pub onset_strength: Curve,
    /// RMS loudness over time.
    pub energy: EnergyCurve,
    /// Coarse structure of the song for the story arc.
    pub sections: Vec<Section>,
    /// Min/max/RMS pyramid for drawing the waveform at any zoom.
    pub waveform: WaveformPyramid,
    /// Low-frequency (kick, bass) onset strength, same hop as `onset_strength`, 0..=1;
    /// kept so `redetect` can place downbeats without the audio.
    #[serde(default)]
    pub onset_low: Curve,
    /// Onset strength below 1.5 kHz (drum bodies, bass; hats excluded), same hop, 0..=1;
    /// tells beats from hi-hat subdivisions.
    #[serde(default)]
    pub onset_body: Curve,
    /// Harmonic change (chord change) novelty, same hop as `onset_strength`: mean absolute
    /// change of the sustained mid-band log spectrum, 1 = 4 nats (about 35 dB), clamped.
    #[serde(default)]
    pub harmonic_change: Curve,
    /// Local tempo of the tracked beat, BPM over time (follows ramps and steps).
    #[serde(default)]
    pub local_tempo: Curve,
    /// Onset activity before normalisation: the spectral flux averaged over about a second,
    /// same hop as `onset_strength`. Sustained sound without attacks (a pad, a drone) keeps it
    /// near zero, which is how beatless passages are told from quiet ones.
    #[serde(default)]
    pub onset_level: Curve,
    /// Stretches that sound but have no beat to find (pads, drones, free-time passages):
    /// no beats are placed there. `(start, end)`.
    #[serde(default)]
    pub beatless: Vec<(Ticks, Ticks)>,
    /// What went partly wrong decoding the song (corrupt packets skipped, stopped early);
    /// the analysis covers what could be read.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl MusicAnalysis {
    /// The stretch `start..end` of the song as a song of its own (times from `start`, bars
    /// counted from its first downbeat): what a montage shorter than the song is planned on.
    /// The waveform is left out (the editor draws the whole song's).
    pub fn excerpt(&self, start: Ticks, end: Ticks) -> MusicAnalysis {
        let start = start.clamp(0, self.duration);
        let end = end.clamp(start, self.duration);
        let inside = |t: Ticks| t >= start && t < end;
        let first_bar = self
            .beats
            .iter()
            .find(|b| inside(b.time))
            .map_or(0, |b| b.bar);
        let clip_span = |(a, b): (Ticks, Ticks)| -> Option<(Ticks, Ticks)> {
            let (a, b) = (a.max(start), b.min(end));
            (b > a).then_some((a - start, b - start))
        };
        MusicAnalysis {
            duration: end - start,
            analysis_rate: self.analysis_rate,
            tempo_bpm: self.tempo_bpm,
            tempo_alternative_bpm: self.tempo_alternative_bpm,
            beats_per_bar: self.beats_per_bar,
            beats: self
                .beats
                .iter()
                .filter(|b| inside(b.time))
                .map(|b| Beat {
                    time: b.time - start,
                    bar: b.bar.saturating_sub(first_bar),
                    ..*b
                })
                .collect(),
            onsets: self
                .onsets
                .iter()
                .filter(|&&t| inside(t))
                .map(|&t| t - start)
                .collect(),
            onset_strength: self.onset_strength.excerpt(start, end),
            energy: EnergyCurve {
                window_samples: self.energy.window_samples,
                hop_samples: self.energy.hop_samples,
                rms: self.energy.rms.excerpt(start, end),
                db: self.energy.db.excerpt(start, end),
                smoothed: self.energy.smoothed.excerpt(start, end),
            },
            sections: self
                .sections
                .iter()
                .filter_map(|s| {
                    let (a, b) = clip_span((s.start, s.end))?;
                    Some(Section {
                        start: a,
                        end: b,
                        ..*s
                    })
                })
                .collect(),
            waveform: WaveformPyramid::default(),
            onset_low: self.onset_low.excerpt(start, end),
            onset_body: self.onset_body.excerpt(start, end),
            harmonic_change: self.harmonic_change.excerpt(start, end),
            local_tempo: self.local_tempo.excerpt(start, end),
            onset_level: self.onset_level.excerpt(start, end),
            beatless: self.beatless.iter().filter_map(|&s| clip_span(s)).collect(),
            warnings: self.warnings.clone(),
        }
    }

    /// Times of the downbeats (first beat of each bar).
    pub fn downbeats(&self) -> impl Iterator<Item = Ticks> + '_ {
        self.beats
            .iter()
            .filter(|b| b.beat_in_bar == 0)
            .map(|b| b.time)
    }
}

/// One beat of the tracked beat grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Beat {
    /// When the beat falls.
    pub time: Ticks,
    /// 0-based bar number.
    pub bar: u32,
    /// Position inside the bar; 0 is the downbeat.
    pub beat_in_bar: u8,
    /// How sure the tracker is, 0..=1.
    pub confidence: f32,
}

/// A sampled curve with a fixed hop between values.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Curve {
    /// Time between consecutive values.
    pub hop: Ticks,
    /// The values.
    pub values: Vec<f32>,
}

impl Curve {
    /// The values over `start..end`, the first at (about) `start`.
    pub fn excerpt(&self, start: Ticks, end: Ticks) -> Curve {
        if self.hop <= 0 {
            return self.clone();
        }
        let from = ((start / self.hop).max(0) as usize).min(self.values.len());
        let to = ((end / self.hop).max(0) as usize).clamp(from, self.values.len());
        Curve {
            hop: self.hop,
            values: self.values[from..to].to_vec(),
        }
    }

    /// Value at `t` (nearest sample; 0 outside the curve).
    pub fn at(&self, t: Ticks) -> f32 {
        if self.hop <= 0 || t < 0 {
            return 0.0;
        }
        self.values
            .get((t / self.hop) as usize)
            .copied()
            .unwrap_or(0.0)
    }
}

/// Loudness over time: RMS per window, in linear and dB, plus a smoothed copy for pacing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EnergyCurve {
    /// Samples per window at the analysis rate.
    pub window_samples: u32,
    /// Samples between windows at the analysis rate.
    pub hop_samples: u32,
    /// RMS per window (linear, full scale = 1).
    pub rms: Curve,
    /// RMS per window in dBFS (floored at -100).
    pub db: Curve,
    /// RMS smoothed over about a bar and normalised to 0..=1, for pacing.
    pub smoothed: Curve,
}

/// Kind of a stretch of the song, for the story arc and pacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SectionLabel {
    /// Opening, usually quieter.
    Intro,
    /// Energy rising.
    Build,
    /// The loudest, densest part.
    Climax,
    /// A sudden fall after a loud part.
    Drop,
    /// Quiet stretch in the middle.
    Quiet,
    /// Closing.
    Outro,
}

impl SectionLabel {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intro => "intro",
            Self::Build => "build",
            Self::Climax => "climax",
            Self::Drop => "drop",
            Self::Quiet => "quiet",
            Self::Outro => "outro",
        }
    }
}

/// A labelled stretch of the song.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Start of the section.
    pub start: Ticks,
    /// End of the section (exclusive).
    pub end: Ticks,
    /// What kind of stretch it is.
    pub label: SectionLabel,
    /// Mean normalised energy inside, 0..=1.
    pub energy: f32,
}

/// One bucket of the waveform: extremes and RMS of the samples it covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WaveBucket {
    /// Lowest sample.
    pub min: f32,
    /// Highest sample.
    pub max: f32,
    /// Root mean square of the samples.
    pub rms: f32,
}

/// Waveform summaries at successive zoom levels: level 0 has `base_bucket_samples`
/// per bucket, each next level halves the bucket count.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WaveformPyramid {
    /// Sample rate of the summarised audio.
    pub sample_rate: u32,
    /// Samples per bucket at level 0.
    pub base_bucket_samples: u32,
    /// Levels, finest first.
    pub levels: Vec<Vec<WaveBucket>>,
}
