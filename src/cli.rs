//! Command-line interface: every engine feature, headless, for batch use and tests.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use beatcut::media;

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

/// Sets up `tracing` on stderr; `-v` raises the level, `RUST_LOG` overrides.
pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("beatcut={level},{level}")));
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
        None => {
            anyhow::bail!("the editor is not built yet; use a subcommand (see --help)")
        }
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

fn demo(dir: Option<PathBuf>, _headless: bool) -> Result<ExitCode> {
    let dir = dir.unwrap_or_else(beatcut::demo::default_dir);
    let material = beatcut::demo::generate(&dir)?;
    println!("demo material in {}", dir.display());
    println!("  music: {}", material.music.display());
    for clip in &material.clips {
        println!("  clip:  {}", clip.display());
    }
    Ok(ExitCode::SUCCESS)
}
