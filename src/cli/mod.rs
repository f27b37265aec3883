//! Command-line interface: every engine feature, headless, for batch use and tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

mod analyze;
mod cache;
mod demo;
mod montage;
mod probe;
mod verify;

use analyze::analyze;
use cache::cache_command;
use demo::demo;
use montage::{RenderExtras, SoundAndFit, plan_command, render_command};
use probe::probe;
use verify::verify_command;

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
        /// Mix the clips' own sound under the music at this level (0 = off, 1 = full;
        /// default: the project's, else off).
        #[arg(long)]
        clip_audio: Option<f32>,
        /// With --clip-audio: how far the music ducks (dB) while the clips' own sound is
        /// loud (speech, a crowd); 0 never ducks (default: the project's, else 10).
        #[arg(long, value_name = "DB")]
        duck: Option<f32>,
        /// Music fade-out at the end, seconds.
        #[arg(long, default_value_t = 2.0)]
        fade_out: f64,
        /// Music fade-in at the start, seconds.
        #[arg(long, default_value_t = 0.0)]
        fade_in: f64,
        /// Fit mismatched shapes: letterbox (pad), crop (the middle) or reframe (crop
        /// following each shot's subject, or as framed in the project). The default, auto,
        /// reframes 9:16 and 1:1 and letterboxes 16:9.
        #[arg(long, default_value = "auto", value_parser = ["auto", "letterbox", "crop", "reframe"])]
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
    /// Length of the montage in seconds (15, 30, 60 or any): the best stretch of the song
    /// (the drop inside it), starting on a phrase, ending on a downbeat or fading over the
    /// final bar. The whole song when omitted or longer.
    #[arg(long, value_name = "SECS")]
    pub length: Option<f64>,
    /// With --length: start the stretch near this time of the song, seconds (snapped to the
    /// nearest downbeat) instead of letting Beatcut choose.
    #[arg(long, value_name = "SECS", requires = "length")]
    pub region_start: Option<f64>,
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
    /// Move the beats between two times by half a beat (the grid slipped onto the off-beat
    /// for a section): `START-END` in seconds, for example `62.5-94`; repeatable.
    #[arg(long, value_name = "START-END")]
    pub half_beat_in: Vec<String>,
}

/// `START-END` in seconds (`62.5-94`) as ticks; fails naming the text.
fn parse_span(text: &str) -> Result<(beatcut::time::Ticks, beatcut::time::Ticks)> {
    let parsed = text.split_once('-').and_then(|(a, z)| {
        let a: f64 = a.trim().parse().ok()?;
        let z: f64 = z.trim().parse().ok()?;
        (a.is_finite() && z.is_finite() && a >= 0.0 && z > a).then_some((a, z))
    });
    match parsed {
        Some((a, z)) => Ok((
            beatcut::time::ticks_from_secs(a),
            beatcut::time::ticks_from_secs(z),
        )),
        None => anyhow::bail!(
            "--half-beat-in {text:?}: give the stretch as START-END in seconds, START before END (for example 62.5-94)"
        ),
    }
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
        for span in &self.half_beat_in {
            let (start, end) = parse_span(span)?;
            beatcut::editor::GridCommand::HalfBeatIn { start, end }.apply(edits);
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
            duck,
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
                duck_db: duck,
                fade_in,
                fade_out,
                fit: beatcut::render::Fit::parse(&fit),
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

/// Per-stage wall times for `--timings`.
/// Cancelled by Ctrl-C: every long command stops at its next check (the handler is
/// installed once, on first use).
pub(super) fn interrupted() -> CancelToken {
    static TOKEN: std::sync::OnceLock<CancelToken> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| {
            let token = CancelToken::new();
            let on_signal = token.clone();
            if let Err(e) = ctrlc::set_handler(move || on_signal.cancel()) {
                tracing::warn!("Ctrl-C will not stop the work cleanly: {e}");
            }
            token
        })
        .clone()
}

#[derive(Default)]
pub(super) struct Timings(Vec<(String, std::time::Duration)>);

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
