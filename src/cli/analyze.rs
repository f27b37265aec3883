//! `beatcut analyze`: songs (beats, tempo, energy, sections) and clips (cuts, scenes),
//! as text or one JSON object per file.

use super::*;

/// True when the file's main content is video (a clip) rather than a song.
pub(super) fn is_clip(path: &std::path::Path) -> Result<bool, media::MediaError> {
    Ok(media::probe(path)?.is_footage())
}

/// What `beatcut analyze --json` prints for a song (seconds to the millisecond).
#[derive(serde::Serialize)]
struct MusicReport<'a> {
    path: String,
    kind: &'static str,
    duration_s: f64,
    tempo_bpm: f64,
    tempo_alternative_bpm: f64,
    beats_per_bar: u8,
    beats: Vec<f64>,
    beatless: Vec<[f64; 2]>,
    beat_confidence: Vec<f32>,
    downbeats: Vec<f64>,
    onsets: Vec<f64>,
    energy: EnergyReport,
    sections: Vec<SectionReport>,
    warnings: &'a [String],
    wall_s: f64,
}

#[derive(serde::Serialize)]
struct EnergyReport {
    hop_s: f64,
    values: Vec<f32>,
}

#[derive(serde::Serialize)]
struct SectionReport {
    start_s: f64,
    end_s: f64,
    label: &'static str,
}

/// A file that could not be analysed (or probed), as one JSON line.
#[derive(serde::Serialize)]
pub(super) struct FileError<'a> {
    pub(super) path: &'a str,
    pub(super) error: &'a str,
}

pub(super) fn music_json(
    path: &std::path::Path,
    a: &MusicAnalysis,
    wall: f64,
) -> serde_json::Value {
    let millis = |t: i64| (secs_from_ticks(t) * 1000.0).round() / 1000.0;
    let report = MusicReport {
        path: path.display().to_string(),
        kind: "music",
        duration_s: secs_from_ticks(a.duration),
        tempo_bpm: (a.tempo_bpm * 10.0).round() / 10.0,
        tempo_alternative_bpm: a.tempo_alternative_bpm,
        beats_per_bar: a.beats_per_bar,
        beats: a.beats.iter().map(|b| millis(b.time)).collect(),
        beatless: a
            .beatless
            .iter()
            .map(|&(s, e)| [secs_from_ticks(s), secs_from_ticks(e)])
            .collect(),
        beat_confidence: a
            .beats
            .iter()
            .map(|b| (b.confidence * 100.0).round() / 100.0)
            .collect(),
        downbeats: a.downbeats().map(millis).collect(),
        onsets: a.onsets.iter().map(|&t| millis(t)).collect(),
        energy: EnergyReport {
            hop_s: secs_from_ticks(a.energy.rms.hop),
            values: a
                .energy
                .rms
                .values
                .iter()
                .map(|v| (v * 10_000.0).round() / 10_000.0)
                .collect(),
        },
        sections: a
            .sections
            .iter()
            .map(|s| SectionReport {
                start_s: secs_from_ticks(s.start),
                end_s: secs_from_ticks(s.end),
                label: s.label.as_str(),
            })
            .collect(),
        warnings: &a.warnings,
        wall_s: wall,
    };
    serde_json::to_value(report).unwrap_or_default()
}

pub(super) fn analyze(
    files: &[PathBuf],
    json: bool,
    clip_params: &beatcut::analysis::video::ClipParams,
    music_params: &beatcut::analysis::music::MusicParams,
    common: &CommonArgs,
) -> Result<ExitCode> {
    let cache = open_cache(common.no_cache);
    let cancel = CancelToken::new();
    let mut failed = false;
    let mut timings = Timings::default();
    let stdout = std::io::stdout();
    for path in files {
        let started = std::time::Instant::now();
        let name = path.display().to_string();
        let result: Result<serde_json::Value, String> = match is_clip(path) {
            Err(e) => Err(e.to_string()),
            Ok(true) => timings
                .time(format!("clip {name}"), || {
                    beatcut::montage::analyze_clip(path, clip_params, &cache, &cancel, &mut |_| {})
                })
                .map(|(a, _)| a.to_json(path, started.elapsed().as_secs_f64()))
                .map_err(|e| e.to_string()),
            Ok(false) => timings
                .time(format!("music {name}"), || {
                    beatcut::montage::analyze_music(
                        path,
                        music_params,
                        &cache,
                        &cancel,
                        &mut |_| {},
                    )
                })
                .map(|(a, _)| music_json(path, &a, started.elapsed().as_secs_f64()))
                .map_err(|e| e.to_string()),
        };
        let mut out = stdout.lock();
        match result {
            Ok(value) => {
                if json {
                    writeln!(out, "{value}")?;
                } else {
                    print_analysis_human(&mut out, &value)?;
                }
            }
            Err(error) => {
                failed = true;
                if json {
                    let line = FileError {
                        path: &name,
                        error: &error,
                    };
                    writeln!(out, "{}", serde_json::to_string(&line)?)?;
                } else {
                    eprintln!("error: {error}");
                }
            }
        }
    }
    cache.flush_stats();
    timings.print(common.timings);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) fn print_analysis_human(out: &mut impl Write, v: &serde_json::Value) -> Result<()> {
    let path = v["path"].as_str().unwrap_or("");
    for warning in v["warnings"].as_array().into_iter().flatten() {
        eprintln!("warning: {path}: {}", warning.as_str().unwrap_or(""));
    }
    let count = |key: &str| v[key].as_array().map_or(0, Vec::len);
    if v["kind"] == "music" {
        writeln!(
            out,
            "{path}: {:.1} BPM, {} beats ({} per bar), {} downbeats, {} onsets, {} sections, {:.1} s (analysed in {:.2} s)",
            v["tempo_bpm"].as_f64().unwrap_or(0.0),
            count("beats"),
            v["beats_per_bar"],
            count("downbeats"),
            count("onsets"),
            count("sections"),
            v["duration_s"].as_f64().unwrap_or(0.0),
            v["wall_s"].as_f64().unwrap_or(0.0)
        )?;
    } else {
        writeln!(
            out,
            "{path}: {} cuts, {} transition{}{}, {} scenes, {:.1} s at {:.2} fps ({} mode, {:.2} s)",
            count("cuts"),
            count("transitions"),
            if count("transitions") == 1 { "" } else { "s" },
            transition_list(v),
            count("scenes"),
            v["duration_s"].as_f64().unwrap_or(0.0),
            v["fps"].as_f64().unwrap_or(0.0),
            v["mode"].as_str().unwrap_or(""),
            v["wall_s"].as_f64().unwrap_or(0.0)
        )?;
    }
    Ok(())
}

/// " (dissolve 2.00-3.00 s, fade-out 10.50-11.00 s)" for an analysis JSON with transitions.
pub(super) fn transition_list(v: &serde_json::Value) -> String {
    let items: Vec<String> = v["transitions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| {
                    format!(
                        "{} {:.2}-{:.2} s",
                        t["kind"].as_str().unwrap_or("?"),
                        t["start"].as_f64().unwrap_or(0.0),
                        t["end"].as_f64().unwrap_or(0.0)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if items.is_empty() {
        String::new()
    } else {
        format!(" ({})", items.join(", "))
    }
}
