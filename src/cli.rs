//! Command-line interface: every engine feature, headless, for batch use and tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use beatcut::analysis::music::MusicAnalysis;
use beatcut::analysis::video::DetectMode;
use beatcut::cache::Cache;
use beatcut::jobs::CancelToken;
use beatcut::media;
use beatcut::project::Project;
use beatcut::time::secs_from_ticks;
use std::sync::Arc;

/// Beatcut: cut video clips to the beat of a song.
#[derive(Debug, Parser)]
#[command(name = "beatcut", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do; with none, the editor opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Media or a project to open in the editor.
    pub files: Vec<PathBuf>,
}

/// Subcommands.
// Parsed once per run, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Describe media files: container, duration, streams.
    Probe {
        /// Files to probe.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object per file per line.
        #[arg(long)]
        json: bool,
    },
    /// Analyse songs (beats, tempo, energy, sections) and clips (cuts, scenes).
    Analyze {
        /// Songs and clips; each is analysed as what it contains.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object per file per line.
        #[arg(long)]
        json: bool,
        /// Clip scan mode: fast (keyframes first, exact cuts), accurate (every frame), or
        /// keyframes (a first look: keyframes only, scenes only where keyframes agree).
        #[arg(long, value_parser = ["fast", "accurate", "keyframes"], default_value = "fast")]
        mode: String,
        /// Scene cut threshold 0..1 (lower finds more cuts).
        #[arg(long)]
        threshold: Option<f32>,
        /// Beat sensitivity 0..1.
        #[arg(long)]
        beat_sensitivity: Option<f32>,
        /// Slowest tempo to report.
        #[arg(long)]
        min_bpm: Option<f64>,
        /// Fastest tempo to report.
        #[arg(long)]
        max_bpm: Option<f64>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Plan a montage and print the timeline.
    Plan {
        #[command(flatten)]
        input: MontageArgs,
        /// Print the timeline as JSON.
        #[arg(long)]
        json: bool,
        /// Print why each segment was chosen.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Plan and render a montage to MP4 (and timeline files).
    Render {
        #[command(flatten)]
        input: MontageArgs,
        /// Output MP4.
        #[arg(short, long)]
        output: PathBuf,
        /// Size and quality.
        #[arg(long, default_value = "final", value_parser = ["draft", "final", "4k"])]
        preset: String,
        /// Output shape.
        #[arg(long, default_value = "16:9", value_parser = ["16:9", "9:16", "1:1"])]
        aspect: String,
        /// Mix the clips' own sound under the music at this level (0 = off, 1 = full).
        #[arg(long, default_value_t = 0.0)]
        clip_audio: f32,
        /// Music fade-out at the end, seconds.
        #[arg(long, default_value_t = 2.0)]
        fade_out: f64,
        /// Music fade-in at the start, seconds.
        #[arg(long, default_value_t = 0.0)]
        fade_in: f64,
        /// Fit mismatched shapes by letterboxing (pad) or cropping.
        #[arg(long, default_value = "letterbox", value_parser = ["letterbox", "crop"])]
        fit: String,
        /// Also write the timeline as JSON.
        #[arg(long)]
        timeline: Option<PathBuf>,
        /// Also write a CMX3600 EDL.
        #[arg(long)]
        edl: Option<PathBuf>,
        /// Also write FCPXML.
        #[arg(long)]
        fcpxml: Option<PathBuf>,
        /// Also write OpenTimelineIO.
        #[arg(long)]
        otio: Option<PathBuf>,
        /// After writing, decode the file again and report every cut against its planned frame
        /// and the beat, and the sound against the picture (exit code 3 when any is off by
        /// more than a frame).
        #[arg(long)]
        verify: bool,
        /// With --verify: the report as JSON on stdout.
        #[arg(long, requires = "verify")]
        json: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Check an exported file against the timeline it was rendered from (`render --timeline`):
    /// every cut against its planned frame and the beat, and the sound against the picture.
    /// Exit code 3 when any is off by more than a frame.
    Verify {
        /// The exported MP4.
        export: PathBuf,
        /// The timeline JSON written with it (`render --timeline`).
        #[arg(long)]
        timeline: PathBuf,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Inspect or clear the analysis cache.
    Cache {
        /// stats or clear.
        #[arg(value_parser = ["stats", "clear"])]
        action: String,
    },
    /// Write the man page (beatcut.1) into a folder (for packaging).
    #[command(hide = true)]
    Man {
        /// Output folder.
        dir: PathBuf,
    },
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Generate demo material, then open the editor on it (or render it headless).
    Demo {
        /// Folder for the demo material (default: a folder under the cache directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Never open a window; render the montage and print its path.
        #[arg(long)]
        headless: bool,
    },
}

/// Options every analysing command takes.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// Do not read or write the analysis cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Print a per-stage timing table at the end.
    #[arg(long)]
    pub timings: bool,
}

/// What a montage is made of.
#[derive(Debug, clap::Args)]
pub struct MontageArgs {
    /// The song.
    #[arg(long, required_unless_present = "project")]
    pub music: Option<PathBuf>,
    /// The clips.
    pub clips: Vec<PathBuf>,
    /// A project file instead of --music and clips.
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// Style name (dynamic, fast, slow, mtv, action, documentary, minimalist, travel, vlog) or a style file.
    #[arg(long)]
    pub style: Option<String>,
    /// Seed: the same seed gives the same plan.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output frame rate.
    #[arg(long)]
    pub fps: Option<i32>,
    /// Clip scan mode.
    #[arg(long, value_parser = ["fast", "accurate"])]
    pub mode: Option<String>,
    /// Put each shot's strongest moment (an impact, a flash, a sudden move) on a beat inside
    /// it: 0 (off) to 1 (as strongly as possible); the style's own setting otherwise.
    #[arg(long)]
    pub action_sync: Option<f32>,
    #[command(flatten)]
    pub grid: GridRepairArgs,
}

/// Repairs of the detected beat grid (the editor's x2, /2, half-beat, nudge and tap tempo);
/// they add to the repairs a project already holds.
#[derive(Debug, Default, clap::Args)]
pub struct GridRepairArgs {
    /// The song's tempo in BPM: the grid is rebuilt at this tempo, its phase fitted to the
    /// music.
    #[arg(long)]
    pub bpm: Option<f64>,
    /// Move every beat by this much: seconds, or milliseconds with `ms` (`30ms`, `-0.02`).
    #[arg(long, allow_hyphen_values = true)]
    pub beat_offset: Option<String>,
    /// Beats from a file: one time in seconds per line (Audacity labels and CSV work too).
    #[arg(long)]
    pub beats: Option<PathBuf>,
    /// Twice as many beats (x2) or half as many (/2).
    #[arg(long, value_parser = ["x2", "/2"])]
    pub tempo_level: Option<String>,
    /// Move the grid by half a beat (beats found on the off-beat).
    #[arg(long)]
    pub half_beat_shift: bool,
}

impl GridRepairArgs {
    /// Adds these repairs to `edits`.
    pub fn apply_to(&self, edits: &mut beatcut::analysis::music::BeatGridEdits) -> Result<()> {
        if let Some(bpm) = self.bpm {
            if !(bpm.is_finite() && (10.0..=400.0).contains(&bpm)) {
                anyhow::bail!("--bpm {bpm}: give a tempo between 10 and 400 BPM");
            }
            edits.bpm = Some(bpm);
        }
        if let Some(offset) = &self.beat_offset {
            edits.offset += parse_offset(offset)?;
        }
        if let Some(path) = &self.beats {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read beat file {}", path.display()))?;
            let beats = beatcut::analysis::music::parse_beat_file(&text)
                .map_err(|e| anyhow::anyhow!("not a beat file ({e}): {}", path.display()))?;
            edits.beats = Some(beats);
        }
        match self.tempo_level.as_deref() {
            Some("x2") => edits.level = edits.level.saturating_add(1),
            Some("/2") => edits.level = edits.level.saturating_sub(1),
            _ => {}
        }
        if self.half_beat_shift {
            edits.half_beat_shift = !edits.half_beat_shift;
        }
        Ok(())
    }
}

/// `0.03`, `-0.5`, `30ms`, `-20 ms`, `0.1s` as ticks.
fn parse_offset(text: &str) -> Result<beatcut::time::Ticks> {
    let t = text.trim();
    let (number, scale) = if let Some(ms) = t.strip_suffix("ms") {
        (ms.trim(), 0.001)
    } else if let Some(s) = t.strip_suffix('s') {
        (s.trim(), 1.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && v.abs() <= 60.0 / scale)
        .ok_or_else(|| {
            anyhow::anyhow!("--beat-offset {text:?}: give seconds (0.03) or milliseconds (30ms)")
        })?;
    Ok(beatcut::time::ticks_from_secs(value * scale))
}

/// Sets up `tracing` on stderr; `-v` raises the level, `RUST_LOG` overrides.
pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // Symphonia logs its format probing (every clip without a song-like audio track
        // fails it, which we report ourselves): only with -vv and up.
        let probing = if verbose >= 2 { level } else { "off" };
        tracing_subscriber::EnvFilter::new(format!(
            "beatcut={level},symphonia_core={probing},{level}"
        ))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Some(Command::Probe { files, json }) => probe(&files, json),
        Some(Command::Demo { dir, headless }) => demo(dir, headless),
        Some(Command::Analyze {
            files,
            json,
            mode,
            threshold,
            beat_sensitivity,
            min_bpm,
            max_bpm,
            common,
        }) => {
            let mut clip_params = beatcut::analysis::video::ClipParams {
                mode: DetectMode::parse(&mode).unwrap_or_default(),
                ..Default::default()
            };
            if let Some(t) = threshold {
                clip_params.threshold = t;
            }
            let mut music_params = beatcut::analysis::music::MusicParams::default();
            if let Some(s) = beat_sensitivity {
                music_params.beat_sensitivity = s;
            }
            if let Some(m) = min_bpm {
                music_params.min_bpm = m;
            }
            if let Some(m) = max_bpm {
                music_params.max_bpm = m;
            }
            analyze(&files, json, &clip_params, &music_params, &common)
        }
        Some(Command::Plan {
            input,
            json,
            explain,
            common,
        }) => plan_command(&input, json, explain, &common),
        Some(Command::Render {
            input,
            output,
            preset,
            aspect,
            clip_audio,
            fade_out,
            fade_in,
            fit,
            timeline,
            edl,
            fcpxml,
            otio,
            verify,
            json,
            common,
        }) => render_command(
            &input,
            &output,
            &preset,
            &aspect,
            &SoundAndFit {
                clip_audio,
                fade_in,
                fade_out,
                crop: fit == "crop",
            },
            RenderExtras {
                sidecars: [timeline, edl, fcpxml, otio],
                verify: verify.then_some(ReportFormat::from_json_flag(json)),
            },
            &common,
        ),
        Some(Command::Verify {
            export,
            timeline,
            json,
        }) => verify_command(&export, &timeline, ReportFormat::from_json_flag(json)),
        Some(Command::Cache { action }) => cache_command(&action),
        Some(Command::Man { dir }) => {
            use clap::CommandFactory;
            std::fs::create_dir_all(&dir)?;
            let command = Cli::command();
            let mut buffer = Vec::new();
            clap_mangen::Man::new(command.clone()).render(&mut buffer)?;
            beatcut::project::write_atomically(&dir.join("beatcut.1"), &buffer)?;
            // One page per subcommand, as the main page refers to them.
            for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
                let name = format!("beatcut-{}", sub.get_name());
                let page = sub.clone().name(&*name.clone().leak());
                let mut buffer = Vec::new();
                clap_mangen::Man::new(page).render(&mut buffer)?;
                beatcut::project::write_atomically(&dir.join(format!("{name}.1")), &buffer)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "beatcut",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        None => open_editor(cli.files),
    }
}

fn probe(files: &[PathBuf], json: bool) -> Result<ExitCode> {
    let mut failed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in files {
        match media::probe(path) {
            Ok(info) => {
                if json {
                    writeln!(out, "{}", info.to_json())?;
                } else {
                    print_probe_human(&mut out, &info)?;
                }
            }
            Err(error) => {
                failed = true;
                if json {
                    let line = serde_json::json!({
                        "path": path.display().to_string(),
                        "error": error.to_string(),
                    });
                    writeln!(out, "{line}")?;
                } else {
                    eprintln!("error: {error}");
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_probe_human(out: &mut impl Write, info: &media::MediaInfo) -> Result<()> {
    use beatcut::time::secs_from_ticks;
    writeln!(
        out,
        "{}: {} ({}), {:.3} s, {} bytes",
        info.path.display(),
        info.container_long,
        info.container,
        secs_from_ticks(info.duration),
        info.size_bytes
    )?;
    if info.start_time != 0 {
        writeln!(
            out,
            "  start time {:.3} s",
            secs_from_ticks(info.start_time)
        )?;
    }
    for stream in &info.streams {
        match stream {
            media::StreamInfo::Video(v) => writeln!(
                out,
                "  #{} video {} {}x{} (shown {}x{}, rotation {}°), {} fps{}, {} frames, {}",
                v.index,
                v.codec,
                v.width,
                v.height,
                v.display_width,
                v.display_height,
                v.rotation,
                v.frame_rate,
                if v.variable_frame_rate {
                    " (variable)"
                } else {
                    ""
                },
                v.frame_count,
                v.pixel_format
            )?,
            media::StreamInfo::Audio(a) => writeln!(
                out,
                "  #{} audio {} {} Hz, {} ch, {:.3} s",
                a.index,
                a.codec,
                a.sample_rate,
                a.channels,
                secs_from_ticks(a.duration)
            )?,
            media::StreamInfo::Other { index, codec } => writeln!(out, "  #{index} other {codec}")?,
        }
    }
    for warning in &info.warnings {
        writeln!(out, "  warning: {warning}")?;
    }
    Ok(())
}

/// " (dissolve 2.00-3.00 s, fade-out 10.50-11.00 s)" for an analysis JSON with transitions.
fn transition_list(v: &serde_json::Value) -> String {
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

/// Per-stage wall times for `--timings`.
#[derive(Default)]
struct Timings(Vec<(String, std::time::Duration)>);

impl Timings {
    fn time<T>(&mut self, stage: impl Into<String>, work: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let out = work();
        self.0.push((stage.into(), started.elapsed()));
        out
    }

    fn print(&self, enabled: bool) {
        if !enabled {
            return;
        }
        eprintln!("{:<40} {:>10}", "stage", "wall ms");
        for (stage, wall) in &self.0 {
            eprintln!("{:<40} {:>10.1}", stage, wall.as_secs_f64() * 1000.0);
        }
        let total: f64 = self.0.iter().map(|(_, d)| d.as_secs_f64()).sum();
        eprintln!("{:<40} {:>10.1}", "total", total * 1000.0);
    }
}

fn open_cache(no_cache: bool) -> Arc<Cache> {
    if no_cache {
        return Arc::new(Cache::disabled());
    }
    match Cache::open_default() {
        Ok(cache) => Arc::new(cache),
        Err(e) => {
            tracing::warn!("analysis cache unavailable ({e}); continuing without it");
            Arc::new(Cache::disabled())
        }
    }
}

/// True when the file's main content is video (a clip) rather than a song.
fn is_clip(path: &std::path::Path) -> Result<bool, media::MediaError> {
    Ok(media::probe(path)?.is_footage())
}

fn music_json(path: &std::path::Path, a: &MusicAnalysis, wall: f64) -> serde_json::Value {
    let secs = |ts: &mut dyn Iterator<Item = i64>| -> Vec<f64> {
        ts.map(|t| (secs_from_ticks(t) * 1000.0).round() / 1000.0)
            .collect()
    };
    serde_json::json!({
        "path": path.display().to_string(),
        "kind": "music",
        "duration_s": secs_from_ticks(a.duration),
        "tempo_bpm": (a.tempo_bpm * 10.0).round() / 10.0,
        "tempo_alternative_bpm": a.tempo_alternative_bpm,
        "beats_per_bar": a.beats_per_bar,
        "beats": secs(&mut a.beats.iter().map(|b| b.time)),
        "beatless": a.beatless.iter().map(|&(s, e)| [secs_from_ticks(s), secs_from_ticks(e)]).collect::<Vec<_>>(),
        "beat_confidence": a.beats.iter().map(|b| (b.confidence * 100.0).round() / 100.0).collect::<Vec<f32>>(),
        "downbeats": secs(&mut a.downbeats()),
        "onsets": secs(&mut a.onsets.iter().copied()),
        "energy": {
            "hop_s": secs_from_ticks(a.energy.rms.hop),
            "values": a.energy.rms.values.iter().map(|v| (v * 10_000.0).round() / 10_000.0).collect::<Vec<f32>>(),
        },
        "sections": a.sections.iter().map(|s| serde_json::json!({
            "start_s": secs_from_ticks(s.start), "end_s": secs_from_ticks(s.end), "label": s.label.as_str(),
        })).collect::<Vec<_>>(),
        "warnings": a.warnings,
        "wall_s": wall,
    })
}

fn analyze(
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
                    writeln!(out, "{}", serde_json::json!({"path": name, "error": error}))?;
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

fn print_analysis_human(out: &mut impl Write, v: &serde_json::Value) -> Result<()> {
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

/// Analyses clips in parallel through the job scheduler (in order of the command line,
/// one job per file, the same file never twice), Ctrl-C cancelling them all.
fn analyze_clips_scheduled(
    clips: &[PathBuf],
    params: &beatcut::analysis::video::ClipParams,
    cache: &Arc<Cache>,
) -> Vec<Result<(Arc<beatcut::analysis::video::ClipAnalysis>, bool), String>> {
    use beatcut::jobs::{JobOutcome, JobScheduler, Priority};
    let scheduler =
        match JobScheduler::<(Arc<beatcut::analysis::video::ClipAnalysis>, bool)>::new(0) {
            Ok(s) => s,
            Err(e) => return clips.iter().map(|_| Err(e.to_string())).collect(),
        };
    let handles: Vec<_> = clips
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let (path, params, cache) = (path.clone(), params.clone(), cache.clone());
            // Earlier files first: priority falls with the position on the command line.
            let priority = Priority(-(i as i32));
            scheduler.submit(path.display().to_string(), priority, move |ctx| {
                beatcut::montage::analyze_clip(&path, &params, &cache, ctx.token(), &mut |_| {})
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| match h.wait() {
            JobOutcome::Finished(v) => Ok(v),
            JobOutcome::Failed(e) => Err(e),
            JobOutcome::Cancelled => Err("cancelled".into()),
        })
        .collect()
}

/// A planned montage with everything needed to render or print it.
struct Planned {
    project: Project,
    music: Arc<MusicAnalysis>,
    timeline: beatcut::plan::Timeline,
}

fn load_inputs(input: &MontageArgs) -> Result<Project> {
    let mut project = match &input.project {
        Some(path) => Project::load(path)?,
        None => Project::default(),
    };
    if let Some(music) = &input.music {
        project.music = Some(music.clone());
    }
    if !input.clips.is_empty() {
        // The command line's clips replace the project's: files already in the project
        // keep their ids (and locks); the others are removed with their edits.
        let keep: Vec<_> = project
            .clips
            .iter()
            .filter(|c| !input.clips.contains(&c.path))
            .map(|c| c.id)
            .collect();
        for id in keep {
            project.remove_clip(id);
        }
        for clip in &input.clips {
            project.add_clip(clip.clone());
        }
        let order =
            |c: &beatcut::project::ProjectClip| input.clips.iter().position(|p| *p == c.path);
        project.clips.sort_by_key(order);
    }
    if let Some(style) = &input.style {
        project.plan.style = style.clone();
    }
    if let Some(seed) = input.seed {
        project.plan.seed = seed;
    }
    if let Some(fps) = input.fps {
        project.plan.fps = beatcut::time::FrameRate::whole(fps);
    }
    if let Some(mode) = &input.mode {
        project.clip_params.mode = DetectMode::parse(mode).unwrap_or_default();
    }
    if let Some(sync) = input.action_sync {
        if !(0.0..=1.0).contains(&sync) {
            anyhow::bail!("--action-sync {sync}: give a value from 0 (off) to 1");
        }
        project.plan.action_sync = Some(sync);
    }
    input.grid.apply_to(&mut project.constraints.beat_grid)?;
    Ok(project)
}

fn plan_montage(
    input: &MontageArgs,
    common: &CommonArgs,
    timings: &mut Timings,
) -> Result<Planned> {
    let project = load_inputs(input)?;
    let cache = open_cache(common.no_cache);
    let cancel = CancelToken::new();
    let music_path = project
        .music
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no music given (use --music SONG)"))?;
    if project.clips.is_empty() {
        anyhow::bail!("no clips given");
    }
    let music = timings.time("music analysis", || {
        beatcut::montage::analyze_music(
            &music_path,
            &project.music_params,
            &cache,
            &cancel,
            &mut |_| {},
        )
    })?;
    let clip_params = project.analysis_params();
    let clip_paths = project.clip_paths();
    let results: Vec<Result<(Arc<beatcut::analysis::video::ClipAnalysis>, bool), String>> = timings
        .time("clip analysis", || {
            analyze_clips_scheduled(&clip_paths, &clip_params, &cache)
        });
    cache.flush_stats();
    let mut analyses = std::collections::HashMap::new();
    for warning in &music.0.warnings {
        eprintln!("warning: {}: {warning}", music_path.display());
    }
    for (clip, result) in project.clips.iter().zip(results) {
        match result {
            Ok((a, _)) => {
                for warning in &a.warnings {
                    eprintln!("warning: {}: {warning}", clip.path.display());
                }
                analyses.insert(clip.id, a);
            }
            Err(e) => eprintln!("warning: skipping clip: {e}"),
        }
    }
    let plan_clips = beatcut::editor::PlanClips::new(&project, |c| analyses.get(&c.id).cloned());
    let inputs = plan_clips.inputs();
    if inputs.is_empty() {
        anyhow::bail!("none of the clips could be analysed");
    }
    let timeline = timings.time("plan", || {
        beatcut::plan::plan(&music.0, &inputs, &project.plan, &project.constraints)
    })?;
    // What the timeline was planned on: the song with the user's grid repairs.
    let music = if project.constraints.beat_grid.is_empty() {
        music.0
    } else {
        Arc::new(project.constraints.beat_grid.apply(&music.0).into_owned())
    };
    Ok(Planned {
        project,
        music,
        timeline,
    })
}

fn timeline_json(planned: &Planned) -> serde_json::Value {
    let mut value = planned.timeline.to_json();
    if let Some(segments) = value["segments"].as_array_mut() {
        for seg in segments {
            if let Some(clip) = seg["clip"]
                .as_u64()
                .and_then(|key| planned.project.clip_by_key(key as usize))
            {
                seg["clip_path"] = serde_json::json!(clip.path.display().to_string());
            }
        }
    }
    value["beats"] = serde_json::json!(
        planned
            .music
            .beats
            .iter()
            .map(|b| (secs_from_ticks(b.time) * 1000.0).round() / 1000.0)
            .collect::<Vec<f64>>()
    );
    value["music"] = serde_json::json!(
        planned
            .project
            .music
            .as_ref()
            .map(|m| m.display().to_string())
    );
    value
}

fn plan_command(
    input: &MontageArgs,
    json: bool,
    explain: bool,
    common: &CommonArgs,
) -> Result<ExitCode> {
    let mut timings = Timings::default();
    let planned = plan_montage(input, common, &mut timings)?;
    if json {
        println!("{}", timeline_json(&planned));
    } else {
        println!(
            "{} segments, {:.2} s, style {}, seed {}, {} fps, {:.1} BPM",
            planned.timeline.segments.len(),
            secs_from_ticks(planned.timeline.duration),
            planned.timeline.style,
            planned.timeline.seed,
            planned.timeline.fps,
            planned.music.tempo_bpm
        );
        for (i, s) in planned.timeline.segments.iter().enumerate() {
            let name = planned
                .project
                .clip_by_key(s.clip)
                .map(|c| c.name())
                .unwrap_or_default();
            println!(
                "{:>3}  {:>7.3}-{:<7.3}  {}  {:.3}-{:.3}{}",
                i + 1,
                secs_from_ticks(s.start),
                secs_from_ticks(s.end),
                name,
                secs_from_ticks(s.src_in),
                secs_from_ticks(s.src_out),
                if explain {
                    format!("\n       {}", s.reason)
                } else {
                    String::new()
                }
            );
        }
    }
    timings.print(common.timings);
    Ok(ExitCode::SUCCESS)
}

/// Render options beyond size: sound and how shapes are fitted.
struct SoundAndFit {
    clip_audio: f32,
    fade_in: f64,
    fade_out: f64,
    crop: bool,
}

impl Default for SoundAndFit {
    fn default() -> Self {
        Self {
            clip_audio: 0.0,
            fade_in: 0.0,
            fade_out: 2.0,
            crop: false,
        }
    }
}

/// What `render` does besides the MP4: timeline files (JSON, EDL, FCPXML, OTIO) and the
/// sync report.
struct RenderExtras {
    sidecars: [Option<PathBuf>; 4],
    verify: Option<ReportFormat>,
}

/// How a sync report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportFormat {
    Text,
    Json,
}

impl ReportFormat {
    fn from_json_flag(json: bool) -> Self {
        if json { Self::Json } else { Self::Text }
    }
}

fn render_command(
    input: &MontageArgs,
    output: &std::path::Path,
    preset: &str,
    aspect: &str,
    options: &SoundAndFit,
    extras: RenderExtras,
    common: &CommonArgs,
) -> Result<ExitCode> {
    let RenderExtras { sidecars, verify } = extras;
    let mut timings = Timings::default();
    let planned = plan_montage(input, common, &mut timings)?;
    let preset = beatcut::render::Preset::parse(preset).unwrap_or_default();
    let aspect = beatcut::render::Aspect::parse(aspect).unwrap_or_default();
    let mut settings = beatcut::render::RenderSettings::new(preset, aspect, planned.timeline.fps);
    settings.clip_audio_level = options.clip_audio;
    settings.fade_in = beatcut::time::ticks_from_secs(options.fade_in.max(0.0));
    settings.fade_out = beatcut::time::ticks_from_secs(options.fade_out.max(0.0));
    if options.crop {
        settings.fit = beatcut::render::Fit::Crop;
    }
    let music_path = planned.project.music.clone().unwrap_or_default();
    let job = beatcut::montage::render_job(&planned.timeline, &planned.project.clips, &music_path)?;
    let cancel = CancelToken::new();
    let ctrlc_cancel = cancel.clone();
    let _ = ctrlc::set_handler(move || ctrlc_cancel.cancel());
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} frames {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = timings.time("render", || {
        beatcut::render::render(&job, &settings, output, &cancel, &mut |p| {
            bar.set_length(p.frames_total);
            bar.set_position(p.frames_done);
            bar.set_message(format!("{:.0} fps, {:.0} s left", p.fps, p.eta_secs));
        })
    });
    bar.finish_and_clear();
    let report = match result {
        Ok(report) => report,
        Err(beatcut::render::RenderError::Cancelled) => {
            eprintln!("export cancelled; no file written");
            return Ok(ExitCode::from(130));
        }
        Err(e) => return Err(e.into()),
    };
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    let [timeline_path, edl, fcpxml, otio] = sidecars;
    if let Some(path) = timeline_path {
        beatcut::project::write_atomically(&path, timeline_json(&planned).to_string().as_bytes())?;
    }
    let interchange = beatcut::montage::interchange_timeline(
        &planned.timeline,
        &planned.project.clips,
        Some(&music_path),
        &settings,
    )?;
    for path in [edl, fcpxml, otio].into_iter().flatten() {
        beatcut::render::interchange::write_timeline_file(&interchange, &path)?;
    }
    println!(
        "wrote {} ({} frames, {:.1} s, {} segments, {} in {:.1} s)",
        report.path.display(),
        report.frames,
        secs_from_ticks(planned.timeline.duration),
        planned.timeline.segments.len(),
        report.encoder,
        report.wall_secs
    );
    let code = match verify {
        Some(format) => {
            let plan = beatcut::render::VerifyPlan::from_timeline(
                &planned.timeline,
                planned.music.beats.iter().map(|b| b.time).collect(),
                &music_path,
            );
            let report = timings.time("verify", || {
                beatcut::render::verify_export(&report.path, &plan, &cancel, &mut |_| {})
            })?;
            print_sync_report(&report, format)
        }
        None => ExitCode::SUCCESS,
    };
    timings.print(common.timings);
    Ok(code)
}

/// `beatcut verify`: the sync report of an export against its timeline JSON.
fn verify_command(export: &Path, timeline: &Path, format: ReportFormat) -> Result<ExitCode> {
    let text = std::fs::read_to_string(timeline)
        .with_context(|| format!("cannot read the timeline {}", timeline.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("not a timeline JSON file: {}", timeline.display()))?;
    let plan = verify_plan_from_json(&value)
        .with_context(|| format!("not a Beatcut timeline: {}", timeline.display()))?;
    let report = beatcut::render::verify_export(export, &plan, &CancelToken::new(), &mut |_| {})?;
    Ok(print_sync_report(&report, format))
}

/// The plan a timeline JSON (`render --timeline`, `plan --json`) describes.
fn verify_plan_from_json(value: &serde_json::Value) -> Result<beatcut::render::VerifyPlan> {
    use beatcut::render::{CutKind, PlannedCut};
    let fps = value["fps"]
        .as_f64()
        .filter(|f| f.is_finite() && *f > 0.0)
        .context("no frame rate (\"fps\")")?;
    let fps = beatcut::time::FrameRate::from_f64(fps);
    let segments = value["segments"].as_array().context("no \"segments\"")?;
    let secs = |v: &serde_json::Value, key: &str| -> Result<beatcut::time::Ticks> {
        v[key]
            .as_f64()
            .map(beatcut::time::ticks_from_secs)
            .with_context(|| format!("a segment without \"{key}\""))
    };
    let mut cuts = Vec::new();
    for pair in segments.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        let same_footage = prev["clip"] == next["clip"]
            && (secs(prev, "src_out_s")? - secs(next, "src_in_s")?).abs()
                < beatcut::time::TICKS_PER_SECOND / 1000;
        let kind = if same_footage {
            CutKind::Continuous
        } else if next["transition"]["kind"] == "crossfade"
            && next["transition"]["frames"].as_u64().unwrap_or(0) > 0
        {
            CutKind::Crossfade
        } else {
            CutKind::Hard
        };
        cuts.push(PlannedCut {
            time: fps.ticks_of_frame(fps.nearest_frame(secs(next, "start_s")?)),
            kind,
        });
    }
    let beats = value["beats"]
        .as_array()
        .context("no \"beats\"")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .map(beatcut::time::ticks_from_secs)
        .collect();
    let music = value["music"].as_str().context("no \"music\" path")?.into();
    Ok(beatcut::render::VerifyPlan {
        fps,
        cuts,
        beats,
        music,
    })
}

/// Prints a sync report; exit code 3 when the file is off anywhere by more than a frame.
fn print_sync_report(report: &beatcut::render::SyncReport, format: ReportFormat) -> ExitCode {
    let problems = report.problems();
    match format {
        ReportFormat::Json => {
            let mut value = serde_json::to_value(report).unwrap_or_default();
            value["problems"] = serde_json::json!(problems);
            value["cuts_on_frame"] = serde_json::json!(report.cuts_on_frame());
            println!("{value}");
        }
        ReportFormat::Text => {
            println!("verify {}: {}", report.path.display(), report.summary());
            for c in &report.cuts {
                let found = c
                    .found_frame
                    .map_or("not seen".to_owned(), |f| format!("frame {f}"));
                println!(
                    "  cut at frame {:>6}: {found:<14} beat {:+6.1} ms",
                    c.planned_frame, c.beat_offset_ms
                );
            }
            if report.crossfades + report.continuous > 0 {
                println!(
                    "  not measured to the frame: {} crossfades, {} shots continuing the same footage",
                    report.crossfades, report.continuous
                );
            }
            if !report.unplanned_changes.is_empty() {
                println!(
                    "  picture changes at no planned cut: frames {:?}",
                    report.unplanned_changes
                );
            }
        }
    }
    for problem in &problems {
        eprintln!("warning: {problem}");
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

fn cache_command(action: &str) -> Result<ExitCode> {
    let cache = Cache::open_default()?;
    match action {
        "clear" => {
            let before = cache.stats();
            let freed = cache.clear()?;
            println!(
                "cleared {} ({freed} bytes freed: analyses and {} seek proxies of {} bytes)",
                cache
                    .dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
                before.proxies,
                before.proxy_bytes
            );
        }
        _ => {
            let stats = cache.stats();
            println!(
                "cache directory: {}",
                stats
                    .dir
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "(disabled)".into())
            );
            println!(
                "entries: {}  bytes on disk: {} (within the size bound, seek proxies included)",
                stats.entries, stats.bytes_on_disk
            );
            println!(
                "seek proxies: {} ({} bytes)",
                stats.proxies, stats.proxy_bytes
            );
            let l = &stats.lifetime;
            println!(
                "lifetime: {} hits ({} memory, {} disk), {} misses, {} writes, {} evictions, {} corrupt dropped, {:.1} s saved",
                l.hits(),
                l.memory_hits,
                l.disk_hits,
                l.misses,
                l.writes,
                l.evictions,
                l.corrupt_dropped,
                l.time_saved().as_secs_f64()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty())
}

#[cfg(feature = "gui")]
fn open_editor(files: Vec<PathBuf>) -> Result<ExitCode> {
    if !has_display() {
        anyhow::bail!(
            "no display found (DISPLAY/WAYLAND_DISPLAY unset); use a subcommand such as `beatcut render`, or run under a desktop session"
        );
    }
    beatcut::app::run_editor(files, open_cache(false))
        .map_err(|e| anyhow::anyhow!("the editor could not start: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "gui"))]
fn open_editor(_files: Vec<PathBuf>) -> Result<ExitCode> {
    anyhow::bail!("this build has no editor (built without the `gui` feature); use a subcommand")
}

fn demo(dir: Option<PathBuf>, headless: bool) -> Result<ExitCode> {
    let dir = dir.unwrap_or_else(beatcut::demo::default_dir);
    println!("generating demo material in {} …", dir.display());
    let material = beatcut::demo::generate(&dir)?;
    println!("  music: {}", material.music.display());
    for clip in &material.clips {
        println!("  clip:  {}", clip.display());
    }
    let mut files = material.clips.clone();
    files.push(material.music.clone());
    if !headless && has_display() && cfg!(feature = "gui") {
        println!("opening the editor on the demo material …");
        return open_editor(files);
    }
    let output = dir.join("demo-montage.mp4");
    let input = MontageArgs {
        music: Some(material.music.clone()),
        clips: material.clips.clone(),
        project: None,
        style: None,
        seed: None,
        fps: None,
        mode: None,
        action_sync: None,
        grid: GridRepairArgs::default(),
    };
    let common = CommonArgs {
        no_cache: false,
        timings: true,
    };
    println!("no display: rendering the demo montage headless …");
    let code = render_command(
        &input,
        &output,
        "draft",
        "16:9",
        &SoundAndFit::default(),
        RenderExtras {
            sidecars: [
                Some(dir.join("demo-montage.json")),
                Some(dir.join("demo-montage.edl")),
                Some(dir.join("demo-montage.fcpxml")),
                Some(dir.join("demo-montage.otio")),
            ],
            verify: Some(ReportFormat::Text),
        },
        &common,
    )?;
    println!("demo montage: {}", output.display());
    Ok(code)
}
