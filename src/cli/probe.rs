//! `beatcut probe`: what a media file holds (streams, duration, rotation, VFR).

use super::*;

pub(super) fn probe(files: &[PathBuf], json: bool) -> Result<ExitCode> {
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
                    let line = super::analyze::FileError {
                        path: &path.display().to_string(),
                        error: &error.to_string(),
                    };
                    writeln!(out, "{}", serde_json::to_string(&line)?)?;
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

pub(super) fn print_probe_human(out: &mut impl Write, info: &media::MediaInfo) -> Result<()> {
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
